//! Catalog bundles between the platform and a running kiosk, in-process over loopback: a bundle
//! published to the (demo) platform is fetched with conditional requests, verified with the
//! kiosk's pinned catalog key, stored in the journal and applied only when no visit is in
//! progress; a restart keeps the last good bundle; a bundle signed by another key or an older
//! one is refused with its reason, on the status endpoint, and changes nothing.
use std::sync::mpsc;

use zizhu::catalog::bundle::{sign, BundleContent};
use zizhu::catalog::BUILTIN_TOML;
use zizhu::config::Config;
use zizhu::elicense::trust::format_root;
use zizhu::elicense::{Alg, SecretKey};
use zizhu::platform::{Client, ClientConfig, Fetched};
use zizhu::runtime::{Overrides, Runtime};

fn key(seed: &str) -> SecretKey {
    SecretKey::from_seed(Alg::Es256, seed).expect("key")
}

/// The shipped catalog with one service renamed, so a test can tell which catalog is in effect.
fn bundle(signer: &SecretKey, seq: u64, marker: &str) -> Vec<u8> {
    let catalog = BUILTIN_TOML.replacen(
        "zh = \"社会保险参保证明打印\"",
        &format!("zh = \"社会保险参保证明打印{marker}\""),
        1,
    );
    assert_ne!(catalog, BUILTIN_TOML, "the marker went in");
    sign(
        signer,
        &BundleContent {
            seq,
            iat: chrono::Utc::now().timestamp() - 60,
            max_age: 7 * 86_400,
            catalog,
        },
    )
    .expect("sign")
}

fn start(data: &std::path::Path) -> Runtime {
    let mut config = Config::simulation();
    config.data_dir = data.to_path_buf();
    config.scanner = zizhu::config::DeviceBackend::None;
    config.printer = zizhu::config::DeviceBackend::None;
    config.catalog_keys = vec![format_root(&key("city catalog").public_key())];
    config.catalog_profile = Some("village".into());
    Runtime::start(config, &Overrides::default(), mpsc::channel().0).expect("runtime")
}

fn publisher(rt: &Runtime) -> Client {
    Client::new(ClientConfig::new(
        rt.platform_url.clone(),
        "demo",
        "publisher",
    ))
    .expect("client")
}

/// The renamed service's name in the catalog in effect.
fn name(rt: &Runtime) -> String {
    rt.catalog
        .current()
        .catalog()
        .service("ss-insured-cert-print")
        .map(|s| s.zh.clone())
        .unwrap_or_default()
}

#[test]
fn a_published_bundle_is_fetched_applied_when_idle_and_kept_across_a_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let rt = start(&data);
    let embedded = name(&rt);
    assert_eq!(embedded, "社会保险参保证明打印");
    let report = rt.state.snapshot();
    assert_eq!(report.catalog.source, "embedded");
    assert_eq!(report.catalog.profile.as_deref(), Some("village"));

    // Nothing published: the kiosk keeps what it has.
    rt.refresh_catalog();
    assert_eq!(rt.state.snapshot().catalog.source, "embedded");

    let city = key("city catalog");
    let b5 = bundle(&city, 5, "甲");
    let ack = publisher(&rt).publish_catalog_bundle(&b5).expect("publish");
    assert_eq!((ack.seq, ack.changed), (5, true));

    // During a visit the bundle is stored but waits.
    rt.state.set_session_active(true);
    rt.refresh_catalog();
    assert_eq!(name(&rt), embedded, "never switched during a visit");
    assert_eq!(rt.state.snapshot().catalog.source, "embedded");
    assert_eq!(
        rt.journal
            .last_catalog_bundle()
            .expect("journal")
            .map(|b| b.seq),
        Some(5),
        "stored before it applies"
    );
    rt.catalog_idle();
    assert_eq!(name(&rt), embedded, "the visit is still on");
    rt.state.set_session_active(false);
    rt.catalog_idle();
    assert_eq!(name(&rt), "社会保险参保证明打印甲");
    let report = rt.state.snapshot();
    assert_eq!(report.catalog.source, "bundle");
    assert_eq!(report.catalog.sequence, Some(5));
    assert!(report.catalog.applied_unix.is_some());
    assert!(report.catalog.services_offered > 0);
    assert!(
        report.catalog.services_offered < rt.catalog.current().catalog().services().len() as u64,
        "the village profile offers a part"
    );

    // Unchanged: the platform answers 304 to the ETag the kiosk holds.
    let c = publisher(&rt);
    let Fetched::Fresh { etag, body } = c.catalog_bundle(None).expect("fetch") else {
        panic!("expected the bundle");
    };
    assert_eq!(body, b5);
    let etag = etag.expect("an ETag");
    assert_eq!(
        c.catalog_bundle(Some(&etag)).expect("conditional"),
        Fetched::NotModified
    );
    rt.refresh_catalog();
    assert_eq!(rt.state.snapshot().catalog.sequence, Some(5));

    // Another key's bundle and a rollback are refused with their reasons; nothing changes.
    let foreign = bundle(&key("someone else"), 9, "乙");
    publisher(&rt)
        .publish_catalog_bundle(&foreign)
        .expect("the platform does not judge signatures");
    rt.refresh_catalog();
    assert_eq!(name(&rt), "社会保险参保证明打印甲");
    let report = rt.state.snapshot();
    assert_eq!(report.catalog.last_refused.as_deref(), Some("signature"));
    assert_eq!(report.catalog.sequence, Some(5));
    let e = publisher(&rt)
        .publish_catalog_bundle(&bundle(&city, 4, "丙"))
        .expect_err("the platform refuses an older sequence");
    assert_eq!(e.code(), Some("catalog_sequence_not_newer"));
    let audit = rt.journal.audit_log(50).expect("audit");
    assert!(
        audit
            .iter()
            .any(|a| a.actor == "catalog" && a.action == "bundle-refused:signature"),
        "the refusal is in the audit trail"
    );
    drop(rt);

    // A restart (the in-process platform starts again with nothing published) keeps the last
    // good bundle.
    let rt = start(&data);
    assert_eq!(name(&rt), "社会保险参保证明打印甲");
    let report = rt.state.snapshot();
    assert_eq!(report.catalog.source, "bundle");
    assert_eq!(report.catalog.sequence, Some(5));
}
