//! The receipt document model (title, key/value fields, text, separators, a QR code, footer),
//! its layout into a 576-dot 1-bit bitmap with embedded-graphics, and its encoding as ESC/POS:
//! either the whole receipt as raster bands (the default: looks the same on every printer and
//! prints every character) or printer-font text with native QR codes, falling back to raster for
//! lines with characters the printer font lacks and for QR codes on printers without `GS ( k`.
use serde::{Deserialize, Serialize};

use super::bitmap::Bitmap;
use super::escpos::{self, Align, Cut, Encoder, QrEc, WIDTH_DOTS};
use super::text::{self, Style};

/// Left and right margin in dots.
const MARGIN: i32 = 16;
/// Width of the key column of fields (5 body characters).
const KEY_COL: i32 = 5 * 24 + 12;

/// One block of a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Block {
    /// Large, bold, centred.
    Title(String),
    /// Body size, centred.
    Subtitle(String),
    /// A key on the left, its value wrapped beside it.
    Field {
        /// The key (e.g. 办理事项).
        key: String,
        /// The value.
        value: String,
    },
    /// A paragraph, wrapped.
    Text(String),
    /// A dashed line.
    Separator,
    /// A QR code, centred, with an optional caption under it.
    Qr {
        /// The payload (keep it ASCII: a URL or a ticket).
        data: String,
        /// The caption.
        caption: Option<String>,
    },
    /// Small, centred.
    Footer(String),
}

/// A receipt: blocks from top to bottom.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The blocks.
    pub blocks: Vec<Block>,
}

/// How to send a receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The whole receipt as raster bands.
    Raster,
    /// Printer-font text; `native_qr` says whether the printer has `GS ( k`.
    Text {
        /// Use `GS ( k` for QR codes (else they go as raster).
        native_qr: bool,
    },
}

/// Errors laying out or encoding a receipt.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// The QR payload does not fit a QR code. Remedy: shorten it (a URL of a few hundred bytes).
    #[error("QR payload of {0} bytes does not fit a QR code")]
    QrTooLong(usize),
    /// The receipt would be taller than 20,000 dots (2.5 m of paper). Remedy: split it.
    #[error("the receipt is too long to print")]
    TooTall,
}

impl ReceiptError {
    /// The category the runtime maps to UI state.
    pub fn kind(&self) -> crate::DeviceErrorKind {
        crate::DeviceErrorKind::InvalidInput
    }
}

const MAX_HEIGHT: u32 = 20_000;

impl Receipt {
    /// An empty receipt.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a title.
    pub fn title(mut self, s: impl Into<String>) -> Self {
        self.blocks.push(Block::Title(s.into()));
        self
    }
    /// Adds a subtitle.
    pub fn subtitle(mut self, s: impl Into<String>) -> Self {
        self.blocks.push(Block::Subtitle(s.into()));
        self
    }
    /// Adds a key/value line.
    pub fn field(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.blocks.push(Block::Field {
            key: key.into(),
            value: value.into(),
        });
        self
    }
    /// Adds a paragraph.
    pub fn text(mut self, s: impl Into<String>) -> Self {
        self.blocks.push(Block::Text(s.into()));
        self
    }
    /// Adds a dashed line.
    pub fn separator(mut self) -> Self {
        self.blocks.push(Block::Separator);
        self
    }
    /// Adds a QR code.
    pub fn qr(mut self, data: impl Into<String>, caption: Option<String>) -> Self {
        self.blocks.push(Block::Qr {
            data: data.into(),
            caption,
        });
        self
    }
    /// Adds a footer line.
    pub fn footer(mut self, s: impl Into<String>) -> Self {
        self.blocks.push(Block::Footer(s.into()));
        self
    }

