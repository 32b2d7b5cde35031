//! Every catalog service end to end: the flow engine against the demo platform on loopback, then
//! `zizhu flow run` as a technician would use it.
use std::time::Duration;

use zizhu::catalog::{Catalog, Lang};
use zizhu::flow::play::{play, Script};
use zizhu::flow::Identity;
use zizhu::platform::{demo, Client, ClientConfig};

use crate::util;

/// A valid synthetic ID number (GB 11643 check character computed).
const ID: &str = "44140219800101001";

fn id_number() -> String {
    zizhu_drivers::idcard::card::with_check_char(ID)
}

#[test]
fn every_catalog_service_completes_against_the_demo_platform() {
    let platform = demo::spawn("127.0.0.1:0".parse().unwrap(), None).expect("demo platform");
    let client = Client::new(ClientConfig::new(platform.url(), "test-token", "TEST-1")).unwrap();
    let mut failed = Vec::new();
    let mut completed = 0;
    for (i, service) in Catalog::builtin().services().iter().enumerate() {
        let lang = if i % 2 == 0 { Lang::Zh } else { Lang::En };
        let mut identity = Identity::typed(&id_number()).unwrap();
        identity.source = zizhu::flow::Source::IdCard;
        let script = Script {
            identity: Some(identity),
            fields: Default::default(),
            sample: true,
            open_link: &util::phone,
            wait: Duration::from_secs(20),
            rate: Some(5),
            elicense_consent: true,
        };
        let (flow, t) = play(service, lang, script, &client, None);
        if t.completed() {
            completed += 1;
            let reply = t.reply.as_ref().expect("a completed service has a reply");
            assert!(!reply.reference.is_empty(), "{}: no reference", service.id);
            assert!(flow.identity().is_some() || service.auth == zizhu::catalog::Auth::None);
        } else {
            failed.push(format!("{} ({:?})", service.id, t.failed));
        }
        flow.end();
    }
    assert!(
        failed.is_empty(),
        "services that did not complete: {failed:#?}"
    );
    assert_eq!(completed, Catalog::builtin().services().len());
}

#[test]
fn flow_run_cli_query_print_and_bad_usage() {
    let platform = demo::spawn("127.0.0.1:0".parse().unwrap(), None).expect("demo platform");
    let dir = tempfile::tempdir().unwrap();
    let receipt = dir.path().join("r.bin");
    let id = id_number();
    let o = util::zizhu(dir.path())
        .args([
            "flow",
            "run",
            "--item",
            "ss-contrib-detail-print",
            "--platform",
            &platform.url(),
            "--id-number",
            &id,
            "--sample",
            "--json",
            "--print-to",
        ])
        .arg(&receipt)
        .output()
        .unwrap();
    assert_eq!(
        util::code(&o),
        0,
        "{}\n{}",
        util::stdout(&o),
        util::stderr(&o)
    );
    let v: serde_json::Value = serde_json::from_str(&util::stdout(&o)).unwrap();
    assert_eq!(v["completed"], true);
    assert!(v["reference"].as_str().is_some_and(|r| !r.is_empty()));
    let bytes = std::fs::read(&receipt).unwrap();
    assert!(bytes.starts_with(&[0x1b, 0x40]), "ESC @ first");
    assert!(
        bytes.windows(3).any(|w| w == [0x1d, 0x76, 0x30]),
        "raster GS v 0"
    );
    // The full ID number never appears in what the citizen or a log sees.
    assert!(!util::stdout(&o).contains(&id));
    assert!(!util::stderr(&o).contains(&id));

    // Unknown service: exit 2 naming how to find ids.
    let o = util::run(&[
        "flow",
        "run",
        "--item",
        "nope",
        "--platform",
        &platform.url(),
        "--id-number",
        &id,
    ]);
    assert_eq!(util::code(&o), 2);
    assert!(util::stderr(&o).contains("zizhu catalog list"));
    // A malformed field value: exit 1 with the field named in plain words.
    let o = util::run(&[
        "flow",
        "run",
        "--item",
        "ss-contrib-detail-print",
        "--platform",
        &platform.url(),
        "--id-number",
        &id,
        "--sample",
        "--field",
        "months=2025-13..2025-01",
    ]);
    assert_eq!(util::code(&o), 1, "{}", util::stdout(&o));
    assert!(
        util::stdout(&o).contains("查询月份"),
        "{}",
        util::stdout(&o)
    );
    // A missing required field without --sample: exit 2 naming it.
    let o = util::run(&[
        "flow",
        "run",
        "--item",
        "ss-contrib-detail-print",
        "--platform",
        &platform.url(),
        "--id-number",
        &id,
    ]);
    assert_eq!(util::code(&o), 2);
    assert!(util::stderr(&o).contains("months"));
}

