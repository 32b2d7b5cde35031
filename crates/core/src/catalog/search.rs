//! Catalog search as a citizen types on the kiosk keyboard: Chinese substrings, full pinyin
//! (`shebao`), pinyin initials (`sbcx` finds 社保 query services), and English words. Results rank
//! exact > prefix > initials > contains > fuzzy, then by how often the service is used, then by
//! catalog order. Everything that can be is computed once when the catalog loads, so a keystroke
//! costs a few comparisons per service: besides the lowercase forms, each service keeps a letter
//! mask per form (pinyin, initials, English name, English words, keywords), and a test that
//! needs a letter a form lacks is skipped without looking at the string.
//!
//! Pinyin comes from the `pinyin` crate (the most common reading of each character, from the
//! Unicode Unihan data); hand-written tables would miss rare characters.
use pinyin::ToPinyin;
use serde::Serialize;

use super::{Category, Licence, Output, Service};

/// How a service matched a query (better first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchKind {
    /// The whole name, its full pinyin or its initials.
    Exact,
    /// The start of the name or its pinyin, or a whole keyword (社保查询).
    Prefix,
    /// Pinyin initials of the name or of a keyword.
    Initials,
    /// A Chinese substring, a pinyin substring, English words.
    Contains,
    /// Letters in order with gaps, or an English word with one typo.
    Fuzzy,
}

/// One search result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Hit {
    /// Position of the service in `Catalog::services()`.
    pub pos: usize,
    /// How it matched.
    pub kind: MatchKind,
}

#[derive(Debug)]
struct Entry {
    zh: String,
    py: String,
    initials: String,
    en: String,
    en_words: Vec<String>,
    keywords: Vec<Keyword>,
    rank: u8,
    /// Which ASCII letters and digits appear in any of the ASCII forms: a query with two or
    /// more characters outside it cannot match at all (one could still be a typo).
    mask: u64,
    /// `char_mask` of `py`, of `initials`, of `en`, of all `en_words` together, of every
    /// keyword's `py` together and of every keyword's `initials` together. A string can equal,
    /// start with, contain or have as a subsequence a query only if its mask covers the query's.
    py_mask: u64,
    initials_mask: u64,
    en_mask: u64,
    words_mask: u64,
    kw_py_mask: u64,
    kw_initials_mask: u64,
}

/// Whether every bit of `query` is in `form`.
fn covers(form: u64, query: u64) -> bool {
    query & !form == 0
}

/// Bit per ASCII letter and digit of `s`; everything else shares the top bit.
fn char_mask(s: &str) -> u64 {
    s.bytes().fold(0, |m, b| {
        m | match b {
            b'a'..=b'z' => 1 << (b - b'a'),
            b'0'..=b'9' => 1 << (26 + b - b'0'),
            b' ' => 0,
            _ => 1 << 63,
        }
    })
}

#[derive(Debug)]
struct Keyword {
    zh: String,
    py: String,
    initials: String,
}

/// Precomputed search forms of every service.
#[derive(Debug)]
pub(super) struct Index {
    entries: Vec<Entry>,
}

/// Full pinyin (no tones, no spaces) and initials of a Chinese string. Non-Han ASCII letters and
/// digits are kept as they are in both.
fn pinyin_forms(s: &str) -> (String, String) {
    let mut full = String::new();
    let mut initials = String::new();
    for (c, p) in s.chars().zip(s.to_pinyin()) {
        match p {
            Some(p) => {
                full.push_str(p.plain());
                initials.push_str(p.first_letter());
            }
            None if c.is_ascii_alphanumeric() => {
                let c = c.to_ascii_lowercase();
                full.push(c);
                initials.push(c);
            }
            None => {}
        }
    }
    (full, initials)
}

fn keyword(zh: String) -> Keyword {
    let (py, initials) = pinyin_forms(&zh);
    Keyword { zh, py, initials }
}

fn verb(output: Output) -> &'static str {
    match output {
        Output::Screen => "查询",
        Output::Print => "打印",
        Output::Submit => "办理",
        Output::Pay => "缴费",
        Output::Appointment => "预约",
    }
}

