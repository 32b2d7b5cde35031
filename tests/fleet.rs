//! `zizhu fleet`: fifty simulated kiosks on loopback polled in one run (some stopped, one with a
//! wrong token, one out of paper, one answering garbage), inventory errors naming their lines,
//! and file_sd targets. The simulated kiosks are `zizhu fleet serve-sim` processes, each with its
//! own HOME and a free loopback port.
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use crate::util;

/// A `zizhu fleet serve-sim` process; killed when dropped.
pub struct Sim {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    _home: tempfile::TempDir,
}

impl Sim {
    /// Starts a simulated kiosk `id` with `token_file` and extra serve-sim arguments.
    pub fn start(id: &str, token_file: &Path, extra: &[&str]) -> Sim {
        let home = tempfile::tempdir().expect("temp home");
        let mut child = util::zizhu(home.path())
            .args([
                "fleet",
                "serve-sim",
                "--listen",
                "127.0.0.1:0",
                "--kiosk-id",
                id,
            ])
            .arg("--token-file")
            .arg(token_file)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting zizhu fleet serve-sim");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("reading the address");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("serve-sim said {line:?}"));
        Sim {
            url: url.to_string(),
            child,
            _home: home,
        }
    }

    /// Stops the kiosk (as if it lost power).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Writes a token file in `dir` and returns its path.
pub fn token_file(dir: &Path, name: &str, token: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("{token}\n")).expect("token file");
    p
}

/// A loopback server that answers every request with `reply` (a kiosk gone wrong).
fn garbage_server(reply: &'static [u8]) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(reply);
        }
    });
    format!("http://{addr}")
}

#[test]
fn fifty_kiosks_polled_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let token = token_file(dir.path(), "fleet.token", "fleet-token-0123456789abcdef");
    let mut sims: Vec<Sim> = (0..50)
        .map(|i| {
            let id = format!("MZ-{i:04}");
            let extra: &[&str] = match i {
                3 => &["--paper", "out", "--disk-free-percent", "4"],
                4 => &["--device-offline", "printer"],
                _ => &[],
            };
            Sim::start(&id, &token, extra)
        })
        .collect();
    for i in [10, 20, 30, 40, 45] {
        sims[i].stop();
    }
    let garbage = garbage_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\nconnection: close\r\n\r\nnot json!",
    );
    let mut inv = String::from("token_file = \"fleet.token\"\n");
    for (i, s) in sims.iter().enumerate() {
        inv.push_str(&format!("\n[[kiosk]]\nid = \"MZ-{i:04}\"\nurl = \"{}\"\nsite = \"梅江区站点{i}\"\ntags = [\"t{}\"]\n", s.url, i % 3));
        if i == 7 {
            inv.push_str("token = \"this-is-the-wrong-token-000\"\n");
        }
    }
    inv.push_str(&format!(
        "\n[[kiosk]]\nid = \"BROKEN\"\nurl = \"{garbage}\"\n"
    ));
    let inventory = dir.path().join("fleet.toml");
    std::fs::write(&inventory, inv).unwrap();

    let out = util::zizhu(dir.path())
        .args([
            "fleet",
            "poll",
            "--json",
            "--concurrency",
            "16",
            "--timeout",
            "5000",
            "--inventory",
        ])
        .arg(&inventory)
        .output()
        .unwrap();
    assert_eq!(util::code(&out), 1, "{}", util::stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("poll --json");
    let summary = &doc["summary"];
    assert_eq!(summary["total"], 51);
    assert_eq!(summary["down"], 5);
    assert_eq!(summary["unauthorized"], 1);
    assert_eq!(summary["bad_answer"], 1);
    assert_eq!(summary["ok"], 51 - 5 - 1 - 1 - 2);
    let kiosks = doc["kiosks"].as_array().unwrap();
    let by_id = |id: &str| {
        kiosks
            .iter()
            .find(|k| k["id"] == id)
            .unwrap_or_else(|| panic!("{id} missing"))
    };
    assert_eq!(by_id("MZ-0010")["verdict"], "down");
    assert_eq!(by_id("MZ-0007")["verdict"], "unauthorized");
    assert_eq!(by_id("BROKEN")["verdict"], "bad_answer");
    assert_eq!(by_id("MZ-0003")["problems"][0]["kind"], "paper_out");
    assert!(
        by_id("MZ-0003")["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["kind"] == "disk_low"),
        "{}",
        by_id("MZ-0003")
    );
    assert_eq!(by_id("MZ-0004")["problems"][0]["kind"], "device_offline");
    assert_eq!(by_id("MZ-0004")["problems"][0]["device"], "printer");
    assert_eq!(by_id("MZ-0001")["verdict"], "ok");
    assert_eq!(by_id("MZ-0001")["status"]["session_active"], false);
    // Problems first: the first rows are the down kiosks, the last ones are ok.
    assert_eq!(kiosks[0]["verdict"], "down");
    assert_eq!(kiosks[50]["verdict"], "ok");

    // The table says the same, problems first, and a summary line.
    let out = util::zizhu(dir.path())
        .args(["fleet", "poll", "--inventory"])
        .arg(&inventory)
        .output()
        .unwrap();
    assert_eq!(util::code(&out), 1);
    let table = util::stdout(&out);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("STATE"), "{table}");
    assert!(lines[1].starts_with("DOWN"), "{table}");
    assert!(table.contains("UNAUTHORIZED  MZ-0007"), "{table}");
    assert!(table.contains("paper out"), "{table}");
    assert!(
        table.contains("51 kiosks: 42 ok, 9 need attention (5 down, 1 unauthorized, 1 bad answer)"),
        "{table}"
    );

    // With only healthy kiosks (tag t1 minus the stopped and broken ones) the exit status is 0.
    let healthy: String = [1usize, 2, 5, 6]
        .iter()
        .map(|i| {
            format!(
                "[[kiosk]]\nid = \"K{i}\"\nurl = \"{}\"\ntoken_file = \"fleet.token\"\n",
                sims[*i].url
            )
        })
        .collect();
    let inv2 = dir.path().join("healthy.toml");
    std::fs::write(&inv2, healthy).unwrap();
    let out = util::zizhu(dir.path())
        .args(["fleet", "poll", "--inventory"])
        .arg(&inv2)
        .output()
        .unwrap();
    assert_eq!(util::code(&out), 0, "{}", util::stdout(&out));
}

