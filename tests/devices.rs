//! Device commands end to end: the real `zizhu` binary against simulated devices on
//! pseudo-terminals (started in-process or as `zizhu sim …` processes).
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use zizhu_drivers::idcard::card::{encode_read_data, encode_text, fake_photo, samples};
use zizhu_drivers::idcard::protocol::{encode_response, hex};
use zizhu_drivers::{idcard, printer, scanner};

use crate::util;

/// A child process killed on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_path(p: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !p.exists() {
        assert!(Instant::now() < deadline, "{} never appeared", p.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn sim_process(home: &Path, args: &[&str], stdin: Stdio) -> Proc {
    let child = util::zizhu(home)
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting zizhu sim");
    Proc(child)
}

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", util::stdout(o)))
}

fn read_response(i: usize) -> Vec<u8> {
    let c = &samples()[i];
    let text = encode_text(c).unwrap();
    encode_response(0x90, &encode_read_data(&text, &fake_photo(i as u8), None))
}

#[test]
fn idcard_read_every_kind_from_the_sim_process() {
    let home = tempfile::tempdir().unwrap();
    for (i, want) in samples().iter().enumerate() {
        let link = home.path().join(format!("id{i}"));
        let n = i.to_string();
        let _sim = sim_process(
            home.path(),
            &[
                "sim",
                "idcard",
                "--link",
                link.to_str().unwrap(),
                "--place",
                &n,
            ],
            Stdio::null(),
        );
        wait_for_path(&link);
        let o = util::zizhu(home.path())
            .args(["idcard", "read", "--port", link.to_str().unwrap(), "--json"])
            .output()
            .unwrap();
        assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
        let v = json(&o);
        assert_eq!(v["card"]["id_number"], want.id_number.as_str());
        assert_eq!(v["card"]["name"], want.name.as_str());
        assert_eq!(v["photo_wlt_bytes"], 1024);
        assert_ne!(v["card"]["id_number_check"], "bad");
        // The text output masks personal data.
        let o = util::zizhu(home.path())
            .args(["idcard", "read", "--port", link.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(util::code(&o), 0);
        assert!(!util::stdout(&o).contains(&want.id_number));
        assert!(util::stdout(&o).contains(&zizhu_drivers::privacy::mask(&want.id_number)));
    }
}

#[test]
fn idcard_read_reports_no_card_and_reader_errors() {
    let home = tempfile::tempdir().unwrap();
    let link = home.path().join("id");
    let sim = idcard::sim::Simulator::spawn(&link, samples()).unwrap();
    let o = util::zizhu(home.path())
        .args([
            "idcard",
            "read",
            "--port",
            link.to_str().unwrap(),
            "--wait",
            "0",
        ])
        .output()
        .unwrap();
    assert_eq!(util::code(&o), 1);
    assert!(util::stderr(&o).contains("no card"), "{}", util::stderr(&o));
    sim.place(0);
    sim.set_fault(idcard::sim::Fault::ReadError);
    let o = util::zizhu(home.path())
        .args(["idcard", "read", "--port", link.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(util::code(&o), 1);
    assert!(util::stderr(&o).contains("SW3 41"), "{}", util::stderr(&o));
    let o = util::run(&["idcard", "read", "--port", "/nonexistent/tty"]);
    assert_eq!(util::code(&o), 1);
    assert!(util::stderr(&o).contains("--port"));
}

#[test]
fn idcard_decode_hex_file_and_bad_input() {
    for (i, want) in samples().iter().enumerate() {
        let frame = read_response(i);
        let o = util::run(&["idcard", "decode", "--hex", &hex(&frame), "--json"]);
        assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
        let v = json(&o);
        for key in [
            "kind",
            "name",
            "name_en",
            "sex",
            "sex_code",
            "nation_code",
            "nation",
            "birth_date",
            "address",
            "id_number",
            "id_number_check",
            "authority",
            "authority_code",
            "valid_from",
            "valid_to",
            "valid_long_term",
            "pass_number",
            "issue_count",
            "nationality",
            "renewal_count",
            "card_version",
            "old_permit_link",
        ] {
            assert!(v["card"].get(key).is_some(), "field {key} missing");
        }
        assert_eq!(v["card"]["birth_date"], want.birth_date.as_str());
    }
    // A raw binary file with stray bytes before the preamble.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("frame.bin");
    let mut raw = vec![0x00, 0x13];
    raw.extend(read_response(2));
    std::fs::write(&f, &raw).unwrap();
    let o = util::run(&["idcard", "decode", "--file", f.to_str().unwrap(), "--json"]);
    assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
    assert_eq!(json(&o)["card"]["kind"], "foreign_permanent2017");
    // A bad check digit is reported, not hidden.
    let mut c = samples().remove(0);
    c.id_number = "110105194912310021".into();
    let frame = encode_response(
        0x90,
        &encode_read_data(&encode_text(&c).unwrap(), &fake_photo(0), None),
    );
    let o = util::run(&["idcard", "decode", "--hex", &hex(&frame), "--json"]);
    assert_eq!(json(&o)["card"]["id_number_check"], "bad");
    let o = util::run(&["idcard", "decode", "--hex", &hex(&frame), "--unmasked"]);
    assert!(util::stdout(&o).contains("CHECK DIGIT WRONG"));
    // Bad input exits 2; a reader error frame (public vector) exits 1.
    assert_eq!(
        util::code(&util::run(&["idcard", "decode", "--hex", "zz"])),
        2
    );
    assert_eq!(
        util::code(&util::run(&[
            "idcard",
            "decode",
            "--hex",
            "AA AA AA 96 69 00 03 20 01 21"
        ])),
        2
    );
    assert_eq!(
        util::code(&util::run(&[
            "idcard",
            "decode",
            "--hex",
            "AA AA AA 96 69 05 08 00 00 90"
        ])),
        2
    );
    let o = util::run(&[
        "idcard",
        "decode",
        "--hex",
        "AA AA AA 96 69 00 04 00 00 41 45",
    ]);
    assert_eq!(util::code(&o), 1);
    assert!(util::stderr(&o).contains("SW3 41"));
    assert_eq!(util::code(&util::run(&["idcard", "decode"])), 2);
}

#[test]
fn receipt_render_png_and_bin() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("r.png");
    let bin = dir.path().join("r.bin");
    let id = zizhu::catalog::Catalog::builtin()
        .ids()
        .next()
        .unwrap()
        .to_string();
    let o = util::run(&[
        "receipt",
        "render",
        "--item",
        &id,
        "--out",
        png.to_str().unwrap(),
    ]);
    assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
    let o = util::run(&[
        "receipt",
        "render",
        "--item",
        &id,
        "--out",
        bin.to_str().unwrap(),
    ]);
    assert_eq!(util::code(&o), 0);
    let b = std::fs::read(&bin).unwrap();
    assert_eq!(&b[..4], &[0x1B, 0x40, 0x1C, 0x26]);
    let ops = printer::parse::parse_all(&b);
    assert!(ops.iter().any(|o| matches!(
        o,
        printer::parse::Op::Raster {
            width_bytes: 72,
            ..
        }
    )));
    assert!(matches!(ops.last(), Some(printer::parse::Op::Cut { .. })));
    let o = util::run(&[
        "receipt",
        "render",
        "--item",
        "no-such-service",
        "--out",
        png.to_str().unwrap(),
    ]);
    assert_eq!(util::code(&o), 2);
    assert!(util::stderr(&o).contains("zizhu catalog list"));
    let o = util::run(&["receipt", "render", "--item", &id, "--out", "r.jpg"]);
    assert_eq!(util::code(&o), 2);
}

#[test]
fn printer_status_and_test_page() {
    let home = tempfile::tempdir().unwrap();
    let link = home.path().join("lp");
    let out = home.path().join("jobs");
    let sim = printer::sim::Simulator::spawn(&link, Some(&out)).unwrap();
    let port = link.to_str().unwrap();
    for (fault, field) in [
        (printer::sim::Fault::PaperEnd, "paper_end"),
        (printer::sim::Fault::NearEnd, "paper_near_end"),
        (printer::sim::Fault::CoverOpen, "cover_open"),
        (printer::sim::Fault::CutterError, "cutter_error"),
    ] {
        sim.set_fault(fault);
        let o = util::zizhu(home.path())
            .args(["printer", "status", "--port", port, "--json"])
            .output()
            .unwrap();
        assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
        assert_eq!(json(&o)[field], true, "{fault:?}");
    }
    sim.set_fault(printer::sim::Fault::PaperEnd);
    let o = util::zizhu(home.path())
        .args(["printer", "test", "--port", port])
        .output()
        .unwrap();
    assert_eq!(util::code(&o), 1);
    assert!(util::stderr(&o).contains("out of paper"));
    assert_eq!(sim.job_count(), 0);
    sim.set_fault(printer::sim::Fault::None);
    let o = util::zizhu(home.path())
        .args(["printer", "test", "--port", port])
        .output()
        .unwrap();
    assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
    let deadline = Instant::now() + Duration::from_secs(10);
    while sim.job_count() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let jobs = sim.jobs();
    assert_eq!(jobs.len(), 1);
    assert!(jobs[0].png.as_ref().is_some_and(|p| p.exists()));
    sim.set_fault(printer::sim::Fault::Silence);
    let o = util::zizhu(home.path())
        .args(["printer", "status", "--port", port])
        .output()
        .unwrap();
    assert_eq!(util::code(&o), 1);
}

#[test]
fn sim_printer_process_saves_jobs() {
    let home = tempfile::tempdir().unwrap();
    let link = home.path().join("lp");
    let out: PathBuf = home.path().join("jobs");
    let _sim = sim_process(
        home.path(),
        &[
            "sim",
            "printer",
            "--link",
            link.to_str().unwrap(),
            "--out-dir",
            out.to_str().unwrap(),
        ],
        Stdio::null(),
    );
    wait_for_path(&link);
    let o = util::zizhu(home.path())
        .args(["printer", "test", "--port", link.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
    wait_for_path(&out.join("job-0001.png"));
    wait_for_path(&out.join("job-0001.bin"));
}

#[test]
fn scanner_listen_against_in_process_and_process_sims() {
    let home = tempfile::tempdir().unwrap();
    let link = home.path().join("scan");
    let sim = scanner::sim::Simulator::spawn(&link).unwrap();
    let child = util::zizhu(home.path())
        .args([
            "scanner",
            "listen",
            "--port",
            link.to_str().unwrap(),
            "--count",
            "2",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let child = Proc(child);
    // The listener opens the port asynchronously: keep scanning (distinct codes) until it has two.
    let mut p = child;
    let mut n = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = p.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "scanner listen did not finish");
        sim.scan(&format!("粤省事-{n}"));
        n += 1;
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(status.success());
    let mut out = String::new();
    std::io::Read::read_to_string(p.0.stdout.as_mut().unwrap(), &mut out).unwrap();
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0]["text"].as_str().unwrap().starts_with("粤省事-"));
    assert_eq!(lines[0]["charset"], "utf8");
    drop(sim);

    // `zizhu sim scanner` scans what is typed on its stdin.
    let link2 = home.path().join("scan2");
    let mut sim = sim_process(
        home.path(),
        &["sim", "scanner", "--link", link2.to_str().unwrap()],
        Stdio::piped(),
    );
    wait_for_path(&link2);
    let listener = util::zizhu(home.path())
        .args([
            "scanner",
            "listen",
            "--port",
            link2.to_str().unwrap(),
            "--count",
            "1",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut listener = Proc(listener);
    let stdin = sim.0.stdin.as_mut().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut k = 0;
    while listener.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "no scan arrived");
        k += 1;
        let _ = writeln!(stdin, "HELLO-{k}");
        std::thread::sleep(Duration::from_millis(300));
    }
    let mut out = String::new();
    std::io::Read::read_to_string(listener.0.stdout.as_mut().unwrap(), &mut out).unwrap();
    assert!(out.starts_with("HELLO-"), "{out}");
    assert_eq!(
        util::code(&util::run(&[
            "scanner",
            "listen",
            "--port",
            "/x",
            "--trigger",
            "bogus"
        ])),
        2
    );
}

#[test]
fn sim_commands_reject_bad_usage() {
    let dir = tempfile::tempdir().unwrap();
    let l = dir.path().join("x");
    let l = l.to_str().unwrap();
    assert_eq!(
        util::code(&util::run(&[
            "sim", "idcard", "--link", l, "--fault", "bogus"
        ])),
        2
    );
    assert_eq!(
        util::code(&util::run(&["sim", "idcard", "--link", l, "--place", "99"])),
        2
    );
    assert_eq!(
        util::code(&util::run(&[
            "sim",
            "printer",
            "--link",
            l,
            "--out-dir",
            l,
            "--fault",
            "x"
        ])),
        2
    );
    assert_eq!(
        util::code(&util::run(&[
            "sim", "scanner", "--link", l, "--suffix", "x"
        ])),
        2
    );
    let cards = dir.path().join("cards.json");
    std::fs::write(&cards, "{not json").unwrap();
    assert_eq!(
        util::code(&util::run(&[
            "sim",
            "idcard",
            "--link",
            l,
            "--cards",
            cards.to_str().unwrap()
        ])),
        2
    );
}
