//! Rewrites the e-licence test vectors: `cargo run -p zizhu-testkit --bin gen-elicense-vectors --
//! tests/vectors/elicense`. Exit 2 without a folder, 1 when writing failed.
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(out), None) = (args.next(), args.next()) else {
        eprintln!(
            "usage: gen-elicense-vectors DIR   (the vectors' folder: tests/vectors/elicense)"
        );
        return ExitCode::from(2);
    };
    let out = std::path::PathBuf::from(out);
    match zizhu_testkit::elicense_vectors::generate(&out) {
        Ok(n) => {
            eprintln!("{n} vectors written to {}", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("writing the vectors to {}: {e}", out.display());
            ExitCode::FAILURE
        }
    }
}
