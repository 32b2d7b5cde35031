//! The ID card data model and the 256-byte text block of GA 467 (UCS-2 little-endian fields
//! padded with spaces): parse for every card kind (resident ID, foreign permanent resident ID 2017
//! 'I' and 2023 'Y', HK/Macao/Taiwan residence permit 'J'), the code tables (sex, nation), the
//! GB 11643 check digit, and the inverse encoding used by the simulator and tests.
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

/// Size of the text block.
pub const TEXT_LEN: usize = 256;
/// Size of the WLT photo.
pub const PHOTO_LEN: usize = 1024;

/// Errors parsing a read response or a text block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The length fields do not add up to the data received. Remedy: give the whole read
    /// response (`30 01` or `30 10`); a truncated frame cannot be parsed.
    #[error("read response lengths do not add up: text {text}, photo {photo}, data {data} bytes")]
    Lengths {
        /// Announced text length.
        text: usize,
        /// Announced photo length.
        photo: usize,
        /// Bytes of data present.
        data: usize,
    },
    /// The text block is not 256 bytes. Remedy: this reader or card is not GA 467 compatible.
    #[error("text block is {0} bytes, expected 256")]
    TextLength(usize),
    /// A date field is not a valid YYYYMMDD date. Remedy: the card data is corrupted; read again.
    #[error("field {field} is not a valid date")]
    BadDate {
        /// Which field.
        field: &'static str,
    },
    /// A text field is not valid UCS-2. Remedy: read the card again.
    #[error("field {field} is not valid UCS-2 text")]
    BadText {
        /// Which field.
        field: &'static str,
    },
    /// A value cannot be encoded into its field (simulator input). Remedy: shorten it.
    #[error("value for {field} does not fit its field")]
    TooLong {
        /// Which field.
        field: &'static str,
    },
}

impl ParseError {
    /// The category the runtime maps to UI state.
    pub fn kind(&self) -> crate::DeviceErrorKind {
        match self {
            ParseError::TooLong { .. } => crate::DeviceErrorKind::InvalidInput,
            _ => crate::DeviceErrorKind::CardUnreadable,
        }
    }
}

/// Which document the card is (dispatched on the character at byte 248 of the text block).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CardKind {
    /// 居民身份证 (type char is a space).
    #[default]
    Resident,
    /// 外国人永久居留身份证, 2017 version (type 'I').
    ForeignPermanent2017,
    /// 外国人永久居留身份证, 2023 version (type 'Y').
    ForeignPermanent2023,
    /// 港澳台居民居住证 (type 'J').
    HkMacaoTaiwan,
}

impl CardKind {
    /// The type character at byte 248.
    pub fn type_char(self) -> char {
        match self {
            CardKind::Resident => ' ',
            CardKind::ForeignPermanent2017 => 'I',
            CardKind::ForeignPermanent2023 => 'Y',
            CardKind::HkMacaoTaiwan => 'J',
        }
    }
    /// The Chinese name of the document.
    pub fn zh(self) -> &'static str {
        match self {
            CardKind::Resident => "居民身份证",
            CardKind::ForeignPermanent2017 => "外国人永久居留身份证(2017)",
            CardKind::ForeignPermanent2023 => "外国人永久居留身份证(2023)",
            CardKind::HkMacaoTaiwan => "港澳台居民居住证",
        }
    }
}

/// Sex (GB/T 2261.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Code 0, or a code outside the table.
    #[default]
    Unknown,
    /// Code 1.
    Male,
    /// Code 2.
    Female,
    /// Code 9.
    NotStated,
}

impl Sex {
    /// From the one-character code.
    pub fn from_code(code: &str) -> Sex {
        match code {
            "1" => Sex::Male,
            "2" => Sex::Female,
            "9" => Sex::NotStated,
            _ => Sex::Unknown,
        }
    }
    /// The code.
    pub fn code(self) -> &'static str {
        match self {
            Sex::Unknown => "0",
            Sex::Male => "1",
            Sex::Female => "2",
            Sex::NotStated => "9",
        }
    }
    /// Chinese text.
    pub fn zh(self) -> &'static str {
        match self {
            Sex::Unknown => "未知",
            Sex::Male => "男",
            Sex::Female => "女",
            Sex::NotStated => "未说明",
        }
    }
}

