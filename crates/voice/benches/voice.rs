//! Voice guidance (issue 13): the time from a screen change ([`Voice::screen_changed`]) to the
//! first samples handed to ALSA, for a prompt from a voice pack and for a synthesized one (median
//! and p95; target ≤ 150 ms); how long `screen_changed` itself takes on the calling (UI) thread
//! while speech is playing (it must never block a frame, 16 ms); and the peak memory voice adds:
//! in the kiosk process (VmHWM) and in the espeak-ng processes it runs.
//!
//! ALSA is a `file` PCM in front of `null` (this build machine has no sound card), so playback
//! itself costs nothing and only the path to the first sample is measured.
//! `cargo bench -p zizhu-voice --bench voice -- [RUNS]` (default 40).
use std::time::{Duration, Instant};

use zizhu_core::catalog::Lang;
use zizhu_core::config::{VoiceConfig, VoiceLanguage};
use zizhu_voice::{Prompt, Spoken, Voice};

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn children_max_rss_kib() -> i64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    u.ru_maxrss
}

fn stats(name: &str, mut v: Vec<Duration>) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p = |q: f64| v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1];
    println!(
        "{name:<44} n={:<4} median {:>7.2} ms   p95 {:>7.2} ms   max {:>7.2} ms",
        v.len(),
        ms(p(0.5)),
        ms(p(0.95)),
        ms(v[v.len() - 1])
    );
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(40);
    let dir = tempfile::tempdir().expect("temp dir");
    let conf = dir.path().join("asound.conf");
    std::fs::write(
        &conf,
        format!(
            "pcm.null {{ type null }}\npcm.bench {{ type file slave.pcm \"null\" file \"{}\" format \"raw\" }}\n",
            dir.path().join("out.raw").display()
        ),
    )
    .expect("asound.conf");
    std::env::set_var("ALSA_CONFIG_PATH", &conf);
    let pack = dir.path().join("cmn");
    let t = Instant::now();
    zizhu_voice::build_pack(&pack, Spoken::Chinese(VoiceLanguage::Mandarin), 150)
        .expect("building the Mandarin pack (is espeak-ng installed?)");
    println!(
        "Mandarin pack of {} prompts built in {:.1} s",
        zizhu_voice::FIXED_IDS.len(),
        t.elapsed().as_secs_f64()
    );

    // Peak RSS from here on: building the pack (test setup) is not the kiosk's work.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let hwm_before = vm_hwm_kib();
    let config = VoiceConfig {
        device: "bench".into(),
        packs: vec![pack],
        packs_default: false,
        ..VoiceConfig::default()
    };
    let voice = Voice::start(&config, Lang::Zh, None);
    let long = Duration::from_secs(30);
    // Warm up: the pack check and the first espeak-ng start.
    let w = voice.screen_changed(Prompt::Home);
    voice.wait_done(w, long);

    let mut from_pack = Vec::new();
    let mut synthesized = Vec::new();
    let mut cantonese = Vec::new();
    let mut call = Vec::new();
    for i in 0..runs {
        let t = Instant::now();
        let ticket = voice.screen_changed(Prompt::Rating);
        call.push(t.elapsed());
        from_pack.push(
            voice
                .wait_first_sample(ticket, long)
                .expect("pack prompt played"),
        );
        voice.wait_done(ticket, long);

        let t = Instant::now();
        let ticket = voice.screen_changed(Prompt::IdleCountdown {
            seconds: 10 - (i % 10) as u32,
        });
        call.push(t.elapsed());
        synthesized.push(
            voice
                .wait_first_sample(ticket, long)
                .expect("synthesized prompt played"),
        );
        // While it plays, the next screen comes: the call must not wait for the audio.
        let t = Instant::now();
        let next = voice.screen_changed(Prompt::Commitment);
        call.push(t.elapsed());
        voice.wait_done(next, long);

        voice.set_language(VoiceLanguage::Cantonese);
        let ticket = voice.screen_changed(Prompt::IdleCountdown { seconds: 9 });
        cantonese.push(
            voice
                .wait_first_sample(ticket, long)
                .expect("Cantonese prompt played"),
        );
        voice.wait_done(ticket, long);
        voice.set_language(VoiceLanguage::Mandarin);
    }
    println!("screen change → first sample handed to ALSA:");
    stats("  pack prompt (rating, Mandarin WAV)", from_pack);
    stats("  synthesized (idle countdown, cmn pinyin)", synthesized);
    stats("  synthesized (idle countdown, yue)", cantonese);
    stats("screen_changed() on the calling thread", call);
    println!(
        "peak RSS added in the kiosk process: {} KiB (VmHWM {} → {} KiB)",
        vm_hwm_kib().saturating_sub(hwm_before),
        hwm_before,
        vm_hwm_kib()
    );
    println!(
        "peak RSS of one espeak-ng process: {} KiB",
        children_max_rss_kib()
    );
}