impl Index {
    pub(super) fn build(services: &[Service], categories: &[Category], _: &[Licence]) -> Index {
        let entries = services
            .iter()
            .map(|s| {
                let (py, initials) = pinyin_forms(&s.zh);
                let en = s.en.to_lowercase();
                let mut en_words: Vec<String> = en
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .map(str::to_string)
                    .collect();
                let mut kws = Vec::new();
                if let Some(c) = categories.iter().find(|c| c.id == s.category) {
                    // How citizens say it: 社保查询, 医保缴费, 公积金提取 …
                    let mut verbs = vec![verb(s.output)];
                    for v in ["查询", "打印", "缴费", "提取", "申请", "预约", "认证"]
                    {
                        if s.zh.contains(v) && !verbs.contains(&v) {
                            verbs.push(v);
                        }
                    }
                    for v in verbs {
                        kws.push(keyword(format!("{}{}", c.short_zh, v)));
                    }
                    kws.push(keyword(c.short_zh.clone()));
                    kws.push(keyword(c.zh.clone()));
                    en_words.extend(
                        c.en.to_lowercase()
                            .split(|ch: char| !ch.is_alphanumeric())
                            .filter(|w| w.len() > 2)
                            .map(str::to_string),
                    );
                }
                en_words.dedup();
                let words_mask = en_words.iter().fold(0, |m, w| m | char_mask(w));
                let kw_py_mask = kws.iter().fold(0, |m, k| m | char_mask(&k.py));
                let kw_initials_mask = kws.iter().fold(0, |m, k| m | char_mask(&k.initials));
                let (py_mask, initials_mask, en_mask) =
                    (char_mask(&py), char_mask(&initials), char_mask(&en));
                Entry {
                    mask: py_mask
                        | initials_mask
                        | en_mask
                        | words_mask
                        | kw_py_mask
                        | kw_initials_mask,
                    py_mask,
                    initials_mask,
                    en_mask,
                    words_mask,
                    kw_py_mask,
                    kw_initials_mask,
                    zh: s.zh.clone(),
                    py,
                    initials,
                    en,
                    en_words,
                    keywords: kws,
                    rank: s.frequency as u8,
                }
            })
            .collect();
        Index { entries }
    }

    pub(super) fn search(&self, query: &str, _services: &[Service]) -> Vec<Hit> {
        let q = query.trim();
        if q.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<(MatchKind, u8, usize)> = if !q.is_ascii() {
            self.search_chinese(q)
        } else {
            self.search_ascii(&q.to_ascii_lowercase())
        };
        // Positions are unique, so this order is total and an unstable sort gives the same result.
        hits.sort_unstable_by_key(|&(kind, rank, pos)| (kind, std::cmp::Reverse(rank), pos));
        hits.into_iter()
            .map(|(kind, _, pos)| Hit { pos, kind })
            .collect()
    }

    fn search_chinese(&self, q: &str) -> Vec<(MatchKind, u8, usize)> {
        let q: String = q.chars().filter(|c| !c.is_whitespace()).collect();
        let mut out = Vec::new();
        for (pos, e) in self.entries.iter().enumerate() {
            let kind = if e.zh == q {
                Some(MatchKind::Exact)
            } else if e.zh.starts_with(&q) || e.keywords.iter().any(|k| k.zh == q) {
                Some(MatchKind::Prefix)
            } else if e.zh.contains(&q) || e.keywords.iter().any(|k| k.zh.contains(&q)) {
                Some(MatchKind::Contains)
            } else if is_subsequence(&q, &e.zh) {
                Some(MatchKind::Fuzzy)
            } else {
                None
            };
            if let Some(kind) = kind {
                out.push((kind, e.rank, pos));
            }
        }
        out
    }