const NATIONS: [&str; 56] = [
    "汉",
    "蒙古",
    "回",
    "藏",
    "维吾尔",
    "苗",
    "彝",
    "壮",
    "布依",
    "朝鲜",
    "满",
    "侗",
    "瑶",
    "白",
    "土家",
    "哈尼",
    "哈萨克",
    "傣",
    "黎",
    "傈僳",
    "佤",
    "畲",
    "高山",
    "拉祜",
    "水",
    "东乡",
    "纳西",
    "景颇",
    "柯尔克孜",
    "土",
    "达斡尔",
    "仫佬",
    "羌",
    "布朗",
    "撒拉",
    "毛南",
    "仡佬",
    "锡伯",
    "阿昌",
    "普米",
    "塔吉克",
    "怒",
    "乌孜别克",
    "俄罗斯",
    "鄂温克",
    "德昂",
    "保安",
    "裕固",
    "京",
    "塔塔尔",
    "独龙",
    "鄂伦春",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
];

/// The nation name (GB 3304) for a two-digit code, without the "族" suffix.
pub fn nation_name(code: &str) -> Option<&'static str> {
    match code {
        "97" => Some("其他"),
        "98" => Some("外国血统中国籍人士"),
        _ => {
            if code.len() != 2 {
                return None;
            }
            let n: usize = code.parse().ok()?;
            NATIONS.get(n.checked_sub(1)?).copied()
        }
    }
}

const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// The GB 11643 (ISO 7064 MOD 11-2) check character for the first 17 digits.
pub fn check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut s = 0;
    for (c, w) in first17.chars().zip(W) {
        s += c.to_digit(10)? * w;
    }
    "10X98765432".chars().nth((s % 11) as usize)
}

/// Whether an 18-character number has a correct GB 11643 check character (lower-case `x`
/// accepted).
pub fn check_id_number(id: &str) -> bool {
    if id.len() != 18 || !id.is_ascii() {
        return false;
    }
    let (body, last) = id.split_at(17);
    check_char(body).map(|c| c.to_string()) == Some(last.to_ascii_uppercase())
}

/// The result of the check-digit verification, reported alongside the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum IdCheck {
    /// The GB 11643 check character is correct.
    Ok,
    /// It is wrong: the number is reported as read, and flagged.
    Bad,
    /// No check applies (the 15-character 2017 foreign permit).
    #[default]
    NotApplicable,
}

/// Everything the text block says, for every card kind. Fields that a kind does not carry are
/// `None`. Field names are the JSON names of `zizhu idcard decode --json` (docs/devices.md).
/// `Debug` masks personal fields. Call `zeroize()` when done; a [`CardRead`] does it on drop.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default, Zeroize)]
#[serde(default)]
pub struct CardData {
    /// Which document.
    #[zeroize(skip)]
    pub kind: CardKind,
    /// Name in Chinese (may be empty on a 2017 foreign card).
    pub name: String,
    /// Name in English (foreign permanent resident cards).
    pub name_en: Option<String>,
    /// Sex.
    #[zeroize(skip)]
    pub sex: Sex,
    /// Sex code as on the card.
    pub sex_code: String,
    /// Nation code "01".."56", "97", "98" (resident cards).
    pub nation_code: Option<String>,
    /// Nation name (resident cards).
    pub nation: Option<String>,
    /// Birth date, `YYYY-MM-DD`.
    pub birth_date: String,
    /// Address (resident cards and residence permits).
    pub address: Option<String>,
    /// ID number (18 characters; 15 on a 2017 foreign card).
    pub id_number: String,
    /// The check-digit verification of `id_number`.
    #[zeroize(skip)]
    pub id_number_check: IdCheck,
    /// Issuing authority.
    pub authority: Option<String>,
    /// Issuing authority code (2017 foreign card).
    pub authority_code: Option<String>,
    /// Start of validity, `YYYY-MM-DD`.
    pub valid_from: String,
    /// End of validity, `YYYY-MM-DD`; `None` when long-term.
    pub valid_to: Option<String>,
    /// Valid long-term ("长期").
    #[zeroize(skip)]
    pub valid_long_term: bool,
    /// Pass number (HK/Macao/Taiwan residence permit: the 9-character travel permit number).
    pub pass_number: Option<String>,
    /// Issue count (residence permit).
    pub issue_count: Option<String>,
    /// Nationality, ISO 3166-1 alpha-3 (foreign cards).
    pub nationality: Option<String>,
    /// Renewal count (2023 foreign card).
    pub renewal_count: Option<String>,
    /// Card version (2017 foreign card).
    pub card_version: Option<String>,
    /// Link to the old permit number (2023 foreign card).
    pub old_permit_link: Option<String>,
}

