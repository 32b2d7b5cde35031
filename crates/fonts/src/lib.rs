//! The kiosk's fonts, in one place (README.md here says what the subsets hold and how to
//! rebuild them):
//! - the Slint UI embeds both subsets: ui/build.rs gets this folder from the build metadata
//!   (`DEP_ZIZHU_FONTS_DIR`) and puts it on the Slint include path, where `ui/app.slint` finds them;
//! - the receipt printer rasterises characters its bitmap font lacks from
//!   [`NOTO_SANS_SC_REGULAR`];
//! - the pinyin input offers only characters of [`CHARSET`], the ones the fonts can draw.

/// Noto Sans SC Regular, the subset of [`CHARSET`] (OpenType/CFF).
pub static NOTO_SANS_SC_REGULAR: &[u8] = include_bytes!("../NotoSansSC-Regular-zizhu.otf");

/// The characters of the subsets (UTF-8 text; see README.md).
pub const CHARSET: &str = include_str!("../charset.txt");

#[cfg(test)]
mod tests {
    #[test]
    fn the_regular_subset_is_an_opentype_font_and_the_charset_has_the_common_hanzi() {
        assert_eq!(&super::NOTO_SANS_SC_REGULAR[..4], b"OTTO");
        assert!(super::CHARSET.contains('中') && super::CHARSET.contains('龑'));
    }
}
