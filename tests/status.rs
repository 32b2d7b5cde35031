//! The kiosk status server over real HTTP on loopback: token, rate limit, bad requests, slow
//! clients, privacy; `promtool` on its metrics and on deploy/prometheus; and a real Prometheus
//! server scraping three simulated kiosks through file_sd targets written by `zizhu fleet sd`.
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use zizhu::status::{self, DeviceState, Limits, Paper, Secret, StatusConfig, StatusState};

use crate::fleet::{token_file, Sim};
use crate::util;

const TOKEN: &str = "test-token-0123456789abcdef";

/// Sends raw `request` bytes and returns what the server answered (until it closes).
fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(request).expect("send");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn get(addr: SocketAddr, path: &str, token: Option<&str>) -> (u16, String) {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let answer = raw(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: k\r\n{auth}Connection: close\r\n\r\n").as_bytes(),
    );
    let code = answer.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (code, body)
}

fn server(limits: Limits) -> (status::StatusHandle, StatusState) {
    let state = StatusState::new("MZ-0042", "梅江区邮政支局");
    state.set_device("printer", DeviceState::Ok, None);
    state.set_paper(Paper::NearEnd);
    let config = StatusConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        token: Secret::new(TOKEN),
        tls: None,
        limits,
    };
    (
        status::spawn(config, state.clone()).expect("status server"),
        state,
    )
}

/// Panics with the remedy when a Prometheus tool is missing.
fn need(tool: &str) {
    let found = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        found,
        "{tool} not found: install Debian's `prometheus` package (scripts/test does)"
    );
}

#[test]
fn endpoints_token_and_privacy() {
    let (handle, state) = server(Limits {
        per_client_rps: 0.0,
        ..Limits::default()
    });
    let addr = handle.local_addr();
    assert_eq!(get(addr, "/healthz", None), (200, "ok\n".to_string()));
    let (code, body) = get(addr, "/v1/status", None);
    assert_eq!(code, 401);
    assert!(!body.contains("MZ-0042"));
    assert_eq!(
        get(addr, "/metrics", Some("wrong-token-0123456789abcdef")).0,
        401
    );
    let answer = raw(
        addr,
        b"GET /metrics HTTP/1.1\r\nHost: k\r\nConnection: close\r\n\r\n",
    );
    assert!(
        answer.to_lowercase().contains("www-authenticate: bearer"),
        "{answer}"
    );

    // A citizen uses the kiosk; a device error mentions an ID number: neither leaks.
    state.set_session_active(true);
    state.set_screen("identify");
    state.set_device(
        "idcard",
        DeviceState::Degraded,
        Some("checksum error for 44010619900101123X"),
    );
    let (code, body) = get(addr, "/v1/status", Some(TOKEN));
    assert_eq!(code, 200);
    let report: status::StatusReport = serde_json::from_str(&body).expect("status JSON");
    assert_eq!(report.kiosk_id, "MZ-0042");
    assert_eq!(report.site, "梅江区邮政支局");
    assert!(report.session_active);
    assert_eq!(report.screen, "identify");
    assert_eq!(report.printer_paper, Paper::NearEnd);
    assert_eq!(report.devices["idcard"].state, DeviceState::Degraded);
    assert!(report.disk.size_bytes > 0);
    assert!(
        !body.contains("44010619900101123X") && !body.contains("199001011"),
        "{body}"
    );
    let (code, metrics) = get(addr, "/metrics", Some(TOKEN));
    assert_eq!(code, 200);
    assert!(metrics.contains("zizhu_session_active 1"));
    assert!(metrics.contains("zizhu_printer_paper{state=\"near_end\"} 1"));
    assert!(!metrics.contains("44010619900101123X"));
    assert_eq!(get(addr, "/v1/other", Some(TOKEN)).0, 404);
    assert_eq!(raw(addr, b"POST /v1/status HTTP/1.1\r\nHost: k\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").get(9..12), Some("401"));
    handle.shutdown();
    assert!(
        TcpStream::connect(addr).is_err(),
        "stopped server still accepts"
    );
}

