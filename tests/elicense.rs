//! E-licences: the dgc-testdata-style vectors in tests/vectors/elicense (every case through the
//! library's verifier, every layer cross-checked) and the real `zizhu elicense` binary.
use std::path::{Path, PathBuf};

use serde_json::Value;
use zizhu::elicense::{
    codec, store::MemoryStore, store::Store, trust, Error, Step, Verified, Verifier,
};
use zizhu_testkit::elicense_vectors as vectors;

use crate::util;

const STEPS: [Step; 13] = [
    Step::Prefix,
    Step::Base45,
    Step::Decompress,
    Step::Cbor,
    Step::Cose,
    Step::Algorithm,
    Step::Kid,
    Step::Signature,
    Step::Claims,
    Step::Time,
    Step::Usage,
    Step::Identifier,
    Step::Replay,
];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/elicense")
}

fn load() -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = std::fs::read_dir(dir())
        .expect("vector folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read vector");
            let name = p
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            (name, serde_json::from_str(&text).expect("vector is JSON"))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn time(v: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("time text"))
        .expect("RFC 3339")
        .timestamp()
}

fn hexv(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex text")).expect("hex")
}

/// Checks the layers agree with each other, as dgc-testdata consumers do.
fn check_layers(v: &Value) -> Result<(), String> {
    let prefix = v["PREFIX"].as_str().ok_or("PREFIX missing")?;
    if let Some(b45) = v["BASE45"].as_str() {
        if !prefix.ends_with(b45) {
            return Err("PREFIX does not end with BASE45".into());
        }
        if let Some(z) = v.get("COMPRESSED") {
            let decoded = base45::decode(b45).map_err(|e| format!("BASE45: {e:?}"))?;
            if decoded != hexv(z) {
                return Err("BASE45 does not decode to COMPRESSED".into());
            }
        }
    }
    if let (Some(z), Some(cose)) = (v.get("COMPRESSED"), v.get("COSE")) {
        if codec::inflate(&hexv(z)).map_err(|e| e.to_string())? != hexv(cose) {
            return Err("COMPRESSED does not inflate to COSE".into());
        }
    }
    if let (Some(cose), Some(cbor)) = (v.get("COSE"), v.get("CBOR")) {
        let cose = hexv(cose);
        let cbor = hexv(cbor);
        if !cose.windows(cbor.len()).any(|w| w == cbor.as_slice()) {
            return Err("COSE does not carry CBOR as its payload".into());
        }
    }
    Ok(())
}

