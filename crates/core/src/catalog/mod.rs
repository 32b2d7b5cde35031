//! The service catalog: every service the kiosk offers, its category and department, how the
//! citizen identifies, what they get, the form fields its flow asks for, and the e-licence types
//! that replace paper materials. The data lives in `data/catalog.toml`, embedded in the binary;
//! [`Catalog::parse`] validates an external file (duplicate ids, unknown categories or licence
//! types, missing translations, bad field types) and names the line of each problem.
//!
//! Parsing is two-step, the low/high split of ripgrep's flags: `raw` types mirror the TOML with
//! source spans, and are validated once into the plain public types below.
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::text::Text;

pub mod bundle;
pub mod live;
mod profile;
mod raw;
pub mod search;

pub use profile::{Found, Offer, Profile, UnknownProfile};
pub use search::{Hit, MatchKind};

/// The catalog shipped in the binary.
pub const BUILTIN_TOML: &str = include_str!("../../../../data/catalog.toml");

/// Display language. Chinese is the default everywhere; English is the second language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Simplified Chinese (zh-CN).
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// Picks the string for this language.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// Parses `zh` / `en` (also `zh-CN`, `en-US`).
    pub fn parse(s: &str) -> Option<Lang> {
        match s.to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "cn" => Some(Lang::Zh),
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            _ => None,
        }
    }

    /// The short code (`zh`, `en`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
}

/// Whom a service is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Audience {
    /// Individual citizens.
    Person,
    /// Businesses.
    Business,
    /// Both.
    Both,
}

/// How the citizen identifies for a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Auth {
    /// The ID card on the reader.
    #[serde(rename = "idcard")]
    IdCard,
    /// ID card plus a live face check (met by an identity code from the phone, or the card and a
    /// face check on the phone; see docs/design.md, "Identification").
    #[serde(rename = "idcard+face")]
    IdCardFace,
    /// An e-licence or identity presentation code shown from the phone.
    #[serde(rename = "elicense")]
    ELicense,
    /// Any of the above.
    #[serde(rename = "any")]
    Any,
    /// No identification.
    #[serde(rename = "none")]
    None,
}

impl Auth {
    /// What the citizen is asked for, in plain words.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Auth::IdCard => Text::AuthIdCard,
            Auth::IdCardFace => Text::AuthIdCardFace,
            Auth::ELicense => Text::AuthELicence,
            Auth::Any => Text::AuthAny,
            Auth::None => Text::AuthNone,
        }
        .get(lang)
    }
}

/// What the citizen gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Output {
    /// A result on screen (and by QR to the phone).
    Screen,
    /// A printed document with a verification QR.
    Print,
    /// An application submitted; a reference number.
    Submit,
    /// A payment by QR code.
    Pay,
    /// An appointment slot.
    Appointment,
}

impl Output {
    /// What the citizen gets, in plain words.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Output::Screen => Text::OutputScreen,
            Output::Print => Text::OutputPrint,
            Output::Submit => Text::OutputSubmit,
            Output::Pay => Text::OutputPay,
            Output::Appointment => Text::AppointmentSlot,
        }
        .get(lang)
    }
}

/// How often citizens use a service (search tie-break, home-screen tiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Frequency {
    /// Rarely used.
    Low,
    /// Sometimes used.
    Medium,
    /// Among the most used; shown as home-screen tiles.
    High,
}

/// The type of a form field; each has its own validation (see `crate::flow` for the rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldKind {
    /// Free text (length limits from `min`/`max`).
    Text,
    /// Digits only (length limits from `min`/`max`).
    Digits,
    /// A date, `YYYY-MM-DD`.
    Date,
    /// A range of months, `YYYY-MM..YYYY-MM`.
    MonthRange,
    /// One of `options`.
    Select,
    /// A mainland mobile number (11 digits starting with 1).
    Phone,
    /// An amount of money in yuan, at most two decimals (bounds from `min`/`max`).
    Amount,
}

/// One choice of a `select` field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// The value sent to the platform.
    pub value: String,
    /// Chinese label.
    pub zh: String,
    /// English label.
    pub en: String,
}

