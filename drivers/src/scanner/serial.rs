//! The real scanner: [`SerialScanner`] reads codes from any [`Port`]; [`spawn_worker`] owns a
//! serial port on its own thread, sends [`ScannerEvent`]s, and reopens the port with backoff.
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::protocol::{decode, Deduper, LineSplitter, Piece, Trigger, GAP};
use super::{Scan, Scanner, ScannerError, ScannerEvent};
use crate::events::EventSink;
use crate::health::{HealthCell, HealthState};
use crate::transport::{open_serial, sleep_unless, Backoff, Port, WorkerThread};

/// A scanner over a byte stream. The port's read timeout should be about the inter-byte gap.
pub struct SerialScanner<P: Port> {
    port: P,
    splitter: LineSplitter,
    dedup: Deduper,
    ready: std::collections::VecDeque<Piece>,
    last_byte: Instant,
    buf: Vec<u8>,
    dropped: Vec<usize>,
}

impl<P: Port> SerialScanner<P> {
    /// A scanner on `port`.
    pub fn new(port: P) -> Self {
        SerialScanner {
            port,
            splitter: LineSplitter::new(),
            dedup: Deduper::default(),
            ready: Default::default(),
            last_byte: Instant::now(),
            buf: vec![0; 1024],
            dropped: Vec::new(),
        }
    }

    /// Sends a trigger command (scanners in command-trigger mode).
    pub fn trigger(&mut self, t: Trigger, on: bool) -> Result<(), ScannerError> {
        self.port.write_all(&if on { t.on() } else { t.off() })?;
        self.port.flush()?;
        Ok(())
    }

    /// Lengths of messages dropped for being too long since the last call.
    pub fn take_dropped(&mut self) -> Vec<usize> {
        std::mem::take(&mut self.dropped)
    }
}

impl<P: Port> Scanner for SerialScanner<P> {
    fn next_code(&mut self, timeout: Duration) -> Result<Option<Scan>, ScannerError> {
        let deadline = Instant::now() + timeout;
        loop {
            while let Some(p) = self.ready.pop_front() {
                match p {
                    Piece::Line(l) => {
                        let (text, charset) = decode(&l);
                        if self.dedup.accept(&text, Instant::now()) {
                            return Ok(Some(Scan { text, charset }));
                        }
                        tracing::debug!("repeated code suppressed");
                    }
                    Piece::Overflow(n) => {
                        tracing::warn!(len = n, "scanner message over 4 KiB dropped");
                        self.dropped.push(n);
                    }
                }
            }
            if Instant::now() >= deadline && !self.splitter.has_partial() {
                return Ok(None);
            }
            match crate::transport::read_some(&mut self.port, &mut self.buf) {
                Ok(n) if n > 0 => {
                    self.last_byte = Instant::now();
                    let pieces = self.splitter.push(&self.buf[..n]);
                    self.ready.extend(pieces);
                }
                Ok(_) => {}
                Err(e) => return Err(ScannerError::Io(e)),
            }
            if self.splitter.has_partial() && self.last_byte.elapsed() >= GAP {
                let pieces = self.splitter.gap();
                self.ready.extend(pieces);
            }
        }
    }
}

/// Settings of the scanner worker.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The device path.
    pub port: PathBuf,
    /// Baud rate (9600 for most modules).
    pub baud: u32,
    /// Trigger command family, when the scanner is in command-trigger mode: the worker sends
    /// "trigger on" after opening the port.
    pub trigger: Option<Trigger>,
}

impl WorkerConfig {
    /// Defaults for `port`: 9600 baud, no trigger.
    pub fn new(port: impl Into<PathBuf>) -> Self {
        WorkerConfig {
            port: port.into(),
            baud: 9600,
            trigger: None,
        }
    }
}

/// A running scanner worker.
pub struct ScannerHandle {
    worker: WorkerThread,
}

impl ScannerHandle {
    /// Health.
    pub fn health(&self) -> crate::Health {
        self.worker.health()
    }
    /// Stops the worker.
    pub fn stop(mut self) {
        self.worker.shutdown();
    }
}

/// Starts the scanner worker.
pub fn spawn_worker(
    cfg: WorkerConfig,
    tx: impl Into<EventSink<ScannerEvent>>,
) -> std::io::Result<ScannerHandle> {
    let tx = tx.into();
    let worker = WorkerThread::spawn("scanner", move |h, s| run(cfg, tx, h, s))?;
    Ok(ScannerHandle { worker })
}

fn run(cfg: WorkerConfig, tx: EventSink<ScannerEvent>, health: HealthCell, stop: Arc<AtomicBool>) {
    let set = |state, reason| {
        if let Some(h) = health.set(state, reason) {
            tracing::info!(state = ?h.state, reason = h.reason.as_deref().unwrap_or(""), "scanner health");
            let _ = tx.send(ScannerEvent::Health(h));
        }
    };
    let mut backoff = Backoff::default();
    // Duplicate suppression survives reconnects, so a replug does not repeat a code.
    let mut dedup = Some(Deduper::default());
    while !stop.load(Ordering::SeqCst) {
        let port = match open_serial(&cfg.port, cfg.baud, Duration::from_millis(20)) {
            Ok(p) => p,
            Err(e) => {
                set(
                    HealthState::Offline,
                    Some(format!("cannot open {}: {e}", cfg.port.display())),
                );
                sleep_unless(backoff.next_delay(), || stop.load(Ordering::SeqCst));
                continue;
            }
        };
        let mut sc = SerialScanner::new(port);
        if let Some(d) = dedup.take() {
            sc.dedup = d;
        }
        let _ = sc.port.discard_input();
        if let Some(t) = cfg.trigger {
            if let Err(e) = sc.trigger(t, true) {
                tracing::warn!(error = %e, "scanner trigger command failed");
            }
        }
        backoff.reset();
        set(HealthState::Ok, None);
        while !stop.load(Ordering::SeqCst) {
            let r = sc.next_code(Duration::from_millis(200));
            // Report drops first so events stay in line order.
            for len in sc.take_dropped() {
                let _ = tx.send(ScannerEvent::Dropped { len });
            }
            match r {
                Ok(Some(scan)) => {
                    tracing::info!(len = scan.text.len(), "code scanned");
                    if tx.send(ScannerEvent::Code(scan)).is_err() {
                        return;
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    set(
                        HealthState::Offline,
                        Some(format!("scanner disconnected: {e}")),
                    );
                    break;
                }
            }
        }
        dedup = Some(std::mem::take(&mut sc.dedup));
    }
}
