//! The journal on real SQLite files: migrations validate, the outbox survives a reopen (a power
//! loss between writing and sending), the drain delivers every item exactly once after the demo
//! platform comes back (also when an answer was lost), and no full ID number, name or form value
//! is found in the raw bytes of the database files.
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use zizhu::catalog::{Catalog, Lang};
use zizhu::flow::{Outbox, Source, Submission};
use zizhu::journal::drain::{self, DrainConfig, DrainReport};
use zizhu::journal::{self, ItemState, Journal, RequestMeta, RequestSecret, DB_FILE};
use zizhu::platform::api::{Faults, SubjectKind};
use zizhu::platform::client::{Client, ClientConfig};
use zizhu::platform::demo::{self, DemoHandle};

const ID: &str = "11010519491231002X";
const PHONE: &str = "13912345678";
/// Far in the future: every queued item is due, whatever its backoff.
const LATER: i64 = i64::MAX / 2;

fn demo_platform() -> DemoHandle {
    demo::spawn("127.0.0.1:0".parse().expect("addr"), None).expect("demo platform")
}

fn client(d: &DemoHandle) -> Arc<Client> {
    let mut cfg = ClientConfig::new(d.url(), "t", "kiosk-journal");
    cfg.attempts = 1;
    Arc::new(Client::new(cfg).expect("client"))
}

fn submission(service_id: &str, key: &str) -> Submission {
    let s = Catalog::builtin().service(service_id).expect("service");
    let mut fields: BTreeMap<String, String> = s
        .fields
        .iter()
        .map(|f| (f.key.clone(), f.example.clone()))
        .collect();
    if fields.contains_key("phone") {
        fields.insert("phone".into(), PHONE.into());
    }
    Submission {
        service_id: service_id.into(),
        idempotency_key: key.into(),
        kiosk_id: "kiosk-journal".into(),
        id_number: ID.into(),
        source: Source::Code,
        subject_token: None,
        proxy: false,
        face_check_id: None,
        commitment_accepted: true,
        fields,
        elicense: vec![],
        lang: Lang::Zh,
        identity_method: None,
        staff_id: None,
    }
}

/// A submit service with a phone field (so a form value must stay sealed too).
fn submit_service() -> String {
    Catalog::builtin()
        .services()
        .iter()
        .find(|s| {
            s.output == zizhu::catalog::Output::Submit
                && s.auth != zizhu::catalog::Auth::None
                && s.field("phone").is_some()
        })
        .expect("a submit service with a phone field")
        .id
        .clone()
}

fn evaluation(key: &str) -> zizhu::flow::Evaluation {
    zizhu::flow::Evaluation {
        idempotency_key: key.into(),
        kiosk_id: "kiosk-journal".into(),
        request_id: "rq_000001".into(),
        service_id: "ss-insured-cert-print".into(),
        level: 4,
        reasons: vec![],
        staff_id: None,
        staff_level: None,
    }
}

fn raw_bytes(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for name in [DB_FILE.to_string(), format!("{DB_FILE}-wal")] {
        if let Ok(b) = std::fs::read(dir.join(name)) {
            all.extend(b);
        }
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn migrations_validate_and_reopen_is_a_no_op() {
    journal::validate_migrations().expect("migrations");
    let dir = tempfile::tempdir().expect("tmp");
    drop(Journal::open(dir.path()).expect("create"));
    let j = Journal::open(dir.path()).expect("reopen");
    j.audit("technician", "opened", None).expect("audit");
    j.device_event("printer", "degraded", Some("paper near end"))
        .expect("event");
}

#[test]
fn a_newer_database_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    drop(Journal::open(dir.path()).expect("create"));
    let c = rusqlite::Connection::open(dir.path().join(DB_FILE)).expect("sqlite");
    c.pragma_update(None, "user_version", 99).expect("bump");
    drop(c);
    let e = Journal::open(dir.path()).expect_err("newer");
    assert!(
        matches!(e, journal::JournalError::Newer { found: 99, .. }),
        "{e}"
    );
}

#[test]
fn outbox_survives_reopen() {
    let dir = tempfile::tempdir().expect("tmp");
    let key = "survive-1";
    let id = {
        let j = Journal::open(dir.path()).expect("open");
        Outbox::enqueue_request(&j, &submission(&submit_service(), key)).expect("enqueue")
        // Dropped here without sending: the kiosk lost power.
    };
    let j = Journal::open(dir.path()).expect("reopen");
    let due = j.due(LATER, 10).expect("due");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].id, id);
    assert_eq!(due[0].idempotency_key, key);
    assert_eq!(due[0].state, ItemState::Queued);
    let secret = j.secret(&due[0]).expect("open").expect("sealed part");
    assert_eq!(secret.id_number.as_deref(), Some(ID));
    // The same key again writes nothing new.
    assert_eq!(
        Outbox::enqueue_request(&j, &submission(&submit_service(), key)).expect("again"),
        id
    );
    assert_eq!(j.counts().expect("counts").queued, 1);
}

