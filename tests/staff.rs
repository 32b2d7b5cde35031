//! Staff sign-in (帮办员) and identification with staff present (人工核验), headless: the flow engine
//! and `zizhu flow run` against the demo platform on loopback, with the journal in a real SQLite
//! file. Each refusal of a staff code at sign-in, the staff id in the submission the platform
//! stored and in the audit trail, and the platform following the catalog's `staff_verify`.
use std::time::Duration;

use zizhu::catalog::{Catalog, Lang, BUILTIN_TOML};
use zizhu::elicense::{self, store::MemoryStore, Verifier};
use zizhu::flow::play::{play_assisted, Assist, Script};
use zizhu::flow::{Identity, Source};
use zizhu::journal::Journal;
use zizhu::platform::demo::{self, DemoHandle, DemoOptions};
use zizhu::platform::{Client, ClientConfig};
use zizhu::staff::{self, Binding, Helper, SignOut, StaffClaims};

use crate::util;

const SITE: &str = "梅州市政务服务中心（模拟）";
const KIOSK: &str = "STAFF-1";

fn platform() -> DemoHandle {
    let now = chrono::Utc::now().timestamp();
    demo::spawn_with(
        "127.0.0.1:0".parse().expect("addr"),
        DemoOptions {
            trust_list: Some(elicense::demo::current_trust_list(now).expect("trust list")),
            ..DemoOptions::default()
        },
    )
    .expect("demo platform")
}

fn code(site: Option<&str>, kiosk: Option<&str>, iat: i64) -> String {
    staff::issue(
        &elicense::demo::staff_key().expect("key"),
        &StaffClaims {
            code_id: staff::random_code_id().expect("id"),
            staff_id: "0012".into(),
            name: "张三丰".into(),
            site: site.map(Into::into),
            kiosk: kiosk.map(Into::into),
            iat,
            exp: iat + 300,
        },
    )
    .expect("issue")
}

/// The trust-list keys as a kiosk has them: the platform's list, checked against the demo roots.
fn kiosk_keys(client: &Client) -> Vec<elicense::TrustedKey> {
    let mut v = Verifier::from_store(
        elicense::demo::roots().expect("roots"),
        Box::new(MemoryStore::default()),
    )
    .expect("verifier");
    match client.trust_list(None).expect("trust list") {
        zizhu::platform::Fetched::Fresh { body, .. } => {
            v.install_trust_list(&body, chrono::Utc::now())
                .expect("installed");
        }
        zizhu::platform::Fetched::NotModified => panic!("no list"),
    }
    staff::keys_of(v.trust())
}

fn binding() -> Binding {
    Binding {
        site: SITE.into(),
        kiosk_id: KIOSK.into(),
    }
}

fn card_holder() -> Identity {
    let mut id = Identity::typed(&zizhu_drivers::idcard::card::with_check_char(
        "44140219800101001",
    ))
    .expect("id");
    id.source = Source::IdCard;
    id
}

/// The citizen has no smartphone: nothing opens the face-check link.
fn no_phone(_: &str) -> anyhow::Result<()> {
    anyhow::bail!("no smartphone")
}

fn script(rate: Option<u8>) -> Script<'static> {
    Script {
        identity: Some(card_holder()),
        fields: Default::default(),
        sample: true,
        open_link: &no_phone,
        wait: Duration::from_secs(2),
        rate,
        elicense_consent: true,
    }
}

fn audit(j: &Journal) -> Vec<(String, String, String)> {
    let mut log: Vec<_> = j
        .audit_log(100)
        .expect("audit")
        .into_iter()
        .map(|e| (e.actor, e.action, e.detail.unwrap_or_default()))
        .collect();
    log.reverse();
    log
}