#[test]
fn typed_number_only_where_the_service_allows_it() {
    let platform = demo::spawn("127.0.0.1:0".parse().unwrap(), None).expect("demo platform");
    let id = id_number();
    let c = Catalog::builtin();
    let proxy = c
        .services()
        .iter()
        .find(|s| s.proxy)
        .expect("a 代他人 service");
    let own = c
        .services()
        .iter()
        .find(|s| !s.proxy && s.auth != zizhu::catalog::Auth::None)
        .unwrap();
    let ok = util::run(&[
        "flow",
        "run",
        "--item",
        &proxy.id,
        "--platform",
        &platform.url(),
        "--id-number",
        &id,
        "--typed",
        "--sample",
    ]);
    assert_eq!(
        util::code(&ok),
        0,
        "{}{}",
        util::stdout(&ok),
        util::stderr(&ok)
    );
    let refused = util::run(&[
        "flow",
        "run",
        "--item",
        &own.id,
        "--platform",
        &platform.url(),
        "--id-number",
        &id,
        "--typed",
        "--sample",
    ]);
    assert_eq!(util::code(&refused), 1);
    assert!(
        util::stdout(&refused).contains("本人"),
        "{}",
        util::stdout(&refused)
    );
}

#[test]
fn an_expired_card_is_refused_with_a_plain_message() {
    // The sample cards are valid around today; the HK/Macao/Taiwan permit (a 5-year term) has
    // expired ten years from now.
    let today = chrono::Local::now().date_naive();
    let card = zizhu::cli::flow::sample_card_at("hk-macao-taiwan", today).unwrap();
    let later = today + chrono::Days::new(10 * 366);
    let e = Identity::from_card(&card, later).unwrap_err();
    assert!(
        e.message(Lang::En).contains("expired"),
        "{}",
        e.message(Lang::En)
    );
}

fn demo_client() -> (demo::DemoHandle, Client) {
    let platform = demo::spawn("127.0.0.1:0".parse().unwrap(), None).expect("demo platform");
    let client = Client::new(ClientConfig::new(platform.url(), "test-token", "TEST-1")).unwrap();
    (platform, client)
}

/// A citizen identified by an identity code from the phone (the phone app did the face check,
/// so the flow goes straight on).
fn checked_identity(client: &Client) -> Identity {
    let token = client
        .subject(&zizhu::platform::api::SubjectRequest {
            id_number: id_number(),
            kind: zizhu::platform::api::SubjectKind::Code,
        })
        .unwrap();
    Identity::from_code(token.id_masked, None, Some(token.subject_token))
}