    /// Lays the receipt out into a 576-dot-wide bitmap, cropped to its height.
    pub fn render(&self) -> Result<Bitmap, ReceiptError> {
        let mut img = Bitmap::new(WIDTH_DOTS, 2048);
        let mut y = 8;
        let inner = WIDTH_DOTS as i32 - 2 * MARGIN;
        for b in &self.blocks {
            let need = y as u32 + 1200;
            if need > img.height() {
                if need > MAX_HEIGHT {
                    return Err(ReceiptError::TooTall);
                }
                img.set_height((img.height() * 2).max(need));
            }
            match b {
                Block::Title(s) => {
                    y = centred(&mut img, y, s, Style::TITLE);
                    y += 8;
                }
                Block::Subtitle(s) => y = centred(&mut img, y, s, Style::BODY),
                Block::Footer(s) => y = centred(&mut img, y, s, Style::SMALL),
                Block::Text(s) => {
                    for line in text::wrap(s, inner, Style::BODY) {
                        text::draw(&mut img, MARGIN, y, &line, Style::BODY);
                        y += Style::BODY.line_height();
                    }
                }
                Block::Field { key, value } => {
                    let kw = text::width(key, Style::BODY_BOLD);
                    text::draw(&mut img, MARGIN, y, key, Style::BODY_BOLD);
                    let col = if kw + 12 > KEY_COL {
                        MARGIN + kw + 12
                    } else {
                        MARGIN + KEY_COL
                    };
                    let avail = WIDTH_DOTS as i32 - MARGIN - col;
                    for line in text::wrap(value, avail, Style::BODY) {
                        text::draw(&mut img, col, y, &line, Style::BODY);
                        y += Style::BODY.line_height();
                    }
                }
                Block::Separator => {
                    y += 6;
                    let mut x = MARGIN;
                    while x < WIDTH_DOTS as i32 - MARGIN {
                        img.fill_rect(x, y, 8, 2);
                        x += 14;
                    }
                    y += 10;
                }
                Block::Qr { data, caption } => {
                    let q = qr_bitmap(data, 240)?;
                    y += 8;
                    let x = (WIDTH_DOTS as i32 - q.width() as i32) / 2;
                    img.blit(&q, x, y);
                    y += q.height() as i32 + 4;
                    if let Some(c) = caption {
                        y = centred(&mut img, y, c, Style::SMALL);
                    }
                    y += 8;
                }
            }
        }
        img.set_height((y + 8) as u32);
        Ok(img)
    }

    /// The ESC/POS bytes of the whole job: init, Chinese mode, content, feed, partial cut.
    pub fn to_escpos(&self, mode: Mode) -> Result<Vec<u8>, ReceiptError> {
        let mut e = Encoder::new();
        e.init().chinese(true);
        match mode {
            Mode::Raster => {
                let img = self.render()?;
                e.raster(&img);
            }
            Mode::Text { native_qr } => self.encode_text(&mut e, native_qr)?,
        }
        e.feed_lines(4).cut(Cut::FeedPartial(0));
        Ok(e.into_bytes())
    }

    fn encode_text(&self, e: &mut Encoder, native_qr: bool) -> Result<(), ReceiptError> {
        // Text mode: the printer's 24-dot font, 24 Chinese characters per line.
        let line = |e: &mut Encoder, s: &str, style: Style, align: Align| {
            if e.text("").is_ok() && escpos::gb18030(s).is_ok() {
                let _ = e.align(align).text(s);
                e.newline();
            } else {
                // A character the printer font lacks: this line goes as raster.
                let w = text::width(s, style).min(WIDTH_DOTS as i32);
                let mut img = Bitmap::new(WIDTH_DOTS, style.line_height() as u32);
                let x = match align {
                    Align::Left => MARGIN,
                    Align::Center => (WIDTH_DOTS as i32 - w) / 2,
                    Align::Right => WIDTH_DOTS as i32 - MARGIN - w,
                };
                text::draw(&mut img, x, 0, s, style);
                e.align(Align::Left).raster(&img);
            }
        };
        for b in &self.blocks {
            match b {
                Block::Title(s) => {
                    e.size(2, 2).bold(true);
                    line(e, s, Style::TITLE, Align::Center);
                    e.size(1, 1).bold(false);
                }
                Block::Subtitle(s) => line(e, s, Style::BODY, Align::Center),
                Block::Footer(s) => line(e, s, Style::SMALL, Align::Center),
                Block::Text(s) => {
                    for l in text::wrap(s, WIDTH_DOTS as i32 - 2 * MARGIN, Style::BODY) {
                        line(e, &l, Style::BODY, Align::Left);
                    }
                }
                Block::Field { key, value } => {
                    line(e, &format!("{key}：{value}"), Style::BODY, Align::Left)
                }
                Block::Separator => {
                    e.align(Align::Left);
                    let _ = e.text(&"-".repeat(48));
                    e.newline();
                }
                Block::Qr { data, caption } => {
                    e.align(Align::Center);
                    if native_qr && data.is_ascii() {
                        e.qr(data.as_bytes(), 6, QrEc::M);
                    } else {
                        let q = qr_bitmap(data, 240)?;
                        let mut img = Bitmap::new(WIDTH_DOTS, q.height());
                        img.blit(&q, (WIDTH_DOTS as i32 - q.width() as i32) / 2, 0);
                        e.align(Align::Left).raster(&img);
                    }
                    e.newline();
                    if let Some(c) = caption {
                        line(e, c, Style::SMALL, Align::Center);
                    }
                }
            }
        }
        e.align(Align::Left);
        Ok(())
    }
}

