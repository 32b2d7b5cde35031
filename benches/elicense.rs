//! Criterion benchmarks of e-licence verification: a full ES256 and SM2 presentation check
//! (prefix to replay cache, in-memory store) and the rejection of 4 KiB of scanner garbage.
//! Goals (issue 5): ES256 ≤ 300 µs, SM2 ≤ 1 ms, garbage ≤ 50 µs, all medians.
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use zizhu::elicense::{
    issue, store::MemoryStore, types, Alg, Issuer, Licence, PresentationClaims, SecretKey,
    TrustedKey, Verifier,
};

const NOW: i64 = 1_780_300_800;

fn licence() -> Licence {
    let lt = types::MARRIAGE_CERTIFICATE.code;
    let mut l = Licence::default();
    l.licence_type = lt.into();
    l.identifier = zizhu::elicense::lid::build(lt, "11440100MB2C00001X", "J440106202600123", "001")
        .unwrap_or_default();
    l.number = Some("J440106-2026-000123".into());
    l.holder_name = Some("陈*明".into());
    l.holder_id = Some("440106**********1X".into());
    l.org_name = Some("广州市天河区民政局".into());
    l.org_code = Some("11440100MB2C00001X".into());
    l.issued = Some("2026-03-14".into());
    l.valid_to = Some("长期".into());
    l
}

fn setup(alg: Alg) -> (TrustedKey, String) {
    let key = SecretKey::from_seed(alg, "bench").expect("key");
    let usage = vec![types::MARRIAGE_CERTIFICATE.code.to_string()];
    let trusted = TrustedKey::new(key.public_key(), "GD-YSS", usage);
    let issuer = Issuer::new(key, "GD-YSS");
    let code = issue::issue_presentation(
        &issuer,
        &PresentationClaims {
            licence: licence(),
            iat: NOW,
            ttl: 300,
            aud: None,
            cti: None,
        },
    )
    .expect("issue");
    (trusted, code)
}

fn bench(c: &mut Criterion) {
    for (name, alg) in [("es256", Alg::Es256), ("sm2", Alg::Sm2)] {
        // A fresh verifier (empty replay cache) per iteration, made outside the timing.
        let (trusted, code) = setup(alg);
        c.bench_function(&format!("elicense_verify_{name}"), |b| {
            b.iter_batched(
                || Verifier::with_keys(vec![trusted.clone()], Box::new(MemoryStore::default())),
                |v| black_box(v.verify_at(black_box(&code), NOW).expect("valid")),
                criterion::BatchSize::SmallInput,
            )
        });
    }
    let (trusted, _) = setup(Alg::Es256);
    let verifier = Verifier::with_keys(vec![trusted], Box::new(MemoryStore::default()));
    let mut garbage = String::from("EL1:");
    let mut x: u32 = 0x1234_5678;
    const B45: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    while garbage.len() < 4096 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        garbage.push(B45[(x % 45) as usize] as char);
    }
    c.bench_function("elicense_reject_garbage_4k", |b| {
        b.iter(|| black_box(verifier.verify_at(black_box(&garbage), NOW).is_err()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
