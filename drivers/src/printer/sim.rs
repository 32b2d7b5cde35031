//! A simulated ESC/POS printer on a pseudo-terminal. It answers DLE EOT with status bytes that
//! follow its state (paper end, near end, cover open, cutter error, silence), parses every job,
//! and saves each one (ended by a cut) as `job-NNNN.bin` (the bytes) and `job-NNNN.png` (what a
//! printer would put on paper). A job received while it cannot print is held, like a printer's
//! receive buffer, and printed when the fault is cleared.
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::parse::{self, Op, Parser};
use super::status::PrinterStatus;
use crate::pty::{SimDevice, SimLoop, SimReply};

/// A fault the simulated printer shows until cleared with [`Fault::None`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Ready.
    None,
    /// Out of paper (offline, paper end, near end).
    PaperEnd,
    /// Paper near end (still prints).
    NearEnd,
    /// Cover open (offline).
    CoverOpen,
    /// Cutter jammed (offline, error).
    CutterError,
    /// Answers nothing (jobs still print).
    Silence,
}

impl Fault {
    /// Parses the names used by `zizhu sim printer --fault` and its stdin commands.
    pub fn parse(s: &str) -> Option<Fault> {
        Some(match s {
            "none" => Fault::None,
            "paper-end" => Fault::PaperEnd,
            "near-end" => Fault::NearEnd,
            "cover-open" => Fault::CoverOpen,
            "cutter-error" => Fault::CutterError,
            "silence" => Fault::Silence,
            _ => return None,
        })
    }

    fn status(self) -> PrinterStatus {
        let mut s = PrinterStatus::ready_state();
        match self {
            Fault::None | Fault::Silence => {}
            Fault::PaperEnd => {
                s.online = false;
                s.paper_end = true;
                s.paper_near_end = true;
            }
            Fault::NearEnd => s.paper_near_end = true,
            Fault::CoverOpen => {
                s.online = false;
                s.cover_open = true;
            }
            Fault::CutterError => {
                s.online = false;
                s.error = true;
                s.cutter_error = true;
            }
        }
        s
    }
}

/// One printed job.
#[derive(Debug, Clone)]
pub struct SimJob {
    /// 1-based job number.
    pub number: usize,
    /// The bytes of the job (status requests excluded).
    pub bytes: Vec<u8>,
    /// Black dots on the rendered job.
    pub black_dots: usize,
    /// Height of the rendered job in dots.
    pub height: u32,
    /// The saved `.bin`, when an output directory was given.
    pub bin: Option<PathBuf>,
    /// The saved `.png`, when an output directory was given.
    pub png: Option<PathBuf>,
}

struct PrinterSim {
    parser: Parser,
    fault: Fault,
    bytes: Vec<u8>,
    ops: Vec<Op>,
    held: Vec<(Vec<u8>, Vec<Op>)>,
    jobs: Vec<SimJob>,
    out_dir: Option<PathBuf>,
    status_requests: u64,
}

impl PrinterSim {
    fn output(&mut self, bytes: Vec<u8>, ops: Vec<Op>) {
        let number = self.jobs.len() + 1;
        let img = parse::render(&ops);
        let (mut bin, mut png) = (None, None);
        if let Some(dir) = &self.out_dir {
            let b = dir.join(format!("job-{number:04}.bin"));
            let p = dir.join(format!("job-{number:04}.png"));
            if let Err(e) = std::fs::write(&b, &bytes) {
                tracing::warn!(error = %e, "simulated printer cannot save the job");
            } else {
                bin = Some(b);
            }
            match img.to_png().and_then(|data| std::fs::write(&p, data)) {
                Ok(()) => png = Some(p),
                Err(e) => tracing::warn!(error = %e, "simulated printer cannot save the picture"),
            }
        }
        tracing::info!(
            number,
            bytes = bytes.len(),
            "simulated printer printed a job"
        );
        self.jobs.push(SimJob {
            number,
            bytes,
            black_dots: img.black_dots(),
            height: img.height(),
            bin,
            png,
        });
    }

    fn set_fault(&mut self, f: Fault) {
        self.fault = f;
        if f.status().ready() {
            for (b, o) in std::mem::take(&mut self.held) {
                self.output(b, o);
            }
        }
    }
}

impl SimDevice for PrinterSim {
    fn on_input(&mut self, input: &[u8]) -> SimReply {
        let mut reply = SimReply::none();
        for (op, raw) in self.parser.push_raw(input) {
            match op {
                Op::Status(n) => {
                    self.status_requests += 1;
                    if self.fault != Fault::Silence {
                        reply.bytes.push(self.fault.status().reply(n));
                    }
                }
                Op::Cut { .. } => {
                    self.bytes.extend_from_slice(&raw);
                    self.ops.push(op);
                    let bytes = std::mem::take(&mut self.bytes);
                    let ops = std::mem::take(&mut self.ops);
                    if self.fault.status().ready() {
                        self.output(bytes, ops);
                    } else {
                        self.held.push((bytes, ops));
                    }
                }
                op => {
                    self.bytes.extend_from_slice(&raw);
                    self.ops.push(op);
                }
            }
        }
        reply
    }
}

/// A running simulated printer. Dropping it stops the simulator and removes the link.
pub struct Simulator {
    sim: Arc<Mutex<PrinterSim>>,
    lp: SimLoop,
}

impl Simulator {
    /// Starts a simulated printer at `link`, saving jobs under `out_dir` when given (created if
    /// missing).
    pub fn spawn(link: &Path, out_dir: Option<&Path>) -> io::Result<Simulator> {
        if let Some(d) = out_dir {
            std::fs::create_dir_all(d)?;
        }
        let sim = Arc::new(Mutex::new(PrinterSim {
            parser: Parser::new(),
            fault: Fault::None,
            bytes: Vec::new(),
            ops: Vec::new(),
            held: Vec::new(),
            jobs: Vec::new(),
            out_dir: out_dir.map(Path::to_path_buf),
            status_requests: 0,
        }));
        let lp = SimLoop::start(link, sim.clone(), "printer")?;
        Ok(Simulator { sim, lp })
    }

    fn state(&self) -> MutexGuard<'_, PrinterSim> {
        match self.sim.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// The link path.
    pub fn link(&self) -> PathBuf {
        self.lp.link.clone()
    }
    /// Shows `fault` until cleared; clearing prints held jobs.
    pub fn set_fault(&self, fault: Fault) {
        self.state().set_fault(fault);
    }
    /// The jobs printed so far.
    pub fn jobs(&self) -> Vec<SimJob> {
        self.state().jobs.clone()
    }
    /// Number of jobs printed so far.
    pub fn job_count(&self) -> usize {
        self.state().jobs.len()
    }
    /// Jobs received but held because the printer cannot print.
    pub fn held_count(&self) -> usize {
        self.state().held.len()
    }
    /// DLE EOT requests received.
    pub fn status_requests(&self) -> u64 {
        self.state().status_requests
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
