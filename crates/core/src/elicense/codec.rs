//! The transport layers of a code, outside in: text prefix, Base45 (RFC 9285), zlib with an output
//! cap, a strict CBOR well-formedness check, and COSE_Sign1 (tag 18). Decoding never panics and
//! never allocates more than its limits, whatever the scanner delivers.
use std::io::Read;

use coset::{CborSerializable, CoseSign1, TaggedCborSerializable};

use super::error::Error;

/// Prefix of an offline-verifiable presentation.
pub const PREFIX_PRESENTATION: &str = "EL1:";
/// Prefix of an online ticket.
pub const PREFIX_TICKET: &str = "ET1:";
/// Longest scanned text accepted (a version-40 QR holds at most 4,296 alphanumeric characters).
pub const MAX_TEXT: usize = 4296;
/// Cap on decompressed content (against decompression bombs).
pub const MAX_DECOMPRESSED: usize = 4096;

/// Limits for the CBOR well-formedness check.
#[derive(Debug, Clone, Copy)]
pub struct CborLimits {
    /// Deepest nesting of arrays, maps and tags.
    pub max_depth: usize,
    /// Most data items in total.
    pub max_items: usize,
}

/// Limits for presentations and tickets (content ≤ 4 KiB).
pub const PAYLOAD_LIMITS: CborLimits = CborLimits {
    max_depth: 8,
    max_items: 1024,
};
/// Limits for trust lists (larger, more keys, still bounded).
pub const TRUST_LIST_LIMITS: CborLimits = CborLimits {
    max_depth: 8,
    max_items: 65536,
};

/// Which kind of code a scanned text is, by prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `EL1:` offline presentation.
    Presentation,
    /// `ET1:` online ticket.
    Ticket,
    /// Anything else: an opaque code for the platform.
    Opaque,
}

/// Classifies scanned text and rejects what is clearly not a licence code (empty, too long,
/// control characters, foreign or future prefixes, payment codes).
pub fn route(text: &str) -> Result<(Kind, &str), Error> {
    if text.is_empty() {
        return Err(Error::Empty);
    }
    let len = text.chars().count();
    if len > MAX_TEXT {
        return Err(Error::TooLong { len, max: MAX_TEXT });
    }
    if text.chars().any(|c| c.is_control()) {
        return Err(Error::Unreadable);
    }
    if let Some(rest) = text.strip_prefix(PREFIX_PRESENTATION) {
        return Ok((Kind::Presentation, rest));
    }
    if let Some(rest) = text.strip_prefix(PREFIX_TICKET) {
        return Ok((Kind::Ticket, rest));
    }
    // Look-alikes of our prefixes (other versions, lower case) and the EU DCC prefix.
    if let Some(colon) = text.get(..4).filter(|p| p.ends_with(':')) {
        let p = colon.to_ascii_uppercase();
        let b = p.as_bytes();
        if (p.starts_with("EL") || p.starts_with("ET") || p.starts_with("HC"))
            && b[2].is_ascii_digit()
        {
            return Err(Error::UnsupportedPrefix {
                prefix: colon.to_string(),
            });
        }
    }
    if is_payment_code(text) {
        return Err(Error::PaymentCode);
    }
    Ok((Kind::Opaque, text))
}

/// WeChat Pay (18 digits starting 10–15) and Alipay (16–24 digits starting 25–30) payment codes.
pub fn is_payment_code(text: &str) -> bool {
    let b = text.as_bytes();
    if !b.iter().all(u8::is_ascii_digit) || b.len() < 16 {
        return false;
    }
    let head = (b[0] - b'0') * 10 + (b[1] - b'0');
    (b.len() == 18 && (10..=15).contains(&head))
        || ((16..=24).contains(&b.len()) && (25..=30).contains(&head))
}

