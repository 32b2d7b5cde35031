//! Flashing: write an image (`.img` or `.img.xz`) to an SD card or a file standing in for one,
//! then read it back and compare hashes.
//!
//! With a block map only the mapped ranges are written, each checked against its SHA-256 as it
//! passes; without one the whole image is written and, when a checksum is known (`--sha256`, or a
//! `SHA256SUMS` beside the image), the whole stream is checked. `--sha256` is checked with a block
//! map too (the skipped ranges are read and hashed, not written). What the file is (xz or a raw
//! disk image) is told by its first bytes, never by its name; anything else is refused before a
//! byte is written. When anything fails after the
//! first byte was written, the first MiB of the target is zeroed so a half-written card can never
//! boot, and the error says the card is not usable.
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::bmap::{hex, Bmap};
use super::target::{self, Kind, System, Target};
use super::{Error, Result};

const CHUNK: usize = 1 << 20;
const XZ_MAGIC: [u8; 6] = [0xfd, b'7', b'z', b'X', b'Z', 0x00];

/// Which block map to use.
#[derive(Debug, Clone)]
pub enum BmapChoice {
    /// `IMAGE.bmap` (or, for `X.img.xz`, `X.img.bmap`) when it exists.
    Auto,
    /// This file.
    File(PathBuf),
    /// None: write every byte.
    Off,
}

/// What to flash where.
#[derive(Debug, Clone)]
pub struct Options {
    /// The image (`.img` or xz-compressed).
    pub image: PathBuf,
    /// The card (whole block device) or a regular file.
    pub device: PathBuf,
    /// Which block map.
    pub bmap: BmapChoice,
    /// Expected SHA-256 of the uncompressed image (instead of looking in `SHA256SUMS`).
    pub sha256: Option<String>,
    /// Largest device accepted without `force`.
    pub max_size: u64,
    /// Accept a device larger than `max_size`.
    pub force: bool,
}

/// How the image's integrity is checked.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Integrity {
    /// Per-range SHA-256 from the block map.
    Bmap,
    /// SHA-256 of the whole uncompressed image.
    Image(String),
    /// SHA-256 of the compressed file.
    Compressed(String),
    /// Nothing known: only the read-back is compared.
    None,
}

/// A checked plan: everything is known to be acceptable before anything is written.
#[derive(Debug)]
pub struct Plan {
    /// The options it came from.
    pub opts: Options,
    /// The target after its checks.
    pub target: Target,
    /// Whether the image is xz-compressed.
    pub compressed: bool,
    /// Uncompressed image size, when known before writing.
    pub image_size: Option<u64>,
    /// The block map in use and where it came from.
    pub bmap: Option<(PathBuf, Bmap)>,
    /// How integrity is checked.
    pub integrity: Integrity,
}

/// What a flash did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The image.
    pub image: PathBuf,
    /// The target.
    pub device: PathBuf,
    /// Uncompressed image size.
    pub image_size: u64,
    /// Bytes written to the target.
    pub bytes_written: u64,
    /// Bytes of the image not written thanks to the block map.
    pub bytes_skipped: u64,
    /// Block map used, if any.
    pub bmap: Option<PathBuf>,
    /// How the image was checked.
    pub integrity: Integrity,
    /// Read back and compared (always true in a report: a mismatch is an error).
    pub verified: bool,
    /// Seconds spent writing.
    pub write_seconds: f64,
    /// Seconds spent reading back.
    pub verify_seconds: f64,
}

fn open_image(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::NotFound(path.to_path_buf()),
        _ => Error::io("opening", path, e),
    })
}

/// Reads up to `buf.len()` bytes from the start of `r`; fewer only at its end.
fn read_head(r: &mut impl Read, buf: &mut [u8], path: &Path) -> Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(Error::Truncated {
                    path: path.to_path_buf(),
                    reason: format!("reading its first bytes: {e}"),
                })
            }
        }
    }
    Ok(got)
}

/// Containers recognised by their first bytes but not flashed.
const OTHER_CONTAINERS: [(&[u8], &str); 5] = [
    (&[0x1f, 0x8b], "gzip"),
    (&[0x28, 0xb5, 0x2f, 0xfd], "zstd"),
    (b"BZh", "bzip2"),
    (b"PK\x03\x04", "zip"),
    (&[0x04, 0x22, 0x4d, 0x18], "lz4"),
];

