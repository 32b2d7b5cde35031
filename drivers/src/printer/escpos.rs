//! ESC/POS encoding for an 80 mm printer (576 dots), pure: commands to bytes, GB18030 text in
//! Chinese mode, raster images (`GS v 0`) in bands, QR codes (`GS ( k`). Characters a printer font
//! lacks (4-byte GB18030: CJK Ext-A and beyond) are refused by [`Encoder::text`] so the caller draws
//! them as raster instead.
use super::bitmap::Bitmap;

/// Printable width in dots.
pub const WIDTH_DOTS: u32 = 576;
/// Rows per `GS v 0` band.
pub const BAND_ROWS: u32 = 256;

/// Horizontal alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Left.
    Left,
    /// Centre.
    Center,
    /// Right.
    Right,
}

/// QR error-correction level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrEc {
    /// 7 %.
    L,
    /// 15 %.
    M,
    /// 25 %.
    Q,
    /// 30 %.
    H,
}

/// The cut at the end of a receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// `GS V 0`.
    Full,
    /// `GS V 1`.
    Partial,
    /// `GS V 66 n`: feed to the cutter plus `n` dots, then cut partially.
    FeedPartial(u8),
}

/// GB18030 bytes of `s` when every character is one or two bytes long (what printer fonts hold);
/// otherwise the first character that would need four bytes.
pub fn gb18030(s: &str) -> Result<Vec<u8>, char> {
    let mut out = Vec::with_capacity(s.len());
    let mut tmp = [0u8; 4];
    for ch in s.chars() {
        if ch.is_ascii() {
            out.push(ch as u8);
            continue;
        }
        let (bytes, _, _) = encoding_rs::GB18030.encode(ch.encode_utf8(&mut tmp));
        if bytes.len() != 2 {
            return Err(ch);
        }
        out.extend_from_slice(&bytes);
    }
    Ok(out)
}

/// Whether the printer's own font can print `ch` (ASCII or two-byte GB18030).
pub fn printable(ch: char) -> bool {
    let mut tmp = [0u8; 4];
    ch.is_ascii() && !ch.is_ascii_control()
        || encoding_rs::GB18030
            .encode(ch.encode_utf8(&mut tmp))
            .0
            .len()
            == 2
}