impl std::fmt::Debug for CardData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardData")
            .field("kind", &self.kind)
            .field("id_number", &crate::privacy::mask(&self.id_number))
            .field("id_number_check", &self.id_number_check)
            .finish_non_exhaustive()
    }
}

impl CardData {
    /// Whether the card is expired on `today` (long-term cards never are).
    pub fn is_expired(&self, today: chrono::NaiveDate) -> bool {
        match self
            .valid_to
            .as_deref()
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        {
            Some(to) => today > to,
            None => false,
        }
    }

    /// The masked ID number, for logs.
    pub fn masked_id(&self) -> String {
        crate::privacy::mask(&self.id_number)
    }
}

/// A card read: the text fields, the WLT photo (opaque, 1024 bytes, decoding is a vendor plugin)
/// and the fingerprint templates (opaque, when read with `30 10`). Zeroized on drop.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct CardRead {
    /// The text fields.
    pub card: CardData,
    /// The WLT photo bytes.
    pub photo_wlt: Vec<u8>,
    /// Fingerprint templates (empty when not read or none on the card).
    pub fingerprint: Vec<u8>,
}

impl Drop for CardRead {
    fn drop(&mut self) {
        self.card.zeroize();
        self.photo_wlt.zeroize();
        self.fingerprint.zeroize();
    }
}

impl std::fmt::Debug for CardRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardRead")
            .field("card", &self.card)
            .field("photo_wlt", &self.photo_wlt.len())
            .field("fingerprint", &self.fingerprint.len())
            .finish()
    }
}

fn field(block: &[u8], off: usize, len: usize, name: &'static str) -> Result<String, ParseError> {
    let units: Vec<u16> = block[off..off + len]
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect();
    let mut s = String::from_utf16(&units).map_err(|_| ParseError::BadText { field: name })?;
    let trimmed = s.trim_end_matches([' ', '\0', '\u{3000}']).len();
    s.truncate(trimmed);
    Ok(s)
}

fn opt(s: String) -> Option<String> {
    if s.is_empty() {
        None
    } else {
        Some(s)
    }
}

fn date(raw: &str, name: &'static str) -> Result<String, ParseError> {
    let d = chrono::NaiveDate::parse_from_str(raw, "%Y%m%d")
        .map_err(|_| ParseError::BadDate { field: name })?;
    if raw.len() != 8 {
        return Err(ParseError::BadDate { field: name });
    }
    Ok(d.format("%Y-%m-%d").to_string())
}

fn valid_to(raw: &str) -> Result<(Option<String>, bool), ParseError> {
    if raw.trim() == "长期" {
        Ok((None, true))
    } else {
        Ok((Some(date(raw, "valid_to")?), false))
    }
}