#[test]
fn bad_inventories_exit_2_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    token_file(dir.path(), "t", "0123456789abcdef0123");
    let inv = dir.path().join("bad.toml");
    std::fs::write(
        &inv,
        "token_file = \"t\"\n[[kiosk]]\nid = \"A\"\nurl = \"http://127.0.0.1:9464\"\n[[kiosk]]\nid = \"A\"\nurl = \"http://127.0.0.1:9465\"\n[[kiosk]]\nid = \"B\"\nurl = \"not a url\"\n[[kiosk]]\nid = \"C\"\nurl = \"http://h:1\"\ntoken_file = \"missing.token\"\n",
    )
    .unwrap();
    let out = util::zizhu(dir.path())
        .args(["fleet", "poll", "--inventory"])
        .arg(&inv)
        .output()
        .unwrap();
    assert_eq!(util::code(&out), 2);
    let err = util::stderr(&out);
    assert!(
        err.contains("line 6: duplicate kiosk id \"A\" (first at line 3)"),
        "{err}"
    );
    assert!(
        err.contains("line 10: kiosk B: bad url \"not a url\""),
        "{err}"
    );
    assert!(
        err.contains("line 14: kiosk C: cannot read status token file"),
        "{err}"
    );

    std::fs::write(&inv, "[[kiosk]]\nid = \"A\"\nurl = [1\n").unwrap();
    let out = util::zizhu(dir.path())
        .args(["fleet", "sd", "--out", "x.json", "--inventory"])
        .arg(&inv)
        .output()
        .unwrap();
    assert_eq!(util::code(&out), 2);
    assert!(
        util::stderr(&out).contains("bad.toml:3:"),
        "{}",
        util::stderr(&out)
    );

    let out = util::zizhu(dir.path())
        .args(["fleet", "poll", "--inventory", "/no/such/file.toml"])
        .output()
        .unwrap();
    assert_eq!(util::code(&out), 2);
    let out = util::zizhu(dir.path())
        .args(["fleet", "poll", "--concurrency", "0", "--inventory"])
        .arg(&inv)
        .output()
        .unwrap();
    assert_eq!(util::code(&out), 2);
}