#[test]
fn appointment_books_the_chosen_slot() {
    use zizhu::flow::{Flow, FlowError, Step};
    let (_platform, client) = demo_client();
    let service = Catalog::builtin().service("hf-appointment").unwrap();
    let mut flow = Flow::new(service, Lang::En);
    assert_eq!(
        flow.identify(checked_identity(&client), &client).unwrap(),
        Step::Form
    );
    flow.set_field("office", "district").unwrap();
    flow.set_field("phone", "13800138000").unwrap();
    assert_eq!(flow.finish_form().unwrap(), Step::Slot);
    // A slot that is not listed is refused, and nothing moves.
    assert!(matches!(flow.choose_slot("nope"), Err(FlowError::SlotGone)));
    // Pick the last free time of the first day that has one: not what a default would give.
    let today = chrono::Local::now().date_naive();
    let mut chosen = None;
    for day in Flow::slot_days(today, 10) {
        flow.load_slots(&client, &day.format("%Y-%m-%d").to_string())
            .unwrap();
        assert!(flow.slots().iter().all(|s| s.office == "district"));
        if let Some(s) = flow.slots().iter().rev().find(|s| s.available) {
            chosen = Some(s.clone());
            break;
        }
    }
    let chosen = chosen.expect("a free slot within ten working days");
    // A taken time cannot be chosen.
    if let Some(taken) = flow.slots().iter().find(|s| !s.available).cloned() {
        assert!(matches!(
            flow.choose_slot(&taken.slot_id),
            Err(FlowError::SlotGone)
        ));
    }
    assert_eq!(flow.choose_slot(&chosen.slot_id).unwrap(), Step::Confirm);
    // Back to the times and forward again.
    assert_eq!(flow.back().unwrap(), Step::Slot);
    assert!(flow.chosen_slot().is_none());
    assert_eq!(flow.choose_slot(&chosen.slot_id).unwrap(), Step::Confirm);
    assert_eq!(flow.confirm(&client, None).unwrap(), Step::Result);
    let reply = flow.reply().unwrap();
    let time = reply
        .items
        .iter()
        .find(|i| i.label_en == "Time")
        .expect("booking time");
    assert!(
        time.value.starts_with(&chosen.start),
        "{} vs {}",
        time.value,
        chosen.start
    );
    flow.end();
}

#[test]
fn back_from_confirm_asks_for_the_commitment_again() {
    use zizhu::flow::{Flow, FlowError, Step};
    let (_platform, client) = demo_client();
    let service = Catalog::builtin()
        .services()
        .iter()
        .find(|s| {
            s.commitment
                && !s.fields.is_empty()
                && s.elicense.is_empty()
                && s.output == zizhu::catalog::Output::Submit
        })
        .expect("a submit service with a form and a commitment");
    let mut flow = Flow::new(service, Lang::Zh);
    flow.identify(checked_identity(&client), &client).unwrap();
    for f in &service.fields {
        flow.set_field(&f.key, &f.example).unwrap();
    }
    assert_eq!(flow.finish_form().unwrap(), Step::Commitment);
    assert_eq!(flow.back().unwrap(), Step::Form, "{}", service.id);
    assert_eq!(flow.finish_form().unwrap(), Step::Commitment);
    assert_eq!(flow.commit(true).unwrap(), Step::Confirm);
    assert_eq!(flow.back().unwrap(), Step::Commitment);
    // Confirming is not possible until the commitment is accepted again.
    assert!(matches!(
        flow.confirm(&client, None),
        Err(FlowError::WrongStep(Step::Commitment))
    ));
    assert!(matches!(flow.commit(false), Err(FlowError::NoConsent)));
    assert_eq!(flow.commit(true).unwrap(), Step::Confirm);
    assert_eq!(flow.confirm(&client, None).unwrap(), Step::Result);
    // The form cannot be left backwards into identification.
    flow.done_with_result().unwrap();
    assert!(flow.back().is_err());
    flow.end();
}

/// An identity presentation as the platform signs it when the citizen taps 亮证: holder masked,
/// the platform's subject token disclosed.
fn identity_presentation(subject_token: &str, iat: i64) -> String {
    use zizhu::elicense::{self, claims::Field, lid, types, Alg, Licence, PresentationClaims};
    let lt = types::IDENTITY_CARD.code;
    let mut licence = Licence::default();
    licence.licence_type = lt.into();
    licence.identifier =
        lid::build(lt, "11440100MB2C00001X", "G441402198001010011", "001").unwrap();
    licence.holder_name = Some("黄*明".into());
    licence.holder_id = Some(zizhu_drivers::privacy::mask(&id_number()));
    if !subject_token.is_empty() {
        licence.disclosed = vec![Field {
            name: "subject_token".into(),
            value: subject_token.into(),
        }];
    }
    let issuer = elicense::demo::issuer(Alg::Es256).unwrap();
    elicense::issue_presentation(
        &issuer,
        &PresentationClaims {
            licence,
            iat,
            ttl: 300,
            aud: None,
            cti: None,
        },
    )
    .unwrap()
}

