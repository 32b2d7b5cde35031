//! The speech queue: one thread that owns the sound card and speaks the latest prompt. The UI
//! thread only sends it messages ([`Voice::screen_changed`] takes a lock for a pointer copy and
//! sends on a channel; it never waits for audio). A new screen cancels whatever has not been
//! played yet, so there is never a backlog, and [`Voice::repeat`] speaks the last prompt again.
//!
//! A fixed prompt comes from the voice pack of the language when the pack has a good clip for it,
//! otherwise it is synthesized. A missing sound card makes the `audio` device degraded in the
//! status report (logged once per change); the kiosk goes on silently.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::Timelike;
use zizhu_core::catalog::Lang;
use zizhu_core::config::{VoiceConfig, VoiceLanguage};
use zizhu_status::{DeviceState, StatusState};

use crate::output::{self, Played};
use crate::pack::{self, Pack, PackLanguage};
use crate::prompt::Prompt;
use crate::synth::{EspeakVoice, Source, Synth};

/// The status report's name for the sound output.
pub const AUDIO_DEVICE: &str = "audio";

/// What the citizen (or the config) has chosen; see the setters of [`Voice`].
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The screen's language: Chinese screens are spoken in `chinese`, English ones in English.
    pub screen: Lang,
    /// 普通话, 粤语 or 客家话.
    pub chinese: VoiceLanguage,
    /// 0-100.
    pub volume: u8,
    /// No speech.
    pub muted: bool,
    /// 长者模式: slower and louder, speech on.
    pub elder: bool,
}

/// Whether there is a sound card to speak on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioHealth {
    /// Not tried yet.
    Unknown,
    /// The PCM opened.
    Ok,
    /// It did not: the error.
    Missing(String),
}

/// A prompt spoken to the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    /// The prompt id.
    pub id: &'static str,
    /// The words (before conversion for the synthesizer).
    pub words: String,
    /// Played from a voice pack clip (else synthesized).
    pub from_pack: bool,
}

/// Identifies one call of [`Voice::screen_changed`] or [`Voice::repeat`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

enum Cmd {
    Speak {
        gen: u64,
        prompt: Prompt,
        at: Instant,
    },
    Stop,
}

#[derive(Default)]
struct Progress {
    /// The last generation the worker has finished with (spoken, cancelled or skipped).
    done: u64,
    /// The latest first-sample time: generation and delay from the call.
    first: Option<(u64, Duration)>,
    /// What was last said to the end (tests): generation and what.
    said: Option<(u64, Said)>,
}

struct Shared {
    gen: AtomicU64,
    settings: Mutex<Settings>,
    last: Mutex<Option<Prompt>>,
    health: Mutex<AudioHealth>,
    progress: Mutex<Progress>,
    changed: Condvar,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not silence the kiosk's voice for good.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The voice of the kiosk. Cheap to clone; the speech thread ends when the last clone is dropped.
#[derive(Clone)]
pub struct Voice {
    tx: Sender<Cmd>,
    shared: Arc<Shared>,
    config: Arc<VoiceConfig>,
}

impl std::fmt::Debug for Voice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Voice")
            .field("settings", &*lock(&self.shared.settings))
            .finish_non_exhaustive()
    }
}

impl Voice {
    /// Starts the speech thread with `[voice]` from kiosk.toml, the screen's starting language,
    /// and the status report to tell about the sound card (when the kiosk serves one). Packs are
    /// checked on that thread; problems are logged once.
    pub fn start(config: &VoiceConfig, screen: Lang, status: Option<StatusState>) -> Voice {
        let shared = Arc::new(Shared {
            gen: AtomicU64::new(0),
            settings: Mutex::new(Self::defaults(config, screen)),
            last: Mutex::new(None),
            health: Mutex::new(AudioHealth::Unknown),
            progress: Mutex::new(Progress::default()),
            changed: Condvar::new(),
        });
        let (tx, rx) = mpsc::channel();
        let worker = Worker {
            rx,
            shared: shared.clone(),
            config: config.clone(),
            status,
            packs: Vec::new(),
            synth: Synth::default(),
        };
        let spawned = std::thread::Builder::new()
            .name("voice".into())
            .spawn(move || worker.run());
        if let Err(e) = spawned {
            tracing::error!("voice guidance is off: cannot start its thread: {e}");
        }
        Voice {
            tx,
            shared,
            config: Arc::new(config.clone()),
        }
    }

    fn defaults(config: &VoiceConfig, screen: Lang) -> Settings {
        Settings {
            screen,
            chinese: config.language,
            volume: config.volume,
            muted: config.mute,
            elder: false,
        }
    }

