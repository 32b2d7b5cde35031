//! The serial scanner's conventions, pure: messages end in CR, LF or CRLF, or after an inter-byte
//! gap (for scanners with no suffix); ACK/ENQ/NAK replies to trigger commands are skipped; payloads are UTF-8 or else GB18030; the same code within
//! 1.5 s is reported once; messages over 4 KiB are dropped; optional trigger commands.
use std::time::{Duration, Instant};

/// Longest message accepted.
pub const MAX_LINE: usize = 4096;
/// Window in which a repeated code is suppressed.
pub const DEDUP_WINDOW: Duration = Duration::from_millis(1500);
/// Silence that ends a message without a suffix.
pub const GAP: Duration = Duration::from_millis(100);

/// What the splitter produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// A complete message (without its terminator; never empty).
    Line(Vec<u8>),
    /// A message longer than [`MAX_LINE`] was dropped; its length.
    Overflow(usize),
}

/// Splits a byte stream into messages.
#[derive(Debug, Default)]
pub struct LineSplitter {
    buf: Vec<u8>,
    overflow: usize,
    after_cr: bool,
}

impl LineSplitter {
    /// Empty.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes; returns the messages they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Piece> {
        let mut out = Vec::new();
        for &b in bytes {
            if b == b'\n' && self.after_cr {
                self.after_cr = false;
                continue;
            }
            self.after_cr = b == b'\r';
            if b == b'\r' || b == b'\n' {
                self.end(&mut out);
            } else if self.buf.is_empty() && self.overflow == 0 && matches!(b, 0x05 | 0x06 | 0x15) {
                // ACK / ENQ / NAK answering a trigger or configuration command: not a code.
            } else if self.overflow > 0 {
                self.overflow += 1;
            } else if self.buf.len() >= MAX_LINE {
                self.overflow = self.buf.len() + 1;
                self.buf.clear();
            } else {
                self.buf.push(b);
            }
        }
        out
    }

    /// The line went quiet for [`GAP`]: whatever is buffered is a message.
    pub fn gap(&mut self) -> Vec<Piece> {
        let mut out = Vec::new();
        self.after_cr = false;
        self.end(&mut out);
        out
    }

    /// Whether bytes are waiting for a terminator or a gap.
    pub fn has_partial(&self) -> bool {
        !self.buf.is_empty() || self.overflow > 0
    }

    fn end(&mut self, out: &mut Vec<Piece>) {
        if self.overflow > 0 {
            out.push(Piece::Overflow(self.overflow));
            self.overflow = 0;
        } else if !self.buf.is_empty() {
            out.push(Piece::Line(std::mem::take(&mut self.buf)));
        }
    }
}

/// How a payload was decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Charset {
    /// Valid UTF-8.
    Utf8,
    /// Not UTF-8, decoded as GB18030.
    Gb18030,
}

/// Decodes a payload: strict UTF-8 first (a BOM is dropped), GB18030 second.
pub fn decode(bytes: &[u8]) -> (String, Charset) {
    let b = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    match std::str::from_utf8(b) {
        Ok(s) => (s.to_string(), Charset::Utf8),
        Err(_) => (
            encoding_rs::GB18030
                .decode_without_bom_handling(b)
                .0
                .into_owned(),
            Charset::Gb18030,
        ),
    }
}

/// Suppresses the same code seen again within the window (measured from its last sighting, so a
/// code held in front of a continuously scanning reader is reported once).
#[derive(Debug)]
pub struct Deduper {
    window: Duration,
    last: Option<(String, Instant)>,
}

impl Default for Deduper {
    fn default() -> Self {
        Deduper::new(DEDUP_WINDOW)
    }
}

impl Deduper {
    /// With a window.
    pub fn new(window: Duration) -> Self {
        Deduper { window, last: None }
    }
    /// Whether `code` seen at `now` should be reported.
    pub fn accept(&mut self, code: &str, now: Instant) -> bool {
        let repeat = matches!(&self.last, Some((c, t)) if c == code && now.saturating_duration_since(*t) < self.window);
        self.last = Some((code.to_string(), now));
        !repeat
    }
}

/// Serial trigger commands of common scanner families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Honeywell / Hand Held Products: `SYN T CR` / `SYN U CR`.
    Honeywell,
    /// Newland: `~<SOH>0000#SCNTRG1;<ETX>` / `…SCNTRG0…`.
    Newland,
}

