//! `zizhu platform --listen ADDR [--db FILE] [--token-file F] [--trust-list F] [--catalog-bundle F]
//! [--fault …]`: the demo service platform in the foreground until Ctrl-C or SIGTERM
//! (docs/platform-api.md).
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use crate::platform::api::Faults;
use crate::platform::demo::{self, DemoOptions, DemoState};

/// Arguments of `zizhu platform`.
#[derive(clap::Args, Debug, Default)]
pub struct Args {
    /// Address to listen on, e.g. 127.0.0.1:8700 (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8700")]
    pub listen: String,
    /// SQLite file for requests, payments and idempotency keys (in memory if absent).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// File holding the only accepted bearer token (any non-empty token if absent).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Signed trust list (COSE) served at /v1/trust-list (default: a list of the demo issuer
    /// keys signed by the demo root, what a simulated kiosk pins).
    #[arg(long, conflicts_with = "no_trust_list")]
    pub trust_list: Option<PathBuf>,
    /// Serve no trust list (kiosks then resolve every e-licence code online).
    #[arg(long)]
    pub no_trust_list: bool,
    /// A signed catalog bundle (`zizhu catalog sign`) served at /v1/catalog/bundle from the
    /// start; without it none is served until one is published (`zizhu catalog publish`).
    #[arg(long)]
    pub catalog_bundle: Option<PathBuf>,
    /// Fault injection, repeatable: `latency=MS`, `error-rate=0.3`, `drop`, `down`,
    /// `service-down=ID` (requests to that one service answer 503).
    #[arg(long = "fault", value_name = "FAULT")]
    pub faults: Vec<String>,
}

/// Parses `--fault` values into [`Faults`].
pub fn parse_faults(items: &[String]) -> Result<Faults, String> {
    let mut f = Faults::default();
    for it in items {
        let (k, v) = match it.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim())),
            None => (it.trim(), None),
        };
        match (k, v) {
            ("latency", Some(v)) => {
                f.latency_ms =
                    v.parse().ok().filter(|ms| *ms <= 600_000).ok_or_else(|| {
                        format!("--fault latency={v}: use milliseconds, 0-600000")
                    })?;
            }
            ("error-rate", Some(v)) => {
                f.error_rate = v
                    .parse()
                    .ok()
                    .filter(|r: &f64| (0.0..=1.0).contains(r))
                    .ok_or_else(|| format!("--fault error-rate={v}: use a fraction 0.0-1.0"))?;
            }
            ("drop", None) => f.drop = true,
            ("down", None) => f.down = true,
            ("service-down", Some(id)) if !id.is_empty() => f.down_services.push(id.to_string()),
            _ => {
                return Err(format!(
                    "--fault {it}: unknown fault; use latency=MS, error-rate=R, drop, down or service-down=ID"
                ))
            }
        }
    }
    Ok(f)
}

/// Runs `zizhu platform`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Ok(listen) = args.listen.parse::<SocketAddr>() else {
        return crate::error::usage(format!(
            "--listen {}: give an address and port, e.g. 127.0.0.1:8700",
            args.listen
        ));
    };
    let faults = match parse_faults(&args.faults) {
        Ok(f) => f,
        Err(m) => return crate::error::usage(m),
    };
    let token = match &args.token_file {
        Some(p) => {
            let t = std::fs::read_to_string(p)
                .with_context(|| format!("reading the token file {}", p.display()))?;
            let t = t.trim().to_string();
            if t.is_empty() {
                return crate::error::usage(format!(
                    "--token-file {}: the file is empty; put the kiosk token in it",
                    p.display()
                ));
            }
            Some(t)
        }
        None => None,
    };
    let trust_list = match &args.trust_list {
        Some(p) => Some(
            std::fs::read(p).with_context(|| format!("reading the trust list {}", p.display()))?,
        ),
        None if args.no_trust_list => None,
        None => Some(crate::elicense::demo::current_trust_list(
            chrono::Utc::now().timestamp(),
        )?),
    };
    let catalog_bundle = match &args.catalog_bundle {
        Some(p) => {
            let bytes = match std::fs::read(p) {
                Ok(b) => b,
                Err(e) => {
                    return crate::error::usage(format!(
                        "--catalog-bundle {}: {e}; give a bundle made with `zizhu catalog sign`",
                        p.display()
                    ))
                }
            };
            if let Err(e) = crate::catalog::bundle::peek(&bytes) {
                return crate::error::usage(format!("--catalog-bundle {}: {e}", p.display()));
            }
            Some(bytes)
        }
        None => None,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("binding {listen}"))?;
        let addr = listener.local_addr()?;
        let state = Arc::new(DemoState::new(
            addr,
            DemoOptions {
                db: args.db,
                token,
                trust_list,
                catalog_bundle,
                faults,
            },
        )?);
        eprintln!("demo platform listening on http://{addr}");
        tracing::info!(%addr, "demo platform listening");
        demo::serve(listener, state, shutdown()).await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown() {
    #[cfg(unix)]
    {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = term.recv() => {},
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse() {
        let f = parse_faults(&["latency=50".into(), "error-rate=0.3".into(), "drop".into()])
            .expect("valid");
        assert_eq!(f.latency_ms, 50);
        assert!(f.drop && !f.down);
        assert!(parse_faults(&["error-rate=2".into()]).is_err());
        assert!(parse_faults(&["explode".into()]).is_err());
    }
}
