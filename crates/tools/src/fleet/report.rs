//! How a poll is shown: a table with the kiosks that need attention first (or JSON with
//! `--json`), and a one-line summary.
use std::fmt::Write;

use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use super::poll::{KioskResult, Verdict};

/// Counts over a poll.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// Kiosks polled.
    pub total: usize,
    /// Answering with nothing wrong.
    pub ok: usize,
    /// Needing attention (everything not ok).
    pub attention: usize,
    /// Not answering.
    pub down: usize,
    /// Refusing the token.
    pub unauthorized: usize,
    /// Answering garbage.
    pub bad_answer: usize,
}

/// Counts `results`.
pub fn summarize(results: &[KioskResult]) -> Summary {
    let mut s = Summary {
        total: results.len(),
        ..Summary::default()
    };
    for r in results {
        match r.verdict {
            Verdict::Ok => s.ok += 1,
            Verdict::Down => s.down += 1,
            Verdict::Unauthorized => s.unauthorized += 1,
            Verdict::BadAnswer => s.bad_answer += 1,
            Verdict::Attention => {}
        }
        if r.needs_attention() {
            s.attention += 1;
        }
    }
    s
}

fn order_key(r: &KioskResult) -> (u8, u8) {
    let v = match r.verdict {
        Verdict::Down => 0,
        Verdict::Unauthorized => 1,
        Verdict::BadAnswer => 2,
        Verdict::Attention => 3,
        Verdict::Ok => 4,
    };
    (v, r.problems.first().map_or(u8::MAX, |p| p.rank()))
}

/// Sorts results problems first: down, unauthorized, garbage, then by worst problem, then id.
pub fn sort(results: &mut [KioskResult]) {
    results.sort_by(|a, b| {
        order_key(a)
            .cmp(&order_key(b))
            .then_with(|| a.id.cmp(&b.id))
    });
}

fn verdict_label(v: Verdict) -> &'static str {
    match v {
        Verdict::Ok => "OK",
        Verdict::Attention => "ATTENTION",
        Verdict::Down => "DOWN",
        Verdict::Unauthorized => "UNAUTHORIZED",
        Verdict::BadAnswer => "BAD-ANSWER",
    }
}

fn pad(out: &mut String, text: &str, width: usize) {
    out.push_str(text);
    for _ in UnicodeWidthStr::width(text)..width {
        out.push(' ');
    }
    out.push_str("  ");
}

fn cut(text: &str, max: usize) -> String {
    if UnicodeWidthStr::width(text) <= max {
        return text.to_string();
    }
    let mut out = String::new();
    for c in text.chars() {
        if UnicodeWidthStr::width(out.as_str()) + 2 > max {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// The table (results must already be sorted) followed by the summary line.
pub fn table(results: &[KioskResult]) -> String {
    let rows: Vec<[String; 6]> = results
        .iter()
        .map(|r| {
            let version = r
                .status
                .as_ref()
                .map_or("-".to_string(), |s| s.version.clone());
            let catalog = r.status.as_ref().map_or("-".to_string(), |s| {
                let c = &s.catalog;
                let seq = c
                    .sequence
                    .map_or("embedded".to_string(), |q| format!("#{q}"));
                match &c.profile {
                    Some(p) => format!("{seq} {p}"),
                    None => seq,
                }
            });
            let detail = if r.problems.is_empty() {
                r.status.as_ref().map_or(String::new(), |s| {
                    format!("screen {}, outbox {}", s.screen, s.outbox.depth)
                })
            } else {
                r.problems
                    .iter()
                    .map(|p| p.describe())
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            [
                verdict_label(r.verdict).to_string(),
                r.id.clone(),
                cut(&r.site, 24),
                version,
                catalog,
                detail,
            ]
        })
        .collect();
    let headers = ["STATE", "KIOSK", "SITE", "VERSION", "CATALOG", "DETAIL"];
    let mut widths = headers.map(UnicodeWidthStr::width);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(UnicodeWidthStr::width(cell.as_str()));
        }
    }
    let mut out = String::new();
    for row in std::iter::once(headers.map(str::to_string)).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                pad(&mut line, cell, widths[i]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let s = summarize(results);
    let _ = writeln!(
        out,
        "\n{} kiosks: {} ok, {} need attention ({} down, {} unauthorized, {} bad answer)",
        s.total, s.ok, s.attention, s.down, s.unauthorized, s.bad_answer
    );
    out
}

/// The `--json` document.
pub fn json(results: &[KioskResult]) -> serde_json::Value {
    serde_json::json!({ "summary": summarize(results), "kiosks": results })
}