    /// A new screen or flow step: cancels speech not yet played and speaks `prompt`. Returns at
    /// once.
    pub fn screen_changed(&self, prompt: Prompt) -> Ticket {
        let at = Instant::now();
        let gen = self.shared.gen.fetch_add(1, Ordering::SeqCst) + 1;
        *lock(&self.shared.last) = Some(prompt.clone());
        let _ = self.tx.send(Cmd::Speak { gen, prompt, at });
        Ticket(gen)
    }

    /// The 再听一遍 control: speaks the last prompt again (nothing when there was none).
    pub fn repeat(&self) -> Option<Ticket> {
        let prompt = lock(&self.shared.last).clone()?;
        let at = Instant::now();
        let gen = self.shared.gen.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = self.tx.send(Cmd::Speak { gen, prompt, at });
        Some(Ticket(gen))
    }

    /// Stops speaking now.
    pub fn stop(&self) {
        self.shared.gen.fetch_add(1, Ordering::SeqCst);
        let _ = self.tx.send(Cmd::Stop);
    }

    /// The screen's language changed (中文 / English).
    pub fn set_screen_language(&self, lang: Lang) {
        lock(&self.shared.settings).screen = lang;
    }

    /// The 普通话 / 粤语 / 客家话 choice.
    pub fn set_language(&self, chinese: VoiceLanguage) {
        lock(&self.shared.settings).chinese = chinese;
    }

    /// Volume, 0-100.
    pub fn set_volume(&self, volume: u8) {
        lock(&self.shared.settings).volume = volume.min(100);
    }

    /// Mute or unmute; muting also stops what is being said.
    pub fn set_muted(&self, muted: bool) {
        lock(&self.shared.settings).muted = muted;
        if muted {
            self.stop();
        }
    }

    /// 长者模式: slower (`[voice] elder_rate`), louder (the volume goes up to `elder_volume`;
    /// the citizen may still turn it down), and speech on. Turned off, the configured volume
    /// comes back.
    pub fn set_elder_mode(&self, on: bool) {
        let mut s = lock(&self.shared.settings);
        if s.elder == on {
            return;
        }
        s.elder = on;
        if on {
            s.muted = false;
            s.volume = s.volume.max(self.config.elder_volume);
        } else {
            s.volume = self.config.volume;
        }
    }

    /// The end of a visit: the next citizen starts from the configured settings.
    pub fn reset(&self) {
        let screen = lock(&self.shared.settings).screen;
        *lock(&self.shared.settings) = Self::defaults(&self.config, screen);
        *lock(&self.shared.last) = None;
    }

    /// The current settings.
    pub fn settings(&self) -> Settings {
        lock(&self.shared.settings).clone()
    }

    /// Whether a sound card answered.
    pub fn health(&self) -> AudioHealth {
        lock(&self.shared.health).clone()
    }