impl Trigger {
    /// Parses `honeywell` / `newland`.
    pub fn parse(s: &str) -> Option<Trigger> {
        match s {
            "honeywell" => Some(Trigger::Honeywell),
            "newland" => Some(Trigger::Newland),
            _ => None,
        }
    }
    /// Bytes that start a scan.
    pub fn on(self) -> Vec<u8> {
        match self {
            Trigger::Honeywell => vec![0x16, 0x54, 0x0D],
            Trigger::Newland => newland(b"SCNTRG1"),
        }
    }
    /// Bytes that stop a scan.
    pub fn off(self) -> Vec<u8> {
        match self {
            Trigger::Honeywell => vec![0x16, 0x55, 0x0D],
            Trigger::Newland => newland(b"SCNTRG0"),
        }
    }
}

fn newland(cmd: &[u8]) -> Vec<u8> {
    let mut v = vec![0x7E, 0x01, b'0', b'0', b'0', b'0', b'#'];
    v.extend_from_slice(cmd);
    v.extend_from_slice(&[b';', 0x03]);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(p: Vec<Piece>) -> Vec<String> {
        p.into_iter()
            .map(|x| match x {
                Piece::Line(l) => String::from_utf8_lossy(&l).into_owned(),
                Piece::Overflow(n) => format!("<{n}>"),
            })
            .collect()
    }

    #[test]
    fn every_terminator() {
        let mut s = LineSplitter::new();
        assert_eq!(lines(s.push(b"\x06Z\r\n")), ["Z"]);
        assert_eq!(lines(s.push(b"A\rB\nC\r\nD\n\r\nE")), ["A", "B", "C", "D"]);
        assert!(s.has_partial());
        assert_eq!(lines(s.gap()), ["E"]);
        assert!(lines(s.gap()).is_empty());
    }

    #[test]
    fn crlf_split_across_reads_is_one_terminator() {
        let mut s = LineSplitter::new();
        assert_eq!(lines(s.push(b"AB\r")), ["AB"]);
        assert!(lines(s.push(b"\nCD")).is_empty());
        assert_eq!(lines(s.push(b"\n")), ["CD"]);
    }

    #[test]
    fn long_lines_are_dropped() {
        let mut s = LineSplitter::new();
        let mut big = vec![b'x'; MAX_LINE + 10];
        big.extend_from_slice(b"\r\nok\r\n");
        assert_eq!(
            lines(s.push(&big)),
            [format!("<{}>", MAX_LINE + 10), "ok".into()]
        );
        let exact = vec![b'y'; MAX_LINE];
        let p = s.push(&[exact.as_slice(), b"\n"].concat());
        assert_eq!(p, vec![Piece::Line(exact)]);
    }

    #[test]
    fn utf8_then_gb18030() {
        assert_eq!(
            decode("粤省事".as_bytes()),
            ("粤省事".into(), Charset::Utf8)
        );
        let (gbk, _, _) = encoding_rs::GB18030.encode("粤省事");
        assert_eq!(decode(&gbk), ("粤省事".into(), Charset::Gb18030));
        assert_eq!(decode(b"\xEF\xBB\xBFabc"), ("abc".into(), Charset::Utf8));
    }

    #[test]
    fn dedup_window() {
        let t0 = Instant::now();
        let mut d = Deduper::default();
        assert!(d.accept("A", t0));
        assert!(!d.accept("A", t0 + Duration::from_millis(1000)));
        assert!(
            !d.accept("A", t0 + Duration::from_millis(2000)),
            "sliding window"
        );
        assert!(d.accept("A", t0 + Duration::from_millis(3600)));
        assert!(d.accept("B", t0 + Duration::from_millis(3700)));
        assert!(d.accept("A", t0 + Duration::from_millis(3800)));
    }

    #[test]
    fn trigger_bytes() {
        assert_eq!(Trigger::Honeywell.on(), [0x16, 0x54, 0x0D]);
        assert_eq!(Trigger::Honeywell.off(), [0x16, 0x55, 0x0D]);
        assert_eq!(Trigger::Newland.on(), b"\x7e\x010000#SCNTRG1;\x03");
    }
}
