//! The device supervisor's decisions: when to power-cycle a device that stopped answering through
//! its GPIO relay. Pure logic with the time passed in (no clock, no I/O), so every rule is
//! unit-tested; the runtime (`crate::runtime`) observes the status state, asks [`Supervisor::step`]
//! and does the switching, the journal's audit line and the metric.
//!
//! Rules, per device with a relay:
//! - only a device **offline** for longer than [`Policy::grace`] (default 60 s) is cycled;
//! - never while a citizen's session is active (no power is cut in the middle of a visit; the
//!   device is cycled once the session ends, if it is still offline);
//! - at most once per [`Policy::min_interval`] (default 10 minutes); each further cycle of a device
//!   that stays offline doubles the wait, up to [`Policy::max_interval`] (default 1 hour); the wait
//!   goes back to the minimum once the device has worked for a whole `max_interval`.
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Why the supervisor could not power-cycle a device.
#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    /// The relay could not be switched. Remedy: check the `[gpio]` relay pins in kiosk.toml, the
    /// wiring of the relay board and that the service user is in the `gpio` group.
    #[error("cannot switch the {device} relay: {source}; check the [gpio] relay pins, the relay wiring and the gpio group")]
    Relay {
        /// The device (`idcard`, `printer`).
        device: String,
        /// What the GPIO driver said.
        source: zizhu_drivers::gpio::GpioError,
    },
}

/// When the supervisor acts (`[supervisor]` in kiosk.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Whether devices are power-cycled at all.
    pub enabled: bool,
    /// How long a device must have been offline before it is cycled.
    pub grace: Duration,
    /// How long its power stays off.
    pub off_for: Duration,
    /// Shortest time between two cycles of one device.
    pub min_interval: Duration,
    /// Longest wait the doubling reaches.
    pub max_interval: Duration,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            enabled: true,
            grace: Duration::from_secs(60),
            off_for: Duration::from_secs(3),
            min_interval: Duration::from_secs(600),
            max_interval: Duration::from_secs(3600),
        }
    }
}

/// What the supervisor wants done with one device now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Nothing: the device works, or it has not been offline for the grace period.
    Nothing,
    /// It should be cycled, but a citizen's session is active.
    WaitForSession,
    /// It should be cycled, but it was cycled recently; not before `until`.
    Backoff {
        /// The earliest next cycle.
        until: Instant,
    },
    /// Cut its power for `off_for`, then switch it on again. The cycle is already counted: the
    /// next one waits `next_wait`.
    Cycle {
        /// How long the device has been offline.
        offline_for: Duration,
        /// How long the power stays off.
        off_for: Duration,
        /// The wait before the next cycle, should it stay offline.
        next_wait: Duration,
    },
}

#[derive(Debug, Clone, Default)]
struct Track {
    /// Offline since (as first seen by the supervisor).
    offline_since: Option<Instant>,
    /// Working since.
    up_since: Option<Instant>,
    /// The last cycle.
    last_cycle: Option<Instant>,
    /// The wait after the last cycle.
    wait: Duration,
}

/// The supervisor's memory of each device.
#[derive(Debug, Clone, Default)]
pub struct Supervisor {
    policy: Policy,
    devices: BTreeMap<String, Track>,
}

impl Supervisor {
    /// A supervisor acting by `policy`.
    pub fn new(policy: Policy) -> Supervisor {
        Supervisor {
            policy,
            devices: BTreeMap::new(),
        }
    }

    /// Its policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Remembers a cycle of `device` that happened `ago` before `now` (read back from the audit
    /// trail at start), so a restart does not reopen the backoff: the next cycle waits at least
    /// the shortest interval from then.
    pub fn remember_cycle(&mut self, device: &str, ago: Duration, now: Instant) {
        let Some(at) = now.checked_sub(ago) else {
            return;
        };
        let t = self.devices.entry(device.to_string()).or_default();
        if t.last_cycle.is_none_or(|l| l < at) {
            t.last_cycle = Some(at);
            t.wait = self.policy.min_interval;
        }
    }

