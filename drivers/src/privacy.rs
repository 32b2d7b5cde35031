//! The one masking rule for personal data in logs and on screens that are not the citizen's own:
//! keep at most the first 6 and the last 4 characters, replace the rest with `*`.
use zeroize::Zeroize;

/// Masks `s` for logs: at most the first 6 and last 4 characters survive, everything between
/// becomes `*`. Shorter strings keep less (a third in front, a quarter at the end), so a 2-character
/// name is fully hidden and an 18-character ID number keeps `6 + 4`. Works on characters, not bytes.
///
/// ```
/// use zizhu_drivers::privacy::mask;
/// assert_eq!(mask("11010519491231002X"), "110105********002X");
/// assert_eq!(mask("张三"), "**");
/// ```
pub fn mask(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    let front = (n / 3).min(6);
    let back = (n / 4).min(4);
    let mut out = String::with_capacity(s.len());
    for (i, c) in chars.iter().enumerate() {
        if i < front || i >= n - back {
            out.push(*c);
        } else {
            out.push('*');
        }
    }
    out
}

/// Overwrites a byte buffer with zeros (for buffers that held card frames).
pub fn wipe(buf: &mut Vec<u8>) {
    buf.zeroize();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_at_most_six_and_four() {
        assert_eq!(mask("11010519491231002X"), "110105********002X");
        assert_eq!(mask("932682198501010017"), "932682********0017");
        let long = "a".repeat(40);
        let m = mask(&long);
        assert_eq!(m.chars().filter(|c| *c != '*').count(), 10);
    }

    #[test]
    fn short_strings_are_masked_more() {
        assert_eq!(mask(""), "");
        assert_eq!(mask("张"), "*");
        assert_eq!(mask("张三"), "**");
        assert_eq!(mask("欧阳娜娜"), "欧**娜");
        assert_eq!(mask("0123456789"), "012*****89");
    }

    #[test]
    fn wipe_clears() {
        let mut v = vec![1u8, 2, 3];
        wipe(&mut v);
        assert!(v.is_empty());
    }
}
