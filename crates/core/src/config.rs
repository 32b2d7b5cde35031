//! The kiosk configuration: one TOML file (`/etc/zizhu/kiosk.toml` on a kiosk), parsed into
//! [`RawConfig`] (exactly the file, unknown keys refused) and validated once into [`Config`], the
//! only configuration type the rest of the runtime sees. With no file the kiosk runs in simulation
//! mode: simulated devices, the demo platform in-process, data under the user's data directory.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::catalog::Lang;

mod voice;
pub use voice::{QuietHours, RawVoice, VoiceConfig, VoiceLanguage, PACKAGED_PACKS};

/// A problem with a configuration file; each names the key and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read. Check the path and its permissions.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not valid TOML, an unknown key, or a value of the wrong type.
    #[error("line {line}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// What the parser said (it names the key).
        message: String,
    },
    /// A value is out of range or inconsistent.
    #[error("`{key}`: {message}")]
    Invalid {
        /// The key, e.g. `kiosk.idle_timeout_secs`.
        key: String,
        /// What is wrong and what to do.
        message: String,
    },
}

/// The configuration file exactly as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// `[kiosk]`: identity and behaviour.
    #[serde(default)]
    pub kiosk: RawKiosk,
    /// `[platform]`: the service platform.
    #[serde(default)]
    pub platform: RawPlatform,
    /// `[data]`: where the journal lives.
    #[serde(default)]
    pub data: RawData,
    /// `[devices]`: the ID-card reader, printer and scanner.
    #[serde(default)]
    pub devices: RawDevices,
    /// `[gpio]`: LEDs, buzzer, presence sensor, power relay.
    #[serde(default)]
    pub gpio: RawGpio,
    /// `[status]`: the status server for operators.
    #[serde(default)]
    pub status: RawStatus,
    /// `[elicense]`: e-licence verification.
    #[serde(default)]
    pub elicense: RawElicense,
    /// `[maintenance]`: the technician screen.
    #[serde(default)]
    pub maintenance: RawMaintenance,
    /// `[supervisor]`: power-cycling devices that stopped answering.
    #[serde(default)]
    pub supervisor: RawSupervisor,
    /// `[display]`: how the panel is mounted.
    #[serde(default)]
    pub display: RawDisplay,
    /// `[catalog]`: the site profile and the keys of signed catalog bundles.
    #[serde(default)]
    pub catalog: RawCatalogSection,
    /// `[voice]`: spoken guidance.
    #[serde(default)]
    pub voice: RawVoice,
    /// `[help]`: call for help (呼叫帮助): the hotline and video help.
    #[serde(default)]
    pub help: RawHelp,
}

/// `[help]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHelp {
    /// The hotline shown with a help request (digits and `-`; default `12345`, the government
    /// service hotline).
    pub hotline: Option<String>,
    /// Video help (粤视办): the link the help screen shows as a QR code for the citizen's phone.
    /// No QR code when absent.
    pub video_url: Option<String>,
}

/// `[help]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpConfig {
    /// The hotline.
    pub hotline: String,
    /// Video help link, when there is one.
    pub video_url: Option<String>,
}

impl Default for HelpConfig {
    fn default() -> Self {
        HelpConfig {
            hotline: "12345".into(),
            video_url: None,
        }
    }
}

/// `[catalog]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCatalogSection {
    /// The site profile (`[[profile]]` id in the catalog): which services this kiosk offers.
    pub profile: Option<String>,
    /// Keys that may sign catalog bundles, `es256:04…` or `sm2:04…` (besides trust-list keys
    /// with usage "catalog").
    #[serde(default)]
    pub keys: Vec<String>,
    /// Seconds between bundle fetches (60 to 86400; default 900).
    pub poll_secs: Option<u64>,
}

/// `[display]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDisplay {
    /// Degrees clockwise the UI is turned on the panel (0, 90, 180 or 270): a landscape panel
    /// mounted in portrait needs 90 or 270. Kept as written so that a bad value is named.
    pub rotation: Option<toml::Value>,
}

/// `[kiosk]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKiosk {
    /// Kiosk id, e.g. `MZ-0042`.
    pub id: Option<String>,
    /// Site name shown on the attract screen, e.g. 梅江区邮政支局.
    pub site: Option<String>,
    /// Default language: `zh` or `en`.
    pub language: Option<String>,
    /// Seconds without a touch before the session is cleared (a 10 s countdown is shown first).
    pub idle_timeout_secs: Option<u64>,
}

/// `[platform]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlatform {
    /// Base URL of the service platform. Absent: the demo platform runs in-process.
    pub url: Option<String>,
    /// File holding this kiosk's bearer token for the platform.
    pub token_file: Option<PathBuf>,
    /// Per-request timeout in milliseconds.
    pub timeout_ms: Option<u64>,
}

