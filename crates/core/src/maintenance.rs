//! The technician's maintenance screen without its UI: the PIN (hashed with Argon2id, a PHC
//! string in `[maintenance] pin_hash`), the [`PinGate`] that locks after [`MAX_TRIES`] wrong
//! PINs for [`LOCKOUT`], the hidden [`TapGesture`] that opens it, and the masking and file
//! reading its panels need. Time is always passed in, so tests never sleep.
//!
//! Why Argon2id (the `argon2` crate, RustCrypto): it is the PHC winner and OWASP's first choice
//! for stored secrets, memory-hard so that a 6-digit PIN taken from a stolen SD card costs real
//! work per guess, its PHC string carries salt and parameters (so a kiosk verifies a hash made
//! with other parameters), and its verification compares the outputs in constant time. The crate
//! is built without default features except `alloc`, `password-hash` (PHC strings), `getrandom`
//! (the salt, from the OS) and `zeroize` (its working memory is wiped).
//!
//! A short PIN is only safe together with the lockout: five wrong tries lock the screen for five
//! minutes, and every attempt is written to the audit journal by the caller.
use std::collections::VecDeque;
use std::path::Path;
use std::time::{Duration, Instant};

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier};
use zeroize::Zeroizing;

/// Wrong PINs in a row before the gate locks.
pub const MAX_TRIES: u32 = 5;
/// How long the gate stays locked after [`MAX_TRIES`] wrong PINs.
pub const LOCKOUT: Duration = Duration::from_secs(5 * 60);
/// The PIN a simulated kiosk (no config file) accepts when no `pin_hash` is configured. It is
/// documented (images/README.md) and never accepted by a kiosk started with a config file.
pub const SIMULATION_PIN: &str = "246810";
/// Shortest PIN `zizhu config hash-pin` accepts.
pub const MIN_PIN_LEN: usize = 6;
/// Longest PIN (the PIN pad stops taking digits here).
pub const MAX_PIN_LEN: usize = 12;
/// Taps on the hidden corner that open the PIN pad…
pub const GESTURE_TAPS: usize = 5;
/// …within this long.
pub const GESTURE_WINDOW: Duration = Duration::from_secs(3);
/// The maintenance screen goes back to the attract screen after this long without a touch.
pub const IDLE: Duration = Duration::from_secs(120);
/// Default path of the first-boot provisioning error (see `crate::image::provision`).
pub const PROVISION_ERROR_FILE: &str = "/var/lib/zizhu/provision-error";
/// Name of the build-information file the image recipe writes on the config partition.
pub const BUILD_INFO_NAME: &str = "zizhu-build.toml";
/// Default path of the image's build information (the config partition, mounted at /boot/zizhu).
pub const BUILD_INFO_FILE: &str = "/boot/zizhu/zizhu-build.toml";

/// What went wrong with the technician PIN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MaintenanceError {
    /// A new PIN is too short, too long or not only digits. Choose 6 to 12 digits.
    #[error("the PIN must be {MIN_PIN_LEN} to {MAX_PIN_LEN} digits (0-9) and nothing else; {0}")]
    BadPin(String),
    /// `pin_hash` is not an Argon2 PHC string. Make one with `zizhu config hash-pin`.
    #[error("not an Argon2 PHC string ({0}); make one with `zizhu config hash-pin`")]
    BadHash(String),
    /// Hashing failed inside the crate (the OS random source failed). Try again; report it if
    /// it persists.
    #[error("hashing the PIN failed: {0}")]
    Hashing(String),
    /// The PIN entered is wrong; `tries_left` more before the gate locks.
    #[error("wrong PIN; {tries_left} tries left before the screen locks")]
    WrongPin {
        /// Wrong PINs still allowed before the lockout.
        tries_left: u32,
    },
    /// Too many wrong PINs: no PIN is checked until the lockout ends. Wait, then try again.
    #[error("locked after {MAX_TRIES} wrong PINs; try again in {} s", remaining.as_secs())]
    Locked {
        /// Time left.
        remaining: Duration,
    },
}