    fn search_ascii(&self, q: &str) -> Vec<(MatchKind, u8, usize)> {
        let compact: String = q.chars().filter(|c| !c.is_whitespace()).collect();
        let words: Vec<(&str, u64)> = q.split_whitespace().map(|w| (w, char_mask(w))).collect();
        let qmask = char_mask(&compact);
        // `q` keeps its inner whitespace: a tab (unlike a space) has a bit of its own.
        let qmask_full = char_mask(q);
        let long = compact.len() >= 2;
        // The typo rule needs every word to have at least 4 letters.
        let typo_possible = words.iter().all(|(w, _)| w.len() >= 4);
        let typo = |e: &Entry| {
            typo_possible
                && words.iter().all(|&(w, m)| {
                    // One edit leaves at most one letter of `w` outside the word it matches.
                    (m & !e.words_mask).count_ones() <= 1
                        && e.en_words.iter().any(|ew| within_one_edit(w, ew))
                })
        };
        let mut out = Vec::new();
        for (pos, e) in self.entries.iter().enumerate() {
            let missing = (qmask & !e.mask).count_ones();
            if missing >= 2 {
                continue;
            }
            let in_py = covers(e.py_mask, qmask);
            let in_initials = covers(e.initials_mask, qmask);
            let in_en = covers(e.en_mask, qmask_full);
            let in_kw_initials = long && covers(e.kw_initials_mask, qmask);
            let kind = if missing == 1 {
                // Only a typo (one wrong letter) can still match.
                typo(e).then_some(MatchKind::Fuzzy)
            } else if (in_py && e.py == compact)
                || (in_initials && e.initials == compact)
                || (in_en && e.en == q)
            {
                Some(MatchKind::Exact)
            } else if (in_py && e.py.starts_with(&compact))
                || (in_en && e.en.starts_with(q))
                || (covers(e.kw_py_mask, qmask) && e.keywords.iter().any(|k| k.py == compact))
            {
                Some(MatchKind::Prefix)
            } else if long
                && ((in_initials && contains(&e.initials, &compact))
                    || (in_kw_initials && e.keywords.iter().any(|k| k.initials == compact)))
            {
                Some(MatchKind::Initials)
            } else if (long && in_py && contains(&e.py, &compact))
                || (covers(e.words_mask, qmask)
                    && words
                        .iter()
                        .all(|(w, _)| e.en_words.iter().any(|ew| ew.starts_with(w))))
            {
                Some(MatchKind::Contains)
            } else if (long && in_initials && is_subsequence(&compact, &e.initials))
                || (in_kw_initials
                    && e.keywords
                        .iter()
                        .any(|k| is_subsequence(&compact, &k.initials)))
                || typo(e)
            {
                Some(MatchKind::Fuzzy)
            } else {
                None
            };
            if let Some(kind) = kind {
                out.push((kind, e.rank, pos));
            }
        }
        out
    }
}

/// Whether `needle` occurs in `hay`; byte by byte, which for the short forms searched here is
/// faster than `str::contains` (whose searcher is built for long texts).
fn contains(hay: &str, needle: &str) -> bool {
    let (hay, needle) = (hay.as_bytes(), needle.as_bytes());
    match needle.first() {
        None => true,
        Some(&first) => {
            needle.len() <= hay.len()
                && hay
                    .windows(needle.len())
                    .any(|w| w[0] == first && w == needle)
        }
    }
}

/// Whether the characters of `needle` appear in `hay` in order (gaps allowed).
fn is_subsequence(needle: &str, hay: &str) -> bool {
    if needle.is_ascii() {
        // ASCII bytes never occur inside a multi-byte character, so bytes give the same answer.
        let (needle, hay) = (needle.as_bytes(), hay.as_bytes());
        if needle.len() > hay.len() {
            return false;
        }
        let mut it = needle.iter().peekable();
        for b in hay {
            match it.peek() {
                Some(&&w) if w == *b => {
                    it.next();
                }
                Some(_) => {}
                None => return true,
            }
        }
        return it.peek().is_none();
    }
    is_subsequence_chars(needle.chars(), hay.chars())
}

fn is_subsequence_chars(
    mut needle: impl Iterator<Item = char>,
    hay: impl Iterator<Item = char>,
) -> bool {
    let mut want = needle.next();
    for c in hay {
        match want {
            Some(w) if w == c => want = needle.next(),
            Some(_) => {}
            None => return true,
        }
    }
    want.is_none()
}

