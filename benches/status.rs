//! Benchmarks of issue 6 (fleet status), whole-process where it matters:
//! 1. requests per second of one kiosk's status server on loopback while the runtime is busy
//!    (a thread updating the state as a busy kiosk does), for `/metrics`, `/v1/status`, `/healthz`;
//! 2. bytes per scrape of a realistic `/metrics` page;
//! 3. wall time of the real `zizhu fleet poll` binary over 1,000 status servers at concurrency 200.
//!
//! Run: `cargo bench --bench status` (goals: ≥ 5,000 req/s, ≤ 8 KiB, ≤ 3 s). Figures go to
//! benches/README.md. Load generator and servers share the machine's cores, so req/s is a floor.
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use zizhu::status::{self, DeviceState, Limits, Paper, Secret, StatusConfig, StatusState};

const TOKEN: &str = "bench-token-0123456789abcdef";

fn busy_state(id: &str) -> StatusState {
    let s = StatusState::new(id, "梅江区邮政支局");
    for d in status::DEVICES {
        s.set_device(d, DeviceState::Ok, None);
    }
    s.set_paper(Paper::Ok);
    s.set_trust_list_issued(Some(std::time::SystemTime::now()));
    s.platform_contact_ok();
    // A kiosk after a busy week: ten categories served, some failures, a few error kinds.
    for (i, cat) in [
        "social-security",
        "medical-insurance",
        "housing-fund",
        "tax",
        "civil-affairs",
        "household",
        "vehicle",
        "employment",
        "education",
        "certificates",
    ]
    .iter()
    .enumerate()
    {
        for _ in 0..(50 + i * 7) {
            s.service_completed(cat);
        }
        if i % 2 == 0 {
            s.service_failed(cat);
        }
    }
    for kind in ["device", "platform", "journal", "print"] {
        s.error(kind);
    }
    s
}

