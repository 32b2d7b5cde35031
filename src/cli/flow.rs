//! `zizhu flow run`: one service end to end without the UI, against a platform, printing what the
//! citizen would see. With `--sample` it also plays the citizen's phone: it fills every field not
//! given with the catalog's example value and opens the payment and face-check links the kiosk
//! shows (docs/design.md, "Payments and phone checks in the demo platform").
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::json;
use zizhu_drivers::idcard::card::{samples_at, CardKind};
use zizhu_drivers::printer::receipt::Mode;

use crate::catalog::{Catalog, Lang};
use crate::error::usage;
use crate::flow::play::{play, Script};
use crate::flow::{receipt, Identity, Source};
use crate::platform::{Client, ClientConfig};
use crate::text::Text;
use zizhu_drivers::privacy::mask;

/// Subcommands of `zizhu flow`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Run one service end to end.
    Run(RunArgs),
}

/// Arguments of `zizhu flow run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Service id (see `zizhu catalog list`).
    #[arg(long)]
    pub item: String,
    /// Platform base URL, e.g. http://127.0.0.1:8700.
    #[arg(long)]
    pub platform: String,
    /// Identify with one of the simulator's sample cards: resident, rare-name, foreign-2017,
    /// foreign-2023, hk-macao-taiwan.
    #[arg(long, value_name = "NAME", group = "who")]
    pub idcard_sample: Option<String>,
    /// Identify with a code as scanned from a phone (EL1:/ET1: e-licence, or an identity code).
    #[arg(long, value_name = "PAYLOAD", group = "who")]
    pub code: Option<String>,
    /// Identify as if a card with this number had been read (tests, technicians).
    #[arg(long, value_name = "N", group = "who")]
    pub id_number: Option<String>,
    /// Type the number instead (acting for someone else, 代他人; only where the service allows).
    #[arg(long)]
    pub typed: bool,
    /// A form value, KEY=VALUE (repeatable).
    #[arg(long = "field", value_name = "KEY=VALUE")]
    pub fields: Vec<String>,
    /// Fill every field not given with its sample value and play the citizen's phone.
    #[arg(long)]
    pub sample: bool,
    /// Write the receipt as ESC/POS bytes to this file.
    #[arg(long, value_name = "F.bin")]
    pub print_to: Option<PathBuf>,
    /// Journal the visit in this data directory (outbox first, as the kiosk does); whatever the
    /// platform does not confirm is re-sent by `zizhu run` on the same directory.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Decline the e-licences the platform offers (免证办); by default the citizen agrees.
    #[arg(long)]
    pub decline_elicense: bool,
    /// Pinned e-licence root key (hex SEC1 public key, P-256 or SM2; repeatable) for verifying `--code EL1:…`
    /// offline against the platform's trust list; default: the demo roots.
    #[arg(long = "elicense-root", value_name = "HEX")]
    pub elicense_roots: Vec<String>,
    /// Rate the service 1-5 at the end (5 = 非常满意); default: skip.
    #[arg(long)]
    pub rate: Option<u8>,
    /// Language: zh or en.
    #[arg(long, default_value = "zh")]
    pub lang: String,
    /// Platform bearer token.
    #[arg(long, default_value = "demo-kiosk-token")]
    pub token: String,
    /// How long to wait for a payment or face check, in seconds.
    #[arg(long, default_value_t = 120)]
    pub wait: u64,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// Runs `zizhu flow`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Run(a) => run_one(a),
    }
}

/// The names `--idcard-sample` takes, in the order of the simulator's sample cards.
pub const SAMPLE_CARDS: [&str; 5] = [
    "resident",
    "rare-name",
    "foreign-2017",
    "foreign-2023",
    "hk-macao-taiwan",
];

/// The sample card with this name, valid today.
pub fn sample_card(name: &str) -> Option<zizhu_drivers::idcard::card::CardData> {
    sample_card_at(name, chrono::Local::now().date_naive())
}

