//! A new signed catalog bundle taking effect (issue 15), figures in benches/README.md:
//! - `bundle: verify + check + parse + index`: `Bundle::accept` of the full catalog (every
//!   service, the one-things and profiles), what the kiosk's health thread does with a fetched
//!   bundle before anything changes;
//! - `live: offer and apply`: `Live::offer` with a real journal (SQLite file on disk): the above,
//!   the site profile's offer, the write of the bundle, the switch;
//! - `screens: take the new catalog at a visit's start`: what the UI thread does, on Slint's
//!   software renderer at 1080×1920: swap the catalog and refill every adapter (home, list,
//!   search, detail);
//! - printed once: the bytes on the wire of one poll when nothing changed (a conditional
//!   `GET /v1/catalog/bundle` answered `304`), request and answer, against the bundle's size.
use std::hint::black_box;
use std::io::{Read, Write};
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use zizhu::catalog::bundle::{sign, Bundle, BundleContent};
use zizhu::catalog::live::Live;
use zizhu::catalog::BUILTIN_TOML;
use zizhu::elicense::{Alg, SecretKey};
use zizhu::kiosk::{HeadlessKiosk, Options};
use zizhu::platform::{demo, Client, ClientConfig};

const NOW: i64 = 1_796_000_000;

fn signed(key: &SecretKey, seq: u64) -> Vec<u8> {
    // A marker per sequence, so every bundle is a different catalog.
    let catalog = BUILTIN_TOML.replacen(
        "zh = \"社会保险参保证明打印\"",
        &format!("zh = \"社会保险参保证明打印{seq}\""),
        1,
    );
    match sign(
        key,
        &BundleContent {
            seq,
            iat: NOW - 60,
            max_age: 30 * 86_400,
            catalog,
        },
    ) {
        Ok(b) => b,
        Err(e) => panic!("sign: {e}"),
    }
}

/// The bytes of one raw HTTP exchange: (request, answer).
fn exchange(addr: &str, request: &str) -> (usize, usize) {
    let mut s = match std::net::TcpStream::connect(addr) {
        Ok(s) => s,
        Err(e) => panic!("connect {addr}: {e}"),
    };
    if let Err(e) = s.write_all(request.as_bytes()) {
        panic!("write: {e}");
    }
    let mut answer = Vec::new();
    if let Err(e) = s.read_to_end(&mut answer) {
        panic!("read: {e}");
    }
    let head = String::from_utf8_lossy(&answer[..answer.len().min(12)]).to_string();
    assert!(head.contains("304"), "expected 304, got {head:?}");
    (request.len(), answer.len())
}

fn bench(c: &mut Criterion) {
    let key = match SecretKey::from_seed(Alg::Es256, "bench catalog") {
        Ok(k) => k,
        Err(e) => panic!("key: {e}"),
    };
    let keys = vec![key.public_key()];
    let one = signed(&key, 1);
    println!("bundle size: {} bytes", one.len());

    c.bench_function("bundle: verify + check + parse + index", |b| {
        b.iter(|| black_box(Bundle::accept(&one, &keys, None, NOW).map(|b| b.seq)))
    });

    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tmp: {e}"),
    };
    let journal = match zizhu::journal::Journal::open(dir.path()) {
        Ok(j) => j,
        Err(e) => panic!("journal: {e}"),
    };
    let live = match Live::embedded(keys.clone(), Some("post-office")) {
        Ok(l) => l,
        Err(e) => panic!("live: {e}"),
    };
    let mut seq = 1;
    let mut g = c.benchmark_group("live");
    // Each applied catalog stays in memory (see catalog::live): keep the sample small.
    g.sample_size(20);
    g.bench_function("offer and apply (journal on disk)", |b| {
        b.iter_batched(
            || {
                seq += 1;
                signed(&key, seq)
            },
            |raw| black_box(live.offer(&raw, NOW, false, &journal).is_ok()),
            BatchSize::PerIteration,
        )
    });
    g.finish();

    // The UI thread's part: at the start of the next visit the screens take the new catalog.
    let kiosk = match HeadlessKiosk::new(Options::default()) {
        Ok(k) => k,
        Err(e) => panic!("headless kiosk: {e}"),
    };
    let live = Arc::new(live);
    c.bench_function("screens: take the new catalog at a visit's start", |b| {
        b.iter(|| kiosk.ui().set_live_catalog(live.clone()))
    });

    // Bytes per unchanged poll.
    let d = match demo::spawn("127.0.0.1:0".parse().expect("addr"), None) {
        Ok(d) => d,
        Err(e) => panic!("demo: {e}"),
    };
    let client = match Client::new(ClientConfig::new(d.url(), "t", "BENCH")) {
        Ok(c) => c,
        Err(e) => panic!("client: {e}"),
    };
    let etag = match client.publish_catalog_bundle(&one) {
        Ok(a) => a.etag,
        Err(e) => panic!("publish: {e}"),
    };
    let addr = d.url().trim_start_matches("http://").to_string();
    let request = format!(
        "GET /v1/catalog/bundle HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer t\r\n\
         X-Kiosk-Id: BENCH\r\nAccept: application/json\r\nIf-None-Match: {etag}\r\n\
         Connection: close\r\n\r\n"
    );
    let (sent, received) = exchange(&addr, &request);
    println!(
        "unchanged poll: {sent} bytes sent, {received} bytes received (304), against {} for the bundle",
        one.len()
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
