//! Criterion benchmarks of the drivers: decoding a 1295-byte read response, find → select → read
//! against the simulator over a pseudo-terminal, and laying out and encoding a typical receipt.
//! Figures and goals: benches/README.md ("Drivers").
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use zizhu_drivers::idcard::card::{
    encode_read_data, encode_text, fake_photo, parse_read_data, samples,
};
use zizhu_drivers::idcard::protocol::{decode_frame, encode_response};
use zizhu_drivers::idcard::serial::read_card;
use zizhu_drivers::idcard::{sim, SamReader};
use zizhu_drivers::printer::receipt::{sample, Mode};

fn decode(c: &mut Criterion) {
    let card = &samples()[0];
    let frame = encode_response(
        0x90,
        &encode_read_data(&encode_text(card).unwrap(), &fake_photo(0), None),
    );
    assert_eq!(frame.len(), 1295);
    c.bench_function("idcard_decode_1295_byte_read_response", |b| {
        b.iter(|| {
            let f = decode_frame(std::hint::black_box(&frame)).unwrap();
            parse_read_data(f.data()).unwrap()
        })
    });
}

fn pty_read(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("idcard");
    let s = sim::Simulator::spawn(&link, samples()).unwrap();
    s.place(0);
    let port =
        zizhu_drivers::transport::open_serial(&link, 115_200, Duration::from_millis(20)).unwrap();
    let mut r = SamReader::new(port);
    let mut g = c.benchmark_group("idcard_pty");
    g.sample_size(30);
    g.bench_function("find_select_read_over_pty", |b| {
        b.iter(|| read_card(&mut r, false).unwrap().unwrap())
    });
    g.finish();
}

fn receipt(c: &mut Criterion) {
    let r = sample(
        "社会保险参保证明打印",
        "Print social insurance enrolment certificate",
        "市社会保险基金管理局",
        "ss-insured-cert-print",
    );
    c.bench_function("receipt_layout_and_encode_with_qr", |b| {
        b.iter(|| r.to_escpos(Mode::Raster).unwrap())
    });
}

criterion_group!(benches, decode, pty_read, receipt);
criterion_main!(benches);
