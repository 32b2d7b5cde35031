//! Validation of form values by field kind. Every rejection says, in the citizen's language, what
//! was wrong and what to type instead. Values are normalised (trimmed, full-width digits folded to
//! ASCII) before they are checked and stored.
use chrono::{Datelike, NaiveDate};

use crate::catalog::{Field, FieldKind, Lang};
use crate::text::Text;

/// Why a form value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// A required field is empty. Fill it in.
    #[error("required")]
    Required,
    /// The value does not have the expected form (digits, date, month range, phone, amount).
    #[error("bad format")]
    Format,
    /// Too short or too long, or an amount out of bounds.
    #[error("out of range")]
    Range,
    /// Not one of the choices of a select field.
    #[error("not a choice")]
    Choice,
    /// A date that does not exist, or a month range that ends before it starts.
    #[error("bad date")]
    Date,
}

impl FieldError {
    /// A plain message for the citizen naming the field and what to do.
    pub fn message(&self, field: &Field, lang: Lang) -> String {
        let (min, max) = (
            field.min.unwrap_or(0.0).to_string(),
            field.max.unwrap_or(0.0).to_string(),
        );
        let text = match self {
            FieldError::Required => Text::FieldRequired,
            FieldError::Format => Text::FieldFormat,
            FieldError::Range if field.kind == FieldKind::Amount => Text::FieldAmountRange,
            FieldError::Range => Text::FieldLength,
            FieldError::Choice => Text::FieldChoice,
            FieldError::Date => Text::FieldDate,
        };
        text.fill(
            lang,
            &[
                ("label", field.label(lang)),
                ("example", &field.example),
                ("min", &min),
                ("max", &max),
            ],
        )
    }
}

/// Folds full-width digits, letters and punctuation (from Chinese keyboards) to ASCII and trims.
pub fn normalise(value: &str) -> String {
    value
        .trim()
        .chars()
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

fn parse_month(s: &str) -> Option<NaiveDate> {
    let (y, m) = s.split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)
}

