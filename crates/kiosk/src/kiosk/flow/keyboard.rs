//! The flow screens' on-screen keyboard and its pinyin entry, apart from the visit: which keys a
//! field gets (digits, an amount, letters in 8 columns or on two pages of 6 in elderly mode),
//! what a press means ([`Press`]), the pinyin typed so far and its candidates ([`Entry`]), and
//! how a field's raw input is kept well-formed and shown (`202501202512` → `2025-01..2025-12`,
//! a typed ID number masked). No Slint types: the presenter turns [`Keys`] into the adapter's
//! rows.
use zeroize::Zeroize;

use crate::catalog::{Field, FieldKind};

/// Longest typed value of a field.
const MAX_INPUT: usize = 40;
/// Longest typed ID number.
pub(super) const MAX_TYPED_ID: usize = 18;
/// Longest pinyin syllable typed before a candidate is picked.
const MAX_PINYIN: usize = 6;
/// Candidates shown for the pinyin typed (one row of big keys; fewer, larger in elderly mode).
const CANDIDATES: usize = 8;
const CANDIDATES_ELDERLY: usize = 6;

/// A keyboard as rows of key labels and the number of columns that sets the key width.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Keys {
    pub rows: Vec<Vec<&'static str>>,
    pub columns: i32,
}

/// What a key press means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Press {
    /// The ABC / 123 key of the elderly keyboard: letters (true) or digits.
    Letters(bool),
    /// The 中 / 英 key: pinyin entry on (true) or off.
    Chinese(bool),
    /// A character key.
    Char(String),
}

impl Press {
    /// Reads a key label as the keyboard sent it.
    pub fn of(k: &str) -> Press {
        match k {
            "ABC" => Press::Letters(true),
            "123" => Press::Letters(false),
            "中" => Press::Chinese(true),
            "英" => Press::Chinese(false),
            other => Press::Char(other.to_string()),
        }
    }
}

/// The keyboard's own state during a visit: the letters or digits page, pinyin entry and the
/// pinyin typed so far.
#[derive(Debug, Default)]
pub(super) struct Entry {
    /// Elderly mode: the letters page is shown (else the digits page).
    pub letters: bool,
    /// Chinese entry is on for the current text field.
    pub chinese: bool,
    /// The pinyin typed so far.
    pub pinyin: String,
    /// The field whose Chinese mode was last set (a new text field starts in Chinese when its
    /// example is Chinese).
    field: Option<usize>,
}

impl Entry {
    /// A new visit's keyboard: the letters page, pinyin off.
    pub fn new() -> Entry {
        Entry {
            letters: true,
            ..Entry::default()
        }
    }

    /// The form shows field `index`: a text field seen for the first time starts in Chinese
    /// when its example is Chinese.
    pub fn show_field(&mut self, index: usize, field: &Field) {
        if field.kind == FieldKind::Text && self.field != Some(index) {
            self.field = Some(index);
            self.chinese = !field.example.is_ascii();
            self.pinyin.clear();
        }
    }

    /// Whether key `k` goes to the pinyin of a text field rather than into the value.
    pub fn takes_pinyin(&self, field: Option<&Field>, k: &str) -> bool {
        self.chinese
            && field.is_some_and(|f| f.kind == FieldKind::Text)
            && k.len() == 1
            && k.chars().all(|c| c.is_ascii_alphabetic())
    }

    /// Adds a letter to the pinyin when the result still starts a syllable.
    pub fn push_pinyin(&mut self, k: &str) {
        let next = format!("{}{}", self.pinyin, k.to_ascii_lowercase());
        if next.len() <= MAX_PINYIN && crate::ime::is_prefix(&next) {
            self.pinyin = next;
        }
    }

    /// The characters the pinyin typed may mean, commonest first.
    pub fn candidates(&self, elderly: bool) -> Vec<char> {
        let n = if elderly {
            CANDIDATES_ELDERLY
        } else {
            CANDIDATES
        };
        crate::ime::candidates(&self.pinyin, n)
    }

    /// Forgets what was typed.
    pub fn wipe(&mut self) {
        self.pinyin.zeroize();
    }
}

/// The keys of the ID-number pad.
pub(super) fn id_keys() -> Keys {
    Keys {
        rows: digit_rows(&["X"]),
        columns: 3,
    }
}

/// The keys of a field that is typed (not a select).
pub(super) fn field_keys(f: &Field, elderly: bool, entry: &Entry) -> Keys {
    match f.kind {
        FieldKind::Text => text_keys(elderly, entry.letters, entry.chinese),
        FieldKind::Amount => Keys {
            rows: digit_rows(&["."]),
            columns: 3,
        },
        _ => Keys {
            rows: digit_rows(&[]),
            columns: 3,
        },
    }
}

