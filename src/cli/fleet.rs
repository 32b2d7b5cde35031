//! `zizhu fleet …`: poll a fleet of kiosks (`poll`), write Prometheus file_sd targets (`sd`), and
//! the hidden `serve-sim`, a status server over simulated state for tests and benchmarks.
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use crate::error::usage;
use crate::fleet::{self, report, Inventory, InventoryError};
use crate::status::{self, DeviceState, Paper, StatusState};

/// Subcommands of `zizhu fleet`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Poll every kiosk of an inventory; problems first; exit 1 when any needs attention.
    Poll(PollArgs),
    /// Write Prometheus file_sd targets (JSON) for the kiosks of an inventory.
    Sd(SdArgs),
    /// A status server over simulated kiosk state (tests, benchmarks, demos).
    #[command(hide = true)]
    ServeSim(ServeSimArgs),
}

/// Arguments of `zizhu fleet poll`.
#[derive(clap::Args, Debug)]
pub struct PollArgs {
    /// Inventory file (TOML, `[[kiosk]]` entries).
    #[arg(long, value_name = "FILE")]
    pub inventory: PathBuf,
    /// Kiosks polled at once.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub concurrency: usize,
    /// Time allowed per kiosk, in milliseconds.
    #[arg(long, default_value_t = 3000, value_name = "MS")]
    pub timeout: u64,
    /// Oldest acceptable version (default: the newest version that answered).
    #[arg(long, value_name = "VERSION")]
    pub min_version: Option<String>,
    /// Trust-list age in hours above which it is stale.
    #[arg(long, default_value_t = 48, value_name = "HOURS")]
    pub trust_max_age: u64,
    /// Poll only kiosks with this tag.
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `zizhu fleet sd`.
#[derive(clap::Args, Debug)]
pub struct SdArgs {
    /// Inventory file (TOML, `[[kiosk]]` entries).
    #[arg(long, value_name = "FILE")]
    pub inventory: PathBuf,
    /// Where to write the targets (JSON for `file_sd_configs`).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Only kiosks with this tag (e.g. one file per token group or per collector).
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// Also print a summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `zizhu fleet serve-sim`.
#[derive(clap::Args, Debug)]
pub struct ServeSimArgs {
    /// Address to listen on; port 0 picks a free one (printed on stdout).
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: String,
    /// Bearer token file (default: a generated token, printed once).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Kiosk id.
    #[arg(long, default_value = "SIM-0001", value_name = "ID")]
    pub kiosk_id: String,
    /// Site name.
    #[arg(long, default_value = "模拟站点", value_name = "NAME")]
    pub site: String,
    /// Printer paper: ok, near_end or out.
    #[arg(long, default_value = "ok", value_name = "STATE")]
    pub paper: String,
    /// Report this device offline (repeatable): idcard, printer, scanner, gpio.
    #[arg(long, value_name = "DEVICE")]
    pub device_offline: Vec<String>,
    /// Items in the outbox.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub outbox: u64,
    /// Report the clock as not synchronised (default: synchronised, whatever this machine says).
    #[arg(long)]
    pub clock_unsynced: bool,
    /// Serve catalog bundle sequence N (default: the embedded catalog).
    #[arg(long, value_name = "N")]
    pub catalog_seq: Option<u64>,
    /// Report the last catalog bundle as refused for REASON (e.g. signature).
    #[arg(long, value_name = "REASON")]
    pub catalog_refused: Option<String>,
    /// Report a citizen's help request waiting for staff (呼叫帮助).
    #[arg(long)]
    pub help_pending: bool,
    /// Serve this many simulated kiosks from this one process (ids ID-00000, ID-00001, …), each on
    /// its own free loopback port; needs --inventory-out. For scale tests.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub count: usize,
    /// With --count: write an inventory of the simulated kiosks here.
    #[arg(long, value_name = "FILE")]
    pub inventory_out: Option<PathBuf>,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Requests per second allowed per client (0 = no limit).
    #[arg(long, default_value_t = 10.0, value_name = "RPS")]
    pub rate_limit: f64,
    /// Free disk to report, in percent of a simulated 32 GiB card (default: plenty, whatever this
    /// machine has free).
    #[arg(long, default_value_t = 60.0, value_name = "PERCENT")]
    pub disk_free_percent: f64,
}

/// Runs `zizhu fleet`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Poll(a) => poll(a),
        Command::Sd(a) => sd(a),
        Command::ServeSim(a) => serve_sim(a),
    }
}