/// `[data]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawData {
    /// Data directory (journal database, tokens). Default: the user's data dir + `/zizhu`.
    pub dir: Option<PathBuf>,
}

/// `[devices]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDevices {
    /// `[devices.idcard]`
    pub idcard: Option<RawDevice>,
    /// `[devices.printer]`
    pub printer: Option<RawDevice>,
    /// `[devices.scanner]`
    pub scanner: Option<RawDevice>,
}

/// One serial device.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawDevice {
    /// `serial` (a real device), `sim` (a simulator started in-process) or `none`.
    pub backend: Option<String>,
    /// Serial port, e.g. `/dev/zizhu-idcard` (udev rules give stable names).
    pub port: Option<PathBuf>,
    /// Baud rate.
    pub baud: Option<u32>,
}

/// `[gpio]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGpio {
    /// `rpi` (rppal, feature `rpi`), `sim` (simulated, in-process) or `none`.
    pub backend: Option<String>,
    /// BCM pin of the ID-card reader's power relay (high = powered); absent: no relay.
    pub relay_idcard_pin: Option<u8>,
    /// BCM pin of the printer's power relay (high = powered); absent: no relay.
    pub relay_printer_pin: Option<u8>,
}

/// `[supervisor]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSupervisor {
    /// Power-cycle devices with a relay that stay offline (default true).
    pub power_cycle: Option<bool>,
    /// Seconds a device must be offline before it is cycled (default 60).
    pub offline_grace_secs: Option<u64>,
    /// Seconds its power stays off (default 3).
    pub power_off_secs: Option<u64>,
    /// Shortest time between two cycles of one device, in seconds (default 600).
    pub min_interval_secs: Option<u64>,
    /// Longest wait the doubling reaches, in seconds (default 3600).
    pub max_interval_secs: Option<u64>,
}

/// `[status]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStatus {
    /// Bind address, e.g. `0.0.0.0:9464`.
    pub listen: Option<String>,
    /// File holding the bearer token operators use.
    pub token_file: Option<PathBuf>,
    /// The bearer token itself (prefer `token_file`).
    pub token: Option<String>,
    /// TLS certificate (PEM); with `tls_key`, the server speaks HTTPS.
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// Requests per second allowed per client address, on average (default 10; 0 = no limit).
    pub rate_limit_per_second: Option<f64>,
    /// Requests a client may send in a burst above the average (default 50).
    pub rate_limit_burst: Option<f64>,
}

/// `[elicense]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawElicense {
    /// Pinned trust-list root public keys (hex SEC1 uncompressed), current and next.
    #[serde(default)]
    pub root_keys: Vec<String>,
    /// Allowed clock skew in seconds (default 60).
    pub skew_secs: Option<u64>,
}

/// `[maintenance]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMaintenance {
    /// Technician PIN, hashed (see `zizhu config hash-pin`): an Argon2 PHC string.
    pub pin_hash: Option<String>,
    /// Where first-boot provisioning writes its failure (default
    /// `/var/lib/zizhu/provision-error`; in simulation `provision-error` in the data directory).
    pub provision_error_file: Option<PathBuf>,
    /// The image's build information (default `/boot/zizhu/zizhu-build.toml`; in simulation
    /// `zizhu-build.toml` in the data directory).
    pub build_info_file: Option<PathBuf>,
}

/// Which implementation a device uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceBackend {
    /// A real device on a serial port.
    Serial {
        /// The port.
        port: PathBuf,
        /// Baud rate.
        baud: u32,
    },
    /// A simulator started in-process on a pseudo-terminal, driven by the real serial driver.
    Sim,
    /// No such device at this kiosk.
    None,
}

/// Which GPIO implementation the kiosk uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpioBackend {
    /// Real pins through rppal (a build with feature `rpi` on a Raspberry Pi).
    Rpi,
    /// The simulated GPIO (`zizhu_drivers::gpio::SimGpio`); a relay switched off unplugs the
    /// simulated device behind it.
    Sim,
    /// None: LEDs, buzzer and relays do nothing.
    None,
}

/// `[gpio]`, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpioConfig {
    /// The implementation.
    pub backend: GpioBackend,
    /// BCM pin of the reader's relay, when it has one.
    pub relay_idcard_pin: Option<u8>,
    /// BCM pin of the printer's relay, when it has one.
    pub relay_printer_pin: Option<u8>,
}

