//! Voice guidance end to end: a sample ID card through every catalog service against the demo
//! platform, the prompt of each flow step checked for the card's and the result's personal data,
//! each step's prompt played through ALSA's `file` plugin and measured with sox; `zizhu say`,
//! `zizhu voice check` and `[voice]` in `zizhu config check` as a technician meets them.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use pinyin::ToPinyin;
use zizhu::catalog::{Catalog, Lang};
use zizhu::flow::play::{play, Script};
use zizhu::flow::{Identity, Step};
use zizhu::platform::{demo, Client, ClientConfig};
use zizhu::voice::{prompt_for, EspeakVoice, Prompt, Voice, VoiceConfig, VoiceLanguage};

use crate::util;

const STEPS: [Step; 11] = [
    Step::Identify,
    Step::FaceCheck,
    Step::Licences,
    Step::Form,
    Step::Commitment,
    Step::Slot,
    Step::Confirm,
    Step::Payment,
    Step::Result,
    Step::Evaluate,
    Step::Done,
];

/// The ALSA configuration of this test binary, set once before any ALSA use: `file` PCMs in
/// front of `null`, one per name below. Returns the WAV file the PCM `device` writes.
pub fn alsa_file(device: &str) -> PathBuf {
    const DEVICES: &[&str] = &["voicetest", "maintvoice", "uivoice", "uivoice2", "uistaff"];
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("zizhu-alsa")
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
        std::env::set_var("ALSA_CONFIG_PATH", dir.join("asound.conf"));
        dir
    });
    assert!(
        DEVICES.contains(&device),
        "{device} is not in the test ALSA config"
    );
    dir.join(format!("{device}.wav"))
}

/// Duration (s) and RMS level (dB) of a WAV file, by sox.
pub fn sox_measure(path: &Path) -> (f64, f64) {
    let out = Command::new("sox")
        .arg(path)
        .args(["-n", "stats"])
        .output()
        .expect("running sox (install sox)");
    let text = String::from_utf8_lossy(&out.stderr).to_string();
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
        .unwrap();
    (secs, field("RMS lev dB"))
}

fn syllables(text: &str) -> usize {
    zizhu::voice::text::chinese_numbers(text)
        .chars()
        .filter(|c| c.to_pinyin().is_some())
        .count()
}

#[test]
fn no_step_of_any_service_speaks_the_cards_or_the_results_personal_data() {
    let platform = demo::spawn("127.0.0.1:0".parse().unwrap(), None).expect("demo platform");
    let client = Client::new(ClientConfig::new(platform.url(), "test-token", "TEST-1")).unwrap();
    let card = zizhu_drivers::idcard::card::samples().remove(0);
    let today = chrono::Local::now().date_naive();
    let name_pinyin: Vec<String> = card
        .name
        .as_str()
        .to_pinyin()
        .flatten()
        .map(|p| p.with_tone_num_end().to_string())
        .collect();
    let mut checked = 0;
    for (i, service) in Catalog::builtin().services().iter().enumerate() {
        let lang = if i % 2 == 0 { Lang::Zh } else { Lang::En };
        let script = Script {
            identity: Some(Identity::from_card(&card, today).expect("sample card")),
            fields: Default::default(),
            sample: true,
            open_link: &util::phone,
            wait: Duration::from_secs(20),
            rate: Some(5),
            elicense_consent: true,
        };
        let (flow, _transcript) = play(service, lang, script, &client, None);
        // What is personal: the card, the form, and the result rows not marked safe to speak.
        let mut secret: Vec<String> = vec![
            card.name.clone(),
            card.id_number.clone(),
            card.id_number[card.id_number.len() - 6..].to_string(),
            card.birth_date.clone(),
            card.birth_date.replace('-', ""),
            card.address.clone().unwrap_or_default(),
            name_pinyin.join(" "),
        ];
        secret.extend(
            flow.values()
                .values()
                .filter(|v| v.chars().count() >= 4)
                .cloned(),
        );
        if let Some(r) = flow.reply() {
            secret.push(r.reference.clone());
            for item in r.items.iter().filter(|i| !i.speak) {
                if item.value.chars().count() >= 3 && item.value.chars().any(|c| c.is_ascii_digit())
                {
                    secret.push(item.value.clone());
                }
            }
            for row in r.table.iter().flat_map(|t| t.rows.iter()) {
                secret.extend(
                    row.iter()
                        .filter(|c| c.chars().count() >= 3 && c.chars().any(|c| c.is_ascii_digit()))
                        .cloned(),
                );
            }
        }
        secret.retain(|s| !s.is_empty());
        for step in STEPS {
            let prompt = prompt_for(step, &flow);
            for (lang, chinese) in [
                (Lang::Zh, VoiceLanguage::Mandarin),
                (Lang::Zh, VoiceLanguage::Cantonese),
                (Lang::En, VoiceLanguage::Mandarin),
            ] {
                let words = prompt.text(lang);
                let spoken = EspeakVoice::for_language(lang, chinese).prepare(&words);
                let numerals = zizhu::voice::text::chinese_numbers(&words);
                for s in &secret {
                    let n = zizhu::voice::text::chinese_numbers(s);
                    // As characters, as the synthesizer's input, or read out as Chinese numerals.
                    let said = words.contains(s.as_str())
                        || spoken.contains(s.as_str())
                        || (n != *s && numerals.contains(&n));
                    assert!(
                        !said,
                        "{} {step:?} {lang:?}: the prompt says personal data ({} chars): {words}",
                        service.id,
                        s.chars().count()
                    );
                }
                checked += 1;
            }
        }
        flow.end();
    }
    assert!(checked >= 3 * STEPS.len() * 10, "{checked}");
}

