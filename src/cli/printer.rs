//! `zizhu printer status|test --port DEV`: real-time status of an ESC/POS printer, or a test page
//! (status checked before and after).
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use zizhu_drivers::printer::receipt::{Mode, Receipt};
use zizhu_drivers::printer::{EscPosPrinter, ReceiptPrinter};

/// Subcommands of `zizhu printer`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Ask the printer for its status (paper, cover, errors).
    Status {
        /// Printer device (e.g. /dev/usb/lp0, /dev/ttyUSB1, or a simulator's link).
        #[arg(long)]
        port: PathBuf,
        /// Baud rate (serial printers).
        #[arg(long, default_value_t = 115_200)]
        baud: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a test page.
    Test {
        /// Printer device.
        #[arg(long)]
        port: PathBuf,
        /// Baud rate (serial printers).
        #[arg(long, default_value_t = 115_200)]
        baud: u32,
        /// Print JSON (the status after the page).
        #[arg(long)]
        json: bool,
    },
}

fn open(
    port: &std::path::Path,
    baud: u32,
) -> anyhow::Result<EscPosPrinter<impl zizhu_drivers::transport::Port>> {
    let p = zizhu_drivers::transport::open_serial(port, baud, Duration::from_millis(20))
        .with_context(|| {
            format!(
                "opening the printer at {}; check --port and permissions (lp group)",
                port.display()
            )
        })?;
    Ok(EscPosPrinter::new(p))
}

/// Runs `zizhu printer`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Status { port, baud, json } => {
            let mut p = open(&port, baud)?;
            let st = p.status().context("reading the printer status")?;
            report(&st, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Test { port, baud, json } => {
            let mut p = open(&port, baud)?;
            let before = p.status().context("reading the printer status")?;
            if let Some((_, why)) = before.problem() {
                anyhow::bail!("{why}; fix it and run the test again");
            }
            let page = Receipt::new()
                .title("打印机测试页")
                .subtitle("Printer test page")
                .separator()
                .field("中文", "政务服务自助终端 粤智助")
                .field("生僻字", "㛃 䶮 㑇")
                .field("ASCII", "0123456789 ABCDEF abcdef")
                .text("若本页文字、线条与二维码清晰完整，打印机工作正常。")
                .qr("ZIZHU-PRINTER-TEST", Some("二维码测试".into()))
                .footer(chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string());
            p.send(&page.to_escpos(Mode::Raster)?)
                .context("sending the test page")?;
            let after = p
                .status()
                .context("reading the printer status after the page")?;
            report(&after, json)?;
            if let Some((_, why)) = after.problem() {
                anyhow::bail!("the page was sent but the printer now reports: {why}");
            }
            if !json {
                println!("test page printed");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn report(st: &zizhu_drivers::printer::PrinterStatus, json: bool) -> anyhow::Result<()> {
    if json {
        let mut v = serde_json::to_value(st)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("ready".into(), st.ready().into());
            o.insert("problem".into(), st.problem().map(|p| p.1).into());
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let yn = |b: bool| if b { "yes" } else { "no" };
    println!("ready:           {}", yn(st.ready()));
    if let Some((_, why)) = st.problem() {
        println!("problem:         {why}");
    }
    println!("online:          {}", yn(st.online));
    println!("paper end:       {}", yn(st.paper_end));
    println!("paper near end:  {}", yn(st.paper_near_end));
    println!("cover open:      {}", yn(st.cover_open));
    println!("cutter error:    {}", yn(st.cutter_error));
    println!(
        "other error:     {}",
        yn(st.error || st.unrecoverable_error || st.recoverable_error || st.auto_recoverable_error)
    );
    Ok(())
}