    /// Waits until the speech thread has finished with `ticket` (said, cancelled or skipped).
    pub fn wait_done(&self, ticket: Ticket, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        let mut p = lock(&self.shared.progress);
        while p.done < ticket.0 {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            p = self
                .shared
                .changed
                .wait_timeout(p, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Whether the speech thread has finished with `ticket` (said, cancelled or skipped); does
    /// not wait.
    pub fn is_done(&self, ticket: Ticket) -> bool {
        lock(&self.shared.progress).done >= ticket.0
    }

    /// Waits for the first samples of `ticket` to be handed to ALSA; the delay from the call.
    pub fn wait_first_sample(&self, ticket: Ticket, timeout: Duration) -> Option<Duration> {
        let end = Instant::now() + timeout;
        let mut p = lock(&self.shared.progress);
        loop {
            match p.first {
                Some((g, d)) if g == ticket.0 => return Some(d),
                _ if p.done >= ticket.0 => return None,
                _ => {}
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            p = self
                .shared
                .changed
                .wait_timeout(p, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// What `ticket` said, if it was spoken to the end (tests, the maintenance screen).
    pub fn said(&self, ticket: Ticket) -> Option<Said> {
        match &lock(&self.shared.progress).said {
            Some((g, said)) if *g == ticket.0 => Some(said.clone()),
            _ => None,
        }
    }
}

struct Worker {
    rx: Receiver<Cmd>,
    shared: Arc<Shared>,
    config: VoiceConfig,
    status: Option<StatusState>,
    packs: Vec<Pack>,
    synth: Synth,
}

impl Worker {
    fn run(mut self) {
        self.load_packs();
        let probe = output::probe(&self.config.device);
        self.set_health(probe.err().map(|e| e.to_string()));
        while let Ok(mut cmd) = self.rx.recv() {
            // Only the newest command matters.
            while let Ok(next) = self.rx.try_recv() {
                cmd = next;
            }
            let Cmd::Speak { gen, prompt, at } = cmd else {
                self.finish(self.shared.gen.load(Ordering::SeqCst));
                continue;
            };
            if gen == self.shared.gen.load(Ordering::SeqCst) {
                self.speak(gen, &prompt, at);
            }
            self.finish(gen);
        }
    }

    fn finish(&self, gen: u64) {
        let mut p = lock(&self.shared.progress);
        p.done = p.done.max(gen);
        self.shared.changed.notify_all();
    }

    fn load_packs(&mut self) {
        for dir in &self.config.packs {
            if self.config.packs_default && !dir.exists() {
                tracing::debug!("no packaged voice pack at {}", dir.display());
                continue;
            }
            let (pack, problems) = pack::check(dir);
            for p in &problems {
                tracing::warn!(
                    "voice pack {}: {p}; that prompt is synthesized instead (check it with `zizhu voice check`)",
                    dir.display()
                );
            }
            if let Some(pack) = pack {
                tracing::info!(
                    "voice pack {}: {} clips by {}",
                    dir.display(),
                    pack.clips.len(),
                    pack.speaker
                );
                self.packs.push(pack);
            }
        }
    }

    fn set_health(&self, error: Option<String>) {
        let new = match &error {
            None => AudioHealth::Ok,
            Some(e) => AudioHealth::Missing(e.clone()),
        };
        let mut h = lock(&self.shared.health);
        if *h == new {
            return;
        }
        match &error {
            None => tracing::info!("sound output {} is ready", self.config.device),
            Some(e) => {
                tracing::warn!("no sound output, the kiosk goes on without voice guidance: {e}")
            }
        }
        if let Some(s) = &self.status {
            match &error {
                None => s.set_device(AUDIO_DEVICE, DeviceState::Ok, None),
                Some(e) => s.set_device(AUDIO_DEVICE, DeviceState::Degraded, Some(e)),
            }
        }
        *h = new;
    }

    fn quiet_now(&self) -> bool {
        let now = chrono::Local::now();
        let minute = (now.hour() * 60 + now.minute()) as u16;
        self.config.quiet_hours.is_some_and(|q| q.contains(minute))
    }

    fn speak(&mut self, gen: u64, prompt: &Prompt, at: Instant) {
        let s = lock(&self.shared.settings).clone();
        if s.muted {
            return;
        }
        if *prompt == Prompt::Attract && self.quiet_now() {
            return;
        }
        let (volume, rate) = if s.elder {
            (s.volume, self.config.elder_rate)
        } else {
            (s.volume, self.config.rate)
        };
        let words = prompt.text(s.screen);
        let want = match s.screen {
            Lang::En => PackLanguage::English,
            Lang::Zh => PackLanguage::Chinese(s.chinese),
        };
        let clip = if prompt.is_fixed() {
            self.packs
                .iter()
                .filter(|p| p.language == want)
                .find_map(|p| p.clips.get(prompt.id()))
                .cloned()
        } else {
            None
        };
        let mut from_pack = false;
        let mut source: Box<dyn Source> = match clip.map(|c| pack::Clip::open(&c)) {
            Some(Ok(c)) => {
                from_pack = true;
                Box::new(c)
            }
            other => {
                if let Some(Err(e)) = other {
                    tracing::warn!("voice pack clip unreadable, synthesizing: {e}");
                }
                let voice = EspeakVoice::for_language(s.screen, s.chinese);
                let text = voice.prepare(&words);
                if text.is_empty() {
                    return;
                }
                match self.synth.start(voice, &text, rate) {
                    Ok(st) => Box::new(st),
                    Err(e) => {
                        tracing::warn!("prompt {} not spoken: {e}", prompt.id());
                        return;
                    }
                }
            }
        };
        let shared = self.shared.clone();
        let cancelled = move || shared.gen.load(Ordering::SeqCst) != gen;
        let shared = self.shared.clone();
        let mut first = move |t: Instant| {
            let mut p = lock(&shared.progress);
            p.first = Some((gen, t.duration_since(at)));
            shared.changed.notify_all();
        };
        match output::play_alsa(
            &self.config.device,
            source.as_mut(),
            volume,
            &cancelled,
            &mut first,
        ) {
            Ok(played) => {
                self.set_health(None);
                if played == Played::Finished {
                    let said = Said {
                        id: prompt.id(),
                        words,
                        from_pack,
                    };
                    lock(&self.shared.progress).said = Some((gen, said));
                }
            }
            Err(crate::VoiceError::NoAudio(e)) => self.set_health(Some(e)),
            Err(e) => tracing::warn!("prompt {} not spoken: {e}", prompt.id()),
        }
    }
}
