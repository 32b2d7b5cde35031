//! `[voice]` in kiosk.toml: spoken guidance (language of Chinese screens, volume, mute, the slower
//! and louder 长者模式, quiet hours without attract-screen speech, recorded voice packs, the ALSA
//! device). Part of [`super::Config`]; the `zizhu-voice` crate reads the validated form.
use std::path::PathBuf;

use serde::Deserialize;

use super::{check_plain, invalid, ConfigError};

/// Where the packaged voice packs are installed (the `.deb`'s `usr/share/zizhu/voice/`).
pub const PACKAGED_PACKS: &[&str] = &["/usr/share/zizhu/voice/cmn", "/usr/share/zizhu/voice/yue"];

/// `[voice]` exactly as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVoice {
    /// Spoken language of Chinese screens: `cmn` (普通话), `yue` (粤语) or `hak` (客家话).
    pub language: Option<String>,
    /// Volume, 0-100 (default 80).
    pub volume: Option<toml::Value>,
    /// No speech at all (default false).
    pub mute: Option<bool>,
    /// Speaking rate of synthesized speech in words per minute, 80-300 (default 150).
    pub rate: Option<toml::Value>,
    /// 长者模式: rate (default 115) and volume (default 100).
    pub elder_rate: Option<toml::Value>,
    /// 长者模式 volume, 0-100 (default 100).
    pub elder_volume: Option<toml::Value>,
    /// Local times without attract-screen speech, `HH:MM-HH:MM` (may cross midnight).
    pub quiet_hours: Option<String>,
    /// Voice pack folders (default: the packaged Mandarin and Cantonese packs).
    pub packs: Option<Vec<PathBuf>>,
    /// The ALSA PCM to play on (default `default`).
    pub device: Option<String>,
}

/// The spoken language of Chinese screens (English screens are spoken in English).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VoiceLanguage {
    /// 普通话.
    #[default]
    Mandarin,
    /// 粤语.
    Cantonese,
    /// 客家话.
    Hakka,
}

impl VoiceLanguage {
    /// Parses `cmn`, `yue` or `hak` (ISO 639-3).
    pub fn parse(s: &str) -> Option<VoiceLanguage> {
        match s {
            "cmn" => Some(VoiceLanguage::Mandarin),
            "yue" => Some(VoiceLanguage::Cantonese),
            "hak" => Some(VoiceLanguage::Hakka),
            _ => None,
        }
    }

    /// The ISO 639-3 code.
    pub fn code(self) -> &'static str {
        match self {
            VoiceLanguage::Mandarin => "cmn",
            VoiceLanguage::Cantonese => "yue",
            VoiceLanguage::Hakka => "hak",
        }
    }
}

/// A daily span of local time, in minutes after midnight; `start > end` crosses midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    /// First minute of the span.
    pub start: u16,
    /// First minute after it.
    pub end: u16,
}

impl QuietHours {
    /// Parses `HH:MM-HH:MM`.
    pub fn parse(s: &str) -> Option<QuietHours> {
        fn minute(t: &str) -> Option<u16> {
            let (h, m) = t.trim().split_once(':')?;
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (h < 24 && m < 60 && t.trim().len() == 5).then_some(h * 60 + m)
        }
        let (a, b) = s.split_once('-')?;
        let (start, end) = (minute(a)?, minute(b)?);
        (start != end).then_some(QuietHours { start, end })
    }

    /// Whether `minute` (after midnight) is inside.
    pub fn contains(&self, minute: u16) -> bool {
        if self.start < self.end {
            (self.start..self.end).contains(&minute)
        } else {
            minute >= self.start || minute < self.end
        }
    }
}

/// `[voice]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct VoiceConfig {
    /// Spoken language of Chinese screens.
    pub language: VoiceLanguage,
    /// Volume, 0-100.
    pub volume: u8,
    /// No speech.
    pub mute: bool,
    /// Words per minute of synthesized speech.
    pub rate: u16,
    /// Words per minute in 长者模式.
    pub elder_rate: u16,
    /// Volume in 长者模式, 0-100.
    pub elder_volume: u8,
    /// No attract-screen speech in these hours.
    pub quiet_hours: Option<QuietHours>,
    /// Voice pack folders.
    pub packs: Vec<PathBuf>,
    /// True when `packs` was not given (a missing packaged pack is then no error).
    pub packs_default: bool,
    /// The ALSA PCM name.
    pub device: String,
}

