//! What every state-changing endpoint shares: the kiosk id and idempotency key from the
//! headers, the body read and parsed within its limit, the idempotent answer (`once`: the same key
//! and body answer the stored result), tokens and the clock.
#[allow(unused_imports)]
use super::*;

pub(super) fn kiosk(h: &HeaderMap) -> String {
    h.get(api::KIOSK_ID)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(64).collect())
        .unwrap_or_else(|| "-".into())
}

pub(super) fn idem_key(h: &HeaderMap) -> Res<String> {
    let Some(v) = h.get(api::IDEMPOTENCY_KEY) else {
        return Err(DemoError::bad_request(
            "idempotency_key_required",
            "请求缺少幂等键。",
            "State-changing calls need an Idempotency-Key header.",
        ));
    };
    let k = v.to_str().unwrap_or("");
    if k.is_empty()
        || k.len() > api::MAX_KEY_LEN
        || !k
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(DemoError::bad_request(
            "bad_idempotency_key",
            "幂等键格式不正确。",
            format!(
                "Idempotency-Key must be 1-{} characters of A-Z a-z 0-9 - _.",
                api::MAX_KEY_LEN
            ),
        ));
    }
    Ok(k.to_string())
}

pub(super) fn body_bytes(b: Result<Bytes, BytesRejection>) -> Res<Bytes> {
    b.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            DemoError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "请求内容过大。",
                "The request body exceeds 64 KiB.",
                false,
            )
        } else {
            DemoError::bad_request("bad_request", "请求无法读取。", r.body_text())
        }
    })
}

pub(super) fn parse<T: serde::de::DeserializeOwned>(b: &[u8]) -> Res<T> {
    serde_json::from_slice(b).map_err(|e| {
        let mut m = e.to_string();
        m.truncate(200);
        DemoError::bad_request(
            "bad_request",
            "请求格式不正确。",
            format!("The body is not the JSON this endpoint takes: {m}"),
        )
    })
}

/// Runs a state-changing call once per (kiosk, scope, key): the first successful answer is stored
/// in the same transaction as the call's own writes, and replayed for every retry. Errors are not
/// stored, so a call refused for a passing reason can be retried with the same key.
pub(super) fn once(
    st: &DemoState,
    h: &HeaderMap,
    scope: &str,
    hash: String,
    f: impl FnOnce(&Connection) -> Res<(StatusCode, serde_json::Value)>,
) -> Res<Response> {
    let key = idem_key(h)?;
    let scope = format!("{}:{}", kiosk(h), scope);
    let conn = st
        .db
        .lock()
        .map_err(|_| DemoError::internal("database lock poisoned"))?;
    let tx = conn.unchecked_transaction()?;
    if let Some((first_hash, status, resp)) = store::idem_get(&tx, &scope, &key)? {
        if first_hash != hash {
            return Err(DemoError::unprocessable(
                "idempotency_mismatch",
                "同一幂等键对应了不同的请求内容。",
                "This Idempotency-Key was used with a different body; use a new key for a new call.",
            ));
        }
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
        let mut r = (status, [(header::CONTENT_TYPE, "application/json")], resp).into_response();
        r.headers_mut()
            .insert("Idempotent-Replayed", HeaderValue::from_static("true"));
        return Ok(r);
    }
    let (status, value) = f(&tx)?;
    let text = value.to_string();
    store::idem_put(&tx, &scope, &key, &hash, status.as_u16(), &text)?;
    tx.commit()?;
    Ok((status, [(header::CONTENT_TYPE, "application/json")], text).into_response())
}

pub(super) fn body_hash(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

pub(super) fn to_json<T: serde::Serialize>(v: &T) -> Res<serde_json::Value> {
    serde_json::to_value(v).map_err(DemoError::internal)
}

pub(super) fn new_token() -> Res<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(DemoError::internal)?;
    Ok(format!("st_{}", hex::encode(b)))
}

pub(super) fn now() -> i64 {
    Utc::now().timestamp()
}

pub(super) fn masked(id: &str) -> String {
    zizhu_drivers::privacy::mask(id)
}
