//! The real ID-card reader: [`SamReader`] runs the SAM protocol over any [`Port`], and
//! [`spawn_worker`] owns a serial port on its own thread: it polls for cards with debounce (one
//! event per placement), reports health, and reopens the port with backoff when it goes away.
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use zeroize::Zeroize;

use super::card::{parse_read_data, CardRead};
use super::protocol::{format_sam_id, Command, Frame, FrameDecoder, FrameError, SamCode};
use super::{CardReader, IdCardError, ReaderEvent};
use crate::events::EventSink;
use crate::health::{HealthCell, HealthState};
use crate::transport::{is_disconnect, open_serial, sleep_unless, Backoff, Port, WorkerThread};
use crate::DeviceErrorKind;

/// The SAM protocol over a byte stream. One command in flight; each command is resent once when
/// the answer is corrupted.
pub struct SamReader<P: Port> {
    port: P,
    decoder: FrameDecoder,
    buf: Vec<u8>,
    /// Time allowed for an answer to an ordinary command.
    pub command_timeout: Duration,
    /// Time allowed for a read answer (the card transfer takes up to about a second).
    pub read_timeout: Duration,
}

impl<P: Port> SamReader<P> {
    /// A reader on `port`. The port's own read timeout should be short (tens of ms); this type
    /// keeps the command deadlines.
    pub fn new(port: P) -> Self {
        SamReader {
            port,
            decoder: FrameDecoder::new(),
            buf: vec![0; 4096],
            command_timeout: Duration::from_millis(1000),
            read_timeout: Duration::from_millis(3000),
        }
    }

    /// Gives the port back.
    pub fn into_inner(self) -> P {
        self.port
    }

    /// Bytes skipped so far while resynchronising (garbage, bad frames).
    pub fn discarded(&self) -> usize {
        self.decoder.discarded()
    }

