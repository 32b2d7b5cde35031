//! An ESC/POS parser and renderer for the simulated printer (and for checking what the encoder
//! produced): bytes in, [`Op`]s out, incrementally, never panicking on any input; and a renderer
//! that draws a job's ops into a 576-dot bitmap like a printer would.
use super::bitmap::Bitmap;
use super::escpos::WIDTH_DOTS;
use super::text::{self, Style};

/// The largest raster band accepted (72 bytes × 4096 rows).
pub const MAX_RASTER: usize = 72 * 4096;

/// One parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `ESC @`.
    Init,
    /// Printable bytes (GB18030 in Chinese mode).
    Text(Vec<u8>),
    /// `LF`.
    Newline,
    /// `CR` (ignored by most printers).
    CarriageReturn,
    /// `ESC d n`.
    FeedLines(u8),
    /// `ESC J n`.
    FeedDots(u8),
    /// `ESC a n` (0..2).
    Align(u8),
    /// `ESC E n`.
    Bold(bool),
    /// `ESC - n`.
    Underline(u8),
    /// `ESC ! n`.
    PrintMode(u8),
    /// `GS ! n`.
    Size(u8),
    /// `GS B n`.
    Reverse(bool),
    /// `ESC 2` (None) / `ESC 3 n`.
    LineSpacing(Option<u8>),
    /// `ESC t n`.
    CodeTable(u8),
    /// `FS &`.
    ChineseOn,
    /// `FS .`.
    ChineseOff,
    /// `FS ! n`.
    ChineseMode(u8),
    /// `FS W n`.
    ChineseDouble(bool),
    /// `GS V m [n]`.
    Cut {
        /// Partial rather than full.
        partial: bool,
    },
    /// `GS v 0 m xL xH yL yH d…`.
    Raster {
        /// Mode (0 normal, 1 double width, 2 double height, 3 both).
        mode: u8,
        /// Bytes per row.
        width_bytes: u16,
        /// Rows.
        height: u16,
        /// The dots.
        data: Vec<u8>,
    },
    /// `GS ( k … 31 43 n`: QR module size.
    QrModule(u8),
    /// `GS ( k … 31 45 n`: QR EC level.
    QrEc(u8),
    /// `GS ( k … 31 41 n1 n2`: QR model.
    QrModel(u8),
    /// `GS ( k … 31 50 30 d…`: store QR data.
    QrStore(Vec<u8>),
    /// `GS ( k … 31 51 30`: print the stored QR code.
    QrPrint,
    /// Another `GS ( k` function.
    QrOther(u8),
    /// `DLE EOT n`: real-time status request.
    Status(u8),
    /// `GS a n`: automatic status back.
    AutoStatus(u8),
    /// `ESC c 5 n`, `ESC c 3 n` and other ignored commands with one argument.
    Ignored(Vec<u8>),
    /// A byte that starts no known command (skipped).
    Unknown(u8),
}

/// Incremental parser.
#[derive(Debug, Default)]
pub struct Parser {
    buf: Vec<u8>,
}

enum Step {
    Op(Op, usize),
    NeedMore,
}

impl Parser {
    /// Empty.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes; returns the ops completed by them.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Op> {
        self.push_raw(bytes).into_iter().map(|(op, _)| op).collect()
    }

    /// Like [`Parser::push`], with the bytes each op was parsed from.
    pub fn push_raw(&mut self, bytes: &[u8]) -> Vec<(Op, Vec<u8>)> {
        self.buf.extend_from_slice(bytes);
        let mut ops = Vec::new();
        let mut pos = 0;
        while pos < self.buf.len() {
            match step(&self.buf[pos..]) {
                Step::Op(op, n) => {
                    let n = n.max(1);
                    ops.push((op, self.buf[pos..pos + n].to_vec()));
                    pos += n;
                }
                Step::NeedMore => break,
            }
        }
        self.buf.drain(..pos);
        ops
    }

    /// Bytes waiting for the rest of a command.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

/// Parses a complete byte string (a trailing incomplete command is dropped).
pub fn parse_all(bytes: &[u8]) -> Vec<Op> {
    Parser::new().push(bytes)
}