/// What the image file is, from its magic bytes (never from its name): `Ok(true)` for xz,
/// `Ok(false)` for a raw disk image. Anything else (another compressor, an HTML page, a text
/// file, an empty file) is refused before a byte is written: a disk image starts with a
/// partition table (MBR or GPT's protective MBR: `55 AA` at byte 510), and an xz image must
/// decompress to one.
fn container(path: &Path) -> Result<bool> {
    let mut f = open_image(path)?;
    let mut head = [0u8; 512];
    let got = read_head(&mut f, &mut head, path)?;
    let refuse = |what: String| Error::Refused {
        path: path.to_path_buf(),
        reason: format!(
            "is not a disk image ({what}); give the .img or .img.xz file of a Zizhu image"
        ),
    };
    let compressed = got >= XZ_MAGIC.len() && head[..XZ_MAGIC.len()] == XZ_MAGIC;
    if !compressed {
        if let Some((_, name)) = OTHER_CONTAINERS
            .iter()
            .find(|(m, _)| head[..got].starts_with(m))
        {
            return Err(refuse(format!(
                "it is {name}-compressed; only xz is read, or decompress it first"
            )));
        }
    } else {
        drop(f);
        let mut dec =
            liblzma::read::XzDecoder::new_multi_decoder(BufReader::new(open_image(path)?));
        head = [0u8; 512];
        let n = read_head(&mut dec, &mut head, path)?;
        if n < 512 || head[510..512] != [0x55, 0xaa] {
            return Err(refuse(
                "it is xz-compressed but holds no partition table".into(),
            ));
        }
        return Ok(true);
    }
    if got < 512 || head[510..512] != [0x55, 0xaa] {
        let looks = if head[..got].iter().take(64).all(|b| b.is_ascii()) && got > 0 {
            "it starts like text, perhaps a web page saved instead of the download"
        } else {
            "it has no partition table"
        };
        return Err(refuse(looks.into()));
    }
    Ok(false)
}

/// The image's name without `.xz`.
fn plain_name(image: &Path) -> String {
    let name = image
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.strip_suffix(".xz").map(str::to_string).unwrap_or(name)
}

fn find_bmap(image: &Path) -> Option<PathBuf> {
    let dir = image.parent().unwrap_or(Path::new("."));
    let name = image.file_name()?.to_string_lossy().into_owned();
    [
        format!("{name}.bmap"),
        format!("{}.bmap", plain_name(image)),
    ]
    .into_iter()
    .map(|n| dir.join(n))
    .find(|p| p.is_file())
}

/// Looks the image up in a `SHA256SUMS` beside it.
fn sums_lookup(image: &Path) -> Option<Integrity> {
    let dir = image.parent().unwrap_or(Path::new("."));
    let text = std::fs::read_to_string(dir.join("SHA256SUMS")).ok()?;
    let name = image.file_name()?.to_string_lossy().into_owned();
    let plain = plain_name(image);
    let mut compressed = None;
    for line in text.lines() {
        let Some((sum, file)) = line.split_once(char::is_whitespace) else {
            continue;
        };
        let file = file.trim_start().trim_start_matches('*');
        let sum = sum.to_ascii_lowercase();
        if file == plain {
            return Some(Integrity::Image(sum));
        }
        if file == name && name != plain {
            compressed = Some(Integrity::Compressed(sum));
        }
    }
    compressed
}

