//! Deterministic synthetic data of the demo platform: a valid ID number maps to a synthetic person
//! (name drawn from tables by hash, sex from digit 17, birth date from digits 7–14, region from
//! the first 6) and to records for every catalog service, shaped by the fields the catalog
//! declares (month ranges become one row per month, amounts are used as given, offices and slots
//! come from the `office` select). The same inputs always give the same answer.
use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};
use sha2::{Digest, Sha256};

use crate::catalog::{Category, FieldKind, Output, Service};
use crate::platform::api::{
    AppointmentResult, Column, Document, Item, PayResult, PrintResult, ScreenResult, Slot,
    SubmitResult, Table,
};

const SURNAMES: &[&str] = &[
    "陈", "李", "黄", "张", "梁", "刘", "林", "王", "吴", "何", "郭", "罗", "郑", "谢", "杨", "邓",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超",
    "秀英", "志强", "嘉欣", "子轩", "浩然", "晓燕", "建华", "国强", "美玲", "俊杰",
];

/// A synthetic person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Full name.
    pub name: String,
    /// `M` or `F`.
    pub sex: &'static str,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// Region, Chinese.
    pub region: String,
    /// Seed for every record of this person.
    pub seed: [u8; 32],
}

/// Why an ID number is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadId {
    /// Not 18 characters of digits (last may be X).
    Shape,
    /// Wrong GB 11643 check character.
    CheckDigit,
    /// Digits 7–14 are not a date.
    BirthDate,
}

/// The person an ID number stands for.
pub fn person(id: &str) -> Result<Person, BadId> {
    let id = id.trim();
    if id.len() != 18
        || !id[..17].bytes().all(|b| b.is_ascii_digit())
        || !matches!(id.as_bytes()[17], b'0'..=b'9' | b'X' | b'x')
    {
        return Err(BadId::Shape);
    }
    if !zizhu_drivers::idcard::card::check_id_number(id) {
        return Err(BadId::CheckDigit);
    }
    let birth = NaiveDate::parse_from_str(&id[6..14], "%Y%m%d").map_err(|_| BadId::BirthDate)?;
    let seed: [u8; 32] = Sha256::digest(id.to_ascii_uppercase().as_bytes()).into();
    let surname = SURNAMES[seed[0] as usize % SURNAMES.len()];
    let given = GIVEN[seed[1] as usize % GIVEN.len()];
    let sex_digit = id.as_bytes()[16] - b'0';
    Ok(Person {
        name: format!("{surname}{given}"),
        sex: if sex_digit % 2 == 1 { "M" } else { "F" },
        birth_date: birth.format("%Y-%m-%d").to_string(),
        region: region(&id[..6]),
        seed,
    })
}

fn region(code: &str) -> String {
    let city = match &code[..4] {
        "4401" => "广东省广州市",
        "4403" => "广东省深圳市",
        "4404" => "广东省珠海市",
        "4405" => "广东省汕头市",
        "4406" => "广东省佛山市",
        "4407" => "广东省江门市",
        "4413" => "广东省惠州市",
        "4419" => "广东省东莞市",
        "4420" => "广东省中山市",
        _ if code.starts_with("44") => "广东省",
        "1101" => "北京市",
        "3101" => "上海市",
        _ => "其他地区",
    };
    city.to_string()
}

/// A deterministic number stream from a seed and a label.
pub struct Rng {
    state: [u8; 32],
    pos: usize,
}

impl Rng {
    /// A stream for `seed` and `label` (a service id, say).
    pub fn new(seed: &[u8], label: &str) -> Rng {
        let mut h = Sha256::new();
        h.update(seed);
        h.update(label.as_bytes());
        Rng {
            state: h.finalize().into(),
            pos: 0,
        }
    }

    /// The next value in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if self.pos + 8 > 32 {
            self.state = Sha256::digest(self.state).into();
            self.pos = 0;
        }
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.state[self.pos..self.pos + 8]);
        self.pos += 8;
        u64::from_le_bytes(b) % n.max(1)
    }

    /// A value in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }
}

