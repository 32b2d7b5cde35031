//! Generator of the dgc-testdata-style test vectors in tests/vectors/elicense/ (run by
//! `cargo run -p zizhu-testkit --bin gen-elicense-vectors -- DIR`). Each case is one JSON file holding every layer of the
//! code (JSON, CBOR, COSE, COMPRESSED, BASE45, PREFIX), a TESTCTX (keys or trust list, validation
//! clock, description) and EXPECTEDRESULTS per pipeline step (a missing flag means the step is not
//! reached). The COSE structures are assembled here by hand from CBOR values, independently of
//! the verifier's coset-based parsing, and all keys derive from fixed seeds, so the output is
//! byte-stable (ES256 and SM2 signing are deterministic).
use std::path::Path;

use ciborium::Value;
use serde_json::json;

use crate::elicense::claims::{self, Body, Claims, Licence};
use crate::elicense::codec;
use crate::elicense::crypto::{Alg, PublicKey, SecretKey, ALG_ES256, ALG_SM2_SM3};
use crate::elicense::error::{Error, Step};
use crate::elicense::lid;
use crate::elicense::trust::{self, KeyListFile, TrustListContent, TrustedKey};
use crate::elicense::types;

/// Validation clock of most vectors: 2026-06-01T08:00:00Z.
pub const T0: i64 = 1_780_300_800;

fn ik(k: i64) -> Value {
    Value::Integer(k.into())
}

fn cbor(v: &Value) -> Result<Vec<u8>, Error> {
    claims::to_cbor(v)
}

fn protected(alg: i64, kid: Option<&[u8]>) -> Result<Vec<u8>, Error> {
    let mut m = vec![(ik(1), ik(alg))];
    if let Some(k) = kid {
        m.push((ik(4), Value::Bytes(k.to_vec())));
    }
    cbor(&Value::Map(m))
}

fn tbs(prot: &[u8], payload: &[u8]) -> Result<Vec<u8>, Error> {
    cbor(&Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(prot.to_vec()),
        Value::Bytes(Vec::new()),
        Value::Bytes(payload.to_vec()),
    ]))
}

fn sign1(
    prot: &[u8],
    unprot: Vec<(Value, Value)>,
    payload: &[u8],
    sig: &[u8],
) -> Result<Vec<u8>, Error> {
    cbor(&Value::Tag(
        18,
        Box::new(Value::Array(vec![
            Value::Bytes(prot.to_vec()),
            Value::Map(unprot),
            Value::Bytes(payload.to_vec()),
            Value::Bytes(sig.to_vec()),
        ])),
    ))
}

fn zlib(b: &[u8]) -> Result<Vec<u8>, Error> {
    use std::io::Write;
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(b).map_err(|e| Error::Signing(e.to_string()))?;
    e.finish().map_err(|e| Error::Signing(e.to_string()))
}

/// A test key: seed, issuer, usage.
struct Key {
    sk: SecretKey,
    iss: &'static str,
    usage: Vec<String>,
    kid: Vec<u8>,
}

impl Key {
    fn new(alg: Alg, seed: &str, iss: &'static str) -> Result<Key, Error> {
        let sk = SecretKey::from_seed(alg, seed)?;
        let kid = sk.public_key().kid().to_vec();
        Ok(Key {
            sk,
            iss,
            usage: default_usage(),
            kid,
        })
    }
    fn trusted(&self) -> TrustedKey {
        TrustedKey {
            kid: self.kid.clone(),
            key: self.sk.public_key(),
            iss: self.iss.to_string(),
            usage: self.usage.clone(),
            not_before: None,
            not_after: None,
        }
    }
}

fn default_usage() -> Vec<String> {
    [
        &types::IDENTITY_CARD,
        &types::HOUSEHOLD_REGISTER,
        &types::MARRIAGE_CERTIFICATE,
        &types::DIVORCE_CERTIFICATE,
        &types::BUSINESS_LICENCE,
    ]
    .iter()
    .map(|t| t.code.to_string())
    .collect()
}

/// The licence all presentations carry unless a case changes it.
fn marriage() -> Licence {
    let lt = types::MARRIAGE_CERTIFICATE.code;
    Licence {
        licence_type: lt.into(),
        identifier: lid::build(lt, "11440100MB2C00001X", "J440106202600123", "001")
            .unwrap_or_default(),
        number: Some("J440106-2026-000123".into()),
        holder_name: Some("陈*明".into()),
        holder_id: Some("440106**********1X".into()),
        holder_id_type: Some("111".into()),
        org_name: Some("广州市天河区民政局".into()),
        org_code: Some("11440100MB2C00001X".into()),
        issued: Some("2026-03-14".into()),
        valid_from: None,
        valid_to: Some("长期".into()),
        purpose: None,
        disclosed: Vec::new(),
    }
}

/// How one case's code is built.
struct Build<'a> {
    key: &'a Key,
    prefix: &'a str,
    claims: Claims,
    body: Body,
    alg: i64,
    kid: Option<Vec<u8>>,
    unprot_kid: bool,
}

