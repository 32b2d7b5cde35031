//! Voice packs: recorded (or pre-generated) clips of the fixed prompts of one language. A pack is
//! a folder with `pack.toml`:
//!
//! ```toml
//! language = "hak"                 # cmn, yue, hak or en
//! speaker = "梅州市政务服务中心 录音 2026-12"
//!
//! [[prompt]]
//! id = "identify-card"             # an id of crate::prompt::FIXED_IDS
//! file = "identify-card.wav"       # 16-bit PCM WAV inside the folder
//! sha256 = "…"                     # of the file
//! ```
//!
//! [`check`] names every problem (missing file, bad checksum, unknown prompt id, …); at run time
//! a pack's good clips are used and each bad one is logged once and synthesized instead.
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zizhu_core::config::VoiceLanguage;

use crate::prompt::FIXED_IDS;
use crate::synth::Source;
use crate::VoiceError;

/// The manifest's name inside a pack folder.
pub const MANIFEST: &str = "pack.toml";

/// `pack.toml`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// `cmn`, `yue`, `hak` or `en`.
    pub language: String,
    /// Who (or what) speaks.
    pub speaker: String,
    /// The clips.
    #[serde(default, rename = "prompt")]
    pub prompts: Vec<Entry>,
}

/// One clip.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The prompt id.
    pub id: String,
    /// The file, relative to the pack folder.
    pub file: String,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// The words, for people reading the manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// The language a pack speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackLanguage {
    /// A Chinese variety (Chinese screens).
    Chinese(VoiceLanguage),
    /// English (English screens).
    English,
}

impl PackLanguage {
    /// Parses `cmn`, `yue`, `hak`, `en`.
    pub fn parse(s: &str) -> Option<PackLanguage> {
        match s {
            "en" => Some(PackLanguage::English),
            s => VoiceLanguage::parse(s).map(PackLanguage::Chinese),
        }
    }
}

/// One problem with a pack; each names what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackProblem {
    /// No readable `pack.toml`.
    #[error("{0}: no readable {MANIFEST} ({1})")]
    NoManifest(PathBuf, String),
    /// `pack.toml` is not valid.
    #[error("{0}: {1}")]
    BadManifest(PathBuf, String),
    /// The pack's language is not one the kiosk speaks.
    #[error("language `{0}` is unknown: use cmn, yue, hak or en")]
    UnknownLanguage(String),
    /// A prompt id the kiosk does not have (or one with dynamic parts, which a pack cannot hold).
    #[error("prompt `{0}` is unknown: a pack holds only the fixed prompts ({ids})", ids = FIXED_IDS.join(", "))]
    UnknownPrompt(String),
    /// The same id twice.
    #[error("prompt `{0}` is listed twice")]
    Duplicate(String),
    /// A file outside the pack folder.
    #[error("prompt `{0}`: file `{1}` must be a plain path inside the pack folder")]
    OutsidePath(String, String),
    /// The file is not there.
    #[error("prompt `{0}`: file `{1}` is missing")]
    MissingFile(String, String),
    /// The file is not what the manifest says.
    #[error("prompt `{0}`: file `{1}` has sha256 {2}, the manifest says {3}")]
    BadChecksum(String, String, String, String),
    /// Not a clip the kiosk can play.
    #[error("prompt `{0}`: file `{1}`: {2}")]
    BadAudio(String, String, String),
}

/// A pack whose good clips can be played.
#[derive(Debug, Clone)]
pub struct Pack {
    /// The folder.
    pub dir: PathBuf,
    /// The language.
    pub language: PackLanguage,
    /// Who speaks.
    pub speaker: String,
    /// Prompt id → file, for the clips that passed the check.
    pub clips: BTreeMap<String, PathBuf>,
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

fn check_audio(path: &Path) -> Result<(), String> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("opus") || e.eq_ignore_ascii_case("ogg"))
    {
        return Err(
            "Opus clips are not supported by this build; convert with `opusdec IN.opus OUT.wav`"
                .into(),
        );
    }
    let r = hound::WavReader::open(path).map_err(|e| format!("not a WAV file ({e})"))?;
    let s = r.spec();
    if s.sample_format != hound::SampleFormat::Int || s.bits_per_sample != 16 {
        return Err(format!(
            "{}-bit {:?} samples; use 16-bit PCM (`sox IN -b 16 OUT.wav`)",
            s.bits_per_sample, s.sample_format
        ));
    }
    if !(1..=2).contains(&s.channels) || !(8000..=48000).contains(&s.sample_rate) {
        return Err(format!(
            "{} channels at {} Hz; use mono or stereo at 8000-48000 Hz",
            s.channels, s.sample_rate
        ));
    }
    if r.duration() == 0 {
        return Err("the clip is empty".into());
    }
    Ok(())
}

