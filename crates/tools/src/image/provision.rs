//! Per-kiosk provisioning: the small TOML file a technician writes onto the config partition of an
//! image or card (`zizhu image provision`), and the first-boot step that consumes it
//! (`zizhu image first-boot`, run by `zizhu-provision.service`).
//!
//! The file carries the kiosk identity, its site, the platform URL and a one-time enrollment
//! token (plus optional Wi-Fi). On first boot it is validated; the token moves to the data
//! partition (mode 0600), identity and config are written to `/etc/zizhu/`, and the file is
//! deleted. A bad file stays where it is, and the reason goes to the journal, the console and an
//! error file the kiosk screen shows.
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[cfg(feature = "workbench")]
use super::{fat::ConfigPartition, PROVISION_FILE};
use super::{mask_secret, Error, Result};

/// Version of the provisioning file format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The provisioning file. Unknown keys are refused, so a typo never goes unnoticed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Provision {
    /// Format version; must be [`FORMAT_VERSION`].
    pub version: u32,
    /// Who this kiosk is.
    pub kiosk: KioskSection,
    /// Where it enrolls.
    pub platform: PlatformSection,
    /// Optional wireless network (the Pi has Wi-Fi; wired Ethernet needs nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wifi: Option<WifiSection>,
}

/// `[kiosk]` of the provisioning file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KioskSection {
    /// Kiosk identifier: 1–64 characters of `A-Z a-z 0-9 - _` (as `kiosk.id` in the config).
    pub id: String,
    /// Where it stands, in words (`天河区体育西路邮政支局`).
    pub site: String,
}

/// `[platform]` of the provisioning file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PlatformSection {
    /// Base URL of the service platform (http or https).
    pub url: String,
    /// One-time enrollment token; moved to the data partition on first boot.
    pub enroll_token: String,
}

/// `[wifi]` of the provisioning file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WifiSection {
    /// Network name.
    pub ssid: String,
    /// WPA passphrase (8–63 characters).
    pub psk: String,
    /// Regulatory country code (two letters).
    #[serde(default = "default_country")]
    pub country: String,
}

fn default_country() -> String {
    "CN".into()
}

fn bad(msg: impl Into<String>) -> Error {
    Error::BadProvision(msg.into())
}

impl Provision {
    /// Checks every field; the error names the bad key and says what is expected.
    pub fn validate(&self) -> Result<()> {
        if self.version != FORMAT_VERSION {
            return Err(bad(format!(
                "version = {} is not supported; this build reads version {FORMAT_VERSION}",
                self.version
            )));
        }
        let id = &self.kiosk.id;
        if id.is_empty()
            || id.len() > 64
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        {
            return Err(bad(format!(
                "kiosk.id {id:?} is not valid; use 1-64 characters of A-Z, a-z, 0-9, '-', '_'"
            )));
        }
        let site = self.kiosk.site.trim();
        if site.is_empty() || site.chars().count() > 200 || site.chars().any(char::is_control) {
            return Err(bad(
                "kiosk.site must be 1-200 characters of plain text naming where the kiosk stands",
            ));
        }
        // The same check as `platform.url` in the kiosk config: control characters are refused,
        // not silently dropped by the URL parser.
        if let Err(m) = crate::config::check_url(&self.platform.url) {
            return Err(bad(format!(
                "platform.url {:?}: {m}; give the platform's base URL, e.g. https://zwfw.example.gov.cn/kiosk",
                self.platform.url
            )));
        }
        let t = &self.platform.enroll_token;
        if t.is_empty() {
            return Err(bad(
                "platform.enroll_token is missing or empty; put the one-time token from the platform in the token file",
            ));
        }
        if t.len() < 16 || t.len() > 4096 || !t.chars().all(|c| c.is_ascii_graphic()) {
            return Err(bad(
                "platform.enroll_token must be 16-4096 printable ASCII characters without spaces",
            ));
        }
        if let Some(w) = &self.wifi {
            if w.ssid.is_empty() || w.ssid.len() > 32 {
                return Err(bad("wifi.ssid must be 1-32 bytes"));
            }
            if let Err(m) = crate::config::check_plain(&w.ssid) {
                return Err(bad(format!("wifi.ssid {m}")));
            }
            if w.psk.len() < 8
                || w.psk.len() > 63
                || w.psk.chars().any(|c| !(' '..='~').contains(&c))
            {
                return Err(bad("wifi.psk must be 8-63 printable ASCII characters"));
            }
            if w.country.len() != 2 || !w.country.chars().all(|c| c.is_ascii_uppercase()) {
                return Err(bad("wifi.country must be two capital letters, e.g. CN"));
            }
        }
        Ok(())
    }