fn centred(img: &mut Bitmap, mut y: i32, s: &str, style: Style) -> i32 {
    let inner = WIDTH_DOTS as i32 - 2 * MARGIN;
    for line in text::wrap(s, inner, style) {
        let w = text::width(&line, style);
        text::draw(img, (WIDTH_DOTS as i32 - w) / 2, y, &line, style);
        y += style.line_height();
    }
    y
}

/// A QR code (EC level M) as a bitmap about `target` dots wide, with a 4-module quiet zone.
pub fn qr_bitmap(data: &str, target: u32) -> Result<Bitmap, ReceiptError> {
    let code = qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::M)
        .map_err(|_| ReceiptError::QrTooLong(data.len()))?;
    let n = code.width() as u32;
    let module = (target / (n + 8)).clamp(2, 8);
    let size = (n + 8) * module;
    let mut img = Bitmap::new(size, size);
    let colors = code.to_colors();
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (x, y) = ((i as u32 % n + 4) * module, (i as u32 / n + 4) * module);
            img.fill_rect(x as i32, y as i32, module, module);
        }
    }
    Ok(img)
}

/// A typical receipt (for tests, benchmarks and `zizhu receipt render` before results exist).
pub fn sample(service_zh: &str, service_en: &str, department: &str, id: &str) -> Receipt {
    Receipt::new()
        .title("粤智助 · 办事回执")
        .subtitle(service_zh)
        .subtitle(service_en)
        .separator()
        .field("办理事项", service_zh)
        .field("事项编码", id)
        .field("受理部门", department)
        .field("申请人", "陈㛃")
        .field("证件号码", crate::privacy::mask("44030419900101123X"))
        .field("受理编号", "ZZ-20260101-000123")
        .field("办理时间", "2026-01-01 10:30")
        .field("办理结果", "已受理，请留意短信通知")
        .separator()
        .text("请妥善保管本回执。可扫描下方二维码查询办理进度，或致电12345政务服务便民热线。")
        .qr(
            "https://example.invalid/track?no=ZZ-20260101-000123",
            Some("扫码查询办理进度".into()),
        )
        .footer("广东政务服务 · 自助终端")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_typical_receipt() {
        let r = sample(
            "居民身份证换领",
            "Renew resident ID card",
            "公安局",
            "GD-0001",
        );
        let img = r.render().unwrap();
        assert_eq!(img.width(), 576);
        assert!(
            img.height() > 600 && img.height() < 2000,
            "{}",
            img.height()
        );
        assert!(img.black_dots() > 10_000);
        let bytes = r.to_escpos(Mode::Raster).unwrap();
        assert_eq!(&bytes[..4], &[0x1B, 0x40, 0x1C, 0x26]);
        assert_eq!(&bytes[bytes.len() - 4..], &[0x1D, 0x56, 0x42, 0x00]);
    }

    #[test]
    fn qr_decodes_size() {
        let q = qr_bitmap("https://example.invalid/x", 240).unwrap();
        assert!(q.width() <= 240 && q.width() >= 100);
        assert!(qr_bitmap(&"x".repeat(5000), 240).is_err());
    }

    #[test]
    fn text_mode_uses_raster_only_for_unprintable_lines() {
        let r = Receipt::new()
            .field("姓名", "陈㛃")
            .field("事项", "社保查询")
            .qr("HELLO", None);
        let b = r.to_escpos(Mode::Text { native_qr: true }).unwrap();
        let count = |pat: &[u8]| b.windows(pat.len()).filter(|w| *w == pat).count();
        assert_eq!(
            count(&[0x1D, 0x76, 0x30]),
            1,
            "one raster line for the rare name"
        );
        assert_eq!(
            count(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]),
            1,
            "native QR"
        );
        let gb = escpos::gb18030("社保查询").unwrap();
        assert!(b.windows(gb.len()).any(|w| w == gb));
        let b = r.to_escpos(Mode::Text { native_qr: false }).unwrap();
        assert_eq!(b.windows(3).filter(|w| *w == [0x1D, 0x76, 0x30]).count(), 2);
    }
}