fn digit_rows(extra: &[&'static str]) -> Vec<Vec<&'static str>> {
    let mut last: Vec<&'static str> = extra.to_vec();
    last.push("0");
    vec![
        vec!["1", "2", "3"],
        vec!["4", "5", "6"],
        vec!["7", "8", "9"],
        last,
    ]
}

/// The keyboard of a text field: everything in 8 columns, or in elderly mode letters and digits
/// on two pages of 6 columns (the ABC / 123 key switches); the 中 / 英 key turns pinyin entry
/// on and off.
fn text_keys(elderly: bool, letters: bool, chinese: bool) -> Keys {
    const LETTERS: [&str; 28] = [
        "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q", "R",
        "S", "T", "U", "V", "W", "X", "Y", "Z", "-", "粤",
    ];
    // The last key switches between pinyin (中) and plain letters (英).
    let switch = if chinese { "英" } else { "中" };
    const DIGITS: [&str; 10] = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"];
    if elderly {
        let mut keys: Vec<&'static str> = if letters {
            LETTERS.to_vec()
        } else {
            DIGITS.to_vec()
        };
        keys.push(if letters { "123" } else { "ABC" });
        keys.push(switch);
        Keys {
            rows: keys.chunks(6).map(|c| c.to_vec()).collect(),
            columns: 6,
        }
    } else {
        let mut keys: Vec<&'static str> = DIGITS.iter().chain(LETTERS.iter()).copied().collect();
        keys.push(switch);
        Keys {
            rows: keys.chunks(8).map(|c| c.to_vec()).collect(),
            columns: 8,
        }
    }
}

/// How many raw characters a field takes.
pub(super) fn input_limit(f: &Field) -> usize {
    match f.kind {
        FieldKind::MonthRange => 12,
        FieldKind::Date => 8,
        FieldKind::Phone => 11,
        FieldKind::Amount => 12,
        FieldKind::Select => MAX_INPUT,
        FieldKind::Digits | FieldKind::Text => f
            .max
            .map(|m| m.max(1.0) as usize)
            .unwrap_or(MAX_INPUT)
            .min(MAX_INPUT),
    }
}

/// Keeps a field's raw input well-formed after an edit: within its length, and an amount with
/// at most one point and two decimals.
pub(super) fn tidy(f: &Field, v: &mut String) {
    let limit = input_limit(f);
    while v.chars().count() > limit {
        v.pop();
    }
    if f.kind == FieldKind::Amount {
        let mut seen = false;
        let mut out = String::new();
        for c in v.chars() {
            if c == '.' {
                if seen {
                    continue;
                }
                seen = true;
            }
            if seen && out.split('.').nth(1).is_some_and(|d| d.len() >= 2) {
                continue;
            }
            out.push(c);
        }
        *v = out;
    }
}

/// The raw input as typed in the preview: month ranges and dates as digits, the rest as the
/// example shows.
pub(super) fn example_input(f: &Field) -> String {
    match f.kind {
        FieldKind::MonthRange | FieldKind::Date => {
            f.example.chars().filter(|c| c.is_ascii_digit()).collect()
        }
        _ => f.example.clone(),
    }
}

/// The value as shown and sent: month ranges and dates are typed as digits and formatted here
/// (`202501202512` → `2025-01..2025-12`).
pub(super) fn display_value(f: &Field, raw: &str) -> String {
    let pieces = |cuts: &[(usize, &str)]| {
        let chars: Vec<char> = raw.chars().collect();
        let mut out = String::new();
        for (i, c) in chars.iter().enumerate() {
            if let Some((_, sep)) = cuts.iter().find(|(at, _)| *at == i) {
                out.push_str(sep);
            }
            out.push(*c);
        }
        out
    };
    match f.kind {
        FieldKind::MonthRange => pieces(&[(4, "-"), (6, ".."), (10, "-")]),
        FieldKind::Date => pieces(&[(4, "-"), (6, "-")]),
        _ => raw.to_string(),
    }
}

/// Masks a partly typed ID number the way `privacy::mask` masks a whole one: characters 7 to
/// 14 (the birth date) show as `*`.
pub(super) fn mask_typed(typed: &str) -> String {
    typed
        .chars()
        .enumerate()
        .map(|(i, c)| if (6..14).contains(&i) { '*' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(kind: FieldKind) -> Field {
        Field {
            key: "k".into(),
            kind,
            zh: "字段".into(),
            en: "Field".into(),
            example: String::new(),
            required: true,
            min: None,
            max: None,
            options: Vec::new(),
        }
    }

    #[test]
    fn typed_digits_are_formatted_for_their_kind() {
        let m = field(FieldKind::MonthRange);
        assert_eq!(display_value(&m, "2025"), "2025");
        assert_eq!(display_value(&m, "20250"), "2025-0");
        assert_eq!(display_value(&m, "202501202512"), "2025-01..2025-12");
        let d = field(FieldKind::Date);
        assert_eq!(display_value(&d, "20250101"), "2025-01-01");
    }

    #[test]
    fn typed_id_numbers_are_masked() {
        assert_eq!(mask_typed("4401051990"), "440105****");
        assert_eq!(mask_typed("44010519900101002X"), "440105********002X");
    }

    #[test]
    fn amounts_keep_one_point_and_two_decimals() {
        let a = field(FieldKind::Amount);
        let mut v = "12.3.456".to_string();
        tidy(&a, &mut v);
        assert_eq!(v, "12.34");
    }

    #[test]
    fn keys_are_read_and_laid_out_for_the_mode() {
        assert_eq!(Press::of("ABC"), Press::Letters(true));
        assert_eq!(Press::of("英"), Press::Chinese(false));
        assert_eq!(Press::of("7"), Press::Char("7".into()));
        let wide = text_keys(false, true, false);
        assert_eq!(wide.columns, 8);
        assert_eq!(wide.rows.last().and_then(|r| r.last()), Some(&"中"));
        let elderly = text_keys(true, false, true);
        assert_eq!(elderly.columns, 6);
        assert_eq!(elderly.rows.concat().first(), Some(&"1"));
        assert!(elderly.rows.concat().contains(&"ABC"));
    }

    #[test]
    fn pinyin_grows_only_while_it_starts_a_syllable() {
        let mut e = Entry::new();
        e.push_pinyin("Z");
        e.push_pinyin("h");
        assert_eq!(e.pinyin, "zh");
        e.push_pinyin("q");
        assert_eq!(e.pinyin, "zh");
        e.push_pinyin("a");
        e.push_pinyin("n");
        e.push_pinyin("g");
        assert_eq!(e.pinyin, "zhang");
        assert!(e.candidates(false).contains(&'张'));
    }
}
