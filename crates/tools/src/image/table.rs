//! Partition tables of disk images: MBR (DOS) and GPT, read from any seekable byte source.
//!
//! Only what the technician tools need: where each partition starts, how large it is, what type
//! it is, and whether it lies inside the image. Sectors are 512 bytes, as on SD cards.
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use serde::Serialize;

use super::{Error, Result};

/// Bytes per sector of every image and card we handle.
pub const SECTOR: u64 = 512;

/// Kind of partition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TableKind {
    /// DOS/MBR table (up to four primary partitions).
    Mbr,
    /// GUID partition table.
    Gpt,
}

/// One partition.
#[derive(Debug, Clone, Serialize)]
pub struct Partition {
    /// Partition number as Linux counts it (1-based).
    pub number: u32,
    /// First byte.
    pub start: u64,
    /// Length in bytes.
    pub size: u64,
    /// Type: an MBR type byte as `0x0c`, or a GPT type GUID.
    pub type_id: String,
    /// Human name of the type (`FAT32 (LBA)`, `Linux filesystem`, …).
    pub type_name: &'static str,
    /// GPT partition name (empty on MBR).
    pub name: String,
    /// Whether the type says FAT.
    pub is_fat: bool,
}

/// A partition table.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// MBR or GPT.
    pub kind: TableKind,
    /// Disk identifier: MBR disk signature as `0x…`, or the GPT disk GUID.
    pub disk_id: String,
    /// The partitions in table order.
    pub partitions: Vec<Partition>,
}

impl Table {
    /// The first FAT partition: the config partition of a Zizhu image.
    pub fn first_fat(&self) -> Option<&Partition> {
        self.partitions.iter().find(|p| p.is_fat)
    }
}

const GPT_BASIC_DATA: &str = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7";
const GPT_ESP: &str = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
const GPT_LINUX: &str = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
const GPT_LINUX_ROOT_X86_64: &str = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709";
const GPT_LINUX_ROOT_ARM64: &str = "B921B045-1DF0-41C3-AF44-4C6F280D3FAE";

fn mbr_type_name(t: u8) -> (&'static str, bool) {
    match t {
        0x01 => ("FAT12", true),
        0x04 | 0x06 => ("FAT16", true),
        0x0b => ("FAT32", true),
        0x0c => ("FAT32 (LBA)", true),
        0x0e => ("FAT16 (LBA)", true),
        0xef => ("EFI system", true),
        0x05 | 0x0f => ("extended", false),
        0x82 => ("Linux swap", false),
        0x83 => ("Linux", false),
        0xee => ("GPT protective", false),
        _ => ("unknown", false),
    }
}

fn gpt_type_name(guid: &str) -> (&'static str, bool) {
    match guid {
        GPT_BASIC_DATA => ("Microsoft basic data (FAT)", true),
        GPT_ESP => ("EFI system", true),
        GPT_LINUX => ("Linux filesystem", false),
        GPT_LINUX_ROOT_X86_64 => ("Linux root (x86-64)", false),
        GPT_LINUX_ROOT_ARM64 => ("Linux root (ARM-64)", false),
        _ => ("unknown", false),
    }
}

/// Formats a GPT GUID (mixed-endian on disk) as text.
fn guid(b: &[u8]) -> String {
    format!(
        "{:02X}{:02X}{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}",
        b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
    )
}

fn u32le(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn u64le(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Reads the partition table of `src`, whose total length is `len` bytes. `path` only names the
/// source in errors. Every partition must lie inside the first `len` bytes.
pub fn read<R: Read + Seek>(src: &mut R, len: u64, path: &Path) -> Result<Table> {
    let bad = |reason: String| Error::BadTable {
        path: path.to_path_buf(),
        reason,
    };
    let io = |e| Error::io("reading", path, e);
    if len < 2 * SECTOR {
        return Err(bad(format!("only {len} bytes long")));
    }
    let mut mbr = [0u8; 512];
    src.seek(SeekFrom::Start(0)).map_err(io)?;
    src.read_exact(&mut mbr).map_err(io)?;
    if mbr.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        return Err(Error::Refused {
            path: path.to_path_buf(),
            reason: "is xz-compressed; decompress it first (xz -dk FILE), or flash it and work on the card".into(),
        });
    }
    if mbr[510] != 0x55 || mbr[511] != 0xaa {
        return Err(bad("no partition table (no 55 AA boot signature)".into()));
    }
    let entries: Vec<&[u8]> = (0..4).map(|i| &mbr[446 + 16 * i..462 + 16 * i]).collect();
    let table = if entries.iter().any(|e| e[4] == 0xee) {
        read_gpt(src, len, path)?
    } else {
        let mut partitions = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let t = e[4];
            let (lba, count) = (u32le(e, 8) as u64, u32le(e, 12) as u64);
            if t == 0 || count == 0 {
                continue;
            }
            let (type_name, is_fat) = mbr_type_name(t);
            partitions.push(Partition {
                number: i as u32 + 1,
                start: lba * SECTOR,
                size: count * SECTOR,
                type_id: format!("0x{t:02x}"),
                type_name,
                name: String::new(),
                is_fat,
            });
        }
        Table {
            kind: TableKind::Mbr,
            disk_id: format!("0x{:08x}", u32le(&mbr, 440)),
            partitions,
        }
    };
    if table.partitions.is_empty() {
        return Err(bad("the partition table is empty".into()));
    }
    for p in &table.partitions {
        if p.start.saturating_add(p.size) > len {
            return Err(bad(format!(
                "partition {} ends at byte {} but the image has only {len} bytes",
                p.number,
                p.start.saturating_add(p.size)
            )));
        }
    }
    Ok(table)
}