fn load(path: &std::path::Path, tag: Option<&str>) -> anyhow::Result<Inventory> {
    let mut inv = match Inventory::load(path) {
        Ok(i) => i,
        Err(e @ InventoryError::Read { .. }) => return usage(e.to_string()),
        Err(e) => return usage(format!("{e}\nfix the inventory and run again")),
    };
    if let Some(tag) = tag {
        inv.kiosks.retain(|k| k.tags.iter().any(|t| t == tag));
    }
    Ok(inv)
}

fn poll(a: PollArgs) -> anyhow::Result<ExitCode> {
    if a.concurrency == 0 || a.concurrency > 10_000 {
        return usage("--concurrency must be between 1 and 10000");
    }
    if a.timeout == 0 {
        return usage("--timeout must be at least 1 millisecond");
    }
    let inv = load(&a.inventory, a.tag.as_deref())?;
    if inv.kiosks.is_empty() {
        return usage(format!(
            "{} lists no kiosks (with that tag); add [[kiosk]] entries",
            a.inventory.display()
        ));
    }
    let opts = fleet::Options {
        concurrency: a.concurrency,
        timeout: Duration::from_millis(a.timeout),
        min_version: a.min_version,
        trust_max_age: Duration::from_secs(a.trust_max_age.saturating_mul(3600)),
        ..fleet::Options::default()
    };
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(inv.kiosks.len() as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} polling {pos}/{len} kiosks [{bar:30}] {elapsed} {msg}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    let mut results = fleet::poll(&inv.kiosks, &opts, |r| {
        if r.needs_attention() {
            bar.set_message(format!(
                "{} {}",
                r.id,
                r.problems.first().map(|p| p.describe()).unwrap_or_default()
            ));
        }
        bar.inc(1);
    })
    .context("polling the fleet")?;
    bar.finish_and_clear();
    report::sort(&mut results);
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(&mut out, &report::json(&results))?;
        writeln!(out)?;
    } else {
        out.write_all(report::table(&results).as_bytes())?;
    }
    out.flush()?;
    let attention = results.iter().any(fleet::KioskResult::needs_attention);
    Ok(if attention {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn sd(a: SdArgs) -> anyhow::Result<ExitCode> {
    let inv = load(&a.inventory, a.tag.as_deref())?;
    let groups = fleet::sd::targets(&inv.kiosks);
    fleet::sd::write(&groups, &a.out)?;
    if a.json {
        let doc =
            serde_json::json!({ "targets": groups.len(), "out": a.out.display().to_string() });
        println!("{doc}");
    } else {
        println!("wrote {} targets to {}", groups.len(), a.out.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn serve_sim(a: ServeSimArgs) -> anyhow::Result<ExitCode> {
    let paper = match a.paper.as_str() {
        "ok" => Paper::Ok,
        "near_end" | "near-end" => Paper::NearEnd,
        "out" => Paper::Out,
        other => return usage(format!("--paper {other:?}: use ok, near_end or out")),
    };
    if !(0.0..=100.0).contains(&a.disk_free_percent) {
        return usage(format!(
            "--disk-free-percent {}: give a number from 0 to 100",
            a.disk_free_percent
        ));
    }
    if let Some(r) = &a.catalog_refused {
        if let Err(m) = crate::config::check_plain(r) {
            return usage(format!("--catalog-refused: {m}"));
        }
    }
    for (flag, v) in [("--kiosk-id", &a.kiosk_id), ("--site", &a.site)] {
        if let Err(m) = crate::config::check_plain(v) {
            return usage(format!("{flag}: {m}"));
        }
    }
    for d in &a.device_offline {
        if !status::DEVICES.contains(&d.as_str()) {
            return usage(format!(
                "--device-offline {d:?}: use one of {}",
                status::DEVICES.join(", ")
            ));
        }
    }
    let (mut config, generated) =
        match status::resolve_config(Some(&a.listen), a.token_file.as_deref(), None) {
            Ok(c) => c,
            Err(
                e @ (status::Error::BadListen { .. }
                | status::Error::TokenWeak { .. }
                | status::Error::TokenFile { .. }),
            ) => return usage(e.to_string()),
            Err(e) => return Err(e.into()),
        };
    config.limits.per_client_rps = a.rate_limit.max(0.0);
    if let (Some(cert), Some(key)) = (a.tls_cert.clone(), a.tls_key.clone()) {
        config.tls = Some(status::TlsFiles { cert, key });
    }
    if a.count > 1 {
        return serve_many(a, config, paper);
    }
    let state = sim_state(&a.kiosk_id, &a, paper);
    let handle = status::spawn(config, state).context("starting the simulated status server")?;
    let mut out = std::io::stdout().lock();
    let scheme = if a.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    writeln!(out, "listening on {scheme}://{}", handle.local_addr())?;
    if let Some(t) = generated {
        writeln!(out, "token {t}")?;
    }
    out.flush()?;
    drop(out);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term.recv() => {},
        }
        anyhow::Ok(())
    })?;
    handle.shutdown();
    Ok(ExitCode::SUCCESS)
}

/// The state of one simulated kiosk as `a` describes it.
fn sim_state(id: &str, a: &ServeSimArgs, paper: Paper) -> StatusState {
    let state = StatusState::new(id, &a.site);
    for d in status::DEVICES {
        let offline = a.device_offline.iter().any(|x| x == d);
        let (st, err) = if offline {
            (DeviceState::Offline, Some("simulated: no answer"))
        } else {
            (DeviceState::Ok, None)
        };
        state.set_device(d, st, err);
    }
    state.set_paper(paper);
    let oldest = (a.outbox > 0).then(|| std::time::SystemTime::now() - Duration::from_secs(60));
    state.set_outbox(a.outbox, oldest);
    state.set_trust_list_issued(Some(
        std::time::SystemTime::now() - Duration::from_secs(3600),
    ));
    state.set_clock_synced_override(Some(!a.clock_unsynced));
    let catalog = crate::catalog::Catalog::builtin();
    state.set_catalog(a.catalog_seq, None, catalog.services().len());
    if let Some(r) = &a.catalog_refused {
        state.catalog_refused(r);
    }
    if a.help_pending {
        state.help_requested();
    }
    const CARD: u64 = 32 << 30;
    state.set_disk_override(Some(status::Disk {
        path: "/var/lib/zizhu".into(),
        free_bytes: (CARD as f64 * a.disk_free_percent / 100.0) as u64,
        size_bytes: CARD,
    }));
    state.set_screen("attract");
    state.platform_contact_ok();
    state.service_completed("social-security");
    state.card_read();
    state.printed();
    state
}

/// `serve-sim --count N`: N status servers on one runtime, their inventory written out.
fn serve_many(
    a: ServeSimArgs,
    config: status::StatusConfig,
    paper: Paper,
) -> anyhow::Result<ExitCode> {
    let Some(inventory_out) = a.inventory_out.clone() else {
        return usage(
            "--count needs --inventory-out FILE (where the kiosks' addresses are written)",
        );
    };
    if config.listen.port() != 0 {
        return usage("--count needs a listen address with port 0 (each kiosk gets a free port)");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (stop_tx, _) = tokio::sync::broadcast::channel::<()>(1);
    let mut inventory = format!("token = \"{}\"\n", config.token.expose());
    for i in 0..a.count {
        let id = format!("{}-{i:05}", a.kiosk_id);
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(config.listen))
            .with_context(|| format!("binding kiosk {i} of {}", a.count))?;
        let addr = listener.local_addr()?;
        inventory.push_str(&format!(
            "\n[[kiosk]]\nid = \"{id}\"\nurl = \"http://{addr}\"\nsite = \"{}\"\n",
            a.site
        ));
        let mut stop = stop_tx.subscribe();
        let state = sim_state(&id, &a, paper);
        runtime.spawn(status::serve(listener, config.clone(), state, async move {
            let _ = stop.recv().await;
        }));
    }
    std::fs::write(&inventory_out, inventory)
        .with_context(|| format!("writing {}", inventory_out.display()))?;
    println!(
        "serving {} kiosks; inventory in {}",
        a.count,
        inventory_out.display()
    );
    runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term.recv() => {},
        }
        anyhow::Ok(())
    })?;
    let _ = stop_tx.send(());
    Ok(ExitCode::SUCCESS)
}
