//! Fuzz target for the e-licence decoder: arbitrary bytes as scanned text through the whole
//! verifier, and the same bytes through each inner layer (zlib, CBOR, COSE, claims, trust list),
//! also wrapped as `EL1:`/`ET1:` codes so the fuzzer reaches CBOR and COSE parsing directly.
//! Nothing may panic, hang or allocate without bound.
#![no_main]

use std::io::Write;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use zizhu::elicense::{
    claims, codec, store::MemoryStore, Alg, PublicKey, SecretKey, TrustList, TrustedKey, Verifier,
};

/// 2026-06-01T08:00:00Z, the vectors' validation clock.
const NOW: i64 = 1_780_300_800;

struct Fixture {
    keys: Vec<TrustedKey>,
    roots: Vec<PublicKey>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let key = |alg, seed| SecretKey::from_seed(alg, seed).expect("seeded key");
        let usage = vec!["1110000090000002".to_string()];
        let es = key(Alg::Es256, "zizhu-vector-es256-issuer");
        let sm = key(Alg::Sm2, "zizhu-vector-sm2-issuer");
        Fixture {
            keys: vec![
                TrustedKey::new(es.public_key(), "GD-YSS", usage.clone()),
                TrustedKey::new(sm.public_key(), "GD-YSS", usage),
            ],
            roots: vec![key(Alg::Es256, "zizhu-vector-root-current").public_key()],
        }
    })
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let verifier = Verifier::with_keys(f.keys.clone(), Box::new(MemoryStore::default()));
    // As scanned text.
    let text = String::from_utf8_lossy(data);
    let _ = verifier.verify_at(&text, NOW);
    // As the content of a code: exercises CBOR and COSE parsing behind valid transport layers.
    let wrapped = base45::encode(&zlib(data));
    let _ = verifier.verify_at(&format!("EL1:{wrapped}"), NOW);
    let _ = verifier.verify_at(&format!("ET1:{wrapped}"), NOW);
    // Each layer on its own.
    let _ = codec::inflate(data);
    let _ = codec::check_cbor(data, codec::TRUST_LIST_LIMITS);
    let _ = codec::parse_sign1(data, codec::PAYLOAD_LIMITS);
    let _ = claims::decode(data, codec::Kind::Presentation);
    let _ = claims::decode(data, codec::Kind::Ticket);
    let _ = TrustList::open(data, &f.roots);
});
