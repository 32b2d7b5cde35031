//! Pinyin input for the touchscreen (拼音输入): the letters a citizen types become the Chinese
//! characters they may mean, for the few free-text fields (a company name, a plate's 粤, a
//! description). Single characters only, no phrase prediction: enough for names and short texts
//! on a kiosk, and small.
//!
//! The table is built once from the characters the kiosk's font can draw (`crates/fonts/charset.txt`, `zizhu_fonts::CHARSET`:
//! the 8,105 characters of the 通用规范汉字表 and GB 2312), each with all its readings from the
//! `pinyin` crate (heteronyms included: 长 is both `chang` and `zhang`). Candidates are ordered by
//! how common the character is: a short list of the commonest surname, place and everyday
//! characters first, then the 3,755 level-1 characters of GB 2312, then the rest.
use std::collections::BTreeMap;
use std::sync::OnceLock;

use pinyin::ToPinyinMulti;

/// Characters citizens type most at a kiosk, commonest first: surnames (百家姓 by frequency),
/// Guangdong place names, and words of company names and complaints.
const COMMON: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤\
广东省市区县镇街道路号村梅州深圳佛山莞珠海汕头湛门茂名肇庆惠河源阳清远潮揭云浮韶关中粤\
公司有限责任科技贸易服务商行店厂工作室发展实业电子信息网络文化传媒餐饮建筑装饰物流\
工资拖欠没有不给个月老板单位我们他要求支付补偿加班费用";

/// The input table: pinyin syllable (lowercase, no tones, ü as v) → characters, commonest first.
struct Table {
    by_syllable: BTreeMap<String, Vec<char>>,
}

fn rank(c: char) -> u32 {
    if let Some(i) = COMMON.chars().position(|x| x == c) {
        return i as u32;
    }
    let mut buf = [0u8; 4];
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(c.encode_utf8(&mut buf));
    if !unmappable && bytes.len() == 2 && (0xB0..=0xD7).contains(&bytes[0]) {
        // GB 2312 level 1 (常用字), in its own (pinyin, then stroke) order.
        return 1_000 + u32::from(bytes[0]) * 256 + u32::from(bytes[1]);
    }
    100_000 + c as u32
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let charset = zizhu_fonts::CHARSET;
        let mut by_syllable: BTreeMap<String, Vec<char>> = BTreeMap::new();
        for c in charset.chars() {
            let Some(readings) = c.to_pinyin_multi() else {
                continue;
            };
            for p in readings {
                let syllable = p.plain().replace('ü', "v");
                let list = by_syllable.entry(syllable).or_default();
                if !list.contains(&c) {
                    list.push(c);
                }
            }
        }
        for list in by_syllable.values_mut() {
            list.sort_by_key(|c| rank(*c));
        }
        Table { by_syllable }
    })
}

/// The characters `input` may mean, commonest first, at most `limit`: characters read exactly
/// `input` first, then those whose reading starts with it (`zh` → 张, 中, …). Letters only;
/// anything else gives no candidates.
pub fn candidates(input: &str, limit: usize) -> Vec<char> {
    let input = input.trim().to_ascii_lowercase().replace('ü', "v");
    if input.is_empty() || !input.chars().all(|c| c.is_ascii_lowercase()) {
        return Vec::new();
    }
    let t = table();
    let mut out: Vec<char> = t
        .by_syllable
        .get(&input)
        .map(|v| v.iter().copied().take(limit).collect())
        .unwrap_or_default();
    if out.len() < limit {
        let mut prefixed: Vec<char> = t
            .by_syllable
            .range(input.clone()..)
            .take_while(|(k, _)| k.starts_with(&input))
            .filter(|(k, _)| **k != input)
            .flat_map(|(_, v)| v.iter().copied())
            .collect();
        prefixed.sort_by_key(|c| rank(*c));
        for c in prefixed {
            if out.len() >= limit {
                break;
            }
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

/// Whether any character is read with a syllable starting with `input` (so the keyboard can
/// refuse a letter that leads nowhere).
pub fn is_prefix(input: &str) -> bool {
    let input = input.to_ascii_lowercase();
    table()
        .by_syllable
        .range(input.clone()..)
        .next()
        .is_some_and(|(k, _)| k.starts_with(&input))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_characters_come_first() {
        let zhang = candidates("zhang", 8);
        assert_eq!(zhang.first(), Some(&'张'), "{zhang:?}");
        assert!(zhang.contains(&'长'), "heteronym 长 (zhǎng): {zhang:?}");
        assert_eq!(candidates("yue", 3).first(), Some(&'粤'));
        assert_eq!(candidates("wang", 1), vec!['王']);
        assert_eq!(candidates("LI", 1), vec!['李']);
    }

    #[test]
    fn prefixes_and_umlaut() {
        let zh = candidates("zh", 30);
        assert!(zh.contains(&'张') && zh.contains(&'中'), "{zh:?}");
        assert!(candidates("lv", 10).contains(&'吕'));
        assert!(is_prefix("zhua"));
        assert!(!is_prefix("zzz"));
    }

    #[test]
    fn non_letters_give_nothing() {
        assert!(candidates("", 5).is_empty());
        assert!(candidates("zh1", 5).is_empty());
        assert!(candidates("qqq", 5).is_empty());
        assert_eq!(candidates("a", 4).len(), 4);
    }

    #[test]
    fn every_candidate_is_in_the_font() {
        let charset = zizhu_fonts::CHARSET;
        for s in ["shen", "zhen", "gong", "si", "xiang"] {
            for c in candidates(s, 30) {
                assert!(charset.contains(c), "{c} for {s}");
            }
        }
    }
}