/// Parses a 256-byte text block.
pub fn parse_text(block: &[u8]) -> Result<CardData, ParseError> {
    if block.len() != TEXT_LEN {
        return Err(ParseError::TextLength(block.len()));
    }
    let kind = match u16::from_le_bytes([block[248], block[249]]) {
        0x49 => CardKind::ForeignPermanent2017,
        0x59 => CardKind::ForeignPermanent2023,
        0x4A => CardKind::HkMacaoTaiwan,
        _ => CardKind::Resident,
    };
    let mut c = CardData {
        kind,
        ..CardData::default()
    };
    match kind {
        CardKind::Resident | CardKind::HkMacaoTaiwan | CardKind::ForeignPermanent2023 => {
            c.name = field(block, 0, 30, "name")?;
            c.sex_code = field(block, 30, 2, "sex")?;
            c.birth_date = date(&field(block, 36, 16, "birth_date")?, "birth_date")?;
            c.id_number = field(block, 122, 36, "id_number")?.to_ascii_uppercase();
            c.authority = opt(field(block, 158, 30, "authority")?);
            c.valid_from = date(&field(block, 188, 16, "valid_from")?, "valid_from")?;
            (c.valid_to, c.valid_long_term) = valid_to(&field(block, 204, 16, "valid_to")?)?;
            c.id_number_check = if check_id_number(&c.id_number) {
                IdCheck::Ok
            } else {
                IdCheck::Bad
            };
        }
        CardKind::ForeignPermanent2017 => {}
    }
    match kind {
        CardKind::Resident => {
            let code = field(block, 32, 4, "nation")?;
            c.nation = nation_name(&code).map(str::to_string);
            c.nation_code = opt(code);
            c.address = opt(field(block, 52, 70, "address")?);
        }
        CardKind::HkMacaoTaiwan => {
            c.address = opt(field(block, 52, 70, "address")?);
            c.pass_number = opt(field(block, 220, 18, "pass_number")?);
            c.issue_count = opt(field(block, 238, 4, "issue_count")?);
        }
        CardKind::ForeignPermanent2023 => {
            c.renewal_count = opt(field(block, 32, 4, "renewal_count")?);
            let mut en = field(block, 52, 70, "name_en")?;
            let more = field(block, 220, 22, "name_en")?;
            if !more.is_empty() {
                // The first part is space-padded to 35 characters when the name continues.
                while en.chars().count() < 35 {
                    en.push(' ');
                }
                en.push_str(&more);
            }
            c.name_en = opt(en);
            c.nationality = opt(field(block, 242, 6, "nationality")?);
            c.old_permit_link = opt(field(block, 250, 6, "old_permit_link")?);
        }
        CardKind::ForeignPermanent2017 => {
            c.name_en = opt(field(block, 0, 120, "name_en")?);
            c.sex_code = field(block, 120, 2, "sex")?;
            c.id_number = field(block, 122, 30, "id_number")?.to_ascii_uppercase();
            c.nationality = opt(field(block, 152, 6, "nationality")?);
            c.name = field(block, 158, 30, "name")?;
            c.valid_from = date(&field(block, 188, 16, "valid_from")?, "valid_from")?;
            (c.valid_to, c.valid_long_term) = valid_to(&field(block, 204, 16, "valid_to")?)?;
            c.birth_date = date(&field(block, 220, 16, "birth_date")?, "birth_date")?;
            c.card_version = opt(field(block, 236, 4, "card_version")?);
            c.authority_code = opt(field(block, 240, 8, "authority_code")?);
            c.id_number_check = IdCheck::NotApplicable;
        }
    }
    c.sex = Sex::from_code(&c.sex_code);
    Ok(c)
}

