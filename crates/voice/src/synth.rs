//! Speech synthesis with Debian's espeak-ng, run as a subprocess (`espeak-ng --stdout`), its WAV
//! read as it is produced so the first samples reach the sound card while the rest is still being
//! synthesized.
//!
//! Why the program and not libespeak-ng: the library keeps global state (one voice, one callback
//! per process) and is not safe to call from two threads, so the kiosk would have to serialise
//! every use behind one lock and trust a C parser of arbitrary text inside its own address space;
//! a crash there would take the touchscreen with it. A process per utterance costs about 10 ms on
//! the build machine (most of an espeak-ng run is loading its voice data, which the library would
//! also do on each voice change), needs no FFI or -dev package, and is cancelled by killing it.
use std::io::Read;
use std::process::{Child, ChildStdout, Command, Stdio};

use zizhu_core::catalog::Lang;
use zizhu_core::config::VoiceLanguage;

use crate::text;
use crate::VoiceError;

/// An espeak-ng voice the kiosk uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EspeakVoice {
    /// Mandarin from tone-numbered pinyin (`cmn-latn-pinyin`).
    MandarinPinyin,
    /// Cantonese from characters (`yue`).
    Cantonese,
    /// English (`en`).
    English,
}

impl EspeakVoice {
    /// The espeak-ng voice name.
    pub fn name(self) -> &'static str {
        match self {
            EspeakVoice::MandarinPinyin => "cmn-latn-pinyin",
            EspeakVoice::Cantonese => "yue",
            EspeakVoice::English => "en",
        }
    }

    /// The voice for a screen language and spoken Chinese variety. Hakka has no espeak-ng voice
    /// that reads characters (its `hak` voice reads romanized Hakka only), so synthesized Hakka
    /// is Mandarin; a site's recorded Hakka pack covers the fixed prompts.
    pub fn for_language(screen: Lang, chinese: VoiceLanguage) -> EspeakVoice {
        match (screen, chinese) {
            (Lang::En, _) => EspeakVoice::English,
            (Lang::Zh, VoiceLanguage::Cantonese) => EspeakVoice::Cantonese,
            (Lang::Zh, VoiceLanguage::Mandarin | VoiceLanguage::Hakka) => {
                EspeakVoice::MandarinPinyin
            }
        }
    }

    /// The text as this voice is fed it: pinyin, filtered characters or plain English.
    pub fn prepare(self, text: &str) -> String {
        match self {
            EspeakVoice::MandarinPinyin => text::mandarin(text),
            EspeakVoice::Cantonese => text::cantonese(text),
            EspeakVoice::English => text::english_speech(text),
        }
    }
}

/// Runs espeak-ng.
#[derive(Debug, Clone)]
pub struct Synth {
    program: String,
}

impl Default for Synth {
    fn default() -> Self {
        Synth {
            program: std::env::var("ZIZHU_ESPEAK").unwrap_or_else(|_| "espeak-ng".into()),
        }
    }
}

/// Audio coming out of espeak-ng, header read.
pub struct Stream {
    child: Child,
    out: ChildStdout,
    rate: u32,
    channels: u16,
    pending: Option<u8>,
}

impl Synth {
    /// Starts synthesizing `text` (already prepared for `voice`) at `rate` words per minute.
    pub fn start(&self, voice: EspeakVoice, text: &str, rate: u16) -> Result<Stream, VoiceError> {
        let mut child = Command::new(&self.program)
            .args([
                "-v",
                voice.name(),
                "-s",
                &rate.to_string(),
                "--stdout",
                "--",
            ])
            .arg(text)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                VoiceError::Synth(format!(
                    "cannot run {}: {e} (install espeak-ng)",
                    self.program
                ))
            })?;
        let Some(mut out) = child.stdout.take() else {
            return Err(VoiceError::Synth("espeak-ng has no output".into()));
        };
        let (rate, channels) = match read_header(&mut out) {
            Ok(h) => h,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        Ok(Stream {
            child,
            out,
            rate,
            channels,
            pending: None,
        })
    }
}

fn read_header(r: &mut impl Read) -> Result<(u32, u16), VoiceError> {
    let bad = |m: &str| VoiceError::Synth(format!("espeak-ng wrote no WAV: {m}"));
    let mut riff = [0u8; 12];
    r.read_exact(&mut riff).map_err(|e| bad(&e.to_string()))?;
    if &riff[0..4] != b"RIFF" || &riff[8..12] != b"WAVE" {
        return Err(bad("no RIFF/WAVE header"));
    }
    let mut fmt = None;
    loop {
        let mut head = [0u8; 8];
        r.read_exact(&mut head).map_err(|e| bad(&e.to_string()))?;
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        if &head[0..4] == b"data" {
            break;
        }
        if len > 4096 {
            return Err(bad("oversized chunk"));
        }
        let mut body = vec![0u8; len + (len & 1)];
        r.read_exact(&mut body).map_err(|e| bad(&e.to_string()))?;
        if &head[0..4] == b"fmt " && len >= 16 {
            let tag = u16::from_le_bytes([body[0], body[1]]);
            let channels = u16::from_le_bytes([body[2], body[3]]);
            let rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
            let bits = u16::from_le_bytes([body[14], body[15]]);
            if tag != 1 || bits != 16 || channels == 0 {
                return Err(bad("not 16-bit PCM"));
            }
            fmt = Some((rate, channels));
        }
    }
    fmt.ok_or_else(|| bad("no fmt chunk"))
}

/// Where samples come from: a synthesizer or a recorded clip.
pub trait Source {
    /// Sample rate and channels.
    fn format(&self) -> (u32, u16);
    /// Fills `buf` with interleaved samples; 0 at the end.
    fn read(&mut self, buf: &mut [i16]) -> Result<usize, VoiceError>;
}

impl Source for Stream {
    fn format(&self) -> (u32, u16) {
        (self.rate, self.channels)
    }

    fn read(&mut self, buf: &mut [i16]) -> Result<usize, VoiceError> {
        let mut bytes = vec![0u8; buf.len() * 2];
        let mut have = 0;
        if let Some(b) = self.pending.take() {
            bytes[0] = b;
            have = 1;
        }
        // At least one whole sample, or the end.
        while have < 2 {
            let n = self
                .out
                .read(&mut bytes[have..])
                .map_err(|e| VoiceError::Synth(format!("reading espeak-ng: {e}")))?;
            if n == 0 {
                return Ok(0);
            }
            have += n;
        }
        if have % 2 == 1 {
            self.pending = Some(bytes[have - 1]);
            have -= 1;
        }
        for (i, s) in bytes[..have].chunks_exact(2).enumerate() {
            buf[i] = i16::from_le_bytes([s[0], s[1]]);
        }
        Ok(have / 2)
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // Cancelled or finished: never leave espeak-ng behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
