//! The catalog file as written (TOML with source spans) and its validation into the public types.
//! Every problem is reported with its 1-based line and the field concerned.
use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use toml::Spanned;

use super::{
    Audience, Auth, CatalogError, Category, Choice, Field, FieldKind, Frequency, Licence, Member,
    Output, Profile, Service,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCatalog {
    version: Spanned<u32>,
    #[serde(default)]
    category: Vec<RawCategory>,
    #[serde(default)]
    licence: Vec<RawLicence>,
    #[serde(default)]
    service: Vec<RawService>,
    #[serde(default)]
    profile: Vec<RawProfile>,
    #[serde(default)]
    one_thing: Vec<RawOneThing>,
}

/// `[[one_thing]]`: a 一件事一次办 service made of member services. Its identification, form,
/// commitment and e-licences are derived from the members.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOneThing {
    id: Spanned<String>,
    zh: Spanned<String>,
    en: Spanned<String>,
    category: Spanned<String>,
    department_zh: Spanned<String>,
    department_en: Spanned<String>,
    audience: Audience,
    frequency: Frequency,
    summary_zh: Spanned<String>,
    summary_en: Spanned<String>,
    members: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    id: Spanned<String>,
    zh: Spanned<String>,
    en: Spanned<String>,
    #[serde(default)]
    services: Vec<Spanned<String>>,
    #[serde(default)]
    categories: Vec<Spanned<String>>,
    elsewhere_zh: Spanned<String>,
    elsewhere_en: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    id: Spanned<String>,
    zh: Spanned<String>,
    en: Spanned<String>,
    short_zh: Option<String>,
    icon: Spanned<String>,
    commitment_zh: Option<Spanned<String>>,
    commitment_en: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLicence {
    id: Spanned<String>,
    zh: Spanned<String>,
    en: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    id: Spanned<String>,
    zh: Spanned<String>,
    en: Spanned<String>,
    category: Spanned<String>,
    department_zh: Spanned<String>,
    department_en: Spanned<String>,
    audience: Audience,
    auth: Auth,
    output: Output,
    frequency: Frequency,
    summary_zh: Spanned<String>,
    summary_en: Spanned<String>,
    #[serde(default)]
    proxy: bool,
    /// 人工核验: a signed-in staff member may check the person against the ID card instead of
    /// the phone face check (`idcard+face` services only).
    staff_verify: Option<Spanned<bool>>,
    #[serde(default)]
    commitment: bool,
    commitment_zh: Option<Spanned<String>>,
    commitment_en: Option<Spanned<String>>,
    #[serde(default)]
    elicense: Vec<Spanned<String>>,
    #[serde(default)]
    source: String,
    #[serde(default)]
    field: Vec<RawField>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    key: Spanned<String>,
    kind: Spanned<FieldKind>,
    zh: Spanned<String>,
    en: Spanned<String>,
    example: Spanned<String>,
    #[serde(default = "yes")]
    required: bool,
    min: Option<f64>,
    max: Option<f64>,
    #[serde(default)]
    options: Vec<Choice>,
}

/// The clauses of a service's commitment (告知承诺书), numbered: truthfulness, the `extra`
/// clauses (the category's, then the service's own; for a one-thing every member's, each once),
/// liability.
fn commitment_clauses(extra: Vec<(String, String)>) -> (Vec<String>, Vec<String>) {
    const NUM_ZH: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
    let mut zh = vec!["本人所填写的信息和提交的材料真实、准确、完整，不存在虚假内容。".to_string()];
    let mut en = vec![
        "The information I give and the materials I submit are true, accurate and complete."
            .to_string(),
    ];
    for (z, e) in extra {
        zh.push(z);
        en.push(e);
    }
    zh.push("本人已知晓办理本事项的条件和要求。如有不实承诺，本人愿意承担相应的法律责任，并接受信用惩戒。".into());
    en.push("I know the conditions of this service. If any of this is untrue, I accept the legal consequences and the credit penalties.".into());
    let zh = zh
        .into_iter()
        .enumerate()
        .map(|(i, t)| format!("{}、{t}", NUM_ZH[i.min(NUM_ZH.len() - 1)]))
        .collect();
    let en = en
        .into_iter()
        .enumerate()
        .map(|(i, t)| format!("{}. {t}", i + 1))
        .collect();
    (zh, en)
}

fn yes() -> bool {
    true
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

pub(super) fn parse(text: &str) -> Result<RawCatalog, Vec<CatalogError>> {
    toml::from_str::<RawCatalog>(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
        vec![CatalogError::Syntax {
            line,
            message: e.message().trim().to_string(),
        }]
    })
}

struct Checker<'a> {
    text: &'a str,
    errors: Vec<CatalogError>,
}

