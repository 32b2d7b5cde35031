//! Fuzz target: the simulated printer's ESC/POS parser and renderer. Invariants: nothing panics;
//! feeding the bytes in two pieces yields the same non-text ops as feeding them at once.
#![no_main]
use libfuzzer_sys::fuzz_target;
use zizhu_drivers::printer::parse::{parse_all, render, Op, Parser};

fuzz_target!(|data: &[u8]| {
    let whole = parse_all(data);
    let cut = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let mut p = Parser::new();
    let mut split = p.push(&data[..cut]);
    split.extend(p.push(&data[cut..]));
    let non_text = |v: &[Op]| v.iter().filter(|o| !matches!(o, Op::Text(_))).cloned().collect::<Vec<_>>();
    assert_eq!(non_text(&whole), non_text(&split));
    if data.len() < 2048 {
        let _ = render(&whole);
    }
});
