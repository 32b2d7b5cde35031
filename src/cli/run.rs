//! `zizhu run`: the kiosk itself (a window, or `--headless` for none). With no config file it
//! runs in simulation mode: simulated devices on pseudo-terminals opened by the real drivers, the
//! demo platform in-process, data under the user's data directory.
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

use crate::config::{Config, ConfigError};
use crate::error::usage;
use crate::runtime::{Overrides, Runtime};

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
    /// Full screen (what a kiosk wants); the default on a workstation is a 1080×1920 window.
    #[arg(long)]
    pub fullscreen: bool,
}

/// Sets `stop` on SIGTERM (what systemd sends) or Ctrl-C: a task on the runtime's tokio runtime.
fn on_signal(stop: Arc<AtomicBool>, tokio: &tokio::runtime::Handle) {
    let term = {
        let _g = tokio.enter();
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    };
    let mut term = match term {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::error!("cannot watch SIGTERM: {e}");
            None
        }
    };
    tokio.spawn(async move {
        match &mut term {
            Some(term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        stop.store(true, Ordering::SeqCst);
    });
}

/// Whether starting failed on the status server's address or token as given (input, not an
/// operation that failed).
fn is_status_input(e: &anyhow::Error) -> bool {
    use crate::status::Error as S;
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<S>(),
            Some(
                S::BadListen { .. } | S::TokenWeak { .. } | S::TokenFile { .. } | S::NoToken { .. }
            )
        )
    })
}

/// Runs the kiosk.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = match &args.config {
        Some(path) => match Config::load(path) {
            Ok(c) => c,
            Err(e @ ConfigError::Read { .. }) => return usage(e.to_string()),
            Err(e) => {
                return usage(format!(
                    "{}: {e} (check it with `zizhu config check`)",
                    path.display()
                ))
            }
        },
        None => Config::simulation(),
    };
    if !args.headless {
        // Fail early and plainly where there is no display, before starting devices.
        #[cfg(not(feature = "linuxkms"))]
        {
            let has = |v: &str| std::env::var_os(v).is_some_and(|x| !x.is_empty());
            if !has("DISPLAY") && !has("WAYLAND_DISPLAY") {
                return usage(
                    "no display to open the kiosk window on (DISPLAY and WAYLAND_DISPLAY are not set); \
                     run `zizhu run --headless` to run the kiosk without a window",
                );
            }
        }
    }
    // A kiosk build draws with DRM/KMS: the backend is set up here, before the runtime's threads
    // start, with `[display] rotation` applied to the picture and to touch input.
    #[cfg(feature = "linuxkms")]
    if !args.headless {
        let kms = std::env::var("SLINT_BACKEND")
            .map_or(!cfg!(feature = "winit"), |b| b.starts_with("linuxkms"));
        if kms {
            use anyhow::Context as _;
            zizhu_ui::kms::install(config.display_rotation).context("opening the kiosk display")?;
        } else if config.display_rotation != 0 {
            tracing::warn!(
                rotation = config.display_rotation,
                "[display] rotation applies to the DRM/KMS display only; this window is not turned"
            );
        }
    }
    let overrides = Overrides {
        status_listen: args.status_listen.clone(),
        status_token_file: args.status_token_file.clone(),
    };
    // Device events go to the flow, or to the maintenance screen while it is open, and wake the
    // UI thread (no polling); headless, no screen consumes them (the device hub logs each one).
    let maintenance_open = Arc::new(AtomicBool::new(false));
    let (flow_tx, flow_rx) = mpsc::channel();
    let (maint_tx, maint_rx) = mpsc::channel();
    let ui_events = if args.headless {
        crate::runtime::UiEvents::none()
    } else {
        crate::kiosk::wake::ui_events(flow_tx, maint_tx, maintenance_open.clone())
    };
    let runtime = match Runtime::start(config, &overrides, ui_events) {
        Ok(r) => r,
        // A bad --status-listen or token (file) is the user's input: exit 2, naming it.
        Err(e) if is_status_input(&e) => {
            return usage(format!(
                "{e:#}; fix --status-listen / --status-token-file or [status]"
            ))
        }
        Err(e) => return Err(e.context("starting the kiosk runtime")),
    };
    tracing::info!(
        kiosk = %runtime.config.kiosk_id,
        simulation = runtime.config.simulation,
        platform = %runtime.platform_url,
        "kiosk runtime started"
    );
    let stop = Arc::new(AtomicBool::new(false));
    on_signal(stop.clone(), &runtime.tokio());
    if args.headless {
        runtime.health_loop(&stop);
        tracing::info!("stopping");
        drop(runtime);
        return Ok(ExitCode::SUCCESS);
    }
    let options = crate::kiosk::Options {
        site_name: runtime.config.site.clone(),
        idle_timeout: runtime.config.idle_timeout,
        lang: runtime.config.language,
        elderly: false,
        fullscreen: args.fullscreen,
        catalog: Some(runtime.catalog.clone()),
    };
    let runtime = Arc::new(runtime);
    let health = {
        let (rt, stop) = (runtime.clone(), stop.clone());
        std::thread::Builder::new()
            .name("health".into())
            .spawn(move || rt.health_loop(&stop))?
    };
    // The flow screens get the platform client, the journal, the printer and the device events.
    let printer = crate::kiosk::flow::runtime_printer(&runtime);
    let flow = crate::kiosk::FlowContext {
        client: runtime.client.clone(),
        journal: Some(runtime.journal.clone()),
        printer,
        events: Some(flow_rx),
        kiosk_id: runtime.config.kiosk_id.clone(),
        verifier: Some(runtime.verifier.clone()),
        sim: runtime
            .config
            .simulation
            .then(|| crate::kiosk::flow::sim_hooks(&runtime)),
    };
    // Voice guidance from `[voice]`: its own thread owns the sound card; a missing one is a
    // degraded `audio` device and the kiosk goes on silently.
    let voice = crate::voice::Voice::start(
        &runtime.config.voice,
        runtime.config.language,
        Some(runtime.state.clone()),
    );
    let mut maintenance =
        crate::kiosk::MaintenanceContext::from_runtime(&runtime, Some(maint_rx), maintenance_open);
    maintenance.voice = Some(voice.clone());
    // 呼叫帮助: help requests go through the journal's outbox to the platform.
    let help = crate::kiosk::HelpContext {
        desk: Arc::new(crate::help::HelpDesk::new(
            runtime.journal.clone(),
            runtime.client.clone(),
            &runtime.config.kiosk_id,
        )),
        status: Some(runtime.state.clone()),
        site: runtime.config.site.clone(),
        config: runtime.config.help.clone(),
        poll: std::time::Duration::from_secs(3),
    };
    let result = crate::kiosk::run_window(
        options,
        Some(flow),
        Some(help),
        Some(maintenance),
        Some(runtime.state.clone()),
        Some(voice),
    );
    stop.store(true, Ordering::SeqCst);
    let _ = health.join();
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.is_bad_input() => usage(e.to_string()),
        Err(e) => Err(e.into()),
    }
}