/// The site of a kiosk whose config names none (`[kiosk] site`): the simulated kiosk's.
pub const DEFAULT_SITE: &str = "梅州市政务服务中心（模拟）";

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Kiosk id.
    pub kiosk_id: String,
    /// Site name.
    pub site: String,
    /// Default language.
    pub language: Lang,
    /// Idle timeout before the session is cleared.
    pub idle_timeout: Duration,
    /// Platform base URL; `None` runs the demo platform in-process.
    pub platform_url: Option<String>,
    /// Platform token file.
    pub platform_token_file: Option<PathBuf>,
    /// Platform request timeout.
    pub platform_timeout: Duration,
    /// Data directory.
    pub data_dir: PathBuf,
    /// ID-card reader.
    pub idcard: DeviceBackend,
    /// Receipt printer.
    pub printer: DeviceBackend,
    /// QR scanner.
    pub scanner: DeviceBackend,
    /// GPIO: implementation and relay pins.
    pub gpio: GpioConfig,
    /// When devices that stopped answering are power-cycled.
    pub supervisor: crate::supervisor::Policy,
    /// Status server bind address.
    pub status_listen: Option<SocketAddr>,
    /// Status token file.
    pub status_token_file: Option<PathBuf>,
    /// Status token given inline.
    pub status_token: Option<String>,
    /// Status TLS certificate and key.
    pub status_tls: Option<(PathBuf, PathBuf)>,
    /// Status server: requests per second per client address (0 = no limit).
    pub status_rate_limit_per_second: f64,
    /// Status server: burst per client address.
    pub status_rate_limit_burst: f64,
    /// Pinned e-licence trust-list root keys (hex).
    pub elicense_root_keys: Vec<String>,
    /// E-licence clock skew.
    pub elicense_skew: Duration,
    /// Hashed technician PIN (an Argon2 PHC string, checked at load).
    pub maintenance_pin_hash: Option<String>,
    /// `[maintenance] provision_error_file` as given (see [`Config::provision_error_path`]).
    pub provision_error_file: Option<PathBuf>,
    /// `[maintenance] build_info_file` as given (see [`Config::build_info_path`]).
    pub build_info_file: Option<PathBuf>,
    /// `[display] rotation`: 0, 90, 180 or 270 degrees clockwise (the DRM/KMS backend turns
    /// the picture and the touch input; a desktop window ignores it).
    pub display_rotation: u16,
    /// `[catalog] profile`: the site profile, none for every service.
    pub catalog_profile: Option<String>,
    /// `[catalog] keys`, checked to parse.
    pub catalog_keys: Vec<String>,
    /// `[catalog] poll_secs`.
    pub catalog_poll: Duration,
    /// `[voice]`: spoken guidance.
    pub voice: VoiceConfig,
    /// `[help]`: the hotline and video help.
    pub help: HelpConfig,
    /// True when no config file was given (simulation mode).
    pub simulation: bool,
}

/// Checks a name or id given by a person (config, provisioning file, command line): no control
/// characters (newlines, tabs, escapes, C1), which would be dropped or acted on somewhere between
/// the check and the use. The message says what is wrong; the caller names the key.
pub fn check_plain(value: &str) -> Result<(), String> {
    match value.chars().find(|c| c.is_control()) {
        Some(c) => Err(format!(
            "contains the control character U+{:04X}; remove it (an editor may show it as a line break or nothing at all)",
            c as u32
        )),
        None => Ok(()),
    }
}

/// Checks a platform base URL: no control characters or spaces (URL parsers drop tabs and
/// newlines silently, so the URL used would not be the one checked), `http://` or `https://`,
/// and a host. The message says what is wrong; the caller names the key.
pub fn check_url(value: &str) -> Result<(), String> {
    check_plain(value)?;
    if value.contains(' ') {
        return Err("contains a space; a URL has none (percent-encode it as %20)".into());
    }
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        Ok(_) => Err(format!(
            "`{value}` is not an http:// or https:// URL with a host, e.g. https://platform.example/kiosk"
        )),
        Err(e) => Err(format!(
            "`{value}` is not a URL ({e}); use e.g. https://platform.example/kiosk"
        )),
    }
}

fn invalid<T>(key: &str, message: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError::Invalid {
        key: key.to_string(),
        message: message.into(),
    })
}

/// The default data directory: `$XDG_DATA_HOME/zizhu` (or `~/.local/share/zizhu`).
pub fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "zizhu")
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".zizhu"))
}

fn device(
    raw: Option<&RawDevice>,
    key: &str,
    default: DeviceBackend,
) -> Result<DeviceBackend, ConfigError> {
    let Some(raw) = raw else { return Ok(default) };
    match raw.backend.as_deref().unwrap_or("serial") {
        "serial" => match &raw.port {
            Some(port) => Ok(DeviceBackend::Serial {
                port: port.clone(),
                baud: raw.baud.unwrap_or(115_200),
            }),
            None => invalid(
                &format!("devices.{key}.port"),
                "a serial device needs `port`, e.g. /dev/ttyUSB0",
            ),
        },
        "sim" => Ok(DeviceBackend::Sim),
        "none" => Ok(DeviceBackend::None),
        other => invalid(
            &format!("devices.{key}.backend"),
            format!("unknown backend `{other}`: use serial, sim or none"),
        ),
    }
}

