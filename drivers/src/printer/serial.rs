//! The real receipt printer: [`EscPosPrinter`] speaks ESC/POS and DLE EOT over any [`Port`], and
//! [`spawn_worker`] owns the port on its own thread with a job queue. Every job is preceded and
//! followed by a status check; a job that cannot print (paper end, cover open, offline,
//! unplugged) waits, is reported, and is printed exactly once when the printer is ready again.
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::status::{self, PrinterStatus};
use super::{PrinterError, PrinterEvent, ReceiptPrinter};
use crate::events::EventSink;
use crate::health::{HealthCell, HealthState};
use crate::transport::{is_disconnect, open_serial, sleep_unless, Backoff, Port, WorkerThread};
use crate::DeviceErrorKind;

/// ESC/POS over a byte stream.
pub struct EscPosPrinter<P: Port> {
    port: P,
    /// Time allowed for each status reply.
    pub status_timeout: Duration,
}

impl<P: Port> EscPosPrinter<P> {
    /// A printer on `port` (whose own read timeout should be short).
    pub fn new(port: P) -> Self {
        EscPosPrinter {
            port,
            status_timeout: Duration::from_millis(500),
        }
    }

    fn status_byte(&mut self, n: u8) -> Result<u8, PrinterError> {
        self.port.write_all(&status::request(n))?;
        self.port.flush()?;
        let deadline = Instant::now() + self.status_timeout;
        let mut other = None;
        let mut b = [0u8; 1];
        while Instant::now() < deadline {
            match crate::transport::read_some(&mut self.port, &mut b) {
                Ok(1) if status::is_reply(b[0]) => return Ok(b[0]),
                Ok(1) => other = Some(b[0]),
                Ok(_) => {}
                Err(e) => return Err(PrinterError::Io(e)),
            }
        }
        Err(match other {
            Some(b) => PrinterError::NotAStatus(status::NotAStatus(b)),
            None => PrinterError::Timeout,
        })
    }
}

impl<P: Port> ReceiptPrinter for EscPosPrinter<P> {
    fn status(&mut self) -> Result<PrinterStatus, PrinterError> {
        if let Err(e) = self.port.discard_input() {
            if is_disconnect(&e) {
                return Err(PrinterError::Io(e));
            }
        }
        let mut r = [0u8; 4];
        for (i, n) in (1..=4).enumerate() {
            r[i] = self.status_byte(n)?;
        }
        Ok(PrinterStatus::from_replies(r)?)
    }

    fn send(&mut self, job: &[u8]) -> Result<(), PrinterError> {
        for chunk in job.chunks(4096) {
            self.port.write_all(chunk)?;
        }
        self.port.flush()?;
        Ok(())
    }
}

/// A job's number, unique per worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub u64);

/// Settings of the printer worker.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The device path.
    pub port: PathBuf,
    /// Baud rate (ignored by USB printer-class nodes).
    pub baud: u32,
    /// Status poll interval while idle.
    pub idle_poll: Duration,
    /// Status poll interval while a job waits.
    pub wait_poll: Duration,
}

impl WorkerConfig {
    /// Defaults for `port`: 115200 baud, idle poll 2 s, wait poll 250 ms.
    pub fn new(port: impl Into<PathBuf>) -> Self {
        WorkerConfig {
            port: port.into(),
            baud: 115_200,
            idle_poll: Duration::from_secs(2),
            wait_poll: Duration::from_millis(250),
        }
    }
}

/// A running printer worker: submit jobs, read health and status.
pub struct PrinterHandle {
    jobs: Option<Sender<(JobId, Vec<u8>)>>,
    next: AtomicU64,
    pending: Arc<AtomicUsize>,
    status: Arc<Mutex<Option<PrinterStatus>>>,
    worker: WorkerThread,
}

