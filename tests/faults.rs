//! Fault tests of issue 4: the platform down during a submit (queued, a reference, delivered
//! exactly once when it returns) and the kiosk killed with SIGKILL between the journal write and
//! the send (after a restart the outbox drains and the platform holds exactly one copy).
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use zizhu::catalog::{Auth, Catalog, Lang, Output, Service};
use zizhu::flow::play::{play, Script};
use zizhu::flow::{Identity, Source};
use zizhu::journal::{self, Journal};
use zizhu::platform::api::Faults;
use zizhu::platform::{demo, Client, ClientConfig};

use crate::util;

fn id_number() -> String {
    zizhu_drivers::idcard::card::with_check_char("44140219800101001")
}

/// A submit service that needs no face check and takes no e-licences (so the platform is first
/// called at the submit).
fn submit_service() -> &'static Service {
    Catalog::builtin()
        .services()
        .iter()
        .find(|s| {
            s.output == Output::Submit
                && s.auth != Auth::IdCardFace
                && s.auth != Auth::None
                && s.elicense.is_empty()
        })
        .expect("a submit service without face check")
}

fn no_link(_: &str) -> anyhow::Result<()> {
    Ok(())
}

#[test]
fn platform_down_during_a_submit_queues_it_and_delivers_it_once() {
    let d = demo::spawn("127.0.0.1:0".parse().unwrap(), None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(dir.path()).unwrap();
    let mut cfg = ClientConfig::new(d.url(), "t", "FAULT-1");
    cfg.attempts = 1;
    cfg.timeout = Duration::from_secs(2);
    let client = Client::new(cfg).unwrap();
    let service = submit_service();

    d.state().set_faults(Faults {
        down: true,
        ..Faults::default()
    });
    let mut who = Identity::typed(&id_number()).unwrap();
    who.source = Source::IdCard;
    let script = Script {
        identity: Some(who),
        fields: Default::default(),
        sample: true,
        open_link: &no_link,
        wait: Duration::from_secs(5),
        rate: None,
        elicense_consent: true,
    };
    let (flow, t) = play(service, Lang::Zh, script, &client, Some(&journal));
    let reference = flow.local_reference();
    flow.end();
    assert!(t.completed(), "{:?}", t.failed);
    assert!(t.queued, "the citizen is told it is queued");
    assert!(
        t.screen.iter().any(|l| l.contains(&reference)),
        "{:#?}",
        t.screen
    );
    assert_eq!(
        d.state().count("requests"),
        0,
        "nothing reached the platform yet"
    );
    assert_eq!(journal.counts().unwrap().backlog(), 1);

    // The platform comes back: the drain delivers it, once.
    d.state().set_faults(Faults::default());
    let later = journal::now_ms() + journal::flow::ONLINE_GRACE_MS + 1;
    let cfg = journal::drain::DrainConfig::default();
    let r = journal::drain::drain_once(&journal, &client, &cfg, later).unwrap();
    assert_eq!(r.delivered, 1, "{r:?}");
    let r = journal::drain::drain_once(&journal, &client, &cfg, later + 1).unwrap();
    assert_eq!(r.delivered, 0);
    assert_eq!(
        d.state().count("requests"),
        1,
        "exactly one copy at the platform"
    );
    assert_eq!(journal.counts().unwrap().backlog(), 0);
    // The database file never holds the full ID number.
    let raw = std::fs::read(journal.path()).unwrap();
    let id = id_number();
    assert!(!raw.windows(id.len()).any(|w| w == id.as_bytes()));
}

#[test]
fn sigkill_between_journal_write_and_send_then_restart_delivers_exactly_once() {
    let d = demo::spawn("127.0.0.1:0".parse().unwrap(), None).unwrap();
    // Every platform call takes 4 s: the kiosk is killed while its first call is in flight,
    // after the journal write.
    d.state().set_faults(Faults {
        latency_ms: 4000,
        ..Faults::default()
    });
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("kiosk-data");
    let service = submit_service();
    let id = id_number();
    let mut child = util::zizhu(home.path())
        .args([
            "flow",
            "run",
            "--item",
            &service.id,
            "--platform",
            &d.url(),
            "--id-number",
            &id,
            "--sample",
            "--data-dir",
        ])
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        let queued = Journal::open(&data)
            .ok()
            .and_then(|j| j.counts().ok())
            .map(|c| c.backlog())
            .unwrap_or(0);
        if queued == 1 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the journal write never happened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    d.state().set_faults(Faults::default());

    // Restart: the kiosk runtime on the same data directory drains the outbox.
    let config = home.path().join("kiosk.toml");
    std::fs::write(
        &config,
        format!(
            "[kiosk]\nid = \"KILL-1\"\n[platform]\nurl = \"{}\"\n[data]\ndir = \"{}\"\n[status]\nlisten = \"127.0.0.1:0\"\ntoken = \"0123456789abcdef0123\"\n",
            d.url(),
            data.display()
        ),
    )
    .unwrap();
    let mut kiosk = util::zizhu(home.path())
        .args(["run", "--headless", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(kiosk.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("status: http://"), "{first}");
    let start = Instant::now();
    let delivered = loop {
        let backlog = Journal::open(&data).unwrap().counts().unwrap().backlog();
        if backlog == 0 {
            break true;
        }
        if start.elapsed() > Duration::from_secs(120) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    sigterm(&mut kiosk);
    assert!(delivered, "the outbox did not drain after the restart");
    assert_eq!(
        d.state().count("requests"),
        1,
        "exactly one copy at the platform"
    );
}

/// Stops the kiosk as systemd does (SIGTERM) and waits for it.
fn sigterm(child: &mut std::process::Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// 呼叫帮助 while the platform is down: the help request is kept in the journal (across a
/// restart), an answer lost on the way back is retried under the same key, and the platform
/// holds exactly one request; staff acknowledging it is then what the kiosk sees.
#[test]
fn help_request_through_an_outage_and_a_lost_answer_is_delivered_exactly_once() {
    use std::sync::Arc;
    use zizhu::help::{HelpDesk, Progress};
    use zizhu::platform::api::{HelpRequest, HelpState};
    let d = demo::spawn("127.0.0.1:0".parse().unwrap(), None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = ClientConfig::new(d.url(), "t", "HELP-1");
    cfg.attempts = 1;
    cfg.timeout = Duration::from_secs(2);
    let client = Arc::new(Client::new(cfg).unwrap());
    d.state().set_faults(Faults {
        down: true,
        ..Faults::default()
    });
    let raised = {
        let journal = Arc::new(Journal::open(dir.path()).unwrap());
        let desk = HelpDesk::new(journal.clone(), client.clone(), "HELP-1");
        let raised = desk
            .raise(HelpRequest {
                site: "梅江区邮政支局".into(),
                screen: "payment".into(),
                service_id: Some("mi-resident-pay".into()),
                visit_seconds: 95,
                last_error: None,
            })
            .unwrap();
        assert!(!raised.delivered);
        assert_eq!(desk.progress(&raised).unwrap(), Progress::Queued);
        assert_eq!(journal.counts().unwrap().backlog(), 1);
        raised
    };
    assert_eq!(d.state().count("help"), 0);

    // The kiosk restarts; the platform answers but the answer is lost on the way back.
    let journal = Arc::new(Journal::open(dir.path()).unwrap());
    assert_eq!(
        journal.counts().unwrap().backlog(),
        1,
        "kept across a restart"
    );
    d.state().set_faults(Faults {
        drop: true,
        ..Faults::default()
    });
    let drain = journal::drain::DrainConfig::default();
    let later = journal::now_ms() + 3_600_000;
    let r = journal::drain::drain_once(&journal, client.as_ref(), &drain, later).unwrap();
    assert_eq!(r.deferred, 1, "{r:?}");
    assert_eq!(d.state().count("help"), 1, "carried out, answer lost");

    // Back to normal: the retry is answered from the first call, nothing new is raised.
    d.state().set_faults(Faults::default());
    let r = journal::drain::drain_once(&journal, client.as_ref(), &drain, later * 2).unwrap();
    assert_eq!(r.delivered, 1, "{r:?}");
    let r = journal::drain::drain_once(&journal, client.as_ref(), &drain, later * 2 + 1).unwrap();
    assert_eq!(r, journal::drain::DrainReport::default());
    assert_eq!(d.state().count("help"), 1, "exactly one help request");
    let open = client.help_list(true).unwrap().requests;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].kiosk_id, "HELP-1");
    assert_eq!(open[0].request.screen, "payment");
    assert_eq!(open[0].request.visit_seconds, 95);

    // Staff take it; the kiosk's question now says so, and a late cancel does not undo it.
    let desk = HelpDesk::new(journal.clone(), client.clone(), "HELP-1");
    assert!(matches!(
        desk.progress(&raised).unwrap(),
        Progress::Open { .. }
    ));
    client.help_ack(&open[0].help_id, Some("0012")).unwrap();
    match desk.progress(&raised).unwrap() {
        Progress::Acknowledged { staff_id, .. } => assert_eq!(staff_id.as_deref(), Some("0012")),
        other => panic!("not acknowledged: {other:?}"),
    }
    desk.cancel(&raised, "citizen").unwrap();
    assert_eq!(
        client.help(&open[0].help_id).unwrap().state,
        HelpState::Acknowledged
    );
    assert!(client.help_list(true).unwrap().requests.is_empty());
    assert_eq!(journal.counts().unwrap().backlog(), 0);
}