#[test]
fn drain_delivers_exactly_once_after_the_platform_comes_back() {
    let d = demo_platform();
    let c = client(&d);
    let dir = tempfile::tempdir().expect("tmp");
    let j = Journal::open(dir.path()).expect("open");
    let cfg = DrainConfig::default();
    let svc = submit_service();
    // Item a carries a subject token (as after an identity code), so its only call is the
    // service request itself; item b carries the sealed ID number.
    let token = c
        .resolve_identity(&format!("YSS:{ID}"))
        .expect("identity code")
        .subject_token;
    let s = submission(&svc, "req-a");
    let (meta, mut secret) = zizhu::journal::flow::split(&s);
    secret.id_number = None;
    secret.subject_token = Some(token);
    let a = j
        .enqueue_request("req-a", "kiosk-journal", &svc, &meta, &secret, 0)
        .expect("a");
    let b = Outbox::enqueue_request(&j, &submission(&svc, "req-b")).expect("b");
    let e = Outbox::enqueue_evaluation(&j, &evaluation("ev-a")).expect("ev");

    // Down: nothing is delivered, the pass stops at the first failure and backs off.
    d.state().set_faults(Faults {
        down: true,
        ..Faults::default()
    });
    let r = drain::drain_once(&j, c.as_ref(), &cfg, LATER).expect("pass");
    assert_eq!(
        r,
        DrainReport {
            delivered: 0,
            failed: 0,
            deferred: 1
        }
    );
    assert_eq!(d.state().count("requests"), 0);
    let item = j.item(a).expect("read").expect("a");
    assert_eq!((item.state, item.attempts), (ItemState::Queued, 1));
    assert!(item
        .last_error
        .as_deref()
        .unwrap_or("")
        .contains("platform_down"));

    // Answers lost on the way back: the platform carries the first request out, the kiosk
    // does not know it.
    d.state().set_faults(Faults {
        drop: true,
        ..Faults::default()
    });
    let r = drain::drain_once(&j, c.as_ref(), &cfg, LATER).expect("pass");
    assert_eq!(r.delivered, 0);
    assert_eq!(d.state().count("requests"), 1);

    // Back: everything is delivered, the request carried out during the drop is not repeated.
    d.state().set_faults(Faults::default());
    let r = drain::drain_once(&j, c.as_ref(), &cfg, LATER).expect("pass");
    assert_eq!(
        r,
        DrainReport {
            delivered: 3,
            failed: 0,
            deferred: 0
        }
    );
    assert_eq!(d.state().count("requests"), 2);
    assert_eq!(d.state().count("evaluations"), 1);
    for id in [a, b, e] {
        let it = j.item(id).expect("read").expect("item");
        assert_eq!(it.state, ItemState::Done);
        assert!(!it.sealed, "the sealed part is deleted on delivery");
        assert!(it.platform_ref.is_some());
    }
    // Nothing more to do, and a further pass sends nothing.
    assert_eq!(j.counts().expect("counts").backlog(), 0);
    let r = drain::drain_once(&j, c.as_ref(), &cfg, LATER).expect("pass");
    assert_eq!(r, DrainReport::default());
    assert_eq!(d.state().count("requests"), 2);
}

#[test]
fn refused_items_fail_for_good_and_lose_their_sealed_part() {
    let d = demo_platform();
    let c = client(&d);
    let dir = tempfile::tempdir().expect("tmp");
    let j = Journal::open(dir.path()).expect("open");
    let mut s = submission(&submit_service(), "bad-1");
    s.id_number = "110105194912310021".into(); // wrong check digit
    let id = Outbox::enqueue_request(&j, &s).expect("enqueue");
    let r = drain::drain_once(&j, c.as_ref(), &DrainConfig::default(), LATER).expect("pass");
    assert_eq!(r.failed, 1);
    let it = j.item(id).expect("read").expect("item");
    assert_eq!(it.state, ItemState::Failed);
    assert!(!it.sealed);
    assert!(it
        .last_error
        .unwrap_or_default()
        .contains("invalid_id_number"));
}

