//! The `zizhu` command line: one binary, one subcommand per job (the table in README.md,
//! "Command line"). Each subcommand lives in its own file with an `Args` type and a
//! `run(Args) -> anyhow::Result<ExitCode>`; this file only dispatches and maps errors to exit codes:
//! 0 success, 1 the operation failed, 2 bad usage or bad input.
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod catalog;
pub mod config;
pub mod elicense;
#[cfg(feature = "tools")]
pub mod fleet;
pub mod flow;
pub mod help;
pub mod idcard;
pub mod image;
pub mod platform;
pub mod printer;
pub mod receipt;
pub mod run;
pub mod scanner;
pub mod screenshot;
pub mod sim;
pub mod staff;
pub mod voice;

/// Zizhu (自助): government-service self-service kiosk runtime and tools.
#[derive(Parser, Debug)]
// `zizhu help` is ours (help requests); `--help` prints help.
#[command(
    name = "zizhu",
    version,
    about,
    long_about = None,
    propagate_version = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Every subcommand. With none, `zizhu` runs the kiosk (`zizhu run`).
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the kiosk (a window; `--headless` for none). With no config file it runs simulated.
    Run(run::Args),
    /// Kiosk configuration files.
    #[command(subcommand)]
    Config(config::Command),
    /// Render one screen headless to a PNG file.
    Screenshot(screenshot::Args),
    /// The service catalog: list, search, check a catalog file.
    #[command(subcommand)]
    Catalog(catalog::Command),
    /// The ID-card reader: read a card, decode a raw response.
    #[command(subcommand)]
    Idcard(idcard::Command),
    /// Receipts: render one as a picture or ESC/POS bytes.
    #[command(subcommand)]
    Receipt(receipt::Command),
    /// The receipt printer: status, test page.
    #[command(subcommand)]
    Printer(printer::Command),
    /// The QR / barcode scanner.
    #[command(subcommand)]
    Scanner(scanner::Command),
    /// Simulated devices on pseudo-terminals.
    #[command(subcommand)]
    Sim(sim::Command),
    /// E-license presentations (扫码亮证): verify, keys, issue, trust lists.
    #[command(subcommand)]
    Elicense(elicense::Command),
    /// The demo service platform (HTTP).
    Platform(platform::Args),
    /// Run one service end to end without the UI.
    #[command(subcommand)]
    Flow(flow::Command),
    /// Help requests (呼叫帮助) at the platform: list them, acknowledge one.
    #[command(subcommand)]
    Help(help::Command),
    /// Staff codes (帮办员 sign-in): issue one (demo issuer), check one.
    #[command(subcommand)]
    Staff(staff::Command),
    /// Poll a fleet of kiosks; write Prometheus targets.
    #[cfg(feature = "tools")]
    #[command(subcommand)]
    Fleet(fleet::Command),
    /// OS images: provision, inspect.
    #[command(subcommand)]
    Image(image::Command),
    /// Write an image to an SD card (or a file) and verify it.
    #[cfg(feature = "tools")]
    Flash(image::FlashArgs),
    /// Speak a sentence (cmn, yue, hak, en) on the sound card or into a WAV file.
    Say(voice::SayArgs),
    /// Voice guidance: check a voice pack, list its prompts, write its manifest, build one.
    #[command(subcommand)]
    Voice(voice::Command),
}

/// Entry point used by `main`: parse, set up logging, dispatch, map the result to an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(2),
            };
        }
    };
    init_logging();
    match dispatch(cli.command.unwrap_or(Command::Run(run::Args::default()))) {
        Ok(code) => code,
        Err(err) => {
            // Error texts may carry a platform's message or a device's text: through term.
            eprintln!("zizhu: {}", crate::term::safe_lines(&format!("{err:#}")));
            if crate::error::is_usage(&err) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run(a) => run::run(a),
        Command::Config(c) => config::run(c),
        Command::Screenshot(a) => screenshot::run(a),
        Command::Catalog(c) => catalog::run(c),
        Command::Idcard(c) => idcard::run(c),
        Command::Receipt(c) => receipt::run(c),
        Command::Printer(c) => printer::run(c),
        Command::Scanner(c) => scanner::run(c),
        Command::Sim(c) => sim::run(c),
        Command::Elicense(c) => elicense::run(c),
        Command::Platform(a) => platform::run(a),
        Command::Flow(c) => flow::run(c),
        Command::Help(c) => help::run(c),
        Command::Staff(c) => staff::run(c),
        #[cfg(feature = "tools")]
        Command::Fleet(c) => fleet::run(c),
        Command::Image(c) => image::run(c),
        #[cfg(feature = "tools")]
        Command::Flash(a) => image::flash(a),
        Command::Say(a) => voice::say(a),
        Command::Voice(c) => voice::run(c),
    }
}

/// Logs go to stderr (journald captures them under systemd). `RUST_LOG` overrides the default.
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("zizhu=info,zizhu_drivers=info,warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
