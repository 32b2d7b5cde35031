//! Which device a flash may write to. A target is a whole block device (an SD card) or a regular
//! file standing in for one; it is refused when it is a partition, is mounted (or has a mounted
//! partition, or is a file backing a mounted loop device), holds the running system, or is larger
//! than the configured limit (cards are small; a large disk is probably not the card).
//!
//! The checks read `/proc/self/mountinfo` and `/sys`; [`System`] names those so tests can give a
//! made-up system.
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::{human_bytes, Error, Result};

/// Where the checks look: the mount table, sysfs, and the device number of `/`.
#[derive(Debug, Clone)]
pub struct System {
    /// Text of `/proc/self/mountinfo`.
    pub mountinfo: String,
    /// Root of sysfs (`/sys`).
    pub sysfs: PathBuf,
    /// (major, minor) of the device holding `/`.
    pub root_dev: Option<(u32, u32)>,
}

impl System {
    /// The running system.
    pub fn current() -> System {
        System {
            mountinfo: fs::read_to_string("/proc/self/mountinfo").unwrap_or_default(),
            sysfs: PathBuf::from("/sys"),
            root_dev: fs::metadata("/").ok().map(|m| split_dev(m.dev())),
        }
    }

    /// (major, minor) of every mounted file system, with its mount point.
    fn mounts(&self) -> Vec<((u32, u32), String)> {
        self.mountinfo
            .lines()
            .filter_map(|l| {
                let mut it = l.split_whitespace();
                let dev = it.nth(2)?;
                let _root = it.next()?;
                let point = it.next()?;
                let (a, b) = dev.split_once(':')?;
                Some(((a.parse().ok()?, b.parse().ok()?), point.to_string()))
            })
            .collect()
    }

    fn block_dir(&self, dev: (u32, u32)) -> PathBuf {
        self.sysfs.join(format!("dev/block/{}:{}", dev.0, dev.1))
    }

    /// The device and its partitions (and, for a disk, the device numbers of its partitions).
    fn family(&self, dev: (u32, u32)) -> Vec<(u32, u32)> {
        let mut out = vec![dev];
        if let Ok(rd) = fs::read_dir(self.block_dir(dev)) {
            for e in rd.flatten() {
                let p = e.path();
                if p.join("partition").exists() {
                    if let Some(d) = fs::read_to_string(p.join("dev"))
                        .ok()
                        .and_then(|s| parse_dev(s.trim()))
                    {
                        out.push(d);
                    }
                }
            }
        }
        out
    }

    /// Loop devices whose backing file is `file`.
    fn loops_backed_by(&self, file: &Path) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        let Ok(rd) = fs::read_dir(self.sysfs.join("block")) else {
            return out;
        };
        for e in rd.flatten() {
            let dir = e.path();
            let Ok(backing) = fs::read_to_string(dir.join("loop/backing_file")) else {
                continue;
            };
            if Path::new(backing.trim()) == file {
                if let Some(d) = fs::read_to_string(dir.join("dev"))
                    .ok()
                    .and_then(|s| parse_dev(s.trim()))
                {
                    out.push(d);
                }
            }
        }
        out
    }
}

fn parse_dev(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// Splits a Linux `dev_t` into (major, minor).
pub fn split_dev(d: u64) -> (u32, u32) {
    let major = ((d >> 8) & 0xfff) | ((d >> 32) & !0xfff);
    let minor = (d & 0xff) | ((d >> 12) & !0xff);
    (major as u32, minor as u32)
}

/// What kind of target it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A whole block device.
    Block,
    /// A regular file standing in for a card.
    File,
}

/// A target that passed the checks.
#[derive(Debug, Clone)]
pub struct Target {
    /// Its path.
    pub path: PathBuf,
    /// Block device or file.
    pub kind: Kind,
    /// Its size in bytes (for a file: its current length, which a flash never grows).
    pub capacity: u64,
}