fn gpio(raw: &RawGpio, simulation: bool) -> Result<GpioConfig, ConfigError> {
    let default = if simulation { "sim" } else { "none" };
    let backend = match raw.backend.as_deref().unwrap_or(default) {
        "rpi" => GpioBackend::Rpi,
        "sim" => GpioBackend::Sim,
        "none" => GpioBackend::None,
        other => {
            return invalid(
                "gpio.backend",
                format!("unknown backend `{other}`: use rpi, sim or none"),
            )
        }
    };
    let pins = zizhu_drivers::gpio::Pins::default();
    let (mut idcard, mut printer) = (raw.relay_idcard_pin, raw.relay_printer_pin);
    if simulation && backend == GpioBackend::Sim && idcard.is_none() && printer.is_none() {
        // The simulated kiosk has both relays, on the default pins.
        idcard = Some(pins.relay_reader);
        printer = Some(pins.relay_printer);
    }
    for (key, pin) in [
        ("gpio.relay_idcard_pin", idcard),
        ("gpio.relay_printer_pin", printer),
    ] {
        let Some(pin) = pin else { continue };
        if pin > 27 {
            return invalid(
                key,
                format!("BCM pin {pin} does not exist: use 0-27 (the default relays are 5 and 6)"),
            );
        }
        if backend == GpioBackend::None {
            return invalid(
                key,
                "a relay needs a GPIO: set gpio.backend = \"rpi\" (or \"sim\"), or remove the pin",
            );
        }
        let taken = [
            pins.led_ready,
            pins.led_busy,
            pins.led_fault,
            pins.buzzer,
            pins.presence,
        ];
        if taken.contains(&pin) {
            return invalid(
                key,
                format!("BCM pin {pin} is used by an LED, the buzzer or the presence sensor (17, 27, 22, 18, 23); use another pin, e.g. 5 or 6"),
            );
        }
    }
    if idcard.is_some() && idcard == printer {
        return invalid(
            "gpio.relay_printer_pin",
            "the reader and the printer need different relay pins",
        );
    }
    Ok(GpioConfig {
        backend,
        relay_idcard_pin: idcard,
        relay_printer_pin: printer,
    })
}

fn supervisor(raw: &RawSupervisor) -> Result<crate::supervisor::Policy, ConfigError> {
    let d = crate::supervisor::Policy::default();
    let secs =
        |key: &str, v: Option<u64>, default: Duration, range: std::ops::RangeInclusive<u64>| {
            let v = v.unwrap_or(default.as_secs());
            if range.contains(&v) {
                Ok(Duration::from_secs(v))
            } else {
                invalid(
                    &format!("supervisor.{key}"),
                    format!(
                        "use between {} and {} seconds (default {})",
                        range.start(),
                        range.end(),
                        default.as_secs()
                    ),
                )
            }
        };
    let grace = secs(
        "offline_grace_secs",
        raw.offline_grace_secs,
        d.grace,
        10..=3600,
    )?;
    let off_for = secs("power_off_secs", raw.power_off_secs, d.off_for, 1..=30)?;
    let min_interval = secs(
        "min_interval_secs",
        raw.min_interval_secs,
        d.min_interval,
        60..=86_400,
    )?;
    let max_interval = secs(
        "max_interval_secs",
        raw.max_interval_secs,
        d.max_interval,
        60..=86_400,
    )?;
    if max_interval < min_interval {
        return invalid(
            "supervisor.max_interval_secs",
            "must not be shorter than min_interval_secs",
        );
    }
    Ok(crate::supervisor::Policy {
        enabled: raw.power_cycle.unwrap_or(d.enabled),
        grace,
        off_for,
        min_interval,
        max_interval,
    })
}

impl Config {
    /// Where the first-boot provisioning error is looked for: `[maintenance]
    /// provision_error_file`, else `provision-error` in the data directory in simulation, else
    /// `/var/lib/zizhu/provision-error`.
    pub fn provision_error_path(&self) -> PathBuf {
        match &self.provision_error_file {
            Some(p) => p.clone(),
            None if self.simulation => self.data_dir.join("provision-error"),
            None => PathBuf::from(crate::maintenance::PROVISION_ERROR_FILE),
        }
    }

