//! A simulated SAM ID-card reader on a pseudo-terminal. It speaks the GA 467 wire protocol
//! byte for byte (status, SAM ID, find, select, read, read with fingerprint), holds a set of
//! synthetic cards one of which can be "placed", and can be told to fault: no card, read errors,
//! any SW3 code, silence, corrupted or split answers, garbage before frames, unplug mid-frame.
//! Start it in-process with [`Simulator::spawn`] or as `zizhu sim idcard --link PATH`.
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::card::{encode_read_data, encode_text, fake_photo, CardData};
use super::protocol::{encode_response, Command, FrameDecoder};
use crate::pty::{SimDevice, SimLoop, SimReply};

/// A fault the simulated reader shows until cleared with [`Fault::None`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Behave.
    None,
    /// "Find" always answers 80 (no card), even with a card placed.
    NoCard,
    /// "Read" answers 41 (read failed).
    ReadError,
    /// "Select" answers 81.
    SelectError,
    /// "Read" answers this SW3.
    ReadCode(u8),
    /// "SAM status" answers 60 (self-test failed).
    SamFault,
    /// No answers at all.
    Silence,
}

impl Fault {
    /// Parses the names used by `zizhu sim idcard --fault` and its stdin commands.
    pub fn parse(s: &str) -> Option<Fault> {
        Some(match s {
            "none" => Fault::None,
            "no-card" => Fault::NoCard,
            "read-error" => Fault::ReadError,
            "select-error" => Fault::SelectError,
            "sam-fault" => Fault::SamFault,
            "silence" => Fault::Silence,
            other => {
                let hex = other.strip_prefix("sw3=")?;
                Fault::ReadCode(u8::from_str_radix(hex, 16).ok()?)
            }
        })
    }
}

/// Counters of what the simulated reader was asked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Valid command frames received.
    pub commands: u64,
    /// Successful reads answered.
    pub reads: u64,
    /// Bytes received that were not part of a valid command frame.
    pub rejected_bytes: u64,
}

struct SamSim {
    cards: Vec<CardData>,
    placed: Option<usize>,
    selected: bool,
    fault: Fault,
    corrupt_next: u32,
    garbage: bool,
    split: bool,
    unplug_mid_read: bool,
    decoder: FrameDecoder,
    stats: SimStats,
}

impl SamSim {
    fn answer(&mut self, cmd: Command) -> Option<Vec<u8>> {
        if self.fault == Fault::Silence {
            return None;
        }
        let placed = self.placed.filter(|_| self.fault != Fault::NoCard);
        Some(match cmd {
            Command::ResetSam => encode_response(0x90, &[]),
            Command::SamStatus if self.fault == Fault::SamFault => encode_response(0x60, &[]),
            Command::SamStatus | Command::SetMaxRf(_) => encode_response(0x90, &[]),
            Command::SamId => {
                let mut d = Vec::with_capacity(16);
                d.extend_from_slice(&5u16.to_le_bytes());
                d.extend_from_slice(&1u16.to_le_bytes());
                d.extend_from_slice(&20_260_101u32.to_le_bytes());
                d.extend_from_slice(&1_234_567u32.to_le_bytes());
                d.extend_from_slice(&987_654_321u32.to_le_bytes());
                encode_response(0x90, &d)
            }
            Command::Find => {
                self.selected = false;
                match placed {
                    Some(_) => encode_response(0x9F, &[0; 4]),
                    None => encode_response(0x80, &[]),
                }
            }
            Command::Select => match placed {
                Some(_) if self.fault != Fault::SelectError => {
                    self.selected = true;
                    encode_response(0x90, &[0; 8])
                }
                _ => encode_response(0x81, &[]),
            },
            Command::Read | Command::ReadWithFingerprint => {
                let card = placed.and_then(|i| self.cards.get(i).map(|c| (i, c)));
                match (card, self.fault) {
                    (_, Fault::ReadError) => encode_response(0x41, &[]),
                    (_, Fault::ReadCode(code)) => encode_response(code, &[]),
                    (Some((i, c)), _) if self.selected => match encode_text(c) {
                        Ok(text) => {
                            let photo = fake_photo(i as u8);
                            let fp =
                                (cmd == Command::ReadWithFingerprint).then(|| vec![0x5A; 1024]);
                            let data = encode_read_data(&text, &photo, fp.as_deref());
                            self.stats.reads += 1;
                            encode_response(0x90, &data)
                        }
                        Err(_) => encode_response(0x41, &[]),
                    },
                    (Some(_), _) => encode_response(0x21, &[]),
                    (None, _) => encode_response(0x41, &[]),
                }
            }
            Command::ReadNewAddress => encode_response(0x91, &[]),
        })
    }
}

