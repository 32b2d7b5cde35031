//! A simulated serial scanner on a pseudo-terminal: [`Simulator::scan`] sends a code with the
//! configured suffix (CR LF by default), as a scanner does when it decodes a symbol. Trigger
//! commands from the host are acknowledged (Honeywell `SYN T CR` / `SYN U CR` get `ACK`).
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::pty::{SimDevice, SimLoop, SimReply};

/// What ends each simulated scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suffix {
    /// CR LF.
    CrLf,
    /// CR.
    Cr,
    /// LF.
    Lf,
    /// Nothing (the host must use the inter-byte gap).
    None,
}

impl Suffix {
    fn bytes(self) -> &'static [u8] {
        match self {
            Suffix::CrLf => b"\r\n",
            Suffix::Cr => b"\r",
            Suffix::Lf => b"\n",
            Suffix::None => b"",
        }
    }
    /// Parses `crlf`, `cr`, `lf`, `none`.
    pub fn parse(s: &str) -> Option<Suffix> {
        Some(match s {
            "crlf" => Suffix::CrLf,
            "cr" => Suffix::Cr,
            "lf" => Suffix::Lf,
            "none" => Suffix::None,
            _ => return None,
        })
    }
}

struct ScannerSim {
    out: Vec<u8>,
    triggers: u64,
    received: Vec<u8>,
}

impl SimDevice for ScannerSim {
    fn on_input(&mut self, input: &[u8]) -> SimReply {
        self.received.extend_from_slice(input);
        let mut reply = SimReply::none();
        while let Some(i) = self.received.iter().position(|b| *b == 0x0D || *b == 0x03) {
            let cmd: Vec<u8> = self.received.drain(..=i).collect();
            if cmd.starts_with(&[0x16]) || cmd.starts_with(&[0x7E]) {
                self.triggers += 1;
                reply.bytes.push(0x06);
            }
        }
        if self.received.len() > 256 {
            self.received.clear();
        }
        reply
    }
    fn pending_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }
}

/// A running simulated scanner.
pub struct Simulator {
    sim: Arc<Mutex<ScannerSim>>,
    lp: SimLoop,
    suffix: Mutex<Suffix>,
}

impl Simulator {
    /// Starts a simulated scanner at `link`.
    pub fn spawn(link: &Path) -> io::Result<Simulator> {
        let sim = Arc::new(Mutex::new(ScannerSim {
            out: Vec::new(),
            triggers: 0,
            received: Vec::new(),
        }));
        let lp = SimLoop::start(link, sim.clone(), "scanner")?;
        Ok(Simulator {
            sim,
            lp,
            suffix: Mutex::new(Suffix::CrLf),
        })
    }

    fn state(&self) -> MutexGuard<'_, ScannerSim> {
        match self.sim.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// The link path.
    pub fn link(&self) -> PathBuf {
        self.lp.link.clone()
    }
    /// Sets the suffix of later scans.
    pub fn set_suffix(&self, s: Suffix) {
        if let Ok(mut g) = self.suffix.lock() {
            *g = s;
        }
    }
    /// Scans `text` (UTF-8) followed by the suffix.
    pub fn scan(&self, text: &str) {
        self.scan_bytes(text.as_bytes());
    }
    /// Scans raw payload bytes (e.g. GB18030) followed by the suffix.
    pub fn scan_bytes(&self, payload: &[u8]) {
        let suffix = self.suffix.lock().map(|s| *s).unwrap_or(Suffix::CrLf);
        let mut s = self.state();
        s.out.extend_from_slice(payload);
        s.out.extend_from_slice(suffix.bytes());
    }
    /// Sends raw bytes as they are (garbage, partial messages).
    pub fn send_raw(&self, bytes: &[u8]) {
        self.state().out.extend_from_slice(bytes);
    }
    /// Trigger commands received.
    pub fn triggers(&self) -> u64 {
        self.state().triggers
    }
    /// Unplugs: closes the pty and removes the link.
    pub fn unplug(&self) {
        self.lp.unplug();
    }
    /// Plugs back: a new pty at the same link path.
    pub fn plug(&self) {
        self.lp.plug();
    }
    /// Stops the simulator.
    pub fn stop(mut self) {
        self.lp.stop();
    }
}
