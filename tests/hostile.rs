//! A hostile platform (issue 10): every platform call of every kind of visit — query, print,
//! submit, pay, appointment, e-licences, identity code — goes through the proxy of
//! tests/util/proxy.rs, which forwards it and then drops the answer, answers garbage, a 5xx,
//! slowly, truncated or 9 MiB long. After each visit the outbox drains (against the platform
//! itself), and the invariant is checked: one visit leads to at most one application at the
//! platform, and what the citizen was told matches what the platform finally holds.
use std::collections::BTreeSet;
use std::time::Duration;

use zizhu::catalog::{Auth, Catalog, Lang, Output, Service};
use zizhu::flow::play::{play, Script, Transcript};
use zizhu::flow::{Identity, Source};
use zizhu::journal::{self, Journal};
use zizhu::platform::{demo, Client, ClientConfig};

use crate::util::proxy::{Fault, Proxy, AFTER_FORWARD};

fn id_number() -> String {
    zizhu_drivers::idcard::card::with_check_char("44140219800101001")
}

/// The kinds of visit, each with the service it plays and how the citizen identifies.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Query,
    Print,
    Submit,
    Pay,
    Appointment,
    Licences,
    IdentityCode,
}

const KINDS: [Kind; 7] = [
    Kind::Query,
    Kind::Print,
    Kind::Submit,
    Kind::Pay,
    Kind::Appointment,
    Kind::Licences,
    Kind::IdentityCode,
];

fn service(kind: Kind) -> &'static Service {
    let plain = |s: &&Service| {
        matches!(s.auth, Auth::IdCard | Auth::Any) && s.elicense.is_empty() && !s.commitment
    };
    let all = Catalog::builtin().services();
    let found = match kind {
        Kind::Query => all
            .iter()
            .filter(plain)
            .find(|s| s.output == Output::Screen),
        Kind::Print => all.iter().filter(plain).find(|s| s.output == Output::Print),
        Kind::Submit | Kind::IdentityCode => all
            .iter()
            .filter(|s| matches!(s.auth, Auth::IdCard | Auth::Any) && s.elicense.is_empty())
            .find(|s| s.output == Output::Submit),
        Kind::Pay => all
            .iter()
            .filter(|s| matches!(s.auth, Auth::IdCard | Auth::Any) && s.elicense.is_empty())
            .find(|s| s.output == Output::Pay),
        // Every appointment service asks for a face check on the phone: its calls are covered.
        Kind::Appointment => all
            .iter()
            .filter(|s| s.auth != Auth::None)
            .find(|s| s.output == Output::Appointment),
        Kind::Licences => all
            .iter()
            .filter(|s| s.auth != Auth::None && s.auth != Auth::ELicense)
            .find(|s| !s.elicense.is_empty() && s.output == Output::Submit),
    };
    found.unwrap_or_else(|| panic!("no service for {kind:?}"))
}

/// Whether a visit of this kind files something at the platform that the citizen must be told
/// about (an application, a booking, a payment).
fn files(kind: Kind) -> bool {
    matches!(
        service(kind).output,
        Output::Submit | Output::Appointment | Output::Pay
    )
}

struct Visit {
    transcript: Transcript,
    told_reference: Option<String>,
}

fn client_for(url: &str) -> Client {
    let mut cfg = ClientConfig::new(url, "t", "HOSTILE-1");
    cfg.timeout = Duration::from_millis(1000);
    cfg.attempts = 3;
    cfg.backoff = Duration::from_millis(20);
    Client::new(cfg).unwrap()
}

fn visit(kind: Kind, client: &Client, journal: &Journal) -> Visit {
    let service = service(kind);
    let identity = if kind == Kind::IdentityCode {
        match zizhu::flow::codes::identify(
            &format!("YSS:{}", id_number()),
            None,
            client,
            chrono::Utc::now(),
        ) {
            Ok((i, _)) => Some(i),
            Err(e) => {
                // Told the code cannot be checked: nothing was filed.
                let transcript = Transcript {
                    service: service.id.clone(),
                    screen: vec![e.message(Lang::Zh)],
                    reply: None,
                    queued: false,
                    failed: Some(("identify".into(), e.message(Lang::Zh))),
                };
                return Visit {
                    transcript,
                    told_reference: None,
                };
            }
        }
    } else {
        let mut who = Identity::typed(&id_number()).unwrap();
        who.source = Source::IdCard;
        Some(who)
    };
    let open = |url: &str| demo::open_link(url);
    let script = Script {
        identity,
        fields: Default::default(),
        sample: true,
        open_link: &open,
        wait: Duration::from_secs(8),
        rate: Some(5),
        elicense_consent: true,
    };
    let (flow, transcript) = play(service, Lang::Zh, script, client, Some(journal));
    let told_reference = transcript
        .reply
        .as_ref()
        .map(|r| r.request_id.clone())
        .or_else(|| transcript.queued.then(|| flow.local_reference()));
    flow.end();
    Visit {
        transcript,
        told_reference,
    }
}