/// Checks everything that can be checked before writing: the image, its block map and checksum,
/// the target and whether the image fits.
pub fn plan(opts: Options, sys: &System) -> Result<Plan> {
    let compressed = container(&opts.image)?;
    let file_len = open_image(&opts.image)?
        .metadata()
        .map_err(|e| Error::io("reading", &opts.image, e))?
        .len();
    let bmap = match &opts.bmap {
        BmapChoice::Off => None,
        BmapChoice::File(p) => Some((p.clone(), Bmap::load(p)?)),
        BmapChoice::Auto => match find_bmap(&opts.image) {
            Some(p) => {
                let m = Bmap::load(&p)?;
                Some((p, m))
            }
            None => None,
        },
    };
    let image_size = match (&bmap, compressed) {
        (_, false) => Some(file_len),
        (Some((_, m)), true) => Some(m.image_size),
        (None, true) => None,
    };
    if let (Some((p, m)), false) = (&bmap, compressed) {
        if m.image_size != file_len {
            return Err(Error::Truncated {
                path: opts.image.clone(),
                reason: format!(
                    "it has {file_len} bytes but its block map {} says {}",
                    p.display(),
                    m.image_size
                ),
            });
        }
    }
    // A checksum given on the command line is always checked, block map or not: the block map
    // vouches for the mapped ranges only, `--sha256` for every byte of the image.
    let given = match &opts.sha256 {
        None => None,
        Some(s) => {
            let s = s.trim().to_ascii_lowercase();
            if s.len() != 64 || !s.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(Error::Refused {
                    path: opts.image.clone(),
                    reason:
                        "--sha256 must be 64 hex digits (the SHA-256 of the uncompressed image)"
                            .into(),
                });
            }
            Some(s)
        }
    };
    let integrity = if let Some(s) = given {
        Integrity::Image(s)
    } else if bmap
        .as_ref()
        .is_some_and(|(_, m)| m.ranges.iter().all(|r| r.sha256.is_some()))
    {
        Integrity::Bmap
    } else {
        sums_lookup(&opts.image).unwrap_or(Integrity::None)
    };
    let target = target::check(&opts.device, sys, opts.max_size, opts.force)?;
    if let Some(size) = image_size {
        if size > target.capacity {
            return Err(Error::Refused {
                path: opts.device.clone(),
                reason: format!(
                    "is too small: {} but the image needs {}; use a larger card",
                    super::human_bytes(target.capacity),
                    super::human_bytes(size)
                ),
            });
        }
    }
    let same = std::fs::canonicalize(&opts.image).ok() == std::fs::canonicalize(&opts.device).ok();
    if same {
        return Err(Error::Refused {
            path: opts.device.clone(),
            reason: "is the image itself; name the card".into(),
        });
    }
    Ok(Plan {
        opts,
        target,
        compressed,
        image_size,
        bmap,
        integrity,
    })
}

/// The image as a byte stream that can move forward.
struct Stream {
    path: PathBuf,
    inner: StreamKind,
    pos: u64,
    /// SHA-256 of every uncompressed byte read, skipped ones included (when the whole image's
    /// checksum is to be checked).
    whole: Option<Sha256>,
}

enum StreamKind {
    Plain(File),
    Xz(Box<liblzma::read::XzDecoder<HashingReader<BufReader<File>>>>),
}

/// Hashes the compressed bytes as the decoder pulls them.
struct HashingReader<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

impl Stream {
    fn open(path: &Path, compressed: bool, hash_whole: bool) -> Result<Stream> {
        let f = open_image(path)?;
        let inner = if compressed {
            let hr = HashingReader {
                inner: BufReader::with_capacity(CHUNK, f),
                hash: Sha256::new(),
            };
            StreamKind::Xz(Box::new(liblzma::read::XzDecoder::new_multi_decoder(hr)))
        } else {
            StreamKind::Plain(f)
        };
        Ok(Stream {
            path: path.to_path_buf(),
            inner,
            pos: 0,
            whole: hash_whole.then(Sha256::new),
        })
    }

    fn truncated(&self, reason: String) -> Error {
        Error::Truncated {
            path: self.path.clone(),
            reason,
        }
    }

    /// Reads up to `buf.len()` bytes; fewer only at the end of the image.
    fn read_full(&mut self, buf: &mut [u8]) -> Result<usize> {
        let mut got = 0;
        while got < buf.len() {
            let r = match &mut self.inner {
                StreamKind::Plain(f) => f.read(&mut buf[got..]),
                StreamKind::Xz(d) => d.read(&mut buf[got..]),
            };
            match r {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(self.truncated(format!("reading at byte {}: {e}", self.pos)));
                }
            }
        }
        if let Some(h) = &mut self.whole {
            h.update(&buf[..got]);
        }
        self.pos += got as u64;
        Ok(got)
    }

    fn skip_to(&mut self, to: u64, scratch: &mut [u8]) -> Result<()> {
        if let (StreamKind::Plain(f), None) = (&mut self.inner, &self.whole) {
            f.seek(SeekFrom::Start(to))
                .map_err(|e| Error::io("reading", &self.path, e))?;
            self.pos = to;
            return Ok(());
        }
        while self.pos < to {
            let n = ((to - self.pos) as usize).min(scratch.len());
            if self.read_full(&mut scratch[..n])? < n {
                return Err(self.truncated(format!("the data ends at byte {}", self.pos)));
            }
        }
        Ok(())
    }

    /// Reads to the end (so the compressed and whole hashes are complete); returns the
    /// compressed SHA-256.
    fn finish(&mut self, scratch: &mut [u8]) -> Result<Option<String>> {
        if matches!(self.inner, StreamKind::Plain(_)) && self.whole.is_none() {
            return Ok(None);
        }
        while self.read_full(scratch)? > 0 {}
        match &mut self.inner {
            StreamKind::Xz(d) => {
                let h = std::mem::take(&mut d.get_mut().hash);
                Ok(Some(hex(&h.finalize())))
            }
            StreamKind::Plain(_) => Ok(None),
        }
    }
}

