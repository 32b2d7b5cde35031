//! Fuzz target: the SAM frame decoder (streaming and one-shot) and the read-response parser.
//! Invariants: nothing panics; every frame returned re-encodes to a frame that decodes to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use zizhu_drivers::idcard::card::parse_read_data;
use zizhu_drivers::idcard::protocol::{decode_frame, encode_frame, FrameDecoder};

fuzz_target!(|data: &[u8]| {
    // Split the input at a point chosen by its first byte, as reads would.
    let cut = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let mut d = FrameDecoder::new();
    d.push(&data[..cut]);
    let mut frames = Vec::new();
    while let Some(r) = d.next_frame() {
        frames.extend(r.ok());
    }
    d.push(&data[cut..]);
    while let Some(r) = d.next_frame() {
        frames.extend(r.ok());
    }
    for f in &frames {
        let again = encode_frame(f.payload());
        let back = decode_frame(&again).expect("a re-encoded frame decodes");
        assert_eq!(back.payload(), f.payload());
        let _ = parse_read_data(f.data());
    }
    if let Ok(f) = decode_frame(data) {
        let _ = parse_read_data(f.data());
    }
});
