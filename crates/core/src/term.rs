//! The one place that makes text safe for a terminal. Everything a human reads that came from a
//! device (card text, scanner lines, e-licence claims) or from the platform (messages, titles,
//! values) passes through [`safe`] before it is printed, so a card or a hostile platform cannot
//! move the cursor, rewrite the screen, set the clipboard (OSC 52), ring the bell or reorder the
//! line: C0 controls, DEL, C1 controls (`0x80`–`0x9F`, among them the one-byte CSI `0x9B`) and
//! the bidirectional overrides are shown as `\u{XX}` escapes instead.
//!
//! JSON output stays exact: [`json`] and [`json_pretty`] serialize as usual (serde already
//! escapes C0 controls) and then escape the characters serde leaves raw (DEL, C1, bidi), which
//! in JSON can only occur inside strings, so a JSON reader gets the very same text back.
use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a terminal raw.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() // C0, DEL and C1
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every control character (including newlines and tabs) and bidirectional override
/// shown as a visible `\u{XX}` escape; borrowed when there is none.
pub fn safe(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Like [`safe`] for text of several lines (a screen transcript): line breaks stay, every other
/// control character is escaped.
pub fn safe_lines(s: &str) -> String {
    s.split('\n')
        .map(|l| safe(l).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn escape_json(s: String) -> String {
    if !s.chars().any(is_unsafe) {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        // serde_json leaves these raw; C0 controls inside strings it has already escaped, and
        // outside strings JSON only has spaces, tabs and newlines, which stay.
        if is_unsafe(c) && !matches!(c, '\n' | '\t' | '\r' | ' ') {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// `v` as compact JSON with no character a terminal would act on.
pub fn json<T: serde::Serialize + ?Sized>(v: &T) -> serde_json::Result<String> {
    serde_json::to_string(v).map(escape_json)
}

/// `v` as indented JSON with no character a terminal would act on.
pub fn json_pretty<T: serde::Serialize + ?Sized>(v: &T) -> serde_json::Result<String> {
    serde_json::to_string_pretty(v).map(escape_json)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "李\u{1b}]52;c;ZXZpbA==\u{7}华\u{9b}2J\u{8}\u{8}\u{7f}\u{202e}x\r\n";

    #[test]
    fn escapes_every_control() {
        let s = safe(HOSTILE);
        assert_eq!(
            s,
            "李\\u{1b}]52;c;ZXZpbA==\\u{7}华\\u{9b}2J\\u{8}\\u{8}\\u{7f}\\u{202e}x\\u{d}\\u{a}"
        );
        assert!(!s.chars().any(is_unsafe));
        assert!(matches!(safe("陈㛃 ABC-123"), Cow::Borrowed(_)));
        assert_eq!(safe_lines("a\u{1b}\nb"), "a\\u{1b}\nb");
    }

    #[test]
    fn json_stays_exact_and_escaped() {
        let v = serde_json::json!({"name": HOSTILE, "n": [1, 2]});
        for text in [json(&v).unwrap(), json_pretty(&v).unwrap()] {
            assert!(!text.chars().any(|c| is_unsafe(c) && c != '\n'), "{text:?}");
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(back, v);
        }
        assert!(json(&v).unwrap().contains("\\u009b"));
    }
}
