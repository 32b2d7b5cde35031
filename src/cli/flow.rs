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
use crate::flow::play::{play_assisted, Assist, Script};
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
    /// An assisted visit (帮办代办): a staff member signs in with this staff code (`ST1:…`, from
    /// `zizhu staff issue-code`) first. Needs --data-dir (the journal remembers used codes and
    /// keeps the audit trail). The helper signs out at the end of the visit.
    #[arg(long, value_name = "CODE")]
    pub staff_code: Option<String>,
    /// With --staff-code: the helper checks the person against the ID card (人工核验) instead of
    /// the phone face check, where the service allows it (catalog `staff_verify`).
    #[arg(long, requires = "staff_code")]
    pub staff_verify: bool,
    /// With --staff-code: rate the helper 1-5 too.
    #[arg(long, value_name = "N", requires = "staff_code")]
    pub rate_helper: Option<u8>,
    /// The site this run stands for (a staff code must be for it); default the simulated kiosk's.
    #[arg(long, default_value = crate::config::DEFAULT_SITE)]
    pub site: String,
    /// The kiosk id this run sends under (a staff code bound to a kiosk must name it).
    #[arg(long, value_name = "ID", default_value = "flow-cli")]
    pub kiosk_id: String,
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
    if let Some(r) = a.rate_helper {
        if !(1..=5).contains(&r) {
            return usage("`--rate-helper` is 1 to 5 (5 = 非常满意, 1 = 非常不满意)");
        }
    }
    if a.staff_code.is_some() && a.data_dir.is_none() {
        return usage(
            "--staff-code needs --data-dir: the journal remembers used staff codes and keeps the audit trail",
        );
    }
    if a.staff_verify && !service.staff_verify {
        return usage(format!(
            "service {} does not take a staff check (人工核验): its catalog entry has no `staff_verify = true`",
            service.id
        ));
    }
    if let Err(m) = crate::config::check_plain(&a.kiosk_id) {
        return usage(format!("--kiosk-id: {m}"));
    }
    let mut cfg = ClientConfig::new(
        a.platform.trim_end_matches('/'),
        a.token.clone(),
        a.kiosk_id.clone(),
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
    // The helper signs in before the citizen's visit begins.
    let helper = match (&a.staff_code, journal.as_ref()) {
        (Some(code), Some(j)) => {
            let verifier = code_verifier(&client, &a.elicense_roots, Some(j))?;
            let keys = crate::staff::keys_of(verifier.trust());
            let binding = crate::staff::Binding {
                site: a.site.clone(),
                kiosk_id: a.kiosk_id.clone(),
            };
            let now = chrono::Utc::now().timestamp();
            match crate::staff::sign_in(code, &keys, &binding, now, j) {
                Ok(h) => Some(h),
                Err(crate::staff::StaffError::Storage(m)) => {
                    anyhow::bail!("recording the staff sign-in: {m}")
                }
                Err(e) => return staff_refused(a.json, service, &e, lang),
            }
        }
        _ => None,
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
    let assist = Assist {
        helper: helper.clone(),
        staff_verify: a.staff_verify,
        rate_helper: a.rate_helper,
    };
    let (flow, transcript) = play_assisted(service, lang, script, assist, &client, outbox);
    if let (Some(h), Some(j)) = (helper, journal.as_ref()) {
        h.sign_out(j, crate::staff::SignOut::EndOfVisit);
    }
    let mut printed = None;
    if let (Some(path), true) = (&a.print_to, transcript.completed()) {
        let now = chrono::Local::now().format("%Y-%m-%d %H:%M").to_string();
        let bytes = receipt::receipt(&flow, "flow-cli", &now).to_escpos(Mode::Raster)?;
        std::fs::write(path, &bytes)
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
        printed = Some(path.display().to_string());
    }
    let flow_staff = flow.helper().map(|h| h.staff_id.clone());
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
                "staff_id": flow_staff,
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

fn staff_refused(
    json: bool,
    service: &crate::catalog::Service,
    e: &crate::staff::StaffError,
    lang: Lang,
) -> anyhow::Result<ExitCode> {
    if json {
        println!(
            "{}",
            crate::term::json(&json!({
                "service": service.id, "completed": false,
                "error": {"step": "staff-sign-in", "refused": e.kind(), "message": e.message(lang)},
            }))?
        );
    } else {
        println!("{} ({})", e.message(lang), e.kind());
    }
    // A code that does not even read is bad input; a readable one refused is a failed sign-in.
    Ok(if matches!(e, crate::staff::StaffError::Malformed(_)) {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    })
}
