//! The project's one exponential backoff: a first delay doubling to a cap, with optional random
//! jitter so many kiosks do not retry in step. The serial workers reopen ports with it, the
//! platform client spaces its retries with it, and the journal's drain schedules outbox items with
//! it (from an item's stored attempt count, [`Backoff::delay_for`]).
use std::time::Duration;

/// Exponential backoff: `first`, `2·first`, `4·first`, … up to `max`, each delay lengthened by up
/// to `jitter` (a fraction, 0.25 = up to +25 %) at random.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    first: Duration,
    max: Duration,
    jitter: f64,
}

impl Default for Backoff {
    /// The serial workers' reopen backoff: 100 ms doubling up to 2 s, no jitter.
    fn default() -> Self {
        Backoff::new(Duration::from_millis(100), Duration::from_secs(2))
    }
}

impl Backoff {
    /// A backoff from `first` doubling to `max`, without jitter.
    pub fn new(first: Duration, max: Duration) -> Self {
        Backoff {
            next: first,
            first,
            max,
            jitter: 0.0,
        }
    }

    /// The same backoff with up to `fraction` (clamped to 0–1) of random jitter added to each
    /// delay, after the cap.
    pub fn with_jitter(mut self, fraction: f64) -> Self {
        self.jitter = fraction.clamp(0.0, 1.0);
        self
    }

    /// The delay before the next attempt (and doubles the one after).
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        self.jittered(d)
    }

    /// Back to the first delay (after a success).
    pub fn reset(&mut self) {
        self.next = self.first;
    }

    /// The delay before attempt `attempt + 1` when `attempt` attempts have failed (`attempt` ≥ 1;
    /// 0 counts as 1): `first · 2^(attempt−1)`, capped, plus jitter. For schedules kept outside
    /// the process (the journal stores each item's attempt count).
    pub fn delay_for(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(20);
        self.jittered(self.first.saturating_mul(1u32 << exp).min(self.max))
    }

    fn jittered(&self, d: Duration) -> Duration {
        if self.jitter <= 0.0 {
            return d;
        }
        let mut b = [0u8; 1];
        let frac = if getrandom::fill(&mut b).is_ok() {
            f64::from(b[0]) / 255.0 * self.jitter
        } else {
            0.0
        };
        d.mul_f64(1.0 + frac)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn doubles_caps_and_resets() {
        let mut b = Backoff::new(100 * MS, 350 * MS);
        assert_eq!(b.next_delay(), 100 * MS);
        assert_eq!(b.next_delay(), 200 * MS);
        assert_eq!(b.next_delay(), 350 * MS);
        assert_eq!(b.next_delay(), 350 * MS);
        b.reset();
        assert_eq!(b.next_delay(), 100 * MS);
    }

    #[test]
    fn delay_for_an_attempt_count() {
        let b = Backoff::new(Duration::from_secs(2), Duration::from_secs(300));
        assert_eq!(b.delay_for(0), Duration::from_secs(2));
        assert_eq!(b.delay_for(1), Duration::from_secs(2));
        assert_eq!(b.delay_for(2), Duration::from_secs(4));
        assert_eq!(b.delay_for(8), Duration::from_secs(256));
        assert_eq!(b.delay_for(9), Duration::from_secs(300));
        assert_eq!(b.delay_for(u32::MAX), Duration::from_secs(300));
    }

    #[test]
    fn jitter_lengthens_by_at_most_the_fraction() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(4)).with_jitter(0.25);
        let mut longer = false;
        for want in [1, 2, 4, 4, 4, 4, 4, 4] {
            let d = b.next_delay();
            let base = Duration::from_secs(want);
            assert!(d >= base && d <= base.mul_f64(1.25), "{d:?} for {base:?}");
            longer |= d > base;
        }
        for _ in 0..40 {
            let d = b.delay_for(3);
            assert!(
                d >= Duration::from_secs(4) && d <= Duration::from_secs(5),
                "{d:?}"
            );
            longer |= d > Duration::from_secs(4);
        }
        // 48 draws of one random byte: all zero has probability 256^-48.
        assert!(longer, "jitter never lengthened a delay");
    }
}