/// Parses the data of a read response (after SW3): the length fields, the text block, the photo
/// and, for `30 10`, the fingerprint. Which of the two it is follows from the length fields.
pub fn parse_read_data(data: &[u8]) -> Result<CardRead, ParseError> {
    let be = |i: usize| {
        data.get(i..i + 2)
            .map(|b| usize::from(b[0]) << 8 | usize::from(b[1]))
    };
    let (Some(tl), Some(pl)) = (be(0), be(2)) else {
        return Err(ParseError::Lengths {
            text: 0,
            photo: 0,
            data: data.len(),
        });
    };
    let (start, fl) = if 4 + tl + pl == data.len() {
        (4, 0)
    } else {
        match be(4) {
            Some(fl) if 6 + tl + pl + fl == data.len() => (6, fl),
            _ => {
                return Err(ParseError::Lengths {
                    text: tl,
                    photo: pl,
                    data: data.len(),
                })
            }
        }
    };
    let card = parse_text(&data[start..start + tl])?;
    Ok(CardRead {
        card,
        photo_wlt: data[start + tl..start + tl + pl].to_vec(),
        fingerprint: data[start + tl + pl..start + tl + pl + fl].to_vec(),
    })
}

fn put(
    block: &mut [u8],
    off: usize,
    len: usize,
    s: &str,
    name: &'static str,
) -> Result<(), ParseError> {
    let units: Vec<u16> = s.encode_utf16().collect();
    if units.len() * 2 > len {
        return Err(ParseError::TooLong { field: name });
    }
    for i in 0..len / 2 {
        let u = units.get(i).copied().unwrap_or(0x20);
        block[off + 2 * i..off + 2 * i + 2].copy_from_slice(&u.to_le_bytes());
    }
    Ok(())
}

fn raw_date(iso: &str) -> String {
    iso.replace('-', "")
}

/// Encodes card data into a text block (what a card holds; for the simulator and tests). Derived
/// fields (`sex`, `nation`, `id_number_check`) are ignored in favour of their codes; `sex_code`
/// falls back to `sex`.
pub fn encode_text(c: &CardData) -> Result<[u8; TEXT_LEN], ParseError> {
    let mut b = [0u8; TEXT_LEN];
    put(&mut b, 0, TEXT_LEN, "", "block")?;
    let sex = if c.sex_code.is_empty() {
        c.sex.code().to_string()
    } else {
        c.sex_code.clone()
    };
    let to = if c.valid_long_term {
        "长期".to_string()
    } else {
        raw_date(c.valid_to.as_deref().unwrap_or(""))
    };
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    match c.kind {
        CardKind::ForeignPermanent2017 => {
            put(&mut b, 0, 120, &s(&c.name_en), "name_en")?;
            put(&mut b, 120, 2, &sex, "sex")?;
            put(&mut b, 122, 30, &c.id_number, "id_number")?;
            put(&mut b, 152, 6, &s(&c.nationality), "nationality")?;
            put(&mut b, 158, 30, &c.name, "name")?;
            put(&mut b, 188, 16, &raw_date(&c.valid_from), "valid_from")?;
            put(&mut b, 204, 16, &to, "valid_to")?;
            put(&mut b, 220, 16, &raw_date(&c.birth_date), "birth_date")?;
            put(&mut b, 236, 4, &s(&c.card_version), "card_version")?;
            put(&mut b, 240, 8, &s(&c.authority_code), "authority_code")?;
        }
        kind => {
            put(&mut b, 0, 30, &c.name, "name")?;
            put(&mut b, 30, 2, &sex, "sex")?;
            put(&mut b, 36, 16, &raw_date(&c.birth_date), "birth_date")?;
            put(&mut b, 122, 36, &c.id_number, "id_number")?;
            put(&mut b, 158, 30, &s(&c.authority), "authority")?;
            put(&mut b, 188, 16, &raw_date(&c.valid_from), "valid_from")?;
            put(&mut b, 204, 16, &to, "valid_to")?;
            match kind {
                CardKind::Resident => {
                    put(&mut b, 32, 4, &s(&c.nation_code), "nation_code")?;
                    put(&mut b, 52, 70, &s(&c.address), "address")?;
                }
                CardKind::HkMacaoTaiwan => {
                    put(&mut b, 52, 70, &s(&c.address), "address")?;
                    put(&mut b, 220, 18, &s(&c.pass_number), "pass_number")?;
                    put(&mut b, 238, 4, &s(&c.issue_count), "issue_count")?;
                }
                _ => {
                    put(&mut b, 32, 4, &s(&c.renewal_count), "renewal_count")?;
                    let en: Vec<char> = s(&c.name_en).chars().collect();
                    let first: String = en.iter().take(35).collect();
                    let rest: String = en.iter().skip(35).collect();
                    put(&mut b, 52, 70, &first, "name_en")?;
                    put(&mut b, 220, 22, &rest, "name_en")?;
                    put(&mut b, 242, 6, &s(&c.nationality), "nationality")?;
                    put(&mut b, 250, 6, &s(&c.old_permit_link), "old_permit_link")?;
                }
            }
        }
    }
    put(&mut b, 248, 2, &c.kind.type_char().to_string(), "kind")?;
    Ok(b)
}

