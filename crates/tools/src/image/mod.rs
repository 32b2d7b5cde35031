//! Technician tooling for kiosk OS images: reading partition tables, the FAT config partition,
//! per-kiosk provisioning (written on the workbench, consumed on first boot), block maps and
//! verified flashing of SD cards.
//!
//! The images themselves are built by the recipe in `images/` (mmdebstrap, sfdisk, mkfs.vfat,
//! `mke2fs -d`, no loop mounts). Everything here works on plain files: an `.img`, an `.img.xz`, a
//! block device or a regular file standing in for a card. Nothing is ever mounted.
//!
//! - [`table`]: MBR and GPT partition tables;
//! - [`fat`]: files on the image's first FAT partition (through the `fatfs` crate);
//! - [`provision`]: the provisioning file and the first-boot step that consumes it;
//! - [`bmap`]: block maps (bmaptool's v2 XML format) — read, write and create;
//! - [`target`]: which device a flash may write to (mounted, partition, system disk, size);
//! - [`flash`]: writing an image with progress, then reading it back and hashing it.
#[cfg(feature = "workbench")]
pub mod bmap;
#[cfg(feature = "workbench")]
pub mod fat;
#[cfg(feature = "workbench")]
pub mod flash;
pub mod provision;
#[cfg(feature = "workbench")]
pub mod table;
#[cfg(feature = "workbench")]
pub mod target;

use std::path::PathBuf;

/// Name of the provisioning file on the image's config (first FAT) partition.
pub const PROVISION_FILE: &str = "zizhu-provision.toml";
/// Name of the build-information file the recipe writes on the config partition.
pub const BUILD_INFO_FILE: &str = crate::maintenance::BUILD_INFO_NAME;

/// Everything that can go wrong with images, provisioning and flashing.
///
/// [`Error::is_usage`] tells which variants are the user's input (the command exits 2) and which
/// are failed operations (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file or device failed (permissions, a removed card, a full disk).
    /// Remedy: check the path, the card reader and the permissions (flashing needs root).
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done ("reading", "writing", …).
        what: &'static str,
        /// The file or device.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file or device named on the command line does not exist.
    /// Remedy: check the path (`lsblk` lists the cards).
    #[error("{0} does not exist; check the path (lsblk lists block devices)")]
    NotFound(PathBuf),
    /// The image has no valid MBR or GPT partition table, or a partition lies outside it — it is
    /// truncated or not a disk image. Remedy: download or build the image again and check its
    /// SHA256SUMS.
    #[error(
        "{path}: {reason}; the image is truncated or not a disk image — fetch or build it again"
    )]
    BadTable {
        /// The image.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The image has no FAT partition to hold the provisioning file.
    /// Remedy: use a Zizhu kiosk image (built by `images/build`).
    #[error("{0}: no FAT partition found; is this a Zizhu kiosk image (images/build)?")]
    NoFatPartition(PathBuf),
    /// The FAT file system could not be read or written (corrupt, or full).
    /// Remedy: check it with `images/verify`, or rebuild the image.
    #[error("FAT partition of {path}: {reason}; check it with images/verify or rebuild the image")]
    Fat {
        /// The image.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// A provisioning file or provisioning option is invalid (unknown key, missing token, bad
    /// URL…). Remedy: the message names the key; fix it and provision again.
    #[error("provisioning: {0}")]
    BadProvision(String),
    /// The image is already provisioned and `--force` was not given.
    /// Remedy: provision a fresh copy of the image, or pass `--force` to replace the file.
    #[error(
        "{0} is already provisioned; use a fresh copy of the image or pass --force to replace it"
    )]
    AlreadyProvisioned(PathBuf),
    /// A block map is malformed or its own checksum does not match.
    /// Remedy: use the `.bmap` published with the image, or flash without `--bmap`.
    #[error("block map {path}: {reason}; use the .bmap published with this image")]
    BadBmap {
        /// The block map file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The image data does not match its published checksum (bmap range or SHA256SUMS): it is
    /// corrupt. Remedy: download or copy the image again. The card is not usable.
    #[error("image {path} is corrupt: {what} checksum mismatch (expected {expected}, got {got}); copy the image again — the card is NOT usable")]
    ChecksumMismatch {
        /// The image.
        path: PathBuf,
        /// Which part (a bmap range, or the whole image).
        what: String,
        /// The published checksum.
        expected: String,
        /// The checksum of the data read.
        got: String,
    },
    /// The image ended before its declared size, or the `.xz` stream is broken.
    /// Remedy: download or copy the image again.
    #[error("image {path} is truncated or damaged: {reason}; copy the image again — the card is NOT usable")]
    Truncated {
        /// The image.
        path: PathBuf,
        /// What was found.
        reason: String,
    },
    /// What was read back from the card differs from what was written: the card or the reader is
    /// failing. Remedy: try another card or reader.
    #[error("read-back of {path} differs from the image at {what}; the card or card reader is faulty — try another card")]
    VerifyFailed {
        /// The device.
        path: PathBuf,
        /// Where the difference is.
        what: String,
    },
    /// The flash target is not acceptable (mounted, a partition, the running system, too small or
    /// too large). Remedy: the message says which and what to do.
    #[error("{path}: {reason}")]
    Refused {
        /// The device.
        path: PathBuf,
        /// Why it is refused and what to do.
        reason: String,
    },
}

impl Error {
    /// Whether this is the user's input (exit 2) rather than a failed operation (exit 1).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::NotFound(_)
                | Error::BadProvision(_)
                | Error::AlreadyProvisioned(_)
                | Error::Refused { .. }
                | Error::NoFatPartition(_)
        )
    }

    pub(crate) fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            what,
            path: path.into(),
            source,
        }
    }
}

/// Result alias of this module.
pub type Result<T> = std::result::Result<T, Error>;

/// Masks a secret for display: the first four characters, then how long it was. Tokens are never
/// printed or logged whole.
pub fn mask_secret(secret: &str) -> String {
    let n = secret.chars().count();
    if n <= 8 {
        return format!("****({n} chars)");
    }
    let head: String = secret.chars().take(4).collect();
    format!("{head}…({n} chars)")
}

/// Formats a byte count for people: `1.5 GiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Parses a size such as `128G`, `512M`, `4096` (bytes); suffixes are powers of 1024.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => {
            let unit = s[i..].to_ascii_uppercase();
            let mult: u64 = match unit.trim_end_matches("IB").trim_end_matches('B') {
                "" => 1,
                "K" => 1 << 10,
                "M" => 1 << 20,
                "G" => 1 << 30,
                "T" => 1 << 40,
                _ => return None,
            };
            (&s[..i], mult)
        }
        None => (s, 1),
    };
    num.trim().parse::<u64>().ok()?.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("128G"), Some(128 << 30));
        assert_eq!(parse_size("64MiB"), Some(64 << 20));
        assert_eq!(parse_size("1x"), None);
        assert_eq!(parse_size(""), None);
    }

    #[test]
    fn secrets_are_masked() {
        assert_eq!(mask_secret("abcdefghijklmnop"), "abcd…(16 chars)");
        assert_eq!(mask_secret("short"), "****(5 chars)");
        assert_eq!(human_bytes(1536 << 20), "1.5 GiB");
    }
}