#[test]
fn sd_writes_prometheus_targets() {
    let dir = tempfile::tempdir().unwrap();
    token_file(dir.path(), "t", "0123456789abcdef0123");
    let inv = dir.path().join("fleet.toml");
    std::fs::write(
        &inv,
        "token_file = \"t\"\n[[kiosk]]\nid = \"MZ-0042\"\nurl = \"http://10.1.2.3:9464\"\nsite = \"梅江区邮政支局\"\ntags = [\"post-office\", \"meijiang\"]\n[[kiosk]]\nid = \"MZ-0043\"\nurl = \"https://kiosk43.example.invalid/zizhu\"\ntags = [\"mall\"]\n",
    )
    .unwrap();
    let out_file = dir.path().join("targets.json");
    let out = util::zizhu(dir.path())
        .args(["fleet", "sd", "--inventory"])
        .arg(&inv)
        .arg("--out")
        .arg(&out_file)
        .output()
        .unwrap();
    assert_eq!(util::code(&out), 0, "{}", util::stderr(&out));
    let groups: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    assert_eq!(groups[0]["targets"][0], "10.1.2.3:9464");
    assert_eq!(groups[0]["labels"]["kiosk_id"], "MZ-0042");
    assert_eq!(groups[0]["labels"]["site"], "梅江区邮政支局");
    assert_eq!(groups[0]["labels"]["tags"], ",post-office,meijiang,");
    assert_eq!(groups[0]["labels"]["__metrics_path__"], "/metrics");
    assert_eq!(groups[1]["targets"][0], "kiosk43.example.invalid:443");
    assert_eq!(groups[1]["labels"]["__scheme__"], "https");
    assert_eq!(groups[1]["labels"]["__metrics_path__"], "/zizhu/metrics");
    assert!(
        !std::fs::read_to_string(&out_file)
            .unwrap()
            .contains("0123456789abcdef"),
        "no token in targets"
    );

    let out = util::zizhu(dir.path())
        .args(["fleet", "sd", "--tag", "mall", "--inventory"])
        .arg(&inv)
        .arg("--out")
        .arg(&out_file)
        .output()
        .unwrap();
    assert_eq!(util::code(&out), 0);
    let groups: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    assert_eq!(groups.as_array().unwrap().len(), 1);
}

/// Runs `openssl ARGS` in `dir`; panics with the remedy when it is missing or fails.
fn openssl(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl not found: install Debian's openssl package (scripts/test does)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        util::stderr(&out)
    );
}

