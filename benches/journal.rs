//! Benchmarks of the journal and the demo platform (issue 4):
//! 1. latency of a journal write on the critical path (an outbox enqueue with its sealed part,
//!    then marking it done, and a transaction-log line), `synchronous=FULL`, WAL, on the
//!    machine's disk (a directory under `target/`, not tmpfs): p50 / p99 / max;
//! 2. requests per second of the demo platform on loopback: `GET /v1/health`, `GET
//!    /v1/payments/{id}` and `POST /v1/services/{id}/requests` (a new idempotency key each, so
//!    every call writes), with 8 client threads using the kiosk's blocking client.
//!
//! Run: `cargo bench --bench journal` (`-- --quick` for a short run). Goals: journal write
//! p99 ≤ 5 ms; figures go to benches/README.md.
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use zizhu::catalog::Lang;
use zizhu::journal::{Journal, RequestMeta, RequestSecret};
use zizhu::platform::api::{self, SubjectKind};
use zizhu::platform::client::{new_key, Client, ClientConfig};
use zizhu::platform::demo;

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn journal_writes(n: usize) -> anyhow::Result<()> {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-journal");
    std::fs::create_dir_all(&base)?;
    let dir = tempfile::tempdir_in(&base)?;
    let j = Journal::open(dir.path())?;
    let meta = RequestMeta {
        subject: Some((SubjectKind::IdCard, false)),
        elicense: vec!["household-register".into()],
        face_check_id: None,
        commitment_accepted: true,
        lang: Lang::Zh,
        identity_method: None,
        staff_id: None,
    };
    let secret = RequestSecret {
        id_number: Some("11010519491231002X".into()),
        subject_token: None,
        fields: vec![
            ("phone".into(), "13800138000".into()),
            ("months".into(), "2025-01..2025-12".into()),
        ],
    };
    let (mut enq, mut done, mut tx) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let t = Instant::now();
        let id = j.enqueue_request(
            &format!("bench-{i}"),
            "BENCH-0001",
            "ss-insured-cert-print",
            &meta,
            &secret,
            30_000,
        )?;
        enq.push(t.elapsed());
        let t = Instant::now();
        j.mark_done(id, Some("rq_000001"))?;
        done.push(t.elapsed());
        let t = Instant::now();
        j.record_transaction(
            "ss-insured-cert-print",
            "completed",
            Some("11010519491231002X"),
        )?;
        tx.push(t.elapsed());
    }
    // The floor: what one durable append costs on this disk without SQLite.
    let mut floor = Vec::new();
    {
        use std::io::Write;
        let mut f = std::fs::File::create(dir.path().join("floor.bin"))?;
        let block = [0x5au8; 512];
        for _ in 0..n {
            let t = Instant::now();
            f.write_all(&block)?;
            f.sync_data()?;
            floor.push(t.elapsed());
        }
    }
    println!(
        "journal writes, synchronous=FULL, WAL, {n} each, dir {}",
        base.display()
    );
    println!("| write | p50 | p99 | max |");
    println!("| --- | --- | --- | --- |");
    for (name, v) in [
        ("disk floor: 512 B append + fdatasync", &mut floor),
        ("outbox enqueue (sealed)", &mut enq),
        ("mark done", &mut done),
        ("transaction line", &mut tx),
    ] {
        v.sort();
        println!(
            "| {name} | {} | {} | {} |",
            ms(pct(v, 0.5)),
            ms(pct(v, 0.99)),
            ms(pct(v, 1.0))
        );
    }
    Ok(())
}

fn rps(name: &str, secs: u64, threads: usize, url: &str, call: fn(&Client) -> bool) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (stop, count, errors) = (stop.clone(), count.clone(), errors.clone());
            let url = url.to_string();
            std::thread::spawn(move || {
                let Ok(c) = Client::new(ClientConfig::new(url, "bench", "bench-kiosk")) else {
                    return;
                };
                while !stop.load(Ordering::Relaxed) {
                    if call(&c) {
                        count.fetch_add(1, Ordering::Relaxed);
                    } else {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.join();
    }
    let r = count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    println!(
        "| {name} | {r:.0} | {} errors |",
        errors.load(Ordering::Relaxed)
    );
    r
}

fn platform_rps(secs: u64) -> anyhow::Result<()> {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-journal");
    std::fs::create_dir_all(&base)?;
    let dir = tempfile::tempdir_in(&base)?;
    let d = demo::spawn("127.0.0.1:0".parse()?, Some(dir.path().join("platform.db")))?;
    let setup = Client::new(ClientConfig::new(d.url(), "bench", "bench-kiosk"))?;
    let pay = setup.submit(
        "ut-electricity-pay",
        &new_key()?,
        &api::ServiceRequest {
            subject: None,
            fields: [
                ("account".to_string(), "31000012".to_string()),
                ("amount".to_string(), "100.00".to_string()),
            ]
            .into(),
            elicense: vec![],
            face_check_id: None,
            commitment_accepted: true,
            lang: Lang::Zh,
            identity_method: None,
            staff_id: None,
        },
    );
    let order = match pay.map(|r| r.result) {
        Ok(api::ServiceResult::Pay(p)) => p.order_id,
        _ => "od_000001".into(),
    };
    let _ = ORDER_ID.set(order);
    println!("demo platform on loopback, 8 client threads, {secs} s each");
    println!("| call | requests/s | |");
    println!("| --- | --- | --- |");
    rps("GET /v1/health", secs, 8, &d.url(), |c| c.ping().is_ok());
    rps("GET /v1/payments/{id}", secs, 8, &d.url(), |c| {
        c.payment(ORDER_ID.get().map(String::as_str).unwrap_or("od_1"))
            .is_ok()
    });
    rps(
        "POST /v1/services/{id}/requests (new key)",
        secs,
        8,
        &d.url(),
        |c| {
            let Ok(key) = new_key() else { return false };
            let req = api::ServiceRequest {
                subject: Some(api::Subject::id_number(
                    "11010519491231002X",
                    SubjectKind::Code,
                    false,
                )),
                fields: [("months".to_string(), "2025-01..2025-06".to_string())].into(),
                elicense: vec![],
                face_check_id: None,
                commitment_accepted: true,
                lang: Lang::Zh,
                identity_method: None,
                staff_id: None,
            };
            c.submit("ss-contrib-base-query", &key, &req).is_ok()
        },
    );
    Ok(())
}

static ORDER_ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn main() -> anyhow::Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    journal_writes(if quick { 200 } else { 2000 })?;
    println!();
    platform_rps(if quick { 1 } else { 5 })?;
    Ok(())
}