#[test]
fn every_refusal_at_sign_in_has_its_reason() {
    let p = platform();
    let client = Client::new(ClientConfig::new(p.url(), "t", KIOSK)).expect("client");
    let keys = kiosk_keys(&client);
    let dir = tempfile::tempdir().expect("tmp");
    let j = Journal::open(dir.path()).expect("journal");
    let now = chrono::Utc::now().timestamp();
    let kind = |text: &str| {
        staff::sign_in(text, &keys, &binding(), now, &j)
            .map(|h| h.staff_id)
            .map_err(|e| e.kind())
    };
    let good = code(Some(SITE), None, now - 5);
    assert_eq!(kind(&good), Ok("0012".to_string()));
    assert_eq!(kind(&good), Err("replayed"));
    assert_eq!(kind(&code(Some(SITE), None, now - 3600)), Err("expired"));
    assert_eq!(kind(&code(Some("别的网点"), None, now)), Err("other-site"));
    assert_eq!(kind(&code(None, Some("MZ-0001"), now)), Err("other-kiosk"));
    assert_eq!(kind(&code(None, Some(KIOSK), now)), Ok("0012".to_string()));
    assert_eq!(kind("ST1:not a code"), Err("malformed"));
    assert_eq!(kind(&good.replace("ST1:", "EL1:")), Err("malformed"));
    // Signed by a key the trust list does not hold; by an e-licence issuer key (trusted, but
    // not for staff codes).
    let stranger =
        elicense::SecretKey::from_seed(elicense::Alg::Es256, "not the platform's").expect("key");
    let claims = |iat| StaffClaims {
        code_id: staff::random_code_id().expect("id"),
        staff_id: "0099".into(),
        name: "李四".into(),
        site: Some(SITE.into()),
        kiosk: None,
        iat,
        exp: iat + 60,
    };
    assert_eq!(
        kind(&staff::issue(&stranger, &claims(now)).expect("issue")),
        Err("untrusted")
    );
    let licence_key = elicense::demo::issuer(elicense::Alg::Es256)
        .expect("issuer")
        .key;
    assert_eq!(
        kind(&staff::issue(&licence_key, &claims(now)).expect("issue")),
        Err("wrong-usage")
    );
    // Two sign-ins and seven refusals in the audit trail, with the reasons and no name.
    let log = audit(&j);
    let refused: Vec<&str> = log
        .iter()
        .filter(|(_, a, _)| a == "staff.refused")
        .map(|(_, _, d)| d.as_str())
        .collect();
    assert_eq!(
        refused,
        vec![
            "replayed",
            "expired",
            "other-site",
            "other-kiosk",
            "malformed",
            "malformed",
            "untrusted",
            "wrong-usage"
        ]
    );
    assert_eq!(
        log.iter().filter(|(_, a, _)| a == "staff.sign_in").count(),
        2
    );
    assert!(log.iter().all(|e| !format!("{e:?}").contains("张三丰")));
}