    /// Where the image's build information is read: `[maintenance] build_info_file`, else
    /// `zizhu-build.toml` in the data directory in simulation, else
    /// `/boot/zizhu/zizhu-build.toml`.
    pub fn build_info_path(&self) -> PathBuf {
        match &self.build_info_file {
            Some(p) => p.clone(),
            None if self.simulation => self.data_dir.join(crate::maintenance::BUILD_INFO_NAME),
            None => PathBuf::from(crate::maintenance::BUILD_INFO_FILE),
        }
    }

    /// Simulation mode: no file, simulated devices, the demo platform in-process.
    pub fn simulation() -> Config {
        // The empty file is valid by construction (every key has a default).
        match Config::from_raw(RawConfig::default(), true) {
            Ok(c) => c,
            Err(e) => unreachable!("the default config is valid: {e}"),
        }
    }

    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text)
    }

    /// Validates config text.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| {
                    text.as_bytes()[..s.start.min(text.len())]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count()
                        + 1
                })
                .unwrap_or(1);
            ConfigError::Syntax {
                line,
                message: e.message().trim().to_string(),
            }
        })?;
        Config::from_raw(raw, false)
    }

    fn from_raw(raw: RawConfig, simulation: bool) -> Result<Config, ConfigError> {
        let kiosk_id = raw.kiosk.id.unwrap_or_else(|| "SIM-0001".to_string());
        if kiosk_id.is_empty()
            || kiosk_id.len() > 64
            || !kiosk_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return invalid(
                "kiosk.id",
                "use 1-64 letters, digits, '-' or '_', e.g. MZ-0042",
            );
        }
        let language = match raw.kiosk.language.as_deref() {
            None => Lang::Zh,
            Some(s) => match Lang::parse(s) {
                Some(l) => l,
                None => {
                    return invalid(
                        "kiosk.language",
                        format!("unknown language `{s}`: use zh or en"),
                    )
                }
            },
        };
        let idle = raw.kiosk.idle_timeout_secs.unwrap_or(60);
        if !(15..=600).contains(&idle) {
            return invalid(
                "kiosk.idle_timeout_secs",
                "use between 15 and 600 seconds (the last 10 s show a countdown)",
            );
        }
        if let Some(url) = &raw.platform.url {
            if let Err(m) = check_url(url) {
                return invalid("platform.url", m);
            }
        }
        if let Some(site) = &raw.kiosk.site {
            if let Err(m) = check_plain(site) {
                return invalid("kiosk.site", m);
            }
        }
        // Names and ids of files and devices: a control character there is never meant.
        let paths = [
            ("platform.token_file", raw.platform.token_file.as_ref()),
            ("data.dir", raw.data.dir.as_ref()),
            ("status.token_file", raw.status.token_file.as_ref()),
            ("status.tls_cert", raw.status.tls_cert.as_ref()),
            ("status.tls_key", raw.status.tls_key.as_ref()),
            (
                "maintenance.provision_error_file",
                raw.maintenance.provision_error_file.as_ref(),
            ),
            (
                "maintenance.build_info_file",
                raw.maintenance.build_info_file.as_ref(),
            ),
        ];
        for (key, p) in paths {
            if let Some(Err(m)) = p.map(|p| check_plain(&p.to_string_lossy())) {
                return invalid(key, m);
            }
        }
        for (key, d) in [
            ("devices.idcard.port", &raw.devices.idcard),
            ("devices.printer.port", &raw.devices.printer),
            ("devices.scanner.port", &raw.devices.scanner),
        ] {
            if let Some(Err(m)) = d
                .as_ref()
                .and_then(|d| d.port.as_ref())
                .map(|p| check_plain(&p.to_string_lossy()))
            {
                return invalid(key, m);
            }
        }
        let timeout_ms = raw.platform.timeout_ms.unwrap_or(8000);
        if !(100..=120_000).contains(&timeout_ms) {
            return invalid("platform.timeout_ms", "use between 100 and 120000 ms");
        }
        let default_dev = if simulation {
            DeviceBackend::Sim
        } else {
            DeviceBackend::None
        };
        let idcard = device(raw.devices.idcard.as_ref(), "idcard", default_dev.clone())?;
        let printer = device(raw.devices.printer.as_ref(), "printer", default_dev.clone())?;
        let scanner = device(raw.devices.scanner.as_ref(), "scanner", default_dev)?;
        let gpio = gpio(&raw.gpio, simulation)?;
        let supervisor = supervisor(&raw.supervisor)?;
        let status_listen = match &raw.status.listen {
            None => None,
            Some(s) => match s.parse::<SocketAddr>() {
                Ok(a) => Some(a),
                Err(_) => {
                    return invalid(
                        "status.listen",
                        format!("`{s}` is not an address: use IP:PORT, e.g. 0.0.0.0:9464"),
                    )
                }
            },
        };
        if raw.status.token.is_some() && raw.status.token_file.is_some() {
            return invalid(
                "status.token",
                "give either `token` or `token_file`, not both",
            );
        }
        if let Some(t) = &raw.status.token {
            if t.len() < 16 || !t.chars().all(|c| c.is_ascii_graphic()) {
                return invalid(
                    "status.token",
                    "use at least 16 printable ASCII characters without spaces",
                );
            }
        }
        let per_second = raw.status.rate_limit_per_second.unwrap_or(10.0);
        if !(per_second.is_finite() && (0.0..=10_000.0).contains(&per_second)) {
            return invalid(
                "status.rate_limit_per_second",
                "use between 0 (no limit) and 10000 requests per second per client (default 10)",
            );
        }
        let burst = raw.status.rate_limit_burst.unwrap_or(50.0);
        if !(burst.is_finite() && (1.0..=100_000.0).contains(&burst)) {
            return invalid(
                "status.rate_limit_burst",
                "use between 1 and 100000 requests (default 50)",
            );
        }
        let status_tls = match (raw.status.tls_cert, raw.status.tls_key) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => {
                return invalid(
                    "status.tls_cert",
                    "give both `tls_cert` and `tls_key`, or neither",
                )
            }
        };
        for (i, k) in raw.elicense.root_keys.iter().enumerate() {
            let ok =
                k.len() == 130 && k.starts_with("04") && k.chars().all(|c| c.is_ascii_hexdigit());
            if !ok {
                return invalid(
                    &format!("elicense.root_keys[{i}]"),
                    "use a hex SEC1 uncompressed public key (130 hex digits starting 04)",
                );
            }
        }
        if raw.elicense.root_keys.len() > 2 {
            return invalid(
                "elicense.root_keys",
                "pin at most two root keys (current and next)",
            );
        }
        let skew = raw.elicense.skew_secs.unwrap_or(60);
        if skew > 600 {
            return invalid("elicense.skew_secs", "use at most 600 seconds");
        }
        if let Some(h) = &raw.maintenance.pin_hash {
            if let Err(e) = crate::maintenance::check_hash(h) {
                return invalid("maintenance.pin_hash", e.to_string());
            }
        }
        let display_rotation = match &raw.display.rotation {
            None => 0,
            Some(toml::Value::Integer(r @ (0 | 90 | 180 | 270))) => *r as u16,
            Some(other) => {
                return invalid(
                    "display.rotation",
                    format!("{other} is not a rotation; use 0, 90, 180 or 270 (degrees clockwise)"),
                )
            }
        };
        if let Some(p) = &raw.catalog.profile {
            let c = crate::catalog::Catalog::builtin();
            if c.profile(p).is_none() {
                let known: Vec<&str> = c.profiles().iter().map(|p| p.id.as_str()).collect();
                return invalid(
                    "catalog.profile",
                    format!(
                        "unknown site profile `{p}`; use one of {}",
                        known.join(", ")
                    ),
                );
            }
        }
        for (i, k) in raw.catalog.keys.iter().enumerate() {
            if let Err(e) = crate::elicense::trust::parse_root(k) {
                return invalid(
                    &format!("catalog.keys[{i}]"),
                    format!("{e}; write the key as es256:04… or sm2:04…"),
                );
            }
        }
        let poll = raw.catalog.poll_secs.unwrap_or(900);
        if !(60..=86_400).contains(&poll) {
            return invalid("catalog.poll_secs", "use 60 to 86400 seconds");
        }
        let voice = voice::voice(&raw.voice)?;
        let help = help(&raw.help)?;
        Ok(Config {
            kiosk_id,
            site: raw.kiosk.site.unwrap_or_else(|| DEFAULT_SITE.to_string()),
            language,
            idle_timeout: Duration::from_secs(idle),
            platform_url: raw.platform.url,
            platform_token_file: raw.platform.token_file,
            platform_timeout: Duration::from_millis(timeout_ms),
            data_dir: raw.data.dir.unwrap_or_else(default_data_dir),
            idcard,
            printer,
            scanner,
            gpio,
            supervisor,
            status_listen,
            status_token_file: raw.status.token_file,
            status_token: raw.status.token,
            status_tls,
            status_rate_limit_per_second: per_second,
            status_rate_limit_burst: burst,
            elicense_root_keys: raw.elicense.root_keys,
            elicense_skew: Duration::from_secs(skew),
            maintenance_pin_hash: raw.maintenance.pin_hash.map(|h| h.trim().to_string()),
            provision_error_file: raw.maintenance.provision_error_file,
            build_info_file: raw.maintenance.build_info_file,
            display_rotation,
            catalog_profile: raw.catalog.profile,
            catalog_keys: raw.catalog.keys,
            catalog_poll: Duration::from_secs(poll),
            voice,
            help,
            simulation,
        })
    }
}