fn run_case(v: &Value) -> Result<(), String> {
    check_layers(v)?;
    let ctx = &v["TESTCTX"];
    let exp = &v["EXPECTEDRESULTS"];
    let clock = time(&ctx["VALIDATIONCLOCK"]);
    let result: Result<Verified, Error> = (|| {
        let verifier = if let Some(keys) = ctx.get("KEYS") {
            let keys = trust::KeyListFile::parse(&keys.to_string())?.to_keys()?;
            Verifier::with_keys(keys, Box::new(MemoryStore::default()))
        } else {
            let roots = ctx["ROOTS"]
                .as_array()
                .expect("ROOTS")
                .iter()
                .map(|r| trust::parse_root(r.as_str().expect("root text")))
                .collect::<Result<Vec<_>, _>>()?;
            let store = MemoryStore::default();
            if let Some(seq) = ctx.get("STOREDSEQ").and_then(Value::as_u64) {
                store.save_trust_list(seq, b"", 0)?;
            }
            let mut verifier = Verifier::from_store(roots, Box::new(store))?;
            let installed =
                chrono::DateTime::from_timestamp(time(&ctx["TRUSTLISTCLOCK"]), 0).expect("clock");
            verifier.install_trust_list(&hexv(&ctx["TRUSTLIST"]), installed)?;
            verifier
        };
        if let Some(prior) = ctx.get("PRIOR").and_then(Value::as_array) {
            for p in prior {
                verifier.verify_at(p.as_str().expect("prior text"), clock)?;
            }
        }
        verifier.verify_at(v["PREFIX"].as_str().expect("PREFIX"), clock)
    })();

    match (&result, exp.get("EXPECTEDERROR")) {
        (Err(e), Some(want)) if want == e.code() => {}
        (Ok(_), None) => {}
        (got, want) => {
            let got = got
                .as_ref()
                .map(|_| "ok")
                .map_err(|e| format!("{} ({e})", e.code()));
            return Err(format!("want {want:?}, got {got:?}"));
        }
    }
    if let Ok(ok) = &result {
        let route = match ok {
            Verified::Presentation(_) => "presentation",
            Verified::Ticket(_) => "ticket",
            Verified::Opaque(_) => "opaque",
        };
        if exp["EXPECTEDROUTE"] != route {
            return Err(format!("route {route}, want {}", exp["EXPECTEDROUTE"]));
        }
        let warnings: Vec<&str> = match ok {
            Verified::Presentation(p) => p.warnings.iter().map(|w| w.code()).collect(),
            _ => Vec::new(),
        };
        let want: Vec<&str> = exp["EXPECTEDWARNINGS"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if warnings != want {
            return Err(format!("warnings {warnings:?}, want {want:?}"));
        }
    }
    let failing = result.as_ref().err().map(Error::step);
    for step in STEPS {
        let flag = vectors::step_flag(step).expect("flag");
        let Some(want) = exp.get(flag).and_then(Value::as_bool) else {
            continue;
        };
        let passed = failing.is_none_or(|f| step < f);
        let failed_here = failing == Some(step);
        if (want && !passed) || (!want && !failed_here) {
            return Err(format!("{flag} expected {want}, failing step {failing:?}"));
        }
    }
    Ok(())
}

#[test]
fn every_vector_gives_its_expected_result() {
    let cases = load();
    assert!(cases.len() >= 60, "only {} vectors", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(name, v)| run_case(v).err().map(|e| format!("{name}: {e}")))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn vectors_cover_the_profile_cases() {
    let names: Vec<String> = load().into_iter().map(|(n, _)| n).collect();
    for want in [
        "valid_es256",
        "valid_sm2",
        "tampered_payload",
        "wrong_sm2_distid",
        "der_signature_es256",
        "unknown_alg_eddsa",
        "unknown_kid",
        "alg_mismatch",
        "prefix_hc1",
        "base45_invalid_char",
        "zlib_broken",
        "cbor_truncated",
        "decompression_bomb",
        "time_iat_at_skew",
        "time_iat_past_skew",
        "time_exp_at_skew",
        "time_exp_past_skew",
        "replay_same_cti",
        "trust_list_expired",
        "trust_list_rollback_equal",
        "trust_list_unpinned_signer",
        "type_not_allowed",
        "lid_check_ok",
        "lid_check_variant",
    ] {
        assert!(names.iter().any(|n| n == want), "vector {want} missing");
    }
}

#[test]
fn committed_vectors_match_the_generator() {
    let out = tempfile::tempdir().expect("dir");
    vectors::generate(out.path()).expect("generate");
    for (name, v) in load() {
        let fresh = std::fs::read_to_string(out.path().join(format!("{name}.json")))
            .unwrap_or_else(|_| panic!("{name} no longer generated"));
        let fresh: Value = serde_json::from_str(&fresh).expect("json");
        assert_eq!(
            fresh, v,
            "{name} differs from the generator; regenerate the vectors"
        );
    }
}

fn vector(name: &str) -> Value {
    let text = std::fs::read_to_string(dir().join(format!("{name}.json"))).expect("vector");
    serde_json::from_str(&text).expect("json")
}

fn write_keys(home: &Path, v: &Value) -> PathBuf {
    let p = home.join("keys.json");
    std::fs::write(&p, v["TESTCTX"]["KEYS"].to_string()).expect("write keys");
    p
}

fn cli_verify(home: &Path, v: &Value, extra: &[&str]) -> std::process::Output {
    let keys = write_keys(home, v);
    let mut args = vec![
        "elicense".to_string(),
        "verify".into(),
        v["PREFIX"].as_str().expect("prefix").into(),
        "--keys".into(),
        keys.display().to_string(),
        "--now".into(),
        v["TESTCTX"]["VALIDATIONCLOCK"]
            .as_str()
            .expect("clock")
            .into(),
        "--json".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    util::zizhu(home).args(&args).output().expect("run zizhu")
}

#[test]
fn cli_verify_accepts_valid_and_reports_licence_fields() {
    let home = tempfile::tempdir().expect("home");
    for name in ["valid_es256", "valid_sm2"] {
        let out = cli_verify(home.path(), &vector(name), &[]);
        assert_eq!(util::code(&out), 0, "{name}: {}", util::stderr(&out));
        let j: Value = serde_json::from_str(&util::stdout(&out)).expect("json");
        assert_eq!(j["valid"], true);
        assert_eq!(j["route"], "presentation");
        assert_eq!(j["licence"]["licence_type"], "111000009000000221001");
        assert_eq!(j["licence_type_name"][0], "结婚证");
        assert_eq!(j["licence"]["holder_name"], "陈*明");
    }
}

#[test]
fn cli_verify_rejects_with_the_error_code_and_exit_1() {
    let home = tempfile::tempdir().expect("home");
    for name in [
        "tampered_payload",
        "wrong_sm2_distid",
        "decompression_bomb",
        "time_exp_past_skew",
        "input_payment_code",
        "input_url",
        "input_random_text",
        "cbor_deep",
    ] {
        let v = vector(name);
        let out = cli_verify(home.path(), &v, &[]);
        assert_eq!(util::code(&out), 1, "{name}: {}", util::stderr(&out));
        let j: Value = serde_json::from_str(&util::stdout(&out)).expect("json");
        assert_eq!(j["valid"], false, "{name}");
        let want = v["EXPECTEDRESULTS"]
            .get("EXPECTEDERROR")
            .cloned()
            .unwrap_or(Value::from("elicense.opaque"));
        assert_eq!(j["code"], want, "{name}");
        assert!(j["message_zh"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

#[test]
fn cli_usage_errors_exit_2() {
    let out = util::run(&["elicense", "verify", "EL1:ABC"]);
    assert_eq!(util::code(&out), 2, "{}", util::stderr(&out));
    assert!(util::stderr(&out).contains("--keys"));
    let out = util::run(&["elicense", "keygen", "--alg", "rsa"]);
    assert_eq!(util::code(&out), 2);
    let home = tempfile::tempdir().expect("home");
    let v = vector("valid_es256");
    let out = cli_verify(home.path(), &v, &["--now", "yesterday"]);
    assert_eq!(util::code(&out), 2);
}

#[test]
fn cli_keygen_issue_verify_round_trip_with_replay_across_runs() {
    let home = tempfile::tempdir().expect("home");
    let h = home.path();
    let key = h.join("issuer.json");
    for alg in ["es256", "sm2"] {
        let out = util::zizhu(h)
            .args(["elicense", "keygen", "--alg", alg, "--out"])
            .arg(&key)
            .output()
            .expect("keygen");
        assert_eq!(util::code(&out), 0, "{}", util::stderr(&out));
        let k: Value =
            serde_json::from_str(&std::fs::read_to_string(&key).expect("key")).expect("json");
        let keys = h.join("keys.json");
        let list = serde_json::json!({"keys": [{
            "alg": k["alg"], "public_key": k["public_key"], "iss": "GD-YSS", "types": ["111000009000000221"],
        }]});
        std::fs::write(&keys, list.to_string()).expect("write");
        let out = util::zizhu(h)
            .args([
                "elicense", "issue", "--iss", "GD-YSS", "--type", "marriage", "--name", "陈*明",
                "--qr", "--key",
            ])
            .arg(&key)
            .output()
            .expect("issue");
        assert_eq!(util::code(&out), 0, "{}", util::stderr(&out));
        let text = util::stdout(&out);
        let payload = text.lines().next().expect("payload line").to_string();
        assert!(payload.starts_with("EL1:"));
        assert!(
            text.contains('▀') || text.contains('▄') || text.contains('█'),
            "QR drawn"
        );
        let db = h.join(format!("journal-{alg}.sqlite"));
        let verify = || {
            util::zizhu(h)
                .args(["elicense", "verify", &payload, "--json", "--keys"])
                .arg(&keys)
                .arg("--db")
                .arg(&db)
                .output()
                .expect("verify")
        };
        let first = verify();
        assert_eq!(util::code(&first), 0, "{}", util::stdout(&first));
        let second = verify();
        assert_eq!(util::code(&second), 1);
        let j: Value = serde_json::from_str(&util::stdout(&second)).expect("json");
        assert_eq!(j["code"], "elicense.replayed");
    }
}

#[test]
fn cli_trust_list_sign_verify_and_rollback() {
    let home = tempfile::tempdir().expect("home");
    let h = home.path();
    let run = |args: &[&str]| {
        util::zizhu(h)
            .current_dir(h)
            .args(args)
            .output()
            .expect("zizhu")
    };
    assert_eq!(
        util::code(&run(&[
            "elicense",
            "keygen",
            "--alg",
            "es256",
            "--out",
            "root.json"
        ])),
        0
    );
    assert_eq!(
        util::code(&run(&[
            "elicense",
            "keygen",
            "--alg",
            "sm2",
            "--out",
            "issuer.json"
        ])),
        0
    );
    let root: Value =
        serde_json::from_str(&std::fs::read_to_string(h.join("root.json")).expect("r")).expect("j");
    let issuer: Value =
        serde_json::from_str(&std::fs::read_to_string(h.join("issuer.json")).expect("i"))
            .expect("j");
    let keys = serde_json::json!({"keys": [{
        "alg": "SM2", "public_key": issuer["public_key"], "iss": "GD-YSS", "types": ["111000009000000221"],
    }]});
    std::fs::write(h.join("keys.json"), keys.to_string()).expect("write");
    let out = run(&[
        "elicense",
        "trust-list",
        "sign",
        "--root-key",
        "root.json",
        "--keys",
        "keys.json",
        "--seq",
        "3",
        "--out",
        "tl.cose",
    ]);
    assert_eq!(util::code(&out), 0, "{}", util::stderr(&out));
    let pin = format!("es256:{}", root["public_key"].as_str().expect("pk"));
    let out = run(&[
        "elicense",
        "trust-list",
        "show",
        "tl.cose",
        "--root",
        &pin,
        "--json",
    ]);
    assert_eq!(util::code(&out), 0, "{}", util::stderr(&out));
    let shown: Value = serde_json::from_str(&util::stdout(&out)).expect("json");
    assert_eq!(shown["seq"], 3);
    let out = run(&[
        "elicense",
        "issue",
        "--key",
        "issuer.json",
        "--iss",
        "GD-YSS",
        "--type",
        "marriage",
    ]);
    let payload = util::stdout(&out).trim().to_string();
    let verify = |p: &str| {
        run(&[
            "elicense", "verify", p, "--trust", "tl.cose", "--root", &pin, "--db", "j.sqlite",
            "--json",
        ])
    };
    let first = verify(&payload);
    assert_eq!(util::code(&first), 0, "{}", util::stdout(&first));
    // The same list again is a rollback now that seq 3 is stored.
    let again = verify(&payload);
    assert_eq!(util::code(&again), 1);
    let j: Value = serde_json::from_str(&util::stdout(&again)).expect("json");
    assert_eq!(j["code"], "elicense.trust_list_rollback");
    // A list signed by another root is refused.
    let out = run(&[
        "elicense",
        "trust-list",
        "show",
        "tl.cose",
        "--root",
        &format!("sm2:{}", issuer["public_key"].as_str().expect("pk")),
    ]);
    assert_eq!(util::code(&out), 1);
}

#[test]
fn cli_demo_issuer_and_demo_trust_agree() {
    let home = tempfile::tempdir().expect("home");
    let h = home.path();
    for alg in ["es256", "sm2"] {
        let out = util::zizhu(h)
            .args([
                "elicense",
                "issue",
                "--demo",
                "--alg",
                alg,
                "--ticket",
                "identity:440106",
            ])
            .output()
            .expect("issue");
        assert_eq!(util::code(&out), 0, "{}", util::stderr(&out));
        let payload = util::stdout(&out).trim().to_string();
        assert!(payload.starts_with("ET1:"));
        let out = util::zizhu(h)
            .args(["elicense", "verify", "--demo", "--json", &payload])
            .output()
            .expect("verify");
        assert_eq!(util::code(&out), 0, "{}", util::stdout(&out));
        let j: Value = serde_json::from_str(&util::stdout(&out)).expect("json");
        assert_eq!(j["route"], "ticket");
        assert_eq!(j["reference"], hex::encode("identity:440106"));
    }
}