/// Builds ESC/POS bytes.
#[derive(Debug, Default, Clone)]
pub struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    /// Empty.
    pub fn new() -> Self {
        Self::default()
    }
    /// The bytes so far.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }
    /// The bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
    /// Raw bytes.
    pub fn raw(&mut self, b: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(b);
        self
    }
    /// `ESC @`.
    pub fn init(&mut self) -> &mut Self {
        self.raw(&[0x1B, 0x40])
    }
    /// `FS &` (on) / `FS .` (off).
    pub fn chinese(&mut self, on: bool) -> &mut Self {
        self.raw(if on { &[0x1C, 0x26] } else { &[0x1C, 0x2E] })
    }
    /// `ESC a n`.
    pub fn align(&mut self, a: Align) -> &mut Self {
        let n = match a {
            Align::Left => 0,
            Align::Center => 1,
            Align::Right => 2,
        };
        self.raw(&[0x1B, 0x61, n])
    }
    /// `ESC E n`.
    pub fn bold(&mut self, on: bool) -> &mut Self {
        self.raw(&[0x1B, 0x45, u8::from(on)])
    }
    /// `GS ! n`: width and height multipliers 1..=8.
    pub fn size(&mut self, w: u8, h: u8) -> &mut Self {
        let w = w.clamp(1, 8) - 1;
        let h = h.clamp(1, 8) - 1;
        self.raw(&[0x1D, 0x21, w << 4 | h])
    }
    /// `ESC 2` (default) or `ESC 3 n` line spacing.
    pub fn line_spacing(&mut self, dots: Option<u8>) -> &mut Self {
        match dots {
            None => self.raw(&[0x1B, 0x32]),
            Some(n) => self.raw(&[0x1B, 0x33, n]),
        }
    }
    /// GB18030 text (no newline). Fails on the first character the printer font cannot hold.
    pub fn text(&mut self, s: &str) -> Result<&mut Self, char> {
        let b = gb18030(s)?;
        Ok(self.raw(&b))
    }
    /// `LF`.
    pub fn newline(&mut self) -> &mut Self {
        self.raw(&[0x0A])
    }
    /// `ESC d n`.
    pub fn feed_lines(&mut self, n: u8) -> &mut Self {
        self.raw(&[0x1B, 0x64, n])
    }
    /// `GS V …`.
    pub fn cut(&mut self, c: Cut) -> &mut Self {
        match c {
            Cut::Full => self.raw(&[0x1D, 0x56, 0x00]),
            Cut::Partial => self.raw(&[0x1D, 0x56, 0x01]),
            Cut::FeedPartial(n) => self.raw(&[0x1D, 0x56, 0x42, n]),
        }
    }
    /// `GS v 0` raster of `img`, in bands of at most [`BAND_ROWS`] rows.
    pub fn raster(&mut self, img: &Bitmap) -> &mut Self {
        let stride = img.stride();
        let mut y = 0;
        while y < img.height() {
            let rows = (img.height() - y).min(BAND_ROWS);
            self.raw(&[0x1D, 0x76, 0x30, 0x00]);
            self.raw(&(stride as u16).to_le_bytes());
            self.raw(&(rows as u16).to_le_bytes());
            let start = (y as usize) * stride as usize;
            let end = start + rows as usize * stride as usize;
            self.buf.extend_from_slice(&img.data()[start..end]);
            y += rows;
        }
        self
    }
    /// A native QR code (`GS ( k`, model 2): module size in dots (1..=16), EC level, data
    /// (at most 7089 bytes), then print.
    pub fn qr(&mut self, data: &[u8], module: u8, ec: QrEc) -> &mut Self {
        let ec = match ec {
            QrEc::L => 0x30,
            QrEc::M => 0x31,
            QrEc::Q => 0x32,
            QrEc::H => 0x33,
        };
        let data = &data[..data.len().min(7089)];
        let len = data.len() + 3;
        self.raw(&[0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00]);
        self.raw(&[
            0x1D,
            0x28,
            0x6B,
            0x03,
            0x00,
            0x31,
            0x43,
            module.clamp(1, 16),
        ]);
        self.raw(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, ec]);
        self.raw(&[
            0x1D,
            0x28,
            0x6B,
            len as u8,
            (len >> 8) as u8,
            0x31,
            0x50,
            0x30,
        ]);
        self.raw(data);
        self.raw(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_text_vector() {
        let mut e = Encoder::new();
        e.init().chinese(true);
        e.text("示例文本打印机!\n").unwrap();
        e.chinese(false);
        assert_eq!(
            e.bytes(),
            &[
                0x1B, 0x40, 0x1C, 0x26, 0xCA, 0xBE, 0xC0, 0xFD, 0xCE, 0xC4, 0xB1, 0xBE, 0xB4, 0xF2,
                0xD3, 0xA1, 0xBB, 0xFA, 0x21, 0x0A, 0x1C, 0x2E
            ]
        );
    }

    #[test]
    fn four_byte_characters_are_refused() {
        assert_eq!(gb18030("陈㛃"), Err('㛃'));
        assert!(!printable('㛃'));
        assert!(printable('陈'));
        assert!(printable('A'));
        assert_eq!(gb18030("𠀀"), Err('𠀀'));
    }

    #[test]
    fn qr_vector() {
        let mut e = Encoder::new();
        e.init().qr(b"1234", 3, QrEc::L);
        let want: Vec<u8> = [
            &[0x1B, 0x40][..],
            &[0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00],
            &[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x03],
            &[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x30],
            &[
                0x1D, 0x28, 0x6B, 0x07, 0x00, 0x31, 0x50, 0x30, 0x31, 0x32, 0x33, 0x34,
            ],
            &[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30],
        ]
        .concat();
        assert_eq!(e.bytes(), &want[..]);
    }

    #[test]
    fn raster_vectors() {
        let mut one = Bitmap::new(1, 1);
        one.set(0, 0, true);
        assert_eq!(
            Encoder::new().raster(&one).bytes(),
            &[0x1D, 0x76, 0x30, 0x00, 0x01, 0x00, 0x01, 0x00, 0x80]
        );
        let mut two = Bitmap::new(2, 2);
        two.set(0, 0, true);
        two.set(1, 0, true);
        assert_eq!(
            Encoder::new().raster(&two).bytes(),
            &[0x1D, 0x76, 0x30, 0x00, 0x01, 0x00, 0x02, 0x00, 0xC0, 0x00]
        );
    }

    #[test]
    fn tall_images_go_in_bands() {
        let img = Bitmap::new(576, 600);
        let mut e = Encoder::new();
        e.raster(&img);
        let b = e.into_bytes();
        assert_eq!(b.len(), 3 * 8 + 72 * 600);
        assert_eq!(&b[..8], &[0x1D, 0x76, 0x30, 0x00, 0x48, 0x00, 0x00, 0x01]);
    }

    #[test]
    fn small_commands() {
        let mut e = Encoder::new();
        e.align(Align::Center)
            .bold(true)
            .size(2, 2)
            .feed_lines(3)
            .cut(Cut::FeedPartial(3))
            .cut(Cut::Full);
        assert_eq!(
            e.bytes(),
            &[
                0x1B, 0x61, 0x01, 0x1B, 0x45, 0x01, 0x1D, 0x21, 0x11, 0x1B, 0x64, 0x03, 0x1D, 0x56,
                0x42, 0x03, 0x1D, 0x56, 0x00
            ]
        );
        assert_eq!(Encoder::new().size(4, 4).bytes(), &[0x1D, 0x21, 0x33]);
    }
}
