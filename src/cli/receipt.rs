//! `zizhu receipt render --item ID --out F.png|F.bin`: a sample receipt for a catalog service,
//! laid out as the printer would print it, saved as a picture or as ESC/POS bytes.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use zizhu_drivers::printer::receipt::{sample, Mode};

/// Subcommands of `zizhu receipt`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Render a sample receipt for a service to PNG (picture) or BIN (ESC/POS bytes).
    Render {
        /// Service id (see `zizhu catalog list`).
        #[arg(long)]
        item: String,
        /// Output file: .png or .bin.
        #[arg(long)]
        out: PathBuf,
        /// For .bin: `raster` (the whole receipt as an image, default) or `text` (printer font
        /// and native QR; raster only where the font lacks a character).
        #[arg(long, default_value = "raster")]
        mode: String,
    },
}

/// Runs `zizhu receipt`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let Command::Render { item, out, mode } = cmd;
    let catalog = crate::catalog::Catalog::builtin();
    let Some(service) = catalog.service(&item) else {
        return crate::error::usage(format!(
            "unknown service id {item:?}; list the valid ids with `zizhu catalog list`"
        ));
    };
    let mode = match mode.as_str() {
        "raster" => Mode::Raster,
        "text" => Mode::Text { native_qr: true },
        other => {
            return crate::error::usage(format!("unknown --mode {other:?}; use raster or text"))
        }
    };
    let receipt = sample(
        &service.zh,
        &service.en,
        &service.department_zh,
        &service.id,
    );
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let bytes = match ext.as_deref() {
        Some("png") => receipt.render()?.to_png()?,
        Some("bin") => receipt.to_escpos(mode)?,
        _ => {
            return crate::error::usage("--out must end in .png (picture) or .bin (ESC/POS bytes)")
        }
    };
    std::fs::write(&out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    eprintln!("wrote {} ({} bytes)", out.display(), bytes.len());
    Ok(ExitCode::SUCCESS)
}
