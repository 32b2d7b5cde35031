//! Compiles the kiosk's Slint files. Debug builds (and so tests) carry element debug info,
//! which the testing backend's `ElementHandle` queries need; release builds stay lean.
fn main() {
    let debug = std::env::var("PROFILE").as_deref() == Ok("debug");
    let config = slint_build::CompilerConfiguration::new()
        .with_style("fluent-light".into())
        .with_debug_info(debug);
    slint_build::compile_with_config("app.slint", config).expect("compiling ui/app.slint");
}
