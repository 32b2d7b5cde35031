//! Publishes this crate's folder, where the font files are, to the build scripts of the crates
//! that depend on it (`DEP_ZIZHU_FONTS_DIR`): ui/build.rs hands it to the Slint compiler.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo::metadata=dir={dir}");
    println!("cargo::rerun-if-changed=build.rs");
}
