//! Demo licence type codes (证照类型代码) shared by the e-licence verifier and the service catalog.
//!
//! A GB/T 36904 licence type code is 21 characters: the 18-character unified social credit code
//! (统一社会信用代码, GB 32100) of the authority that *defines* the licence type, then a 3-digit
//! sequence number chosen by that authority.
//!
//! **These are demo codes.** Real codes are assigned by the national e-licence catalogue and are
//! not published as a list. The defining-authority codes below are synthetic: national-level
//! organ codes (`1` 机构编制, `1` 机关, `100000` national) with made-up organisation numbers
//! `90000001`…`90000009` and correct GB 11714 and GB 32100 check characters, so they pass the
//! same format checks as real ones but belong to no real organ. Replace them with the platform's
//! catalogue when integrating with a real province. Each type also has the short `id` the service
//! catalog uses (data/catalog.toml `[[licence]]`), so `by_id("marriage-cert")` finds its code.
//!
//! | synthetic authority | stands for | code |
//! | --- | --- | --- |
//! | `111000009000000146` | 公安部 (public security) | identity card, household register, driving and vehicle licences, residence permit |
//! | `111000009000000221` | 民政部 (civil affairs) | marriage, divorce |
//! | `11100000900000030U` | 市场监管总局 (market regulation) | business licence |
//! | `11100000900000049Q` | 自然资源部 (natural resources) | real-estate certificate |
//! | `11100000900000057K` | 人力资源社会保障部 (human resources and social security) | social security card |
//! | `11100000900000065E` | 中国残联 (disabled persons' federation) | disability certificate |
//! | `111000009000000739` | 国家卫生健康委 (health) | birth medical certificate |
//! | `111000009000000814` | 教育部 (education) | academic certificate |
//! | `1110000090000009XU` | 退役军人事务部 (veterans affairs) | veteran's card |

/// One licence type: its 21-character code and its names for the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LicenceType {
    /// Short id used by the service catalog (`[[licence]] id` in data/catalog.toml).
    pub id: &'static str,
    /// 证照类型代码: defining authority's 18-character USCC + 3-digit sequence.
    pub code: &'static str,
    /// Chinese name as printed on the licence.
    pub zh: &'static str,
    /// English name for the English UI.
    pub en: &'static str,
}

/// 居民身份证 (resident identity card; its e-licence is the identity presentation).
pub const IDENTITY_CARD: LicenceType = LicenceType {
    id: "identity",
    code: "111000009000000146001",
    zh: "居民身份证",
    en: "Resident identity card",
};
/// 居民户口簿 (household register).
pub const HOUSEHOLD_REGISTER: LicenceType = LicenceType {
    id: "household-register",
    code: "111000009000000146002",
    zh: "居民户口簿",
    en: "Household register",
};
/// 结婚证 (marriage certificate).
pub const MARRIAGE_CERTIFICATE: LicenceType = LicenceType {
    id: "marriage-cert",
    code: "111000009000000221001",
    zh: "结婚证",
    en: "Marriage certificate",
};
/// 离婚证 (divorce certificate).
pub const DIVORCE_CERTIFICATE: LicenceType = LicenceType {
    id: "divorce-cert",
    code: "111000009000000221002",
    zh: "离婚证",
    en: "Divorce certificate",
};
/// 营业执照 (business licence).
pub const BUSINESS_LICENCE: LicenceType = LicenceType {
    id: "business-licence",
    code: "11100000900000030U001",
    zh: "营业执照",
    en: "Business licence",
};
/// 机动车驾驶证 (driving licence).
pub const DRIVING_LICENCE: LicenceType = LicenceType {
    id: "driving-licence",
    code: "111000009000000146003",
    zh: "机动车驾驶证",
    en: "Driving licence",
};
/// 机动车行驶证 (vehicle registration licence).
pub const VEHICLE_LICENCE: LicenceType = LicenceType {
    id: "vehicle-licence",
    code: "111000009000000146004",
    zh: "机动车行驶证",
    en: "Vehicle licence",
};
/// 不动产权证书 (real-estate title certificate).
pub const REAL_ESTATE_CERTIFICATE: LicenceType = LicenceType {
    id: "property-cert",
    code: "11100000900000049Q001",
    zh: "不动产权证书",
    en: "Real-estate title certificate",
};
/// 社会保障卡 (social security card).
pub const SOCIAL_SECURITY_CARD: LicenceType = LicenceType {
    id: "social-security-card",
    code: "11100000900000057K001",
    zh: "社会保障卡",
    en: "Social security card",
};
/// 居住证 (residence permit).
pub const RESIDENCE_PERMIT: LicenceType = LicenceType {
    id: "residence-permit",
    code: "111000009000000146005",
    zh: "居住证",
    en: "Residence permit",
};
/// 残疾人证 (disability certificate).
pub const DISABILITY_CERTIFICATE: LicenceType = LicenceType {
    id: "disability-cert",
    code: "11100000900000065E001",
    zh: "残疾人证",
    en: "Disability certificate",
};
/// 出生医学证明 (birth medical certificate).
pub const BIRTH_CERTIFICATE: LicenceType = LicenceType {
    id: "birth-cert",
    code: "111000009000000739001",
    zh: "出生医学证明",
    en: "Birth medical certificate",
};
/// 学历证书 (academic certificate).
pub const ACADEMIC_CERTIFICATE: LicenceType = LicenceType {
    id: "diploma",
    code: "111000009000000814001",
    zh: "学历证书",
    en: "Academic certificate",
};
/// 退役军人证 (veteran's card).
pub const VETERAN_CARD: LicenceType = LicenceType {
    id: "veteran-card",
    code: "1110000090000009XU001",
    zh: "退役军人证",
    en: "Veteran's card",
};