impl SimDevice for SamSim {
    fn on_input(&mut self, input: &[u8]) -> SimReply {
        self.decoder.push(input);
        let mut reply = SimReply::none();
        while let Some(r) = self.decoder.next_frame() {
            let Ok(frame) = r else {
                // A corrupted command: a SAM answers 10 (checksum error in received data).
                if self.fault != Fault::Silence {
                    reply.bytes.extend(encode_response(0x10, &[]));
                }
                continue;
            };
            let Some((c, p, d)) = frame.as_command() else {
                continue;
            };
            let Some(cmd) = Command::from_frame(c, p, d) else {
                reply.bytes.extend(encode_response(0x21, &[]));
                continue;
            };
            self.stats.commands += 1;
            let Some(mut bytes) = self.answer(cmd) else {
                continue;
            };
            if self.corrupt_next > 0 {
                self.corrupt_next -= 1;
                let last = bytes.len() - 1;
                bytes[last] ^= 0x5A;
            }
            if self.garbage {
                reply
                    .bytes
                    .extend_from_slice(&[0x00, 0xAA, 0x13, 0xAA, 0xAA, 0x96]);
            }
            let is_read = matches!(cmd, Command::Read | Command::ReadWithFingerprint);
            if is_read && self.unplug_mid_read && bytes.len() > 20 {
                self.unplug_mid_read = false;
                bytes.truncate(bytes.len() / 2);
                reply.bytes.extend(bytes);
                reply.then_unplug = true;
                return reply;
            }
            if self.split {
                reply.split_at = Some(reply.bytes.len() + bytes.len() / 2);
            }
            reply.bytes.extend(bytes);
        }
        self.stats.rejected_bytes = self.decoder.discarded() as u64;
        reply
    }
}

/// A running simulated reader. Dropping it stops the simulator and removes the link.
pub struct Simulator {
    sim: Arc<Mutex<SamSim>>,
    lp: SimLoop,
}

impl Simulator {
    /// Starts a simulated reader whose pty is linked at `link`, holding `cards` (none placed).
    /// The link exists when this returns.
    pub fn spawn(link: &Path, cards: Vec<CardData>) -> io::Result<Simulator> {
        let sim = Arc::new(Mutex::new(SamSim {
            cards,
            placed: None,
            selected: false,
            fault: Fault::None,
            corrupt_next: 0,
            garbage: false,
            split: false,
            unplug_mid_read: false,
            decoder: FrameDecoder::new(),
            stats: SimStats::default(),
        }));
        let lp = SimLoop::start(link, sim.clone(), "idcard")?;
        Ok(Simulator { sim, lp })
    }

    fn state(&self) -> MutexGuard<'_, SamSim> {
        match self.sim.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// The link path.
    pub fn link(&self) -> PathBuf {
        self.lp.link.clone()
    }
    /// Number of cards held.
    pub fn card_count(&self) -> usize {
        self.state().cards.len()
    }
    /// Places card `index` on the reader (`false` when there is no such card).
    pub fn place(&self, index: usize) -> bool {
        let mut s = self.state();
        if index < s.cards.len() {
            s.placed = Some(index);
            s.selected = false;
            true
        } else {
            false
        }
    }
    /// Takes the card away.
    pub fn remove(&self) {
        let mut s = self.state();
        s.placed = None;
        s.selected = false;
    }
    /// Shows `fault` until cleared with `Fault::None`.
    pub fn set_fault(&self, fault: Fault) {
        self.state().fault = fault;
    }
    /// Corrupts the checksum of the next `n` answers.
    pub fn corrupt_next(&self, n: u32) {
        self.state().corrupt_next = n;
    }
    /// Sends stray bytes (and a broken preamble) before every answer.
    pub fn set_garbage(&self, on: bool) {
        self.state().garbage = on;
    }
    /// Splits every answer in two writes with a pause between.
    pub fn set_split(&self, on: bool) {
        self.state().split = on;
    }
    /// The next read answer stops halfway and the device is unplugged (pty closed, link gone).
    pub fn unplug_mid_read(&self) {
        self.state().unplug_mid_read = true;
    }
    /// Whether the device is plugged in (a pty exists at the link).
    pub fn is_plugged(&self) -> bool {
        self.lp
            .ctrl
            .linked
            .load(std::sync::atomic::Ordering::SeqCst)
    }
    /// Unplugs: closes the pty and removes the link.
    pub fn unplug(&self) {
        self.lp.unplug();
    }
    /// Plugs back: a new pty at the same link path.
    pub fn plug(&self) {
        self.lp.plug();
    }
    /// What the simulator was asked so far.
    pub fn stats(&self) -> SimStats {
        self.state().stats
    }
    /// Stops the simulator.
    pub fn stop(mut self) {
        self.lp.stop();
    }
}