/// Checks `value` against `field` and returns the normalised value to store.
pub fn validate(field: &Field, value: &str) -> Result<String, FieldError> {
    let v = normalise(value);
    if v.is_empty() {
        return if field.required {
            Err(FieldError::Required)
        } else {
            Ok(v)
        };
    }
    let len = v.chars().count() as f64;
    let len_ok = |lo: Option<f64>, hi: Option<f64>| {
        lo.is_none_or(|lo| len >= lo) && hi.is_none_or(|hi| len <= hi)
    };
    match field.kind {
        FieldKind::Text => {
            if v.chars().any(|c| c.is_control()) {
                return Err(FieldError::Format);
            }
            if !len_ok(field.min, field.max.or(Some(200.0))) {
                return Err(FieldError::Range);
            }
        }
        FieldKind::Digits => {
            if !v.chars().all(|c| c.is_ascii_digit()) {
                return Err(FieldError::Format);
            }
            if !len_ok(field.min, field.max) {
                return Err(FieldError::Range);
            }
        }
        FieldKind::Phone => {
            let ok = v.len() == 11
                && v.starts_with('1')
                && v.chars().all(|c| c.is_ascii_digit())
                && matches!(v.as_bytes()[1], b'3'..=b'9');
            if !ok {
                return Err(FieldError::Format);
            }
        }
        FieldKind::Date => {
            if v.len() != 10 || v.as_bytes()[4] != b'-' || v.as_bytes()[7] != b'-' {
                return Err(FieldError::Format);
            }
            let d = NaiveDate::parse_from_str(&v, "%Y-%m-%d").map_err(|_| FieldError::Date)?;
            if !(1900..=2100).contains(&d.year()) {
                return Err(FieldError::Date);
            }
        }
        FieldKind::MonthRange => {
            let (a, b) = v.split_once("..").ok_or(FieldError::Format)?;
            let (a, b) = (
                parse_month(a).ok_or(FieldError::Format)?,
                parse_month(b).ok_or(FieldError::Format)?,
            );
            if b < a || !(1990..=2100).contains(&a.year()) || !(1990..=2100).contains(&b.year()) {
                return Err(FieldError::Date);
            }
            let months = (b.year() - a.year()) * 12 + b.month() as i32 - a.month() as i32 + 1;
            if months > 120 {
                return Err(FieldError::Range);
            }
        }
        FieldKind::Select => {
            if !field.options.iter().any(|o| o.value == v) {
                return Err(FieldError::Choice);
            }
        }
        FieldKind::Amount => {
            let (int, frac) = v.split_once('.').unwrap_or((&v, ""));
            let ok = !int.is_empty()
                && int.len() <= 9
                && int.chars().all(|c| c.is_ascii_digit())
                && frac.len() <= 2
                && frac.chars().all(|c| c.is_ascii_digit())
                && !(v.contains('.') && frac.is_empty());
            if !ok {
                return Err(FieldError::Format);
            }
            let amount: f64 = v.parse().map_err(|_| FieldError::Format)?;
            if field.min.is_some_and(|m| amount < m) || field.max.is_some_and(|m| amount > m) {
                return Err(FieldError::Range);
            }
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Choice;

    fn field(kind: FieldKind, min: Option<f64>, max: Option<f64>) -> Field {
        Field {
            key: "k".into(),
            kind,
            zh: "字段".into(),
            en: "Field".into(),
            example: "x".into(),
            required: true,
            min,
            max,
            options: vec![Choice {
                value: "a".into(),
                zh: "甲".into(),
                en: "A".into(),
            }],
        }
    }

    /// kind, min, max, input, expected.
    type Case = (
        FieldKind,
        Option<f64>,
        Option<f64>,
        &'static str,
        Result<&'static str, FieldError>,
    );

    #[test]
    fn each_kind_accepts_good_and_refuses_bad() {
        let cases: &[Case] = &[
            (FieldKind::Text, Some(2.0), Some(4.0), " 张三 ", Ok("张三")),
            (
                FieldKind::Text,
                Some(2.0),
                Some(4.0),
                "张",
                Err(FieldError::Range),
            ),
            (
                FieldKind::Digits,
                Some(6.0),
                Some(8.0),
                "１２３４５６",
                Ok("123456"),
            ),
            (
                FieldKind::Digits,
                None,
                None,
                "12a4",
                Err(FieldError::Format),
            ),
            (
                FieldKind::Phone,
                None,
                None,
                "13800138000",
                Ok("13800138000"),
            ),
            (
                FieldKind::Phone,
                None,
                None,
                "12800138000",
                Err(FieldError::Format),
            ),
            (
                FieldKind::Phone,
                None,
                None,
                "1380013800",
                Err(FieldError::Format),
            ),
            (FieldKind::Date, None, None, "2026-02-28", Ok("2026-02-28")),
            (
                FieldKind::Date,
                None,
                None,
                "2026-02-30",
                Err(FieldError::Date),
            ),
            (
                FieldKind::Date,
                None,
                None,
                "2026/02/28",
                Err(FieldError::Format),
            ),
            (
                FieldKind::MonthRange,
                None,
                None,
                "2025-01..2025-12",
                Ok("2025-01..2025-12"),
            ),
            (
                FieldKind::MonthRange,
                None,
                None,
                "2025-12..2025-01",
                Err(FieldError::Date),
            ),
            (
                FieldKind::MonthRange,
                None,
                None,
                "2025-13..2025-12",
                Err(FieldError::Format),
            ),
            (
                FieldKind::MonthRange,
                None,
                None,
                "2000-01..2025-12",
                Err(FieldError::Range),
            ),
            (FieldKind::Select, None, None, "a", Ok("a")),
            (FieldKind::Select, None, None, "b", Err(FieldError::Choice)),
            (
                FieldKind::Amount,
                Some(1.0),
                Some(5000.0),
                "100.50",
                Ok("100.50"),
            ),
            (
                FieldKind::Amount,
                Some(1.0),
                Some(5000.0),
                "100.505",
                Err(FieldError::Format),
            ),
            (
                FieldKind::Amount,
                Some(1.0),
                Some(5000.0),
                "9000",
                Err(FieldError::Range),
            ),
            (
                FieldKind::Amount,
                Some(1.0),
                Some(5000.0),
                "-5",
                Err(FieldError::Format),
            ),
            (FieldKind::Amount, None, None, "", Err(FieldError::Required)),
        ];
        for (kind, min, max, input, want) in cases {
            let got = validate(&field(*kind, *min, *max), input);
            assert_eq!(
                got.as_deref().map_err(Clone::clone),
                want.clone(),
                "{kind:?} {input:?}"
            );
        }
    }

    #[test]
    fn messages_name_the_field() {
        let f = field(FieldKind::Phone, None, None);
        assert!(FieldError::Format.message(&f, Lang::Zh).contains("字段"));
        assert!(FieldError::Required.message(&f, Lang::En).contains("Field"));
    }

    #[test]
    fn every_catalog_example_is_valid() {
        for s in crate::catalog::Catalog::builtin().services() {
            for f in &s.fields {
                assert!(
                    validate(f, &f.example).is_ok(),
                    "{}.{} = {}",
                    s.id,
                    f.key,
                    f.example
                );
            }
        }
    }
}
