//! Prompt text: the English side of the one translation table (the kiosk's
//! `ui/translations/en/LC_MESSAGES/zizhu-ui.po`, whose msgids are the Chinese screen strings), and
//! the turning of a sentence into what espeak-ng can say — tone-numbered pinyin for Mandarin,
//! characters for Cantonese, plain words for English. Numbers become words; anything a voice
//! cannot say (rare characters, symbols, Latin letters inside Chinese) is left out, never spelled.
use std::collections::HashMap;
use std::sync::OnceLock;

use pinyin::ToPinyin;

/// The kiosk's English translation table, compiled in: the same file the Slint UI bundles.
const PO: &str = include_str!("../../../ui/translations/en/LC_MESSAGES/zizhu-ui.po");

fn unquote(s: &str) -> String {
    let s = s.trim();
    let s = s
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s);
    s.replace("\\\"", "\"")
        .replace("\\n", "\n")
        .replace("\\\\", "\\")
}

fn table() -> &'static HashMap<String, String> {
    static T: OnceLock<HashMap<String, String>> = OnceLock::new();
    T.get_or_init(|| {
        let mut map = HashMap::new();
        let mut id: Option<String> = None;
        for line in PO.lines() {
            if let Some(s) = line.strip_prefix("msgid ") {
                id = Some(unquote(s));
            } else if let Some(s) = line.strip_prefix("msgstr ") {
                if let Some(id) = id.take() {
                    map.insert(id, unquote(s));
                }
            }
        }
        map
    })
}

/// The English of a Chinese msgid, from the translation table (`None` when it has no entry).
pub fn english(msgid: &str) -> Option<&'static str> {
    table()
        .get(msgid)
        .map(|s| s.as_str())
        .filter(|s| !s.is_empty())
}

/// Fills `{}` placeholders in order.
pub fn fill(template: &str, args: &[String]) -> String {
    let mut out = String::new();
    let mut parts = template.split("{}");
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for (i, p) in parts.enumerate() {
        out.push_str(args.get(i).map(|s| s.as_str()).unwrap_or(""));
        out.push_str(p);
    }
    out
}

const DIGITS: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

/// A whole number below 100 000 000 in Chinese numerals (`105` → 一百零五, `12` → 十二).
pub fn cardinal(n: u64) -> String {
    if n == 0 {
        return "零".into();
    }
    if n >= 100_000_000 {
        return n.to_string().chars().filter_map(digit).collect();
    }
    if n >= 10_000 {
        let (hi, lo) = (n / 10_000, n % 10_000);
        let mut s = cardinal(hi) + "万";
        if lo > 0 {
            if lo < 1000 {
                s.push('零');
            }
            s += &below_10000(lo, false);
        }
        return s;
    }
    below_10000(n, true)
}

fn digit(c: char) -> Option<char> {
    c.to_digit(10).map(|d| DIGITS[d as usize])
}

fn below_10000(n: u64, leading: bool) -> String {
    let units = ['千', '百', '十'];
    let parts = [n / 1000 % 10, n / 100 % 10, n / 10 % 10];
    let mut s = String::new();
    let mut zero = false;
    for (i, d) in parts.iter().enumerate() {
        if *d == 0 {
            zero = !s.is_empty();
            continue;
        }
        if zero {
            s.push('零');
            zero = false;
        }
        // 十二, not 一十二, at the start of a number.
        if !(i == 2 && *d == 1 && s.is_empty() && leading) {
            s.push(DIGITS[*d as usize]);
        }
        s.push(units[i]);
    }
    let last = n % 10;
    if last > 0 {
        if zero {
            s.push('零');
        }
        s.push(DIGITS[last as usize]);
    }
    s
}

/// Replaces runs of ASCII digits in Chinese text by Chinese numerals: amounts with a decimal
/// point as 十二点五零, long runs (telephone numbers such as 12345) digit by digit, the rest as
/// numbers.
pub fn chinese_numbers(text: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let int: String = chars[start..i].iter().collect();
        if int.len() >= 5 || (int.len() > 1 && int.starts_with('0')) {
            out.extend(int.chars().filter_map(digit));
        } else {
            out += &cardinal(int.parse().unwrap_or(0));
        }
        if i + 1 < chars.len() && chars[i] == '.' && chars[i + 1].is_ascii_digit() {
            out.push('点');
            i += 1;
            while i < chars.len() && chars[i].is_ascii_digit() {
                out.extend(digit(chars[i]));
                i += 1;
            }
        }
    }
    out
}

/// Words whose usual reading is not the first one the `pinyin` crate gives (多音字 in prompts).
const READINGS: &[(&str, &str)] = &[
    ("感应", "gan3 ying4"),
    ("长者", "zhang3 zhe3"),
    ("还在", "hai2 zai4"),
    ("还可", "hai2 ke3"),
    ("重新", "chong2 xin1"),
    ("重试", "chong2 shi4"),
    ("调取", "diao4 qu3"),
    ("结果", "jie2 guo3"),
    ("了", "le5"),
    ("便", "bian4"),
    ("地方", "di4 fang1"),
    ("行政", "xing2 zheng4"),
    ("银行", "yin2 hang2"),
    ("不满意", "bu4 man3 yi4"),
    ("一机", "yi4 ji1"),
    ("朝", "chao2"),
    ("处理", "chu3 li3"),
    ("只", "zhi3"),
    ("应付", "ying4 fu4"),
    ("正在", "zheng4 zai4"),
    ("将", "jiang1"),
];

enum Mark {
    Pause,
    Stop,
    Space,
}