impl Checker<'_> {
    fn fail(&mut self, span: std::ops::Range<usize>, field: &str, message: impl Into<String>) {
        self.errors.push(CatalogError::Invalid {
            line: line_of(self.text, span.start),
            field: field.to_string(),
            message: message.into(),
        });
    }

    /// A translation must be present and non-empty; English must not be Chinese.
    fn text(&mut self, v: &Spanned<String>, field: &str, english: bool) -> String {
        let s = v.get_ref().trim();
        if s.is_empty() {
            self.fail(
                v.span(),
                field,
                "missing translation: give the text in this language",
            );
        } else if english && s.chars().any(is_han) {
            self.fail(
                v.span(),
                field,
                "the English text contains Chinese characters: translate it",
            );
        }
        s.to_string()
    }

    /// An optional text given in both languages or in neither.
    fn pair(
        &mut self,
        zh: &Option<Spanned<String>>,
        en: &Option<Spanned<String>>,
        field: &str,
    ) -> Option<(String, String)> {
        match (zh, en) {
            (Some(z), Some(e)) => Some((
                self.text(z, &format!("{field}_zh"), false),
                self.text(e, &format!("{field}_en"), true),
            )),
            (Some(v), None) => {
                self.fail(
                    v.span(),
                    &format!("{field}_en"),
                    "missing translation: give the English text too",
                );
                None
            }
            (None, Some(v)) => {
                self.fail(
                    v.span(),
                    &format!("{field}_zh"),
                    "missing translation: give the Chinese text too",
                );
                None
            }
            (None, None) => None,
        }
    }

    fn id(&mut self, v: &Spanned<String>, field: &str, seen: &mut HashSet<String>) -> String {
        let s = v.get_ref();
        let ok = !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !ok {
            self.fail(
                v.span(),
                field,
                format!("`{s}` is not a valid id: use lowercase letters, digits, '-' and '_'"),
            );
        } else if !seen.insert(s.clone()) {
            self.fail(
                v.span(),
                field,
                format!("duplicate id `{s}`: every id must be unique"),
            );
        }
        s.clone()
    }
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{9fff}' | '\u{f900}'..='\u{faff}' | '\u{20000}'..='\u{3134f}')
}

/// A validated catalog's parts.
pub(super) struct Validated {
    pub categories: Vec<Category>,
    pub licences: Vec<Licence>,
    pub services: Vec<Service>,
    pub profiles: Vec<Profile>,
}