/// The data of a read response for `text`, `photo` and, when `Some`, a fingerprint (`30 10`).
pub fn encode_read_data(text: &[u8], photo: &[u8], fingerprint: Option<&[u8]>) -> Vec<u8> {
    let mut d =
        Vec::with_capacity(6 + text.len() + photo.len() + fingerprint.map_or(0, <[u8]>::len));
    d.extend_from_slice(&(text.len() as u16).to_be_bytes());
    d.extend_from_slice(&(photo.len() as u16).to_be_bytes());
    if let Some(fp) = fingerprint {
        d.extend_from_slice(&(fp.len() as u16).to_be_bytes());
    }
    d.extend_from_slice(text);
    d.extend_from_slice(photo);
    if let Some(fp) = fingerprint {
        d.extend_from_slice(fp);
    }
    d
}

/// An 18-character number from its first 17 digits and the computed check character.
pub fn with_check_char(first17: &str) -> String {
    let mut s = first17.to_string();
    if let Some(c) = check_char(first17) {
        s.push(c);
    }
    s
}

fn some(s: &str) -> Option<String> {
    Some(s.to_string())
}

/// Synthetic sample cards, one per kind plus one with a rare name character (no real persons):
/// the simulator's default cards and the test fixtures. Their validity is placed around today
/// ([`samples_at`]), so a sample card never expires.
pub fn samples() -> Vec<CardData> {
    samples_at(chrono::Local::now().date_naive())
}

/// The first of the month `years` before (negative) or after `today`, as `YYYY-MM-DD`.
fn years_from(today: chrono::NaiveDate, years: i32) -> String {
    use chrono::Datelike;
    let d =
        chrono::NaiveDate::from_ymd_opt(today.year() + years, today.month(), 1).unwrap_or(today);
    d.format("%Y-%m-%d").to_string()
}

