//! `zizhu catalog` and `zizhu config check` from the command line: listing, search ranking, and
//! external files with problems (each reported with its line, exit 2).
use crate::util;

const GOOD: &str = r#"version = 1

[[category]]
id = "social-security"
zh = "社会保险"
en = "Social insurance"
short_zh = "社保"
icon = "social-security"

[[licence]]
id = "household-register"
zh = "居民户口簿"
en = "Household register"

[[service]]
id = "ss-query"
zh = "社保参保查询"
en = "Query social insurance enrolment"
category = "social-security"
department_zh = "市社会保险基金管理局"
department_en = "Social Insurance Fund"
audience = "person"
auth = "idcard"
output = "screen"
frequency = "high"
summary_zh = "查询参保状态。"
summary_en = "Shows your enrolment."
elicense = ["household-register"]

[[service.field]]
key = "months"
kind = "month-range"
zh = "查询月份"
en = "Months"
example = "2025-01..2025-12"
"#;

fn check(text: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("catalog.toml");
    std::fs::write(&f, text).unwrap();
    let o = util::run(&["catalog", "check", f.to_str().unwrap()]);
    (util::code(&o), util::stdout(&o), util::stderr(&o))
}

/// The line (1-based) of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).unwrap()].matches('\n').count() + 1
}

#[test]
fn check_accepts_a_good_file_and_the_shipped_catalog() {
    let (code, out, err) = check(GOOD);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 services"), "{out}");
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/data/catalog.toml");
    let o = util::run(&["catalog", "check", shipped]);
    assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
    assert!(
        util::stdout(&o).contains("170 services"),
        "{}",
        util::stdout(&o)
    );
}

#[test]
fn check_names_the_line_of_each_problem() {
    // Duplicate id.
    let dup = format!("{GOOD}\n{}", &GOOD[GOOD.find("[[service]]").unwrap()..]);
    let (code, _, err) = check(&dup);
    assert_eq!(code, 2);
    let second = dup.rfind("id = \"ss-query\"").unwrap();
    let line = dup[..second].matches('\n').count() + 1;
    assert!(
        err.contains(&format!("line {line}")) && err.contains("duplicate id"),
        "{err}"
    );

    // Unknown category.
    let bad = GOOD.replace("category = \"social-security\"", "category = \"socail\"");
    let (code, _, err) = check(&bad);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("line {}", line_of(&bad, "category = \"socail\""))),
        "{err}"
    );
    assert!(
        err.contains("unknown category `socail`") && err.contains("social-security"),
        "{err}"
    );

    // Missing translation (empty English name).
    let bad = GOOD.replace("en = \"Query social insurance enrolment\"", "en = \"\"");
    let (code, _, err) = check(&bad);
    assert_eq!(code, 2);
    assert!(
        err.contains("service.en") && err.contains("missing translation"),
        "{err}"
    );
    assert!(
        err.contains(&format!("line {}", line_of(&bad, "en = \"\""))),
        "{err}"
    );

    // Bad field type.
    let bad = GOOD.replace("kind = \"month-range\"", "kind = \"colour\"");
    let (code, _, err) = check(&bad);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("line {}", line_of(&bad, "kind = \"colour\""))),
        "{err}"
    );
    assert!(err.contains("colour"), "{err}");

    // Unknown e-licence type, and a file that is not TOML at all.
    let bad = GOOD.replace(
        "elicense = [\"household-register\"]",
        "elicense = [\"hukou\"]",
    );
    let (code, _, err) = check(&bad);
    assert_eq!(code, 2);
    assert!(err.contains("unknown e-licence type `hukou`"), "{err}");
    let (code, _, err) = check("version = 1\n[[service]\n");
    assert_eq!(code, 2);
    assert!(err.contains("line 2"), "{err}");
    // A file that cannot be read.
    let o = util::run(&["catalog", "check", "/nonexistent/catalog.toml"]);
    assert_eq!(util::code(&o), 2);
}

#[test]
fn search_ranks_and_lists_from_the_command_line() {
    let o = util::run(&["catalog", "search", "sbcx", "--json"]);
    assert_eq!(util::code(&o), 0);
    let hits: Vec<serde_json::Value> = serde_json::from_str(&util::stdout(&o)).unwrap();
    assert!(!hits.is_empty());
    assert!(hits
        .iter()
        .filter(|h| h["match"] == "initials")
        .all(|h| h["category"] == "social-security"));
    let o = util::run(&["catalog", "search", "housing fund", "--lang", "en"]);
    assert!(
        util::stdout(&o).contains("housing fund")
            || util::stdout(&o).to_lowercase().contains("housing")
    );
    let o = util::run(&["catalog", "list", "--json"]);
    let all: Vec<serde_json::Value> = serde_json::from_str(&util::stdout(&o)).unwrap();
    assert!(all.len() >= 130);
    let o = util::run(&["catalog", "list", "--category", "nope"]);
    assert_eq!(util::code(&o), 2);
    assert!(
        util::stderr(&o).contains("housing-fund"),
        "lists the valid ids"
    );
    let o = util::run(&["catalog", "list", "--lang", "fr"]);
    assert_eq!(util::code(&o), 2);
}