pub(super) fn validate(text: &str, raw: RawCatalog) -> Result<Validated, Vec<CatalogError>> {
    let mut ck = Checker {
        text,
        errors: Vec::new(),
    };
    if *raw.version.get_ref() != 1 {
        ck.fail(
            raw.version.span(),
            "version",
            "unsupported catalog version: this kiosk reads version 1",
        );
    }
    let mut seen = HashSet::new();
    let mut categories = Vec::new();
    for c in &raw.category {
        let id = ck.id(&c.id, "category.id", &mut seen);
        let zh = ck.text(&c.zh, "category.zh", false);
        let en = ck.text(&c.en, "category.en", true);
        if c.icon.get_ref().trim().is_empty() {
            ck.fail(c.icon.span(), "category.icon", "give an icon name");
        }
        let commitment = ck.pair(&c.commitment_zh, &c.commitment_en, "category.commitment");
        categories.push(Category {
            short_zh: c.short_zh.clone().unwrap_or_else(|| zh.clone()),
            id,
            zh,
            en,
            icon: c.icon.get_ref().clone(),
            commitment,
        });
    }
    let mut seen = HashSet::new();
    let mut licences = Vec::new();
    for l in &raw.licence {
        licences.push(Licence {
            id: ck.id(&l.id, "licence.id", &mut seen),
            zh: ck.text(&l.zh, "licence.zh", false),
            en: ck.text(&l.en, "licence.en", true),
        });
    }
    let category_ids: HashSet<&str> = categories.iter().map(|c| c.id.as_str()).collect();
    let licence_ids: HashSet<&str> = licences.iter().map(|l| l.id.as_str()).collect();
    let mut seen = HashSet::new();
    let mut services = Vec::new();
    // Each service's commitment clauses between truthfulness and liability (one-things join them).
    let mut extras: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for s in &raw.service {
        let id = ck.id(&s.id, "service.id", &mut seen);
        if !category_ids.contains(s.category.get_ref().as_str()) {
            let mut known: Vec<&str> = category_ids.iter().copied().collect();
            known.sort_unstable();
            ck.fail(
                s.category.span(),
                "service.category",
                format!(
                    "unknown category `{}`: use one of {}",
                    s.category.get_ref(),
                    known.join(", ")
                ),
            );
        }
        for l in &s.elicense {
            if !licence_ids.contains(l.get_ref().as_str()) {
                ck.fail(
                    l.span(),
                    "service.elicense",
                    format!(
                        "unknown e-licence type `{}`: declare it in a [[licence]] table",
                        l.get_ref()
                    ),
                );
            }
        }
        let mut keys = HashSet::new();
        let mut fields = Vec::new();
        for f in &s.field {
            let key = ck.id(&f.key, "service.field.key", &mut keys);
            let kind = *f.kind.get_ref();
            if kind == FieldKind::Select {
                if f.options.is_empty() {
                    ck.fail(
                        f.kind.span(),
                        "service.field.options",
                        "a select field needs options",
                    );
                } else if !f.options.iter().any(|o| &o.value == f.example.get_ref()) {
                    ck.fail(
                        f.example.span(),
                        "service.field.example",
                        "the example of a select field must be one of its option values",
                    );
                }
            } else if !f.options.is_empty() {
                ck.fail(
                    f.kind.span(),
                    "service.field.options",
                    "only select fields have options",
                );
            }
            if f.example.get_ref().trim().is_empty() {
                ck.fail(
                    f.example.span(),
                    "service.field.example",
                    "give a sample value",
                );
            }
            fields.push(Field {
                key,
                kind,
                zh: ck.text(&f.zh, "service.field.zh", false),
                en: ck.text(&f.en, "service.field.en", true),
                example: f.example.get_ref().clone(),
                required: f.required,
                min: f.min,
                max: f.max,
                options: f.options.clone(),
            });
        }
        let staff_verify = s.staff_verify.as_ref().is_some_and(|v| *v.get_ref());
        if let (true, Some(v)) = (staff_verify && s.auth != Auth::IdCardFace, &s.staff_verify) {
            ck.fail(
                v.span(),
                "service.staff_verify",
                "only an `idcard+face` service can take a staff check (人工核验) instead of the face check; remove `staff_verify` or set auth = \"idcard+face\"",
            );
        }
        let own = ck.pair(&s.commitment_zh, &s.commitment_en, "service.commitment");
        if let (Some(_), false, Some(v)) = (&own, s.commitment, &s.commitment_zh) {
            ck.fail(
                v.span(),
                "service.commitment_zh",
                "a commitment text needs `commitment = true`",
            );
        }
        let extra: Vec<(String, String)> = if s.commitment {
            let category = categories
                .iter()
                .find(|c| &c.id == s.category.get_ref())
                .and_then(|c| c.commitment.clone());
            category.into_iter().chain(own).collect()
        } else {
            Vec::new()
        };
        let clauses = if s.commitment {
            commitment_clauses(extra.clone())
        } else {
            (Vec::new(), Vec::new())
        };
        extras.insert(id.clone(), extra);
        services.push(Service {
            id,
            zh: ck.text(&s.zh, "service.zh", false),
            en: ck.text(&s.en, "service.en", true),
            category: s.category.get_ref().clone(),
            department_zh: ck.text(&s.department_zh, "service.department_zh", false),
            department_en: ck.text(&s.department_en, "service.department_en", true),
            audience: s.audience,
            auth: s.auth,
            output: s.output,
            frequency: s.frequency,
            summary_zh: ck.text(&s.summary_zh, "service.summary_zh", false),
            summary_en: ck.text(&s.summary_en, "service.summary_en", true),
            proxy: s.proxy,
            staff_verify,
            commitment: s.commitment,
            commitment_zh: clauses.0,
            commitment_en: clauses.1,
            elicense: s.elicense.iter().map(|l| l.get_ref().clone()).collect(),
            source: s.source.clone(),
            fields,
            members: Vec::new(),
        });
    }
    one_things(
        &mut ck,
        &raw.one_thing,
        &category_ids,
        &extras,
        &mut seen,
        &mut services,
    );
    let mut profiles = Vec::new();
    let mut seen_profiles = HashSet::new();
    let service_ids: HashSet<&str> = services.iter().map(|s| s.id.as_str()).collect();
    let category_ids: HashSet<&str> = categories.iter().map(|c| c.id.as_str()).collect();
    for p in &raw.profile {
        let id = ck.id(&p.id, "profile.id", &mut seen_profiles);
        let mut listed = HashSet::new();
        for s in &p.services {
            if !service_ids.contains(s.get_ref().as_str()) {
                ck.fail(
                    s.span(),
                    "profile.services",
                    format!(
                        "unknown service `{}`: list ids from [[service]] (see `zizhu catalog list`)",
                        s.get_ref()
                    ),
                );
            } else if !listed.insert(s.get_ref().as_str()) {
                ck.fail(
                    s.span(),
                    "profile.services",
                    format!("`{}` is listed twice", s.get_ref()),
                );
            }
        }
        for c in &p.categories {
            if !category_ids.contains(c.get_ref().as_str()) {
                ck.fail(
                    c.span(),
                    "profile.categories",
                    format!(
                        "unknown category `{}`: list ids from [[category]]",
                        c.get_ref()
                    ),
                );
            }
        }
        if p.services.is_empty() && p.categories.is_empty() {
            ck.fail(
                p.id.span(),
                "profile.services",
                "a profile must offer something: give services, categories or both",
            );
        }
        profiles.push(Profile {
            id,
            zh: ck.text(&p.zh, "profile.zh", false),
            en: ck.text(&p.en, "profile.en", true),
            services: p.services.iter().map(|s| s.get_ref().clone()).collect(),
            categories: p.categories.iter().map(|c| c.get_ref().clone()).collect(),
            elsewhere_zh: ck.text(&p.elsewhere_zh, "profile.elsewhere_zh", false),
            elsewhere_en: ck.text(&p.elsewhere_en, "profile.elsewhere_en", true),
        });
    }
    if ck.errors.is_empty() {
        Ok(Validated {
            categories,
            licences,
            services,
            profiles,
        })
    } else {
        Err(ck.errors)
    }
}

