//! `zizhu run`: the kiosk itself (a window, or `--headless` for none).
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `zizhu run`.
#[derive(clap::Args, Debug, Default)]
pub struct Args {
    /// Run the runtime without a window until SIGTERM (devices, journal, status server).
    #[arg(long)]
    pub headless: bool,
    /// Kiosk configuration file. Without one the kiosk runs simulated (simulated devices, the
    /// demo platform in-process, data under the user's data directory).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address of the status server (overrides the config), e.g. 0.0.0.0:9464.
    #[arg(long, value_name = "ADDR")]
    pub status_listen: Option<String>,
    /// File holding the status server's bearer token (overrides the config).
    #[arg(long, value_name = "FILE")]
    pub status_token_file: Option<PathBuf>,
}

/// Runs the kiosk.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zizhu run is not built yet")
}