    /// Sends one command and waits for one answer frame (any SW3).
    pub fn transact(&mut self, cmd: Command) -> Result<Frame, IdCardError> {
        let timeout = match cmd {
            Command::Read | Command::ReadWithFingerprint => self.read_timeout,
            _ => self.command_timeout,
        };
        let mut last_err = None;
        for _attempt in 0..2 {
            match self.transact_once(cmd, timeout) {
                Ok(f) => match f.sw3().and_then(SamCode::from_sw3) {
                    // The SAM saw our command corrupted: send it again.
                    Some(SamCode::RxChecksum | SamCode::RxLength) => {
                        last_err = Some(IdCardError::Sam(
                            SamCode::from_sw3(f.sw3().unwrap_or(0x10))
                                .unwrap_or(SamCode::RxChecksum),
                        ))
                    }
                    _ => return Ok(f),
                },
                Err(IdCardError::Frame(e)) => {
                    tracing::debug!(error = %e, "corrupted answer from the reader; resending");
                    last_err = Some(IdCardError::Frame(e));
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_err.unwrap_or(IdCardError::Timeout(timeout)))
    }

    fn transact_once(&mut self, cmd: Command, timeout: Duration) -> Result<Frame, IdCardError> {
        self.decoder.clear();
        if let Err(e) = self.port.discard_input() {
            if is_disconnect(&e) {
                return Err(IdCardError::Io(e));
            }
        }
        let frame = cmd.encode();
        tracing::trace!(cmd = %super::protocol::hex(&frame), "to reader");
        self.port.write_all(&frame)?;
        self.port.flush()?;
        let deadline = Instant::now() + timeout;
        let mut frame_err: Option<FrameError> = None;
        loop {
            while let Some(r) = self.decoder.next_frame() {
                match r {
                    Ok(f) => return Ok(f),
                    Err(e) => frame_err = Some(e),
                }
            }
            if Instant::now() >= deadline {
                return Err(match frame_err {
                    Some(e) => IdCardError::Frame(e),
                    None if self.decoder.buffered() > 0 => {
                        IdCardError::Frame(FrameError::Truncated {
                            have: self.decoder.buffered(),
                            need: 0,
                        })
                    }
                    None => IdCardError::Timeout(timeout),
                });
            }
            match crate::transport::read_some(&mut self.port, &mut self.buf) {
                Ok(0) => {}
                Ok(n) => {
                    self.decoder.push(&self.buf[..n]);
                    self.buf[..n].zeroize();
                }
                Err(e) => return Err(IdCardError::Io(e)),
            }
        }
    }

    fn command(&mut self, cmd: Command) -> Result<Frame, IdCardError> {
        let f = self.transact(cmd)?;
        f.check(cmd.ok_code())?;
        Ok(f)
    }
}

impl<P: Port> CardReader for SamReader<P> {
    fn sam_status(&mut self) -> Result<(), IdCardError> {
        self.command(Command::SamStatus).map(|_| ())
    }

    fn sam_id(&mut self) -> Result<String, IdCardError> {
        let f = self.command(Command::SamId)?;
        format_sam_id(f.data()).ok_or(IdCardError::Frame(FrameError::Truncated {
            have: f.data().len(),
            need: 16,
        }))
    }

    fn find(&mut self) -> Result<bool, IdCardError> {
        let f = self.transact(Command::Find)?;
        match f.check(0x9F) {
            Ok(_) => Ok(true),
            Err(super::protocol::ResponseError::Sam(SamCode::NoCard)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    fn select(&mut self) -> Result<(), IdCardError> {
        self.command(Command::Select).map(|_| ())
    }

    fn read(&mut self, fingerprint: bool) -> Result<CardRead, IdCardError> {
        let cmd = if fingerprint {
            Command::ReadWithFingerprint
        } else {
            Command::Read
        };
        let f = self.command(cmd)?;
        Ok(parse_read_data(f.data())?)
    }
}

/// Find, select and read in one go: `Ok(None)` when no card is on the reader.
pub fn read_card(
    r: &mut dyn CardReader,
    fingerprint: bool,
) -> Result<Option<CardRead>, IdCardError> {
    if !r.find()? {
        return Ok(None);
    }
    r.select()?;
    r.read(fingerprint).map(Some)
}

/// Settings of the reader worker.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The serial device (or a link to it).
    pub port: PathBuf,
    /// Baud rate (115200 is the factory default).
    pub baud: u32,
    /// Time between two "find card" polls.
    pub poll_interval: Duration,
    /// Read fingerprints too (`30 10`).
    pub fingerprint: bool,
    /// Answer timeout of ordinary commands.
    pub command_timeout: Duration,
    /// Consecutive "no card" answers before a read card counts as removed (debounce).
    pub removal_misses: u32,
}

impl WorkerConfig {
    /// Defaults for `port`: 115200 baud, a poll every 300 ms, no fingerprint.
    pub fn new(port: impl Into<PathBuf>) -> Self {
        WorkerConfig {
            port: port.into(),
            baud: 115_200,
            poll_interval: Duration::from_millis(300),
            fingerprint: false,
            command_timeout: Duration::from_millis(1000),
            removal_misses: 2,
        }
    }
}

/// A running reader worker.
pub struct ReaderHandle {
    worker: WorkerThread,
}

impl ReaderHandle {
    /// The reader's current health.
    pub fn health(&self) -> crate::Health {
        self.worker.health()
    }
    /// Stops the worker and waits for it (the port is closed).
    pub fn stop(mut self) {
        self.worker.shutdown();
    }
}

/// Starts the reader worker on its own thread. Events go to `tx`; the worker stops when the
/// handle is stopped or dropped, or when `tx`'s receiver is gone.
pub fn spawn_worker(
    cfg: WorkerConfig,
    tx: impl Into<EventSink<ReaderEvent>>,
) -> std::io::Result<ReaderHandle> {
    let tx = tx.into();
    let worker = WorkerThread::spawn("idcard", move |h, s| Worker::new(cfg, tx, h, s).run())?;
    Ok(ReaderHandle { worker })
}

struct Worker {
    cfg: WorkerConfig,
    tx: EventSink<ReaderEvent>,
    health: HealthCell,
    stop: Arc<AtomicBool>,
    /// A card was read and has not been seen leaving.
    present: bool,
    misses: u32,
    failures: u32,
    timeouts: u32,
    receiver_gone: bool,
}

enum Next {
    Continue,
    Reopen,
}

impl Worker {
    fn new(
        cfg: WorkerConfig,
        tx: EventSink<ReaderEvent>,
        health: HealthCell,
        stop: Arc<AtomicBool>,
    ) -> Self {
        Worker {
            cfg,
            tx,
            health,
            stop,
            present: false,
            misses: 0,
            failures: 0,
            timeouts: 0,
            receiver_gone: false,
        }
    }

    fn stopped(&self) -> bool {
        self.receiver_gone || self.stop.load(Ordering::SeqCst)
    }

    fn send(&mut self, ev: ReaderEvent) {
        if self.tx.send(ev).is_err() {
            self.receiver_gone = true;
        }
    }

    fn set_health(&mut self, state: HealthState, reason: Option<String>) {
        if let Some(h) = self.health.set(state, reason) {
            tracing::info!(state = ?h.state, reason = h.reason.as_deref().unwrap_or(""), "ID-card reader health");
            self.send(ReaderEvent::Health(h));
        }
    }

    fn run(mut self) {
        let mut backoff = Backoff::default();
        while !self.stopped() {
            let port = match open_serial(&self.cfg.port, self.cfg.baud, Duration::from_millis(50)) {
                Ok(p) => p,
                Err(e) => {
                    let reason = format!("cannot open {}: {e}", self.cfg.port.display());
                    self.set_health(HealthState::Offline, Some(reason));
                    let stop = self.stop.clone();
                    sleep_unless(backoff.next_delay(), || stop.load(Ordering::SeqCst));
                    continue;
                }
            };
            let mut reader = SamReader::new(port);
            reader.command_timeout = self.cfg.command_timeout;
            match reader.sam_status() {
                Ok(()) => {
                    backoff.reset();
                    self.timeouts = 0;
                    self.set_health(HealthState::Ok, None);
                }
                Err(e) => {
                    self.set_health(
                        HealthState::Offline,
                        Some(format!("reader status check failed: {e}")),
                    );
                    let stop = self.stop.clone();
                    sleep_unless(backoff.next_delay(), || stop.load(Ordering::SeqCst));
                    continue;
                }
            }
            while !self.stopped() {
                if let Next::Reopen = self.poll_once(&mut reader) {
                    break;
                }
                let stop = self.stop.clone();
                sleep_unless(self.cfg.poll_interval, || stop.load(Ordering::SeqCst));
            }
        }
    }

    fn poll_once<P: Port>(&mut self, reader: &mut SamReader<P>) -> Next {
        match reader.find() {
            Ok(true) => {
                self.misses = 0;
                self.timeouts = 0;
                if self.present {
                    return Next::Continue;
                }
                let r = reader
                    .select()
                    .and_then(|()| reader.read(self.cfg.fingerprint));
                match r {
                    Ok(read) => {
                        tracing::info!(kind = ?read.card.kind, "ID card read");
                        tracing::debug!(id = %read.card.masked_id(), check = ?read.card.id_number_check, "ID card read");
                        self.present = true;
                        self.failures = 0;
                        self.set_health(HealthState::Ok, None);
                        self.send(ReaderEvent::CardRead(Box::new(read)));
                        Next::Continue
                    }
                    Err(e) => self.on_error(e, true),
                }
            }
            Ok(false) => {
                self.timeouts = 0;
                self.misses += 1;
                if self.misses >= self.cfg.removal_misses {
                    self.failures = 0;
                    if self.present {
                        self.present = false;
                        self.send(ReaderEvent::CardRemoved);
                    }
                }
                if self.health.get().state != HealthState::Ok {
                    self.set_health(HealthState::Ok, None);
                }
                Next::Continue
            }
            Err(e) => self.on_error(e, false),
        }
    }

    fn on_error(&mut self, e: IdCardError, reading: bool) -> Next {
        let kind = e.kind();
        match kind {
            DeviceErrorKind::Disconnected => {
                self.set_health(
                    HealthState::Offline,
                    Some(format!("reader disconnected: {e}")),
                );
                Next::Reopen
            }
            DeviceErrorKind::Timeout => {
                self.timeouts += 1;
                if self.timeouts >= 3 {
                    self.set_health(
                        HealthState::Offline,
                        Some("the reader stopped answering".into()),
                    );
                    Next::Reopen
                } else {
                    self.set_health(
                        HealthState::Degraded,
                        Some("the reader answers slowly".into()),
                    );
                    Next::Continue
                }
            }
            DeviceErrorKind::DeviceFault => {
                self.set_health(HealthState::Offline, Some(e.to_string()));
                Next::Reopen
            }
            _ if reading => {
                // A card is there but did not read: tell the citizen, retry a few times.
                tracing::warn!(error = %e, "ID card could not be read");
                self.failures += 1;
                if self.failures >= 3 {
                    // Give up on this placement: wait for the card to be taken away.
                    self.present = true;
                }
                self.send(ReaderEvent::ReadFailed {
                    kind,
                    reason: e.to_string(),
                });
                Next::Continue
            }
            _ => {
                self.set_health(HealthState::Degraded, Some(e.to_string()));
                Next::Continue
            }
        }
    }
}
