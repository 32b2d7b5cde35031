//! `zizhu say`: speak a sentence (to the sound card, or to a WAV file with `--out`) for
//! technicians and tests; `zizhu voice`: check a voice pack, list the prompts a pack records,
//! write a recorded pack's manifest, build the synthesized packs shipped in the `.deb`.
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use crate::error::usage;
use crate::voice::{self, pack, Prompt, Spoken, FIXED_IDS};

fn spoken(lang: &str) -> anyhow::Result<Spoken> {
    match Spoken::parse(lang) {
        Some(s) => Ok(s),
        None => usage(format!(
            "unknown language `{lang}`: use cmn (普通话), yue (粤语), hak (客家话) or en"
        )),
    }
}

fn rate(rate: u16) -> anyhow::Result<u16> {
    if !(80..=300).contains(&rate) {
        return usage(format!("--rate {rate}: use 80-300 words per minute"));
    }
    Ok(rate)
}

/// `zizhu say`.
#[derive(clap::Args, Debug)]
pub struct SayArgs {
    /// cmn (普通话), yue (粤语), hak (客家话: spoken as Mandarin, espeak-ng cannot read Hakka
    /// characters) or en.
    #[arg(long, default_value = "cmn")]
    pub lang: String,
    /// What to say. Characters and symbols the voice cannot say are left out.
    pub text: String,
    /// Write a WAV file instead of playing it.
    #[arg(long, value_name = "F.wav")]
    pub out: Option<PathBuf>,
    /// Words per minute.
    #[arg(long, default_value_t = 150)]
    pub rate: u16,
    /// The ALSA PCM to play on.
    #[arg(long, default_value = "default")]
    pub device: String,
}

/// Runs `zizhu say`.
pub fn say(a: SayArgs) -> anyhow::Result<ExitCode> {
    let spoken = spoken(&a.lang)?;
    let rate = rate(a.rate)?;
    let t = Instant::now();
    let (sample_rate, samples) = voice::synthesize(&a.text, spoken, rate)?;
    if samples.is_empty() {
        return usage("nothing in the text can be said (rare characters and symbols are left out)");
    }
    let secs = samples.len() as f64 / f64::from(sample_rate);
    match &a.out {
        Some(out) => {
            voice::output::write_wav(out, sample_rate, 1, &samples)?;
            eprintln!(
                "{}: {secs:.1} s of speech, synthesized in {} ms",
                out.display(),
                t.elapsed().as_millis()
            );
        }
        None => {
            let mut source = Samples {
                rate: sample_rate,
                data: samples,
                at: 0,
            };
            voice::output::play_alsa(&a.device, &mut source, 100, &|| false, &mut |_| {})?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

struct Samples {
    rate: u32,
    data: Vec<i16>,
    at: usize,
}

impl voice::synth::Source for Samples {
    fn format(&self) -> (u32, u16) {
        (self.rate, 1)
    }

    fn read(&mut self, buf: &mut [i16]) -> Result<usize, voice::VoiceError> {
        let n = buf.len().min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Subcommands of `zizhu voice`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Check a voice pack folder; exit 2 naming each missing file, bad checksum or unknown prompt.
    Check {
        /// The pack folder (with pack.toml).
        pack: PathBuf,
    },
    /// List the prompts a pack can record, with their words (what a speaker reads).
    Prompts {
        /// cmn, yue or hak (the Chinese words) or en.
        #[arg(long, default_value = "cmn")]
        lang: String,
    },
    /// Write pack.toml for a folder of recorded clips named after the prompt ids (`home.wav`…).
    Manifest {
        /// The folder of clips.
        dir: PathBuf,
        /// The language spoken: cmn, yue, hak or en.
        #[arg(long)]
        lang: String,
        /// Who speaks (a name, or the site and date of the recording).
        #[arg(long)]
        speaker: String,
    },
    /// Synthesize every fixed prompt into a pack (the packaged Mandarin and Cantonese packs).
    BuildPack {
        /// cmn, yue or en (hak is Mandarin when synthesized; record it instead).
        #[arg(long)]
        lang: String,
        /// The folder to write.
        #[arg(long)]
        out: PathBuf,
        /// Words per minute.
        #[arg(long, default_value_t = 150)]
        rate: u16,
    },
}

/// Runs `zizhu voice`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Check { pack: dir } => {
            let (p, problems) = pack::check(&dir);
            if problems.is_empty() {
                if let Some(p) = p {
                    println!(
                        "{}: ok ({} of {} prompts recorded, speaker {})",
                        dir.display(),
                        p.clips.len(),
                        FIXED_IDS.len(),
                        p.speaker
                    );
                }
                return Ok(ExitCode::SUCCESS);
            }
            for pr in &problems {
                println!("{}: {pr}", dir.display());
            }
            usage(format!(
                "{}: {} problem(s); at run time those prompts are synthesized",
                dir.display(),
                problems.len()
            ))
        }
        Command::Prompts { lang } => {
            let (screen, _) = spoken(&lang)?.parts();
            for id in FIXED_IDS {
                if let Some(p) = Prompt::fixed(id) {
                    println!("{id}\t{}", p.text(screen));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Manifest { dir, lang, speaker } => {
            let _ = spoken(&lang)?;
            if crate::config::check_plain(&speaker).is_err() || speaker.is_empty() {
                return usage("--speaker: give a name without control characters");
            }
            let mut entries = Vec::new();
            for id in FIXED_IDS {
                let file = format!("{id}.wav");
                if dir.join(&file).is_file() {
                    entries.push((id.to_string(), file));
                }
            }
            if entries.is_empty() {
                return usage(format!(
                    "{}: no clips named after prompt ids (e.g. home.wav); `zizhu voice prompts` lists them",
                    dir.display()
                ));
            }
            let n = pack::write_manifest(&dir, &lang, &speaker, &entries)?;
            println!(
                "{}: pack.toml written, {n} of {} prompts recorded",
                dir.display(),
                FIXED_IDS.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::BuildPack { lang, out, rate: r } => {
            let spoken = spoken(&lang)?;
            if spoken == Spoken::Chinese(voice::VoiceLanguage::Hakka) {
                return usage(
                    "espeak-ng cannot read Hakka characters, so a synthesized Hakka pack would be \
                     Mandarin: record one instead (docs/voice.md, \"Recording a site's Hakka pack\")",
                );
            }
            let n = voice::build_pack(&out, spoken, rate(r)?)?;
            println!("{}: {n} prompts", out.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}