#[test]
fn an_assisted_idcard_face_visit_with_a_staff_check_end_to_end() {
    let p = platform();
    let client = Client::new(ClientConfig::new(p.url(), "t", KIOSK)).expect("client");
    let keys = kiosk_keys(&client);
    let dir = tempfile::tempdir().expect("tmp");
    let j = Journal::open(dir.path()).expect("journal");
    let now = chrono::Utc::now().timestamp();
    let helper: Helper =
        staff::sign_in(&code(Some(SITE), None, now), &keys, &binding(), now, &j).expect("sign in");
    assert_eq!(helper.banner(Lang::Zh), "张* · 工号 0012");
    let catalog = Catalog::builtin();
    // A print service (answered at once) and an application (journaled first, then sent).
    for id in ["ss-insured-cert-print", "ss-card-loss"] {
        let service = catalog.service(id).expect("service");
        assert!(service.staff_verify, "{id} allows 人工核验");
        let assist = Assist {
            helper: Some(helper.clone()),
            staff_verify: true,
            rate_helper: Some(4),
        };
        let (flow, t) = play_assisted(
            service,
            Lang::Zh,
            script(Some(5)),
            assist,
            &client,
            Some(&j),
        );
        assert!(t.completed(), "{id}: {:?}", t.failed);
        assert!(flow.staff_verified());
        assert!(
            t.screen.iter().any(|l| l.contains("人工核验")),
            "{:?}",
            t.screen
        );
        flow.end();
    }
    helper.clone().sign_out(&j, SignOut::EndOfVisit);

    // The platform stored both requests as identified by card and staff check, with the helper.
    let stored = p.state().assisted();
    assert_eq!(stored.len(), 2, "{stored:?}");
    for r in &stored {
        assert_eq!(r.identity_method.as_deref(), Some("idcard+staff"), "{r:?}");
        assert_eq!(r.staff_id.as_deref(), Some("0012"), "{r:?}");
    }
    // The helper was rated with each service.
    let ratings = p.state().staff_ratings();
    assert_eq!(ratings.len(), 2, "{ratings:?}");
    assert!(ratings.iter().all(|(_, s, l)| s == "0012" && *l == Some(4)));
    // The journaled application carried the staff id and the method in its clear part.
    let conn = rusqlite::Connection::open(dir.path().join("journal.db")).expect("db");
    let payload: String = conn
        .query_row(
            "SELECT payload FROM outbox WHERE kind = 'request' AND service_id = 'ss-card-loss'",
            [],
            |r| r.get(0),
        )
        .expect("journaled");
    let meta: serde_json::Value = serde_json::from_str(&payload).expect("json");
    assert_eq!(meta["staff_id"], "0012");
    assert_eq!(meta["identity_method"], "idcard+staff");

    // The audit trail: sign-in, each action, sign-out; all under the helper's number.
    let log = audit(&j);
    let actions: Vec<&str> = log.iter().map(|(_, a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        vec![
            "staff.sign_in",
            "staff.verify_identity",
            "staff.service",
            "staff.rating",
            "staff.verify_identity",
            "staff.service",
            "staff.rating",
            "staff.sign_out",
        ]
    );
    assert!(log.iter().all(|(actor, _, _)| actor == "staff:0012"));
    assert!(log.iter().any(|(_, a, d)| a == "staff.service"
        && d.contains("service=ss-card-loss")
        && d.contains("method=idcard+staff")));
    assert_eq!(log.last().map(|e| e.2.as_str()), Some("end-of-visit"));
}

#[test]
fn the_platform_refuses_a_staff_check_its_catalog_does_not_allow() {
    let p = platform();
    let client = Client::new(ClientConfig::new(p.url(), "t", KIOSK)).expect("client");
    let keys = kiosk_keys(&client);
    let dir = tempfile::tempdir().expect("tmp");
    let j = Journal::open(dir.path()).expect("journal");
    let now = chrono::Utc::now().timestamp();
    let helper =
        staff::sign_in(&code(Some(SITE), None, now), &keys, &binding(), now, &j).expect("sign in");
    let builtin = Catalog::builtin();
    let pin = builtin.service("ss-card-pin-change").expect("service");
    assert!(
        !pin.staff_verify,
        "the platform's catalog does not allow it"
    );

    // The engine itself refuses where its catalog does not allow it, and without a helper.
    let (_, t) = play_assisted(
        pin,
        Lang::Zh,
        script(None),
        Assist {
            helper: Some(helper.clone()),
            staff_verify: true,
            rate_helper: None,
        },
        &client,
        Some(&j),
    );
    let (step, msg) = t.failed.expect("refused");
    assert_eq!(step, "staff-check");
    assert_eq!(msg, zizhu::text::Text::StaffVerifyNotAllowed.zh());
    let allowed = builtin.service("ss-insured-cert-print").expect("service");
    let (_, t) = play_assisted(
        allowed,
        Lang::En,
        script(None),
        Assist {
            helper: None,
            staff_verify: true,
            rate_helper: None,
        },
        &client,
        Some(&j),
    );
    assert_eq!(
        t.failed.map(|f| f.1),
        Some(zizhu::text::Text::StaffVerifyNoHelper.en().to_string())
    );

    // A kiosk whose catalog says yes (an outdated or altered one) meets the platform's no.
    let anchor = "id = \"ss-card-pin-change\"\n";
    let at = BUILTIN_TOML.find(anchor).expect("entry");
    let auth = at
        + BUILTIN_TOML[at..]
            .find("auth = \"idcard+face\"\n")
            .expect("auth");
    let mut toml = BUILTIN_TOML.to_string();
    toml.insert_str(
        auth + "auth = \"idcard+face\"\n".len(),
        "staff_verify = true\n",
    );
    let kiosk_catalog = Catalog::parse(&toml).expect("valid");
    let pin = kiosk_catalog
        .service("ss-card-pin-change")
        .expect("service");
    assert!(pin.staff_verify);
    let (_, t) = play_assisted(
        pin,
        Lang::En,
        script(None),
        Assist {
            helper: Some(helper),
            staff_verify: true,
            rate_helper: None,
        },
        &client,
        Some(&j),
    );
    let (step, msg) = t.failed.expect("refused by the platform");
    assert_eq!(step, "submit");
    assert!(msg.contains("does not take a staff check"), "{msg}");
    assert!(p.state().assisted().is_empty(), "nothing was filed");
    let log = audit(&j);
    assert!(log
        .iter()
        .any(|(_, a, d)| a == "staff.service" && d.contains("outcome=failed")));

    // Without a staff check the same citizen is still asked for the phone face check.
    let (_, t) = play_assisted(
        allowed,
        Lang::Zh,
        script(None),
        Assist::default(),
        &client,
        None,
    );
    assert_eq!(t.failed.map(|f| f.0), Some("face-check".to_string()));
}

#[test]
fn flow_run_with_a_staff_code() {
    let p = platform();
    let home = tempfile::tempdir().expect("tmp");
    let data = home.path().join("kiosk");
    let id = zizhu_drivers::idcard::card::with_check_char("44140219800101001");
    let issue = |extra: &[&str]| {
        let o = util::zizhu(home.path())
            .args([
                "staff",
                "issue-code",
                "--staff-id",
                "0012",
                "--name",
                "张三丰",
            ])
            .args(extra)
            .output()
            .expect("run");
        assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
        util::stdout(&o).trim().to_string()
    };
    let run = |code: &str, extra: &[&str]| {
        util::zizhu(home.path())
            .args([
                "flow",
                "run",
                "--item",
                "ss-insured-cert-print",
                "--platform",
                &p.url(),
                "--id-number",
                &id,
                "--sample",
                "--wait",
                "2",
                "--json",
                "--staff-code",
                code,
                "--kiosk-id",
                KIOSK,
            ])
            .arg("--data-dir")
            .arg(&data)
            .args(extra)
            .output()
            .expect("run")
    };
    let good = issue(&["--site", SITE]);
    let o = run(
        &good,
        &["--staff-verify", "--rate", "5", "--rate-helper", "5"],
    );
    assert_eq!(
        util::code(&o),
        0,
        "{}{}",
        util::stdout(&o),
        util::stderr(&o)
    );
    let out: serde_json::Value = serde_json::from_str(&util::stdout(&o)).expect("json");
    assert_eq!(out["completed"], true);
    assert_eq!(out["staff_id"], "0012");
    assert!(!util::stdout(&o).contains("张三丰"));
    let stored = p.state().assisted();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].staff_id.as_deref(), Some("0012"));
    assert_eq!(stored[0].identity_method.as_deref(), Some("idcard+staff"));

    // Refusals: replayed, another kiosk's, expired (exit 1, with the reason); malformed (exit 2).
    let refused = |code: &str| {
        let o = run(code, &["--staff-verify"]);
        let out: serde_json::Value = serde_json::from_str(&util::stdout(&o)).unwrap_or_default();
        (
            util::code(&o),
            out["error"]["refused"].as_str().unwrap_or("").to_string(),
        )
    };
    assert_eq!(refused(&good), (1, "replayed".into()));
    assert_eq!(
        refused(&issue(&["--kiosk", "MZ-0001"])),
        (1, "other-kiosk".into())
    );
    let old = (chrono::Utc::now().timestamp() - 7200).to_string();
    assert_eq!(
        refused(&issue(&["--site", SITE, "--at", &old])),
        (1, "expired".into())
    );
    assert_eq!(refused("ST1:garbage"), (2, "malformed".into()));
    assert_eq!(
        p.state().assisted().len(),
        1,
        "no refused sign-in filed anything"
    );

    // An assisted visit without the staff check: the phone face check (played by --sample), and
    // the helper still named in the submission.
    let o = run(&issue(&["--site", SITE]), &[]);
    assert_eq!(util::code(&o), 0, "{}", util::stdout(&o));
    let stored = p.state().assisted();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1].staff_id.as_deref(), Some("0012"));
    assert_eq!(stored[1].identity_method.as_deref(), Some("idcard+face"));
    // Bad usage: no journal, a staff check on a service that does not allow it.
    let o = util::zizhu(home.path())
        .args([
            "flow",
            "run",
            "--item",
            "ss-insured-cert-print",
            "--platform",
            &p.url(),
            "--id-number",
            &id,
            "--staff-code",
            &good,
        ])
        .output()
        .expect("run");
    assert_eq!(util::code(&o), 2);
    assert!(
        util::stderr(&o).contains("--data-dir"),
        "{}",
        util::stderr(&o)
    );
    let o = util::zizhu(home.path())
        .args([
            "flow",
            "run",
            "--item",
            "ss-card-pin-change",
            "--platform",
            &p.url(),
            "--id-number",
            &id,
            "--staff-code",
            &good,
            "--staff-verify",
            "--data-dir",
        ])
        .arg(&data)
        .output()
        .expect("run");
    assert_eq!(util::code(&o), 2);
    assert!(
        util::stderr(&o).contains("staff_verify"),
        "{}",
        util::stderr(&o)
    );
    // The audit trail of the journal the runs shared: one sign-in, its actions, one sign-out
    // per sign-in, four refusals.
    let j = Journal::open(&data).expect("journal");
    let log = audit(&j);
    let count = |a: &str| log.iter().filter(|(_, x, _)| x == a).count();
    assert_eq!(count("staff.sign_in"), 2);
    assert_eq!(count("staff.sign_out"), 2);
    assert_eq!(count("staff.refused"), 4);
    assert_eq!(count("staff.verify_identity"), 1);
}