#[test]
fn each_step_of_a_query_visit_is_spoken_through_alsa() {
    let wav = alsa_file("voicetest");
    let platform = demo::spawn("127.0.0.1:0".parse().unwrap(), None).expect("demo platform");
    let client = Client::new(ClientConfig::new(platform.url(), "test-token", "TEST-1")).unwrap();
    let card = zizhu_drivers::idcard::card::samples().remove(0);
    let today = chrono::Local::now().date_naive();
    let service = Catalog::builtin()
        .services()
        .iter()
        .find(|s| {
            s.auth == zizhu::catalog::Auth::IdCard && s.commitment_clauses(Lang::Zh).is_empty()
        })
        .expect("a card query service");
    let script = Script {
        identity: Some(Identity::from_card(&card, today).unwrap()),
        fields: Default::default(),
        sample: true,
        open_link: &util::phone,
        wait: Duration::from_secs(20),
        rate: Some(5),
        elicense_consent: true,
    };
    let (flow, t) = play(service, Lang::Zh, script, &client, None);
    assert!(t.completed(), "{:?}", t.failed);
    let config = VoiceConfig {
        device: "voicetest".into(),
        packs: Vec::new(),
        packs_default: false,
        ..VoiceConfig::default()
    };
    let voice = Voice::start(&config, Lang::Zh, None);
    let mut prompts = vec![Prompt::Home];
    prompts.extend(
        [
            Step::Identify,
            Step::Form,
            Step::Confirm,
            Step::Result,
            Step::Evaluate,
            Step::Done,
        ]
        .map(|s| prompt_for(s, &flow)),
    );
    for p in prompts {
        let ticket = voice.screen_changed(p.clone());
        assert!(voice.wait_done(ticket, Duration::from_secs(60)));
        assert_eq!(voice.said(ticket).map(|s| s.id), Some(p.id()));
        let (secs, rms) = sox_measure(&wav);
        let n = syllables(&p.text(Lang::Zh)) as f64;
        assert!(
            secs > n * 0.12 && secs < n * 0.9 + 1.0,
            "{}: {secs:.1} s for {n} syllables",
            p.id()
        );
        assert!(rms > -35.0, "{}: silent ({rms} dB)", p.id());
    }
    flow.end();
}

#[test]
fn say_voice_check_and_config_check_as_a_technician_uses_them() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let out = home.join("hello.wav");
    for lang in ["cmn", "yue", "hak", "en"] {
        let o = util::zizhu(home)
            .args([
                "say",
                "--lang",
                lang,
                "请取走您的身份证和凭条 Please take your card",
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(util::code(&o), 0, "{lang}: {}", util::stderr(&o));
        let (secs, rms) = sox_measure(&out);
        assert!(secs > 0.8 && rms > -35.0, "{lang}: {secs} s {rms} dB");
    }
    let o = util::zizhu(home)
        .args(["say", "--lang", "fr", "bonjour", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(util::code(&o), 2);
    assert!(util::stderr(&o).contains("cmn"), "{}", util::stderr(&o));
    // Symbols only: nothing to say, and nothing spelled out.
    let o = util::zizhu(home)
        .args(["say", "--lang", "cmn", "★ ◎ ㊣", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(util::code(&o), 2, "{}", util::stderr(&o));

    // A pack: built, checked, then broken three ways.
    let pack = home.join("pack");
    let o = util::zizhu(home)
        .args(["voice", "build-pack", "--lang", "yue", "--out"])
        .arg(&pack)
        .output()
        .unwrap();
    assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
    let o = util::zizhu(home)
        .args(["voice", "check"])
        .arg(&pack)
        .output()
        .unwrap();
    assert_eq!(
        util::code(&o),
        0,
        "{}{}",
        util::stdout(&o),
        util::stderr(&o)
    );
    std::fs::remove_file(pack.join("goodbye.wav")).unwrap();
    std::fs::write(pack.join("rating.wav"), b"RIFF changed").unwrap();
    let manifest = std::fs::read_to_string(pack.join("pack.toml")).unwrap();
    std::fs::write(
        pack.join("pack.toml"),
        manifest + "\n[[prompt]]\nid = \"lullaby\"\nfile = \"home.wav\"\nsha256 = \"00\"\n",
    )
    .unwrap();
    let o = util::zizhu(home)
        .args(["voice", "check"])
        .arg(&pack)
        .output()
        .unwrap();
    assert_eq!(util::code(&o), 2);
    let report = util::stdout(&o);
    assert!(
        report.contains("`goodbye`") && report.contains("missing"),
        "{report}"
    );
    assert!(
        report.contains("`rating`") && report.contains("sha256"),
        "{report}"
    );
    assert!(report.contains("`lullaby` is unknown"), "{report}");

    // `[voice]` in kiosk.toml.
    for (text, needle) in [
        ("[voice]\nloudness = 3\n", "loudness"),
        ("[voice]\nvolume = 300\n", "voice.volume"),
        ("[voice]\nquiet_hours = \"night\"\n", "voice.quiet_hours"),
        ("[voice]\nlanguage = \"wuu\"\n", "voice.language"),
    ] {
        let f = home.join("kiosk.toml");
        std::fs::write(&f, text).unwrap();
        let o = util::zizhu(home)
            .args(["config", "check"])
            .arg(&f)
            .output()
            .unwrap();
        assert_eq!(util::code(&o), 2, "{text}");
        assert!(
            util::stderr(&o).contains(needle),
            "{text}: {}",
            util::stderr(&o)
        );
    }
}