#[test]
fn bad_requests_slow_clients_and_floods() {
    let limits = Limits {
        per_client_rps: 0.01,
        per_client_burst: 8.0,
        header_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let (handle, _state) = server(limits);
    let addr = handle.local_addr();
    // Malformed request line.
    let answer = raw(addr, b"THIS IS NOT HTTP\r\n\r\n");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 400"),
        "{answer:?}"
    );
    // Oversized head: 64 KiB of headers.
    let big = format!(
        "GET /healthz HTTP/1.1\r\nHost: k\r\nX-Junk: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let answer = raw(addr, big.as_bytes());
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{}",
        &answer[..answer.len().min(80)]
    );
    // A slow client that never finishes its headers is cut off: the server closes the
    // connection (read_to_end ends cleanly) long before our own 30 s read timeout would fire
    // (which would end it with an error instead).
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: k\r\n")
        .unwrap();
    let mut rest = Vec::new();
    let closed = slow.read_to_end(&mut rest);
    assert!(closed.is_ok(), "slow client was never cut off: {closed:?}");
    // A flood from one address gets 429 with Retry-After once its burst is spent.
    let mut codes = Vec::new();
    for _ in 0..12 {
        codes.push(get(addr, "/healthz", None).0);
    }
    assert!(codes.contains(&429), "{codes:?}");
    let answer = raw(
        addr,
        b"GET /healthz HTTP/1.1\r\nHost: k\r\nConnection: close\r\n\r\n",
    );
    assert!(answer.to_lowercase().contains("retry-after:"), "{answer}");
}

