//! The speech thread through a real ALSA configuration: each test's PCM is ALSA's `file` plugin
//! (in front of the `null` device), so what the kiosk hands to ALSA lands in a WAV file that sox
//! then measures. Needs espeak-ng, sox and libasound2 (scripts/test installs them).
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use zizhu_core::catalog::Lang;
use zizhu_core::config::{VoiceConfig, VoiceLanguage};
use zizhu_status::{DeviceState, StatusState};
use zizhu_voice::{pack, AudioHealth, Prompt, Spoken, Voice};

const DEVICES: &[&str] = &["synth", "cancel", "packs", "elder", "muted"];

/// The ALSA configuration of this test binary: one `file` PCM per test, each writing its own WAV.
fn alsa_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("zizhu-voice-alsa")
            .tempdir()
            .expect("temp dir")
            .keep();
        let mut conf = String::from("pcm.null { type null }\n");
        for d in DEVICES {
            conf += &format!(
                "pcm.{d} {{ type file slave.pcm \"null\" file \"{}\" format \"wav\" }}\n",
                dir.join(format!("{d}.wav")).display()
            );
        }
        std::fs::write(dir.join("asound.conf"), conf).expect("asound.conf");
        // Set once, before any ALSA use in this process.
        std::env::set_var("ALSA_CONFIG_PATH", dir.join("asound.conf"));
        dir
    })
}

fn config(device: &str) -> VoiceConfig {
    alsa_dir();
    VoiceConfig {
        device: device.into(),
        packs: Vec::new(),
        packs_default: false,
        ..VoiceConfig::default()
    }
}

/// Duration in seconds and RMS level in dB of a WAV file, by sox.
fn measure(path: &Path) -> (f64, f64) {
    let out = Command::new("sox")
        .arg(path)
        .args(["-n", "stats"])
        .output()
        .expect("running sox (install sox)");
    let text = String::from_utf8_lossy(&out.stderr);
    let field = |name: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("sox stats has no {name}: {text}"))
    };
    let info = Command::new("sox")
        .args(["--i", "-D"])
        .arg(path)
        .output()
        .expect("sox --i");
    let secs: f64 = String::from_utf8_lossy(&info.stdout)
        .trim()
        .parse()
        .expect("duration");
    (secs, field("RMS lev dB"))
}

fn wav(device: &str) -> PathBuf {
    alsa_dir().join(format!("{device}.wav"))
}

const LONG: Duration = Duration::from_secs(60);

#[test]
fn a_synthesized_prompt_reaches_alsa_as_speech_of_plausible_length() {
    let status = StatusState::new("T-1", "test");
    let v = Voice::start(&config("synth"), Lang::Zh, Some(status.clone()));
    for (lang, chinese) in [
        (Lang::Zh, VoiceLanguage::Mandarin),
        (Lang::Zh, VoiceLanguage::Cantonese),
        (Lang::Zh, VoiceLanguage::Hakka),
        (Lang::En, VoiceLanguage::Mandarin),
    ] {
        v.set_screen_language(lang);
        v.set_language(chinese);
        let t = v.screen_changed(Prompt::IdentifyCard);
        assert!(v.wait_done(t, LONG));
        let said = v.said(t).expect("spoken to the end");
        assert_eq!(said.id, "identify-card");
        assert!(!said.from_pack);
        let (secs, rms) = measure(&wav("synth"));
        // Two short sentences: a few seconds, clearly not silence.
        assert!(
            (1.5..15.0).contains(&secs),
            "{lang:?} {chinese:?}: {secs} s"
        );
        assert!(rms > -35.0, "{lang:?} {chinese:?}: RMS {rms} dB");
    }
    assert_eq!(v.health(), AudioHealth::Ok);
    let report = status.snapshot();
    assert_eq!(report.devices["audio"].state, DeviceState::Ok);
}