/// A form field of a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// Key sent to the platform.
    pub key: String,
    /// Type and validation rule.
    pub kind: FieldKind,
    /// Chinese label.
    pub zh: String,
    /// English label.
    pub en: String,
    /// A valid sample value (`zizhu flow run --sample`, tests, placeholder text).
    pub example: String,
    /// Whether the citizen must fill it.
    pub required: bool,
    /// Lower bound (length for text/digits, value for amounts).
    pub min: Option<f64>,
    /// Upper bound (length for text/digits, value for amounts).
    pub max: Option<f64>,
    /// Choices of a `select` field.
    pub options: Vec<Choice>,
}

impl Field {
    /// The label in `lang`.
    pub fn label(&self, lang: Lang) -> &str {
        lang.pick(&self.zh, &self.en)
    }
}

/// A service category (a tab on the home screen).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    /// Stable id, e.g. `social-security`.
    pub id: String,
    /// Chinese name.
    pub zh: String,
    /// English name.
    pub en: String,
    /// Short Chinese name as citizens say it (社保, 医保); used in search keywords.
    pub short_zh: String,
    /// Icon name (`ui/icons/<icon>.svg`).
    pub icon: String,
    /// The clause this category adds to every commitment (告知承诺) of its services, (zh, en).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commitment: Option<(String, String)>,
}

impl Category {
    /// The name in `lang`.
    pub fn name(&self, lang: Lang) -> &str {
        lang.pick(&self.zh, &self.en)
    }
}

/// An e-licence type (电子证照) that can replace a paper document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Licence {
    /// Stable id, e.g. `household-register`.
    pub id: String,
    /// Chinese name.
    pub zh: String,
    /// English name.
    pub en: String,
}

impl Licence {
    /// The name in `lang`.
    pub fn name(&self, lang: Lang) -> &str {
        lang.pick(&self.zh, &self.en)
    }
}

/// One service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    /// Stable id, e.g. `ss-insured-cert-print`.
    pub id: String,
    /// Chinese name.
    pub zh: String,
    /// English name.
    pub en: String,
    /// Category id.
    pub category: String,
    /// Responsible department, Chinese.
    pub department_zh: String,
    /// Responsible department, English.
    pub department_en: String,
    /// Whom it is for.
    pub audience: Audience,
    /// How the citizen identifies.
    pub auth: Auth,
    /// What the citizen gets.
    pub output: Output,
    /// How often it is used.
    pub frequency: Frequency,
    /// What it does, Chinese.
    pub summary_zh: String,
    /// What it does, English.
    pub summary_en: String,
    /// Whether typing another person's ID number is allowed (代他人).
    pub proxy: bool,
    /// Whether a signed-in staff member may check the person against the ID card (人工核验,
    /// identity method `idcard+staff`) instead of the phone face check; `idcard+face` only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub staff_verify: bool,
    /// Whether the citizen must accept a commitment (告知承诺) before submitting.
    pub commitment: bool,
    /// The numbered clauses of the commitment, Chinese (empty without a commitment): the general
    /// clauses with the category's and the service's own (catalog `commitment_zh`) in between.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commitment_zh: Vec<String>,
    /// The numbered clauses of the commitment, English.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commitment_en: Vec<String>,
    /// E-licence types (ids of [`Licence`]) that replace paper materials.
    pub elicense: Vec<String>,
    /// Where the service was documented (public reports).
    pub source: String,
    /// Form fields, in order.
    pub fields: Vec<Field>,
    /// A 一件事一次办 service (`[[one_thing]]`): the ordinary services its one application is
    /// filed to, in order. Empty for an ordinary service.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<Member>,
}

/// A member of a 一件事一次办 service ("one thing, done once"): an ordinary service that the one
/// identification, the one merged form and the one commitment are filed to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// The member service's id.
    pub id: String,
    /// Its Chinese name.
    pub zh: String,
    /// Its English name.
    pub en: String,
    /// The keys of the merged form's fields it takes (its own fields).
    pub fields: Vec<String>,
    /// The e-licence types it accepts.
    pub elicense: Vec<String>,
}

impl Member {
    /// The name in `lang`.
    pub fn name(&self, lang: Lang) -> &str {
        lang.pick(&self.zh, &self.en)
    }
}