#[test]
fn drain_worker_empties_the_outbox_once_the_platform_is_reachable() {
    let d = demo_platform();
    d.state().set_faults(Faults {
        down: true,
        ..Faults::default()
    });
    let dir = tempfile::tempdir().expect("tmp");
    let j = Arc::new(Journal::open(dir.path()).expect("open"));
    let svc = submit_service();
    for i in 0..5 {
        j.enqueue_request(
            &format!("worker-{i}"),
            "kiosk-journal",
            &svc,
            &RequestMeta {
                subject: Some((SubjectKind::Code, false)),
                elicense: vec![],
                face_check_id: None,
                commitment_accepted: true,
                lang: Lang::En,
                identity_method: None,
                staff_id: None,
            },
            &RequestSecret {
                id_number: Some(ID.into()),
                subject_token: None,
                fields: submission(&svc, "x")
                    .fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            },
            0,
        )
        .expect("enqueue");
    }
    let cfg = DrainConfig {
        backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        poll: Duration::from_millis(50),
    };
    let worker = drain::spawn(j.clone(), client(&d), cfg).expect("worker");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(d.state().count("requests"), 0);
    d.state().set_faults(Faults::default());
    worker.wake();
    let deadline = Instant::now() + Duration::from_secs(60);
    while j.counts().expect("counts").backlog() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(worker);
    assert_eq!(j.counts().expect("counts").done, 5);
    assert_eq!(d.state().count("requests"), 5);
}

#[test]
fn no_full_id_number_name_or_form_value_in_the_database_file() {
    let d = demo_platform();
    let c = client(&d);
    let dir = tempfile::tempdir().expect("tmp");
    let j = Journal::open(dir.path()).expect("open");
    let person = c
        .resolve_identity(&format!("YSS:{ID}"))
        .expect("the synthetic person");
    let svc = submit_service();
    let id = Outbox::enqueue_request(&j, &submission(&svc, "privacy-1")).expect("enqueue");
    Outbox::record(&j, &svc, "queued", Some(ID)).expect("record");
    // Before delivery (sealed) and after (deleted).
    let bytes = raw_bytes(dir.path());
    assert!(
        contains(&bytes, "privacy-1"),
        "the test reads the right file"
    );
    assert!(contains(&bytes, "110105********002X"), "masked ID is kept");
    for secret in [ID, &ID.to_lowercase(), PHONE, person.name.as_str()] {
        assert!(!contains(&bytes, secret), "{secret:?} found in the journal");
    }
    drain::drain_once(&j, c.as_ref(), &DrainConfig::default(), LATER).expect("pass");
    assert_eq!(
        j.item(id).expect("read").expect("item").state,
        ItemState::Done
    );
    Outbox::record(&j, &svc, "accepted", Some(ID)).expect("record");
    drop(j);
    let bytes = raw_bytes(dir.path());
    for secret in [ID, PHONE, person.name.as_str()] {
        assert!(!contains(&bytes, secret), "{secret:?} found in the journal");
    }
    // The transaction log: masked ID and a stable salted hash, no number.
    let j = Journal::open(dir.path()).expect("reopen");
    let t = j.transactions(10).expect("log");
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].id_masked.as_deref(), Some("110105********002X"));
    assert_eq!(t[0].id_hash, t[1].id_hash);
    assert_eq!(t[0].id_hash.as_deref().map(str::len), Some(64));
    // Another kiosk (another salt) gives another hash.
    let other = tempfile::tempdir().expect("tmp");
    let j2 = Journal::open(other.path()).expect("other kiosk");
    assert_ne!(j2.id_digest(ID).1, j.id_digest(ID).1);
}

/// The kiosk's e-licence verifier on the journal database, as the runtime opens it.
fn elicense_verifier(j: &Journal) -> zizhu::elicense::Verifier {
    let store = zizhu::elicense::store::SqliteStore::attach(j.connect().expect("connection"))
        .expect("the journal has the elicense tables");
    zizhu::elicense::Verifier::from_store(
        zizhu::elicense::demo::roots().expect("roots"),
        Box::new(store),
    )
    .expect("verifier")
}

