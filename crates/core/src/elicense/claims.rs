//! CWT claims of presentations and tickets (docs/elicense.md, "Claims"): the standard
//! claims (iss 1, aud 3, exp 4, nbf 5, iat 6, cti 7) and the private claims `elic` (−65537, the
//! licence) and `tkt` (−65538, the ticket reference), read from and written to CBOR.
use ciborium::Value;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::codec;
use super::error::Error;

/// `iss` claim key.
pub const ISS: i64 = 1;
/// `aud` claim key.
pub const AUD: i64 = 3;
/// `exp` claim key.
pub const EXP: i64 = 4;
/// `nbf` claim key.
pub const NBF: i64 = 5;
/// `iat` claim key.
pub const IAT: i64 = 6;
/// `cti` claim key.
pub const CTI: i64 = 7;
/// Private claim holding the licence of a presentation.
pub const ELIC: i64 = -65537;
/// Private claim holding the reference of an online ticket.
pub const TKT: i64 = -65538;

/// One field the holder chose to disclose (`sd`), as text.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, Zeroize)]
pub struct Field {
    /// Field name (the platform's metadata name, e.g. `KZ_住址`).
    pub name: String,
    /// Field value as text.
    pub value: String,
}

/// The licence inside a presentation. Holder name and ID come masked by the issuer (张*三,
/// 4401**********123X); the rest is the licence's own metadata (GB/T 36903). Wiped on drop.
#[derive(
    Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize, Zeroize, ZeroizeOnDrop,
)]
pub struct Licence {
    /// 证照类型代码 (21 characters), see [`super::types`].
    pub licence_type: String,
    /// 证照标识 (GB/T 36904).
    pub identifier: String,
    /// 证照编号 (licence number).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub number: Option<String>,
    /// Holder name, display-masked by the issuer.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub holder_name: Option<String>,
    /// Holder ID number, masked by the issuer.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub holder_id: Option<String>,
    /// 持证主体代码类型 (type of the holder ID).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub holder_id_type: Option<String>,
    /// 颁证单位 name.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub org_name: Option<String>,
    /// 颁证单位 USCC.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub org_code: Option<String>,
    /// 颁证日期 YYYY-MM-DD.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub issued: Option<String>,
    /// 有效期起始 YYYY-MM-DD.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub valid_from: Option<String>,
    /// 有效期截止 YYYY-MM-DD or 长期.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub valid_to: Option<String>,
    /// 用证事由 / service item code.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub purpose: Option<String>,
    /// Further fields the holder chose to disclose.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub disclosed: Vec<Field>,
}

impl std::fmt::Debug for Licence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Licence")
            .field("licence_type", &self.licence_type)
            .field(
                "identifier",
                &zizhu_drivers::privacy::mask(&self.identifier),
            )
            .field(
                "number",
                &self.number.as_deref().map(zizhu_drivers::privacy::mask),
            )
            .finish_non_exhaustive()
    }
}

/// Claims common to both kinds, as read from a verified payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// Issuer id.
    pub iss: String,
    /// Audience (region or kiosk class), if any.
    pub aud: Option<String>,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Not before, if any.
    pub nbf: Option<i64>,
    /// Expiry.
    pub exp: i64,
    /// Nonce; the replay key together with `iss`.
    pub cti: Vec<u8>,
}

/// What a payload carries besides the common claims.
#[derive(Debug, Clone)]
pub enum Body {
    /// A licence (EL1).
    Licence(Box<Licence>),
    /// A ticket reference (ET1).
    Ticket(Vec<u8>),
}

fn int_key(k: &Value) -> Option<i64> {
    k.as_integer().and_then(|i| i64::try_from(i).ok())
}

fn text(v: &Value, what: &str) -> Result<String, Error> {
    v.as_text()
        .map(str::to_string)
        .ok_or_else(|| Error::Claims(format!("{what} is not text")))
}