impl Service {
    /// Whether this is a 一件事一次办 service filed to several member services.
    pub fn is_one_thing(&self) -> bool {
        !self.members.is_empty()
    }
    /// The name in `lang`.
    pub fn name(&self, lang: Lang) -> &str {
        lang.pick(&self.zh, &self.en)
    }
    /// What it does, in `lang`.
    pub fn summary(&self, lang: Lang) -> &str {
        lang.pick(&self.summary_zh, &self.summary_en)
    }
    /// The department in `lang`.
    pub fn department(&self, lang: Lang) -> &str {
        lang.pick(&self.department_zh, &self.department_en)
    }
    /// The commitment's clauses in `lang` (empty when the service has none).
    pub fn commitment_clauses(&self, lang: Lang) -> &[String] {
        match lang {
            Lang::Zh => &self.commitment_zh,
            Lang::En => &self.commitment_en,
        }
    }
    /// The field with this key.
    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key == key)
    }
}

/// A problem in a catalog file. Each names the line and what to fix.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum CatalogError {
    /// The file is not valid TOML, or a value has the wrong type or an unknown name. Fix the
    /// syntax or value at the line given.
    #[error("line {line}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// What the parser said.
        message: String,
    },
    /// The file parses but a value is wrong (duplicate id, unknown category, missing
    /// translation…). Fix the named field at the line given.
    #[error("line {line}: field `{field}`: {message}")]
    Invalid {
        /// 1-based line.
        line: usize,
        /// The field, e.g. `service.category`.
        field: String,
        /// What is wrong and what to do.
        message: String,
    },
}

impl CatalogError {
    /// The 1-based line the problem is on.
    pub fn line(&self) -> usize {
        match self {
            CatalogError::Syntax { line, .. } | CatalogError::Invalid { line, .. } => *line,
        }
    }
}

/// The validated catalog with its search index.
#[derive(Debug)]
pub struct Catalog {
    categories: Vec<Category>,
    licences: Vec<Licence>,
    services: Vec<Service>,
    profiles: Vec<Profile>,
    by_id: HashMap<String, usize>,
    index: search::Index,
}

