//! Facts the status module measures itself: free disk (statvfs), CPU temperature
//! (`/sys/class/thermal`), clock synchronisation (systemd-timesyncd's flag file, else the kernel's
//! `STA_UNSYNC` bit from `adjtimex`). Measured at most once a second, so scrapes stay cheap.
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Free space of the file system holding the kiosk's data.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Disk {
    /// Path measured.
    pub path: String,
    /// Bytes available to the runtime.
    pub free_bytes: u64,
    /// Size of the file system in bytes.
    pub size_bytes: u64,
}

/// What [`Cache::get`] returns.
#[derive(Clone, Debug, Default)]
pub struct SystemInfo {
    /// Free space where the data lives.
    pub disk: Disk,
    /// Hottest CPU thermal zone in °C, where the hardware gives one.
    pub cpu_temperature_celsius: Option<f64>,
    /// Clock synchronised; none when it cannot be told.
    pub clock_synced: Option<bool>,
}

/// One-second cache of [`measure`].
#[derive(Debug, Default)]
pub struct Cache(Mutex<Option<(Instant, PathBuf, SystemInfo)>>);

impl Cache {
    /// The facts for `data_dir`, measured anew when older than a second.
    pub fn get(&self, data_dir: &Path) -> SystemInfo {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, dir, info)) = g.as_ref() {
            if at.elapsed() < Duration::from_secs(1) && dir == data_dir {
                return info.clone();
            }
        }
        let info = measure(data_dir);
        *g = Some((Instant::now(), data_dir.to_path_buf(), info.clone()));
        info
    }
}

/// Measures everything now.
pub fn measure(data_dir: &Path) -> SystemInfo {
    SystemInfo {
        disk: disk(data_dir),
        cpu_temperature_celsius: cpu_temperature(Path::new("/sys/class/thermal")),
        clock_synced: clock_synced(),
    }
}

/// Free and total bytes of the file system holding `dir` (zeros when it cannot be read).
// statvfs fields are u64 here but 32-bit on 32-bit Linux targets: the conversions are needed there.
#[allow(clippy::useless_conversion)]
pub fn disk(dir: &Path) -> Disk {
    let mut out = Disk {
        path: dir.display().to_string(),
        free_bytes: 0,
        size_bytes: 0,
    };
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()) else {
        return out;
    };
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `c` is a valid NUL-terminated path and `st` points to writable memory of the right
    // type; statvfs only writes into it.
    let rc = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
    if rc == 0 {
        // SAFETY: statvfs returned 0, so it filled the struct.
        let st = unsafe { st.assume_init() };
        let frsize = u64::from(st.f_frsize);
        out.free_bytes = u64::from(st.f_bavail).saturating_mul(frsize);
        out.size_bytes = u64::from(st.f_blocks).saturating_mul(frsize);
    }
    out
}

/// The hottest `thermal_zone*/temp` whose type looks like a CPU/SoC (any zone if none does).
pub fn cpu_temperature(root: &Path) -> Option<f64> {
    let entries = std::fs::read_dir(root).ok()?;
    let mut cpu: Option<f64> = None;
    let mut any: Option<f64> = None;
    for e in entries.flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().starts_with("thermal_zone") {
            continue;
        }
        let Some(milli) = std::fs::read_to_string(e.path().join("temp"))
            .ok()
            .and_then(|t| t.trim().parse::<i64>().ok())
        else {
            continue;
        };
        let celsius = milli as f64 / 1000.0;
        let kind = std::fs::read_to_string(e.path().join("type"))
            .unwrap_or_default()
            .to_lowercase();
        let slot = if ["cpu", "soc", "x86_pkg", "k10temp", "package"]
            .iter()
            .any(|k| kind.contains(k))
        {
            &mut cpu
        } else {
            &mut any
        };
        *slot = Some(slot.map_or(celsius, |t: f64| t.max(celsius)));
    }
    cpu.or(any)
}

/// Whether the clock is synchronised: systemd-timesyncd's flag file first, then the kernel's view.
pub fn clock_synced() -> Option<bool> {
    if Path::new("/run/systemd/timesync/synchronized").exists() {
        return Some(true);
    }
    // SAFETY: a zeroed timex with modes == 0 only reads the kernel's clock state.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    // SAFETY: `tx` is a valid, writable timex; modes == 0 changes nothing.
    let rc = unsafe { libc::adjtimex(&mut tx) };
    if rc < 0 {
        return None;
    }
    Some(rc != libc::TIME_ERROR && tx.status & libc::STA_UNSYNC == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_of_root_is_measured() {
        let d = disk(Path::new("/"));
        assert!(d.size_bytes > 0 && d.free_bytes <= d.size_bytes);
        assert_eq!(disk(Path::new("/no/such/dir")).size_bytes, 0);
    }

    #[test]
    fn thermal_zones_pick_the_cpu() {
        let dir = tempfile::tempdir().unwrap();
        for (zone, kind, milli) in [
            ("thermal_zone0", "cpu-thermal", "51234"),
            ("thermal_zone1", "battery", "70000"),
        ] {
            let z = dir.path().join(zone);
            std::fs::create_dir(&z).unwrap();
            std::fs::write(z.join("type"), kind).unwrap();
            std::fs::write(z.join("temp"), milli).unwrap();
        }
        assert_eq!(cpu_temperature(dir.path()), Some(51.234));
        assert_eq!(cpu_temperature(&dir.path().join("none")), None);
    }
}