/// The sample cards as on `today`: each valid from a few years before to a few years after it
/// (the term of its kind of card), everything else fixed.
pub fn samples_at(today: chrono::NaiveDate) -> Vec<CardData> {
    let resident = CardData {
        kind: CardKind::Resident,
        name: "李华".into(),
        sex: Sex::Female,
        sex_code: "2".into(),
        nation_code: some("01"),
        birth_date: "1949-12-31".into(),
        address: some("广东省广州市天河区体育西路1号"),
        id_number: "11010519491231002X".into(),
        authority: some("广州市公安局天河分局"),
        valid_from: years_from(today, -11),
        valid_long_term: true,
        ..CardData::default()
    };
    let rare = CardData {
        name: "陈㛃".into(),
        sex: Sex::Male,
        sex_code: "1".into(),
        nation_code: some("08"),
        birth_date: "1990-01-01".into(),
        address: some("广东省深圳市福田区福华三路100号"),
        id_number: with_check_char("44030419900101123"),
        authority: some("深圳市公安局福田分局"),
        valid_from: years_from(today, -5),
        valid_to: Some(years_from(today, 15)),
        valid_long_term: false,
        ..resident.clone()
    };
    let foreign2017 = CardData {
        kind: CardKind::ForeignPermanent2017,
        name: "约翰".into(),
        name_en: some("SMITH, JOHN"),
        sex: Sex::Male,
        sex_code: "1".into(),
        id_number: "USA310080010101".into(),
        nationality: some("USA"),
        birth_date: "1980-01-01".into(),
        valid_from: years_from(today, -5),
        valid_to: Some(years_from(today, 5)),
        card_version: some("01"),
        authority_code: some("1100"),
        ..CardData::default()
    };
    let foreign2023 = CardData {
        kind: CardKind::ForeignPermanent2023,
        name: "安娜".into(),
        name_en: some("IVANOVA ANNA SERGEEVNA PETROVSKAYA MARIA"),
        sex: Sex::Female,
        sex_code: "2".into(),
        renewal_count: some("00"),
        birth_date: "1985-01-01".into(),
        id_number: "932682198501010017".into(),
        authority: some("国家移民管理局"),
        valid_from: years_from(today, -2),
        valid_to: Some(years_from(today, 8)),
        nationality: some("RUS"),
        ..CardData::default()
    };
    let hmt = CardData {
        kind: CardKind::HkMacaoTaiwan,
        name: "何嘉欣".into(),
        sex: Sex::Female,
        sex_code: "2".into(),
        birth_date: "1995-03-15".into(),
        address: some("广东省珠海市香洲区情侣中路2号"),
        id_number: with_check_char("81000019950315124"),
        authority: some("珠海市公安局"),
        valid_from: years_from(today, -2),
        valid_to: Some(years_from(today, 3)),
        pass_number: some("H12345678"),
        issue_count: some("01"),
        ..CardData::default()
    };
    vec![resident, rare, foreign2017, foreign2023, hmt]
}