/// Whether `a` and `b` differ by at most one insertion, deletion, substitution or swap of two
/// neighbouring letters (ASCII).
fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let mut i = 0;
    while i < short.len() && short[i] == long[i] {
        i += 1;
    }
    if i == short.len() {
        return true;
    }
    if short.len() == long.len() {
        let swapped = i + 1 < short.len()
            && short[i] == long[i + 1]
            && short[i + 1] == long[i]
            && short[i + 2..] == long[i + 2..];
        swapped || short[i + 1..] == long[i + 1..]
    } else {
        short[i..] == long[i + 1..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    fn ids(q: &str) -> Vec<(String, MatchKind)> {
        let c = Catalog::builtin();
        c.search(q)
            .into_iter()
            .map(|h| (c.services()[h.pos].id.clone(), h.kind))
            .collect()
    }

    #[test]
    fn pinyin_forms_of_chinese() {
        assert_eq!(
            pinyin_forms("社保查询"),
            ("shebaochaxun".into(), "sbcx".into())
        );
    }

    #[test]
    fn initials_find_social_security_queries() {
        let hits = ids("sbcx");
        assert!(!hits.is_empty());
        let c = Catalog::builtin();
        for (id, kind) in &hits {
            if *kind <= MatchKind::Initials {
                assert_eq!(c.service(id).unwrap().category, "social-security", "{id}");
            }
        }
        assert!(hits.iter().any(|(id, _)| id == "ss-contrib-detail-print"));
    }

    #[test]
    fn ranking_exact_before_prefix_before_contains() {
        let hits = ids("社会保险参保证明打印");
        assert_eq!(hits[0], ("ss-insured-cert-print".into(), MatchKind::Exact));
        let kinds: Vec<MatchKind> = ids("公积金").into_iter().map(|(_, k)| k).collect();
        let mut sorted = kinds.clone();
        sorted.sort();
        assert_eq!(kinds, sorted);
    }

    #[test]
    fn english_words_and_typos() {
        let hits = ids("housing fund");
        assert!(hits.len() >= 5);
        assert!(ids("pensoin").iter().any(|(_, k)| *k == MatchKind::Fuzzy));
        assert!(ids("zzzzqqq").is_empty());
    }

    /// The letter masks and byte-wise tests only skip work: for every query of the snapshot the
    /// hits, their kinds and their order are those of the code before them. The snapshot predates
    /// the 一件事一次办 services (`[[one_thing]]`, ids `ot-…`), so their hits are left out of the
    /// comparison; every other hit keeps its kind and place.
    #[test]
    fn search_results_unchanged() {
        const BEFORE: &str = include_str!("search_snapshot.txt");
        let c = Catalog::builtin();
        let mut n = 0;
        for line in BEFORE.lines().filter(|l| !l.starts_with('#')) {
            let Some((query, expected)) = line.split_once('|') else {
                panic!("bad snapshot line {line:?}");
            };
            let got: Vec<String> = c
                .search(query)
                .into_iter()
                .filter(|h| !c.services()[h.pos].is_one_thing())
                .map(|h| {
                    let kind = match h.kind {
                        MatchKind::Exact => 'E',
                        MatchKind::Prefix => 'P',
                        MatchKind::Initials => 'I',
                        MatchKind::Contains => 'C',
                        MatchKind::Fuzzy => 'F',
                    };
                    format!("{}:{kind}", c.services()[h.pos].id)
                })
                .collect();
            let expected: Vec<&str> = expected.split_whitespace().collect();
            assert_eq!(got, expected, "query {query:?}");
            n += 1;
        }
        assert!(n >= 20, "{n} queries");
    }

    #[test]
    fn subsequences_and_substrings() {
        assert!(is_subsequence("sbcx", "sbgrcxdy"));
        assert!(!is_subsequence("sbcx", "sbx"));
        assert!(is_subsequence("", "abc"));
        assert!(is_subsequence("社查", "社保查询"));
        assert!(!is_subsequence("查社", "社保查询"));
        assert!(contains("shebaochaxun", "baocha"));
        assert!(!contains("shebao", "shebaochaxun"));
        assert!(contains("abc", ""));
    }

    #[test]
    fn edit_distance() {
        assert!(within_one_edit("pension", "pensoin"));
        assert!(!within_one_edit("pension", "pnesoin"));
        assert!(within_one_edit("pensio", "pension"));
        assert!(within_one_edit("tux", "tax"));
        assert!(!within_one_edit("tax", "taxes"));
    }
}