    /// Parses and validates the text of a provisioning file.
    pub fn parse(text: &str) -> Result<Self> {
        let p: Provision = toml::from_str(text).map_err(|e| {
            bad(format!(
                "{}; fix the file (keys: version, [kiosk] id site, [platform] url enroll_token, [wifi] ssid psk country)",
                e.message()
            ))
        })?;
        p.validate()?;
        Ok(p)
    }

    /// The file's text, with a comment saying what it is.
    pub fn to_toml(&self) -> Result<String> {
        let body = toml::to_string(self).map_err(|e| bad(e.to_string()))?;
        Ok(format!(
            "# Zizhu kiosk provisioning. Consumed and deleted on first boot by zizhu-provision.service.\n{body}"
        ))
    }

    /// A copy safe to show: the token and Wi-Fi passphrase masked.
    pub fn masked(&self) -> Provision {
        let mut p = self.clone();
        p.platform.enroll_token = mask_secret(&p.platform.enroll_token);
        if let Some(w) = &mut p.wifi {
            w.psk = mask_secret(&w.psk);
        }
        p
    }
}

/// Writes `p` onto the config partition of the image or card at `image`. Refuses to replace an
/// existing provisioning file unless `force`.
#[cfg(feature = "workbench")]
pub fn write_to_image(image: &Path, p: &Provision, force: bool) -> Result<()> {
    p.validate()?;
    let text = p.to_toml()?;
    let mut cp = ConfigPartition::open(image, true)?;
    if !force && cp.read(PROVISION_FILE)?.is_some() {
        return Err(Error::AlreadyProvisioned(image.to_path_buf()));
    }
    cp.write(PROVISION_FILE, text.as_bytes())?;
    tracing::info!(image = %image.display(), kiosk = %p.kiosk.id, "provisioning file written");
    Ok(())
}

/// Where the first-boot step reads and writes.
#[derive(Debug, Clone)]
pub struct FirstBootPaths {
    /// The provisioning file (on the mounted config partition).
    pub file: PathBuf,
    /// The kiosk config to write (`/etc/zizhu/kiosk.toml`); its current content is the template.
    pub config: PathBuf,
    /// The kiosk identity file (`/etc/zizhu/kiosk-id`).
    pub identity: PathBuf,
    /// The data directory on the data partition (`/var/lib/zizhu`); the token goes here.
    pub data_dir: PathBuf,
    /// Where a failure is written for the kiosk screen (`/var/lib/zizhu/provision-error`).
    pub error_file: PathBuf,
    /// wpa_supplicant file written when the provisioning has `[wifi]`.
    pub wifi_conf: PathBuf,
    /// Account that owns the token (the service user), when it exists.
    pub owner: Option<String>,
}

/// What the first-boot step did.
#[derive(Debug, Clone, Serialize)]
pub struct FirstBootReport {
    /// Whether a provisioning file was found and applied.
    pub provisioned: bool,
    /// The kiosk id applied.
    pub kiosk_id: Option<String>,
    /// Where the token went.
    pub token_file: Option<PathBuf>,
}

fn write_atomic(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
    ));
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(|e| Error::io("writing", &tmp, e))?;
    f.write_all(data)
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::io("writing", &tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| Error::io("renaming into", path, e))?;
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn chown_to(path: &Path, user: &str) {
    let Ok(cuser) = std::ffi::CString::new(user) else {
        return;
    };
    // SAFETY: getpwnam returns null or a pointer to a static passwd record, read at once.
    let pw = unsafe { libc::getpwnam(cuser.as_ptr()) };
    if pw.is_null() {
        return;
    }
    // SAFETY: `pw` is non-null and points to a valid passwd record (see above).
    let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
    if let Err(e) = std::os::unix::fs::chown(path, Some(uid), Some(gid)) {
        tracing::warn!(path = %path.display(), error = %e, "could not give the file to the service user");
    }
}

