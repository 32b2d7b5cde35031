//! Block maps: which blocks of a sparse image hold data, with a SHA-256 per range, in the XML
//! format of bmap-tools (version 2.x). A flash writes only the mapped ranges and checks each range
//! against its checksum, so a corrupt image is caught before the card is called good.
//!
//! [`Bmap::create`] maps an image from the holes the file system reports (`SEEK_DATA`/`SEEK_HOLE`),
//! as `bmaptool create` does; [`Bmap::parse`] reads either tool's output and checks the file's own
//! checksum.
use std::fmt::Write as _;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::path::Path;

use quick_xml::events::Event;
use sha2::{Digest, Sha256};

use super::{Error, Result};

/// One mapped range of blocks, inclusive, with the SHA-256 of its bytes (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    /// First block.
    pub first: u64,
    /// Last block (inclusive).
    pub last: u64,
    /// SHA-256 of the range's bytes, lowercase hex; `None` if the map had none.
    pub sha256: Option<String>,
}

/// A block map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bmap {
    /// Size of the image in bytes.
    pub image_size: u64,
    /// Block size in bytes.
    pub block_size: u64,
    /// Mapped ranges, sorted, not overlapping.
    pub ranges: Vec<Range>,
}

const ZEROS64: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

impl Bmap {
    /// Byte span `[start, end)` of a range, clipped to the image size.
    pub fn byte_span(&self, r: &Range) -> (u64, u64) {
        let start = r.first * self.block_size;
        let end = ((r.last + 1) * self.block_size).min(self.image_size);
        (start, end)
    }

    /// Bytes the ranges cover.
    pub fn mapped_bytes(&self) -> u64 {
        self.ranges
            .iter()
            .map(|r| {
                let (s, e) = self.byte_span(r);
                e - s
            })
            .sum()
    }

    /// Number of blocks the image spans.
    pub fn blocks_count(&self) -> u64 {
        self.image_size.div_ceil(self.block_size)
    }

    fn mapped_blocks(&self) -> u64 {
        self.ranges.iter().map(|r| r.last - r.first + 1).sum()
    }

