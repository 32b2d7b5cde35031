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
        util::stdout(&o).contains("165 services"),
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