/// Checks that `pin` is acceptable as a new technician PIN: 6 to 12 ASCII digits.
pub fn validate_pin(pin: &str) -> Result<(), MaintenanceError> {
    if !pin.chars().all(|c| c.is_ascii_digit()) {
        return Err(MaintenanceError::BadPin(
            "it contains other characters".into(),
        ));
    }
    let n = pin.len();
    if n < MIN_PIN_LEN {
        return Err(MaintenanceError::BadPin(format!("it has {n} digits")));
    }
    if n > MAX_PIN_LEN {
        return Err(MaintenanceError::BadPin(format!("it has {n} digits")));
    }
    Ok(())
}

/// Hashes a PIN to the PHC string that goes in `[maintenance] pin_hash` (Argon2id with the
/// crate's recommended parameters and a random 16-byte salt).
pub fn hash_pin(pin: &str) -> Result<String, MaintenanceError> {
    validate_pin(pin)?;
    Argon2::default()
        .hash_password(pin.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| MaintenanceError::Hashing(e.to_string()))
}

/// Checks that `phc` is an Argon2 PHC string this build can verify against (algorithm,
/// version, parameters, salt and output present). Used when the config is loaded.
pub fn check_hash(phc: &str) -> Result<(), MaintenanceError> {
    let bad = |m: String| MaintenanceError::BadHash(m);
    let h = PasswordHash::new(phc.trim()).map_err(|e| bad(e.to_string()))?;
    Algorithm::try_from(h.algorithm.as_str()).map_err(|e| bad(e.to_string()))?;
    Params::try_from(&h).map_err(|e| bad(e.to_string()))?;
    if h.salt.is_none() || h.hash.is_none() {
        return Err(bad("the salt or the hash is missing".into()));
    }
    Ok(())
}

/// The door to the maintenance screen: a PIN hash, and the count of wrong PINs with the
/// lockout they cause. [`PinGate::restore`] carries both over a restart from the audit trail.
#[derive(Debug, Clone)]
pub struct PinGate {
    hash: String,
    failures: u32,
    locked_until: Option<Instant>,
}

impl PinGate {
    /// A gate for the configured PHC string (checked as [`check_hash`] does).
    pub fn new(phc: &str) -> Result<PinGate, MaintenanceError> {
        check_hash(phc)?;
        Ok(PinGate {
            hash: phc.trim().to_string(),
            failures: 0,
            locked_until: None,
        })
    }

    /// The gate of a simulated kiosk without `pin_hash`: it accepts [`SIMULATION_PIN`].
    pub fn simulation() -> Result<PinGate, MaintenanceError> {
        PinGate::new(&hash_pin(SIMULATION_PIN)?)
    }

    /// How long the gate stays locked from `now` (none when it is open for tries).
    pub fn locked_for(&self, now: Instant) -> Option<Duration> {
        self.locked_until
            .and_then(|t| t.checked_duration_since(now))
            .filter(|d| !d.is_zero())
    }

    /// Wrong PINs since the last right one or the last lockout.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Checks a PIN at time `now`. While locked nothing is checked (not even the right PIN).
    /// A right PIN clears the count; the [`MAX_TRIES`]th wrong one in a row locks the gate for
    /// [`LOCKOUT`]. Verification is Argon2's, whose comparison is constant-time.
    pub fn try_open(&mut self, pin: &str, now: Instant) -> Result<(), MaintenanceError> {
        if let Some(remaining) = self.locked_for(now) {
            return Err(MaintenanceError::Locked { remaining });
        }
        if self.locked_until.take().is_some() {
            // The lockout is over: a fresh set of tries.
            self.failures = 0;
        }
        let pin = Zeroizing::new(pin.to_string());
        let ok = PasswordHash::new(&self.hash).ok().is_some_and(|h| {
            Argon2::default()
                .verify_password(pin.as_bytes(), &h)
                .is_ok()
        });
        if ok {
            self.failures = 0;
            return Ok(());
        }
        self.failures += 1;
        if self.failures >= MAX_TRIES {
            self.locked_until = Some(now + LOCKOUT);
            return Err(MaintenanceError::Locked { remaining: LOCKOUT });
        }
        Err(MaintenanceError::WrongPin {
            tries_left: MAX_TRIES - self.failures,
        })
    }
}