/// The `[[one_thing]]` services, derived from their members and appended to `services`: one
/// identification (every member must identify the same way), one form that asks each field once
/// (a field key shared by members must be defined the same way by each), one commitment (every
/// member's clauses, each once), the union of their e-licences.
fn one_things(
    ck: &mut Checker<'_>,
    raw: &[RawOneThing],
    category_ids: &HashSet<&str>,
    extras: &HashMap<String, Vec<(String, String)>>,
    seen: &mut HashSet<String>,
    services: &mut Vec<Service>,
) {
    let ordinary: HashMap<String, Service> =
        services.iter().map(|s| (s.id.clone(), s.clone())).collect();
    for o in raw {
        let id = ck.id(&o.id, "one_thing.id", seen);
        if !category_ids.contains(o.category.get_ref().as_str()) {
            ck.fail(
                o.category.span(),
                "one_thing.category",
                format!("unknown category `{}`", o.category.get_ref()),
            );
        }
        if o.members.get_ref().len() < 2 {
            ck.fail(
                o.members.span(),
                "one_thing.members",
                "a one-thing joins at least two services: list their ids",
            );
        }
        let mut members: Vec<&Service> = Vec::new();
        for m in o.members.get_ref() {
            let Some(s) = ordinary.get(m.get_ref()) else {
                ck.fail(
                    m.span(),
                    "one_thing.members",
                    format!(
                        "unknown service `{}`: list ids from [[service]] (see `zizhu catalog list`)",
                        m.get_ref()
                    ),
                );
                continue;
            };
            if members.iter().any(|x| x.id == s.id) {
                ck.fail(
                    m.span(),
                    "one_thing.members",
                    format!("`{}` is listed twice", s.id),
                );
                continue;
            }
            if s.output != Output::Submit {
                ck.fail(
                    m.span(),
                    "one_thing.members",
                    format!(
                        "`{}` is not an application (output = \"submit\"): only applications can be filed together",
                        s.id
                    ),
                );
                continue;
            }
            if let Some(first) = members.first() {
                if first.auth != s.auth {
                    ck.fail(
                        m.span(),
                        "one_thing.members",
                        format!(
                            "`{}` identifies the citizen differently from `{}`: a one-thing identifies once, so its members must ask the same identification",
                            s.id, first.id
                        ),
                    );
                    continue;
                }
            }
            members.push(s);
        }
        let mut fields: Vec<Field> = Vec::new();
        let mut owner: HashMap<String, String> = HashMap::new();
        for s in &members {
            for f in &s.fields {
                match fields.iter_mut().find(|x| x.key == f.key) {
                    None => {
                        fields.push(f.clone());
                        owner.insert(f.key.clone(), s.id.clone());
                    }
                    Some(x) => {
                        let same = x.kind == f.kind
                            && x.zh == f.zh
                            && x.en == f.en
                            && x.options == f.options
                            && x.min == f.min
                            && x.max == f.max;
                        if !same {
                            ck.fail(
                                o.members.span(),
                                "one_thing.members",
                                format!(
                                    "field `{}` of `{}` is defined differently in `{}`: the one form asks each field once, so members must define a shared field the same way (or use different keys)",
                                    f.key,
                                    owner.get(&f.key).map(String::as_str).unwrap_or(""),
                                    s.id
                                ),
                            );
                        }
                        x.required |= f.required;
                    }
                }
            }
        }
        let commitment = members.iter().any(|s| s.commitment);
        let mut extra: Vec<(String, String)> = Vec::new();
        for s in &members {
            for c in extras.get(&s.id).into_iter().flatten() {
                if !extra.iter().any(|x| x.0 == c.0) {
                    extra.push(c.clone());
                }
            }
        }
        let (commitment_zh, commitment_en) = if commitment {
            commitment_clauses(extra)
        } else {
            (Vec::new(), Vec::new())
        };
        let mut elicense: Vec<String> = Vec::new();
        for s in &members {
            for l in &s.elicense {
                if !elicense.contains(l) {
                    elicense.push(l.clone());
                }
            }
        }
        let service = Service {
            id,
            zh: ck.text(&o.zh, "one_thing.zh", false),
            en: ck.text(&o.en, "one_thing.en", true),
            category: o.category.get_ref().clone(),
            department_zh: ck.text(&o.department_zh, "one_thing.department_zh", false),
            department_en: ck.text(&o.department_en, "one_thing.department_en", true),
            audience: o.audience,
            auth: members.first().map(|s| s.auth).unwrap_or(Auth::IdCard),
            output: Output::Submit,
            frequency: o.frequency,
            summary_zh: ck.text(&o.summary_zh, "one_thing.summary_zh", false),
            summary_en: ck.text(&o.summary_en, "one_thing.summary_en", true),
            proxy: !members.is_empty() && members.iter().all(|s| s.proxy),
            staff_verify: !members.is_empty() && members.iter().all(|s| s.staff_verify),
            commitment,
            commitment_zh,
            commitment_en,
            elicense,
            source: o.source.clone(),
            fields,
            members: members
                .iter()
                .map(|s| Member {
                    id: s.id.clone(),
                    zh: s.zh.clone(),
                    en: s.en.clone(),
                    fields: s.fields.iter().map(|f| f.key.clone()).collect(),
                    elicense: s.elicense.clone(),
                })
                .collect(),
        };
        services.push(service);
    }
}