/// Formats fen as yuan with two decimals.
pub fn yuan(fen: u64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// Parses a yuan amount (`"12.5"`, `"300000.00"`) into fen.
pub fn parse_yuan(s: &str) -> Option<u64> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() || frac.len() > 2 || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let i: u64 = int.parse().ok()?;
    let f: u64 = format!("{frac:0<2}").parse().ok()?;
    i.checked_mul(100)?.checked_add(f)
}

fn item(zh: &str, en: &str, value: impl Into<String>) -> Item {
    Item {
        label_zh: zh.into(),
        label_en: en.into(),
        value: value.into(),
        speak: false,
    }
}

fn col(zh: &str, en: &str) -> Column {
    Column {
        zh: zh.into(),
        en: en.into(),
    }
}

/// Months of a `YYYY-MM..YYYY-MM` range, at most 36, oldest first.
pub fn months(range: &str) -> Vec<(i32, u32)> {
    let Some((a, b)) = range.split_once("..") else {
        return Vec::new();
    };
    let parse = |s: &str| -> Option<(i32, u32)> {
        let (y, m) = s.trim().split_once('-')?;
        let (y, m) = (y.parse().ok()?, m.parse().ok()?);
        (1..=12).contains(&m).then_some((y, m))
    };
    let (Some(mut cur), Some(end)) = (parse(a), parse(b)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    while cur <= end && out.len() < 36 {
        out.push(cur);
        cur = if cur.1 == 12 {
            (cur.0 + 1, 1)
        } else {
            (cur.0, cur.1 + 1)
        };
    }
    out
}

/// The category-specific figures of a person for a service.
fn figures(category: &str, rng: &mut Rng) -> Vec<Item> {
    match category {
        "social-security" => vec![
            item("参保状态", "Status", "正常参保 / Insured"),
            item(
                "累计缴费月数",
                "Months contributed",
                rng.range(12, 360).to_string(),
            ),
            item(
                "个人账户余额（元）",
                "Personal account (yuan)",
                yuan(rng.range(100_000, 9_000_000)),
            ),
        ],
        "medical-insurance" => vec![
            item(
                "参保险种",
                "Scheme",
                "职工基本医疗保险 / Employee medical insurance",
            ),
            item(
                "医保个人账户余额（元）",
                "Medical account (yuan)",
                yuan(rng.range(5_000, 2_000_000)),
            ),
        ],
        "housing-fund" => vec![
            item(
                "公积金账户余额（元）",
                "Fund balance (yuan)",
                yuan(rng.range(100_000, 30_000_000)),
            ),
            item(
                "月缴存额（元）",
                "Monthly deposit (yuan)",
                yuan(rng.range(20_000, 600_000)),
            ),
            item("账户状态", "Status", "正常 / Active"),
        ],
        "tax" => vec![
            item(
                "年度收入（元）",
                "Annual income (yuan)",
                yuan(rng.range(3_000_000, 40_000_000)),
            ),
            item(
                "已缴个人所得税（元）",
                "Income tax paid (yuan)",
                yuan(rng.range(0, 3_000_000)),
            ),
        ],
        "traffic" => vec![
            item("驾驶证状态", "Licence status", "正常 / Valid"),
            item("累积记分", "Penalty points", rng.range(0, 9).to_string()),
            item("未处理违法", "Open violations", rng.range(0, 3).to_string()),
        ],
        "utilities" => vec![item(
            "账户余额（元）",
            "Account balance (yuan)",
            yuan(rng.range(0, 50_000)),
        )],
        _ => vec![item("记录状态", "Record status", "正常 / In order")],
    }
}

/// The screen part of a result: who, the figures, and a table for month ranges.
pub fn screen(
    service: &Service,
    category: Option<&Category>,
    person: Option<(&Person, &str)>,
    fields: &BTreeMap<String, String>,
) -> ScreenResult {
    let seed = person.map(|(p, _)| p.seed).unwrap_or([7u8; 32]);
    let mut rng = Rng::new(&seed, &service.id);
    let mut items = Vec::new();
    if let Some((p, masked)) = person {
        items.push(item("姓名", "Name", mask_name(&p.name)));
        items.push(item("证件号码", "ID number", masked));
    }
    let cat = category.map(|c| c.id.as_str()).unwrap_or("other");
    items.extend(figures(cat, &mut rng));
    let mut table = None;
    for f in &service.fields {
        let Some(v) = fields.get(&f.key) else {
            continue;
        };
        match f.kind {
            FieldKind::MonthRange => {
                let rows = months(v)
                    .into_iter()
                    .map(|(y, m)| {
                        let base = rng.range(30_000, 300_000);
                        vec![
                            format!("{y:04}-{m:02}"),
                            yuan(base),
                            yuan(base / 4),
                            "已到账 / Received".to_string(),
                        ]
                    })
                    .collect::<Vec<_>>();
                table = Some(Table {
                    columns: vec![
                        col("月份", "Month"),
                        col("缴费基数（元）", "Base (yuan)"),
                        col("个人缴纳（元）", "Personal (yuan)"),
                        col("状态", "Status"),
                    ],
                    rows,
                });
            }
            FieldKind::Select => {
                let label = f
                    .options
                    .iter()
                    .find(|o| &o.value == v)
                    .map(|o| format!("{} / {}", o.zh, o.en))
                    .unwrap_or_else(|| v.clone());
                items.push(item(&f.zh, &f.en, label));
            }
            FieldKind::Phone => items.push(item(&f.zh, &f.en, mask_phone(v))),
            _ => {}
        }
    }
    ScreenResult {
        title_zh: service.zh.clone(),
        title_en: service.en.clone(),
        items,
        table,
    }
}

/// A print result: the screen plus the document lines.
pub fn print(
    screen: ScreenResult,
    service: &Service,
    reference: &str,
    verify_url: String,
) -> PrintResult {
    let mut lines = vec![format!("编号：{reference}")];
    for i in &screen.items {
        lines.push(format!("{}：{}", i.label_zh, i.value));
    }
    if let Some(t) = &screen.table {
        lines.push(
            t.columns
                .iter()
                .map(|c| c.zh.as_str())
                .collect::<Vec<_>>()
                .join("  "),
        );
        for r in &t.rows {
            lines.push(r.join("  "));
        }
    }
    lines.push(format!("出具单位：{}", service.department_zh));
    lines.push("本凭证可扫描二维码核验真伪。".into());
    PrintResult {
        document: Document {
            title_zh: service.zh.clone(),
            title_en: service.en.clone(),
            lines,
            verify_url,
        },
        screen,
    }
}

/// A submit result.
pub fn submit(service: &Service, reference: &str) -> SubmitResult {
    SubmitResult {
        reference: reference.into(),
        next_steps_zh: format!(
            "申请已提交至{}，一般在5个工作日内办结，结果将以短信通知。",
            service.department_zh
        ),
        next_steps_en: format!(
            "Your application went to {}; it is usually decided within 5 working days and you \
             will be told by SMS.",
            service.department_en
        ),
    }
}

/// A pay result: the amount from an `amount` field, or a deterministic bill.
pub fn pay(
    service: &Service,
    person: Option<&Person>,
    fields: &BTreeMap<String, String>,
    order_id: &str,
    pay_url: String,
) -> (PayResult, u64) {
    let seed = person.map(|p| p.seed).unwrap_or([7u8; 32]);
    let mut rng = Rng::new(&seed, &service.id);
    let given = service
        .fields
        .iter()
        .filter(|f| f.kind == FieldKind::Amount)
        .find_map(|f| fields.get(&f.key).and_then(|v| parse_yuan(v)));
    let fen = given.unwrap_or_else(|| rng.range(1_000, 200_000));
    let mut items = vec![item("缴费项目", "Item", service.zh.clone())];
    if let Some(y) = fields.get("year") {
        items.push(item("缴费年度", "Year", y.clone()));
    }
    items.push(item("应缴金额（元）", "Amount due (yuan)", yuan(fen)));
    (
        PayResult {
            order_id: order_id.into(),
            amount: yuan(fen),
            pay_url,
            items,
        },
        fen,
    )
}

/// Office names of the usual `office` select values.
pub fn office_name(service: &Service, value: &str) -> (String, String) {
    service
        .field("office")
        .and_then(|f| f.options.iter().find(|o| o.value == value))
        .map(|o| (o.zh.clone(), o.en.clone()))
        .unwrap_or_else(|| ("政务服务中心".into(), "Government service centre".into()))
}

/// The slots of a service on a day: half-hour slots 09:00–12:00 and 14:00–17:00 at each office,
/// some taken (deterministically). Weekends have none.
pub fn slots(service: &Service, date: NaiveDate) -> Vec<Slot> {
    if date.weekday().number_from_monday() > 5 {
        return Vec::new();
    }
    let offices: Vec<String> = service
        .field("office")
        .map(|f| f.options.iter().map(|o| o.value.clone()).collect())
        .filter(|v: &Vec<String>| !v.is_empty())
        .unwrap_or_else(|| vec!["centre".into()]);
    let mut out = Vec::new();
    let mut rng = Rng::new(date.to_string().as_bytes(), &service.id);
    for office in &offices {
        for start_min in (9 * 60..12 * 60).chain(14 * 60..17 * 60).step_by(30) {
            let end_min = start_min + 30;
            let d = date.format("%Y-%m-%d");
            let slot_id = format!(
                "{}-{}-{:04}",
                d,
                office,
                start_min / 60 * 100 + start_min % 60
            );
            out.push(Slot {
                slot_id,
                start: format!("{d}T{:02}:{:02}", start_min / 60, start_min % 60),
                end: format!("{d}T{:02}:{:02}", end_min / 60, end_min % 60),
                office: office.clone(),
                available: rng.below(4) != 0,
            });
        }
    }
    out
}

/// The next working day after `today`.
pub fn next_working_day(today: NaiveDate) -> NaiveDate {
    let mut d = today + Duration::days(1);
    while d.weekday().number_from_monday() > 5 {
        d += Duration::days(1);
    }
    d
}

/// An appointment result.
pub fn appointment(service: &Service, slot: Slot, reference: &str) -> AppointmentResult {
    let (zh, en) = office_name(service, &slot.office);
    AppointmentResult {
        slot,
        office_zh: zh,
        office_en: en,
        reference: reference.into(),
    }
}

/// `张三丰` → `张*丰`, `李四` → `李*`.
pub fn mask_name(name: &str) -> String {
    let c: Vec<char> = name.chars().collect();
    match c.len() {
        0 => String::new(),
        1 => "*".into(),
        2 => format!("{}*", c[0]),
        n => format!("{}{}{}", c[0], "*".repeat(n - 2), c[n - 1]),
    }
}

fn mask_phone(p: &str) -> String {
    if p.len() == 11 && p.is_ascii() {
        format!("{}****{}", &p[..3], &p[7..])
    } else {
        "****".into()
    }
}

/// Whether the output kind needs a subject record table (used by docs/tests).
pub fn has_records(output: Output) -> bool {
    matches!(output, Output::Screen | Output::Print)
}

/// Synthetic USCC (correct GB 32100 check character) of the demo issuing authority in every
/// demo 证照标识; belongs to no real organ.
pub const DEMO_ISSUING_ORG: &str = "11440000MB2C90001G";

/// One e-licence a synthetic person holds: everything the demo platform needs to list it, attach
/// it and issue a presentation of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    /// The licence type (demo code, catalog id, names).
    pub licence_type: &'static crate::elicense::types::LicenceType,
    /// 证照标识 (GB/T 36904, correct check character).
    pub identifier: String,
    /// 颁证单位 name.
    pub org_name: String,
    /// 颁证日期 `YYYY-MM-DD`.
    pub issued: String,
    /// 有效期截止 `YYYY-MM-DD` or `长期`, for types that have one.
    pub valid_to: Option<String>,
}