/// Base45 → zlib (capped) → bytes.
pub fn unwrap_transport(body: &str) -> Result<Vec<u8>, Error> {
    let compressed = base45::decode(body).map_err(|e| Error::Base45(format!("{e:?}")))?;
    inflate(&compressed)
}

/// zlib decompression with the [`MAX_DECOMPRESSED`] cap. Uncompressed content is refused.
pub fn inflate(compressed: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(512);
    let mut dec = flate2::read::ZlibDecoder::new(compressed).take(MAX_DECOMPRESSED as u64 + 1);
    dec.read_to_end(&mut out)
        .map_err(|e| Error::Zlib(e.to_string()))?;
    if out.len() > MAX_DECOMPRESSED {
        return Err(Error::TooLarge {
            max: MAX_DECOMPRESSED,
        });
    }
    Ok(out)
}

/// bytes → zlib (best compression) → Base45 with `prefix`.
pub fn wrap_transport(prefix: &str, content: &[u8]) -> Result<String, Error> {
    use std::io::Write;
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(content)
        .map_err(|e| Error::Signing(e.to_string()))?;
    let z = enc.finish().map_err(|e| Error::Signing(e.to_string()))?;
    Ok(format!("{prefix}{}", base45::encode(&z)))
}

/// Checks that `buf` is exactly one well-formed CBOR data item within `limits`: definite lengths
/// only, no reserved additional-information values, valid UTF-8 text, no trailing bytes. Runs in
/// one pass without recursion, so hostile input cannot exhaust the stack.
pub fn check_cbor(buf: &[u8], limits: CborLimits) -> Result<(), Error> {
    let bad = |m: &str| Error::Cbor(m.to_string());
    let mut pos = 0usize;
    let mut items = 0usize;
    // Remaining items per open container; the bottom entry is the one top-level item.
    let mut stack: Vec<u64> = vec![1];
    while let Some(top) = stack.last_mut() {
        if *top == 0 {
            stack.pop();
            continue;
        }
        *top -= 1;
        items += 1;
        if items > limits.max_items {
            return Err(bad("too many items"));
        }
        let ib = *buf.get(pos).ok_or_else(|| bad("truncated"))?;
        pos += 1;
        let major = ib >> 5;
        let ai = ib & 0x1f;
        let arg: u64 = match ai {
            0..=23 => u64::from(ai),
            24..=27 => {
                let n = 1usize << (ai - 24);
                let bytes = buf.get(pos..pos + n).ok_or_else(|| bad("truncated"))?;
                pos += n;
                bytes.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b))
            }
            31 => return Err(bad("indefinite length not allowed")),
            _ => return Err(bad("reserved additional information")),
        };
        let remaining = (buf.len() - pos) as u64;
        match major {
            0 | 1 => {}
            2 | 3 => {
                if arg > remaining {
                    return Err(bad("truncated string"));
                }
                let end = pos + arg as usize;
                if major == 3 && std::str::from_utf8(&buf[pos..end]).is_err() {
                    return Err(bad("text is not UTF-8"));
                }
                pos = end;
            }
            4 | 5 => {
                let n = if major == 5 {
                    arg.checked_mul(2)
                } else {
                    Some(arg)
                };
                let n = n
                    .filter(|&n| n <= remaining)
                    .ok_or_else(|| bad("truncated container"))?;
                if n > 0 {
                    if stack.len() > limits.max_depth {
                        return Err(bad("nested too deeply"));
                    }
                    stack.push(n);
                }
            }
            6 => {
                if stack.len() > limits.max_depth {
                    return Err(bad("nested too deeply"));
                }
                stack.push(1);
            }
            _ => {
                // Major type 7: simple values and floats; a one-byte simple value must be ≥ 32.
                if ai == 24 && arg < 32 {
                    return Err(bad("invalid simple value"));
                }
            }
        }
    }
    if pos != buf.len() {
        return Err(bad("trailing bytes"));
    }
    Ok(())
}