#[test]
fn a_new_screen_cancels_speech_not_yet_played_and_repeat_says_it_again() {
    let v = Voice::start(&config("cancel"), Lang::Zh, None);
    // The commitment is about twenty seconds of speech; the home screen comes at once.
    let long = v.screen_changed(Prompt::Commitment);
    let home = v.screen_changed(Prompt::Home);
    assert!(v.wait_done(home, LONG));
    assert_eq!(
        v.said(long),
        None,
        "the old screen's speech must not play on"
    );
    assert_eq!(v.said(home).expect("home spoken").id, "home");
    let (short, _) = measure(&wav("cancel"));
    assert!(short < 6.0, "only the home prompt was played: {short} s");
    let again = v.repeat().expect("a last prompt");
    assert!(v.wait_done(again, LONG));
    assert_eq!(v.said(again).expect("repeated").id, "home");
    // A new visit starts without a prompt to repeat.
    v.reset();
    assert!(v.repeat().is_none());
}

#[test]
fn muted_speech_is_silent_and_elder_mode_turns_it_on_slower() {
    let mut c = config("muted");
    c.mute = true;
    let v = Voice::start(&c, Lang::Zh, None);
    let t = v.screen_changed(Prompt::Home);
    assert!(v.wait_done(t, LONG));
    assert_eq!(v.said(t), None);
    // Opened once at start (to see there is a card), never written to.
    let header_only = std::fs::metadata(wav("muted"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert!(header_only <= 44, "{header_only} bytes");

    let v = Voice::start(&config("elder"), Lang::Zh, None);
    let t = v.screen_changed(Prompt::Rating);
    assert!(v.wait_done(t, LONG));
    let (normal, _) = measure(&wav("elder"));
    v.set_elder_mode(true);
    assert!(!v.settings().muted);
    let t = v.screen_changed(Prompt::Rating);
    assert!(v.wait_done(t, LONG));
    let (slow, rms) = measure(&wav("elder"));
    assert!(
        slow > normal * 1.15,
        "elder mode is slower: {slow} vs {normal} s"
    );
    assert!(rms > -35.0);
}

#[test]
fn pack_clips_play_and_bad_clips_are_synthesized() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cmn");
    let n = zizhu_voice::build_pack(&p, Spoken::Chinese(VoiceLanguage::Mandarin), 150).unwrap();
    assert_eq!(n, zizhu_voice::FIXED_IDS.len());
    let (pack, problems) = pack::check(&p);
    assert_eq!(problems, vec![]);
    assert_eq!(pack.unwrap().clips.len(), n);
    // Spoil one clip: the rest of the pack stays in use.
    std::fs::write(p.join("home.wav"), b"not a clip").unwrap();
    let (_, problems) = pack::check(&p);
    assert!(
        matches!(&problems[..], [pack::PackProblem::BadChecksum(id, ..)] if id == "home"),
        "{problems:?}"
    );
    let mut c = config("packs");
    c.packs = vec![p.clone()];
    let v = Voice::start(&c, Lang::Zh, None);
    let t = v.screen_changed(Prompt::Rating);
    assert!(v.wait_done(t, LONG));
    assert!(v.said(t).unwrap().from_pack);
    let (secs, rms) = measure(&wav("packs"));
    assert!(secs > 1.0 && rms > -35.0, "{secs} s {rms} dB");
    let t = v.screen_changed(Prompt::Home);
    assert!(v.wait_done(t, LONG));
    assert!(!v.said(t).unwrap().from_pack, "the bad clip is synthesized");
    // Prompts with dynamic parts are always synthesized.
    let t = v.screen_changed(Prompt::IdleCountdown { seconds: 10 });
    assert!(v.wait_done(t, LONG));
    assert!(!v.said(t).unwrap().from_pack);
}

#[test]
fn a_missing_sound_card_is_a_degraded_audio_device_and_nothing_stops() {
    let status = StatusState::new("T-1", "test");
    let v = Voice::start(&config("no_such_card"), Lang::Zh, Some(status.clone()));
    let t = v.screen_changed(Prompt::Home);
    assert!(v.wait_done(t, LONG));
    assert_eq!(v.said(t), None);
    assert!(matches!(v.health(), AudioHealth::Missing(_)));
    let report = status.snapshot();
    let audio = &report.devices["audio"];
    assert_eq!(audio.state, DeviceState::Degraded);
    assert!(audio
        .last_error
        .as_deref()
        .unwrap_or("")
        .contains("no_such_card"));
    // Still answering.
    let t = v.screen_changed(Prompt::Goodbye);
    assert!(v.wait_done(t, LONG));
}