fn time(v: &Value, what: &str) -> Result<i64, Error> {
    if let Some(i) = v.as_integer() {
        return i64::try_from(i).map_err(|_| Error::Claims(format!("{what} out of range")));
    }
    if let Some(f) = v.as_float() {
        if f.is_finite() && f.abs() < 1e15 {
            return Ok(f.floor() as i64);
        }
    }
    Err(Error::Claims(format!("{what} is not a NumericDate")))
}

/// Reads the claims of a payload. `kind` says which private claim must be present.
pub fn decode(payload: &[u8], kind: codec::Kind) -> Result<(Claims, Body), Error> {
    codec::check_cbor(payload, codec::PAYLOAD_LIMITS)?;
    let v: Value = ciborium::from_reader(payload).map_err(|e| Error::Cbor(e.to_string()))?;
    let Value::Map(entries) = v else {
        return Err(Error::Claims("payload is not a map".into()));
    };
    let (mut iss, mut aud, mut iat, mut nbf, mut exp, mut cti, mut elic, mut tkt) =
        (None, None, None, None, None, None, None, None);
    for (k, v) in &entries {
        match int_key(k) {
            Some(ISS) => iss = Some(text(v, "iss")?),
            Some(AUD) => aud = Some(text(v, "aud")?),
            Some(IAT) => iat = Some(time(v, "iat")?),
            Some(NBF) => nbf = Some(time(v, "nbf")?),
            Some(EXP) => exp = Some(time(v, "exp")?),
            Some(CTI) => {
                let b = v
                    .as_bytes()
                    .ok_or_else(|| Error::Claims("cti is not bytes".into()))?;
                if !(8..=64).contains(&b.len()) {
                    return Err(Error::Claims("cti must be 8–64 bytes".into()));
                }
                cti = Some(b.clone());
            }
            Some(ELIC) => elic = Some(v),
            Some(TKT) => {
                let b = v
                    .as_bytes()
                    .ok_or_else(|| Error::Claims("tkt is not bytes".into()))?;
                if !(1..=64).contains(&b.len()) {
                    return Err(Error::Claims("tkt must be 1–64 bytes".into()));
                }
                tkt = Some(b.clone());
            }
            _ => {} // Unknown claims are ignored, as CWT allows.
        }
    }
    let need = |what: &str| Error::Claims(format!("{what} missing"));
    let claims = Claims {
        iss: iss.ok_or_else(|| need("iss"))?,
        aud,
        iat: iat.ok_or_else(|| need("iat"))?,
        nbf,
        exp: exp.ok_or_else(|| need("exp"))?,
        cti: cti.ok_or_else(|| need("cti"))?,
    };
    if claims.iss.is_empty() || claims.iss.len() > 64 {
        return Err(Error::Claims("iss must be 1–64 characters".into()));
    }
    let body = match kind {
        codec::Kind::Presentation => {
            if tkt.is_some() {
                return Err(Error::Claims(
                    "a presentation carries a ticket claim".into(),
                ));
            }
            Body::Licence(Box::new(decode_licence(elic.ok_or_else(|| need("elic"))?)?))
        }
        _ => {
            if elic.is_some() {
                return Err(Error::Claims("a ticket carries licence data".into()));
            }
            Body::Ticket(tkt.ok_or_else(|| need("tkt"))?)
        }
    };
    Ok((claims, body))
}