    /// Parses a bmap file and checks its structure and its own checksum.
    pub fn parse(text: &str, path: &Path) -> Result<Bmap> {
        let bad = |reason: String| Error::BadBmap {
            path: path.to_path_buf(),
            reason,
        };
        let mut reader = quick_xml::Reader::from_str(text);
        reader.config_mut().trim_text(true);
        let mut version = None;
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut ranges = Vec::new();
        let mut current: Option<String> = None;
        let mut chksum: Option<String> = None;
        loop {
            let ev = reader
                .read_event()
                .map_err(|e| bad(format!("not valid XML: {e}")))?;
            match ev {
                Event::Start(e) => {
                    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    let attr = |key: &str| -> Result<Option<String>> {
                        match e.try_get_attribute(key) {
                            Ok(Some(a)) => Ok(Some(
                                String::from_utf8_lossy(a.value.as_ref()).trim().to_string(),
                            )),
                            Ok(None) => Ok(None),
                            Err(err) => Err(bad(format!("bad attribute: {err}"))),
                        }
                    };
                    if name == "bmap" {
                        version = attr("version")?;
                    }
                    if name == "Range" {
                        chksum = attr("chksum")?;
                    }
                    current = Some(name);
                }
                Event::Text(t) => {
                    let value = String::from_utf8_lossy(t.as_ref()).trim().to_string();
                    match current.as_deref() {
                        Some("Range") => {
                            let (a, b) = match value.split_once('-') {
                                Some((a, b)) => (a.trim(), b.trim()),
                                None => (value.as_str(), value.as_str()),
                            };
                            let (Ok(first), Ok(last)) = (a.parse::<u64>(), b.parse::<u64>()) else {
                                return Err(bad(format!("bad range {value:?}")));
                            };
                            if last < first {
                                return Err(bad(format!("range {value:?} ends before it starts")));
                            }
                            ranges.push(Range {
                                first,
                                last,
                                sha256: chksum.take().map(|c| c.to_ascii_lowercase()),
                            });
                        }
                        Some(name) => fields.push((name.to_string(), value)),
                        None => {}
                    }
                }
                Event::End(_) => current = None,
                Event::Eof => break,
                _ => {}
            }
        }
        let version = version.ok_or_else(|| bad("no <bmap version=…> element".into()))?;
        if !version.starts_with("2.") {
            return Err(bad(format!(
                "format version {version} is not supported (only 2.x, with SHA-256); make it again with bmaptool create or zizhu image bmap"
            )));
        }
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let num = |k: &str| -> Result<u64> {
            get(k)
                .ok_or_else(|| bad(format!("<{k}> is missing")))?
                .parse::<u64>()
                .map_err(|_| bad(format!("<{k}> is not a number")))
        };
        let image_size = num("ImageSize")?;
        let block_size = num("BlockSize")?;
        if block_size == 0 || !block_size.is_multiple_of(512) {
            return Err(bad(format!(
                "block size {block_size} is not a multiple of 512"
            )));
        }
        if get("ChecksumType") != Some("sha256") {
            return Err(bad("<ChecksumType> must be sha256".into()));
        }
        let file_sum = get("BmapFileChecksum")
            .ok_or_else(|| bad("<BmapFileChecksum> is missing".into()))?
            .to_ascii_lowercase();
        if file_sum.len() != 64 {
            return Err(bad("<BmapFileChecksum> is not a SHA-256".into()));
        }
        let zeroed = text.replacen(&file_sum, ZEROS64, 1);
        let zeroed = if zeroed == text {
            text.replacen(&file_sum.to_ascii_uppercase(), ZEROS64, 1)
        } else {
            zeroed
        };
        let got = sha256_hex(zeroed.as_bytes());
        if got != file_sum {
            return Err(bad(format!(
                "its own checksum does not match (expected {file_sum}, got {got}); it was damaged or edited"
            )));
        }
        let map = Bmap {
            image_size,
            block_size,
            ranges,
        };
        let blocks = map.blocks_count();
        let mut prev: Option<u64> = None;
        for r in &map.ranges {
            if r.last >= blocks {
                return Err(bad(format!(
                    "range {}-{} lies beyond the image",
                    r.first, r.last
                )));
            }
            if prev.is_some_and(|p| r.first <= p) {
                return Err(bad("ranges are not sorted or overlap".into()));
            }
            if r.sha256.as_ref().is_some_and(|c| c.len() != 64) {
                return Err(bad(format!(
                    "range {}-{} has a bad checksum",
                    r.first, r.last
                )));
            }
            prev = Some(r.last);
        }
        if let Ok(n) = num("BlocksCount") {
            if n != blocks {
                return Err(bad(format!(
                    "<BlocksCount> {n} does not match the image size"
                )));
            }
        }
        Ok(map)
    }