/// Checks a pack folder: the manifest, then every clip. Returns the pack with the clips that
/// passed, and every problem found (empty when the pack is good).
pub fn check(dir: &Path) -> (Option<Pack>, Vec<PackProblem>) {
    let path = dir.join(MANIFEST);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => return (None, vec![PackProblem::NoManifest(path, e.to_string())]),
    };
    let manifest: Manifest = match toml::from_str(&text) {
        Ok(m) => m,
        Err(e) => {
            return (
                None,
                vec![PackProblem::BadManifest(
                    path,
                    e.message().trim().to_string(),
                )],
            )
        }
    };
    let mut problems = Vec::new();
    let Some(language) = PackLanguage::parse(&manifest.language) else {
        return (None, vec![PackProblem::UnknownLanguage(manifest.language)]);
    };
    let mut clips = BTreeMap::new();
    for e in &manifest.prompts {
        if !FIXED_IDS.contains(&e.id.as_str()) {
            problems.push(PackProblem::UnknownPrompt(e.id.clone()));
            continue;
        }
        if clips.contains_key(&e.id) {
            problems.push(PackProblem::Duplicate(e.id.clone()));
            continue;
        }
        let rel = Path::new(&e.file);
        if e.file.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            problems.push(PackProblem::OutsidePath(e.id.clone(), e.file.clone()));
            continue;
        }
        let file = dir.join(rel);
        let sum = match sha256_file(&file) {
            Ok(s) => s,
            Err(_) => {
                problems.push(PackProblem::MissingFile(e.id.clone(), e.file.clone()));
                continue;
            }
        };
        if !sum.eq_ignore_ascii_case(e.sha256.trim()) {
            problems.push(PackProblem::BadChecksum(
                e.id.clone(),
                e.file.clone(),
                sum,
                e.sha256.clone(),
            ));
            continue;
        }
        if let Err(m) = check_audio(&file) {
            problems.push(PackProblem::BadAudio(e.id.clone(), e.file.clone(), m));
            continue;
        }
        clips.insert(e.id.clone(), file);
    }
    let pack = Pack {
        dir: dir.to_path_buf(),
        language,
        speaker: manifest.speaker,
        clips,
    };
    (Some(pack), problems)
}

/// A clip read from a pack as it is played.
pub struct Clip {
    reader: hound::WavReader<std::io::BufReader<std::fs::File>>,
}

impl Clip {
    /// Opens a clip.
    pub fn open(path: &Path) -> Result<Clip, VoiceError> {
        let reader = hound::WavReader::open(path)
            .map_err(|e| VoiceError::Pack(format!("{}: {e}", path.display())))?;
        Ok(Clip { reader })
    }
}

impl Source for Clip {
    fn format(&self) -> (u32, u16) {
        let s = self.reader.spec();
        (s.sample_rate, s.channels)
    }

    fn read(&mut self, buf: &mut [i16]) -> Result<usize, VoiceError> {
        let mut n = 0;
        let mut it = self.reader.samples::<i16>();
        while n < buf.len() {
            match it.next() {
                Some(Ok(s)) => {
                    buf[n] = s;
                    n += 1;
                }
                Some(Err(e)) => return Err(VoiceError::Pack(e.to_string())),
                None => break,
            }
        }
        Ok(n)
    }
}

/// Writes `pack.toml` for clips already in `dir`: (prompt id, file) pairs, checksummed here.
/// Returns how many clips it lists.
pub fn write_manifest(
    dir: &Path,
    language: &str,
    speaker: &str,
    clips: &[(String, String)],
) -> Result<usize, VoiceError> {
    let io = |e: std::io::Error| VoiceError::Pack(format!("{}: {e}", dir.display()));
    let mut manifest = Manifest {
        language: language.into(),
        speaker: speaker.into(),
        prompts: Vec::new(),
    };
    for (id, file) in clips {
        manifest.prompts.push(Entry {
            id: id.clone(),
            file: file.clone(),
            sha256: sha256_file(&dir.join(file)).map_err(io)?,
            text: None,
        });
    }
    let text = toml::to_string_pretty(&manifest).map_err(|e| VoiceError::Pack(e.to_string()))?;
    std::fs::write(dir.join(MANIFEST), text).map_err(io)?;
    Ok(manifest.prompts.len())
}

/// Writes a pack: each (id, words, samples) as `ID.wav`, and its manifest. Used to build the
/// packaged packs from the synthesizer (`zizhu voice build-pack`).
pub fn write(
    dir: &Path,
    language: &str,
    speaker: &str,
    rate: u32,
    clips: &[(String, String, Vec<i16>)],
) -> Result<(), VoiceError> {
    let io = |e: std::io::Error| VoiceError::Pack(format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut manifest = Manifest {
        language: language.into(),
        speaker: speaker.into(),
        prompts: Vec::new(),
    };
    for (id, words, samples) in clips {
        let file = format!("{id}.wav");
        let path = dir.join(&file);
        crate::output::write_wav(&path, rate, 1, samples)?;
        manifest.prompts.push(Entry {
            id: id.clone(),
            file,
            sha256: sha256_file(&path).map_err(io)?,
            text: Some(words.clone()),
        });
    }
    let text = toml::to_string_pretty(&manifest).map_err(|e| VoiceError::Pack(e.to_string()))?;
    std::fs::write(dir.join(MANIFEST), text).map_err(io)?;
    Ok(())
}
