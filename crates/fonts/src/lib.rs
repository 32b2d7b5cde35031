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
    use std::path::Path;

    /// Every character of the text the kiosk shows every day: the UI's, the citizen-facing
    /// text table's and the catalog's.
    fn everyday_text() -> String {
        fn slint_files(dir: &Path, text: &mut String) {
            for e in std::fs::read_dir(dir).expect("ui/") {
                let p = e.expect("ui/ entry").path();
                if p.is_dir() {
                    slint_files(&p, text);
                } else if p.extension().is_some_and(|x| x == "slint") {
                    text.push_str(&std::fs::read_to_string(&p).expect("a .slint file"));
                }
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut text = String::new();
        slint_files(&root.join("ui"), &mut text);
        for f in ["crates/core/src/text.rs", "data/catalog.toml"] {
            text.push_str(&std::fs::read_to_string(root.join(f)).expect(f));
        }
        text
    }

    /// The glyphs of the everyday text sit together at the front of each font (order-glyphs.py),
    /// so drawing a screen touches a few hundred kilobytes of the embedded fonts, not most of
    /// their 4 MB each. Text added since the fonts were last ordered may fall behind, a little:
    /// run `crates/fonts/order` again when this fails.
    #[test]
    fn the_glyphs_of_the_everyday_text_come_first() {
        let text = everyday_text();
        let mut chars: Vec<char> = text.chars().filter(|c| !c.is_ascii()).collect();
        chars.sort_unstable();
        chars.dedup();
        for (name, data) in [
            ("Regular", super::NOTO_SANS_SC_REGULAR),
            ("Bold", &include_bytes!("../NotoSansSC-Bold-zizhu.otf")[..]),
        ] {
            let face = ttf_parser::Face::parse(data, 0).expect("an OpenType font");
            let front = face.number_of_glyphs() / 8;
            let ids: Vec<u16> = chars
                .iter()
                .filter_map(|c| face.glyph_index(*c))
                .map(|g| g.0)
                .collect();
            let behind = ids.iter().filter(|g| **g >= front).count();
            assert!(
                // Ordered, all of them are in front; unordered, nine in ten were behind. New text
                // may add a few behind before the next `order` run.
                ids.len() > 500 && behind * 5 < ids.len(),
                "{name}: {behind} of the {} characters the kiosk shows have glyphs behind the \
                 first {front}; reorder the fonts (crates/fonts/README.md, order-glyphs.py)",
                ids.len()
            );
        }
    }

    #[test]
    fn the_regular_subset_is_an_opentype_font_and_the_charset_has_the_common_hanzi() {
        assert_eq!(&super::NOTO_SANS_SC_REGULAR[..4], b"OTTO");
        assert!(super::CHARSET.contains('中') && super::CHARSET.contains('龑'));
    }
}