impl Default for VoiceConfig {
    fn default() -> Self {
        VoiceConfig {
            language: VoiceLanguage::Mandarin,
            volume: 80,
            mute: false,
            rate: 150,
            elder_rate: 115,
            elder_volume: 100,
            quiet_hours: None,
            packs: PACKAGED_PACKS.iter().map(PathBuf::from).collect(),
            packs_default: true,
            device: "default".into(),
        }
    }
}

fn number(
    key: &str,
    v: &Option<toml::Value>,
    range: (i64, i64),
    default: i64,
) -> Result<i64, ConfigError> {
    match v {
        None => Ok(default),
        Some(toml::Value::Integer(n)) if (range.0..=range.1).contains(n) => Ok(*n),
        Some(other) => invalid(
            key,
            format!(
                "{other} is not allowed: use a whole number from {} to {} (default {default})",
                range.0, range.1
            ),
        ),
    }
}

/// Validates `[voice]`.
pub(super) fn voice(raw: &RawVoice) -> Result<VoiceConfig, ConfigError> {
    let d = VoiceConfig::default();
    let language = match raw.language.as_deref() {
        None => d.language,
        Some(s) => match VoiceLanguage::parse(s) {
            Some(l) => l,
            None => {
                return invalid(
                    "voice.language",
                    format!("unknown language `{s}`: use cmn (普通话), yue (粤语) or hak (客家话)"),
                )
            }
        },
    };
    let quiet_hours = match raw.quiet_hours.as_deref() {
        None => None,
        Some(s) => match QuietHours::parse(s) {
            Some(q) => Some(q),
            None => {
                return invalid(
                    "voice.quiet_hours",
                    format!("`{s}` is not a span of time: use HH:MM-HH:MM, e.g. 22:00-07:00"),
                )
            }
        },
    };
    for p in raw.packs.iter().flatten() {
        if let Err(m) = check_plain(&p.to_string_lossy()) {
            return invalid("voice.packs", m);
        }
    }
    let device = raw.device.clone().unwrap_or(d.device);
    if device.is_empty() || check_plain(&device).is_err() {
        return invalid(
            "voice.device",
            "use an ALSA PCM name without control characters, e.g. default or plughw:0,0",
        );
    }
    Ok(VoiceConfig {
        language,
        volume: number("voice.volume", &raw.volume, (0, 100), 80)? as u8,
        mute: raw.mute.unwrap_or(false),
        rate: number("voice.rate", &raw.rate, (80, 300), 150)? as u16,
        elder_rate: number("voice.elder_rate", &raw.elder_rate, (80, 300), 115)? as u16,
        elder_volume: number("voice.elder_volume", &raw.elder_volume, (0, 100), 100)? as u8,
        quiet_hours,
        packs_default: raw.packs.is_none(),
        packs: raw.packs.clone().unwrap_or(d.packs),
        device,
    })
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    #[test]
    fn defaults_and_a_full_section() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.voice, VoiceConfig::default());
        let c = Config::parse(
            "[voice]\nlanguage = \"yue\"\nvolume = 60\nmute = true\nrate = 170\nelder_rate = 100\n\
             elder_volume = 90\nquiet_hours = \"22:00-07:00\"\npacks = [\"/srv/hak\"]\ndevice = \"plughw:0,0\"\n",
        )
        .unwrap();
        let v = c.voice;
        assert_eq!(v.language, VoiceLanguage::Cantonese);
        assert_eq!(
            (v.volume, v.mute, v.rate, v.elder_rate, v.elder_volume),
            (60, true, 170, 100, 90)
        );
        let q = v.quiet_hours.unwrap();
        assert!(
            q.contains(23 * 60)
                && q.contains(6 * 60 + 59)
                && !q.contains(7 * 60)
                && !q.contains(12 * 60)
        );
        assert_eq!(v.packs, vec![PathBuf::from("/srv/hak")]);
        assert!(!v.packs_default);
        assert_eq!(v.device, "plughw:0,0");
    }

    #[test]
    fn bad_keys_and_values_are_named() {
        for (text, needle) in [
            ("[voice]\nspeed = 3\n", "speed"),
            ("[voice]\nlanguage = \"fr\"\n", "voice.language"),
            ("[voice]\nvolume = 101\n", "voice.volume"),
            ("[voice]\nvolume = \"loud\"\n", "voice.volume"),
            ("[voice]\nrate = 10\n", "voice.rate"),
            ("[voice]\nquiet_hours = \"22-7\"\n", "voice.quiet_hours"),
            (
                "[voice]\nquiet_hours = \"25:00-07:00\"\n",
                "voice.quiet_hours",
            ),
            ("[voice]\ndevice = \"\"\n", "voice.device"),
        ] {
            let e = Config::parse(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}