    /// One look at `device` at `now`: whether it is offline (in a way a power cycle may cure)
    /// and whether a session is active. Returns what to do; a [`Decision::Cycle`] is recorded as
    /// done.
    pub fn step(
        &mut self,
        device: &str,
        offline: bool,
        session_active: bool,
        now: Instant,
    ) -> Decision {
        let p = self.policy;
        let t = self.devices.entry(device.to_string()).or_default();
        if !offline {
            t.offline_since = None;
            let up = *t.up_since.get_or_insert(now);
            if t.wait > Duration::ZERO && now.saturating_duration_since(up) >= p.max_interval {
                // Worked for a whole hour: a later failure starts from the shortest wait again.
                t.wait = Duration::ZERO;
            }
            return Decision::Nothing;
        }
        t.up_since = None;
        let since = *t.offline_since.get_or_insert(now);
        let offline_for = now.saturating_duration_since(since);
        if !p.enabled || offline_for <= p.grace {
            return Decision::Nothing;
        }
        if let Some(last) = t.last_cycle {
            let until = last + t.wait.max(p.min_interval);
            if now < until {
                return Decision::Backoff { until };
            }
        }
        if session_active {
            return Decision::WaitForSession;
        }
        let wait = if t.last_cycle.is_none() || t.wait == Duration::ZERO {
            p.min_interval
        } else {
            (t.wait * 2).min(p.max_interval.max(p.min_interval))
        };
        t.last_cycle = Some(now);
        t.wait = wait;
        Decision::Cycle {
            offline_for,
            off_for: p.off_for,
            next_wait: wait,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn sup() -> (Supervisor, Instant) {
        (Supervisor::new(Policy::default()), Instant::now())
    }

    #[test]
    fn a_cycle_before_a_restart_still_counts() {
        let (mut s, t0) = sup();
        s.remember_cycle("printer", 300 * S, t0);
        // Offline past the grace, but the last cycle was 300 s + 61 s ago: wait for 600 s.
        s.step("printer", true, false, t0);
        assert_eq!(
            s.step("printer", true, false, t0 + 61 * S),
            Decision::Backoff {
                until: t0 + 300 * S
            }
        );
        assert!(matches!(
            s.step("printer", true, false, t0 + 300 * S),
            Decision::Cycle { .. }
        ));
    }

    #[test]
    fn offline_past_the_grace_is_cycled_once() {
        let (mut s, t0) = sup();
        assert_eq!(s.step("printer", true, false, t0), Decision::Nothing);
        assert_eq!(
            s.step("printer", true, false, t0 + 60 * S),
            Decision::Nothing
        );
        match s.step("printer", true, false, t0 + 61 * S) {
            Decision::Cycle {
                offline_for,
                off_for,
                next_wait,
            } => {
                assert_eq!(offline_for, 61 * S);
                assert_eq!(off_for, 3 * S);
                assert_eq!(next_wait, 600 * S);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            s.step("printer", true, false, t0 + 62 * S),
            Decision::Backoff {
                until: t0 + 661 * S
            }
        );
        // Another device has its own clock.
        assert_eq!(
            s.step("idcard", true, false, t0 + 62 * S),
            Decision::Nothing
        );
    }

    #[test]
    fn working_devices_and_short_outages_are_left_alone() {
        let (mut s, t0) = sup();
        assert_eq!(s.step("printer", false, false, t0), Decision::Nothing);
        assert_eq!(s.step("printer", true, false, t0 + S), Decision::Nothing);
        assert_eq!(
            s.step("printer", false, false, t0 + 50 * S),
            Decision::Nothing
        );
        // The grace starts again after it worked.
        assert_eq!(
            s.step("printer", true, false, t0 + 51 * S),
            Decision::Nothing
        );
        assert_eq!(
            s.step("printer", true, false, t0 + 100 * S),
            Decision::Nothing
        );
        assert!(matches!(
            s.step("printer", true, false, t0 + 112 * S),
            Decision::Cycle { .. }
        ));
    }

    #[test]
    fn never_during_a_session() {
        let (mut s, t0) = sup();
        s.step("idcard", true, true, t0);
        assert_eq!(
            s.step("idcard", true, true, t0 + 300 * S),
            Decision::WaitForSession
        );
        assert!(matches!(
            s.step("idcard", true, false, t0 + 301 * S),
            Decision::Cycle { .. }
        ));
    }

    #[test]
    fn disabled_never_cycles() {
        let mut s = Supervisor::new(Policy {
            enabled: false,
            ..Policy::default()
        });
        let t0 = Instant::now();
        s.step("printer", true, false, t0);
        assert_eq!(
            s.step("printer", true, false, t0 + 3600 * S),
            Decision::Nothing
        );
    }

    #[test]
    fn backoff_doubles_to_an_hour_and_resets_after_an_hour_up() {
        let (mut s, t0) = sup();
        s.step("printer", true, false, t0);
        let mut now = t0 + 61 * S;
        let mut waits = Vec::new();
        for _ in 0..5 {
            match s.step("printer", true, false, now) {
                Decision::Cycle { next_wait, .. } => {
                    waits.push(next_wait.as_secs());
                    // Not again one second before the wait is over.
                    assert!(matches!(
                        s.step("printer", true, false, now + next_wait - S),
                        Decision::Backoff { .. }
                    ));
                    now += next_wait;
                }
                other => panic!("{other:?} at {:?}", now - t0),
            }
        }
        assert_eq!(waits, vec![600, 1200, 2400, 3600, 3600]);
        // Back up for less than an hour: the long wait stays.
        s.step("printer", false, false, now);
        s.step("printer", true, false, now + 1800 * S);
        assert!(matches!(
            s.step("printer", true, false, now + 1900 * S),
            Decision::Cycle { next_wait, .. } if next_wait == 3600 * S
        ));
        // Up for a whole hour: the next failure starts from ten minutes again.
        let later = now + 1900 * S + 3600 * S;
        s.step("printer", false, false, later);
        s.step("printer", false, false, later + 3600 * S);
        let down = later + 3601 * S;
        s.step("printer", true, false, down);
        assert!(matches!(
            s.step("printer", true, false, down + 61 * S),
            Decision::Cycle { next_wait, .. } if next_wait == 600 * S
        ));
    }

    #[test]
    fn a_session_does_not_shorten_the_backoff() {
        let (mut s, t0) = sup();
        s.step("printer", true, false, t0);
        assert!(matches!(
            s.step("printer", true, false, t0 + 61 * S),
            Decision::Cycle { .. }
        ));
        assert!(matches!(
            s.step("printer", true, true, t0 + 100 * S),
            Decision::Backoff { .. }
        ));
        assert_eq!(
            s.step("printer", true, true, t0 + 700 * S),
            Decision::WaitForSession
        );
    }
}