impl<'a> Build<'a> {
    fn presentation(key: &'a Key, iat: i64, ttl: i64) -> Build<'a> {
        Build {
            key,
            prefix: codec::PREFIX_PRESENTATION,
            claims: Claims {
                iss: key.iss.into(),
                aud: None,
                iat,
                nbf: None,
                exp: iat + ttl,
                cti: cti_for(iat, key.iss),
            },
            body: Body::Licence(Box::new(marriage())),
            alg: key.sk.alg().cose_id(),
            kid: Some(key.kid.clone()),
            unprot_kid: false,
        }
    }
}

fn cti_for(iat: i64, salt: &str) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    Sha256::digest(format!("cti:{iat}:{salt}").as_bytes())[..16].to_vec()
}

/// The layers of an encoded case.
#[derive(Default)]
struct Layers {
    json: serde_json::Value,
    cbor: Option<Vec<u8>>,
    cose: Option<Vec<u8>>,
    compressed: Option<Vec<u8>>,
    base45: Option<String>,
    prefix: String,
}

fn layers_from_cose(
    prefix: &str,
    json: serde_json::Value,
    payload: Option<Vec<u8>>,
    cose: Vec<u8>,
) -> Result<Layers, Error> {
    let z = zlib(&cose)?;
    let b45 = base45::encode(&z);
    Ok(Layers {
        json,
        cbor: payload,
        prefix: format!("{prefix}{b45}"),
        base45: Some(b45),
        compressed: Some(z),
        cose: Some(cose),
    })
}

fn claims_json(c: &Claims, body: &Body) -> serde_json::Value {
    let mut v = json!({"iss": c.iss, "iat": c.iat, "exp": c.exp, "cti": hex::encode(&c.cti)});
    match body {
        Body::Licence(l) => v["elic"] = serde_json::to_value(l).unwrap_or_default(),
        Body::Ticket(t) => v["tkt"] = json!(hex::encode(t)),
    }
    v
}

/// Signs normally; `mutate` may change (payload, signature) after signing.
fn encode(
    b: &Build<'_>,
    mutate: impl FnOnce(&mut Vec<u8>, &mut Vec<u8>) -> Result<(), Error>,
) -> Result<Layers, Error> {
    let mut payload = cbor(&claims::claims_value(&b.claims, &b.body))?;
    let (prot, unprot) = if b.unprot_kid {
        (
            protected(b.alg, None)?,
            vec![(ik(4), Value::Bytes(b.kid.clone().unwrap_or_default()))],
        )
    } else {
        (protected(b.alg, b.kid.as_deref())?, Vec::new())
    };
    let mut sig = b.key.sk.sign(&tbs(&prot, &payload)?)?;
    mutate(&mut payload, &mut sig)?;
    let cose = sign1(&prot, unprot, &payload, &sig)?;
    layers_from_cose(
        b.prefix,
        claims_json(&b.claims, &b.body),
        Some(payload),
        cose,
    )
}

fn plain(b: &Build<'_>) -> Result<Layers, Error> {
    encode(b, |_, _| Ok(()))
}

fn text_only(text: &str) -> Layers {
    Layers {
        prefix: text.to_string(),
        ..Layers::default()
    }
}

fn from_compressed(prefix: &str, z: Vec<u8>) -> Layers {
    let b45 = base45::encode(&z);
    Layers {
        prefix: format!("{prefix}{b45}"),
        base45: Some(b45),
        compressed: Some(z),
        ..Layers::default()
    }
}

/// Trust context of a case.
enum Ctx {
    Keys(Vec<TrustedKey>),
    List {
        raw: Vec<u8>,
        roots: Vec<PublicKey>,
        installed_at: i64,
        stored_seq: Option<u64>,
    },
}

struct Case {
    id: &'static str,
    description: &'static str,
    layers: Layers,
    ctx: Ctx,
    clock: i64,
    prior: Vec<String>,
    /// Ok(route) or Err((code, step)).
    expect: Result<&'static str, (&'static str, Step)>,
    warnings: Vec<&'static str>,
}

const STEP_FLAGS: &[(Step, &str)] = &[
    (Step::Prefix, "EXPECTEDUNPREFIX"),
    (Step::Base45, "EXPECTEDB45DECODE"),
    (Step::Decompress, "EXPECTEDDECOMPRESS"),
    (Step::Cbor, "EXPECTEDCBOR"),
    (Step::Cose, "EXPECTEDCOSE"),
    (Step::Algorithm, "EXPECTEDALG"),
    (Step::Kid, "EXPECTEDKID"),
    (Step::Signature, "EXPECTEDVERIFY"),
    (Step::Claims, "EXPECTEDCLAIMS"),
    (Step::Time, "EXPECTEDEXPIRATIONCHECK"),
    (Step::Usage, "EXPECTEDUSAGE"),
    (Step::Identifier, "EXPECTEDIDENTIFIER"),
    (Step::Replay, "EXPECTEDREPLAY"),
];

/// Name of the JSON flag for a step (shared with the test harness).
pub fn step_flag(step: Step) -> Option<&'static str> {
    STEP_FLAGS.iter().find(|(s, _)| *s == step).map(|(_, f)| *f)
}

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map_or_else(String::new, |d| {
        d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    })
}