fn step(b: &[u8]) -> Step {
    let need = |n: usize| b.len() < n;
    let one = |n: usize, f: &dyn Fn(u8) -> Op| {
        if need(n) {
            Step::NeedMore
        } else {
            Step::Op(f(b[n - 1]), n)
        }
    };
    match b[0] {
        0x0A => Step::Op(Op::Newline, 1),
        0x0D => Step::Op(Op::CarriageReturn, 1),
        0x10 => {
            if need(2) {
                return Step::NeedMore;
            }
            if b[1] == 0x04 {
                one(3, &Op::Status)
            } else {
                Step::Op(Op::Unknown(0x10), 1)
            }
        }
        0x1B => {
            if need(2) {
                return Step::NeedMore;
            }
            match b[1] {
                0x40 => Step::Op(Op::Init, 2),
                0x32 => Step::Op(Op::LineSpacing(None), 2),
                0x33 => one(3, &|n| Op::LineSpacing(Some(n))),
                0x64 => one(3, &Op::FeedLines),
                0x4A => one(3, &Op::FeedDots),
                0x61 => one(3, &|n| {
                    Op::Align(if n >= 0x30 { n - 0x30 } else { n }.min(2))
                }),
                0x45 => one(3, &|n| Op::Bold(n & 1 == 1)),
                0x2D => one(3, &|n| Op::Underline(if n >= 0x30 { n - 0x30 } else { n })),
                0x21 => one(3, &Op::PrintMode),
                0x74 => one(3, &Op::CodeTable),
                0x63 => {
                    if need(4) {
                        Step::NeedMore
                    } else {
                        Step::Op(Op::Ignored(b[..4].to_vec()), 4)
                    }
                }
                _ => Step::Op(Op::Unknown(0x1B), 1),
            }
        }
        0x1C => {
            if need(2) {
                return Step::NeedMore;
            }
            match b[1] {
                0x26 => Step::Op(Op::ChineseOn, 2),
                0x2E => Step::Op(Op::ChineseOff, 2),
                0x21 => one(3, &Op::ChineseMode),
                0x57 => one(3, &|n| Op::ChineseDouble(n & 1 == 1)),
                _ => Step::Op(Op::Unknown(0x1C), 1),
            }
        }
        0x1D => {
            if need(2) {
                return Step::NeedMore;
            }
            match b[1] {
                0x21 => one(3, &Op::Size),
                0x42 => one(3, &|n| Op::Reverse(n & 1 == 1)),
                0x61 => one(3, &Op::AutoStatus),
                0x56 => {
                    if need(3) {
                        return Step::NeedMore;
                    }
                    match b[2] {
                        0x00 | 0x30 => Step::Op(Op::Cut { partial: false }, 3),
                        0x01 | 0x31 => Step::Op(Op::Cut { partial: true }, 3),
                        0x41 | 0x42 => {
                            if need(4) {
                                Step::NeedMore
                            } else {
                                Step::Op(
                                    Op::Cut {
                                        partial: b[2] == 0x42,
                                    },
                                    4,
                                )
                            }
                        }
                        _ => Step::Op(Op::Unknown(0x1D), 1),
                    }
                }
                0x76 => {
                    if need(8) {
                        return Step::NeedMore;
                    }
                    if b[2] != 0x30 {
                        return Step::Op(Op::Unknown(0x1D), 1);
                    }
                    let x = u16::from_le_bytes([b[4], b[5]]);
                    let y = u16::from_le_bytes([b[6], b[7]]);
                    let k = usize::from(x) * usize::from(y);
                    if k > MAX_RASTER {
                        // Not something a real job sends: skip the header and resync.
                        return Step::Op(Op::Unknown(0x1D), 1);
                    }
                    if need(8 + k) {
                        return Step::NeedMore;
                    }
                    Step::Op(
                        Op::Raster {
                            mode: b[3] & 0x03,
                            width_bytes: x,
                            height: y,
                            data: b[8..8 + k].to_vec(),
                        },
                        8 + k,
                    )
                }
                0x28 => {
                    if need(5) {
                        return Step::NeedMore;
                    }
                    if b[2] != 0x6B {
                        // Other GS ( functions: skip by their length.
                        let len = usize::from(b[3]) | usize::from(b[4]) << 8;
                        if need(5 + len) {
                            return Step::NeedMore;
                        }
                        return Step::Op(Op::Ignored(b[..5 + len].to_vec()), 5 + len);
                    }
                    let len = usize::from(b[3]) | usize::from(b[4]) << 8;
                    if need(5 + len) {
                        return Step::NeedMore;
                    }
                    let p = &b[5..5 + len];
                    let op = match p {
                        [0x31, 0x41, n, ..] => Op::QrModel(*n),
                        [0x31, 0x43, n] => Op::QrModule(*n),
                        [0x31, 0x45, n] => Op::QrEc(*n),
                        [0x31, 0x50, 0x30, d @ ..] => Op::QrStore(d.to_vec()),
                        [0x31, 0x51, 0x30] => Op::QrPrint,
                        [_, f, ..] => Op::QrOther(*f),
                        _ => Op::QrOther(0),
                    };
                    Step::Op(op, 5 + len)
                }
                _ => Step::Op(Op::Unknown(0x1D), 1),
            }
        }
        c if c < 0x20 => Step::Op(Op::Unknown(c), 1),
        _ => {
            // Printable: run until the next control byte. A lead byte of a multi-byte character
            // at the very end waits for its trail bytes.
            let end = b.iter().position(|&c| c < 0x20).unwrap_or(b.len());
            if end == b.len() && b[end - 1] >= 0x81 && trailing_lead(&b[..end]) {
                if end == 1 {
                    return Step::NeedMore;
                }
                return Step::Op(Op::Text(b[..end - 1].to_vec()), end - 1);
            }
            Step::Op(Op::Text(b[..end].to_vec()), end)
        }
    }
}

