//! Memory over 10,000 card reads (find → select → read against the simulator over a pty): prints
//! the resident set size at the start, after 1,000 and after 10,000 reads. Goal: flat.
//! Run with `cargo bench -p zizhu-drivers --bench memory`.
use std::time::{Duration, Instant};

use zizhu_drivers::idcard::card::samples;
use zizhu_drivers::idcard::serial::read_card;
use zizhu_drivers::idcard::{sim, SamReader};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4)
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let link = dir.path().join("idcard");
    let s = sim::Simulator::spawn(&link, samples()).expect("simulator");
    let port = zizhu_drivers::transport::open_serial(&link, 115_200, Duration::from_millis(20))
        .expect("pty");
    let mut r = SamReader::new(port);
    let start = Instant::now();
    let mut marks = vec![(0, rss_kib())];
    for i in 1..=10_000usize {
        s.place(i % 5);
        let c = read_card(&mut r, false).expect("read").expect("card");
        std::hint::black_box(&c);
        if i == 1_000 || i == 10_000 {
            marks.push((i, rss_kib()));
        }
    }
    for (n, kib) in &marks {
        println!("reads {n:>6}: RSS {kib} KiB");
    }
    println!("10,000 reads in {:.2?}", start.elapsed());
}
