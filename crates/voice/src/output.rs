//! Where speech goes: an ALSA PCM (the `alsa` crate over libasound; the kiosk's `default`, which
//! on a Pi is the plug device in front of the headphone jack or HDMI audio), or a WAV file
//! (`zizhu say --out`). Playback is in chunks of about 20 ms so a new screen stops speech within
//! one chunk and the ALSA buffer (about 100 ms).
use std::path::Path;
use std::time::Instant;

use alsa::pcm::{Access, Format, HwParams, PCM};
use alsa::{Direction, ValueOr};

use crate::synth::Source;
use crate::VoiceError;

/// The gain of a 0-100 volume: squared, which sounds roughly even across the range.
pub fn gain(volume: u8) -> f32 {
    let v = f32::from(volume.min(100)) / 100.0;
    v * v
}

fn scale(buf: &mut [i16], gain: f32) {
    if gain >= 0.999 {
        return;
    }
    for s in buf {
        *s = (f32::from(*s) * gain) as i16;
    }
}

/// How a playback ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Played {
    /// To the end.
    Finished,
    /// Stopped because `cancelled` said so.
    Cancelled,
}

/// Opens `device` and closes it again: whether there is a sound card to speak on.
pub fn probe(device: &str) -> Result<(), VoiceError> {
    let pcm = PCM::new(device, Direction::Playback, true)
        .map_err(|e| VoiceError::NoAudio(format!("{device}: {e}")))?;
    drop(pcm);
    Ok(())
}

/// Plays `source` on the ALSA PCM `device` at `volume`. `cancelled` is asked before each chunk;
/// `first` is called just before the first samples are handed to ALSA.
pub fn play_alsa(
    device: &str,
    source: &mut dyn Source,
    volume: u8,
    cancelled: &dyn Fn() -> bool,
    first: &mut dyn FnMut(Instant),
) -> Result<Played, VoiceError> {
    let (rate, channels) = source.format();
    let no_audio = |e: alsa::Error| VoiceError::NoAudio(format!("{device}: {e}"));
    let pcm = PCM::new(device, Direction::Playback, false).map_err(no_audio)?;
    {
        let hwp = HwParams::any(&pcm).map_err(no_audio)?;
        hwp.set_channels(u32::from(channels)).map_err(no_audio)?;
        hwp.set_rate(rate, ValueOr::Nearest).map_err(no_audio)?;
        hwp.set_format(Format::s16()).map_err(no_audio)?;
        hwp.set_access(Access::RWInterleaved).map_err(no_audio)?;
        let _ = hwp.set_buffer_time_near(100_000, ValueOr::Nearest);
        let _ = hwp.set_period_time_near(20_000, ValueOr::Nearest);
        pcm.hw_params(&hwp).map_err(no_audio)?;
    }
    let io = pcm.io_i16().map_err(no_audio)?;
    let g = gain(volume);
    let chunk = (rate as usize / 50).max(64) * usize::from(channels);
    let mut buf = vec![0i16; chunk];
    let mut started = false;
    loop {
        if cancelled() {
            let _ = pcm.drop();
            return Ok(Played::Cancelled);
        }
        let n = source.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let frames = n / usize::from(channels);
        scale(&mut buf[..n], g);
        if !started {
            first(Instant::now());
            started = true;
        }
        let mut done = 0;
        while done < frames {
            let off = done * usize::from(channels);
            match io.writei(&buf[off..frames * usize::from(channels)]) {
                Ok(w) => done += w,
                Err(e) => pcm.try_recover(e, true).map_err(no_audio)?,
            }
        }
    }
    if cancelled() {
        let _ = pcm.drop();
        return Ok(Played::Cancelled);
    }
    pcm.drain().map_err(no_audio)?;
    Ok(Played::Finished)
}

/// Reads all of `source` (for files and packs).
pub fn read_all(source: &mut dyn Source) -> Result<Vec<i16>, VoiceError> {
    let mut out = Vec::new();
    let mut buf = vec![0i16; 4096];
    loop {
        let n = source.read(&mut buf)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Writes 16-bit samples as a WAV file.
pub fn write_wav(path: &Path, rate: u32, channels: u16, samples: &[i16]) -> Result<(), VoiceError> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let err = |e: hound::Error| VoiceError::Output(format!("{}: {e}", path.display()));
    let mut w = hound::WavWriter::create(path, spec).map_err(err)?;
    for s in samples {
        w.write_sample(*s).map_err(err)?;
    }
    w.finalize().map_err(err)
}