#[test]
fn a_version_1_journal_migrates_to_the_latest_with_its_data_intact() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join(DB_FILE);
    {
        // A journal as version 1 left it: only 0001 applied, with an outbox row and a log line.
        let c = rusqlite::Connection::open(&db).expect("sqlite");
        c.execute_batch(journal::MIGRATIONS[0].1).expect("0001");
        c.pragma_update(None, "user_version", 1).expect("version 1");
        c.execute(
            "INSERT INTO outbox (kind, idempotency_key, service_id, payload, state,
                                 next_attempt_at, created_at, updated_at)
             VALUES ('evaluation', 'v1-key', 'svc', '{}', 'queued', 0, 1, 1)",
            [],
        )
        .expect("outbox row");
        c.execute(
            "INSERT INTO transactions (at, service_id, outcome, id_masked)
             VALUES (5, 'svc', 'completed', '110105********002X')",
            [],
        )
        .expect("log line");
    }
    let j = Journal::open(dir.path()).expect("migrate");
    let c = rusqlite::Connection::open(&db).expect("sqlite");
    let v: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(v, journal::MIGRATIONS.len() as i64);
    assert_eq!(journal::MIGRATIONS.len(), 6);
    let due = j.due(LATER, 10).expect("outbox");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].idempotency_key, "v1-key");
    // 0005 rebuilt the outbox (same rows, same ids) so that it takes help items too.
    let help = journal::HelpCall::Cancel(zizhu::platform::api::HelpCancel {
        request_key: "k".into(),
        reason: "citizen".into(),
    });
    let id = j
        .enqueue_help("help-key", "MZ-1", &help, 0)
        .expect("a help item");
    assert!(id > due[0].id);
    let item = j.item_by_key("help-key").expect("read").expect("kept");
    assert_eq!(item.kind, journal::ItemKind::Help);
    assert_eq!(j.due(LATER, 10).expect("outbox").len(), 2);
    // Written before 0003 recorded the sending identity: it goes out under the sender's own.
    assert_eq!(due[0].kiosk_id, None);
    // 0006 added the record of used staff codes.
    assert!(j
        .claim_staff_code("c0de", "0012", i64::MAX)
        .expect("staff codes table"));
    let t = j.transactions(10).expect("log");
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].id_masked.as_deref(), Some("110105********002X"));
    let tables: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name IN
             ('elicense_trust_list', 'elicense_replay', 'elicense_replay_keep_until')",
            [],
            |r| r.get(0),
        )
        .expect("tables");
    assert_eq!(tables, 3);
    // The e-licence store works on the migrated file.
    let mut v = elicense_verifier(&j);
    let now = chrono::Utc::now();
    let list =
        zizhu::elicense::demo::trust_list(1, now.timestamp() - 60, 7 * 86_400).expect("list");
    assert_eq!(v.install_trust_list(&list, now).expect("install"), 1);
}

#[test]
fn trust_list_and_replay_cache_survive_a_restart_in_the_journal() {
    use zizhu::elicense::{self, Error, Trust, Verified};
    let dir = tempfile::tempdir().expect("tmp");
    let now = chrono::Utc::now();
    let code = {
        let j = Journal::open(dir.path()).expect("open");
        let mut v = elicense_verifier(&j);
        assert!(matches!(v.trust(), Trust::None));
        let list = elicense::demo::trust_list(5, now.timestamp() - 60, 7 * 86_400).expect("list");
        v.install_trust_list(&list, now).expect("install");
        let code = elicense::issue_ticket(
            &elicense::demo::issuer(elicense::Alg::Sm2).expect("issuer"),
            b"household-register:11010519491231002X",
            now.timestamp(),
            120,
        )
        .expect("ticket");
        assert!(matches!(v.verify(&code, now), Ok(Verified::Ticket(_))));
        code
    };
    // No separate file any more: everything is in journal.db.
    assert!(!dir.path().join("elicense.sqlite").exists());
    let j = Journal::open(dir.path()).expect("restart");
    let mut v = elicense_verifier(&j);
    match v.trust() {
        Trust::List(l) => assert_eq!(l.seq, 5),
        other => panic!("trust list lost in the restart: {other:?}"),
    }
    assert!(
        matches!(v.verify(&code, now), Err(Error::Replayed)),
        "the replay cache survived the restart"
    );
    // And an older list is still a rollback after the restart.
    let old = elicense::demo::trust_list(4, now.timestamp() - 60, 7 * 86_400).expect("list");
    assert!(matches!(
        v.install_trust_list(&old, now),
        Err(Error::TrustListRollback { .. })
    ));
    // The journal itself keeps working next to the verifier's connection.
    j.audit("technician", "checked", None).expect("audit");
}
