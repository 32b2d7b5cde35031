//! `zizhu help list|ack`: the help requests (呼叫帮助) citizens raised at kiosks, as the platform
//! keeps them, for technicians and tests (the demo platform's `GET /v1/help`, `POST
//! /v1/help/{id}/ack`; site staff use its page `/demo/help`). Clap's own `help` subcommand is
//! switched off for this; `zizhu --help` and `zizhu SUBCOMMAND --help` print help.
use std::process::ExitCode;

use clap::{Args as ClapArgs, Subcommand};

use crate::error::usage;
use crate::platform::{api, Client, ClientConfig, PlatformError};

/// `zizhu help …`
#[derive(Subcommand, Debug)]
pub enum Command {
    /// List help requests (open ones unless --all).
    List(ListArgs),
    /// Acknowledge one: a staff member is on the way (the kiosk then shows 工作人员正在赶来).
    Ack(AckArgs),
}

/// Where the platform is.
#[derive(ClapArgs, Debug)]
pub struct PlatformArgs {
    /// The platform's base URL, e.g. http://127.0.0.1:8700.
    #[arg(long, value_name = "URL")]
    pub platform: String,
    /// A file holding the bearer token (default: `demo`, which the demo platform accepts).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<std::path::PathBuf>,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
}

/// `zizhu help list`
#[derive(ClapArgs, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub platform: PlatformArgs,
    /// Every request, also acknowledged and cancelled ones.
    #[arg(long)]
    pub all: bool,
}

/// `zizhu help ack`
#[derive(ClapArgs, Debug)]
pub struct AckArgs {
    /// The request's id (`hp_…`, from `zizhu help list`).
    pub help_id: String,
    #[command(flatten)]
    pub platform: PlatformArgs,
    /// The staff number of who is going (never a name), e.g. 0012.
    #[arg(long, value_name = "NUMBER")]
    pub staff: Option<String>,
}

/// Runs `zizhu help …`.
pub fn run(c: Command) -> anyhow::Result<ExitCode> {
    match c {
        Command::List(a) => list(a),
        Command::Ack(a) => ack(a),
    }
}

fn client(p: &PlatformArgs) -> anyhow::Result<Client> {
    let token = match &p.token_file {
        Some(f) => match std::fs::read_to_string(f) {
            Ok(t) if !t.trim().is_empty() => t.trim().to_string(),
            Ok(_) => return usage(format!("--token-file {}: the file is empty", f.display())),
            Err(e) => return usage(format!("--token-file {}: {e}", f.display())),
        },
        None => "demo".to_string(),
    };
    let mut cfg = ClientConfig::new(p.platform.clone(), token, "zizhu-cli");
    cfg.attempts = 1;
    match Client::new(cfg) {
        Ok(c) => Ok(c),
        Err(e) => usage(format!("--platform: {e}")),
    }
}

fn failed(e: PlatformError, what: &str, platform: &str) -> anyhow::Result<ExitCode> {
    match e {
        PlatformError::Api { status, error } if (400..500).contains(&status) => {
            usage(format!("{} ({})", error.message_en, error.code))
        }
        e => Err(anyhow::Error::new(e).context(format!("{what} at {platform}"))),
    }
}

fn print_table(list: &[api::HelpEntry]) {
    if list.is_empty() {
        println!("no help requests");
        return;
    }
    let now = chrono::Utc::now().timestamp();
    println!(
        "{:<10} {:<12} {:<13} {:<10} {:<24} {:>7}  SITE",
        "ID", "KIOSK", "STATE", "SCREEN", "SERVICE", "WAITING"
    );
    for e in list {
        println!(
            "{:<10} {:<12} {:<13} {:<10} {:<24} {:>6}s  {}",
            e.help_id,
            e.kiosk_id,
            e.state.as_str(),
            e.request.screen,
            e.request.service_id.as_deref().unwrap_or("-"),
            (now - e.created_unix).max(0),
            e.request.site
        );
    }
}

fn list(a: ListArgs) -> anyhow::Result<ExitCode> {
    let c = client(&a.platform)?;
    let list = match c.help_list(!a.all) {
        Ok(l) => l,
        Err(e) => return failed(e, "listing help requests", &a.platform.platform),
    };
    if a.platform.json {
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        print_table(&list.requests);
    }
    Ok(ExitCode::SUCCESS)
}

fn ack(a: AckArgs) -> anyhow::Result<ExitCode> {
    if let Some(s) = &a.staff {
        if s.is_empty() || s.len() > 16 || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
            return usage(format!(
                "--staff {s:?}: give a staff number of 1-16 letters or digits, e.g. 0012 (never a name)"
            ));
        }
    }
    let c = client(&a.platform)?;
    let entry = match c.help_ack(&a.help_id, a.staff.as_deref()) {
        Ok(e) => e,
        Err(e) => return failed(e, "acknowledging the help request", &a.platform.platform),
    };
    if a.platform.json {
        println!("{}", serde_json::to_string_pretty(&entry)?);
    } else {
        print_table(std::slice::from_ref(&entry));
    }
    Ok(ExitCode::SUCCESS)
}