impl Case {
    fn to_json(&self) -> serde_json::Value {
        let mut ctx = json!({
            "VERSION": 1,
            "VALIDATIONCLOCK": rfc3339(self.clock),
            "DESCRIPTION": self.description,
        });
        match &self.ctx {
            Ctx::Keys(keys) => {
                ctx["KEYS"] =
                    json!({"keys": keys.iter().map(KeyListFile::entry).collect::<Vec<_>>()});
            }
            Ctx::List {
                raw,
                roots,
                installed_at,
                stored_seq,
            } => {
                ctx["TRUSTLIST"] = json!(hex::encode(raw));
                ctx["ROOTS"] = json!(roots.iter().map(trust::format_root).collect::<Vec<_>>());
                ctx["TRUSTLISTCLOCK"] = json!(rfc3339(*installed_at));
                if let Some(s) = stored_seq {
                    ctx["STOREDSEQ"] = json!(s);
                }
            }
        }
        if !self.prior.is_empty() {
            ctx["PRIOR"] = json!(self.prior);
        }
        let mut exp = serde_json::Map::new();
        let failing = self.expect.as_ref().err().map(|(_, s)| *s);
        for (step, flag) in STEP_FLAGS {
            match failing {
                None => {
                    // Opaque codes stop after routing.
                    if self.expect == Ok("opaque") && *step != Step::Prefix {
                        continue;
                    }
                    exp.insert((*flag).into(), json!(true));
                }
                Some(Step::TrustList) => {}
                Some(f) if *step < f => {
                    exp.insert((*flag).into(), json!(true));
                }
                Some(f) if *step == f => {
                    exp.insert((*flag).into(), json!(false));
                }
                Some(_) => {}
            }
        }
        match &self.expect {
            Ok(route) => {
                exp.insert("EXPECTEDVALIDRESULT".into(), json!(*route != "opaque"));
                exp.insert("EXPECTEDROUTE".into(), json!(route));
            }
            Err((code, _)) => {
                exp.insert("EXPECTEDVALIDRESULT".into(), json!(false));
                exp.insert("EXPECTEDERROR".into(), json!(code));
            }
        }
        exp.insert("EXPECTEDWARNINGS".into(), json!(self.warnings));
        let l = &self.layers;
        let mut v = json!({
            "JSON": l.json,
            "PREFIX": l.prefix,
            "TESTCTX": ctx,
            "EXPECTEDRESULTS": exp,
        });
        if let Some(b) = &l.cbor {
            v["CBOR"] = json!(hex::encode(b));
        }
        if let Some(b) = &l.cose {
            v["COSE"] = json!(hex::encode(b));
        }
        if let Some(b) = &l.compressed {
            v["COMPRESSED"] = json!(hex::encode(b));
        }
        if let Some(b) = &l.base45 {
            v["BASE45"] = json!(b);
        }
        v
    }
}

/// Writes every vector into `dir` (one JSON file per case plus an index); returns how many.
pub fn generate(dir: &Path) -> Result<usize, Error> {
    let cases = cases()?;
    std::fs::create_dir_all(dir).map_err(|e| Error::Store(e.to_string()))?;
    let mut index = String::from("# E-licence test vectors (generated)\n\nRegenerate with `cargo run -p zizhu-testkit --bin gen-elicense-vectors -- tests/vectors/elicense`; format in docs/elicense.md.\n\n| file | expected | description |\n| --- | --- | --- |\n");
    for c in &cases {
        let text =
            serde_json::to_string_pretty(&c.to_json()).map_err(|e| Error::Store(e.to_string()))?;
        std::fs::write(dir.join(format!("{}.json", c.id)), text + "\n")
            .map_err(|e| Error::Store(e.to_string()))?;
        let expect = match &c.expect {
            Ok(r) => format!("ok ({r})"),
            Err((code, _)) => code.to_string(),
        };
        index.push_str(&format!(
            "| {}.json | {} | {} |\n",
            c.id, expect, c.description
        ));
    }
    std::fs::write(dir.join("README.md"), index).map_err(|e| Error::Store(e.to_string()))?;
    Ok(cases.len())
}