/// 32 random bytes from the kernel, as hex.
fn random_token() -> Result<String> {
    use std::io::Read;
    let mut b = [0u8; 32];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| Error::io("reading", "/dev/urandom", e))?;
    Ok(hex::encode(b))
}

/// Sets `key` in `[section]` of a TOML document, keeping comments and other keys.
fn set_key(doc: &mut toml_edit::DocumentMut, section: &str, key: &str, value: &str) {
    if !doc.contains_table(section) {
        doc[section] = toml_edit::table();
    }
    doc[section][key] = toml_edit::value(value);
}

/// Rewrites the kiosk config: identity, site, platform URL and the token file, keeping the rest of
/// the template (comments included).
pub fn render_config(template: &str, p: &Provision, token_file: &Path) -> Result<String> {
    let mut doc: toml_edit::DocumentMut = template
        .parse()
        .map_err(|e| bad(format!("the config template is not valid TOML: {e}")))?;
    set_key(&mut doc, "kiosk", "id", &p.kiosk.id);
    set_key(&mut doc, "kiosk", "site", p.kiosk.site.trim());
    set_key(&mut doc, "platform", "url", &p.platform.url);
    set_key(
        &mut doc,
        "platform",
        "token_file",
        &token_file.to_string_lossy(),
    );
    Ok(doc.to_string())
}

fn wpa_conf(w: &WifiSection) -> String {
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        "# Written by zizhu-provision.service from the provisioning file.\nctrl_interface=DIR=/run/wpa_supplicant\ncountry={}\nnetwork={{\n    ssid=\"{}\"\n    psk=\"{}\"\n}}\n",
        w.country,
        esc(&w.ssid),
        esc(&w.psk)
    )
}

/// The first-boot step. With no provisioning file it does nothing. With a good one it applies it
/// and deletes it; with a bad one it leaves it in place, writes the reason to `error_file` and
/// returns the error.
pub fn first_boot(paths: &FirstBootPaths) -> Result<FirstBootReport> {
    let text = match fs::read_to_string(&paths.file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::info!(file = %paths.file.display(), "no provisioning file; nothing to do");
            return Ok(FirstBootReport {
                provisioned: false,
                kiosk_id: None,
                token_file: None,
            });
        }
        Err(e) => return Err(Error::io("reading", &paths.file, e)),
    };
    match apply(paths, &text) {
        Ok(r) => {
            let _ = fs::remove_file(&paths.error_file);
            Ok(r)
        }
        Err(e) => {
            let msg = format!(
                "Provisioning failed: {e}\nThe file {} was left in place. Fix it on a workbench (zizhu image provision --force) and restart.\n",
                paths.file.display()
            );
            if let Some(dir) = paths.error_file.parent() {
                let _ = fs::create_dir_all(dir);
            }
            if let Err(we) = fs::write(&paths.error_file, &msg) {
                tracing::warn!(error = %we, "could not write the provisioning error file");
            }
            tracing::error!(error = %e, file = %paths.file.display(), "provisioning failed; file left in place");
            Err(e)
        }
    }
}

