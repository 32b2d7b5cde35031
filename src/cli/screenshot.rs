//! `zizhu screenshot`: renders one kiosk screen headless (Slint's software renderer, 1080×1920)
//! to a PNG file. Needs no display and no system fonts (the Chinese font is in the binary).
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::catalog::Lang;
use crate::error::usage;
use crate::kiosk::{self, KioskError, Options, ScreenId, ScreenSpec};

/// Arguments of `zizhu screenshot`.
#[derive(clap::Args, Debug, Default)]
pub struct Args {
    /// The screen: attract, home, category, search or detail; the technician's maintenance or
    /// maintenance-pin (sample data, masked); or a step of doing the service `--item` (identify,
    /// face-check, form, commitment, confirm, payment, result, evaluate, goodbye), played against
    /// the demo platform with a sample ID card.
    #[arg(long, value_name = "NAME")]
    pub screen: String,
    /// Language: zh (default) or en.
    #[arg(long, value_name = "LANG", default_value = "zh")]
    pub lang: String,
    /// Elderly mode (长者模式): larger text, fewer and bigger targets.
    #[arg(long)]
    pub elderly: bool,
    /// Category screen: the category id (default: every service).
    #[arg(long, value_name = "ID")]
    pub category: Option<String>,
    /// Detail screen: the service id (default: the first home tile).
    #[arg(long, value_name = "ID")]
    pub item: Option<String>,
    /// Search screen: the query as typed (pinyin, initials, English, or Chinese).
    #[arg(long, value_name = "Q")]
    pub query: Option<String>,
    /// Site name shown in the header.
    #[arg(long, value_name = "NAME")]
    pub site: Option<String>,
    /// The PNG file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Runs `zizhu screenshot`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let flow_step = kiosk::flow::PREVIEW_STEPS.contains(&args.screen.as_str());
    let Some(screen) = ScreenId::parse(&args.screen).or(flow_step.then_some(ScreenId::Flow)) else {
        let valid: Vec<&str> = ScreenId::ALL
            .iter()
            .chain(ScreenId::TECHNICIAN.iter())
            .map(|s| s.name())
            .chain(kiosk::flow::PREVIEW_STEPS)
            .collect();
        return usage(format!(
            "unknown screen `{}`; valid screens: {}",
            args.screen,
            valid.join(", ")
        ));
    };
    let Some(lang) = Lang::parse(&args.lang) else {
        return usage(format!(
            "unknown language `{}`; valid languages: zh, en",
            args.lang
        ));
    };
    let mut options = Options {
        lang,
        elderly: args.elderly,
        ..Options::default()
    };
    if let Some(site) = args.site {
        options.site_name = site;
    }
    if flow_step {
        return flow_screenshot(options, &args.screen, args.item.as_deref(), &args.out);
    }
    let spec = ScreenSpec {
        screen,
        category: args.category,
        item: args.item,
        query: args.query,
    };
    match kiosk::render_png(options, &spec, &args.out) {
        Ok(()) => {
            tracing::info!(out = %args.out.display(), screen = screen.name(), "screenshot written");
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ (KioskError::UnknownCategory { .. } | KioskError::UnknownService { .. })) => {
            usage(e.to_string())
        }
        Err(e) => Err(e).with_context(|| format!("rendering the {} screen", screen.name())),
    }
}

/// A flow step of a service (default: one that reaches the step without a phone).
fn flow_screenshot(
    options: Options,
    step: &str,
    item: Option<&str>,
    out: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let id = item.unwrap_or(match step {
        "identify" | "payment" => "mi-resident-pay",
        "face-check" => "ss-contrib-detail-print",
        _ => "ps-idcard-lost",
    });
    if crate::catalog::Catalog::builtin().service(id).is_none() {
        return usage(format!(
            "unknown service `{id}`; see `zizhu catalog list` for the ids"
        ));
    }
    match kiosk::flow::render_flow_png(options, id, step, out) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(KioskError::Headless(m)) if m.contains("does not reach") => usage(m),
        Err(e) => Err(e).with_context(|| format!("rendering the {step} step of {id}")),
    }
}