    /// Reads and parses a bmap file.
    pub fn load(path: &Path) -> Result<Bmap> {
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::NotFound(path.to_path_buf()),
            _ => Error::io("reading", path, e),
        })?;
        Bmap::parse(&text, path)
    }

    /// The XML text, with its own checksum filled in.
    pub fn to_xml(&self) -> String {
        let mut s = String::new();
        s.push_str("<?xml version=\"1.0\" ?>\n");
        s.push_str("<!-- Block map of a Zizhu kiosk image (bmap-tools format 2.0). -->\n");
        s.push_str("<bmap version=\"2.0\">\n");
        let _ = writeln!(s, "    <ImageSize> {} </ImageSize>", self.image_size);
        let _ = writeln!(s, "    <BlockSize> {} </BlockSize>", self.block_size);
        let _ = writeln!(
            s,
            "    <BlocksCount> {} </BlocksCount>",
            self.blocks_count()
        );
        let _ = writeln!(
            s,
            "    <MappedBlocksCount> {} </MappedBlocksCount>",
            self.mapped_blocks()
        );
        s.push_str("    <ChecksumType> sha256 </ChecksumType>\n");
        let _ = writeln!(s, "    <BmapFileChecksum> {ZEROS64} </BmapFileChecksum>");
        s.push_str("    <BlockMap>\n");
        for r in &self.ranges {
            let span = if r.first == r.last {
                r.first.to_string()
            } else {
                format!("{}-{}", r.first, r.last)
            };
            match &r.sha256 {
                Some(c) => {
                    let _ = writeln!(s, "        <Range chksum=\"{c}\"> {span} </Range>");
                }
                None => {
                    let _ = writeln!(s, "        <Range> {span} </Range>");
                }
            }
        }
        s.push_str("    </BlockMap>\n</bmap>\n");
        let sum = sha256_hex(s.as_bytes());
        s.replacen(ZEROS64, &sum, 1)
    }

    /// Maps the image at `path` from its holes and hashes each mapped range.
    pub fn create(path: &Path, block_size: u64) -> Result<Bmap> {
        let mut f = File::open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::NotFound(path.to_path_buf()),
            _ => Error::io("opening", path, e),
        })?;
        let size = f
            .metadata()
            .map_err(|e| Error::io("reading", path, e))?
            .len();
        let spans = data_spans(&f, size).map_err(|e| Error::io("mapping", path, e))?;
        // Round each span out to whole blocks and merge neighbours.
        let mut blocks: Vec<(u64, u64)> = Vec::new();
        for (s, e) in spans {
            let (first, last) = (s / block_size, (e - 1) / block_size);
            match blocks.last_mut() {
                Some(l) if first <= l.1 + 1 => l.1 = l.1.max(last),
                _ => blocks.push((first, last)),
            }
        }
        let mut map = Bmap {
            image_size: size,
            block_size,
            ranges: Vec::with_capacity(blocks.len()),
        };
        let mut buf = vec![0u8; 1 << 20];
        for (first, last) in blocks {
            let mut r = Range {
                first,
                last,
                sha256: None,
            };
            let (start, end) = map.byte_span(&r);
            f.seek(SeekFrom::Start(start))
                .map_err(|e| Error::io("reading", path, e))?;
            let mut h = Sha256::new();
            let mut left = end - start;
            while left > 0 {
                let n = left.min(buf.len() as u64) as usize;
                f.read_exact(&mut buf[..n])
                    .map_err(|e| Error::io("reading", path, e))?;
                h.update(&buf[..n]);
                left -= n as u64;
            }
            r.sha256 = Some(hex(&h.finalize()));
            map.ranges.push(r);
        }
        Ok(map)
    }
}

/// Byte spans holding data, from `SEEK_DATA`/`SEEK_HOLE`; the whole file where those are not
/// supported.
fn data_spans(f: &File, size: u64) -> std::io::Result<Vec<(u64, u64)>> {
    let fd = f.as_raw_fd();
    let mut spans = Vec::new();
    let mut pos: i64 = 0;
    let size = size as i64;
    while pos < size {
        // SAFETY: lseek on a valid open descriptor; only the offset is used.
        let data = unsafe { libc::lseek(fd, pos, libc::SEEK_DATA) };
        if data < 0 {
            let err = std::io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::ENXIO) => break,
                Some(libc::EINVAL) if pos == 0 => return Ok(vec![(0, size as u64)]),
                _ => return Err(err),
            }
        }
        // SAFETY: as above.
        let hole = unsafe { libc::lseek(fd, data, libc::SEEK_HOLE) };
        if hole < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let end = hole.min(size);
        if end > data {
            spans.push((data as u64, end as u64));
        }
        pos = hole;
    }
    Ok(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn create_parse_round_trip() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("img");
        let mut f = File::create(&p).unwrap();
        f.set_len(8 << 20).unwrap();
        f.seek(SeekFrom::Start(1 << 20)).unwrap();
        f.write_all(&[5u8; 10000]).unwrap();
        f.seek(SeekFrom::Start(6 << 20)).unwrap();
        f.write_all(&[9u8; 4096]).unwrap();
        drop(f);
        let map = Bmap::create(&p, 4096).unwrap();
        assert!(map.mapped_bytes() >= 14096);
        assert!(map.mapped_bytes() < 8 << 20, "holes were not found");
        let xml = map.to_xml();
        assert_eq!(Bmap::parse(&xml, &p).unwrap(), map);
        // Editing a range breaks the file checksum.
        let edited = xml.replacen("<Range", "<Range ", 1);
        let err = Bmap::parse(&edited, &p).unwrap_err().to_string();
        assert!(err.contains("own checksum"), "{err}");
    }

    #[test]
    fn old_versions_are_refused() {
        let err = Bmap::parse("<bmap version=\"1.4\"></bmap>", Path::new("m"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("1.4"), "{err}");
    }
}