impl PrinterHandle {
    /// Queues the bytes of one job; returns its id.
    pub fn submit(&self, job: Vec<u8>) -> JobId {
        let id = JobId(self.next.fetch_add(1, Ordering::SeqCst));
        self.pending.fetch_add(1, Ordering::SeqCst);
        if let Some(tx) = &self.jobs {
            if tx.send((id, job)).is_err() {
                self.pending.fetch_sub(1, Ordering::SeqCst);
            }
        }
        id
    }
    /// Lays out and queues a receipt.
    pub fn print(&self, r: &super::Receipt, mode: super::Mode) -> Result<JobId, PrinterError> {
        Ok(self.submit(r.to_escpos(mode)?))
    }
    /// Jobs queued or waiting, not yet printed.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }
    /// Health.
    pub fn health(&self) -> crate::Health {
        self.worker.health()
    }
    /// The last status read (None before the first).
    pub fn last_status(&self) -> Option<PrinterStatus> {
        match self.status.lock() {
            Ok(s) => *s,
            Err(p) => *p.into_inner(),
        }
    }
    /// Stops the worker (queued jobs are dropped).
    pub fn stop(mut self) {
        self.shutdown();
    }
    fn shutdown(&mut self) {
        self.jobs.take();
        self.worker.shutdown();
    }
}

impl Drop for PrinterHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts the printer worker.
pub fn spawn_worker(
    cfg: WorkerConfig,
    tx: impl Into<EventSink<PrinterEvent>>,
) -> std::io::Result<PrinterHandle> {
    let tx = tx.into();
    let (jtx, jrx) = std::sync::mpsc::channel();
    let status = Arc::new(Mutex::new(None));
    let pending = Arc::new(AtomicUsize::new(0));
    let (st, pd) = (status.clone(), pending.clone());
    let worker = WorkerThread::spawn("printer", move |health, stop| {
        Worker {
            cfg,
            tx,
            jobs: jrx,
            queue: VecDeque::new(),
            health,
            status: st,
            stop,
            pending: pd,
            last: None,
            silent: 0,
        }
        .run()
    })?;
    Ok(PrinterHandle {
        jobs: Some(jtx),
        next: AtomicU64::new(1),
        pending,
        status,
        worker,
    })
}

struct Job {
    id: JobId,
    bytes: Vec<u8>,
    /// All bytes went to the printer; it holds the job until it can print.
    sent: bool,
    reported: Option<String>,
}

struct Worker {
    cfg: WorkerConfig,
    tx: EventSink<PrinterEvent>,
    jobs: Receiver<(JobId, Vec<u8>)>,
    queue: VecDeque<Job>,
    health: HealthCell,
    status: Arc<Mutex<Option<PrinterStatus>>>,
    stop: Arc<AtomicBool>,
    pending: Arc<AtomicUsize>,
    last: Option<PrinterStatus>,
    silent: u32,
}

impl Worker {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn set_health(&mut self, state: HealthState, reason: Option<String>) {
        if let Some(h) = self.health.set(state, reason) {
            tracing::info!(state = ?h.state, reason = h.reason.as_deref().unwrap_or(""), "printer health");
            let _ = self.tx.send(PrinterEvent::Health(h));
        }
    }

    fn take_jobs(&mut self) {
        while let Ok((id, bytes)) = self.jobs.try_recv() {
            self.queue.push_back(Job {
                id,
                bytes,
                sent: false,
                reported: None,
            });
        }
    }

    fn report_waiting(&mut self, kind: DeviceErrorKind, reason: &str) {
        if let Some(job) = self.queue.front_mut() {
            if job.reported.as_deref() != Some(reason) {
                job.reported = Some(reason.to_string());
                tracing::warn!(job = job.id.0, reason, "print job waits");
                let _ = self.tx.send(PrinterEvent::JobWaiting {
                    id: job.id,
                    kind,
                    reason: reason.to_string(),
                });
            }
        }
    }

    fn printed(&mut self) {
        if let Some(job) = self.queue.pop_front() {
            tracing::info!(job = job.id.0, "print job done");
            self.pending.fetch_sub(1, Ordering::SeqCst);
            let _ = self.tx.send(PrinterEvent::JobPrinted { id: job.id });
        }
    }

    fn note_status(&mut self, st: PrinterStatus) {
        self.silent = 0;
        if let Ok(mut s) = self.status.lock() {
            *s = Some(st);
        }
        if self.last != Some(st) {
            self.last = Some(st);
            let _ = self.tx.send(PrinterEvent::Status(st));
        }
        match st.problem() {
            Some((_, reason)) => self.set_health(HealthState::Offline, Some(reason.into())),
            None if st.paper_near_end => {
                self.set_health(HealthState::Degraded, Some("paper near end".into()))
            }
            None => self.set_health(HealthState::Ok, None),
        }
    }