fn punctuation(c: char) -> Option<Mark> {
    match c {
        '，' | '、' | '；' | '：' | ',' | ';' | ':' | '（' | '）' | '(' | ')' => {
            Some(Mark::Pause)
        }
        '。' | '！' | '？' | '.' | '!' | '?' | '…' | '\n' => Some(Mark::Stop),
        c if c.is_whitespace() => Some(Mark::Space),
        _ => None,
    }
}

fn push_mark(out: &mut String, m: Mark) {
    let len = out.trim_end().len();
    if len == 0 {
        return;
    }
    out.truncate(len);
    let comma = out.ends_with(',');
    let ends = comma || out.ends_with('.');
    match m {
        Mark::Pause if !ends => out.push_str(", "),
        Mark::Stop if comma => {
            out.pop();
            out.push_str(". ");
        }
        Mark::Stop if !ends => out.push_str(". "),
        _ => out.push(' '),
    }
}

fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F)
}

/// Mandarin for espeak-ng's `cmn-latn-pinyin` voice: tone-numbered pinyin syllables
/// (`qing3 jiang1 shen1 fen4 zheng4`), pauses for punctuation. Characters without a reading,
/// symbols and Latin letters are left out.
pub fn mandarin(text: &str) -> String {
    let text = chinese_numbers(text);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    'outer: while i < chars.len() {
        for (word, reading) in READINGS {
            let w: Vec<char> = word.chars().collect();
            if chars[i..].starts_with(&w) {
                out.push_str(reading);
                out.push(' ');
                i += w.len();
                continue 'outer;
            }
        }
        let c = chars[i];
        i += 1;
        if is_han(c) {
            if let Some(p) = c.to_pinyin() {
                let s = p.with_tone_num_end();
                out.push_str(s);
                if !s.ends_with(|d: char| d.is_ascii_digit()) {
                    out.push('5');
                }
                out.push(' ');
            }
        } else if let Some(m) = punctuation(c) {
            push_mark(&mut out, m);
        }
    }
    tidy(out)
}

/// Cantonese for espeak-ng's `yue` voice, which reads characters: numbers as Chinese numerals,
/// pauses for punctuation; characters without a reading in the common table (rare characters,
/// which the voice would spell or skip unpredictably), symbols and Latin letters are left out.
pub fn cantonese(text: &str) -> String {
    let text = chinese_numbers(text);
    let mut out = String::new();
    for c in text.chars() {
        if is_han(c) {
            if c.to_pinyin().is_some() {
                out.push(c);
            }
        } else if let Some(m) = punctuation(c) {
            push_mark(&mut out, m);
            // The yue voice reads ASCII punctuation; Chinese pauses read better.
        }
    }
    tidy(out)
        .replace(", ", "，")
        .replace(". ", "。")
        .replace(' ', "，")
}

/// English for espeak-ng's `en` voice: letters, digits and plain punctuation; `¥12.50` becomes
/// `12.50 yuan`; other symbols and Chinese characters are left out.
pub fn english_speech(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    let mut yuan = false;
    while let Some(c) = chars.next() {
        if c == '¥' || c == '￥' {
            yuan = true;
            continue;
        }
        if c.is_ascii_alphanumeric()
            || c == '\''
            || c == '-'
            || (c == '.' && chars.peek().is_some_and(|n| n.is_ascii_digit()))
        {
            out.push(c);
            continue;
        }
        if yuan && !c.is_ascii_digit() {
            out.push_str(" yuan");
            yuan = false;
        }
        if let Some(m) = punctuation(c) {
            push_mark(&mut out, m);
        } else if c == '/' || c == '·' || c == '&' {
            out.push(' ');
        }
    }
    if yuan {
        out.push_str(" yuan");
    }
    tidy(out)
}

fn tidy(s: String) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out.trim_end_matches([',', ' ']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_the_kiosk_translation() {
        assert_eq!(
            english("请将身份证放在感应区"),
            Some("Place your ID card on the reader")
        );
        assert_eq!(english("没有这一条"), None);
        assert_eq!(fill("剩余 {} 秒", &["9".into()]), "剩余 9 秒");
    }

    #[test]
    fn numbers_are_read_as_chinese() {
        for (n, s) in [
            (0, "零"),
            (7, "七"),
            (10, "十"),
            (12, "十二"),
            (30, "三十"),
            (105, "一百零五"),
            (110, "一百一十"),
            (1010, "一千零一十"),
            (2026, "二千零二十六"),
            (12000, "一万二千"),
            (10005, "一万零五"),
        ] {
            assert_eq!(cardinal(n), s, "{n}");
        }
        assert_eq!(chinese_numbers("应付 12.50 元"), "应付 十二点五零 元");
        assert_eq!(chinese_numbers("拨打 12345"), "拨打 一二三四五");
    }

    #[test]
    fn mandarin_is_tone_numbered_pinyin_without_symbols() {
        assert_eq!(
            mandarin("请将身份证放在感应区"),
            "qing3 jiang1 shen1 fen4 zheng4 fang4 zai4 gan3 ying4 qu1"
        );
        assert_eq!(mandarin("剩余 10 秒。"), "sheng4 yu2 shi2 miao3.");
        // Latin letters, symbols and a character without a reading are skipped, not spelled.
        assert_eq!(mandarin("PIN 错误★"), "cuo4 wu4");
        assert_eq!(mandarin("好的"), "hao3 de5");
    }

    #[test]
    fn cantonese_keeps_characters_and_english_keeps_words() {
        assert_eq!(cantonese("剩余 10 秒 · X"), "剩余，十，秒");
        assert_eq!(
            english_speech("Amount to pay: ¥12.50 (by QR) ★"),
            "Amount to pay, 12.50 yuan, by QR"
        );
    }
}