#[test]
fn el1_identity_presentation_identifies_offline_once() {
    use zizhu::flow::codes::{self, CodeError, Route};
    use zizhu::flow::{Flow, Step};
    let (_platform, client) = demo_client();
    let token = client
        .subject(&zizhu::platform::api::SubjectRequest {
            id_number: id_number(),
            kind: zizhu::platform::api::SubjectKind::Code,
        })
        .unwrap()
        .subject_token;
    let now = chrono::Utc::now();
    let code = identity_presentation(&token, now.timestamp());
    let verifier = util::demo_verifier();
    let (identity, route) = codes::identify(&code, Some(&verifier), &client, now).unwrap();
    assert_eq!(route, Route::Offline);
    assert_eq!(identity.subject_token.as_deref(), Some(token.as_str()));
    assert!(
        !identity.id_number.contains("19800101"),
        "masked: {identity:?}"
    );
    // The platform accepts the token: a query service completes for this citizen.
    let service = Catalog::builtin()
        .services()
        .iter()
        .find(|s| {
            s.output == zizhu::catalog::Output::Screen
                && s.fields.is_empty()
                && s.elicense.is_empty()
                && s.auth != zizhu::catalog::Auth::None
        })
        .unwrap();
    let mut flow = Flow::new(service, Lang::Zh);
    assert_eq!(flow.identify(identity, &client).unwrap(), Step::Confirm);
    assert_eq!(
        flow.confirm(&client, None).unwrap(),
        Step::Result,
        "{}",
        service.id
    );
    flow.end();
    // The same code again is a replay.
    let again = codes::identify(&code, Some(&verifier), &client, now).unwrap_err();
    assert_eq!(again.code(), "elicense.replayed");
    assert!(again.message(Lang::Zh).chars().any(|c| c > '\u{2e80}'));
    // A presentation without the token, or of another licence, does not identify.
    let other = util::demo_verifier(); // a fresh replay cache
    let no_token = identity_presentation("", now.timestamp());
    assert!(matches!(
        codes::identify(&no_token, Some(&other), &client, now),
        Err(CodeError::NoSubject)
    ));
    // Garbage from the scanner is a plain refusal from the platform, never a panic.
    let e = codes::identify("https://example.com/pay?x=1", Some(&other), &client, now).unwrap_err();
    assert!(!e.message(Lang::En).is_empty());
}

#[test]
fn flow_run_cli_with_an_el1_code_verified_offline_and_licences_declined() {
    let now = chrono::Utc::now().timestamp();
    let platform = demo::spawn_with(
        "127.0.0.1:0".parse().unwrap(),
        demo::DemoOptions {
            trust_list: Some(zizhu::elicense::demo::trust_list(1, now - 60, 86_400).unwrap()),
            ..Default::default()
        },
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let code = |dir: &std::path::Path| {
        let o = util::zizhu(dir)
            .args([
                "elicense",
                "demo-code",
                "--id-number",
                &id_number(),
                "--platform",
            ])
            .arg(platform.url())
            .output()
            .unwrap();
        assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
        util::stdout(&o).lines().next().unwrap().trim().to_string()
    };
    let run = |code: &str, extra: &[&str]| {
        util::zizhu(dir.path())
            .args([
                "flow",
                "run",
                "--item",
                "ss-card-apply",
                "--sample",
                "--json",
                "--platform",
            ])
            .arg(platform.url())
            .args(["--code", code])
            .args(extra)
            .output()
            .unwrap()
    };
    let c = code(dir.path());
    assert!(c.starts_with("EL1:"), "{c}");
    let o = run(&c, &[]);
    assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
    let err = util::stderr(&o);
    assert!(!err.contains("offline verification off"), "{err}");
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let screen = doc["screen"].to_string();
    assert!(
        screen.contains("社会保障卡"),
        "the offered e-licence is shown: {screen}"
    );
    assert!(
        !screen.contains(&id_number()),
        "full number on screen: {screen}"
    );
    // The same code twice is a replay only inside one kiosk; a fresh code with the e-licences
    // declined stops with the plain message and exit 1.
    let o = run(&code(dir.path()), &["--decline-elicense"]);
    assert_eq!(util::code(&o), 1, "{}", util::stdout(&o));
    assert!(
        util::stdout(&o).contains("纸质材料"),
        "{}",
        util::stdout(&o)
    );
}