impl PinGate {
    /// Carries wrong PINs and a lockout over a restart, from the audit trail (newest first, as
    /// `(Unix ms, action)`, actions as the maintenance screen writes them): the wrong PINs since
    /// the last right one or lockout and within the last hour count, and a lockout less than
    /// [`LOCKOUT`] old still holds. So switching the kiosk off and on does not give new tries.
    pub fn restore<'a>(
        &mut self,
        audit: impl IntoIterator<Item = (i64, &'a str)>,
        now_ms: i64,
        now: Instant,
    ) {
        let lockout_ms = LOCKOUT.as_millis() as i64;
        let mut failures = 0;
        for (at, action) in audit {
            match action {
                "maintenance.open_failed" if now_ms.saturating_sub(at) <= 3_600_000 => {
                    failures += 1
                }
                "maintenance.open_failed" | "maintenance.open_ok" => break,
                "maintenance.open_locked" => {
                    let age = now_ms.saturating_sub(at).max(0);
                    if age < lockout_ms {
                        let left = Duration::from_millis((lockout_ms - age) as u64);
                        self.locked_until = Some(now + left);
                        // The lock's own failures are behind it.
                        failures = 0;
                    }
                    break;
                }
                _ => {}
            }
        }
        self.failures = failures.min(MAX_TRIES - 1);
    }
}

/// The hidden gesture: [`GESTURE_TAPS`] taps on the attract screen's top-right corner within
/// [`GESTURE_WINDOW`].
#[derive(Debug, Default, Clone)]
pub struct TapGesture {
    taps: VecDeque<Instant>,
}

impl TapGesture {
    /// Records a tap at `now`; true when it completes the gesture (the count then starts over).
    pub fn tap(&mut self, now: Instant) -> bool {
        while self
            .taps
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > GESTURE_WINDOW)
        {
            self.taps.pop_front();
        }
        self.taps.push_back(now);
        if self.taps.len() >= GESTURE_TAPS {
            self.taps.clear();
            return true;
        }
        false
    }
}

/// What a scanned code is, as the maintenance screen names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanKind {
    /// An e-licence presentation (`EL1:`).
    El1,
    /// An e-licence ticket (`ET1:`).
    Et1,
    /// Anything else (a URL, a payment code, a bar code).
    Other,
}

impl ScanKind {
    /// The kind of a scanned text.
    pub fn of(text: &str) -> ScanKind {
        if text.starts_with(crate::elicense::codec::PREFIX_PRESENTATION) {
            ScanKind::El1
        } else if text.starts_with(crate::elicense::codec::PREFIX_TICKET) {
            ScanKind::Et1
        } else {
            ScanKind::Other
        }
    }

    /// `EL1`, `ET1` or `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanKind::El1 => "EL1",
            ScanKind::Et1 => "ET1",
            ScanKind::Other => "other",
        }
    }
}

/// A scanned text as the maintenance screen may show it: at most its first 6 and last 4
/// characters, and its length.
pub fn mask_scan(text: &str) -> String {
    let n = text.chars().count();
    if n <= 16 {
        return format!("{} ({n})", zizhu_drivers::privacy::mask(text));
    }
    let head: String = text.chars().take(6).collect();
    let tail: String = text.chars().skip(n - 4).collect();
    format!("{head}…{tail} ({n})")
}

/// The short test receipt the maintenance screen prints: no personal data, the kiosk id and
/// the time, Chinese text, rare characters and a QR code (what a technician checks by eye).
pub fn test_receipt(kiosk_id: &str, now: &str) -> zizhu_drivers::printer::Receipt {
    zizhu_drivers::printer::Receipt::new()
        .title("打印机测试页")
        .subtitle("Printer test page (maintenance)")
        .separator()
        .field("终端 Kiosk", kiosk_id)
        .field("中文", "政务服务自助终端")
        .field("生僻字", "㛃 䶮 㑇")
        .field("ASCII", "0123456789 ABCDEF abcdef")
        .qr("ZIZHU-PRINTER-TEST", Some("二维码测试".into()))
        .footer(now.to_string())
}

