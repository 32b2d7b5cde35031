//! Files on the config partition (the first FAT partition) of an image or card, read and written
//! through the `fatfs` crate on a window of the file — no mounting, no root, no mtools.
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::table::{self, Partition};
use super::{Error, Result};

/// A window `[base, base + len)` of a file, seen as a file of its own.
pub struct Slice<'a> {
    file: &'a mut File,
    base: u64,
    len: u64,
    pos: u64,
}

impl<'a> Slice<'a> {
    /// The window of `file` covering `part`.
    pub fn new(file: &'a mut File, part: &Partition) -> Self {
        Slice {
            file,
            base: part.start,
            len: part.size,
            pos: 0,
        }
    }
}

impl Read for Slice<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let n = (buf.len() as u64).min(left) as usize;
        if n == 0 {
            return Ok(0);
        }
        self.file.seek(SeekFrom::Start(self.base + self.pos))?;
        let got = self.file.read(&mut buf[..n])?;
        self.pos += got as u64;
        Ok(got)
    }
}

impl Write for Slice<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let n = (buf.len() as u64).min(left) as usize;
        if n == 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "write past the end of the partition",
            ));
        }
        self.file.seek(SeekFrom::Start(self.base + self.pos))?;
        let put = self.file.write(&buf[..n])?;
        self.pos += put as u64;
        Ok(put)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Seek for Slice<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let new = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match new {
            Some(n) if n <= self.len => {
                self.pos = n;
                Ok(n)
            }
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek outside the partition",
            )),
        }
    }
}

/// The config partition of one image or card, opened for reading or writing.
pub struct ConfigPartition {
    path: PathBuf,
    file: File,
    part: Partition,
}

fn fat_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Fat {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

impl ConfigPartition {
    /// Opens the first FAT partition of `path` (read-only unless `write`).
    pub fn open(path: &Path, write: bool) -> Result<Self> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(write)
            .open(path)
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => Error::NotFound(path.to_path_buf()),
                _ => Error::io("opening", path, e),
            })?;
        let len = file
            .seek(SeekFrom::End(0))
            .map_err(|e| Error::io("reading", path, e))?;
        let t = table::read(&mut file, len, path)?;
        let part = t
            .first_fat()
            .cloned()
            .ok_or_else(|| Error::NoFatPartition(path.to_path_buf()))?;
        Ok(ConfigPartition {
            path: path.to_path_buf(),
            file,
            part,
        })
    }

    /// The partition this is.
    pub fn partition(&self) -> &Partition {
        &self.part
    }

    fn with_fs<T>(
        &mut self,
        f: impl FnOnce(&fatfs::FileSystem<Slice<'_>>) -> io::Result<T>,
    ) -> Result<T> {
        let slice = Slice::new(&mut self.file, &self.part);
        let fs = fatfs::FileSystem::new(slice, fatfs::FsOptions::new())
            .map_err(|e| fat_err(&self.path, e))?;
        let out = f(&fs).map_err(|e| fat_err(&self.path, e))?;
        fs.unmount().map_err(|e| fat_err(&self.path, e))?;
        Ok(out)
    }

    /// The names of the files in the partition's root directory.
    pub fn list(&mut self) -> Result<Vec<String>> {
        self.with_fs(|fs| {
            let mut names = Vec::new();
            for e in fs.root_dir().iter() {
                let e = e?;
                if e.is_file() {
                    names.push(e.file_name());
                }
            }
            Ok(names)
        })
    }

    /// Reads a file in the root directory; `None` when it does not exist.
    pub fn read(&mut self, name: &str) -> Result<Option<Vec<u8>>> {
        self.with_fs(|fs| match fs.root_dir().open_file(name) {
            Ok(mut f) => {
                let mut buf = Vec::new();
                f.read_to_end(&mut buf)?;
                Ok(Some(buf))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        })
    }

    /// Writes (creates or replaces) a file in the root directory atomically, then syncs the
    /// image: the data goes to `NAME.tmp` first and is renamed to `name` only once all of it is
    /// written. On any failure (a full partition, say) the temporary file is removed and `name`
    /// is as it was, so a failed write never leaves an empty or partial file behind.
    pub fn write(&mut self, name: &str, data: &[u8]) -> Result<()> {
        let tmp = format!("{name}.tmp");
        let written = self.with_fs(|fs| {
            let root = fs.root_dir();
            remove_if_there(&root, &tmp)?;
            let mut f = root.create_file(&tmp)?;
            f.truncate()?;
            f.write_all(data)?;
            f.flush()?;
            drop(f);
            remove_if_there(&root, name)?;
            root.rename(&tmp, &root, name)
        });
        if let Err(e) = written {
            // A fresh mount: the failed one may have stopped half-way.
            if let Err(ce) = self.with_fs(|fs| remove_if_there(&fs.root_dir(), &tmp)) {
                tracing::warn!(file = %tmp, "could not remove the temporary file: {ce}");
            }
            let _ = self.file.sync_all();
            return Err(e);
        }
        self.file
            .sync_all()
            .map_err(|e| Error::io("syncing", &self.path, e))
    }
}

/// Removes `name` from `dir`; nothing to do when it is not there.
fn remove_if_there<T: fatfs::ReadWriteSeek>(dir: &fatfs::Dir<'_, T>, name: &str) -> io::Result<()> {
    match dir.remove(name) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_stays_in_its_window() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, vec![7u8; 100]).unwrap();
        let mut f = OpenOptions::new().read(true).write(true).open(&p).unwrap();
        let part = Partition {
            number: 1,
            start: 10,
            size: 20,
            type_id: String::new(),
            type_name: "",
            name: String::new(),
            is_fat: true,
        };
        let mut s = Slice::new(&mut f, &part);
        assert_eq!(s.seek(SeekFrom::End(0)).unwrap(), 20);
        assert!(s.seek(SeekFrom::Start(21)).is_err());
        s.seek(SeekFrom::Start(15)).unwrap();
        assert_eq!(s.write(&[1u8; 10]).unwrap(), 5);
        assert!(s.write(&[1u8]).is_err());
        let mut all = Vec::new();
        s.seek(SeekFrom::Start(0)).unwrap();
        s.read_to_end(&mut all).unwrap();
        assert_eq!(all.len(), 20);
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(&bytes[25..30], &[1u8; 5]);
        assert_eq!(bytes[30], 7);
    }
}