/// Parses checked CBOR as a tagged COSE_Sign1.
pub fn parse_sign1(cbor: &[u8], limits: CborLimits) -> Result<CoseSign1, Error> {
    check_cbor(cbor, limits)?;
    if cbor.first() != Some(&0xd2) {
        return Err(Error::Cose("not tagged 18 (COSE_Sign1)".into()));
    }
    let s = CoseSign1::from_tagged_slice(cbor).map_err(|e| Error::Cose(e.to_string()))?;
    if s.payload.is_none() {
        return Err(Error::Cose("detached payload".into()));
    }
    Ok(s)
}

/// Serialises a COSE_Sign1 with its tag.
pub fn encode_sign1(s: CoseSign1) -> Result<Vec<u8>, Error> {
    s.to_tagged_vec().map_err(|e| Error::Signing(e.to_string()))
}

/// Serialises any coset value (untagged).
pub fn encode<T: CborSerializable>(v: T) -> Result<Vec<u8>, Error> {
    v.to_vec().map_err(|e| Error::Signing(e.to_string()))
}

/// The value under integer key `k` in a decoded CBOR map (the payloads of trust lists, catalog
/// bundles and staff codes use small integer keys).
pub fn map_get(m: &[(ciborium::Value, ciborium::Value)], k: i64) -> Option<&ciborium::Value> {
    m.iter()
        .find(|(key, _)| key.as_integer().and_then(|i| i64::try_from(i).ok()) == Some(k))
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing() {
        assert_eq!(route("EL1:ABC").map(|r| r.0), Ok(Kind::Presentation));
        assert_eq!(route("ET1:ABC").map(|r| r.0), Ok(Kind::Ticket));
        assert_eq!(
            route("https://example.invalid/x").map(|r| r.0),
            Ok(Kind::Opaque)
        );
        assert_eq!(route(""), Err(Error::Empty));
        assert!(matches!(
            route("HC1:6BF"),
            Err(Error::UnsupportedPrefix { .. })
        ));
        assert!(matches!(
            route("el1:6BF"),
            Err(Error::UnsupportedPrefix { .. })
        ));
        assert!(matches!(
            route("EL2:6BF"),
            Err(Error::UnsupportedPrefix { .. })
        ));
        assert_eq!(route("134567890123456789"), Err(Error::PaymentCode));
        assert_eq!(route("2845678901234567890"), Err(Error::PaymentCode));
        assert_eq!(route("EL1:\u{7}"), Err(Error::Unreadable));
        assert!(matches!(
            route(&"A".repeat(5000)),
            Err(Error::TooLong { .. })
        ));
    }

    #[test]
    fn bomb_is_capped() {
        let content = vec![0u8; 1 << 20];
        let code = wrap_transport("", &content).expect("wraps");
        assert_eq!(
            unwrap_transport(&code),
            Err(Error::TooLarge {
                max: MAX_DECOMPRESSED
            })
        );
    }

    #[test]
    fn cbor_checker() {
        let ok: &[&[u8]] = &[
            &[0x00],
            &[0x83, 0x01, 0x02, 0x03],
            &[0xa1, 0x61, 0x61, 0xf6],
            &[0xd2, 0x80],
        ];
        for b in ok {
            check_cbor(b, PAYLOAD_LIMITS).expect("well-formed");
        }
        let bad: &[&[u8]] = &[
            &[],
            &[0x9f, 0xff],
            &[0x83, 0x01],
            &[0x00, 0x00],
            &[0x62, 0xff, 0xfe],
            &[0x1c],
            &[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0xf8, 0x01],
        ];
        for b in bad {
            assert!(check_cbor(b, PAYLOAD_LIMITS).is_err(), "{b:02x?}");
        }
        let deep = [0x81u8; 20]
            .iter()
            .copied()
            .chain([0x00])
            .collect::<Vec<_>>();
        assert!(check_cbor(&deep, PAYLOAD_LIMITS).is_err());
    }
}