fn decode_licence(v: &Value) -> Result<Licence, Error> {
    let Value::Map(entries) = v else {
        return Err(Error::Claims("elic is not a map".into()));
    };
    let mut l = Licence::default();
    let (mut lt, mut lid) = (None, None);
    for (k, v) in entries {
        match int_key(k) {
            Some(1) => lt = Some(text(v, "lt")?),
            Some(2) => lid = Some(text(v, "lid")?),
            Some(3) => l.number = Some(text(v, "lno")?),
            Some(4) => l.holder_name = Some(text(v, "hnm")?),
            Some(5) => l.holder_id = Some(text(v, "hid")?),
            Some(6) => l.holder_id_type = Some(text(v, "hidt")?),
            Some(7) => {
                let a = v.as_array().filter(|a| a.len() == 2);
                let a = a.ok_or_else(|| Error::Claims("org is not [name, code]".into()))?;
                l.org_name = Some(text(&a[0], "org name")?).filter(|s| !s.is_empty());
                l.org_code = Some(text(&a[1], "org code")?).filter(|s| !s.is_empty());
            }
            Some(8) => l.issued = Some(text(v, "isd")?),
            Some(9) => l.valid_from = Some(text(v, "vf")?),
            Some(10) => l.valid_to = Some(text(v, "vt")?),
            Some(11) => l.purpose = Some(text(v, "use")?),
            Some(12) => {
                let m = v
                    .as_map()
                    .ok_or_else(|| Error::Claims("sd is not a map".into()))?;
                for (name, value) in m {
                    let value = match value {
                        Value::Text(t) => t.clone(),
                        Value::Integer(i) => i128::from(*i).to_string(),
                        Value::Bool(b) => b.to_string(),
                        _ => {
                            return Err(Error::Claims(
                                "sd value is not text, number or bool".into(),
                            ))
                        }
                    };
                    l.disclosed.push(Field {
                        name: text(name, "sd name")?,
                        value,
                    });
                }
            }
            _ => {}
        }
    }
    l.licence_type = lt.ok_or_else(|| Error::Claims("lt missing".into()))?;
    l.identifier = lid.ok_or_else(|| Error::Claims("lid missing".into()))?;
    Ok(l)
}

fn ikey(k: i64) -> Value {
    Value::Integer(k.into())
}

fn opt_text(out: &mut Vec<(Value, Value)>, k: i64, v: &Option<String>) {
    if let Some(v) = v {
        out.push((ikey(k), Value::Text(v.clone())));
    }
}

/// The `elic` map of a licence.
pub fn licence_value(l: &Licence) -> Value {
    let mut m = vec![
        (ikey(1), Value::Text(l.licence_type.clone())),
        (ikey(2), Value::Text(l.identifier.clone())),
    ];
    opt_text(&mut m, 3, &l.number);
    opt_text(&mut m, 4, &l.holder_name);
    opt_text(&mut m, 5, &l.holder_id);
    opt_text(&mut m, 6, &l.holder_id_type);
    if l.org_name.is_some() || l.org_code.is_some() {
        m.push((
            ikey(7),
            Value::Array(vec![
                Value::Text(l.org_name.clone().unwrap_or_default()),
                Value::Text(l.org_code.clone().unwrap_or_default()),
            ]),
        ));
    }
    opt_text(&mut m, 8, &l.issued);
    opt_text(&mut m, 9, &l.valid_from);
    opt_text(&mut m, 10, &l.valid_to);
    opt_text(&mut m, 11, &l.purpose);
    if !l.disclosed.is_empty() {
        let sd = l
            .disclosed
            .iter()
            .map(|f| (Value::Text(f.name.clone()), Value::Text(f.value.clone())))
            .collect();
        m.push((ikey(12), Value::Map(sd)));
    }
    Value::Map(m)
}

/// The full claims map of a payload.
pub fn claims_value(c: &Claims, body: &Body) -> Value {
    let mut m = vec![(ikey(ISS), Value::Text(c.iss.clone()))];
    if let Some(aud) = &c.aud {
        m.push((ikey(AUD), Value::Text(aud.clone())));
    }
    m.push((ikey(EXP), ikey(c.exp)));
    if let Some(nbf) = c.nbf {
        m.push((ikey(NBF), ikey(nbf)));
    }
    m.push((ikey(IAT), ikey(c.iat)));
    m.push((ikey(CTI), Value::Bytes(c.cti.clone())));
    match body {
        Body::Licence(l) => m.push((ikey(ELIC), licence_value(l))),
        Body::Ticket(t) => m.push((ikey(TKT), Value::Bytes(t.clone()))),
    }
    Value::Map(m)
}

/// Serialises a CBOR value.
pub fn to_cbor(v: &Value) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(256);
    ciborium::into_writer(v, &mut out).map_err(|e| Error::Signing(e.to_string()))?;
    Ok(out)
}