fn read_gpt<R: Read + Seek>(src: &mut R, len: u64, path: &Path) -> Result<Table> {
    let bad = |reason: String| Error::BadTable {
        path: path.to_path_buf(),
        reason,
    };
    let io = |e| Error::io("reading", path, e);
    let mut hdr = [0u8; 512];
    src.seek(SeekFrom::Start(SECTOR)).map_err(io)?;
    src.read_exact(&mut hdr).map_err(io)?;
    if &hdr[0..8] != b"EFI PART" {
        return Err(bad("protective MBR but no GPT header".into()));
    }
    let entries_lba = u64le(&hdr, 72);
    let count = u32le(&hdr, 80) as u64;
    let entry_size = u32le(&hdr, 84) as u64;
    if !(128..=4096).contains(&entry_size) || count > 1024 {
        return Err(bad(format!(
            "implausible GPT header ({count} entries of {entry_size} bytes)"
        )));
    }
    let bytes = count * entry_size;
    if entries_lba.saturating_mul(SECTOR).saturating_add(bytes) > len {
        return Err(bad("the GPT entry array lies beyond the end".into()));
    }
    let mut arr = vec![0u8; bytes as usize];
    src.seek(SeekFrom::Start(entries_lba * SECTOR))
        .map_err(io)?;
    src.read_exact(&mut arr).map_err(io)?;
    let mut partitions = Vec::new();
    for i in 0..count as usize {
        let e = &arr[i * entry_size as usize..(i + 1) * entry_size as usize];
        if e[0..16].iter().all(|&b| b == 0) {
            continue;
        }
        let type_id = guid(&e[0..16]);
        let (first, last) = (u64le(e, 32), u64le(e, 40));
        if last < first {
            return Err(bad(format!("partition {} ends before it starts", i + 1)));
        }
        let name_units: Vec<u16> = e[56..128]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .take_while(|&u| u != 0)
            .collect();
        let (type_name, is_fat) = gpt_type_name(&type_id);
        partitions.push(Partition {
            number: i as u32 + 1,
            start: first * SECTOR,
            size: (last - first + 1) * SECTOR,
            type_id,
            type_name,
            name: String::from_utf16_lossy(&name_units),
            is_fat,
        });
    }
    Ok(Table {
        kind: TableKind::Gpt,
        disk_id: guid(&hdr[56..72]),
        partitions,
    })
}

/// Reads the partition table of the image or device at `path`.
pub fn read_path(path: &Path) -> Result<Table> {
    let mut f = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::NotFound(path.to_path_buf()),
        _ => Error::io("opening", path, e),
    })?;
    let len = f
        .seek(SeekFrom::End(0))
        .map_err(|e| Error::io("reading", path, e))?;
    read(&mut f, len, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn mbr_image() -> Vec<u8> {
        let mut img = vec![0u8; 4 << 20];
        img[510] = 0x55;
        img[511] = 0xaa;
        img[440..444].copy_from_slice(&0xdeadbeefu32.to_le_bytes());
        let e = &mut img[446..462];
        e[4] = 0x0c;
        e[8..12].copy_from_slice(&2048u32.to_le_bytes());
        e[12..16].copy_from_slice(&2048u32.to_le_bytes());
        img
    }

    #[test]
    fn reads_mbr() {
        let img = mbr_image();
        let len = img.len() as u64;
        let t = read(&mut Cursor::new(img), len, Path::new("x")).unwrap();
        assert_eq!(t.kind, TableKind::Mbr);
        assert_eq!(t.disk_id, "0xdeadbeef");
        let p = t.first_fat().unwrap();
        assert_eq!((p.start, p.size), (1 << 20, 1 << 20));
    }

    #[test]
    fn truncated_image_is_rejected() {
        let mut img = mbr_image();
        img.truncate(3 << 19);
        let len = img.len() as u64;
        let err = read(&mut Cursor::new(img), len, Path::new("x")).unwrap_err();
        assert!(err.to_string().contains("ends at byte"), "{err}");
    }

    #[test]
    fn no_signature_is_rejected() {
        let img = vec![0u8; 4096];
        let err = read(&mut Cursor::new(img), 4096, Path::new("x")).unwrap_err();
        assert!(matches!(err, Error::BadTable { .. }));
    }

    #[test]
    fn compressed_image_is_named() {
        let mut img = vec![0u8; 4096];
        img[..6].copy_from_slice(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]);
        let err = read(&mut Cursor::new(img), 4096, Path::new("x")).unwrap_err();
        assert!(
            err.is_usage() && err.to_string().contains("xz -dk"),
            "{err}"
        );
    }

    #[test]
    fn guid_is_mixed_endian() {
        let b = [
            0xa2, 0xa0, 0xd0, 0xeb, 0xe5, 0xb9, 0x33, 0x44, 0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26,
            0x99, 0xc7,
        ];
        assert_eq!(guid(&b), GPT_BASIC_DATA);
    }
}