#[test]
fn staff_issue_code_and_verify_cli() {
    let home = tempfile::tempdir().expect("tmp");
    let z = |args: &[&str]| util::zizhu(home.path()).args(args).output().expect("run");
    let o = z(&[
        "staff",
        "issue-code",
        "--staff-id",
        "0012",
        "--name",
        "张三丰",
        "--kiosk",
        "MZ-0042",
        "--json",
    ]);
    assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
    let out: serde_json::Value = serde_json::from_str(&util::stdout(&o)).expect("json");
    let code = out["code"].as_str().expect("code").to_string();
    assert!(code.starts_with(staff::PREFIX));
    assert_eq!(out["staff_id"], "0012");
    assert_eq!(out["code_id"].as_str().map(str::len), Some(32));
    assert!(
        !util::stdout(&o).contains("张三丰"),
        "the name is not printed back"
    );
    // Checked as the kiosk would: good here, refused at another kiosk (exit 1, the reason).
    let o = z(&[
        "staff", "verify", &code, "--site", SITE, "--kiosk", "MZ-0042", "--json",
    ]);
    assert_eq!(util::code(&o), 0, "{}", util::stdout(&o));
    let out: serde_json::Value = serde_json::from_str(&util::stdout(&o)).expect("json");
    assert_eq!(
        (out["ok"].as_bool(), out["name"].as_str()),
        (Some(true), Some("张*"))
    );
    let o = z(&[
        "staff", "verify", &code, "--site", SITE, "--kiosk", "MZ-0001", "--json",
    ]);
    assert_eq!(util::code(&o), 1);
    let out: serde_json::Value = serde_json::from_str(&util::stdout(&o)).expect("json");
    assert_eq!(out["refused"], "other-kiosk");
    // Bad usage: no binding, a lifetime over the limit, an empty staff id (exit 2).
    for args in [
        &[
            "staff",
            "issue-code",
            "--staff-id",
            "0012",
            "--name",
            "张三",
        ][..],
        &[
            "staff",
            "issue-code",
            "--staff-id",
            "0012",
            "--name",
            "张三",
            "--site",
            SITE,
            "--ttl",
            "7200",
        ][..],
        &[
            "staff",
            "issue-code",
            "--staff-id",
            "",
            "--name",
            "张三",
            "--site",
            SITE,
        ][..],
    ] {
        let o = z(args);
        assert_eq!(util::code(&o), 2, "{args:?}: {}", util::stderr(&o));
        assert!(!util::stderr(&o).is_empty());
    }
}