/// The sample card with this name as on `today` (its validity is placed around that day).
pub fn sample_card_at(
    name: &str,
    today: chrono::NaiveDate,
) -> Option<zizhu_drivers::idcard::card::CardData> {
    let all = samples_at(today);
    // The rare-name card is the resident card whose name has a character outside GB 2312.
    let pick = |k: CardKind, rare: bool| {
        all.iter()
            .find(|c| c.kind == k && rare == c.name.contains('㛃'))
            .cloned()
    };
    match name {
        "resident" => pick(CardKind::Resident, false),
        "rare-name" => pick(CardKind::Resident, true),
        "foreign-2017" => pick(CardKind::ForeignPermanent2017, false),
        "foreign-2023" => pick(CardKind::ForeignPermanent2023, false),
        "hk-macao-taiwan" => pick(CardKind::HkMacaoTaiwan, false),
        _ => None,
    }
}

/// A verifier for `--code`: the platform's trust list checked against the pinned roots (the
/// demo roots by default). With `--data-dir` the replay cache is the journal's own (the one the
/// kiosk on that directory uses), so a code accepted once is refused the second time, by this
/// tool or by the kiosk; without it, replay is kept in memory for this one run. Without a usable
/// list, EL1 codes go to the platform, as on the kiosk.
fn code_verifier(
    client: &Client,
    roots: &[String],
    journal: Option<&crate::journal::Journal>,
) -> anyhow::Result<crate::elicense::Verifier> {
    use crate::elicense::{demo, store::MemoryStore, store::SqliteStore, PublicKey, Verifier};
    let roots = if roots.is_empty() {
        demo::roots()?
    } else {
        roots
            .iter()
            .map(|h| {
                PublicKey::from_sec1_hex(h).map_err(|_| {
                    anyhow::Error::new(crate::error::UsageError(format!(
                        "--elicense-root {h:.16}…: not a hex P-256 or SM2 public key"
                    )))
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    let store: Box<dyn crate::elicense::store::Store> = match journal {
        Some(j) => Box::new(
            SqliteStore::attach(j.connect()?)
                .map_err(|e| anyhow::anyhow!("opening the journal's e-licence store: {e}"))?,
        ),
        None => Box::new(MemoryStore::default()),
    };
    let mut v = Verifier::from_store(roots, store)?;
    match client.trust_list(None) {
        Ok(crate::platform::Fetched::Fresh { body, .. }) => {
            if let Err(e) = v.install_trust_list(&body, chrono::Utc::now()) {
                tracing::info!(code = e.code(), "trust list refused: EL1 codes go online");
            }
        }
        Ok(crate::platform::Fetched::NotModified) => {}
        Err(e) => tracing::info!("trust list not downloaded: {e}"),
    }
    Ok(v)
}

fn run_one(a: RunArgs) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::builtin();
    let Some(service) = catalog.service(&a.item) else {
        return usage(format!(
            "unknown service `{}`: list the ids with `zizhu catalog list`",
            a.item
        ));
    };
    let Some(lang) = Lang::parse(&a.lang) else {
        return usage(format!("unknown language `{}`: use zh or en", a.lang));
    };
    if let Err(m) = crate::config::check_url(&a.platform) {
        return usage(format!("--platform: {m}"));
    }
    if let Err(m) = crate::config::check_plain(&a.token) {
        return usage(format!("--token: {m}"));
    }
    let mut given = std::collections::BTreeMap::new();
    for f in &a.fields {
        let Some((k, v)) = f.split_once('=') else {
            return usage(format!("`--field {f}`: use KEY=VALUE"));
        };
        if service.field(k).is_none() {
            let keys: Vec<&str> = service.fields.iter().map(|f| f.key.as_str()).collect();
            return usage(format!(
                "service {} has no field `{k}`; its fields are: {}",
                service.id,
                if keys.is_empty() {
                    "(none)".to_string()
                } else {
                    keys.join(", ")
                }
            ));
        }
        given.insert(k.to_string(), v.to_string());
    }
    if let Some(r) = a.rate {
        if !(1..=5).contains(&r) {
            return usage("`--rate` is 1 to 5 (5 = 非常满意, 1 = 非常不满意)");
        }
    }
    let mut cfg = ClientConfig::new(
        a.platform.trim_end_matches('/'),
        a.token.clone(),
        "flow-cli",
    );
    cfg.timeout = Duration::from_secs(10);
    let client = Client::new(cfg)?;
    let journal = match &a.data_dir {
        Some(dir) => Some(
            crate::journal::Journal::open(dir)
                .map_err(|e| anyhow::anyhow!("opening the journal in {}: {e}", dir.display()))?,
        ),
        None => None,
    };
    let identity = if service.auth == crate::catalog::Auth::None {
        None
    } else if let Some(name) = &a.idcard_sample {
        let Some(card) = sample_card(name) else {
            return usage(format!(
                "unknown sample card `{name}`: use one of {}",
                SAMPLE_CARDS.join(", ")
            ));
        };
        match Identity::from_card(&card, chrono::Local::now().date_naive()) {
            Ok(i) => Some(i),
            Err(e) => return refused(a.json, service, e.message(lang)),
        }
    } else if let Some(n) = &a.id_number {
        match Identity::typed(n) {
            Ok(mut i) => {
                if !a.typed {
                    i.source = Source::IdCard;
                }
                Some(i)
            }
            Err(e) => return usage(format!("--id-number {}: {}", mask(n), e.message(Lang::En))),
        }
    } else if let Some(code) = &a.code {
        let verifier = code_verifier(&client, &a.elicense_roots, journal.as_ref())?;
        match crate::flow::codes::identify(code, Some(&verifier), &client, chrono::Utc::now()) {
            Ok((id, _route)) => Some(id),
            Err(e) => return refused(a.json, service, &e.message(lang)),
        }
    } else {
        return usage(format!(
            "service {} needs identification: give --idcard-sample NAME, --code PAYLOAD or --id-number N",
            service.id
        ));
    };
    if !a.sample {
        if let Some(f) = service
            .fields
            .iter()
            .find(|f| f.required && !given.contains_key(&f.key))
        {
            return usage(format!(
                "field `{}` ({}) is required: give --field {}=VALUE (e.g. {}) or --sample",
                f.key, f.zh, f.key, f.example
            ));
        }
    }
    let opener = |url: &str| crate::platform::demo::open_link(url);
    let script = Script {
        identity,
        fields: given,
        sample: a.sample,
        open_link: &opener,
        wait: Duration::from_secs(a.wait),
        rate: a.rate,
        elicense_consent: !a.decline_elicense,
    };
    let outbox = journal.as_ref().map(|j| j as &dyn crate::flow::Outbox);
    let (flow, transcript) = play(service, lang, script, &client, outbox);
    let mut printed = None;
    if let (Some(path), true) = (&a.print_to, transcript.completed()) {
        let now = chrono::Local::now().format("%Y-%m-%d %H:%M").to_string();
        let bytes = receipt::receipt(&flow, "flow-cli", &now).to_escpos(Mode::Raster)?;
        std::fs::write(path, &bytes)
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
        printed = Some(path.display().to_string());
    }
    flow.end();
    if a.json {
        println!(
            "{}",
            crate::term::json(&json!({
                "service": transcript.service, "completed": transcript.completed(),
                "queued": transcript.queued,
                "reference": transcript.reply.as_ref().map(|r| r.reference.clone()),
                "reply": transcript.reply, "screen": transcript.screen,
                "error": transcript.failed.as_ref().map(|(step, msg)| json!({"step": step, "message": msg})),
                "receipt": printed,
            }))?
        );
    } else {
        // Titles, values and messages come from the platform: through term::safe.
        for l in &transcript.screen {
            println!("{}", crate::term::safe(l));
        }
        if let Some(p) = &printed {
            println!("{} → {p}", Text::ReceiptPrinted.get(lang));
        }
        match &transcript.failed {
            None => println!("{}", Text::DoneTakeCard.get(lang)),
            Some((_, msg)) => println!("{}", crate::term::safe(msg)),
        }
    }
    Ok(if transcript.completed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn refused(json: bool, service: &crate::catalog::Service, msg: &str) -> anyhow::Result<ExitCode> {
    if json {
        println!(
            "{}",
            crate::term::json(
                &json!({"service": service.id, "completed": false, "error": {"step": "identify", "message": msg}})
            )?
        );
    } else {
        println!("{}", crate::term::safe(msg));
    }
    Ok(ExitCode::FAILURE)
}