/// Checks `path` as a flash target. `max_size` is the size limit; `force` lifts only that limit —
/// a mounted device, a partition and the system disk are always refused.
pub fn check(path: &Path, sys: &System, max_size: u64, force: bool) -> Result<Target> {
    let refuse = |reason: String| Error::Refused {
        path: path.to_path_buf(),
        reason,
    };
    let meta = fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::NotFound(path.to_path_buf()),
        _ => Error::io("examining", path, e),
    })?;
    let ft = meta.file_type();
    let mounts = sys.mounts();
    let mounted_at = |devs: &[(u32, u32)]| {
        mounts
            .iter()
            .find(|(d, _)| devs.contains(d))
            .map(|(_, p)| p.clone())
    };
    let (kind, capacity) = if ft.is_block_device() {
        let dev = split_dev(meta.rdev());
        if sys.block_dir(dev).join("partition").exists() {
            return Err(refuse(
                "is a partition; name the whole card instead (e.g. /dev/sdb, not /dev/sdb1; see lsblk)".into(),
            ));
        }
        let family = sys.family(dev);
        if let Some(root) = sys.root_dev {
            if family.contains(&root) {
                return Err(refuse(
                    "holds the running system; refusing to overwrite it (pick the SD card, see lsblk)".into(),
                ));
            }
        }
        if let Some(point) = mounted_at(&family) {
            return Err(refuse(format!(
                "is mounted (at {point}); unmount it first (e.g. udisksctl unmount -b …) and try again"
            )));
        }
        let size = fs::read_to_string(sys.block_dir(dev).join("size"))
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(|sectors| sectors * 512);
        let size = match size {
            Some(s) => s,
            None => {
                use std::io::Seek;
                fs::File::open(path)
                    .and_then(|mut f| f.seek(std::io::SeekFrom::End(0)))
                    .map_err(|e| Error::io("measuring", path, e))?
            }
        };
        (Kind::Block, size)
    } else if ft.is_file() {
        let canon = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        for lo in sys.loops_backed_by(&canon) {
            if let Some(point) = mounted_at(&sys.family(lo)) {
                return Err(refuse(format!(
                    "is mounted through a loop device (at {point}); unmount it first"
                )));
            }
        }
        (Kind::File, meta.len())
    } else {
        return Err(refuse(
            "is neither a block device nor a regular file; name the SD card (see lsblk) or an image file of one".into(),
        ));
    };
    if capacity == 0 {
        return Err(refuse(
            "has size 0 (no card in the reader? for a file, create it with its size first: truncate -s 8G card.img)".into(),
        ));
    }
    if capacity > max_size && !force {
        return Err(refuse(format!(
            "is {} — larger than the limit of {} for an SD card; if this really is the card, pass --force (or raise --max-size)",
            human_bytes(capacity),
            human_bytes(max_size)
        )));
    }
    Ok(Target {
        path: path.to_path_buf(),
        kind,
        capacity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_sys(dir: &Path, mountinfo: &str) -> System {
        // A disk 8:16 with partition 8:17, and a loop device 7:0 backing "card.img".
        let disk = dir.join("sys/dev/block/8:16");
        fs::create_dir_all(disk.join("sdb1")).unwrap();
        fs::write(disk.join("sdb1/partition"), "1\n").unwrap();
        fs::write(disk.join("sdb1/dev"), "8:17\n").unwrap();
        fs::create_dir_all(dir.join("sys/dev/block/8:17")).unwrap();
        fs::write(dir.join("sys/dev/block/8:17/partition"), "1\n").unwrap();
        let lo = dir.join("sys/block/loop0");
        fs::create_dir_all(lo.join("loop")).unwrap();
        fs::write(lo.join("dev"), "7:0\n").unwrap();
        let card = dir.join("card.img");
        fs::write(
            lo.join("loop/backing_file"),
            format!("{}\n", card.display()),
        )
        .unwrap();
        System {
            mountinfo: mountinfo.into(),
            sysfs: dir.join("sys"),
            root_dev: Some((254, 0)),
        }
    }

    #[test]
    fn parses_mountinfo_and_families() {
        let d = tempfile::tempdir().unwrap();
        let sys = fake_sys(
            d.path(),
            "36 35 8:17 / /media/card rw - vfat /dev/sdb1 rw\n22 1 254:0 / / rw - ext4 /dev/vda rw\n",
        );
        let mounts = sys.mounts();
        assert_eq!(mounts[0], ((8, 17), "/media/card".to_string()));
        assert_eq!(sys.family((8, 16)), vec![(8, 16), (8, 17)]);
    }

    #[test]
    fn file_backing_a_mounted_loop_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let card = d.path().join("card.img");
        fs::write(&card, vec![0u8; 4096]).unwrap();
        let sys = fake_sys(d.path(), "40 35 7:0 / /mnt rw - ext4 /dev/loop0 rw\n");
        let err = check(&card, &sys, 1 << 30, false).unwrap_err().to_string();
        assert!(err.contains("mounted"), "{err}");
        let sys = fake_sys(d.path(), "");
        let t = check(&card, &sys, 1 << 30, false).unwrap();
        assert_eq!((t.kind, t.capacity), (Kind::File, 4096));
    }

    #[test]
    fn size_limit_and_force() {
        let d = tempfile::tempdir().unwrap();
        let card = d.path().join("big.img");
        fs::File::create(&card).unwrap().set_len(10 << 20).unwrap();
        let sys = fake_sys(d.path(), "");
        let err = check(&card, &sys, 1 << 20, false).unwrap_err();
        assert!(err.is_usage() && err.to_string().contains("--force"));
        assert!(check(&card, &sys, 1 << 20, true).is_ok());
        let empty = d.path().join("empty.img");
        fs::File::create(&empty).unwrap();
        assert!(check(&empty, &sys, 1 << 30, false).is_err());
        let missing = d.path().join("nope");
        assert!(matches!(
            check(&missing, &sys, 1 << 30, false),
            Err(Error::NotFound(_))
        ));
        assert!(check(d.path(), &sys, 1 << 30, false).is_err());
    }

    /// Device nodes (made with mknod, so only as root) checked against a made-up sysfs: the
    /// nodes are only examined, never opened.
    #[test]
    fn block_devices_partition_mounted_and_system_disk() {
        use std::ffi::CString;
        let d = tempfile::tempdir().unwrap();
        let node = |name: &str, major: u32, minor: u32| -> Option<PathBuf> {
            let p = d.path().join(name);
            let c = CString::new(p.to_str()?).ok()?;
            // SAFETY: mknod with a valid path; fails harmlessly when not root.
            let rc = unsafe {
                libc::mknod(
                    c.as_ptr(),
                    libc::S_IFBLK | 0o600,
                    libc::makedev(major, minor),
                )
            };
            (rc == 0).then_some(p)
        };
        let Some(disk) = node("sdb", 8, 16) else {
            eprintln!("not root: device nodes cannot be made; covered by the file cases above");
            return;
        };
        let part = node("sdb1", 8, 17).unwrap();
        let sysdisk = node("vda", 254, 0).unwrap();
        fs::create_dir_all(d.path().join("sys/dev/block/254:0")).unwrap();
        let sys = fake_sys(d.path(), "");
        fs::write(d.path().join("sys/dev/block/8:16/size"), "2048\n").unwrap();

        let err = check(&part, &sys, 1 << 30, true).unwrap_err().to_string();
        assert!(
            err.contains("is a partition") && err.contains("/dev/sdb"),
            "{err}"
        );
        let err = check(&sysdisk, &sys, 1 << 30, true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("running system"), "{err}");
        let t = check(&disk, &sys, 1 << 30, false).unwrap();
        assert_eq!((t.kind, t.capacity), (Kind::Block, 1 << 20));

        let sys = fake_sys(
            d.path(),
            "36 35 8:17 / /media/card rw - vfat /dev/sdb1 rw\n",
        );
        let err = check(&disk, &sys, 1 << 30, true).unwrap_err();
        assert!(
            err.is_usage() && err.to_string().contains("mounted (at /media/card)"),
            "{err}"
        );
    }

    #[test]
    fn dev_numbers_split() {
        assert_eq!(split_dev(0x0811), (8, 17));
        assert_eq!(split_dev((259u64 << 8) | 3), (259, 3));
    }
}
