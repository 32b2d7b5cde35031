//! What the whole-scenario latency benches (card_latency, help_latency) share: their one
//! option, `--visits N`, and how they summarise a set of durations.
use std::time::Duration;

/// `--visits N` from the command line, or `default`; anything but a positive number exits 2.
pub fn visits(default: usize) -> usize {
    let mut visits = default;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--visits" {
            visits = args
                .next()
                .and_then(|n| n.parse().ok())
                .filter(|n| *n > 0)
                .unwrap_or_else(|| {
                    eprintln!("--visits takes a positive number");
                    std::process::exit(2)
                });
        }
    }
    visits
}

/// The `q` quantile (0.0–1.0, nearest rank) of `v`, which it sorts.
pub fn quantile(v: &mut [Duration], q: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// A duration in milliseconds, two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
