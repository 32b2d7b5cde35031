//! GB/T 36904 licence identifiers (证照标识) and their ISO/IEC 7064 MOD 37,36 check character.
//!
//! Form: `1.2.156.3005.2.<证照类型代码>.<颁发机构代码>.<流水号>.<版本号>.<校验位>`, where the
//! check character is computed over type + authority + serial + version with the dots removed.
//! Published identifiers from at least one vendor use a different check variant, so a check
//! mismatch is a [`Warning`], not a rejection (docs/elicense.md, "Background").
use super::error::{Error, Warning};

/// The 电子证照 root OID every identifier starts with.
pub const ROOT_OID: &str = "1.2.156.3005.2";

const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// A parsed licence identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceId<'a> {
    /// 证照类型代码 (21 characters).
    pub licence_type: &'a str,
    /// 证照颁发机构代码 (18-character USCC, or a short code in older data).
    pub issuer: &'a str,
    /// 流水号 (1–32 characters).
    pub serial: &'a str,
    /// 版本号 (3 digits).
    pub version: &'a str,
    /// 校验位 as written.
    pub check: char,
}

/// ISO/IEC 7064 MOD 37,36 check character over upper-case letters and digits; `None` if `data`
/// holds any other character.
pub fn mod37_36(data: &str) -> Option<char> {
    const M: u32 = 36;
    let mut p = M;
    for c in data.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        let mut s = (p + v) % M;
        if s == 0 {
            s = M;
        }
        p = (s * 2) % (M + 1);
    }
    let c = (M + 1 - p) % M;
    Some(ALPHABET[c as usize] as char)
}

fn upper_alnum(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// Parses and checks an identifier. Format errors reject; a check-character mismatch or a short
/// issuer code gives warnings.
pub fn parse(lid: &str) -> Result<(LicenceId<'_>, Vec<Warning>), Error> {
    let bad = |m: &str| Error::BadIdentifier(m.to_string());
    let rest = lid
        .strip_prefix(ROOT_OID)
        .and_then(|r| r.strip_prefix('.'))
        .ok_or_else(|| bad("does not start with the root 1.2.156.3005.2"))?;
    let parts: Vec<&str> = rest.split('.').collect();
    let [licence_type, issuer, serial, version, check] = parts[..] else {
        return Err(bad("wants five parts after the root"));
    };
    if licence_type.len() != 21 || !upper_alnum(licence_type) {
        return Err(bad("licence type code is not 21 letters or digits"));
    }
    if issuer.is_empty() || issuer.len() > 18 || !upper_alnum(issuer) {
        return Err(bad("issuing authority code is not 1–18 letters or digits"));
    }
    if serial.is_empty() || serial.len() > 32 || !upper_alnum(serial) {
        return Err(bad("serial is not 1–32 letters or digits"));
    }
    if version.len() != 3 || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("version is not 3 digits"));
    }
    let mut chars = check.chars();
    let (Some(check), None) = (chars.next(), chars.next()) else {
        return Err(bad("check part is not one character"));
    };
    if !(check.is_ascii_digit() || check.is_ascii_uppercase()) {
        return Err(bad("check character is not a letter or digit"));
    }
    let mut warnings = Vec::new();
    if issuer.len() != 18 {
        warnings.push(Warning::IdentifierShortIssuer);
    }
    let data = format!("{licence_type}{issuer}{serial}{version}");
    let expected = mod37_36(&data).ok_or_else(|| bad("unexpected character"))?;
    if expected != check {
        warnings.push(Warning::IdentifierCheck {
            expected,
            found: check,
        });
    }
    Ok((
        LicenceId {
            licence_type,
            issuer,
            serial,
            version,
            check,
        },
        warnings,
    ))
}

/// Builds an identifier with the correct check character (for issuing demo licences).
pub fn build(licence_type: &str, issuer: &str, serial: &str, version: &str) -> Option<String> {
    let check = mod37_36(&format!("{licence_type}{issuer}{serial}{version}"))?;
    Some(format!(
        "{ROOT_OID}.{licence_type}.{issuer}.{serial}.{version}.{check}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    // An identifier published in public code, the one known in full (of others only the check
    // characters and parts were published).
    #[test]
    fn published_identifier_check_character() {
        let lid = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F";
        let (id, w) = parse(lid).expect("parses");
        assert_eq!(id.licence_type, "11100000000013338W032");
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn wrong_check_is_a_warning_not_an_error() {
        let lid = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.G";
        let (_, w) = parse(lid).expect("parses");
        assert_eq!(
            w,
            vec![Warning::IdentifierCheck {
                expected: 'F',
                found: 'G'
            }]
        );
    }

    #[test]
    fn format_errors_reject() {
        for lid in [
            "1.2.156.3005.3.11100000000013338W032.11220000013544541J.2430599.001.F",
            "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.01.F",
            "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001",
            "1.2.156.3005.2.11100000000013338W03.11220000013544541J.2430599.001.F",
            "1.2.156.3005.2.11100000000013338W032.11220000013544541J.24305 99.001.F",
            "",
        ] {
            assert!(matches!(parse(lid), Err(Error::BadIdentifier(_))), "{lid}");
        }
    }

    #[test]
    fn build_round_trips() {
        let lid = build(
            "111000009000000221001",
            "11440100MB2C12345X",
            "A1B2C3",
            "001",
        )
        .expect("builds");
        let (_, w) = parse(&lid).expect("parses");
        assert!(w.is_empty());
    }
}
