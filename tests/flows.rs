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

fn open(url: &str) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let r = reqwest::get(url).await?;
        anyhow::ensure!(r.status().is_success(), "{url}: {}", r.status());
        Ok(())
    })
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
            open_link: &open,
            wait: Duration::from_secs(20),
            rate: Some(5),
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
    let platform = demo::spawn("127.0.0.1:0".parse().unwrap(), None).expect("demo platform");
    // The HK/Macao/Taiwan sample card's validity ended on 2026-01-01.
    let o = util::run(&[
        "flow",
        "run",
        "--item",
        "ss-insured-cert-print",
        "--platform",
        &platform.url(),
        "--idcard-sample",
        "hk-macao-taiwan",
        "--sample",
        "--lang",
        "en",
    ]);
    assert_eq!(util::code(&o), 1);
    assert!(util::stdout(&o).contains("expired"), "{}", util::stdout(&o));
}