/// Drains the outbox against the platform itself (no faults), as the kiosk does later.
fn drain(journal: &Journal, platform_url: &str) {
    let direct = client_for(platform_url);
    let cfg = journal::drain::DrainConfig::default();
    let later = journal::now_ms() + journal::flow::ONLINE_GRACE_MS + 1;
    for i in 0..5 {
        journal::drain::drain_once(journal, &direct, &cfg, later + i * 400_000).unwrap();
    }
    assert_eq!(
        journal.counts().unwrap().backlog(),
        0,
        "the outbox did not drain"
    );
}

/// The invariant, for one visit that ended as `v`.
fn check(
    kind: Kind,
    fault: Option<(&str, Fault)>,
    d: &demo::DemoHandle,
    v: &Visit,
) -> Result<(), String> {
    let t = &v.transcript;
    let at_platform = d.state().count("requests");
    let paid = d.state().count("paid");
    let case = format!(
        "{kind:?} with {fault:?}: told {:?} (queued {})",
        t.failed, t.queued
    );
    if at_platform > 1 {
        return Err(format!(
            "{case}: {at_platform} requests at the platform for one visit"
        ));
    }
    if paid > 1 {
        return Err(format!("{case}: {paid} payments for one visit"));
    }
    match (t.completed(), files(kind)) {
        // Told it is done (or saved): the platform holds it.
        (true, true) if kind == Kind::Pay => {
            if paid != 1 {
                return Err(format!(
                    "{case}: told paid, but the platform holds {paid} payments"
                ));
            }
        }
        (true, true) => {
            if at_platform != 1 {
                return Err(format!(
                    "{case}: told done/saved ({:?}), but the platform holds {at_platform}",
                    v.told_reference
                ));
            }
        }
        (true, false) => {}
        // Told it failed: nothing may have been filed behind the citizen's back.
        (false, true) if kind == Kind::Pay => {
            if paid != 0 {
                return Err(format!(
                    "{case}: told it failed, but a payment went through"
                ));
            }
        }
        (false, true) => {
            if at_platform != 0 {
                return Err(format!(
                    "{case}: told it failed, but the platform holds {at_platform} application(s)"
                ));
            }
        }
        (false, false) => {}
    }
    // Only a failure known to have created nothing may ask the citizen to start again: an
    // application or booking whose answer was lost is saved, not failed.
    if matches!(service(kind).output, Output::Submit | Output::Appointment)
        && fault.is_some_and(|(call, _)| call == "/requests")
        && !t.completed()
    {
        return Err(format!(
            "{case}: an unanswered application must be saved, not failed"
        ));
    }
    Ok(())
}

/// A clean visit of `kind` through the proxy: the calls it makes.
fn calls(kind: Kind) -> Vec<String> {
    let d = demo::spawn("127.0.0.1:0".parse().unwrap(), None).unwrap();
    let proxy = Proxy::spawn(d.addr());
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(dir.path()).unwrap();
    let v = visit(kind, &client_for(&proxy.url()), &journal);
    assert!(
        v.transcript.completed(),
        "{kind:?} without faults: {:?}",
        v.transcript.failed
    );
    drain(&journal, &d.url());
    check(kind, None, &d, &v).unwrap();
    let mut seen = BTreeSet::new();
    proxy
        .seen()
        .into_iter()
        .filter(|c| seen.insert(c.clone()))
        .collect()
}

fn run_kind(kind: Kind) {
    let calls = calls(kind);
    assert!(
        calls.iter().any(|c| c == "/requests") || kind == Kind::IdentityCode && !calls.is_empty(),
        "{kind:?}: {calls:?}"
    );
    let mut problems = Vec::new();
    let mut cases = 0;
    for call in &calls {
        for fault in AFTER_FORWARD {
            let d = demo::spawn("127.0.0.1:0".parse().unwrap(), None).unwrap();
            let proxy = Proxy::spawn(d.addr());
            proxy.fault(call, fault, 1);
            let dir = tempfile::tempdir().unwrap();
            let journal = Journal::open(dir.path()).unwrap();
            let v = visit(kind, &client_for(&proxy.url()), &journal);
            drain(&journal, &d.url());
            assert_eq!(
                proxy.faults_done(),
                1,
                "{kind:?}: {call} never came with {fault:?}"
            );
            if let Err(e) = check(kind, Some((call, fault)), &d, &v) {
                problems.push(e);
            }
            cases += 1;
        }
    }
    assert!(cases >= AFTER_FORWARD.len());
    assert!(
        problems.is_empty(),
        "{} of {cases} cases broke the invariant:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn hostile_platform_query() {
    run_kind(Kind::Query);
}

#[test]
fn hostile_platform_print() {
    run_kind(Kind::Print);
}

#[test]
fn hostile_platform_submit() {
    run_kind(Kind::Submit);
}

#[test]
fn hostile_platform_pay() {
    run_kind(Kind::Pay);
}

#[test]
fn hostile_platform_appointment() {
    run_kind(Kind::Appointment);
}

#[test]
fn hostile_platform_licences() {
    run_kind(Kind::Licences);
}

#[test]
fn hostile_platform_identity_code() {
    run_kind(Kind::IdentityCode);
}

/// All kinds are covered by the tests above.
#[test]
fn every_kind_has_a_service() {
    for k in KINDS {
        let _ = service(k);
    }
}
