//! The byte stream every driver talks through ([`Port`]), opening real serial ports, and the
//! reconnect backoff the workers share. Drivers never depend on concrete serialport types outside
//! [`open_serial`].
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::Duration;

/// A bidirectional byte stream to a device: a serial port in production, a pseudo-terminal in
/// tests. Reads time out with `io::ErrorKind::TimedOut` (or return `Ok(0)`, treated the same way).
pub trait Port: Read + Write + Send {
    /// Drops bytes received but not read yet (stale answers before a new command).
    fn discard_input(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// Changes the read timeout.
    fn set_read_timeout(&mut self, _timeout: Duration) -> io::Result<()> {
        Ok(())
    }
}

impl Port for serialport::TTYPort {
    fn discard_input(&mut self) -> io::Result<()> {
        serialport::SerialPort::clear(self, serialport::ClearBuffer::Input).map_err(io::Error::from)
    }
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        serialport::SerialPort::set_timeout(self, timeout).map_err(io::Error::from)
    }
}

impl Port for Box<dyn Port> {
    fn discard_input(&mut self) -> io::Result<()> {
        (**self).discard_input()
    }
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        (**self).set_read_timeout(timeout)
    }
}

/// One read from `port` where "nothing arrived yet" is not an error: a read timeout, a
/// would-block or an interrupted read give `Ok(0)`, like a read of nothing. Every driver's read
/// loop goes through it, so they agree on what is harmless.
pub fn read_some(port: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    match port.read(buf) {
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ) =>
        {
            Ok(0)
        }
        other => other,
    }
}

/// Opens a serial device (or a pseudo-terminal, or a symlink to one) at `baud`, 8N1, no flow
/// control, raw mode, with `timeout` for each read and write. Errors are `io::Error`s whose kind
/// says what happened (`NotFound`, `PermissionDenied`, …).
pub fn open_serial(path: &Path, baud: u32, timeout: Duration) -> io::Result<serialport::TTYPort> {
    let name = path.to_string_lossy();
    serialport::new(name.as_ref(), baud)
        .timeout(timeout)
        .data_bits(serialport::DataBits::Eight)
        .parity(serialport::Parity::None)
        .stop_bits(serialport::StopBits::One)
        .flow_control(serialport::FlowControl::None)
        .open_native()
        .map_err(io::Error::from)
}

/// Whether an I/O error means the device went away (as opposed to a slow answer).
pub fn is_disconnect(e: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        e.kind(),
        BrokenPipe | NotFound | ConnectionReset | ConnectionAborted | UnexpectedEof | PermissionDenied
    ) || e.raw_os_error() == Some(5) // EIO: the other end of a pseudo-terminal closed
        || e.raw_os_error() == Some(19) // ENODEV: USB adapter removed
}

pub use crate::backoff::Backoff;

/// Sleeps `total` in small steps, returning early (with `true`) when `stop()` becomes true.
pub fn sleep_unless(total: Duration, stop: impl Fn() -> bool) -> bool {
    let step = Duration::from_millis(20);
    let mut left = total;
    while !left.is_zero() {
        if stop() {
            return true;
        }
        let d = left.min(step);
        std::thread::sleep(d);
        left -= d;
    }
    stop()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_disconnects() {
        assert!(is_disconnect(&io::Error::from(io::ErrorKind::BrokenPipe)));
        assert!(is_disconnect(&io::Error::from_raw_os_error(5)));
        assert!(!is_disconnect(&io::Error::from(io::ErrorKind::TimedOut)));
        // A timeout reads as nothing; a broken port is still an error.
        struct Fails(io::ErrorKind);
        impl Read for Fails {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::from(self.0))
            }
        }
        let mut b = [0u8; 4];
        for k in [
            io::ErrorKind::TimedOut,
            io::ErrorKind::WouldBlock,
            io::ErrorKind::Interrupted,
        ] {
            assert_eq!(read_some(&mut Fails(k), &mut b).unwrap(), 0, "{k:?}");
        }
        assert_eq!(
            read_some(&mut Fails(io::ErrorKind::BrokenPipe), &mut b)
                .unwrap_err()
                .kind(),
            io::ErrorKind::BrokenPipe
        );
        assert_eq!(read_some(&mut &b"ab"[..], &mut b).unwrap(), 2);
    }
}

/// A device worker on its own thread: its health cell, its stop flag and the thread, which is
/// stopped and joined when the handle is dropped. The reader, printer and scanner handles wrap it.
#[derive(Debug)]
pub struct WorkerThread {
    health: crate::health::HealthCell,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WorkerThread {
    /// Starts `run(health, stop)` on a thread called `name`.
    pub fn spawn(
        name: &str,
        run: impl FnOnce(crate::health::HealthCell, std::sync::Arc<std::sync::atomic::AtomicBool>)
            + Send
            + 'static,
    ) -> std::io::Result<WorkerThread> {
        let health = crate::health::HealthCell::default();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (h, s) = (health.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || run(h, s))?;
        Ok(WorkerThread {
            health,
            stop,
            thread: Some(thread),
        })
    }

    /// The device's current health.
    pub fn health(&self) -> crate::Health {
        self.health.get()
    }

    /// Asks the worker to stop and waits for it (the port is closed).
    pub fn shutdown(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for WorkerThread {
    fn drop(&mut self) {
        self.shutdown();
    }
}