#[test]
fn promtool_checks_metrics_and_deploy_configs() {
    need("promtool");
    let (handle, state) = server(Limits::default());
    state.service_completed("social-security");
    state.service_failed("tax");
    state.error("device");
    state.staff_refused("expired");
    state.staff_refused("other-site");
    state.staff_signed_in();
    let (code, metrics) = get(handle.local_addr(), "/metrics", Some(TOKEN));
    for family in [
        "zizhu_staff_sign_ins_total 1",
        "zizhu_staff_sign_in_refusals_total{reason=\"expired\"} 1",
        "zizhu_staff_signed_in 1",
    ] {
        assert!(metrics.contains(family), "{family} missing:\n{metrics}");
    }
    assert_eq!(code, 200);
    let mut check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    check
        .stdin
        .take()
        .unwrap()
        .write_all(metrics.as_bytes())
        .unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics:\n{}{}",
        util::stdout(&out),
        util::stderr(&out)
    );

    let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/prometheus");
    for args in [
        vec![
            "check",
            "config",
            "prometheus.yml",
            "prometheus-sharded.yml",
            "site-collector/prometheus-agent.yml",
        ],
        vec!["check", "rules", "rules/zizhu-alerts.yml"],
        vec!["test", "rules", "tests/zizhu-alerts.test.yml"],
    ] {
        let out = Command::new("promtool")
            .args(&args)
            .current_dir(&deploy)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}:\n{}{}",
            util::stdout(&out),
            util::stderr(&out)
        );
    }
}

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET` on the Prometheus HTTP API; the JSON answer.
fn prom_query(port: u16, query: &str) -> Option<serde_json::Value> {
    let q: String = query
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"_-.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    // Prometheus may not listen yet: a refused connection is "no answer yet".
    TcpStream::connect(("127.0.0.1", port)).ok()?;
    let (code, body) = get(
        SocketAddr::from(([127, 0, 0, 1], port)),
        &format!("/api/v1/query?query={q}"),
        None,
    );
    (code == 200)
        .then(|| serde_json::from_str(&body).ok())
        .flatten()
}

#[test]
fn real_prometheus_scrapes_three_kiosks() {
    need("prometheus");
    let dir = tempfile::tempdir().unwrap();
    let token = token_file(dir.path(), "scrape.token", TOKEN);
    let sims = [
        Sim::start("PR-0001", &token, &[]),
        Sim::start(
            "PR-0002",
            &token,
            &["--device-offline", "printer", "--paper", "out"],
        ),
        Sim::start("PR-0003", &token, &["--outbox", "7"]),
    ];
    let mut inv = String::from("token_file = \"scrape.token\"\n");
    for (i, s) in sims.iter().enumerate() {
        inv.push_str(&format!(
            "[[kiosk]]\nid = \"PR-000{}\"\nurl = \"{}\"\nsite = \"站点{i}\"\n",
            i + 1,
            s.url
        ));
    }
    std::fs::write(dir.path().join("fleet.toml"), inv).unwrap();
    std::fs::create_dir(dir.path().join("targets")).unwrap();
    let out = util::zizhu(dir.path())
        .args([
            "fleet",
            "sd",
            "--inventory",
            "fleet.toml",
            "--out",
            "targets/fleet.json",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(util::code(&out), 0, "{}", util::stderr(&out));
    // The shipped config, with a 1 s interval so the test does not wait for 30 s scrapes.
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/prometheus/prometheus.yml"),
    )
    .unwrap();
    let config = shipped
        .replace("scrape_interval: 30s", "scrape_interval: 1s")
        .replace("scrape_timeout: 10s", "scrape_timeout: 1s")
        .replace(
            "credentials_file: secrets/scrape.token",
            "credentials_file: scrape.token",
        )
        .replace("rule_files:\n  - rules/zizhu-alerts.yml\n", "");
    std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
    let port = free_port();
    let _prom = Killed(
        Command::new("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting prometheus"),
    );
    // Wait (bounded) until all three targets have been scraped.
    let deadline = Instant::now() + Duration::from_secs(90);
    let up = loop {
        let result = prom_query(port, "up{job=\"zizhu-kiosk\"}")
            .and_then(|v| v["data"]["result"].as_array().cloned());
        if let Some(r) = result.filter(|r| r.len() == 3) {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus did not scrape three kiosks in 90 s"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    for series in &up {
        assert_eq!(series["value"][1], "1", "{series}");
    }
    let mut instances: Vec<&str> = up
        .iter()
        .filter_map(|s| s["metric"]["instance"].as_str())
        .collect();
    instances.sort();
    assert_eq!(instances, ["PR-0001", "PR-0002", "PR-0003"]);
    let printer = prom_query(port, "zizhu_device_up{device=\"printer\"}").unwrap();
    let printer = printer["data"]["result"].as_array().unwrap();
    assert_eq!(printer.len(), 3);
    for series in printer {
        let want = if series["metric"]["instance"] == "PR-0002" {
            "0"
        } else {
            "1"
        };
        assert_eq!(series["value"][1], want, "{series}");
    }
    let paper = prom_query(port, "zizhu_printer_paper{state=\"out\"} == 1").unwrap();
    assert_eq!(paper["data"]["result"][0]["metric"]["instance"], "PR-0002");
    let outbox = prom_query(port, "zizhu_outbox_items{instance=\"PR-0003\"}").unwrap();
    assert_eq!(outbox["data"]["result"][0]["value"][1], "7");
}

/// Issue 10, defect 3: one address holding hundreds of idle sockets (no request, so the rate
/// limiter never sees it) must not lock other addresses out. Two loopback source addresses
/// stand for two clients.
#[test]
fn one_address_cannot_take_every_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let limits = Limits {
        per_client_rps: 0.0,
        // Idle sockets would otherwise be cut off at the header timeout, hiding the problem.
        header_timeout: Duration::from_secs(60),
        ..Limits::default()
    };
    let per_client = limits.max_connections_per_client;
    let pool = limits.max_connections;
    let (handle, _state) = server(limits);
    let addr = handle.local_addr();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let from = |ip: &str| {
            let s = tokio::net::TcpSocket::new_v4().unwrap();
            s.bind(format!("{ip}:0").parse().unwrap()).unwrap();
            s.connect(addr)
        };
        let mut idle = Vec::new();
        for _ in 0..pool + 20 {
            idle.push(from("127.0.0.2").await.expect("connect from 127.0.0.2"));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        // Another client is served at once.
        let mut other = from("127.0.0.3").await.expect("connect from 127.0.0.3");
        other
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: k\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), other.read_to_end(&mut answer))
            .await
            .expect("/healthz answered in time")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
        // The flooding address kept only its own share; the server closed the rest.
        let mut open = 0;
        for s in &mut idle {
            let mut b = [0u8; 1];
            // Still waiting after 20 ms: the server holds it (a closed one reads EOF or a reset).
            if tokio::time::timeout(Duration::from_millis(20), s.read(&mut b))
                .await
                .is_err()
            {
                open += 1;
            }
        }
        assert_eq!(open, per_client, "connections left open for 127.0.0.2");
    });
}