/// Whether the last byte of `t` is the lead byte of an incomplete GB18030 character.
fn trailing_lead(t: &[u8]) -> bool {
    let mut i = 0;
    while i < t.len() {
        if t[i] < 0x80 {
            i += 1;
        } else if i + 1 < t.len() && (0x30..=0x39).contains(&t[i + 1]) {
            i += 4;
        } else {
            i += 2;
        }
    }
    i > t.len()
}

/// Draws a job like an 80 mm printer would: text lines in the printer's 24-dot font (our WQY
/// rendering), raster images, QR codes. Returns the image cropped to its height.
pub fn render(ops: &[Op]) -> Bitmap {
    let mut r = Renderer::new();
    for op in ops {
        r.apply(op);
    }
    r.finish()
}

struct Renderer {
    img: Bitmap,
    y: i32,
    line: Vec<u8>,
    align: u8,
    bold: bool,
    size: u8,
    chinese: bool,
    qr: Vec<u8>,
}

impl Renderer {
    fn new() -> Self {
        Renderer {
            img: Bitmap::new(WIDTH_DOTS, 2048),
            y: 0,
            line: Vec::new(),
            align: 0,
            bold: false,
            size: 0,
            chinese: true,
            qr: Vec::new(),
        }
    }

    fn room(&mut self, h: i32) {
        let need = (self.y + h + 64).max(0) as u32;
        if need > self.img.height() && need < 40_000 {
            self.img.set_height(need.max(self.img.height() * 2));
        }
    }

    fn style(&self) -> Style {
        let w = i32::from(self.size >> 4) + 1;
        Style {
            num: 3 * w,
            den: 2,
            bold: self.bold,
        }
    }

    fn x_for(&self, w: i32) -> i32 {
        match self.align {
            1 => (WIDTH_DOTS as i32 - w) / 2,
            2 => WIDTH_DOTS as i32 - w,
            _ => 0,
        }
    }

