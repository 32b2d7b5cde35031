//! Fuzz target: the scanner's line splitter and payload decoder. Invariants: nothing panics; no
//! message is empty, longer than 4 KiB, or contains CR or LF.
#![no_main]
use libfuzzer_sys::fuzz_target;
use zizhu_drivers::scanner::protocol::{decode, LineSplitter, Piece, MAX_LINE};

fuzz_target!(|data: &[u8]| {
    let mut s = LineSplitter::new();
    let mut pieces = Vec::new();
    for chunk in data.chunks(7) {
        pieces.extend(s.push(chunk));
    }
    pieces.extend(s.gap());
    for p in pieces {
        if let Piece::Line(l) = p {
            assert!(!l.is_empty() && l.len() <= MAX_LINE);
            assert!(!l.contains(&b'\r') && !l.contains(&b'\n'));
            let _ = decode(&l);
        }
    }
});