fn age_on(birth: NaiveDate, today: NaiveDate) -> i32 {
    let mut age = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

fn plus_years(d: NaiveDate, years: u32) -> NaiveDate {
    d.checked_add_months(chrono::Months::new(years * 12))
        .unwrap_or(d)
}

/// The e-licences a synthetic person holds on `today`, deterministic per ID number (and the
/// person's age): everyone holds identity, household-register and social-security-card; from
/// 22, a seeded coin decides marriage-cert (about 6 in 10) or divorce-cert (about 1 in 10);
/// from 18, driving-licence (6 in 10, vehicle-licence for half of them) and business-licence
/// (1 in 5); from 25 property-cert (4 in 10); from 22 diploma (half); born 1996 or later
/// birth-cert; ID numbers from outside Guangdong (not `44…`) a residence-permit; about 1 in 50
/// disability-cert; about 1 in 25 men from 20 a veteran-card. Types missing from
/// [`crate::elicense::types`] are never held.
pub fn holdings(person: &Person, today: NaiveDate) -> Vec<Holding> {
    use crate::elicense::types as t;
    let Ok(birth) = NaiveDate::parse_from_str(&person.birth_date, "%Y-%m-%d") else {
        return Vec::new();
    };
    let age = age_on(birth, today);
    let mut rng = Rng::new(&person.seed, "elicense-holdings");
    // Draw every coin whatever the age, so one type's rule never shifts another's coin.
    let (family, driving, vehicle, business, property, diploma, disability, veteran) = (
        rng.below(10),
        rng.below(10),
        rng.below(2),
        rng.below(5),
        rng.below(10),
        rng.below(2),
        rng.below(50),
        rng.below(25),
    );
    let local = person.region.starts_with("广东");
    let mut held: Vec<&'static t::LicenceType> = vec![
        &t::IDENTITY_CARD,
        &t::HOUSEHOLD_REGISTER,
        &t::SOCIAL_SECURITY_CARD,
    ];
    if age >= 22 && family < 6 {
        held.push(&t::MARRIAGE_CERTIFICATE);
    } else if age >= 22 && family == 6 {
        held.push(&t::DIVORCE_CERTIFICATE);
    }
    if age >= 18 && business == 0 {
        held.push(&t::BUSINESS_LICENCE);
    }
    if age >= 18 && driving < 6 {
        held.push(&t::DRIVING_LICENCE);
        if vehicle == 0 {
            held.push(&t::VEHICLE_LICENCE);
        }
    }
    if age >= 25 && property < 4 {
        held.push(&t::REAL_ESTATE_CERTIFICATE);
    }
    if !local {
        held.push(&t::RESIDENCE_PERMIT);
    }
    if disability == 0 {
        held.push(&t::DISABILITY_CERTIFICATE);
    }
    if birth.year() >= 1996 {
        held.push(&t::BIRTH_CERTIFICATE);
    }
    if age >= 22 && diploma == 0 {
        held.push(&t::ACADEMIC_CERTIFICATE);
    }
    if person.sex == "M" && age >= 20 && veteran == 0 {
        held.push(&t::VETERAN_CARD);
    }
    held.into_iter()
        .map(|lt| holding(person, lt, birth, age, today))
        .collect()
}