    fn flush_line(&mut self) {
        let style = self.style();
        let bytes = std::mem::take(&mut self.line);
        let s = if self.chinese {
            encoding_rs::GB18030
                .decode_without_bom_handling(&bytes)
                .0
                .into_owned()
        } else {
            bytes.iter().map(|&b| b as char).collect()
        };
        for l in text::wrap(&s, WIDTH_DOTS as i32, style) {
            self.room(style.line_height());
            let w = text::width(&l, style);
            let x = self.x_for(w);
            text::draw(&mut self.img, x, self.y, &l, style);
            self.y += style.line_height();
        }
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::Init => {
                self.align = 0;
                self.bold = false;
                self.size = 0;
            }
            Op::Text(t) => self.line.extend_from_slice(t),
            Op::Newline => self.flush_line(),
            Op::FeedLines(n) => {
                if !self.line.is_empty() {
                    self.flush_line();
                }
                self.y += i32::from(*n) * 32;
            }
            Op::FeedDots(n) => self.y += i32::from(*n),
            Op::Align(a) => self.align = *a,
            Op::Bold(b) => self.bold = *b,
            Op::Size(s) => self.size = *s & 0x77,
            Op::ChineseOn => self.chinese = true,
            Op::ChineseOff => self.chinese = false,
            Op::Raster {
                width_bytes,
                height,
                data,
                ..
            } => {
                let src = Bitmap::from_raster(u32::from(*width_bytes), u32::from(*height), data);
                self.room(i32::from(*height));
                let x = self.x_for(src.width() as i32);
                self.img.blit(&src, x.max(0), self.y);
                self.y += i32::from(*height);
            }
            Op::QrStore(d) => self.qr = d.clone(),
            Op::QrPrint => {
                let data = String::from_utf8_lossy(&self.qr).into_owned();
                if let Ok(q) = super::receipt::qr_bitmap(&data, 240) {
                    self.room(q.height() as i32);
                    let x = self.x_for(q.width() as i32);
                    self.img.blit(&q, x, self.y);
                    self.y += q.height() as i32;
                }
            }
            Op::Cut { .. } if !self.line.is_empty() => self.flush_line(),
            _ => {}
        }
    }

    fn finish(mut self) -> Bitmap {
        if !self.line.is_empty() {
            self.flush_line();
        }
        let h = (self.y.max(1) as u32).min(self.img.height());
        self.img.set_height(h);
        self.img
    }
}

#[cfg(test)]
mod tests {
    use super::super::escpos::{Cut, Encoder, QrEc};
    use super::super::receipt::{sample, Mode};
    use super::*;

    #[test]
    fn parses_what_the_encoder_makes() {
        let mut e = Encoder::new();
        e.init()
            .chinese(true)
            .align(super::super::escpos::Align::Center)
            .size(2, 2);
        e.text("示例").unwrap();
        e.newline()
            .qr(b"1234", 3, QrEc::L)
            .feed_lines(2)
            .cut(Cut::FeedPartial(3));
        let ops = parse_all(e.bytes());
        assert_eq!(
            ops,
            vec![
                Op::Init,
                Op::ChineseOn,
                Op::Align(1),
                Op::Size(0x11),
                Op::Text(vec![0xCA, 0xBE, 0xC0, 0xFD]),
                Op::Newline,
                Op::QrModel(0x32),
                Op::QrModule(3),
                Op::QrEc(0x30),
                Op::QrStore(b"1234".to_vec()),
                Op::QrPrint,
                Op::FeedLines(2),
                Op::Cut { partial: true },
            ]
        );
    }

    #[test]
    fn byte_by_byte_equals_all_at_once() {
        let bytes = sample("社保查询", "Social insurance", "人社局", "X1")
            .to_escpos(Mode::Text { native_qr: true })
            .unwrap();
        let whole = parse_all(&bytes);
        let mut p = Parser::new();
        let mut ops = Vec::new();
        for b in &bytes {
            ops.extend(p.push(&[*b]));
        }
        // Text runs split differently byte by byte; compare everything but text.
        let non_text = |v: &[Op]| {
            v.iter()
                .filter(|o| !matches!(o, Op::Text(_)))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(non_text(&ops), non_text(&whole));
        let text = |v: &[Op]| {
            v.iter()
                .filter_map(|o| {
                    if let Op::Text(t) = o {
                        Some(t.clone())
                    } else {
                        None
                    }
                })
                .collect::<Vec<_>>()
                .concat()
        };
        assert_eq!(text(&ops), text(&whole));
        assert_eq!(p.pending(), 0);
    }

    #[test]
    fn raster_round_trip_renders_the_same_dots() {
        let r = sample("社保查询", "Social insurance", "人社局", "X1");
        let img = r.render().unwrap();
        let out = render(&parse_all(&r.to_escpos(Mode::Raster).unwrap()));
        assert_eq!(out.black_dots(), img.black_dots());
    }

    #[test]
    fn garbage_never_panics() {
        let mut p = Parser::new();
        let mut seed = 7u32;
        for _ in 0..20_000 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            p.push(&[(seed >> 16) as u8]);
        }
        let _ = render(&parse_all(&[
            0x1D, 0x76, 0x30, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3,
        ]));
    }
}
