//! Voice guidance for the kiosk: every screen and flow step has a spoken prompt, in Mandarin
//! (普通话), Cantonese (粤语), Hakka (客家话, from a site's recorded pack, else Mandarin) or
//! English, offline. docs/voice.md describes it for people; in short:
//!
//! - [`prompt`]: the prompts, keyed by id, their words taken from the kiosk's translation table
//!   (the same msgids the screens show), and [`prompt::prompt_for`] for flow steps. Nothing
//!   personal is ever spoken.
//! - [`text`]: turning words into what espeak-ng can say (pinyin with tone numbers, numbers as
//!   words, unsayable characters left out).
//! - [`synth`]: espeak-ng as a subprocess, streamed.
//! - [`pack`]: recorded voice packs (`pack.toml` + WAV clips), checked by `zizhu voice check`.
//! - [`output`]: ALSA playback and WAV files.
//! - [`engine`]: [`Voice`], the speech thread the UI talks to: `screen_changed`, `repeat`,
//!   `set_language`, `set_volume`, `set_muted`, `set_elder_mode`, `reset`.
pub mod engine;
pub mod output;
pub mod pack;
pub mod prompt;
pub mod synth;
pub mod text;

use std::path::Path;

pub use engine::{AudioHealth, Said, Settings, Ticket, Voice, AUDIO_DEVICE};
pub use prompt::{prompt_for, Arg, Prompt, FIXED_IDS};
pub use synth::EspeakVoice;
pub use zizhu_core::config::{VoiceConfig, VoiceLanguage};

use zizhu_core::catalog::Lang;

/// What can go wrong with speech; none of it stops the kiosk.
#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    /// espeak-ng could not be run or wrote something unexpected.
    #[error("speech synthesis: {0}")]
    Synth(String),
    /// No sound card (the PCM would not open or configure).
    #[error("no sound output: {0}")]
    NoAudio(String),
    /// A voice pack clip could not be read or written.
    #[error("voice pack: {0}")]
    Pack(String),
    /// A file could not be written.
    #[error("cannot write {0}")]
    Output(String),
}

/// The language spoken, as `zizhu say --lang` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spoken {
    /// A Chinese variety.
    Chinese(VoiceLanguage),
    /// English.
    English,
}

impl Spoken {
    /// Parses `cmn`, `yue`, `hak`, `en`.
    pub fn parse(s: &str) -> Option<Spoken> {
        match s {
            "en" => Some(Spoken::English),
            s => VoiceLanguage::parse(s).map(Spoken::Chinese),
        }
    }

    /// The screen language and Chinese variety.
    pub fn parts(self) -> (Lang, VoiceLanguage) {
        match self {
            Spoken::English => (Lang::En, VoiceLanguage::Mandarin),
            Spoken::Chinese(l) => (Lang::Zh, l),
        }
    }
}

/// Synthesizes `text` (sayable parts only) at `rate` words per minute: sample rate and samples.
/// Empty when nothing in it can be said.
pub fn synthesize(text: &str, spoken: Spoken, rate: u16) -> Result<(u32, Vec<i16>), VoiceError> {
    let (screen, chinese) = spoken.parts();
    let voice = EspeakVoice::for_language(screen, chinese);
    let prepared = voice.prepare(text);
    if prepared.is_empty() {
        return Ok((22050, Vec::new()));
    }
    let mut stream = synth::Synth::default().start(voice, &prepared, rate)?;
    let (sample_rate, channels) = synth::Source::format(&stream);
    if channels != 1 {
        return Err(VoiceError::Synth(format!(
            "{channels} channels from espeak-ng"
        )));
    }
    Ok((sample_rate, output::read_all(&mut stream)?))
}

/// Builds a voice pack of every fixed prompt from the synthesizer into `dir` (the packaged
/// Mandarin and Cantonese packs; `scripts/voice-packs`).
pub fn build_pack(dir: &Path, spoken: Spoken, rate: u16) -> Result<usize, VoiceError> {
    let (screen, chinese) = spoken.parts();
    let voice = EspeakVoice::for_language(screen, chinese);
    let mut clips = Vec::new();
    let mut sample_rate = 22050;
    for id in FIXED_IDS {
        let Some(p) = Prompt::fixed(id) else { continue };
        let words = p.text(screen);
        let (r, samples) = synthesize(&words, spoken, rate)?;
        sample_rate = r;
        clips.push((id.to_string(), words, samples));
    }
    let language = match spoken {
        Spoken::English => "en",
        Spoken::Chinese(l) => l.code(),
    };
    let speaker = format!("espeak-ng {} (synthesized at package time)", voice.name());
    pack::write(dir, language, &speaker, sample_rate, &clips)?;
    Ok(clips.len())
}