#[test]
fn config_check_names_the_bad_key() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("kiosk.toml");
    std::fs::write(&f, "[kiosk]\nid = \"MZ-0042\"\nsite = \"梅江区邮政支局\"\n").unwrap();
    let o = util::run(&["config", "check", f.to_str().unwrap()]);
    assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
    std::fs::write(&f, "[kiosk]\nid = \"MZ-0042\"\nidle_timeout = 30\n").unwrap();
    let o = util::run(&["config", "check", f.to_str().unwrap()]);
    assert_eq!(util::code(&o), 2);
    assert!(
        util::stderr(&o).contains("idle_timeout") && util::stderr(&o).contains("line 3"),
        "{}",
        util::stderr(&o)
    );
    // A panel rotation that is not a quarter turn is named with its key.
    for bad in ["45", "\"portrait\""] {
        std::fs::write(&f, format!("[display]\nrotation = {bad}\n")).unwrap();
        let o = util::run(&["config", "check", f.to_str().unwrap()]);
        assert_eq!(util::code(&o), 2, "{bad}");
        assert!(
            util::stderr(&o).contains("display.rotation"),
            "{}",
            util::stderr(&o)
        );
    }
    std::fs::write(&f, "[display]\nrotation = 270\n").unwrap();
    let o = util::run(&["config", "check", f.to_str().unwrap()]);
    assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
    std::fs::write(&f, "[status]\nlisten = \"0.0.0.0\"\n").unwrap();
    let o = util::run(&["config", "check", f.to_str().unwrap()]);
    assert_eq!(util::code(&o), 2);
    assert!(
        util::stderr(&o).contains("status.listen"),
        "{}",
        util::stderr(&o)
    );
}

#[test]
fn a_site_profile_limits_listing_and_search_and_says_where_to_go() {
    let o = util::run(&["catalog", "list", "--profiles"]);
    assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
    let out = util::stdout(&o);
    for id in ["village", "post-office", "city-centre"] {
        assert!(out.contains(id), "{out}");
    }
    let o = util::run(&["catalog", "list", "--profile", "village", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let n = v.as_array().unwrap().len();
    assert!((15..=25).contains(&n), "{n}");
    // The village offers no housing-fund service: search finds them, but as elsewhere.
    let o = util::run(&[
        "catalog",
        "search",
        "公积金",
        "--profile",
        "village",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let hits = v.as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h["offered_here"] == false), "{v}");
    let o = util::run(&["catalog", "search", "公积金", "--profile", "village"]);
    assert!(util::stdout(&o).contains("粤省事"), "{}", util::stdout(&o));
    let o = util::run(&[
        "catalog",
        "search",
        "公积金",
        "--profile",
        "post-office",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|h| h["offered_here"] == true),
        "{v}"
    );
    let o = util::run(&["catalog", "list", "--profile", "mall"]);
    assert_eq!(util::code(&o), 2);
    assert!(util::stderr(&o).contains("village"), "{}", util::stderr(&o));
}

#[test]
fn bundles_are_signed_verified_and_refused_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let keygen = |name: &str, seed: &str| {
        let o = util::run(&[
            "elicense",
            "keygen",
            "--alg",
            "es256",
            "--seed",
            seed,
            "--out",
            &p(name),
        ]);
        assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
        let f: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(p(name)).unwrap()).unwrap();
        format!("es256:{}", f["public_key"].as_str().unwrap())
    };
    let key = keygen("catalog.key", "catalog-key");
    let other = keygen("other.key", "other-key");
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/data/catalog.toml");
    let o = util::run(&[
        "catalog",
        "sign",
        shipped,
        "--key",
        &p("catalog.key"),
        "--seq",
        "42",
        "--out",
        &p("b.cose"),
    ]);
    assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
    let o = util::run(&[
        "catalog",
        "verify",
        &p("b.cose"),
        "--key",
        &key,
        "--in-use",
        "41",
        "--json",
    ]);
    assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["seq"], 42);
    assert_eq!(v["services"], 170);

    let refused = |args: &[&str], reason: &str| {
        let o = util::run(args);
        assert_eq!(util::code(&o), 2, "{args:?}: {}", util::stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["reason"], reason, "{args:?}: {v}");
        assert!(util::stderr(&o).contains("refused"), "{}", util::stderr(&o));
    };
    let b = p("b.cose");
    refused(
        &["catalog", "verify", &b, "--key", &other, "--json"],
        "signature",
    );
    refused(
        &[
            "catalog", "verify", &b, "--key", &key, "--in-use", "42", "--json",
        ],
        "rollback",
    );
    let raw = std::fs::read(&b).unwrap();
    std::fs::write(p("cut.cose"), &raw[..raw.len() / 2]).unwrap();
    refused(
        &["catalog", "verify", &p("cut.cose"), "--key", &key, "--json"],
        "malformed",
    );
    std::fs::write(p("big.cose"), vec![0u8; 600 * 1024]).unwrap();
    refused(
        &["catalog", "verify", &p("big.cose"), "--key", &key, "--json"],
        "too-large",
    );

    // A catalog with a problem is never signed; the problem is named with its line.
    let bad = GOOD.replace(
        "category = \"social-security\"\ndepartment",
        "category = \"nope\"\ndepartment",
    );
    std::fs::write(p("bad.toml"), &bad).unwrap();
    let o = util::run(&[
        "catalog",
        "sign",
        &p("bad.toml"),
        "--key",
        &p("catalog.key"),
        "--seq",
        "43",
        "--out",
        &p("bad.cose"),
    ]);
    assert_eq!(util::code(&o), 2);
    assert!(
        util::stderr(&o).contains(&format!(
            "bad.toml:line {}",
            line_of(&bad, "category = \"nope\"")
        )),
        "{}",
        util::stderr(&o)
    );
    assert!(!dir.path().join("bad.cose").exists());
    let o = util::run(&["catalog", "verify", &b, "--key", "rsa:00"]);
    assert_eq!(util::code(&o), 2);
    assert!(util::stderr(&o).contains("--key"), "{}", util::stderr(&o));
}