    fn run(mut self) {
        let mut backoff = Backoff::default();
        while !self.stopped() {
            self.take_jobs();
            let port = match open_serial(&self.cfg.port, self.cfg.baud, Duration::from_millis(50)) {
                Ok(p) => p,
                Err(e) => {
                    let reason = format!("cannot open {}: {e}", self.cfg.port.display());
                    self.set_health(HealthState::Offline, Some(reason));
                    self.report_waiting(
                        DeviceErrorKind::Disconnected,
                        "the printer is not connected",
                    );
                    let stop = self.stop.clone();
                    sleep_unless(backoff.next_delay(), || stop.load(Ordering::SeqCst));
                    continue;
                }
            };
            let mut printer = EscPosPrinter::new(port);
            if self.serve(&mut printer) {
                backoff.reset();
            } else {
                let stop = self.stop.clone();
                sleep_unless(backoff.next_delay(), || stop.load(Ordering::SeqCst));
            }
        }
    }

    /// Serves jobs on an open port until it fails; returns whether it ever answered.
    fn serve<P: Port>(&mut self, printer: &mut EscPosPrinter<P>) -> bool {
        let mut answered = false;
        while !self.stopped() {
            self.take_jobs();
            let st = match printer.status() {
                Ok(st) => {
                    answered = true;
                    st
                }
                Err(e) => {
                    if !self.on_error(e) {
                        return answered;
                    }
                    continue;
                }
            };
            self.note_status(st);
            let Some(job) = self.queue.front() else {
                match self.jobs.recv_timeout(self.cfg.idle_poll) {
                    Ok((id, bytes)) => self.queue.push_back(Job {
                        id,
                        bytes,
                        sent: false,
                        reported: None,
                    }),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => {
                        let stop = self.stop.clone();
                        sleep_unless(self.cfg.idle_poll, || stop.load(Ordering::SeqCst));
                    }
                }
                continue;
            };
            if let Some((kind, reason)) = st.problem() {
                self.report_waiting(kind, reason);
                let stop = self.stop.clone();
                sleep_unless(self.cfg.wait_poll, || stop.load(Ordering::SeqCst));
                continue;
            }
            if job.sent {
                // The printer held it through the fault and has now printed it.
                self.printed();
                continue;
            }
            let bytes = std::mem::take(&mut self.queue[0].bytes);
            let sent = printer.send(&bytes);
            self.queue[0].bytes = bytes;
            if let Err(e) = sent {
                if !self.on_error(e) {
                    return answered;
                }
                continue;
            }
            self.queue[0].sent = true;
            match printer.status() {
                Ok(after) => {
                    self.note_status(after);
                    match after.problem() {
                        None => self.printed(),
                        Some((kind, reason)) => self.report_waiting(kind, reason),
                    }
                }
                Err(e) => {
                    if !self.on_error(e) {
                        return answered;
                    }
                }
            }
        }
        answered
    }

    /// Handles an error; returns whether the port is still usable.
    fn on_error(&mut self, e: PrinterError) -> bool {
        match e.kind() {
            DeviceErrorKind::Timeout => {
                self.silent += 1;
                if self.silent >= 2 {
                    self.set_health(
                        HealthState::Offline,
                        Some("the printer does not answer".into()),
                    );
                    self.report_waiting(DeviceErrorKind::Timeout, "the printer does not answer");
                    let stop = self.stop.clone();
                    sleep_unless(self.cfg.wait_poll, || stop.load(Ordering::SeqCst));
                }
                true
            }
            DeviceErrorKind::Protocol => {
                self.set_health(HealthState::Degraded, Some(e.to_string()));
                true
            }
            _ => {
                self.set_health(
                    HealthState::Offline,
                    Some(format!("printer disconnected: {e}")),
                );
                self.report_waiting(
                    DeviceErrorKind::Disconnected,
                    "the printer is not connected",
                );
                false
            }
        }
    }
}
