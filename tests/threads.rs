//! Threads of a real headless kiosk (`zizhu run --headless`, no config file: simulated devices
//! on pseudo-terminals, the demo platform in-process): a count, so the figure in
//! benches/README.md and docs/architecture.md can be reproduced with
//! `cargo test --test integration threads:: -- --nocapture`.
use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::util;

/// The goal of the architecture issue: at most this many threads in a headless simulated kiosk.
const MAX_THREADS: usize = 12;

/// The names of the process's threads (`/proc/PID/task/*/comm`).
fn thread_names(pid: u32) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read_to_string(e.path().join("comm")).ok())
                .map(|n| n.trim().to_string())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// `GET /v1/status` with the bearer token, over a plain socket; the body.
fn status(addr: &str, token: &str) -> String {
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = write!(
        s,
        "GET /v1/status HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

#[test]
fn a_headless_simulated_kiosk_runs_at_most_twelve_threads() {
    let home = tempfile::tempdir().expect("temp home");
    let mut child = util::zizhu(home.path())
        .args(["run", "--headless"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting zizhu run --headless");
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    while !line.starts_with("status: ") {
        line.clear();
        let n = reader.read_line(&mut line).expect("reading the output");
        assert!(n > 0, "zizhu run --headless ended without its status line");
    }
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let mut words = line.split_whitespace().skip(1);
    let addr = words
        .next()
        .expect("status URL")
        .trim_start_matches("http://")
        .to_string();
    let token = words.nth(1).expect("status token").to_string();

    // Everything has started once the three devices answer and the platform was reached (the
    // health loop's first ping).
    let start = Instant::now();
    let ready = loop {
        let body = status(&addr, &token);
        let report: Option<zizhu::status::StatusReport> = serde_json::from_str(&body).ok();
        let up = report.is_some_and(|r| {
            ["idcard", "printer", "scanner"].iter().all(|d| {
                r.devices
                    .get(*d)
                    .is_some_and(|h| h.state == zizhu::status::DeviceState::Ok)
            }) && r.platform.last_contact_unix.is_some()
        });
        if up || start.elapsed() > Duration::from_secs(60) {
            break up;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // The most seen in a few looks a little apart (a thread that comes and goes counts).
    let mut most = Vec::new();
    for _ in 0..10 {
        let names = thread_names(child.id());
        if names.len() > most.len() {
            most = names;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let exit = child.wait().expect("waiting for the kiosk");
    println!("threads of zizhu run --headless: {} {most:?}", most.len());
    assert!(ready, "the simulated kiosk did not come up within 60 s");
    assert!(exit.success(), "zizhu run --headless ended with {exit}");
    assert!(
        most.len() <= MAX_THREADS,
        "{} threads (at most {MAX_THREADS}): {most:?}",
        most.len()
    );
}