fn der_signature(raw: &[u8]) -> Vec<u8> {
    fn int(x: &[u8]) -> Vec<u8> {
        let mut x: Vec<u8> = x.iter().copied().skip_while(|&b| b == 0).collect();
        if x.first().is_none_or(|&b| b & 0x80 != 0) {
            x.insert(0, 0);
        }
        let mut out = vec![0x02, x.len() as u8];
        out.extend(x);
        out
    }
    let (r, s) = raw.split_at(32);
    let body = [int(r), int(s)].concat();
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

fn seed_with_high_nibble(nibble: u8) -> Result<Key, Error> {
    for i in 0..10_000 {
        let k = Key::new(Alg::Sm2, &format!("gmssl-pitfall-{nibble}-{i}"), "GD-YSS")?;
        if k.sk.public_key().to_sec1()[1] >> 4 == nibble {
            return Ok(k);
        }
    }
    Err(Error::Signing("no pitfall key found".into()))
}

#[allow(clippy::too_many_lines)]
fn cases() -> Result<Vec<Case>, Error> {
    let es = Key::new(Alg::Es256, "zizhu-vector-es256-issuer", "GD-YSS")?;
    let sm = Key::new(Alg::Sm2, "zizhu-vector-sm2-issuer", "GD-YSS")?;
    let other = Key::new(Alg::Es256, "zizhu-vector-other-issuer", "SZ-ZWFW")?;
    let keys = vec![es.trusted(), sm.trusted(), other.trusted()];
    let k = || Ctx::Keys(keys.clone());
    let now = T0;
    let iat = now - 10;
    let mut out = Vec::new();
    let mut push = |id, description, layers, ctx, clock, expect, warnings: Vec<&'static str>| {
        out.push(Case {
            id,
            description,
            layers,
            ctx,
            clock,
            prior: Vec::new(),
            expect,
            warnings,
        });
    };
    let ok = |r| Ok(r);
    let err = |c, s| Err((c, s));

    // 1. Valid codes.
    push(
        "valid_es256",
        "valid ES256 marriage-certificate presentation",
        plain(&Build::presentation(&es, iat, 300))?,
        k(),
        now,
        ok("presentation"),
        vec![],
    );
    push(
        "valid_sm2",
        "valid SM2-SM3 presentation (alg -65601, distinguishing ID 1234567812345678)",
        plain(&Build::presentation(&sm, iat, 300))?,
        k(),
        now,
        ok("presentation"),
        vec![],
    );
    let mut t = Build::presentation(&es, iat, 120);
    t.prefix = codec::PREFIX_TICKET;
    t.body = Body::Ticket(b"TKT-2026-000042".to_vec());
    push(
        "valid_ticket_es256",
        "valid ET1 online ticket (reference only)",
        plain(&t)?,
        k(),
        now,
        ok("ticket"),
        vec![],
    );
    let mut t = Build::presentation(&sm, iat, 120);
    t.prefix = codec::PREFIX_TICKET;
    t.body = Body::Ticket(b"TKT-2026-000043".to_vec());
    push(
        "valid_ticket_sm2",
        "valid ET1 online ticket signed with SM2",
        plain(&t)?,
        k(),
        now,
        ok("ticket"),
        vec![],
    );

    // 2. Signatures.
    push(
        "tampered_payload",
        "one byte of the signed payload changed after signing",
        encode(&Build::presentation(&es, iat, 300), |p, _| {
            let n = p.len() - 3;
            p[n] ^= 0x01;
            Ok(())
        })?,
        k(),
        now,
        err("elicense.bad_signature", Step::Signature),
        vec![],
    );
    push(
        "tampered_signature_sm2",
        "one bit of the SM2 signature flipped",
        encode(&Build::presentation(&sm, iat, 300), |_, s| {
            s[40] ^= 0x80;
            Ok(())
        })?,
        k(),
        now,
        err("elicense.bad_signature", Step::Signature),
        vec![],
    );
    let sm_sk = sm.sk.clone();
    let es_kid = es.kid.clone();
    push(
        "signature_swapped_alg",
        "ES256 header and kid, signature made with the SM2 key",
        encode(&Build::presentation(&es, iat, 300), move |p, s| {
            *s = sm_sk.sign(&tbs(&protected(ALG_ES256, Some(&es_kid))?, p)?)?;
            Ok(())
        })?,
        k(),
        now,
        err("elicense.bad_signature", Step::Signature),
        vec![],
    );
    push(
        "der_signature_es256",
        "ES256 signature DER-encoded instead of raw r||s",
        encode(&Build::presentation(&es, iat, 300), |_, s| {
            *s = der_signature(s);
            Ok(())
        })?,
        k(),
        now,
        err("elicense.signature_encoding", Step::Signature),
        vec![],
    );
    {
        use sm2::dsa::signature::Signer;
        let b = Build::presentation(&sm, iat, 300);
        let bytes = sm.sk.to_bytes();
        let sm_kid = sm.kid.clone();
        let wrong = sm2::dsa::SigningKey::from_slice("ALICE123@YAHOO.COM", &bytes)
            .map_err(|e| Error::Signing(e.to_string()))?;
        push(
            "wrong_sm2_distid",
            "SM2 signature made with distinguishing ID ALICE123@YAHOO.COM",
            encode(&b, move |p, s| {
                let prot = protected(ALG_SM2_SM3, Some(&sm_kid))?;
                let sig: sm2::dsa::Signature = wrong
                    .try_sign(&tbs(&prot, p)?)
                    .map_err(|e| Error::Signing(e.to_string()))?;
                *s = sig.to_bytes().to_vec();
                Ok(())
            })?,
            k(),
            now,
            err("elicense.bad_signature", Step::Signature),
            vec![],
        );
    }

    // 3. Algorithms and key ids.
    let mut b = Build::presentation(&es, iat, 300);
    b.alg = -8;
    push(
        "unknown_alg_eddsa",
        "alg EdDSA (-8), not on the allow-list",
        plain(&b)?,
        k(),
        now,
        err("elicense.unknown_alg", Step::Algorithm),
        vec![],
    );
    let mut b = Build::presentation(&es, iat, 300);
    b.alg = -35;
    push(
        "unknown_alg_es384",
        "alg ES384 (-35), not on the allow-list",
        plain(&b)?,
        k(),
        now,
        err("elicense.unknown_alg", Step::Algorithm),
        vec![],
    );
    let mut b = Build::presentation(&es, iat, 300);
    b.alg = ALG_SM2_SM3;
    push(
        "alg_mismatch",
        "alg SM2-SM3 in the header, kid of an ES256 key",
        plain(&b)?,
        k(),
        now,
        err("elicense.alg_mismatch", Step::Kid),
        vec![],
    );
    let mut b = Build::presentation(&es, iat, 300);
    b.kid = Some(vec![0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1]);
    push(
        "unknown_kid",
        "kid not in the key list",
        plain(&b)?,
        k(),
        now,
        err("elicense.unknown_kid", Step::Kid),
        vec![],
    );
    let mut b = Build::presentation(&es, iat, 300);
    b.kid = None;
    push(
        "missing_kid",
        "no kid at all",
        plain(&b)?,
        k(),
        now,
        err("elicense.missing_kid", Step::Kid),
        vec![],
    );
    let mut b = Build::presentation(&es, iat, 300);
    b.unprot_kid = true;
    push(
        "kid_unprotected_only",
        "kid only in the unprotected header (refused by this profile)",
        plain(&b)?,
        k(),
        now,
        err("elicense.unprotected_kid", Step::Kid),
        vec![],
    );
    {
        let twin = Key::new(Alg::Es256, "zizhu-vector-kid-twin", "GD-YSS")?;
        let mut decoy = twin.trusted();
        decoy.kid = es.kid.clone();
        let ctx = Ctx::Keys(vec![decoy, es.trusted()]);
        push(
            "kid_collision",
            "two keys share the kid; the second one verifies (try every key)",
            plain(&Build::presentation(&es, iat, 300))?,
            ctx,
            now,
            ok("presentation"),
            vec![],
        );
    }

    // 4. Prefix, Base45, zlib.
    let good = plain(&Build::presentation(&es, iat, 300))?;
    let body = good.base45.clone().unwrap_or_default();
    push(
        "prefix_hc1",
        "EU DCC prefix HC1:",
        text_only(&format!("HC1:{body}")),
        k(),
        now,
        err("elicense.unsupported_prefix", Step::Prefix),
        vec![],
    );
    push(
        "prefix_lowercase",
        "lower-case el1:",
        text_only(&format!("el1:{body}")),
        k(),
        now,
        err("elicense.unsupported_prefix", Step::Prefix),
        vec![],
    );
    push(
        "prefix_future_version",
        "EL2: (a future version)",
        text_only(&format!("EL2:{body}")),
        k(),
        now,
        err("elicense.unsupported_prefix", Step::Prefix),
        vec![],
    );
    push(
        "prefix_missing",
        "Base45 body without a prefix is an opaque code for the platform",
        text_only(&body),
        k(),
        now,
        ok("opaque"),
        vec![],
    );
    push(
        "base45_invalid_char",
        "lower-case letter in the Base45 body",
        text_only(&format!("EL1:{}a{}", &body[..10], &body[10..])),
        k(),
        now,
        err("elicense.base45", Step::Base45),
        vec![],
    );
    push(
        "base45_truncated",
        "code cut in the middle of a Base45 triple",
        text_only(&format!("EL1:{}", &body[..body.len() / 3 * 3 - 2])),
        k(),
        now,
        err("elicense.base45", Step::Base45),
        vec![],
    );
    push(
        "zlib_broken",
        "Base45 of bytes that are not zlib",
        from_compressed("EL1:", b"\x78\x9c\xff\xff\x00garbage".to_vec()),
        k(),
        now,
        err("elicense.zlib", Step::Decompress),
        vec![],
    );
    push(
        "zlib_truncated",
        "zlib stream cut short",
        from_compressed(
            "EL1:",
            good.compressed.clone().unwrap_or_default()[..40].to_vec(),
        ),
        k(),
        now,
        err("elicense.zlib", Step::Decompress),
        vec![],
    );
    push(
        "not_compressed",
        "COSE Base45-encoded without zlib",
        from_compressed("EL1:", good.cose.clone().unwrap_or_default()),
        k(),
        now,
        err("elicense.zlib", Step::Decompress),
        vec![],
    );
    push(
        "decompression_bomb",
        "1 MiB of zeros compressed (cap 4 KiB)",
        from_compressed("EL1:", zlib(&vec![0u8; 1 << 20])?),
        k(),
        now,
        err("elicense.too_large", Step::Decompress),
        vec![],
    );

    // 5. CBOR and COSE structure.
    let cose = good.cose.clone().unwrap_or_default();
    push(
        "cbor_truncated",
        "COSE cut short",
        from_compressed("EL1:", zlib(&cose[..cose.len() - 10])?),
        k(),
        now,
        err("elicense.cbor", Step::Cbor),
        vec![],
    );
    push(
        "cbor_trailing",
        "bytes after the COSE item",
        from_compressed("EL1:", zlib(&[cose.as_slice(), &[0x00]].concat())?),
        k(),
        now,
        err("elicense.cbor", Step::Cbor),
        vec![],
    );
    push(
        "cbor_indefinite",
        "indefinite-length array",
        from_compressed("EL1:", zlib(&[0xd2, 0x9f, 0x40, 0xa0, 0x40, 0x40, 0xff])?),
        k(),
        now,
        err("elicense.cbor", Step::Cbor),
        vec![],
    );
    push(
        "cbor_deep",
        "arrays nested 200 deep",
        from_compressed("EL1:", zlib(&[vec![0x81u8; 200], vec![0x00]].concat())?),
        k(),
        now,
        err("elicense.cbor", Step::Cbor),
        vec![],
    );
    push(
        "cose_untagged",
        "COSE_Sign1 without tag 18",
        from_compressed("EL1:", zlib(&cose[1..])?),
        k(),
        now,
        err("elicense.cose", Step::Cose),
        vec![],
    );
    push(
        "cose_wrong_length",
        "tag 18 around a 3-element array",
        from_compressed("EL1:", zlib(&[0xd2, 0x83, 0x40, 0xa0, 0x40])?),
        k(),
        now,
        err("elicense.cose", Step::Cose),
        vec![],
    );
    push(
        "cose_wrong_tag",
        "tag 17 (COSE_Mac0) instead of 18",
        from_compressed("EL1:", zlib(&[&[0xd1u8][..], &cose[1..]].concat())?),
        k(),
        now,
        err("elicense.cose", Step::Cose),
        vec![],
    );
    {
        let payload = cbor(&Value::Array(vec![ik(1), ik(2)]))?;
        let prot = protected(ALG_ES256, Some(&es.kid))?;
        let sig = es.sk.sign(&tbs(&prot, &payload)?)?;
        let cose = sign1(&prot, vec![], &payload, &sig)?;
        push(
            "payload_not_map",
            "signed payload is an array, not a claims map",
            layers_from_cose("EL1:", json!([1, 2]), Some(payload), cose)?,
            k(),
            now,
            err("elicense.claims", Step::Claims),
            vec![],
        );
        let mut m = claims::claims_value(
            &Build::presentation(&es, iat, 300).claims,
            &Body::Licence(Box::new(marriage())),
        );
        if let Value::Map(entries) = &mut m {
            for (key, v) in entries.iter_mut() {
                if key.as_integer() == Some(claims::IAT.into()) {
                    *v = Value::Text("2026-06-01".into());
                }
            }
        }
        let payload = cbor(&m)?;
        let sig = es.sk.sign(&tbs(&prot, &payload)?)?;
        let cose = sign1(&prot, vec![], &payload, &sig)?;
        push(
            "claims_wrong_type",
            "iat is text, not a NumericDate",
            layers_from_cose("EL1:", json!({"iat": "2026-06-01"}), Some(payload), cose)?,
            k(),
            now,
            err("elicense.claims", Step::Claims),
            vec![],
        );
        let mut b = Build::presentation(&es, iat, 300);
        b.body = Body::Ticket(b"X".to_vec());
        push(
            "presentation_without_licence",
            "EL1 prefix around ticket claims",
            plain(&b)?,
            k(),
            now,
            err("elicense.claims", Step::Claims),
            vec![],
        );
    }

    // 6. Time.
    push(
        "time_iat_at_skew",
        "iat exactly 60 s ahead of the clock (accepted)",
        plain(&Build::presentation(&es, now + 60, 300))?,
        k(),
        now,
        ok("presentation"),
        vec![],
    );
    push(
        "time_iat_past_skew",
        "iat 61 s ahead of the clock",
        plain(&Build::presentation(&es, now + 61, 300))?,
        k(),
        now,
        err("elicense.not_yet_valid", Step::Time),
        vec![],
    );
    push(
        "time_exp_at_skew",
        "exp exactly 60 s behind the clock (accepted)",
        plain(&Build::presentation(&es, now - 360, 300))?,
        k(),
        now,
        ok("presentation"),
        vec![],
    );
    push(
        "time_exp_past_skew",
        "exp 61 s behind the clock",
        plain(&Build::presentation(&es, now - 361, 300))?,
        k(),
        now,
        err("elicense.expired", Step::Time),
        vec![],
    );
    push(
        "time_expired_long_ago",
        "a screenshot from yesterday",
        plain(&Build::presentation(&es, now - 86_400, 300))?,
        k(),
        now,
        err("elicense.expired", Step::Time),
        vec![],
    );
    push(
        "time_lifetime_too_long",
        "presentation valid 301 s (maximum 300)",
        plain(&Build::presentation(&es, iat, 301))?,
        k(),
        now,
        err("elicense.lifetime_too_long", Step::Time),
        vec![],
    );
    let mut t = Build::presentation(&es, iat, 121);
    t.prefix = codec::PREFIX_TICKET;
    t.body = Body::Ticket(b"TKT-LONG".to_vec());
    push(
        "time_ticket_lifetime_too_long",
        "ticket valid 121 s (maximum 120)",
        plain(&t)?,
        k(),
        now,
        err("elicense.lifetime_too_long", Step::Time),
        vec![],
    );
    push(
        "time_clock_implausible",
        "kiosk clock in 2025, before this software existed",
        plain(&Build::presentation(&es, iat, 300))?,
        k(),
        1_735_689_600,
        err("elicense.clock_implausible", Step::Time),
        vec![],
    );
    let mut b = Build::presentation(&es, iat, 300);
    b.claims.nbf = Some(now + 120);
    push(
        "time_nbf_future",
        "nbf 120 s ahead",
        plain(&b)?,
        k(),
        now,
        err("elicense.not_yet_valid", Step::Time),
        vec![],
    );

    // 7. Usage.
    let mut b = Build::presentation(&es, iat, 300);
    let lt = types::VETERAN_CARD.code;
    let mut l = marriage();
    l.licence_type = lt.into();
    l.identifier = lid::build(lt, "11440100MB2C00002X", "T000001", "001").unwrap_or_default();
    b.body = Body::Licence(Box::new(l));
    push(
        "type_not_allowed",
        "veteran's card signed by a key allowed only civil-affairs and identity types",
        plain(&b)?,
        k(),
        now,
        err("elicense.type_not_allowed", Step::Usage),
        vec![],
    );
    let mut b = Build::presentation(&es, iat, 300);
    b.claims.iss = "SZ-ZWFW".into();
    push(
        "issuer_mismatch",
        "iss of another issuer under GD-YSS's key",
        plain(&b)?,
        k(),
        now,
        err("elicense.issuer_mismatch", Step::Usage),
        vec![],
    );

    // 8. Identifiers.
    let with_lid = |lid: String| -> Result<Layers, Error> {
        let mut b = Build::presentation(&es, iat, 300);
        let mut l = marriage();
        l.identifier = lid;
        b.body = Body::Licence(Box::new(l));
        plain(&b)
    };
    let lt = types::MARRIAGE_CERTIFICATE.code;
    push(
        "lid_check_ok",
        "identifier with a correct ISO 7064 MOD 37,36 check character",
        with_lid(lid::build(lt, "11440100MB2C00001X", "2430599", "001").unwrap_or_default())?,
        k(),
        now,
        ok("presentation"),
        vec![],
    );
    let bad_check = {
        let l = lid::build(lt, "11440100MB2C00001X", "2430599", "001").unwrap_or_default();
        let c = l.chars().last().unwrap_or('0');
        format!("{}{}", &l[..l.len() - 1], if c == 'Z' { 'Y' } else { 'Z' })
    };
    push(
        "lid_check_variant",
        "check character from another vendor variant: warning, accepted",
        with_lid(bad_check)?,
        k(),
        now,
        ok("presentation"),
        vec!["elicense.identifier_check"],
    );
    push(
        "lid_short_issuer",
        "older identifier with a 6-digit issuer code: warning, accepted",
        with_lid(lid::build(lt, "340100", "000000016", "001").unwrap_or_default())?,
        k(),
        now,
        ok("presentation"),
        vec!["elicense.identifier_short_issuer"],
    );
    push(
        "lid_wrong_root",
        "identifier under 1.2.156.3005.3",
        with_lid(
            lid::build(lt, "11440100MB2C00001X", "2430599", "001")
                .unwrap_or_default()
                .replacen("3005.2", "3005.3", 1),
        )?,
        k(),
        now,
        err("elicense.bad_identifier", Step::Identifier),
        vec![],
    );
    push(
        "lid_wrong_version_length",
        "version 01 (must be 3 digits)",
        with_lid(format!(
            "1.2.156.3005.2.{lt}.11440100MB2C00001X.2430599.01.F"
        ))?,
        k(),
        now,
        err("elicense.bad_identifier", Step::Identifier),
        vec![],
    );
    push(
        "lid_type_differs",
        "identifier names another licence type than lt",
        with_lid(
            lid::build(
                types::DIVORCE_CERTIFICATE.code,
                "11440100MB2C00001X",
                "2430599",
                "001",
            )
            .unwrap_or_default(),
        )?,
        k(),
        now,
        err("elicense.bad_identifier", Step::Identifier),
        vec![],
    );

    // 9. gmssl pitfall keys (public key hex 04 0… and 04 4…).
    for (id, nibble, desc) in [
        (
            "sm2_pubkey_04_0",
            0u8,
            "SM2 key whose hex starts 040… (py-gmssl lstrip pitfall)",
        ),
        (
            "sm2_pubkey_04_4",
            4,
            "SM2 key whose hex starts 044… (py-gmssl lstrip pitfall)",
        ),
    ] {
        let key = seed_with_high_nibble(nibble)?;
        let ctx = Ctx::Keys(vec![key.trusted()]);
        push(
            id,
            desc,
            plain(&Build::presentation(&key, iat, 300))?,
            ctx,
            now,
            ok("presentation"),
            vec![],
        );
    }

    // 10. What else a scanner delivers.
    push(
        "input_empty",
        "empty read",
        text_only(""),
        k(),
        now,
        err("elicense.empty", Step::Prefix),
        vec![],
    );
    push(
        "input_payment_code",
        "a WeChat Pay payment code",
        text_only("134567890123456789"),
        k(),
        now,
        err("elicense.payment_code", Step::Prefix),
        vec![],
    );
    push(
        "input_url",
        "a URL (resolved by the platform)",
        text_only("https://example.invalid/c/8Xk2"),
        k(),
        now,
        ok("opaque"),
        vec![],
    );
    push(
        "input_random_text",
        "random text (resolved by the platform, which will refuse it)",
        text_only("hello kiosk"),
        k(),
        now,
        ok("opaque"),
        vec![],
    );
    push(
        "input_oversized",
        "5,000 characters",
        text_only(&format!("EL1:{}", "A".repeat(4996))),
        k(),
        now,
        err("elicense.too_long", Step::Prefix),
        vec![],
    );
    push(
        "input_control_chars",
        "a read with a NUL byte inside",
        text_only(&format!("EL1:{}\u{0}", &body[..30])),
        k(),
        now,
        err("elicense.unreadable", Step::Prefix),
        vec![],
    );

    // 11. Replay.
    let first = plain(&Build::presentation(&es, iat, 300))?;
    let replay_text = first.prefix.clone();
    out.push(Case {
        id: "replay_same_cti",
        description: "the same presentation scanned twice",
        layers: first,
        ctx: k(),
        clock: now,
        prior: vec![replay_text.clone()],
        expect: Err(("elicense.replayed", Step::Replay)),
        warnings: vec![],
    });
    let mut b = Build::presentation(&other, iat, 300);
    b.claims.cti = cti_for(iat, es.iss);
    out.push(Case {
        id: "replay_same_cti_other_issuer",
        description: "same cti as an accepted code, but from another issuer (accepted)",
        layers: plain(&b)?,
        ctx: k(),
        clock: now,
        prior: vec![replay_text],
        expect: Ok("presentation"),
        warnings: vec![],
    });

    // 12. Trust lists.
    let root = SecretKey::from_seed(Alg::Es256, "zizhu-vector-root-current")?;
    let root_next = SecretKey::from_seed(Alg::Sm2, "zizhu-vector-root-next")?;
    let roots = vec![root.public_key(), root_next.public_key()];
    let content = |seq: u64, iat: i64| TrustListContent {
        seq,
        iat,
        next_update: iat + 86_400,
        max_age: 7 * 86_400,
        keys: vec![es.trusted(), sm.trusted()],
        revoked_identifiers: Vec::new(),
    };
    let list_at = now - 3_600;
    let list = |raw: Vec<u8>, installed_at: i64, stored_seq: Option<u64>| Ctx::List {
        raw,
        roots: roots.clone(),
        installed_at,
        stored_seq,
    };
    let tl = trust::sign_trust_list(&root, &content(7, list_at))?;
    let pres = || plain(&Build::presentation(&es, iat, 300));
    out.push(case(
        "trust_list_valid",
        "presentation checked against a signed trust list",
        pres()?,
        list(tl.clone(), list_at, Some(6)),
        now,
        Ok("presentation"),
    ));
    let tl_next = trust::sign_trust_list(&root_next, &content(8, list_at))?;
    out.push(case(
        "trust_list_next_root_sm2",
        "trust list signed by the second pinned root (SM2)",
        plain(&Build::presentation(&sm, iat, 300))?,
        list(tl_next, list_at, Some(7)),
        now,
        Ok("presentation"),
    ));
    out.push(case(
        "trust_list_stale",
        "list installed 8 days ago (max age 7 days): offline off",
        plain(&Build::presentation(&es, now + 8 * 86_400 - 10, 300))?,
        list(tl.clone(), list_at, None),
        now + 8 * 86_400,
        Err(("elicense.trust_list_stale", Step::TrustList)),
    ));
    let old = trust::sign_trust_list(&root, &content(9, now - 8 * 86_400))?;
    out.push(case(
        "trust_list_expired",
        "list already older than its maximum age when offered",
        pres()?,
        list(old, now, None),
        now,
        Err(("elicense.trust_list_expired", Step::TrustList)),
    ));
    out.push(case(
        "trust_list_rollback_equal",
        "list with the stored sequence number",
        pres()?,
        list(tl.clone(), list_at, Some(7)),
        now,
        Err(("elicense.trust_list_rollback", Step::TrustList)),
    ));
    out.push(case(
        "trust_list_rollback_lower",
        "list with a lower sequence number",
        pres()?,
        list(tl.clone(), list_at, Some(12)),
        now,
        Err(("elicense.trust_list_rollback", Step::TrustList)),
    ));
    let rogue = SecretKey::from_seed(Alg::Es256, "zizhu-vector-rogue-root")?;
    let bad = trust::sign_trust_list(&rogue, &content(10, list_at))?;
    out.push(case(
        "trust_list_unpinned_signer",
        "list signed by a key that is not a pinned root",
        pres()?,
        list(bad, list_at, None),
        now,
        Err(("elicense.trust_list_signature", Step::TrustList)),
    ));
    let mut c = content(11, list_at);
    c.keys[0].not_after = Some(now - 86_400);
    let expired_key = trust::sign_trust_list(&root, &c)?;
    out.push(case(
        "trust_list_key_expired",
        "issuer key past its not_after",
        pres()?,
        list(expired_key, list_at, None),
        now,
        Err(("elicense.key_not_valid", Step::Usage)),
    ));
    let mut c = content(12, list_at);
    c.revoked_identifiers = vec![marriage().identifier.clone()];
    let revoked = trust::sign_trust_list(&root, &c)?;
    out.push(case(
        "trust_list_revoked_lid",
        "licence identifier on the revocation list",
        pres()?,
        list(revoked, list_at, None),
        now,
        Err(("elicense.revoked", Step::Usage)),
    ));
    out.push(case(
        "trust_list_clock_behind",
        "kiosk clock two days behind the installed list's issue time: a clock problem, not expiry",
        pres()?,
        list(tl.clone(), list_at, None),
        list_at - 2 * 86_400,
        Err(("elicense.clock_implausible", Step::Time)),
    ));
    out.push(case(
        "trust_list_not_yet_valid",
        "list offered to a kiosk whose clock is two days behind its issue time",
        pres()?,
        list(tl, list_at - 2 * 86_400, None),
        now,
        Err(("elicense.trust_list_not_yet_valid", Step::TrustList)),
    ));
    Ok(out)
}

fn case(
    id: &'static str,
    description: &'static str,
    layers: Layers,
    ctx: Ctx,
    clock: i64,
    expect: Result<&'static str, (&'static str, Step)>,
) -> Case {
    Case {
        id,
        description,
        layers,
        ctx,
        clock,
        prior: Vec::new(),
        expect,
        warnings: vec![],
    }
}

#[cfg(test)]
mod tests {
    /// Regenerates the committed vectors (like the `gen-elicense-vectors` binary):
    /// `cargo test -p zizhu-testkit regenerate_vectors -- --ignored`.
    #[test]
    #[ignore = "writes tests/vectors/elicense"]
    fn regenerate_vectors() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/elicense");
        let n = super::generate(&dir).expect("generate");
        assert!(n > 60);
    }
}