/// A deterministic fake WLT photo (1024 bytes; real photos are opaque vendor data).
pub fn fake_photo(seed: u8) -> Vec<u8> {
    let mut p = vec![0u8; PHOTO_LEN];
    p[0] = b'W';
    p[1] = b'L';
    for (i, b) in p.iter_mut().enumerate().skip(2) {
        *b = (i as u8).wrapping_mul(31).wrapping_add(seed);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits() {
        assert!(check_id_number("11010519491231002X"));
        assert!(check_id_number("11010519491231002x"));
        assert!(check_id_number("321083197812162119"));
        assert!(check_id_number("932682198501010017"));
        assert!(!check_id_number("110105194912310021"));
        assert!(!check_id_number("1101051949123100"));
        assert!(!check_id_number("11010519491231002Ｘ"));
        assert_eq!(check_char("11010519491231002"), Some('X'));
    }

    #[test]
    fn nations() {
        assert_eq!(nation_name("01"), Some("汉"));
        assert_eq!(nation_name("46"), Some("德昂"));
        assert_eq!(nation_name("56"), Some("基诺"));
        assert_eq!(nation_name("97"), Some("其他"));
        assert_eq!(nation_name("98"), Some("外国血统中国籍人士"));
        assert_eq!(nation_name("57"), None);
        assert_eq!(nation_name("00"), None);
        assert_eq!(nation_name("1"), None);
    }

    #[test]
    fn sex_codes() {
        for (code, sex) in [
            ("0", Sex::Unknown),
            ("1", Sex::Male),
            ("2", Sex::Female),
            ("9", Sex::NotStated),
        ] {
            assert_eq!(Sex::from_code(code), sex);
            assert_eq!(sex.code(), code);
        }
        assert_eq!(Sex::from_code("7"), Sex::Unknown);
    }

    #[test]
    fn every_sample_round_trips() {
        for s in samples() {
            let block = encode_text(&s).unwrap();
            let p = parse_text(&block).unwrap();
            assert_eq!(p.kind, s.kind);
            assert_eq!(p.name, s.name);
            assert_eq!(p.name_en, s.name_en);
            assert_eq!(p.id_number, s.id_number);
            assert_eq!(p.birth_date, s.birth_date);
            assert_eq!(p.valid_to, s.valid_to);
            assert_eq!(p.valid_long_term, s.valid_long_term);
            assert_eq!(p.sex, s.sex);
            assert_ne!(p.id_number_check, IdCheck::Bad, "{:?}", s.kind);
        }
    }

    #[test]
    fn resident_fields_at_reference_offsets() {
        let s = &samples()[0];
        let block = encode_text(s).unwrap();
        // ID number at text offset 122 (frame byte 136), UCS-2 LE.
        assert_eq!(&block[122..124], &[b'1', 0]);
        assert_eq!(
            &block[204..208],
            &"长"
                .encode_utf16()
                .next()
                .unwrap()
                .to_le_bytes()
                .iter()
                .chain(&"期".encode_utf16().next().unwrap().to_le_bytes())
                .copied()
                .collect::<Vec<u8>>()[..]
        );
        assert_eq!(&block[248..250], &[0x20, 0]);
        let p = parse_text(&block).unwrap();
        assert_eq!(p.nation.as_deref(), Some("汉"));
        assert_eq!(p.address, s.address);
        assert_eq!(p.valid_to, None);
        assert!(p.valid_long_term);
        assert_eq!(p.id_number_check, IdCheck::Ok);
    }

    #[test]
    fn bad_check_digit_is_reported_not_hidden() {
        let mut s = samples()[0].clone();
        s.id_number = "110105194912310021".into();
        let p = parse_text(&encode_text(&s).unwrap()).unwrap();
        assert_eq!(p.id_number, "110105194912310021");
        assert_eq!(p.id_number_check, IdCheck::Bad);
    }

    #[test]
    fn read_data_with_and_without_fingerprint() {
        let s = &samples()[3];
        let text = encode_text(s).unwrap();
        let photo = fake_photo(1);
        let d = encode_read_data(&text, &photo, None);
        assert_eq!(d.len(), 4 + 256 + 1024);
        let r = parse_read_data(&d).unwrap();
        assert_eq!(r.photo_wlt, photo);
        assert!(r.fingerprint.is_empty());
        let fp = vec![7u8; 1024];
        let d = encode_read_data(&text, &photo, Some(&fp));
        let r = parse_read_data(&d).unwrap();
        assert_eq!(r.fingerprint.len(), 1024);
        assert_eq!(r.card.nationality.as_deref(), Some("RUS"));
        assert!(matches!(
            parse_read_data(&d[..100]),
            Err(ParseError::Lengths { .. })
        ));
    }

    #[test]
    fn bad_dates_are_errors() {
        let mut s = samples()[0].clone();
        s.birth_date = "1949-13-31".into();
        let block = encode_text(&s).unwrap();
        assert_eq!(
            parse_text(&block),
            Err(ParseError::BadDate {
                field: "birth_date"
            })
        );
    }

    #[test]
    fn expiry() {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let s = &samples_at(d("2023-01-15"))[4];
        assert_eq!(s.valid_to.as_deref(), Some("2026-01-01"));
        assert!(!s.is_expired(d("2025-12-31")));
        assert!(s.is_expired(d("2026-01-02")));
        assert!(!samples()[0].is_expired(d("2099-01-01")));
    }

    #[test]
    fn samples_are_valid_on_any_day() {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        for today in ["2026-12-03", "2031-12-03", "2040-02-29", "2099-12-31"] {
            for c in samples_at(d(today)) {
                assert!(
                    !c.is_expired(d(today)),
                    "{} on {today}",
                    c.valid_to.unwrap()
                );
                let block = encode_text(&c).unwrap();
                assert_eq!(parse_text(&block).unwrap().valid_from, c.valid_from);
            }
        }
        // Today's samples are valid today.
        let today = chrono::Local::now().date_naive();
        assert!(samples().iter().all(|c| !c.is_expired(today)));
    }
}