fn progress_bar(total: Option<u64>, show: bool, msg: &'static str) -> ProgressBar {
    let target = if show {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let pb = ProgressBar::with_draw_target(total, target);
    let style = if total.is_some() {
        ProgressStyle::with_template(
            "{msg:9} [{bar:36}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
        )
    } else {
        ProgressStyle::with_template("{msg:9} {spinner} {bytes} {binary_bytes_per_sec}")
    };
    if let Ok(s) = style {
        pb.set_style(s.progress_chars("=> "));
    }
    pb.set_message(msg);
    pb.enable_steady_tick(Duration::from_millis(200));
    pb
}

struct Written {
    start: u64,
    end: u64,
    sha256: String,
}

fn open_target(t: &Target) -> Result<File> {
    let mut o = OpenOptions::new();
    o.read(true).write(true);
    if t.kind == Kind::Block {
        // O_EXCL on a block device: the kernel refuses if anything has it mounted or claimed.
        o.custom_flags(libc::O_EXCL);
    }
    o.open(&t.path).map_err(|e| match e.raw_os_error() {
        Some(libc::EBUSY) => Error::Refused {
            path: t.path.clone(),
            reason: "is busy (mounted or in use); unmount it and try again".into(),
        },
        _ => Error::io("opening for writing", &t.path, e),
    })
}

/// Zeroes the first MiB of the target so a half-written card never boots.
fn spoil(dev: &File, path: &Path, capacity: u64) {
    let n = capacity.min(1 << 20) as usize;
    let zeros = vec![0u8; n];
    if dev
        .write_all_at(&zeros, 0)
        .and_then(|_| dev.sync_all())
        .is_err()
    {
        tracing::warn!(device = %path.display(), "could not erase the start of the half-written card");
    }
}

/// Writes, then reads back and compares. `show_progress` draws bars on stderr (when it is a
/// terminal).
pub fn execute(plan: &Plan, show_progress: bool) -> Result<Report> {
    let dev = open_target(&plan.target)?;
    let result = write_and_verify(plan, &dev, show_progress);
    if result.is_err() {
        spoil(&dev, &plan.target.path, plan.target.capacity);
    }
    result
}

fn write_and_verify(plan: &Plan, dev: &File, show_progress: bool) -> Result<Report> {
    let opts = &plan.opts;
    let devpath = &plan.target.path;
    let hash_whole = matches!(plan.integrity, Integrity::Image(_));
    let mut src = Stream::open(&opts.image, plan.compressed, hash_whole)?;
    let mut buf = vec![0u8; CHUNK];
    let mut scratch = vec![0u8; CHUNK];
    // (start, end, expected sha256) per range; one open-ended range without a block map.
    let ranges: Vec<(u64, Option<u64>, Option<String>)> = match &plan.bmap {
        Some((_, m)) => m
            .ranges
            .iter()
            .map(|r| {
                let (s, e) = m.byte_span(r);
                (s, Some(e), r.sha256.clone())
            })
            .collect(),
        None => vec![(0, plan.image_size, None)],
    };
    let total = match &plan.bmap {
        Some((_, m)) => Some(m.mapped_bytes()),
        None => plan.image_size,
    };
    let t0 = Instant::now();
    let pb = progress_bar(total, show_progress, "writing");
    let mut written = Vec::with_capacity(ranges.len());
    let mut bytes_written = 0u64;
    for (i, (start, end, expected)) in ranges.iter().enumerate() {
        src.skip_to(*start, &mut scratch)?;
        let mut h = Sha256::new();
        let mut pos = *start;
        loop {
            let want = match end {
                Some(e) => ((*e - pos) as usize).min(CHUNK),
                None => CHUNK,
            };
            if want == 0 {
                break;
            }
            let n = src.read_full(&mut buf[..want])?;
            if n < want && end.is_some() {
                return Err(src.truncated(format!(
                    "the data ends at byte {} before the declared end {}",
                    pos + n as u64,
                    end.unwrap_or(0)
                )));
            }
            if n == 0 {
                break;
            }
            if pos + n as u64 > plan.target.capacity {
                return Err(Error::Refused {
                    path: devpath.clone(),
                    reason: format!(
                        "is too small: the image is larger than its {}; use a larger card",
                        super::human_bytes(plan.target.capacity)
                    ),
                });
            }
            h.update(&buf[..n]);
            dev.write_all_at(&buf[..n], pos)
                .map_err(|e| Error::io("writing", devpath, e))?;
            pos += n as u64;
            bytes_written += n as u64;
            pb.inc(n as u64);
            if n < want {
                break;
            }
        }
        let got = hex(&h.finalize());
        if let Some(exp) = expected {
            if *exp != got {
                pb.abandon();
                return Err(Error::ChecksumMismatch {
                    path: opts.image.clone(),
                    what: format!("block map range {} (bytes {start}-{pos})", i + 1),
                    expected: exp.clone(),
                    got,
                });
            }
        }
        written.push(Written {
            start: *start,
            end: pos,
            sha256: got,
        });
    }
    let compressed_sum = src.finish(&mut scratch)?;
    let image_size = plan.image_size.unwrap_or(src.pos);
    match &plan.integrity {
        Integrity::Image(exp) => {
            let got = src
                .whole
                .take()
                .map(|h| hex(&h.finalize()))
                .unwrap_or_default();
            if *exp != got {
                pb.abandon();
                return Err(Error::ChecksumMismatch {
                    path: opts.image.clone(),
                    what: if opts.sha256.is_some() {
                        "whole-image (--sha256)".into()
                    } else {
                        "whole-image (SHA256SUMS)".into()
                    },
                    expected: exp.clone(),
                    got,
                });
            }
        }
        Integrity::Compressed(exp) => {
            let got = compressed_sum.unwrap_or_default();
            if *exp != got {
                pb.abandon();
                return Err(Error::ChecksumMismatch {
                    path: opts.image.clone(),
                    what: "compressed file (SHA256SUMS)".into(),
                    expected: exp.clone(),
                    got,
                });
            }
        }
        Integrity::Bmap | Integrity::None => {}
    }
    dev.sync_all()
        .map_err(|e| Error::io("syncing", devpath, e))?;
    pb.finish_and_clear();
    let write_seconds = t0.elapsed().as_secs_f64();

    // Read back from the card itself, not the page cache.
    // SAFETY: posix_fadvise on a valid descriptor; only a hint to the kernel.
    unsafe {
        libc::posix_fadvise(dev.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
    }
    let t1 = Instant::now();
    let pb = progress_bar(Some(bytes_written), show_progress, "verifying");
    for (i, w) in written.iter().enumerate() {
        let mut h = Sha256::new();
        let mut pos = w.start;
        while pos < w.end {
            let n = ((w.end - pos) as usize).min(CHUNK);
            dev.read_exact_at(&mut buf[..n], pos)
                .map_err(|e| Error::io("reading back", devpath, e))?;
            h.update(&buf[..n]);
            pos += n as u64;
            pb.inc(n as u64);
        }
        if hex(&h.finalize()) != w.sha256 {
            pb.abandon();
            return Err(Error::VerifyFailed {
                path: devpath.clone(),
                what: format!("range {} (bytes {}-{})", i + 1, w.start, w.end),
            });
        }
    }
    pb.finish_and_clear();
    if plan.integrity == Integrity::None {
        tracing::warn!(image = %opts.image.display(), "no block map or SHA256SUMS: the image itself was not checked, only the read-back");
    }
    tracing::debug!(device = %devpath.display(), bytes = bytes_written, "flashed and verified");
    Ok(Report {
        image: opts.image.clone(),
        device: devpath.clone(),
        image_size,
        bytes_written,
        bytes_skipped: image_size.saturating_sub(bytes_written),
        bmap: plan.bmap.as_ref().map(|(p, _)| p.clone()),
        integrity: plan.integrity.clone(),
        verified: true,
        write_seconds,
        verify_seconds: t1.elapsed().as_secs_f64(),
    })
}

/// SHA-256 of the first `len` bytes of a file or device (for scripts and tests).
pub fn hash_prefix(path: &Path, len: u64) -> Result<String> {
    let f = open_image(path)?;
    let mut buf = vec![0u8; CHUNK];
    let mut h = Sha256::new();
    let mut pos = 0u64;
    while pos < len {
        let n = ((len - pos) as usize).min(CHUNK);
        f.read_exact_at(&mut buf[..n], pos)
            .map_err(|e| Error::io("reading", path, e))?;
        h.update(&buf[..n]);
        pos += n as u64;
    }
    Ok(hex(&h.finalize()))
}
