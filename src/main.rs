//! The `zizhu` binary: parse the command line, set up logging, run, map the outcome to an exit code.
//! All the work lives in the library so tests reach it; see `zizhu::cli`.
fn main() -> std::process::ExitCode {
    zizhu::cli::main()
}