/// Reads one HTTP/1.1 response (headers + Content-Length body) from a keep-alive connection.
fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<usize> {
    buf.clear();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap_or(0))
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = s.read(&mut chunk).ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some(len);
        }
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Requests per second over `conns` keep-alive connections for `secs` seconds.
fn load(addr: SocketAddr, path: &str, conns: usize, secs: u64) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: kiosk\r\nAuthorization: Bearer {TOKEN}\r\n\r\n");
    let threads: Vec<_> = (0..conns)
        .map(|_| {
            let (stop, count, request) = (stop.clone(), count.clone(), request.clone());
            std::thread::spawn(move || {
                let mut buf = Vec::with_capacity(16 * 1024);
                let mut s = TcpStream::connect(addr).expect("connect");
                s.set_nodelay(true).ok();
                while !stop.load(Ordering::Relaxed) {
                    if s.write_all(request.as_bytes()).is_err()
                        || read_response(&mut s, &mut buf).is_none()
                    {
                        s = TcpStream::connect(addr).expect("reconnect");
                        continue;
                    }
                    assert!(
                        buf.starts_with(b"HTTP/1.1 200"),
                        "{}",
                        String::from_utf8_lossy(&buf[..40.min(buf.len())])
                    );
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn config() -> StatusConfig {
    StatusConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        token: Secret::new(TOKEN),
        tls: None,
        limits: Limits {
            per_client_rps: 0.0,
            ..Limits::default()
        },
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let secs = if quick { 1 } else { 5 };
    println!(
        "status benchmarks ({} runs of {secs} s; machine: {} cores)",
        if quick { 1 } else { 3 },
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // 1 + 2: one kiosk's server while the runtime is busy.
    let state = busy_state("MZ-0042");
    let handle = status::spawn(config(), state.clone()).expect("status server");
    let addr = handle.local_addr();
    let busy = Arc::new(AtomicBool::new(true));
    let worker = {
        let (busy, state) = (busy.clone(), state.clone());
        std::thread::spawn(move || {
            let screens = [
                "attract", "home", "category", "detail", "identify", "form", "confirm", "result",
            ];
            let mut i = 0usize;
            while busy.load(Ordering::Relaxed) {
                state.set_screen(screens[i % screens.len()]);
                state.set_session_active(!i.is_multiple_of(3));
                state.card_read();
                state.set_outbox((i % 5) as u64, None);
                i += 1;
                std::thread::sleep(Duration::from_micros(200));
            }
        })
    };
    let mut buf = Vec::new();
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(
        format!("GET /metrics HTTP/1.1\r\nHost: k\r\nAuthorization: Bearer {TOKEN}\r\n\r\n")
            .as_bytes(),
    )
    .expect("send");
    let metrics_bytes = read_response(&mut s, &mut buf).expect("metrics");
    s.write_all(
        format!("GET /v1/status HTTP/1.1\r\nHost: k\r\nAuthorization: Bearer {TOKEN}\r\n\r\n")
            .as_bytes(),
    )
    .expect("send");
    let status_bytes = read_response(&mut s, &mut buf).expect("status");
    s.write_all(format!("GET /metrics HTTP/1.1\r\nHost: k\r\nAccept-Encoding: gzip\r\nAuthorization: Bearer {TOKEN}\r\n\r\n").as_bytes()).expect("send");
    let gzip_bytes = read_response(&mut s, &mut buf).expect("gzipped metrics");
    drop(s);
    println!("bytes per scrape: /metrics {metrics_bytes} B ({:.1} KiB, goal <= 8 KiB), {gzip_bytes} B gzipped (as Prometheus asks); /v1/status {status_bytes} B", metrics_bytes as f64 / 1024.0);
    for path in ["/metrics", "/v1/status", "/healthz"] {
        let runs: Vec<f64> = (0..if quick { 1 } else { 3 })
            .map(|_| load(addr, path, 8, secs))
            .collect();
        println!(
            "requests/s {path:<11} median {:>8.0}  runs {:?}  (8 keep-alive clients, goal >= 5000)",
            median(runs.clone()),
            runs.iter().map(|r| r.round()).collect::<Vec<_>>()
        );
    }
    busy.store(false, Ordering::Relaxed);
    let _ = worker.join();
    handle.shutdown();

    // 3: the real poller over 1,000 status servers (one runtime in this process serves them all).
    let n = 1000;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("t.token"), TOKEN).expect("token");
    let mut inventory = String::from("token_file = \"t.token\"\n");
    let (stop_tx, _) = tokio::sync::broadcast::channel::<()>(1);
    for i in 0..n {
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        inventory.push_str(&format!(
            "[[kiosk]]\nid = \"B-{i:04}\"\nurl = \"http://127.0.0.1:{port}\"\n"
        ));
        let mut stop = stop_tx.subscribe();
        let state = busy_state(&format!("B-{i:04}"));
        runtime.spawn(status::serve(listener, config(), state, async move {
            let _ = stop.recv().await;
        }));
    }
    let inv = dir.path().join("fleet.toml");
    std::fs::write(&inv, inventory).expect("inventory");
    let mut times = Vec::new();
    for _ in 0..if quick { 1 } else { 5 } {
        let start = Instant::now();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_zizhu"))
            .args([
                "fleet",
                "poll",
                "--json",
                "--concurrency",
                "200",
                "--timeout",
                "5000",
                "--inventory",
            ])
            .arg(&inv)
            .env("RUST_LOG", "error")
            .output()
            .expect("zizhu fleet poll");
        times.push(start.elapsed().as_secs_f64());
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("poll JSON");
        assert_eq!(
            doc["summary"]["total"],
            n,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(doc["summary"]["down"], 0, "some servers did not answer");
    }
    println!("zizhu fleet poll, {n} endpoints, concurrency 200: median {:.2} s  runs {:?}  (goal <= 3 s)", median(times.clone()), times.iter().map(|t| (t * 100.0).round() / 100.0).collect::<Vec<_>>());
    let _ = stop_tx.send(());
}
