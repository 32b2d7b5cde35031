//! Who the citizen is, for the length of one visit: from the ID card on the reader, from an
//! identity or e-licence code on the phone, or typed (only where the service allows acting for
//! someone else, 代他人). Held in memory only, zeroized when the session ends; its `Debug` shows
//! the masked number.
use chrono::NaiveDate;
use serde::Serialize;
use zeroize::{Zeroize, ZeroizeOnDrop};
use zizhu_drivers::idcard::card::{check_id_number, CardData};
use zizhu_drivers::privacy::mask;

use crate::catalog::Lang;
use crate::text::Text;

/// How the citizen identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// The ID card on the reader.
    IdCard,
    /// An identity or e-licence presentation code from the phone (the phone app checked the face).
    Code,
    /// Typed on the kiosk keyboard, acting for someone else (代他人).
    Typed,
}

/// Why an identification was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifyError {
    /// The card's validity has ended. The citizen should renew it (or use an identity code).
    #[error("the ID card has expired")]
    Expired,
    /// The ID number's GB 11643 check character does not match: a misread card or a typo.
    #[error("the ID number's check digit does not match")]
    CheckDigit,
    /// A typed number is not 18 characters of digits (and a final X).
    #[error("an ID number has 18 characters")]
    Format,
    /// This service does not accept a typed ID number.
    #[error("this service needs the citizen's own card or code")]
    TypingNotAllowed,
}

impl IdentifyError {
    /// A plain message for the citizen.
    pub fn message(&self, lang: Lang) -> &'static str {
        self.text().get(lang)
    }

    /// What the citizen is told, by kind.
    pub fn text(&self) -> Text {
        match self {
            IdentifyError::Expired => Text::CardExpired,
            IdentifyError::CheckDigit => Text::IdCheckDigit,
            IdentifyError::Format => Text::IdFormat,
            IdentifyError::TypingNotAllowed => Text::TypingNotAllowed,
        }
    }
}

/// The identified citizen. Zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Identity {
    /// Full ID number (memory only; never logged or journaled).
    pub id_number: String,
    /// Name, when known (card or code); memory only.
    pub name: Option<String>,
    /// A platform subject token for this citizen (identity codes resolve to one).
    pub subject_token: Option<String>,
    /// How they identified.
    #[zeroize(skip)]
    pub source: Source,
    /// Whether a live face check is already satisfied (identity codes: the phone app checked).
    #[zeroize(skip)]
    pub face_verified: bool,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("id", &self.masked())
            .field("source", &self.source)
            .field("face_verified", &self.face_verified)
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// From a card read by the reader, refusing an expired card or a bad check digit.
    pub fn from_card(card: &CardData, today: NaiveDate) -> Result<Identity, IdentifyError> {
        if card.is_expired(today) {
            return Err(IdentifyError::Expired);
        }
        if card.id_number.len() == 18 && !check_id_number(&card.id_number) {
            return Err(IdentifyError::CheckDigit);
        }
        Ok(Identity {
            id_number: card.id_number.clone(),
            name: Some(card.name.clone()),
            subject_token: None,
            source: Source::IdCard,
            face_verified: false,
        })
    }

    /// A typed ID number (acting for someone else, or a technician's test).
    pub fn typed(number: &str) -> Result<Identity, IdentifyError> {
        let n = crate::flow::fields::normalise(number).to_ascii_uppercase();
        let well_formed = n.len() == 18
            && n[..17].chars().all(|c| c.is_ascii_digit())
            && n[17..].chars().all(|c| c.is_ascii_digit() || c == 'X');
        if !well_formed {
            return Err(IdentifyError::Format);
        }
        if !check_id_number(&n) {
            return Err(IdentifyError::CheckDigit);
        }
        Ok(Identity {
            id_number: n,
            name: None,
            subject_token: None,
            source: Source::Typed,
            face_verified: false,
        })
    }

    /// From a presentation code the platform or the e-licence verifier resolved. The number may
    /// be masked when the platform answered with a subject token instead.
    pub fn from_code(
        id_number: String,
        name: Option<String>,
        subject_token: Option<String>,
    ) -> Identity {
        Identity {
            id_number,
            name,
            subject_token,
            source: Source::Code,
            face_verified: true,
        }
    }

    /// The number masked for display and logs (at most the first 6 and last 4 characters).
    pub fn masked(&self) -> String {
        mask(&self.id_number)
    }

    /// The name masked for display (张*三).
    pub fn masked_name(&self) -> Option<String> {
        self.name.as_deref().map(mask_name)
    }
}

/// Masks a name for display: the first and last characters stay, the rest become `*`.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_string(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_numbers_are_checked() {
        assert!(Identity::typed("11010519491231002X").is_ok());
        assert!(Identity::typed("11010519491231002x").is_ok());
        assert_eq!(
            Identity::typed("110105194912310021").unwrap_err(),
            IdentifyError::CheckDigit
        );
        assert_eq!(
            Identity::typed("1101051949").unwrap_err(),
            IdentifyError::Format
        );
    }

    #[test]
    fn debug_and_masks_hide_the_number() {
        let id = Identity::typed("11010519491231002X").unwrap();
        let dbg = format!("{id:?}");
        assert!(!dbg.contains("11010519491231002X"), "{dbg}");
        assert_eq!(mask_name("张三丰"), "张*丰");
        assert_eq!(mask_name("李华"), "李*");
    }

    #[test]
    fn expired_card_is_refused() {
        let mut card = zizhu_drivers::idcard::card::samples().remove(0);
        card.valid_long_term = false;
        card.valid_to = Some("2020-01-01".into());
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        assert_eq!(
            Identity::from_card(&card, today).unwrap_err(),
            IdentifyError::Expired
        );
    }
}