/// Reads a small text file (at most 4 KiB), trimmed; none when missing, empty or unreadable.
fn read_small(path: &Path) -> Option<String> {
    use std::io::Read;
    let f = std::fs::File::open(path).ok()?;
    let mut buf = Vec::new();
    f.take(4096).read_to_end(&mut buf).ok()?;
    let s = String::from_utf8_lossy(&buf).trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// The reason first-boot provisioning failed, from its error file (none when there is none):
/// the file's first line without the `Provisioning failed:` prefix, control characters removed,
/// at most 300 characters.
pub fn provision_error(path: &Path) -> Option<String> {
    let text = read_small(path)?;
    let first = text.lines().next().unwrap_or_default().trim();
    let reason = first
        .strip_prefix("Provisioning failed:")
        .unwrap_or(first)
        .trim();
    let reason: String = reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    Some(if reason.is_empty() {
        "unknown reason".to_string()
    } else {
        reason
    })
}

/// The image build from its build-information file: `target arch, zizhu VERSION, built DATE`;
/// none when the file is missing (not an image build, or the partition is not mounted).
pub fn image_build(path: &Path) -> Option<String> {
    let text = read_small(path)?;
    let table: toml::Table = toml::from_str(&text).ok()?;
    let get = |k: &str| table.get(k).and_then(|v| v.as_str()).unwrap_or("?");
    Some(format!(
        "{} {}, zizhu {}, built {}",
        get("target"),
        get("arch"),
        get("zizhu_version"),
        get("built")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_validated() {
        assert!(validate_pin("123456").is_ok());
        assert!(validate_pin("123456789012").is_ok());
        assert!(matches!(
            validate_pin("12345"),
            Err(MaintenanceError::BadPin(_))
        ));
        assert!(validate_pin("1234567890123").is_err());
        assert!(validate_pin("12345a").is_err());
        assert!(validate_pin("１２３４５６").is_err(), "full-width digits");
        assert!(validate_pin("").is_err());
        assert!(hash_pin("12345").is_err());
    }

    #[test]
    fn hash_is_a_salted_argon2id_phc_string() {
        let a = hash_pin("135790").unwrap();
        let b = hash_pin("135790").unwrap();
        assert!(a.starts_with("$argon2id$v=19$"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        check_hash(&a).unwrap();
        assert!(!a.contains("135790"));
    }

    #[test]
    fn bad_hashes_are_refused() {
        for bad in [
            "",
            "135790",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA",
            "$pbkdf2-sha256$i=1000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            "$argon2id$v=19$m=1,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        ] {
            assert!(
                matches!(check_hash(bad), Err(MaintenanceError::BadHash(_))),
                "{bad:?}"
            );
            assert!(PinGate::new(bad).is_err());
        }
    }

    #[test]
    fn gate_opens_with_the_right_pin_only() {
        let mut g = PinGate::new(&hash_pin("135790").unwrap()).unwrap();
        let t = Instant::now();
        assert_eq!(
            g.try_open("135791", t),
            Err(MaintenanceError::WrongPin { tries_left: 4 })
        );
        assert_eq!(g.failures(), 1);
        assert_eq!(g.try_open("135790", t), Ok(()));
        assert_eq!(g.failures(), 0, "a right PIN clears the count");
        assert!(g.try_open("", t).is_err());
    }

    #[test]
    fn five_wrong_pins_lock_for_five_minutes() {
        let mut g = PinGate::new(&hash_pin("135790").unwrap()).unwrap();
        let t0 = Instant::now();
        for left in (1..MAX_TRIES).rev() {
            assert_eq!(
                g.try_open("000000", t0),
                Err(MaintenanceError::WrongPin { tries_left: left })
            );
        }
        assert_eq!(
            g.try_open("000000", t0),
            Err(MaintenanceError::Locked { remaining: LOCKOUT })
        );
        // Locked: even the right PIN is refused, and the time left counts down.
        let t1 = t0 + Duration::from_secs(60);
        assert_eq!(
            g.try_open("135790", t1),
            Err(MaintenanceError::Locked {
                remaining: Duration::from_secs(240)
            })
        );
        assert_eq!(g.locked_for(t1), Some(Duration::from_secs(240)));
        let t2 = t0 + LOCKOUT - Duration::from_millis(1);
        assert!(g.locked_for(t2).is_some());
        // Over: the right PIN opens, and a wrong one starts a new count.
        let t3 = t0 + LOCKOUT;
        assert_eq!(g.locked_for(t3), None);
        assert_eq!(
            g.try_open("111111", t3),
            Err(MaintenanceError::WrongPin { tries_left: 4 })
        );
        assert_eq!(g.try_open("135790", t3), Ok(()));
    }

    #[test]
    fn lockout_and_wrong_pins_survive_a_restart() {
        let h = hash_pin("135790").unwrap();
        let (now_ms, now) = (10_000_000_i64, Instant::now());
        // Locked 60 s ago: 240 s left, whatever came before.
        let mut g = PinGate::new(&h).unwrap();
        g.restore(
            [
                (now_ms - 60_000, "maintenance.open_locked"),
                (now_ms - 61_000, "maintenance.open_failed"),
            ],
            now_ms,
            now,
        );
        assert_eq!(g.locked_for(now), Some(Duration::from_secs(240)));
        assert!(matches!(
            g.try_open("135790", now),
            Err(MaintenanceError::Locked { .. })
        ));
        // An old lockout is over; three recent wrong PINs leave two tries.
        let mut g = PinGate::new(&h).unwrap();
        g.restore(
            [
                (now_ms - 1_000, "maintenance.open_failed"),
                (now_ms - 2_000, "maintenance.leave"),
                (now_ms - 3_000, "maintenance.open_failed"),
                (now_ms - 4_000, "maintenance.open_failed"),
                (now_ms - 5_000, "maintenance.open_ok"),
                (now_ms - 6_000, "maintenance.open_failed"),
            ],
            now_ms,
            now,
        );
        assert_eq!(g.locked_for(now), None);
        assert_eq!(g.failures(), 3);
        assert_eq!(
            g.try_open("000000", now),
            Err(MaintenanceError::WrongPin { tries_left: 1 })
        );
        // Wrong PINs older than an hour are forgotten; a stale lockout is too.
        let mut g = PinGate::new(&h).unwrap();
        g.restore(
            [
                (now_ms - 3_600_001, "maintenance.open_failed"),
                (now_ms - 3_600_002, "maintenance.open_failed"),
            ],
            now_ms,
            now,
        );
        assert_eq!(g.failures(), 0);
        let mut g = PinGate::new(&h).unwrap();
        g.restore([(now_ms - 300_000, "maintenance.open_locked")], now_ms, now);
        assert_eq!(g.locked_for(now), None);
    }

    #[test]
    fn simulation_gate_takes_the_documented_pin() {
        let mut g = PinGate::simulation().unwrap();
        let t = Instant::now();
        assert!(g.try_open("000000", t).is_err());
        assert_eq!(g.try_open(SIMULATION_PIN, t), Ok(()));
    }

    #[test]
    fn gesture_needs_five_taps_within_three_seconds() {
        let mut g = TapGesture::default();
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        for i in 0..4 {
            assert!(!g.tap(ms(i * 500)));
        }
        assert!(g.tap(ms(2000)));
        // Too slow: taps older than 3 s are forgotten.
        let mut g = TapGesture::default();
        for i in 0..4 {
            assert!(!g.tap(ms(i * 1000)));
        }
        assert!(!g.tap(ms(4100)), "the first two taps are too old");
        assert!(!g.tap(ms(4200)));
        assert!(g.tap(ms(4300)));
    }

    #[test]
    fn scans_are_classified_and_masked() {
        assert_eq!(ScanKind::of("EL1:6BFOXN*TS0BI$ZD"), ScanKind::El1);
        assert_eq!(ScanKind::of("ET1:ABC"), ScanKind::Et1);
        assert_eq!(ScanKind::of("https://x"), ScanKind::Other);
        let long = format!("EL1:{}", "A".repeat(200)) + "WXYZ";
        let m = mask_scan(&long);
        assert_eq!(m, "EL1:AA…WXYZ (208)");
        assert_eq!(mask_scan("13800138000"), "138******00 (11)");
    }

    #[test]
    fn provisioning_error_and_build_files() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("provision-error");
        assert_eq!(provision_error(&p), None);
        std::fs::write(
            &p,
            "Provisioning failed: `platform.url`: use https\nThe file was left in place.\n",
        )
        .unwrap();
        assert_eq!(
            provision_error(&p).as_deref(),
            Some("`platform.url`: use https")
        );
        let b = d.path().join("zizhu-build.toml");
        assert_eq!(image_build(&b), None);
        std::fs::write(
            &b,
            "target = \"pi4\"\narch = \"arm64\"\nzizhu_version = \"0.1.0\"\nbuilt = \"2026-11-01T00:00:00Z\"\n",
        )
        .unwrap();
        assert_eq!(
            image_build(&b).as_deref(),
            Some("pi4 arm64, zizhu 0.1.0, built 2026-11-01T00:00:00Z")
        );
    }
}