fn holding(
    person: &Person,
    lt: &'static crate::elicense::types::LicenceType,
    birth: NaiveDate,
    age: i32,
    today: NaiveDate,
) -> Holding {
    use crate::elicense::types as t;
    let mut rng = Rng::new(&person.seed, lt.id);
    // Issued some time between the 18th birthday (birth for birth certificates) and today.
    let from = if lt.id == t::BIRTH_CERTIFICATE.id {
        birth
    } else {
        plus_years(birth, 18).max(NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(birth))
    };
    let span = (today - from).num_days().max(1) as u64;
    let issued = from + Duration::days(rng.below(span) as i64);
    let serial = format!("{:016}", rng.below(10_000_000_000_000_000));
    let identifier = crate::elicense::lid::build(lt.code, DEMO_ISSUING_ORG, &serial, "001")
        .unwrap_or_else(|| format!("1.2.156.3005.2.{}.{DEMO_ISSUING_ORG}.{serial}.001", lt.code));
    let valid_to = match lt.id {
        "identity" if age >= 46 => Some("长期".to_string()),
        "identity" if age >= 26 => Some(plus_years(issued, 20).to_string()),
        "identity" => Some(plus_years(issued, 10).to_string()),
        "driving-licence" => Some(plus_years(issued, 6).to_string()),
        "residence-permit" => Some(plus_years(issued, 1).max(today).to_string()),
        "business-licence" => Some("长期".to_string()),
        _ => None,
    };
    let organ = match lt.id {
        "marriage-cert" | "divorce-cert" => "民政局",
        "business-licence" => "市场监督管理局",
        "property-cert" => "自然资源局",
        "social-security-card" => "人力资源和社会保障局",
        "disability-cert" => "残疾人联合会",
        "birth-cert" => "卫生健康局",
        "diploma" => "教育局",
        "veteran-card" => "退役军人事务局",
        _ => "公安局",
    };
    Holding {
        licence_type: lt,
        identifier,
        org_name: format!("{}{organ}", person.region),
        issued: issued.to_string(),
        valid_to,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_is_deterministic_and_checked() {
        let a = person("11010519491231002X").expect("valid");
        assert_eq!(a, person("11010519491231002x").expect("valid"));
        assert_eq!(a.sex, "F");
        assert_eq!(a.birth_date, "1949-12-31");
        assert_eq!(person("110105194912310021"), Err(BadId::CheckDigit));
        assert_eq!(person("1101"), Err(BadId::Shape));
    }

    #[test]
    fn holdings_are_deterministic_and_follow_age() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
        let old = person("11010519491231002X").expect("valid");
        let a = holdings(&old, today);
        assert_eq!(a, holdings(&old, today));
        let ids: Vec<&str> = a.iter().map(|h| h.licence_type.id).collect();
        for always in ["identity", "household-register", "social-security-card"] {
            assert!(ids.contains(&always), "{always}");
        }
        assert!(!ids.contains(&"birth-cert"), "born 1949");
        assert!(ids.contains(&"residence-permit"), "a Beijing number");
        let id = a
            .iter()
            .find(|h| h.licence_type.id == "identity")
            .expect("identity");
        assert_eq!(id.valid_to.as_deref(), Some("长期"));
        let (_, warnings) = crate::elicense::lid::parse(&id.identifier).expect("a valid 证照标识");
        assert!(warnings.is_empty());
        // A child holds no marriage, business or driving licence.
        let child = person("44010620150101001X").expect("valid");
        let ids: Vec<&str> = holdings(&child, today)
            .iter()
            .map(|h| h.licence_type.id)
            .collect();
        for never in [
            "marriage-cert",
            "divorce-cert",
            "business-licence",
            "driving-licence",
        ] {
            assert!(!ids.contains(&never), "{never}");
        }
        assert!(ids.contains(&"birth-cert"));
        assert!(!ids.contains(&"residence-permit"), "a Guangdong number");
    }

    #[test]
    fn money_and_months() {
        assert_eq!(parse_yuan("12.5"), Some(1250));
        assert_eq!(parse_yuan("300000.00"), Some(30_000_000));
        assert_eq!(parse_yuan("1.234"), None);
        assert_eq!(parse_yuan("-1"), None);
        assert_eq!(yuan(1205), "12.05");
        assert_eq!(months("2024-11..2025-02").len(), 4);
        assert_eq!(months("2000-01..2030-12").len(), 36);
        assert!(months("garbage").is_empty());
    }
}
