//! systemd integration for `zizhu.service` (`Type=notify`, `WatchdogSec=`): tell systemd when the
//! runtime is ready and keep its watchdog fed from the runtime's own health loop, so a hung kiosk
//! is restarted. Every function is a no-op when the process was not started by systemd
//! (`NOTIFY_SOCKET` unset), so tests and workstations need nothing.
//!
//! The health loop calls [`notify_watchdog`] only while the runtime is healthy, at least every
//! [`watchdog_interval`] / 2.
use std::time::Duration;

/// Errors talking to systemd's notification socket.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Sending to `NOTIFY_SOCKET` failed (the socket vanished, or the service's `NotifyAccess=`
    /// does not allow this process). Remedy: check the unit's `NotifyAccess=` and that the main
    /// process sends the notification; the runtime keeps running meanwhile.
    #[error("telling systemd {what}: {source}")]
    Notify {
        /// Which notification.
        what: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

fn under_systemd() -> bool {
    std::env::var_os("NOTIFY_SOCKET").is_some()
}

/// Tells systemd the service is up (`READY=1`) with a status line. No-op outside systemd.
pub fn notify_ready(status: &str) -> Result<(), Error> {
    if !under_systemd() {
        return Ok(());
    }
    sd_notify::notify(
        false,
        &[
            sd_notify::NotifyState::Ready,
            sd_notify::NotifyState::Status(status),
        ],
    )
    .map_err(|source| Error::Notify {
        what: "READY",
        source,
    })
}

/// Feeds the service watchdog (`WATCHDOG=1`). No-op outside systemd.
pub fn notify_watchdog() -> Result<(), Error> {
    if !under_systemd() {
        return Ok(());
    }
    sd_notify::notify(false, &[sd_notify::NotifyState::Watchdog]).map_err(|source| Error::Notify {
        what: "WATCHDOG",
        source,
    })
}

/// Tells systemd the service is stopping (`STOPPING=1`). No-op outside systemd.
pub fn notify_stopping() -> Result<(), Error> {
    if !under_systemd() {
        return Ok(());
    }
    sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]).map_err(|source| Error::Notify {
        what: "STOPPING",
        source,
    })
}

/// The watchdog period systemd expects (`WATCHDOG_USEC`, for this process), or `None` when there
/// is no watchdog. Ping at least twice per period.
pub fn watchdog_interval() -> Option<Duration> {
    let mut usec = 0u64;
    if sd_notify::watchdog_enabled(false, &mut usec) && usec > 0 {
        Some(Duration::from_micros(usec))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;

    #[test]
    fn notifications_reach_the_socket() {
        let d = tempfile::tempdir().unwrap();
        let sock = d.path().join("notify");
        let rx = UnixDatagram::bind(&sock).unwrap();
        // SAFETY of set_var in tests: this is the only test touching these variables.
        std::env::set_var("NOTIFY_SOCKET", &sock);
        std::env::set_var("WATCHDOG_USEC", "20000000");
        std::env::set_var("WATCHDOG_PID", std::process::id().to_string());
        notify_ready("serving").unwrap();
        notify_watchdog().unwrap();
        assert_eq!(watchdog_interval(), Some(Duration::from_secs(20)));
        std::env::remove_var("NOTIFY_SOCKET");
        let mut buf = [0u8; 256];
        let n = rx.recv(&mut buf).unwrap();
        let msg = String::from_utf8_lossy(&buf[..n]);
        assert!(
            msg.contains("READY=1") && msg.contains("STATUS=serving"),
            "{msg}"
        );
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"WATCHDOG=1\n");
        // Outside systemd everything is a no-op.
        notify_ready("x").unwrap();
        notify_watchdog().unwrap();
    }
}