impl Catalog {
    /// The catalog embedded in the binary (parsed and indexed once).
    pub fn builtin() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| match Catalog::parse(BUILTIN_TOML) {
            Ok(c) => c,
            // The embedded file is checked by a unit test; this cannot happen in a tested build.
            Err(errors) => panic!("the embedded catalog is invalid: {errors:?}"),
        })
    }

    /// Parses and validates a catalog file. Returns every problem found, each with its line.
    pub fn parse(text: &str) -> Result<Catalog, Vec<CatalogError>> {
        let raw = raw::parse(text)?;
        let raw::Validated {
            categories,
            licences,
            services,
            profiles,
        } = raw::validate(text, raw)?;
        let by_id = services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        let index = search::Index::build(&services, &categories, &licences);
        Ok(Catalog {
            categories,
            licences,
            services,
            profiles,
            by_id,
            index,
        })
    }

    /// All services, in catalog order.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// All categories, in display order.
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    /// The site profiles (`[[profile]]`), in file order.
    pub fn profiles(&self) -> &[Profile] {
        &self.profiles
    }

    /// The site profile with this id.
    pub fn profile(&self, id: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.id == id)
    }

    /// All e-licence types.
    pub fn licences(&self) -> &[Licence] {
        &self.licences
    }

    /// The service with this id.
    pub fn service(&self, id: &str) -> Option<&Service> {
        self.by_id.get(id).map(|&i| &self.services[i])
    }

    /// Index of the service with this id in [`Catalog::services`].
    pub fn position(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The category with this id.
    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }

    /// The e-licence type with this id.
    pub fn licence(&self, id: &str) -> Option<&Licence> {
        self.licences.iter().find(|l| l.id == id)
    }

    /// Every service id, in catalog order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.services.iter().map(|s| s.id.as_str())
    }

    /// Services of one category, most used first.
    pub fn in_category(&self, category: &str) -> Vec<&Service> {
        let mut v: Vec<&Service> = self
            .services
            .iter()
            .filter(|s| s.category == category)
            .collect();
        v.sort_by_key(|s| std::cmp::Reverse(s.frequency));
        v
    }

    /// The most used services (home-screen tiles), in catalog order.
    pub fn high_frequency(&self) -> Vec<&Service> {
        self.services
            .iter()
            .filter(|s| s.frequency == Frequency::High)
            .collect()
    }

    /// Searches by Chinese, full pinyin, pinyin initials or English; best first.
    pub fn search(&self, query: &str) -> Vec<Hit> {
        self.index.search(query, &self.services)
    }

    /// Services counted per category id.
    pub fn counts(&self) -> HashMap<&str, usize> {
        let mut m = HashMap::new();
        for s in &self.services {
            *m.entry(s.category.as_str()).or_insert(0) += 1;
        }
        m
    }

    /// Ids of categories with at least one service, in display order.
    pub fn used_categories(&self) -> Vec<&Category> {
        let used: HashSet<&str> = self.services.iter().map(|s| s.category.as_str()).collect();
        self.categories
            .iter()
            .filter(|c| used.contains(c.id.as_str()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_thing(members: &str) -> String {
        format!(
            "{BUILTIN_TOML}\n[[one_thing]]\nid = \"ot-x\"\nzh = \"某某一件事\"\nen = \"Something\"\n\
             category = \"civil-affairs\"\ndepartment_zh = \"民政局\"\ndepartment_en = \"Civil Affairs\"\n\
             audience = \"person\"\nfrequency = \"low\"\nsummary_zh = \"一次办。\"\n\
             summary_en = \"Done at once.\"\nmembers = {members}\n"
        )
    }

    #[test]
    fn a_one_thing_is_derived_from_its_members() {
        let c = Catalog::parse(&one_thing(r#"["ca-senior-allowance", "ca-elder-card"]"#)).unwrap();
        let o = c.service("ot-x").unwrap();
        assert!(o.is_one_thing());
        assert_eq!(o.output, Output::Submit);
        assert_eq!(o.auth, c.service("ca-elder-card").unwrap().auth);
        let keys: Vec<&str> = o.fields.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["phone", "date"], "each key once, in member order");
        assert_eq!(o.members[1].fields, ["phone"]);
        // Clauses: truthfulness and liability once, the members' own ones each once.
        let first = &o.commitment_zh[0];
        assert_eq!(o.commitment_zh.iter().filter(|c| *c == first).count(), 1);
        assert!(o.commitment_zh.last().unwrap().contains("法律责任"));
    }

    #[test]
    fn a_one_thing_whose_members_do_not_fit_is_refused_with_its_line() {
        let cases = [
            (r#"["ca-elder-card"]"#, "at least two"),
            (
                r#"["ca-elder-card", "no-such-service"]"#,
                "unknown service `no-such-service`",
            ),
            (r#"["ca-elder-card", "ca-elder-card"]"#, "listed twice"),
            (
                r#"["ca-elder-card", "ss-insured-cert-print"]"#,
                "not an application",
            ),
            (
                r#"["ca-elder-card", "ps-idcard-lost"]"#,
                "identifies the citizen differently",
            ),
        ];
        for (members, want) in cases {
            let e = Catalog::parse(&one_thing(members)).unwrap_err();
            assert!(
                e.iter().any(|e| e.to_string().contains(want)),
                "{members}: {e:?}"
            );
            assert!(e.iter().all(|e| e.line() > 4000), "{e:?}");
        }
        // A shared key defined differently: `date` renamed in one member.
        let text = one_thing(r#"["ca-senior-allowance", "ca-disability-card"]"#);
        let pos = text.find("id = \"ca-disability-card\"").unwrap();
        let (head, tail) = text.split_at(pos);
        let tail = tail.replacen("zh = \"申请生效日期\"", "zh = \"认定日期\"", 1);
        let e = Catalog::parse(&format!("{head}{tail}")).unwrap_err();
        assert!(
            e.iter().any(|e| e.to_string().contains("field `date`")),
            "{e:?}"
        );
    }

    #[test]
    fn builtin_catalog_is_valid_and_large() {
        let c = Catalog::parse(BUILTIN_TOML).expect("valid");
        assert!(c.services().len() >= 130, "{}", c.services().len());
        assert!(c.categories().len() >= 10);
        for s in c.services() {
            assert!(c.category(&s.category).is_some(), "{}", s.id);
            for f in &s.fields {
                assert!(!f.example.is_empty(), "{}.{}", s.id, f.key);
            }
        }
    }

    #[test]
    fn commitments_combine_general_category_and_service_clauses() {
        let c = Catalog::builtin();
        let s = c.service("emp-unemployment-claim").expect("present");
        let zh = s.commitment_clauses(Lang::Zh);
        assert_eq!(zh.len(), 4, "{zh:?}");
        assert!(zh[0].starts_with("一、本人所填写的信息"), "{}", zh[0]);
        assert!(zh[1].starts_with("二、本人的就业"), "{}", zh[1]);
        assert!(zh[2].contains("失业登记"), "{}", zh[2]);
        assert!(zh[3].starts_with("四、") && zh[3].contains("法律责任"));
        let en = s.commitment_clauses(Lang::En);
        assert!(en[2].starts_with("3. I lost my job"), "{}", en[2]);
        // Services without a commitment have no clauses; every commitment has at least three.
        for s in c.services() {
            let n = s.commitment_clauses(Lang::Zh).len();
            assert_eq!(n == 0, !s.commitment, "{}", s.id);
            assert_eq!(n, s.commitment_clauses(Lang::En).len(), "{}", s.id);
        }
        assert!(c
            .services()
            .iter()
            .filter(|s| s.output == Output::Screen)
            .all(|s| !s.commitment || !s.commitment_clauses(Lang::Zh).is_empty()));
    }

    #[test]
    fn half_translated_or_stray_commitment_texts_are_refused() {
        let base = BUILTIN_TOML.replacen("commitment_en = \"I lost my job", "x_unused = \"", 1);
        let errs = Catalog::parse(&base).expect_err("unknown key");
        assert!(format!("{errs:?}").contains("x_unused"), "{errs:?}");
        let half = BUILTIN_TOML.replacen("commitment_en = \"I lost my job not by my own choice, am registered as unemployed, and will not work or draw a pension while claiming.\"\n", "", 1);
        let errs = Catalog::parse(&half).expect_err("half pair");
        let msg = format!("{errs:?}");
        assert!(msg.contains("service.commitment_en"), "{msg}");
    }

    #[test]
    fn the_staff_check_is_only_for_face_check_services() {
        let c = Catalog::builtin();
        let allowed: Vec<&Service> = c.services().iter().filter(|s| s.staff_verify).collect();
        assert!(allowed.len() >= 3, "some services allow 人工核验");
        assert!(allowed.iter().all(|s| s.auth == Auth::IdCardFace));
        assert!(c
            .services()
            .iter()
            .any(|s| s.auth == Auth::IdCardFace && !s.staff_verify));
        // On a service identified by card alone the flag is refused, with its line.
        let first_idcard = BUILTIN_TOML
            .find("auth = \"idcard\"\n")
            .expect("an idcard service");
        let mut bad = BUILTIN_TOML.to_string();
        bad.insert_str(
            first_idcard + "auth = \"idcard\"\n".len(),
            "staff_verify = true\n",
        );
        let errs = Catalog::parse(&bad).expect_err("refused");
        let line = BUILTIN_TOML[..first_idcard].lines().count() + 2;
        assert!(
            errs.iter().any(|e| matches!(e, CatalogError::Invalid { field, .. } if field == "service.staff_verify")
                && e.line() == line),
            "{errs:?}"
        );
    }

    #[test]
    fn lookups() {
        let c = Catalog::builtin();
        let s = c.service("ss-insured-cert-print").expect("present");
        assert_eq!(s.zh, "社会保险参保证明打印");
        assert_eq!(s.auth, Auth::IdCardFace);
        assert_eq!(s.output, Output::Print);
        assert!(c.service("no-such-service").is_none());
        assert!(c
            .in_category("housing-fund")
            .iter()
            .all(|s| s.category == "housing-fund"));
        assert!(!c.high_frequency().is_empty());
    }
}
