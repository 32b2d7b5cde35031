//! Pseudo-terminals for the simulators: a pty whose slave path is symlinked at a chosen link
//! path (what a driver opens, like `/dev/serial/by-id/…` on a kiosk), and the loop every simulator
//! runs on it, including "unplug" (the pty is closed and the link removed) and "plug" (a new pty at
//! the same link path).
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout};

/// One pseudo-terminal with its slave linked at a path. The simulator keeps the slave open too,
/// so the master never sees a hang-up while the driver closes and reopens the link.
pub struct PtyLink {
    master: File,
    _slave: OwnedFd,
    slave_path: PathBuf,
    link: PathBuf,
}

impl PtyLink {
    /// Creates a raw-mode pty and points `link` at its slave (replacing whatever was there).
    pub fn create(link: &Path) -> io::Result<PtyLink> {
        let pty = nix::pty::openpty(None, None).map_err(io::Error::from)?;
        let mut t = nix::sys::termios::tcgetattr(pty.slave.as_fd()).map_err(io::Error::from)?;
        nix::sys::termios::cfmakeraw(&mut t);
        nix::sys::termios::tcsetattr(pty.slave.as_fd(), nix::sys::termios::SetArg::TCSANOW, &t)
            .map_err(io::Error::from)?;
        let slave_path = nix::unistd::ttyname(pty.slave.as_fd()).map_err(io::Error::from)?;
        let tmp = link.with_extension(format!("tmp{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&slave_path, &tmp)?;
        std::fs::rename(&tmp, link)?;
        let master = File::from(pty.master);
        set_nonblocking(&master)?;
        Ok(PtyLink {
            master,
            _slave: pty.slave,
            slave_path,
            link: link.to_path_buf(),
        })
    }

    /// The slave device path (`/dev/pts/N`).
    pub fn slave_path(&self) -> &Path {
        &self.slave_path
    }

    /// Waits up to `timeout` for bytes from the driver; `Ok(0)` when none came.
    pub fn read_timeout(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(self.master.as_fd(), PollFlags::POLLIN)];
        let n = nix::poll::poll(&mut fds, PollTimeout::from(ms)).map_err(io::Error::from)?;
        if n == 0 {
            return Ok(0);
        }
        match self.master.read(buf) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
            Err(e) if e.raw_os_error() == Some(5) => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// Writes all of `bytes` to the driver, giving up after 2 s if nobody reads (the bytes are
    /// then dropped, like a device talking to an unplugged host).
    pub fn write_all(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(2);
        while !bytes.is_empty() {
            match self.master.write(bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if Instant::now() > deadline {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "nobody reads the pty",
                        ));
                    }
                    let mut fds = [PollFd::new(self.master.as_fd(), PollFlags::POLLOUT)];
                    let _ = nix::poll::poll(&mut fds, PollTimeout::from(20u16));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl Drop for PtyLink {
    fn drop(&mut self) {
        // Remove the link only if it still points at this pty (a newer one may have replaced it).
        if std::fs::read_link(&self.link).ok().as_deref() == Some(self.slave_path.as_path()) {
            let _ = std::fs::remove_file(&self.link);
        }
    }
}

fn set_nonblocking(f: &File) -> io::Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let flags = fcntl(f.as_fd(), FcntlArg::F_GETFL).map_err(io::Error::from)?;
    let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
    fcntl(f.as_fd(), FcntlArg::F_SETFL(flags)).map_err(io::Error::from)?;
    Ok(())
}

/// What a simulated device does with bytes from the driver.
pub trait SimDevice: Send + 'static {
    /// Handles bytes written by the driver; returns what to send back.
    fn on_input(&mut self, input: &[u8]) -> SimReply;
    /// Bytes the device sends on its own (a scan), polled every loop turn.
    fn pending_output(&mut self) -> Vec<u8> {
        Vec::new()
    }
}

/// A simulated device's answer.
#[derive(Debug, Default)]
pub struct SimReply {
    /// Bytes to send back.
    pub bytes: Vec<u8>,
    /// Unplug right after sending them (a device pulled mid-frame).
    pub then_unplug: bool,
    /// Send the first this-many bytes, pause, then the rest (a frame split across reads).
    pub split_at: Option<usize>,
}

impl SimReply {
    /// Send `bytes`.
    pub fn send(bytes: Vec<u8>) -> Self {
        SimReply {
            bytes,
            ..SimReply::default()
        }
    }
    /// Send nothing.
    pub fn none() -> Self {
        SimReply::default()
    }
}

/// Control shared between a simulator thread and its handle.
#[derive(Debug)]
pub(crate) struct SimCtrl {
    pub stop: AtomicBool,
    pub plugged: AtomicBool,
    /// True while a pty exists at the link path.
    pub linked: AtomicBool,
}

/// A running simulator loop: a pty at `link`, bytes passed to the device.
pub(crate) struct SimLoop {
    pub ctrl: Arc<SimCtrl>,
    pub link: PathBuf,
    thread: Option<JoinHandle<()>>,
}

impl SimLoop {
    /// Creates the first pty synchronously (so the link exists when this returns) and starts the
    /// loop thread.
    pub fn start<D: SimDevice>(link: &Path, dev: Arc<Mutex<D>>, name: &str) -> io::Result<SimLoop> {
        let first = PtyLink::create(link)?;
        let ctrl = Arc::new(SimCtrl {
            stop: AtomicBool::new(false),
            plugged: AtomicBool::new(true),
            linked: AtomicBool::new(true),
        });
        let c2 = ctrl.clone();
        let link2 = link.to_path_buf();
        let thread = std::thread::Builder::new()
            .name(format!("sim-{name}"))
            .spawn(move || run_loop(first, link2, dev, c2))?;
        Ok(SimLoop {
            ctrl,
            link: link.to_path_buf(),
            thread: Some(thread),
        })
    }

    /// Closes the pty and removes the link; returns once it is gone.
    pub fn unplug(&self) {
        self.ctrl.plugged.store(false, Ordering::SeqCst);
        self.wait_linked(false);
    }

    /// Creates a new pty at the same link path; returns once it exists.
    pub fn plug(&self) {
        self.ctrl.plugged.store(true, Ordering::SeqCst);
        self.wait_linked(true);
    }

    fn wait_linked(&self, want: bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.ctrl.linked.load(Ordering::SeqCst) != want && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Stops the loop and removes the link.
    pub fn stop(&mut self) {
        self.ctrl.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SimLoop {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run_loop<D: SimDevice>(first: PtyLink, link: PathBuf, dev: Arc<Mutex<D>>, ctrl: Arc<SimCtrl>) {
    let mut pty = Some(first);
    let mut buf = vec![0u8; 4096];
    while !ctrl.stop.load(Ordering::SeqCst) {
        let plugged = ctrl.plugged.load(Ordering::SeqCst);
        if !plugged {
            // Mark the link gone before the pty closes: a driver that sees the close (EIO)
            // must already find the device unplugged.
            ctrl.linked.store(false, Ordering::SeqCst);
            if pty.take().is_some() {
                tracing::debug!(link = %link.display(), "simulator unplugged");
            }
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        let p = match pty.as_mut() {
            Some(p) => p,
            None => match PtyLink::create(&link) {
                Ok(p) => {
                    tracing::debug!(link = %link.display(), "simulator plugged");
                    ctrl.linked.store(true, Ordering::SeqCst);
                    pty.insert(p)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "simulator cannot create a pty");
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
            },
        };
        let n = match p.read_timeout(&mut buf, Duration::from_millis(10)) {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "simulator read failed");
                0
            }
        };
        let (reply, out) = {
            let mut d = match dev.lock() {
                Ok(d) => d,
                Err(poisoned) => poisoned.into_inner(),
            };
            let reply = if n > 0 {
                d.on_input(&buf[..n])
            } else {
                SimReply::none()
            };
            (reply, d.pending_output())
        };
        if let Some(k) = reply.split_at.filter(|k| *k < reply.bytes.len()) {
            let _ = p.write_all(&reply.bytes[..k]);
            std::thread::sleep(Duration::from_millis(15));
            if let Err(e) = p.write_all(&reply.bytes[k..]) {
                tracing::debug!(error = %e, "simulator could not send its answer");
            }
        } else if !reply.bytes.is_empty() {
            if let Err(e) = p.write_all(&reply.bytes) {
                tracing::debug!(error = %e, "simulator could not send its answer");
            }
        }
        if reply.then_unplug {
            ctrl.plugged.store(false, Ordering::SeqCst);
            continue;
        }
        if !out.is_empty() {
            if let Err(e) = p.write_all(&out) {
                tracing::debug!(error = %e, "simulator could not send");
            }
        }
    }
    drop(pty);
    ctrl.linked.store(false, Ordering::SeqCst);
}