/// Every demo licence type, in the order above.
pub const ALL: &[LicenceType] = &[
    IDENTITY_CARD,
    HOUSEHOLD_REGISTER,
    MARRIAGE_CERTIFICATE,
    DIVORCE_CERTIFICATE,
    BUSINESS_LICENCE,
    DRIVING_LICENCE,
    VEHICLE_LICENCE,
    REAL_ESTATE_CERTIFICATE,
    SOCIAL_SECURITY_CARD,
    RESIDENCE_PERMIT,
    DISABILITY_CERTIFICATE,
    BIRTH_CERTIFICATE,
    ACADEMIC_CERTIFICATE,
    VETERAN_CARD,
];

/// The demo licence type with this code, if any.
pub fn by_code(code: &str) -> Option<&'static LicenceType> {
    ALL.iter().find(|t| t.code == code)
}

/// The demo licence type with this catalog id (`marriage-cert`, …), if any.
pub fn by_id(id: &str) -> Option<&'static LicenceType> {
    ALL.iter().find(|t| t.id == id)
}

/// Whether `code` has the shape of a 证照类型代码: 18 USCC characters (digits and upper-case
/// letters except I, O, S, V, Z) with a correct GB 32100 check character, then 3 digits.
pub fn is_well_formed(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 21 && uscc_valid(&code[..18]) && b[18..].iter().all(u8::is_ascii_digit)
}

const USCC_CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// GB 32100 unified social credit code check: 18 characters, the last a MOD 31 check character.
pub fn uscc_valid(code: &str) -> bool {
    let b = code.as_bytes();
    if b.len() != 18 {
        return false;
    }
    let mut sum = 0u32;
    for (i, c) in b[..17].iter().enumerate() {
        match USCC_CHARS.iter().position(|x| x == c) {
            Some(v) => sum += v as u32 * USCC_WEIGHTS[i],
            None => return false,
        }
    }
    let check = ((31 - sum % 31) % 31) as usize;
    USCC_CHARS.get(check) == Some(&b[17])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_codes_are_well_formed_and_unique() {
        for t in ALL {
            assert!(is_well_formed(t.code), "{} {}", t.code, t.zh);
        }
        let mut codes: Vec<_> = ALL.iter().map(|t| t.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ALL.len());
        assert_eq!(
            by_code(MARRIAGE_CERTIFICATE.code),
            Some(&MARRIAGE_CERTIFICATE)
        );
    }

    #[test]
    fn real_uscc_from_published_identifiers_validates() {
        // Defining authority of a MOHURD licence type seen in published 证照标识.
        assert!(uscc_valid("11100000000013338W"));
        assert!(!uscc_valid("11100000000013338X"));
        assert!(!is_well_formed("11100000000013338W03"));
    }
}
