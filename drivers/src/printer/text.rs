//! Text for receipts: the WenQuanYi 16-dot GB2312 bitmap font (u8g2-fonts, works with
//! embedded-graphics) drawn at integer-ish scales, and, for characters it lacks (rare name
//! characters, CJK Ext-A), glyphs rasterised from the project's Noto Sans SC subset (`zizhu_fonts`, the same font the UI
//! draws with)
//! with ab_glyph, so every character on an ID card prints. Characters in neither are drawn as a
//! hollow box and counted.
use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, ScaleFont};
use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::*;
use u8g2_fonts::types::{FontColor, VerticalPosition};
use u8g2_fonts::FontRenderer;

use super::bitmap::{Bitmap, Scaled};

static WQY: FontRenderer = FontRenderer::new::<u8g2_fonts::fonts::u8g2_font_wqy16_t_gb2312>();
/// Logical size of the bitmap font.
const BASE: i32 = 16;
/// Logical ascent used to put the baseline (the WQY glyphs sit on y = 13 of 16).
const ASCENT: i32 = 13;

static NOTO: OnceLock<Option<FontRef<'static>>> = OnceLock::new();

fn noto() -> Option<&'static FontRef<'static>> {
    NOTO.get_or_init(|| FontRef::try_from_slice(zizhu_fonts::NOTO_SANS_SC_REGULAR).ok())
        .as_ref()
}

/// How text is drawn: a scale of the 16-dot font and bold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Scale numerator (the character height is 16 × num / den dots).
    pub num: i32,
    /// Scale denominator.
    pub den: i32,
    /// Draw strokes one dot wider.
    pub bold: bool,
}

impl Style {
    /// 16 dots (footers).
    pub const SMALL: Style = Style {
        num: 1,
        den: 1,
        bold: false,
    };
    /// 24 dots: the printer's native Chinese size, for body text.
    pub const BODY: Style = Style {
        num: 3,
        den: 2,
        bold: false,
    };
    /// 24 dots, bold (keys).
    pub const BODY_BOLD: Style = Style {
        num: 3,
        den: 2,
        bold: true,
    };
    /// 32 dots, bold (titles).
    pub const TITLE: Style = Style {
        num: 2,
        den: 1,
        bold: true,
    };

    /// Character height in dots.
    pub fn px(self) -> i32 {
        BASE * self.num / self.den
    }
    /// Line advance in dots (character height plus a third for leading).
    pub fn line_height(self) -> i32 {
        self.px() + self.px() / 3
    }
}

/// Where a glyph came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The WQY bitmap font.
    Bitmap,
    /// Noto Sans SC, rasterised.
    Outline,
    /// Neither: a hollow box.
    Missing,
}

/// Which font draws `ch`.
pub fn source(ch: char) -> Source {
    if WQY
        .get_rendered_dimensions(ch, Point::zero(), VerticalPosition::Baseline)
        .is_ok()
    {
        Source::Bitmap
    } else if noto().is_some_and(|f| f.glyph_id(ch).0 != 0) {
        Source::Outline
    } else {
        Source::Missing
    }
}

/// Advance of `ch` in dots.
pub fn advance(ch: char, style: Style) -> i32 {
    if ch == ' ' {
        return style.px() / 3;
    }
    if let Ok(d) = WQY.get_rendered_dimensions(ch, Point::zero(), VerticalPosition::Baseline) {
        return d.advance.x * style.num / style.den + i32::from(style.bold);
    }
    if let Some(f) = noto() {
        let id = f.glyph_id(ch);
        if id.0 != 0 {
            return f.as_scaled(style.px() as f32).h_advance(id).round() as i32;
        }
    }
    style.px()
}

/// Width of `s` in dots.
pub fn width(s: &str, style: Style) -> i32 {
    s.chars().map(|c| advance(c, style)).sum()
}

/// Breaks `s` into lines no wider than `max` dots (breaking anywhere: Chinese has no spaces;
/// explicit newlines are kept).
pub fn wrap(s: &str, max: i32, style: Style) -> Vec<String> {
    let mut lines = Vec::new();
    for para in s.split('\n') {
        let mut line = String::new();
        let mut w = 0;
        for ch in para.chars() {
            let a = advance(ch, style);
            if w + a > max && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                w = 0;
            }
            line.push(ch);
            w += a;
        }
        lines.push(line);
    }
    lines
}

/// Draws one line with its top-left at (x, y); returns the number of characters drawn as a
/// hollow box (in neither font).
pub fn draw(img: &mut Bitmap, x: i32, y: i32, s: &str, style: Style) -> usize {
    let mut pen = x;
    let mut missing = 0;
    for ch in s.chars() {
        let a = advance(ch, style);
        if ch != ' ' {
            match source(ch) {
                Source::Bitmap => {
                    let mut t = Scaled {
                        origin: Point::new(pen, y),
                        num: style.num,
                        den: style.den,
                        embolden: i32::from(style.bold),
                        target: img,
                    };
                    let _ = WQY.render(
                        ch,
                        Point::new(0, ASCENT),
                        VerticalPosition::Baseline,
                        FontColor::Transparent(BinaryColor::On),
                        &mut t,
                    );
                }
                Source::Outline => draw_outline(img, pen, y, ch, style),
                Source::Missing => {
                    missing += 1;
                    let p = style.px();
                    img.fill_rect(pen + 1, y + 1, (p - 2) as u32, 1);
                    img.fill_rect(pen + 1, y + p - 2, (p - 2) as u32, 1);
                    img.fill_rect(pen + 1, y + 1, 1, (p - 2) as u32);
                    img.fill_rect(pen + p - 2, y + 1, 1, (p - 2) as u32);
                }
            }
        }
        pen += a;
    }
    missing
}

fn draw_outline(img: &mut Bitmap, x: i32, y: i32, ch: char, style: Style) {
    let Some(font) = noto() else { return };
    // Noto's ink is smaller than its em box; 1.12 matches the WQY glyphs' visual size.
    let px = style.px() as f32 * 1.12;
    let baseline = y as f32 + (ASCENT * style.num / style.den) as f32;
    let glyph = font
        .glyph_id(ch)
        .with_scale_and_position(px, ab_glyph::point(x as f32, baseline));
    if let Some(outlined) = font.outline_glyph(glyph) {
        let bb = outlined.px_bounds();
        let threshold = if style.bold { 0.3 } else { 0.5 };
        outlined.draw(|gx, gy, c| {
            if c > threshold {
                let (tx, ty) = (bb.min.x as i32 + gx as i32, bb.min.y as i32 + gy as i32);
                if tx >= 0 && ty >= 0 {
                    img.set(tx as u32, ty as u32, true);
                    if style.bold {
                        img.set(tx as u32 + 1, ty as u32, true);
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        assert_eq!(source('中'), Source::Bitmap);
        assert_eq!(source('A'), Source::Bitmap);
        assert_eq!(source('㛃'), Source::Outline);
        assert_eq!(source('\u{E000}'), Source::Missing);
    }

    #[test]
    fn rare_characters_are_drawn() {
        let mut img = Bitmap::new(100, 40);
        assert_eq!(draw(&mut img, 0, 0, "㛃", Style::BODY), 0);
        assert!(img.black_dots() > 20);
    }

    #[test]
    fn wraps_to_width() {
        let s = "广东省广州市天河区体育西路一号广东省广州市天河区体育西路一号";
        let lines = wrap(s, 240, Style::BODY);
        assert!(lines.len() >= 3);
        assert!(lines.iter().all(|l| width(l, Style::BODY) <= 240));
        assert_eq!(lines.concat(), s);
    }
}
