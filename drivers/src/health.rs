//! Health reporting shared by every device: a state (ok / degraded / offline), the reason in plain
//! words and since when; and [`DeviceErrorKind`], the categories the runtime maps to UI state and
//! to the status endpoint.
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How usable a device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthState {
    /// Working.
    Ok,
    /// Answers, but a citizen-visible function is impaired (paper near end, a card read failed,
    /// cover open while jobs wait).
    Degraded,
    /// Not answering or not connected.
    Offline,
}

/// The categories of device errors. The runtime maps these (not the rich per-device errors) to
/// UI state and `/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceErrorKind {
    /// The port is gone or cannot be opened (unplugged, wrong path, permissions).
    Disconnected,
    /// The device did not answer in time.
    Timeout,
    /// The device answered with bytes that do not fit the protocol.
    Protocol,
    /// No card in the reader's field.
    NoCard,
    /// A card is there but could not be read (bad contact, unsupported card, authentication).
    CardUnreadable,
    /// Out of paper.
    PaperOut,
    /// The printer cover is open.
    CoverOpen,
    /// The device reports an internal fault (SAM self-test, cutter, unrecoverable error).
    DeviceFault,
    /// Bad input from the caller (a malformed frame or value handed to a decoder).
    InvalidInput,
    /// Anything else.
    Other,
}

/// The health of one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// The state.
    pub state: HealthState,
    /// Why it is not ok, in plain words (`None` when ok).
    pub reason: Option<String>,
    /// When the device entered this state.
    pub since: DateTime<Utc>,
}

impl Health {
    /// A health in `state` since now.
    pub fn new(state: HealthState, reason: Option<String>) -> Self {
        Health {
            state,
            reason,
            since: Utc::now(),
        }
    }

    /// Offline since now, for a device that has not been opened yet.
    pub fn starting() -> Self {
        Health::new(HealthState::Offline, Some("not opened yet".into()))
    }
}

/// A shared, updatable health value: the worker writes it, the runtime reads it.
#[derive(Debug, Clone)]
pub struct HealthCell(Arc<Mutex<Health>>);

impl Default for HealthCell {
    fn default() -> Self {
        HealthCell(Arc::new(Mutex::new(Health::starting())))
    }
}

impl HealthCell {
    /// The current health.
    pub fn get(&self) -> Health {
        match self.0.lock() {
            Ok(h) => h.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Sets state and reason. `since` moves only when the state or the reason changes. Returns the
    /// new health when something changed (so the caller emits one event per change).
    pub fn set(&self, state: HealthState, reason: Option<String>) -> Option<Health> {
        let mut h = match self.0.lock() {
            Ok(h) => h,
            Err(p) => p.into_inner(),
        };
        if h.state == state && h.reason == reason {
            return None;
        }
        *h = Health::new(state, reason);
        Some(h.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_reports_changes_only() {
        let c = HealthCell::default();
        assert_eq!(c.get().state, HealthState::Offline);
        assert!(c.set(HealthState::Ok, None).is_some());
        assert!(c.set(HealthState::Ok, None).is_none());
        let h = c.set(HealthState::Degraded, Some("paper near end".into()));
        assert_eq!(h.map(|h| h.state), Some(HealthState::Degraded));
        let json = serde_json::to_string(&c.get()).unwrap_or_default();
        assert!(json.contains("\"state\":\"degraded\""), "{json}");
    }
}