fn apply(paths: &FirstBootPaths, text: &str) -> Result<FirstBootReport> {
    let p = Provision::parse(text)?;
    let template = match fs::read_to_string(&paths.config) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io("reading", &paths.config, e)),
    };
    let token_file = paths.data_dir.join("platform-token");
    let config = render_config(&template, &p, &token_file)?;
    // What `zizhu config check` checks: never write a config the runtime would refuse.
    let parsed = crate::config::Config::parse(&config).map_err(|e| {
        bad(format!(
            "the kiosk config made from {} would be invalid: {e}; fix the template or the provisioning file",
            paths.config.display()
        ))
    })?;

    write_atomic(
        &token_file,
        format!("{}\n", p.platform.enroll_token).as_bytes(),
        0o600,
    )?;
    if let Some(user) = &paths.owner {
        chown_to(&token_file, user);
    }
    write_atomic(&paths.config, config.as_bytes(), 0o644)?;
    write_atomic(
        &paths.identity,
        format!("{}\n", p.kiosk.id).as_bytes(),
        0o644,
    )?;
    // A copy of the applied config on the data partition survives A/B root updates.
    write_atomic(
        &paths.data_dir.join("provisioned/kiosk.toml"),
        config.as_bytes(),
        0o644,
    )?;
    if let Some(w) = &p.wifi {
        write_atomic(&paths.wifi_conf, wpa_conf(w).as_bytes(), 0o600)?;
    }
    // The status server's bearer token: made here when the config names a file that is missing
    // (operators read it from the kiosk once, or replace it through their own tooling).
    if let Some(tf) = &parsed.status_token_file {
        if !tf.exists() {
            write_atomic(tf, format!("{}\n", random_token()?).as_bytes(), 0o600)?;
            if let Some(user) = &paths.owner {
                chown_to(tf, user);
            }
        }
    }
    fs::remove_file(&paths.file).map_err(|e| Error::io("deleting", &paths.file, e))?;
    if let Some(dir) = paths.file.parent().and_then(|d| fs::File::open(d).ok()) {
        let _ = dir.sync_all();
    }
    tracing::info!(kiosk = %p.kiosk.id, token = %mask_secret(&p.platform.enroll_token), "provisioned; provisioning file deleted");
    Ok(FirstBootReport {
        provisioned: true,
        kiosk_id: Some(p.kiosk.id),
        token_file: Some(token_file),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Provision {
        Provision {
            version: 1,
            kiosk: KioskSection {
                id: "GD-SZ-0001".into(),
                site: "福田区 邮政支局".into(),
            },
            platform: PlatformSection {
                url: "https://platform.example/kiosk".into(),
                enroll_token: "tok_0123456789abcdef".into(),
            },
            wifi: None,
        }
    }

    #[test]
    fn round_trips_and_masks() {
        let p = sample();
        let text = p.to_toml().unwrap();
        assert_eq!(Provision::parse(&text).unwrap(), p);
        assert!(!format!("{:?}", p.masked()).contains("0123456789abcdef"));
    }

    #[test]
    fn unknown_key_is_named() {
        let text = sample()
            .to_toml()
            .unwrap()
            .replace("[kiosk]", "[kiosk]\ncolour = \"red\"");
        let err = Provision::parse(&text).unwrap_err().to_string();
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn missing_token_is_named() {
        let mut p = sample();
        p.platform.enroll_token.clear();
        let err = p.validate().unwrap_err().to_string();
        assert!(err.contains("enroll_token"), "{err}");
    }

    #[test]
    fn config_keeps_comments() {
        let t = "# kiosk config\n[kiosk]\nid = \"unprovisioned\" # set on first boot\n[data]\ndir = \"/var/lib/zizhu\"\n";
        let out = render_config(t, &sample(), Path::new("/var/lib/zizhu/platform-token")).unwrap();
        assert!(out.contains("# kiosk config"));
        assert!(out.contains("id = \"GD-SZ-0001\""));
        assert!(out.contains("token_file = \"/var/lib/zizhu/platform-token\""));
        assert!(out.contains("dir = \"/var/lib/zizhu\""));
    }

    #[test]
    fn first_boot_consumes_good_and_keeps_bad() {
        let d = tempfile::tempdir().unwrap();
        let paths = FirstBootPaths {
            file: d.path().join("boot/zizhu-provision.toml"),
            config: d.path().join("etc/kiosk.toml"),
            identity: d.path().join("etc/kiosk-id"),
            data_dir: d.path().join("data"),
            error_file: d.path().join("run/provision-error"),
            wifi_conf: d.path().join("etc/wpa.conf"),
            owner: None,
        };
        fs::create_dir_all(d.path().join("boot")).unwrap();
        // Nothing to do.
        assert!(!first_boot(&paths).unwrap().provisioned);
        // A bad file stays.
        fs::write(&paths.file, "version = 1\n[kiosk]\nid = \"x\"\n").unwrap();
        assert!(first_boot(&paths).is_err());
        assert!(paths.file.exists());
        assert!(fs::read_to_string(&paths.error_file)
            .unwrap()
            .contains("Provisioning failed"));
        // A good one is consumed.
        fs::write(&paths.file, sample().to_toml().unwrap()).unwrap();
        let r = first_boot(&paths).unwrap();
        assert!(r.provisioned);
        assert!(!paths.file.exists());
        assert!(!paths.error_file.exists());
        let tok = fs::read_to_string(d.path().join("data/platform-token")).unwrap();
        assert_eq!(tok.trim(), "tok_0123456789abcdef");
        assert_eq!(fs::read_to_string(&paths.identity).unwrap(), "GD-SZ-0001\n");
    }
}