#[test]
fn https_kiosk_polled_with_its_ca() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    openssl(
        d,
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=zizhu test CA",
            ],
        ]
        .concat(),
    );
    openssl(
        d,
        &[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "kiosk.key",
                "-out",
                "kiosk.csr",
                "-subj",
                "/CN=kiosk",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        d.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "kiosk.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "kiosk.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
    let token = token_file(d, "t.token", "tls-token-0123456789abcdef");
    let cert = d.join("kiosk.pem");
    let key = d.join("kiosk.key");
    let sim = Sim::start(
        "TLS-0001",
        &token,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(sim.url.starts_with("https://"), "{}", sim.url);

    // Plain HTTP at the TLS port is refused without harm.
    let mut s = std::net::TcpStream::connect(sim.url.trim_start_matches("https://")).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: k\r\n\r\n")
        .unwrap();
    let mut junk = Vec::new();
    let _ = s.read_to_end(&mut junk);

    let inv = d.join("fleet.toml");
    std::fs::write(&inv, format!("token_file = \"t.token\"\nca_file = \"ca.pem\"\n[[kiosk]]\nid = \"TLS-0001\"\nurl = \"{}\"\n", sim.url)).unwrap();
    let out = util::zizhu(d)
        .args(["fleet", "poll", "--inventory"])
        .arg(&inv)
        .output()
        .unwrap();
    assert_eq!(
        util::code(&out),
        0,
        "{}{}",
        util::stdout(&out),
        util::stderr(&out)
    );
    assert!(
        util::stdout(&out).contains("OK     TLS-0001"),
        "{}",
        util::stdout(&out)
    );

    // Without the CA the certificate is not trusted: reported, not a crash.
    std::fs::write(
        &inv,
        format!(
            "token_file = \"t.token\"\n[[kiosk]]\nid = \"TLS-0001\"\nurl = \"{}\"\n",
            sim.url
        ),
    )
    .unwrap();
    let out = util::zizhu(d)
        .args(["fleet", "poll", "--json", "--inventory"])
        .arg(&inv)
        .output()
        .unwrap();
    assert_eq!(util::code(&out), 1);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["kiosks"][0]["verdict"], "down", "{doc}");

    // A ca_file that is not a certificate is an inventory error naming its line.
    std::fs::write(&inv, format!("token_file = \"t.token\"\n[[kiosk]]\nid = \"TLS-0001\"\nurl = \"{}\"\nca_file = \"t.token\"\n", sim.url)).unwrap();
    let out = util::zizhu(d)
        .args(["fleet", "poll", "--inventory"])
        .arg(&inv)
        .output()
        .unwrap();
    assert_eq!(util::code(&out), 2);
    assert!(
        util::stderr(&out).contains("line 5: ca_file"),
        "{}",
        util::stderr(&out)
    );
}

/// A real `zizhu run --headless` kiosk in simulation, with its own HOME; killed when dropped.
struct Headless {
    child: std::process::Child,
    url: String,
    token: String,
    home: tempfile::TempDir,
}

impl Headless {
    fn start() -> Headless {
        let home = tempfile::tempdir().expect("temp home");
        let mut child = util::zizhu(home.path())
            .args(["run", "--headless"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting zizhu run --headless");
        let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        // The runtime prints `status: URL token TOKEN` once (simulation: generated token).
        while !line.starts_with("status: ") {
            line.clear();
            let n = reader
                .read_line(&mut line)
                .expect("reading the runtime's output");
            assert!(
                n > 0,
                "zizhu run --headless ended without printing its status address"
            );
        }
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let mut words = line.split_whitespace().skip(1);
        let url = words.next().expect("status URL").to_string();
        let token = words.nth(1).expect("status token").to_string();
        Headless {
            child,
            url,
            token,
            home,
        }
    }
}

impl Drop for Headless {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn headless_runtimes_side_by_side_are_polled() {
    let kiosks: Vec<Headless> = (0..3).map(|_| Headless::start()).collect();
    let dir = tempfile::tempdir().unwrap();
    let mut inv = String::new();
    for (i, k) in kiosks.iter().enumerate() {
        inv.push_str(&format!(
            "[[kiosk]]\nid = \"HL-{i}\"\nurl = \"{}\"\ntoken = \"{}\"\n",
            k.url, k.token
        ));
    }
    inv.push_str(&format!(
        "[[kiosk]]\nid = \"HL-wrong\"\nurl = \"{}\"\ntoken = \"not-the-token-0123456789\"\n",
        kiosks[0].url
    ));
    let inventory = dir.path().join("fleet.toml");
    std::fs::write(&inventory, inv).unwrap();
    let out = util::zizhu(dir.path())
        .args(["fleet", "poll", "--json", "--inventory"])
        .arg(&inventory)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("poll --json");
    let results = doc["kiosks"].as_array().unwrap();
    let mut data_dirs = std::collections::HashSet::new();
    for (i, k) in kiosks.iter().enumerate() {
        let r = results
            .iter()
            .find(|r| r["id"] == format!("HL-{i}"))
            .unwrap();
        assert!(r["status"].is_object(), "HL-{i} gave no status: {r}");
        let status = &r["status"];
        assert_eq!(status["session_active"], false);
        assert!(status["uptime_seconds"].is_u64());
        // Each runtime keeps its data under its own HOME.
        let disk = status["disk"]["path"].as_str().unwrap();
        assert!(disk.starts_with(k.home.path().to_str().unwrap()), "{disk}");
        data_dirs.insert(disk.to_string());
    }
    assert_eq!(data_dirs.len(), 3);
    let wrong = results.iter().find(|r| r["id"] == "HL-wrong").unwrap();
    assert_eq!(wrong["verdict"], "unauthorized");
    assert_eq!(util::code(&out), 1);
}

#[test]
fn kiosks_behind_the_newest_catalog_need_attention() {
    let dir = tempfile::tempdir().unwrap();
    let token = token_file(dir.path(), "fleet.token", "fleet-token-0123456789abcdef");
    let sims = [
        Sim::start("CAT-NEW", &token, &["--catalog-seq", "42"]),
        Sim::start(
            "CAT-OLD",
            &token,
            &["--catalog-seq", "41", "--catalog-refused", "signature"],
        ),
        Sim::start("CAT-EMB", &token, &[]),
    ];
    let inv: String = ["CAT-NEW", "CAT-OLD", "CAT-EMB"]
        .iter()
        .zip(&sims)
        .map(|(id, s)| {
            format!(
                "[[kiosk]]\nid = \"{id}\"\nurl = \"{}\"\ntoken_file = \"fleet.token\"\n",
                s.url
            )
        })
        .collect();
    let inventory = dir.path().join("fleet.toml");
    std::fs::write(&inventory, inv).unwrap();
    let out = util::zizhu(dir.path())
        .args(["fleet", "poll", "--json", "--inventory"])
        .arg(&inventory)
        .output()
        .unwrap();
    assert_eq!(util::code(&out), 1, "{}", util::stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("poll --json");
    let kiosk = |id: &str| {
        doc["kiosks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} missing"))
    };
    assert_eq!(kiosk("CAT-NEW")["verdict"], "ok");
    assert_eq!(kiosk("CAT-NEW")["status"]["catalog"]["source"], "bundle");
    let old = kiosk("CAT-OLD");
    assert_eq!(old["verdict"], "attention");
    assert_eq!(old["problems"][0]["kind"], "catalog_behind");
    assert_eq!(old["problems"][0]["sequence"], 41);
    assert_eq!(old["problems"][0]["newest"], 42);
    assert_eq!(old["problems"][0]["last_refused"], "signature");
    let emb = kiosk("CAT-EMB");
    assert_eq!(emb["problems"][0]["kind"], "catalog_behind");
    assert!(emb["problems"][0]["sequence"].is_null());

    let out = util::zizhu(dir.path())
        .args(["fleet", "poll", "--inventory"])
        .arg(&inventory)
        .output()
        .unwrap();
    let table = util::stdout(&out);
    assert!(table.lines().next().unwrap().contains("CATALOG"), "{table}");
    assert!(
        table.contains("catalog 41 < 42 (refused: signature)"),
        "{table}"
    );
    assert!(table.contains("catalog embedded < 42"), "{table}");
    assert!(table.contains("#42"), "{table}");
}

#[test]
fn a_kiosk_where_a_citizen_waits_for_help_needs_attention_first() {
    let dir = tempfile::tempdir().unwrap();
    let token = token_file(dir.path(), "fleet.token", "fleet-token-0123456789abcdef");
    let sims = [
        Sim::start(
            "HELP-WAIT",
            &token,
            &["--help-pending", "--catalog-seq", "7"],
        ),
        Sim::start("HELP-NONE", &token, &["--catalog-seq", "7"]),
    ];
    let inv: String = ["HELP-WAIT", "HELP-NONE"]
        .iter()
        .zip(&sims)
        .map(|(id, s)| {
            format!(
                "[[kiosk]]\nid = \"{id}\"\nurl = \"{}\"\ntoken_file = \"fleet.token\"\n",
                s.url
            )
        })
        .collect();
    let inventory = dir.path().join("fleet.toml");
    std::fs::write(&inventory, inv).unwrap();
    let out = util::zizhu(dir.path())
        .args(["fleet", "poll", "--json", "--inventory"])
        .arg(&inventory)
        .output()
        .unwrap();
    assert_eq!(util::code(&out), 1, "{}", util::stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("poll --json");
    let kiosk = |id: &str| {
        doc["kiosks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} missing"))
    };
    let waiting = kiosk("HELP-WAIT");
    assert_eq!(waiting["verdict"], "attention");
    assert_eq!(waiting["problems"][0]["kind"], "help_pending");
    assert!(waiting["problems"][0]["since_unix"].is_i64());
    assert_eq!(waiting["status"]["help_pending"], true);
    assert_eq!(waiting["status"]["counters"]["help_requests"], 1);
    assert_eq!(kiosk("HELP-NONE")["verdict"], "ok");
    assert_eq!(kiosk("HELP-NONE")["status"]["help_pending"], false);

    let out = util::zizhu(dir.path())
        .args(["fleet", "poll", "--inventory"])
        .arg(&inventory)
        .output()
        .unwrap();
    let table = util::stdout(&out);
    assert!(table.contains("help requested"), "{table}");
}