fn help(raw: &RawHelp) -> Result<HelpConfig, ConfigError> {
    let mut c = HelpConfig::default();
    if let Some(h) = &raw.hotline {
        let ok = (3..=20).contains(&h.len())
            && h.chars().all(|c| c.is_ascii_digit() || c == '-')
            && h.starts_with(|c: char| c.is_ascii_digit());
        if !ok {
            return invalid(
                "help.hotline",
                format!("`{h}` is not a phone number; use 3-20 digits and '-', e.g. 12345 or 0753-2188000"),
            );
        }
        c.hotline = h.clone();
    }
    if let Some(u) = &raw.video_url {
        if let Err(m) = check_url(u) {
            return invalid("help.video_url", m);
        }
        if u.len() > 512 {
            return invalid(
                "help.video_url",
                "is longer than 512 characters; a QR code that long is hard to scan, use a short link",
            );
        }
        c.video_url = Some(u.clone());
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_is_valid() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.kiosk_id, "SIM-0001");
        assert_eq!(c.idle_timeout, Duration::from_secs(60));
        assert_eq!(c.idcard, DeviceBackend::None);
        assert_eq!(Config::simulation().idcard, DeviceBackend::Sim);
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let e = Config::parse("[kiosk]\nid = \"MZ-1\"\nidle = 3\n").unwrap_err();
        let s = e.to_string();
        assert!(s.contains("line 3") && s.contains("idle"), "{s}");
    }

    #[test]
    fn catalog_section_is_checked_and_named() {
        let c = Config::parse("[catalog]\nprofile = \"village\"\n").unwrap();
        assert_eq!(c.catalog_profile.as_deref(), Some("village"));
        assert_eq!(c.catalog_poll, Duration::from_secs(900));
        let e = Config::parse("[catalog]\nprofile = \"mall\"\n").unwrap_err();
        assert!(e.to_string().contains("catalog.profile"), "{e}");
        assert!(e.to_string().contains("village"), "{e}");
        let e = Config::parse("[catalog]\nkeys = [\"rsa:00\"]\n").unwrap_err();
        assert!(e.to_string().contains("catalog.keys[0]"), "{e}");
        let e = Config::parse("[catalog]\npoll_secs = 5\n").unwrap_err();
        assert!(e.to_string().contains("catalog.poll_secs"), "{e}");
        let e = Config::parse("[catalog]\nsite = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("site"), "{e}");
    }

    #[test]
    fn help_section_is_checked_and_named() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.help, HelpConfig::default());
        let c = Config::parse(
            "[help]\nhotline = \"0753-2188000\"\nvideo_url = \"https://ysb.example/v?k=MZ-1\"\n",
        )
        .unwrap();
        assert_eq!(c.help.hotline, "0753-2188000");
        assert_eq!(
            c.help.video_url.as_deref(),
            Some("https://ysb.example/v?k=MZ-1")
        );
        let e = Config::parse("[help]\nhotline = \"call us\"\n").unwrap_err();
        assert!(e.to_string().contains("help.hotline"), "{e}");
        let e = Config::parse("[help]\nvideo_url = \"ftp://x\"\n").unwrap_err();
        assert!(e.to_string().contains("help.video_url"), "{e}");
        let e = Config::parse("[help]\nphone = \"12345\"\n").unwrap_err();
        let s = e.to_string();
        assert!(s.contains("phone") && s.contains("line 2"), "{s}");
    }

    #[test]
    fn display_rotation_is_one_of_four_angles() {
        assert_eq!(Config::parse("").unwrap().display_rotation, 0);
        for r in [0u16, 90, 180, 270] {
            let c = Config::parse(&format!("[display]\nrotation = {r}\n")).unwrap();
            assert_eq!(c.display_rotation, r);
        }
        for bad in ["45", "-90", "360", "\"90\"", "90.0"] {
            let e = Config::parse(&format!("[display]\nrotation = {bad}\n")).unwrap_err();
            let s = e.to_string();
            assert!(
                s.contains("display.rotation") && s.contains("0, 90, 180 or 270"),
                "{bad}: {s}"
            );
        }
        let e = Config::parse("[display]\nturn = 90\n").unwrap_err();
        assert!(e.to_string().contains("turn"), "{e}");
    }

    #[test]
    fn bad_values_are_named() {
        let e = Config::parse("[kiosk]\nidle_timeout_secs = 5\n").unwrap_err();
        assert!(e.to_string().contains("kiosk.idle_timeout_secs"));
        let e = Config::parse("[devices.printer]\nbackend = \"serial\"\n").unwrap_err();
        assert!(e.to_string().contains("devices.printer.port"));
        let e = Config::parse("[status]\nlisten = \"nowhere\"\n").unwrap_err();
        assert!(e.to_string().contains("status.listen"));
    }

    #[test]
    fn maintenance_pin_hash_must_be_a_phc_string() {
        let e = Config::parse("[maintenance]\npin_hash = \"123456\"\n").unwrap_err();
        assert!(e.to_string().contains("maintenance.pin_hash"), "{e}");
        let h = crate::maintenance::hash_pin("135790").unwrap();
        let c = Config::parse(&format!("[maintenance]\npin_hash = \"{h}\"\n")).unwrap();
        assert_eq!(c.maintenance_pin_hash.as_deref(), Some(h.as_str()));
        assert_eq!(
            c.provision_error_path(),
            PathBuf::from("/var/lib/zizhu/provision-error")
        );
        let mut s = Config::simulation();
        s.data_dir = "/tmp/zz".into();
        assert_eq!(
            s.provision_error_path(),
            PathBuf::from("/tmp/zz/provision-error")
        );
        let c = Config::parse("[maintenance]\nprovision_error_file = \"/x/e\"\n").unwrap();
        assert_eq!(c.provision_error_path(), PathBuf::from("/x/e"));
    }

    #[test]
    fn full_file() {
        let c = Config::parse(
            r#"
[kiosk]
id = "MZ-0042"
site = "梅江区邮政支局"
language = "en"
idle_timeout_secs = 90
[platform]
url = "https://platform.example/api"
[devices.idcard]
port = "/dev/zizhu-idcard"
baud = 115200
[devices.printer]
backend = "sim"
[status]
listen = "0.0.0.0:9464"
token_file = "/etc/zizhu/status.token"
"#,
        )
        .unwrap();
        assert_eq!(c.language, Lang::En);
        assert_eq!(
            c.idcard,
            DeviceBackend::Serial {
                port: "/dev/zizhu-idcard".into(),
                baud: 115_200
            }
        );
        assert_eq!(c.printer, DeviceBackend::Sim);
        assert_eq!(c.status_listen, Some("0.0.0.0:9464".parse().unwrap()));
    }

    #[test]
    fn gpio_relays_and_supervisor() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.gpio.backend, GpioBackend::None);
        assert_eq!(c.gpio.relay_printer_pin, None);
        assert_eq!(c.supervisor, crate::supervisor::Policy::default());
        let s = Config::simulation();
        assert_eq!(s.gpio.backend, GpioBackend::Sim);
        assert_eq!(
            (s.gpio.relay_idcard_pin, s.gpio.relay_printer_pin),
            (Some(5), Some(6))
        );
        let c = Config::parse(
            "[gpio]\nbackend = \"rpi\"\nrelay_printer_pin = 6\n[supervisor]\noffline_grace_secs = 120\npower_off_secs = 5\nmax_interval_secs = 7200\n",
        )
        .unwrap();
        assert_eq!(c.gpio.relay_printer_pin, Some(6));
        assert_eq!(c.gpio.relay_idcard_pin, None);
        assert_eq!(c.supervisor.grace, Duration::from_secs(120));
        assert_eq!(c.supervisor.off_for, Duration::from_secs(5));
        assert_eq!(c.supervisor.max_interval, Duration::from_secs(7200));
        for (text, key) in [
            ("[gpio]\nrelay_printer_pin = 6\n", "gpio.relay_printer_pin"),
            (
                "[gpio]\nbackend = \"rpi\"\nrelay_idcard_pin = 40\n",
                "gpio.relay_idcard_pin",
            ),
            (
                "[gpio]\nbackend = \"rpi\"\nrelay_idcard_pin = 17\n",
                "gpio.relay_idcard_pin",
            ),
            (
                "[gpio]\nbackend = \"rpi\"\nrelay_idcard_pin = 6\nrelay_printer_pin = 6\n",
                "gpio.relay_printer_pin",
            ),
            ("[gpio]\nbackend = \"gpiod\"\n", "gpio.backend"),
            (
                "[supervisor]\noffline_grace_secs = 1\n",
                "supervisor.offline_grace_secs",
            ),
            (
                "[supervisor]\npower_off_secs = 0\n",
                "supervisor.power_off_secs",
            ),
            (
                "[supervisor]\nmin_interval_secs = 1200\nmax_interval_secs = 600\n",
                "supervisor.max_interval_secs",
            ),
        ] {
            let e = Config::parse(text).unwrap_err().to_string();
            assert!(e.contains(key), "{text}: {e}");
        }
        let e = Config::parse("[supervisor]\ngrace = 5\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("grace") && e.contains("line 2"), "{e}");
    }
}
