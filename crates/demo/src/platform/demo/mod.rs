//! The demo platform (`zizhu platform`, and in-process under `zizhu run` with no config): every
//! endpoint of docs/platform-api.md over axum, with deterministic synthetic data for every catalog
//! service ([`data`]), idempotency keys honoured from a SQLite store ([`store`]), and fault
//! injection for tests (latency, error rate, dropped answers, "down"), switchable at run time with
//! `POST /demo/faults`. It also plays the government app for synthetic people: `POST
//! /demo/elicense` and the page `GET /demo/elicense/{id_number}` make `EL1:`/`ET1:` codes signed
//! by the demo issuer (`elicense::demo`), and `POST /v1/elicense/licences` lists the e-licences
//! they hold (免证办).
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::api::{self, ApiError, ErrorBody, Faults};
use crate::catalog::{Auth, Catalog, FieldKind, Output, Service};
use crate::elicense::{self, store::MemoryStore, Verified, Verifier};

pub mod data;
pub mod store;

/// Largest accepted request body.
pub const MAX_BODY: usize = 64 * 1024;
/// Lifetime of a subject token, seconds (7 days: long enough for the outbox to re-send).
pub const SUBJECT_TTL: i64 = 7 * 24 * 3600;
/// Time to pay before an order expires, seconds.
pub const PAYMENT_TTL: i64 = 15 * 60;
/// Time to do a phone face check, seconds.
pub const FACE_TTL: i64 = 5 * 60;
/// Lifetime of a licence reference from `POST /v1/elicense/licences`, seconds (as long as a
/// subject token, so a re-sent request still carries valid references).
pub const LICENCE_REF_TTL: i64 = SUBJECT_TTL;
/// Lifetime of a demo `EL1:` presentation, seconds (the profile's maximum).
pub const PRESENTATION_TTL: i64 = 300;
/// Lifetime of a demo `ET1:` ticket, seconds (the profile's maximum).
pub const TICKET_TTL: i64 = 120;
/// Most licence types per `POST /v1/elicense/licences` and references per service request.
pub const MAX_LICENCES: usize = 32;

/// How to run the demo platform.
#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    /// SQLite file; in memory when absent.
    pub db: Option<PathBuf>,
    /// The only accepted bearer token; any non-empty token when absent.
    pub token: Option<String>,
    /// Signed trust-list bytes served at `/v1/trust-list` (404 when absent).
    pub trust_list: Option<Vec<u8>>,
    /// Faults from the start.
    pub faults: Faults,
}

/// Shared state of the server.
pub struct DemoState {
    db: Mutex<Connection>,
    faults: RwLock<Faults>,
    token: Option<String>,
    trust_list: Option<(Vec<u8>, String)>,
    catalog: &'static Catalog,
    catalog_etag: String,
    listen: SocketAddr,
    /// Checks `EL1:` identity presentations sent to `/v1/identity/resolve`: the demo issuer keys,
    /// and a replay cache for the life of the process (a presentation resolves once).
    verifier: Mutex<Verifier>,
}

impl DemoState {
    /// Opens the store and prepares the state.
    pub fn new(listen: SocketAddr, opts: DemoOptions) -> anyhow::Result<DemoState> {
        let db = store::open(opts.db.as_deref()).map_err(|e| {
            anyhow::anyhow!(
                "opening the demo platform database {}: {e}",
                opts.db
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| ":memory:".into())
            )
        })?;
        let catalog_etag = etag(crate::catalog::BUILTIN_TOML.as_bytes());
        let usage: Vec<String> = elicense::types::ALL
            .iter()
            .map(|t| t.code.to_string())
            .collect();
        let keys = [elicense::Alg::Es256, elicense::Alg::Sm2]
            .into_iter()
            .map(|alg| {
                let i = elicense::demo::issuer(alg)?;
                Ok(elicense::TrustedKey::new(
                    i.key.public_key(),
                    elicense::demo::ISSUER,
                    usage.clone(),
                ))
            })
            .collect::<Result<Vec<_>, elicense::Error>>()?;
        let verifier = Verifier::with_keys(keys, Box::new(MemoryStore::default()));
        Ok(DemoState {
            db: Mutex::new(db),
            faults: RwLock::new(opts.faults),
            token: opts.token.filter(|t| !t.is_empty()),
            trust_list: opts.trust_list.map(|b| {
                let e = etag(&b);
                (b, e)
            }),
            catalog: Catalog::builtin(),
            catalog_etag,
            listen,
            verifier: Mutex::new(verifier),
        })
    }

    /// Replaces the faults.
    pub fn set_faults(&self, f: Faults) {
        if let Ok(mut g) = self.faults.write() {
            *g = f;
        }
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.faults.read().map(|g| g.clone()).unwrap_or_default()
    }

    /// Rows in a table of the store (`requests`, `evaluations`, `payments`), or `paid` for the
    /// payments that were paid.
    pub fn count(&self, table: &str) -> i64 {
        self.db
            .lock()
            .ok()
            .and_then(|c| store::count(&c, table).ok())
            .unwrap_or(-1)
    }
}

fn etag(b: &[u8]) -> String {
    format!("\"{}\"", &hex::encode(Sha256::digest(b))[..32])
}

/// An error answer in the one error model.
#[derive(Debug)]
pub struct DemoError {
    status: StatusCode,
    error: ApiError,
}

impl DemoError {
    fn new(status: StatusCode, code: &str, zh: &str, en: &str, retryable: bool) -> DemoError {
        DemoError {
            status,
            error: ApiError {
                code: code.into(),
                message_zh: zh.into(),
                message_en: en.into(),
                retryable,
            },
        }
    }
    fn bad_request(code: &str, zh: &str, en: impl Into<String>) -> DemoError {
        let mut e = DemoError::new(StatusCode::BAD_REQUEST, code, zh, "", false);
        e.error.message_en = en.into();
        e
    }
    fn unprocessable(code: &str, zh: impl Into<String>, en: impl Into<String>) -> DemoError {
        let mut e = DemoError::new(StatusCode::UNPROCESSABLE_ENTITY, code, "", "", false);
        e.error.message_zh = zh.into();
        e.error.message_en = en.into();
        e
    }
    fn not_found(code: &str, zh: &str, en: &str) -> DemoError {
        DemoError::new(StatusCode::NOT_FOUND, code, zh, en, false)
    }
    fn internal(what: impl std::fmt::Display) -> DemoError {
        tracing::error!("demo platform: {what}");
        DemoError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "服务平台内部错误，请稍后再试。",
            "Internal platform error; please try again later.",
            true,
        )
    }
}

impl From<rusqlite::Error> for DemoError {
    fn from(e: rusqlite::Error) -> Self {
        DemoError::internal(format!("database: {e}"))
    }
}

impl IntoResponse for DemoError {
    fn into_response(self) -> Response {
        (self.status, Json(ErrorBody { error: self.error })).into_response()
    }
}

type Shared = Arc<DemoState>;
type Res<T> = Result<T, DemoError>;

/// The router: `/v1` (bearer token, faults) and `/demo`, `/r` pages.
pub fn router(state: Shared) -> Router {
    let v1 = Router::new()
        .route("/v1/health", get(health))
        .route("/v1/catalog", get(catalog))
        .route("/v1/trust-list", get(trust_list))
        .route("/v1/subjects", post(subjects))
        .route("/v1/identity/resolve", post(resolve))
        .route("/v1/services/{service_id}/requests", post(service_request))
        .route("/v1/services/{service_id}/slots", get(slots))
        .route("/v1/requests/{request_id}", get(get_request))
        .route("/v1/payments/{order_id}", get(payment))
        .route("/v1/payments/{order_id}/cancel", post(cancel_payment))
        .route("/v1/face-checks", post(start_face_check))
        .route("/v1/face-checks/{check_id}", get(face_check))
        .route("/v1/elicense/tickets/consume", post(consume_ticket))
        .route("/v1/elicense/licences", post(licences))
        .route("/v1/evaluations", post(evaluate))
        .fallback(v1_not_found)
        .layer(middleware::from_fn_with_state(state.clone(), auth))
        .layer(middleware::from_fn_with_state(state.clone(), faults));
    Router::new()
        .merge(v1)
        .route("/demo/faults", get(get_faults).post(set_faults))
        .route("/demo/pay/{order_id}", get(demo_pay))
        .route("/demo/face/{check_id}", get(demo_face))
        .route("/demo/elicense", post(demo_elicense))
        .route("/demo/elicense/{id_number}", get(demo_elicense_page))
        .route("/r/{request_id}", get(no_page))
        .route("/r/{request_id}/{view}", get(result_page))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

async fn v1_not_found() -> DemoError {
    DemoError::not_found(
        "not_found",
        "没有这个接口。",
        "No such endpoint; see docs/platform-api.md.",
    )
}

async fn auth(State(st): State<Shared>, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    let ok = match &st.token {
        Some(t) => {
            use subtle::ConstantTimeEq;
            !given.is_empty() && bool::from(given.as_bytes().ct_eq(t.as_bytes()))
        }
        None => !given.is_empty(),
    };
    if !ok {
        return DemoError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "自助机未获授权，请联系运维人员。",
            "This kiosk is not authorised; a technician must check its platform token.",
            false,
        )
        .into_response();
    }
    if req.method() == axum::http::Method::POST {
        if let Err(e) = idem_key(req.headers()) {
            return e.into_response();
        }
    }
    next.run(req).await
}

fn chance(rate: f64) -> bool {
    if rate <= 0.0 {
        return false;
    }
    let mut b = [0u8; 4];
    if getrandom::fill(&mut b).is_err() {
        return false;
    }
    f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX) < rate
}

async fn faults(State(st): State<Shared>, req: Request, next: Next) -> Response {
    let f = st.faults();
    if f.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(f.latency_ms)).await;
    }
    if f.down {
        return DemoError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "platform_down",
            "服务平台暂时不可用，请稍后再试。",
            "The service platform is down for now; please try again later.",
            true,
        )
        .into_response();
    }
    if chance(f.error_rate) {
        return DemoError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "injected_fault",
            "服务平台繁忙，请稍后再试。",
            "The service platform is busy; please try again later.",
            true,
        )
        .into_response();
    }
    let resp = next.run(req).await;
    if f.drop {
        // The call was carried out, but its answer is lost mid-way: the client sees a broken
        // connection, exactly the case idempotency keys exist for.
        let (parts, _) = resp.into_parts();
        let stream = futures::stream::once(async {
            Err::<Bytes, std::io::Error>(std::io::Error::other("dropped by fault injection"))
        });
        return Response::from_parts(parts, Body::from_stream(stream));
    }
    resp
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

fn if_none_match(h: &HeaderMap, tag: &str) -> bool {
    h.get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
}

async fn catalog(State(st): State<Shared>, h: HeaderMap) -> Response {
    if if_none_match(&h, &st.catalog_etag) {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, st.catalog_etag.clone())],
        )
            .into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                "application/toml; charset=utf-8".to_string(),
            ),
            (header::ETAG, st.catalog_etag.clone()),
        ],
        crate::catalog::BUILTIN_TOML,
    )
        .into_response()
}

async fn trust_list(State(st): State<Shared>, h: HeaderMap) -> Response {
    let Some((bytes, tag)) = &st.trust_list else {
        return DemoError::not_found(
            "trust_list_unavailable",
            "服务平台未配置证照信任列表。",
            "This platform has no trust list; start it with --trust-list FILE \
             (make one with `zizhu elicense trust-list sign`).",
        )
        .into_response();
    };
    if if_none_match(&h, tag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, tag.clone())]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "application/cose".to_string()),
            (header::ETAG, tag.clone()),
        ],
        bytes.clone(),
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Idempotency

fn kiosk(h: &HeaderMap) -> String {
    h.get(api::KIOSK_ID)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(64).collect())
        .unwrap_or_else(|| "-".into())
}

fn idem_key(h: &HeaderMap) -> Res<String> {
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

fn body_bytes(b: Result<Bytes, BytesRejection>) -> Res<Bytes> {
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

fn parse<T: serde::de::DeserializeOwned>(b: &[u8]) -> Res<T> {
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
fn once(
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

fn body_hash(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn to_json<T: serde::Serialize>(v: &T) -> Res<serde_json::Value> {
    serde_json::to_value(v).map_err(DemoError::internal)
}

fn new_token() -> Res<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(DemoError::internal)?;
    Ok(format!("st_{}", hex::encode(b)))
}

fn now() -> i64 {
    Utc::now().timestamp()
}

fn masked(id: &str) -> String {
    zizhu_drivers::privacy::mask(id)
}

fn check_id(id: &str) -> Res<data::Person> {
    data::person(id).map_err(|e| {
        let why_en = match e {
            data::BadId::Shape => "it must be 17 digits and a final digit or X",
            data::BadId::CheckDigit => "its check character is wrong",
            data::BadId::BirthDate => "its birth date is not a date",
        };
        DemoError::unprocessable(
            "invalid_id_number",
            "身份证号码无效，请核对后重新输入。",
            format!("The ID number is not valid ({why_en}); check it and enter it again."),
        )
    })
}

fn issue_subject(conn: &Connection, id: &str) -> Res<(String, i64)> {
    let token = new_token()?;
    let exp = now() + SUBJECT_TTL;
    conn.execute(
        "INSERT INTO subjects (token, id_number, expires_at) VALUES (?1, ?2, ?3)",
        params![token, id.to_ascii_uppercase(), exp],
    )?;
    Ok((token, exp))
}

/// The ID number and expiry behind a live subject token.
fn token_subject(conn: &Connection, token: &str) -> Res<(String, i64)> {
    let row: Option<(String, i64)> = conn
        .query_row(
            "SELECT id_number, expires_at FROM subjects WHERE token = ?1",
            params![token],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        Some((id, exp)) if exp >= now() => Ok((id, exp)),
        _ => Err(DemoError::unprocessable(
            "unknown_subject_token",
            "身份凭据已失效，请重新认证身份。",
            "The subject token is unknown or expired; identify again.",
        )),
    }
}

/// The ID number behind a subject (number or token).
fn subject_id(conn: &Connection, s: &api::Subject) -> Res<String> {
    match (&s.id_number, &s.subject_token) {
        (Some(id), None) => {
            check_id(id)?;
            Ok(id.trim().to_ascii_uppercase())
        }
        (None, Some(t)) => token_subject(conn, t).map(|(id, _)| id),
        _ => Err(DemoError::bad_request(
            "bad_subject",
            "身份信息不完整。",
            "A subject carries exactly one of id_number and subject_token.",
        )),
    }
}

async fn subjects(
    State(st): State<Shared>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Res<Response> {
    let body = body_bytes(body)?;
    let req: api::SubjectRequest = parse(&body)?;
    check_id(&req.id_number)?;
    once(&st, &h, "subjects", body_hash(&body), |c| {
        let (token, exp) = issue_subject(c, req.id_number.trim())?;
        let out = api::SubjectToken {
            subject_token: token,
            id_masked: masked(req.id_number.trim()),
            expires_at: exp,
        };
        Ok((StatusCode::OK, to_json(&out)?))
    })
}

/// The ID number inside a demo identity code: `YSS:<id number>` (粤省事码 stand-in).
pub fn identity_code(code: &str) -> Option<&str> {
    let c = code.trim();
    let rest = c.strip_prefix("YSS:").or_else(|| c.strip_prefix("yss:"))?;
    Some(rest.trim())
}

async fn resolve(
    State(st): State<Shared>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Res<Response> {
    let body = body_bytes(body)?;
    let req: api::ResolveRequest = parse(&body)?;
    if req
        .code
        .trim_start()
        .starts_with(elicense::codec::PREFIX_PRESENTATION)
    {
        let code = req.code.trim().to_string();
        return once(&st, &h, "identity", body_hash(&body), |c| {
            resolve_presentation(&st, c, &code)
        });
    }
    let Some(id) = identity_code(&req.code) else {
        return Err(DemoError::unprocessable(
            "unknown_code",
            "无法识别该身份码，请在手机上刷新后重新出示。",
            "This identity code is not recognised; refresh it on the phone and show it again.",
        ));
    };
    let p = check_id(id)?;
    let id = id.to_string();
    once(&st, &h, "identity", body_hash(&body), |c| {
        let (token, exp) = issue_subject(c, &id)?;
        let out = api::Person {
            subject_token: token,
            id_masked: masked(&id),
            name: p.name.clone(),
            sex: p.sex.into(),
            birth_date: p.birth_date.clone(),
            expires_at: exp,
        };
        Ok((StatusCode::OK, to_json(&out)?))
    })
}

/// `/v1/identity/resolve` for an `EL1:` identity presentation (sent by a kiosk whose offline
/// checking is off): verified with the demo issuer keys, the person found through the subject
/// token it carries (`sd.subject_token`), which is also the token answered.
fn resolve_presentation(
    st: &DemoState,
    c: &Connection,
    code: &str,
) -> Res<(StatusCode, serde_json::Value)> {
    let verified = st
        .verifier
        .lock()
        .map_err(|_| DemoError::internal("verifier lock poisoned"))?
        .verify(code, Utc::now());
    let p = match verified {
        Ok(Verified::Presentation(p)) => p,
        Ok(_) => return Err(not_identity()),
        Err(e) => {
            return Err(DemoError::unprocessable(
                "invalid_presentation",
                e.message_zh(),
                e.message_en(),
            ))
        }
    };
    if !p.is_identity() {
        return Err(not_identity());
    }
    let Some(token) = p.subject_token() else {
        return Err(DemoError::unprocessable(
            "unknown_code",
            "该电子身份证未包含身份凭据，请在手机上刷新后重新出示，或使用身份证。",
            "This e-ID carries no subject token; refresh it on the phone and show it again, \
             or use the ID card.",
        ));
    };
    let (id, exp) = token_subject(c, token)?;
    let person = check_id(&id)?;
    let out = api::Person {
        subject_token: token.to_string(),
        id_masked: masked(&id),
        name: person.name.clone(),
        sex: person.sex.into(),
        birth_date: person.birth_date.clone(),
        expires_at: exp,
    };
    Ok((StatusCode::OK, to_json(&out)?))
}

fn not_identity() -> DemoError {
    DemoError::unprocessable(
        "unknown_code",
        "这是电子证照码，不是身份码；请出示电子身份证或粤省事身份码。",
        "This is an e-licence code, not an identity code; show your e-ID or identity code.",
    )
}

fn base_url(st: &DemoState, h: &HeaderMap) -> String {
    match h.get(header::HOST).and_then(|v| v.to_str().ok()) {
        Some(host)
            if !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".:-[]".contains(&b)) =>
        {
            format!("http://{host}")
        }
        _ => format!("http://{}", st.listen),
    }
}

fn service<'a>(st: &'a DemoState, id: &str) -> Res<&'a Service> {
    st.catalog.service(id).ok_or_else(|| {
        DemoError::not_found(
            "unknown_service",
            "没有这项服务。",
            "No such service; refresh the catalog (GET /v1/catalog).",
        )
    })
}

fn check_fields(s: &Service, req: &api::ServiceRequest) -> Res<()> {
    for f in &s.fields {
        let v = req.fields.get(&f.key).map(|v| v.trim()).unwrap_or("");
        if f.required && v.is_empty() {
            return Err(DemoError::unprocessable(
                "missing_field",
                format!("请填写“{}”。", f.zh),
                format!("Fill in \"{}\" (field `{}`).", f.en, f.key),
            ));
        }
        if v.is_empty() {
            continue;
        }
        let ok = match f.kind {
            FieldKind::Select => f.options.iter().any(|o| o.value == v),
            FieldKind::Amount => data::parse_yuan(v).is_some(),
            FieldKind::Date => NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok(),
            FieldKind::MonthRange => !data::months(v).is_empty(),
            FieldKind::Digits => v.bytes().all(|b| b.is_ascii_digit()),
            FieldKind::Phone => {
                v.len() == 11 && v.starts_with('1') && v.bytes().all(|b| b.is_ascii_digit())
            }
            FieldKind::Text => v.chars().count() <= 500,
        };
        if !ok {
            return Err(DemoError::unprocessable(
                "bad_field",
                format!("“{}”填写不正确。", f.zh),
                format!("\"{}\" (field `{}`) is not valid.", f.en, f.key),
            ));
        }
    }
    if req.fields.len() > 64 || req.fields.values().any(|v| v.len() > 2000) {
        return Err(DemoError::unprocessable(
            "bad_field",
            "填写内容过多。",
            "Too many or too long field values.",
        ));
    }
    Ok(())
}

fn unknown_licence_reference() -> DemoError {
    DemoError::unprocessable(
        "unknown_licence_reference",
        "所附电子证照无法使用（已过期或不属于本人），请返回重新选择证照，或改用纸质材料。",
        "An attached e-licence cannot be used (expired, or not this citizen's); go back and \
         choose the licences again, or bring the paper documents.",
    )
}

/// Checks the e-licences a service request attaches: each entry is a reference from
/// `/v1/elicense/licences` issued for this citizen and still live. (Ticket references are not
/// accepted: the demo's carry the ID number, and the request's references are journaled in clear;
/// after consuming a ticket the kiosk lists the citizen's licences for a reference.)
fn check_elicense(c: &Connection, refs: &[String], id_number: Option<&str>) -> Res<()> {
    if refs.len() > MAX_LICENCES {
        return Err(unknown_licence_reference());
    }
    for r in refs {
        let r = r.trim();
        let Some(id) = id_number else {
            return Err(unknown_licence_reference());
        };
        let known = r.starts_with("lic_")
            && c.query_row(
                "SELECT COUNT(*) FROM licence_refs
                 WHERE reference = ?1 AND id_number = ?2 AND expires_at >= ?3",
                params![r, id, now()],
                |row| row.get::<_, i64>(0),
            )? > 0;
        if !known {
            return Err(unknown_licence_reference());
        }
    }
    Ok(())
}

fn face_confirmed(conn: &Connection, check_id: Option<&str>) -> Res<bool> {
    let Some(id) = check_id else { return Ok(false) };
    let st: Option<String> = conn
        .query_row(
            "SELECT status FROM face_checks WHERE check_id = ?1",
            params![id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(st.as_deref() == Some("confirmed"))
}

fn pick_slot(s: &Service, req: &api::ServiceRequest) -> Res<api::Slot> {
    let today = Utc::now().date_naive();
    if let Some(slot_id) = req.fields.get("slot_id") {
        let date = slot_id
            .get(..10)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        let found = date.and_then(|d| {
            data::slots(s, d)
                .into_iter()
                .find(|x| &x.slot_id == slot_id)
        });
        return match found {
            Some(x) if x.available => Ok(x),
            Some(_) => Err(DemoError::new(
                StatusCode::CONFLICT,
                "slot_taken",
                "该时段已约满，请选择其他时段。",
                "That slot is taken; choose another.",
                false,
            )),
            None => Err(DemoError::unprocessable(
                "unknown_slot",
                "没有这个预约时段。",
                "No such slot; list them with GET /v1/services/{id}/slots?date=.",
            )),
        };
    }
    let mut date = req
        .fields
        .get("date")
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .filter(|d| *d > today)
        .unwrap_or_else(|| data::next_working_day(today));
    let office = req.fields.get("office");
    for _ in 0..14 {
        if let Some(x) = data::slots(s, date)
            .into_iter()
            .find(|x| x.available && office.is_none_or(|o| &x.office == o))
        {
            return Ok(x);
        }
        date = data::next_working_day(date);
    }
    Err(DemoError::new(
        StatusCode::CONFLICT,
        "no_slots",
        "近期没有可预约的时段，请到窗口咨询。",
        "No free slots soon; please ask at a counter.",
        false,
    ))
}

/// The idempotency hash of a service request: the body with the subject replaced by the person
/// it stands for, so a re-send carrying a new subject token for the same person is the same call.
fn request_hash(st: &DemoState, req: &api::ServiceRequest) -> Res<String> {
    let mut canon = req.clone();
    if let Some(sub) = &req.subject {
        let id = {
            let c = st.db.lock().map_err(|_| DemoError::internal("lock"))?;
            subject_id(&c, sub)?
        };
        canon.subject = Some(api::Subject {
            id_number: Some(body_hash(id.as_bytes())),
            subject_token: None,
            kind: sub.kind,
            proxy: sub.proxy,
        });
    }
    let bytes = serde_json::to_vec(&canon).map_err(DemoError::internal)?;
    Ok(body_hash(&bytes))
}

async fn service_request(
    State(st): State<Shared>,
    Path(service_id): Path<String>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Res<Response> {
    let body = body_bytes(body)?;
    let s = service(&st, &service_id)?;
    let req: api::ServiceRequest = parse(&body)?;
    let base = base_url(&st, &h);
    let hash = request_hash(&st, &req)?;
    once(&st, &h, &format!("requests:{}", s.id), hash, |c| {
        let id_number = match &req.subject {
            Some(sub) => Some(subject_id(c, sub)?),
            None if s.auth == Auth::None => None,
            None => {
                return Err(DemoError::unprocessable(
                    "subject_required",
                    "办理此业务需要先认证身份。",
                    "This service needs the citizen identified first.",
                ))
            }
        };
        if let (Some(sub), Auth::IdCardFace) = (&req.subject, s.auth) {
            if sub.kind != api::SubjectKind::Code
                && !face_confirmed(c, req.face_check_id.as_deref())?
            {
                return Err(DemoError::new(
                    StatusCode::CONFLICT,
                    "face_check_required",
                    "此业务需要刷脸认证：请用手机扫码完成刷脸，或出示粤省事身份码。",
                    "This service needs a face check: scan the QR with your phone, or show an \
                     identity code.",
                    false,
                ));
            }
        }
        if s.commitment && !req.commitment_accepted {
            return Err(DemoError::unprocessable(
                "commitment_required",
                "办理此业务需要同意告知承诺。",
                "This service needs the commitment accepted.",
            ));
        }
        check_fields(s, &req)?;
        check_elicense(c, &req.elicense, id_number.as_deref())?;
        let person = id_number.as_deref().map(check_id).transpose()?;
        let masked_id = id_number.as_deref().map(masked).unwrap_or_default();
        let n = store::next(c, "request")?;
        let request_id = format!("rq_{n:06}");
        let today = Utc::now();
        let reference = format!("YZ{}{n:06}", today.format("%Y%m%d"));
        // The result page is reached only through this link: an unguessable view token next
        // to the (sequential) request id, checked by `result_page`.
        let view = new_token()?.replacen("st_", "v_", 1);
        c.execute(
            "INSERT INTO result_views (request_id, view) VALUES (?1, ?2)",
            params![request_id, view],
        )?;
        let handoff = format!("{base}/r/{request_id}/{view}");
        let who = person.as_ref().map(|p| (p, masked_id.as_str()));
        let category = st.catalog.category(&s.category);
        let (status, result) = match s.output {
            Output::Screen => (
                api::RequestStatus::Completed,
                api::ServiceResult::Screen(data::screen(s, category, who, &req.fields)),
            ),
            Output::Print => {
                let sc = data::screen(s, category, who, &req.fields);
                (
                    api::RequestStatus::Completed,
                    api::ServiceResult::Print(data::print(sc, s, &reference, handoff.clone())),
                )
            }
            Output::Submit => (
                api::RequestStatus::Accepted,
                api::ServiceResult::Submit(data::submit(s, &reference)),
            ),
            Output::Pay => {
                let order_id = format!("od_{n:06}");
                let url = format!("{base}/demo/pay/{order_id}");
                let (p, _) = data::pay(s, person.as_ref(), &req.fields, &order_id, url);
                c.execute(
                    "INSERT INTO payments (order_id, request_id, amount, status, created_at)
                     VALUES (?1, ?2, ?3, 'pending', ?4)",
                    params![order_id, request_id, p.amount, now()],
                )?;
                (
                    api::RequestStatus::PaymentPending,
                    api::ServiceResult::Pay(p),
                )
            }
            Output::Appointment => {
                let slot = pick_slot(s, &req)?;
                (
                    api::RequestStatus::Completed,
                    api::ServiceResult::Appointment(data::appointment(s, slot, &reference)),
                )
            }
        };
        let resp = api::ServiceResponse {
            request_id: request_id.clone(),
            reference,
            service_id: s.id.clone(),
            status,
            result,
            handoff_url: handoff,
            created_at: today.to_rfc3339(),
        };
        let json = to_json(&resp)?;
        c.execute(
            "INSERT INTO requests (request_id, service_id, response, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![request_id, s.id, json.to_string(), resp.created_at],
        )?;
        tracing::info!(service = %s.id, request = %request_id, "demo platform: request");
        Ok((StatusCode::OK, json))
    })
}

fn payment_row(c: &Connection, order_id: &str) -> Res<api::Payment> {
    let row: Option<(String, String, String, i64)> = c
        .query_row(
            "SELECT request_id, amount, status, created_at FROM payments WHERE order_id = ?1",
            params![order_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((request_id, amount, status, created)) = row else {
        return Err(DemoError::not_found(
            "unknown_order",
            "没有这笔订单。",
            "No such order.",
        ));
    };
    let status = match status.as_str() {
        "paid" => api::PaymentState::Paid,
        "cancelled" => api::PaymentState::Cancelled,
        _ if now() - created > PAYMENT_TTL => api::PaymentState::Expired,
        _ => api::PaymentState::Pending,
    };
    Ok(api::Payment {
        order_id: order_id.into(),
        request_id,
        status,
        amount,
    })
}

fn load_request(c: &Connection, request_id: &str) -> Res<api::ServiceResponse> {
    let text: Option<String> = c
        .query_row(
            "SELECT response FROM requests WHERE request_id = ?1",
            params![request_id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(text) = text else {
        return Err(DemoError::not_found(
            "unknown_request",
            "没有这笔业务。",
            "No such request.",
        ));
    };
    let mut resp: api::ServiceResponse =
        serde_json::from_str(&text).map_err(DemoError::internal)?;
    if let api::ServiceResult::Pay(p) = &resp.result {
        if payment_row(c, &p.order_id)?.status == api::PaymentState::Paid {
            resp.status = api::RequestStatus::Completed;
        }
    }
    Ok(resp)
}

async fn get_request(
    State(st): State<Shared>,
    Path(id): Path<String>,
) -> Res<Json<api::ServiceResponse>> {
    let c = st.db.lock().map_err(|_| DemoError::internal("lock"))?;
    Ok(Json(load_request(&c, &id)?))
}

async fn payment(State(st): State<Shared>, Path(id): Path<String>) -> Res<Json<api::Payment>> {
    let c = st.db.lock().map_err(|_| DemoError::internal("lock"))?;
    Ok(Json(payment_row(&c, &id)?))
}

async fn cancel_payment(
    State(st): State<Shared>,
    Path(id): Path<String>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Res<Response> {
    let body = body_bytes(body)?;
    once(&st, &h, &format!("cancel:{id}"), body_hash(&body), |c| {
        let p = payment_row(c, &id)?;
        if p.status == api::PaymentState::Paid {
            return Err(DemoError::new(
                StatusCode::CONFLICT,
                "already_paid",
                "订单已支付，无法取消。",
                "The order is already paid and cannot be cancelled.",
                false,
            ));
        }
        c.execute(
            "UPDATE payments SET status = 'cancelled' WHERE order_id = ?1",
            params![id],
        )?;
        Ok((StatusCode::OK, to_json(&payment_row(c, &id)?)?))
    })
}

async fn start_face_check(
    State(st): State<Shared>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Res<Response> {
    let body = body_bytes(body)?;
    let req: api::FaceCheckRequest = parse(&body)?;
    service(&st, &req.service_id)?;
    let base = base_url(&st, &h);
    once(&st, &h, "face-checks", body_hash(&body), |c| {
        subject_id(c, &req.subject)?;
        let n = store::next(c, "face")?;
        let check_id = format!("fc_{n:06}");
        c.execute(
            "INSERT INTO face_checks (check_id, service_id, status, created_at) VALUES (?1, ?2, 'pending', ?3)",
            params![check_id, req.service_id, now()],
        )?;
        let out = api::FaceCheck {
            url: format!("{base}/demo/face/{check_id}"),
            check_id,
            status: api::FaceCheckState::Pending,
        };
        Ok((StatusCode::OK, to_json(&out)?))
    })
}

fn face_row(c: &Connection, id: &str) -> Res<api::FaceCheckStatus> {
    let row: Option<(String, i64)> = c
        .query_row(
            "SELECT status, created_at FROM face_checks WHERE check_id = ?1",
            params![id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((status, created)) = row else {
        return Err(DemoError::not_found(
            "unknown_face_check",
            "没有这次刷脸认证。",
            "No such face check.",
        ));
    };
    let status = match status.as_str() {
        "confirmed" => api::FaceCheckState::Confirmed,
        "refused" => api::FaceCheckState::Refused,
        _ if now() - created > FACE_TTL => api::FaceCheckState::Expired,
        _ => api::FaceCheckState::Pending,
    };
    Ok(api::FaceCheckStatus {
        check_id: id.into(),
        status,
    })
}

async fn face_check(
    State(st): State<Shared>,
    Path(id): Path<String>,
) -> Res<Json<api::FaceCheckStatus>> {
    let c = st.db.lock().map_err(|_| DemoError::internal("lock"))?;
    Ok(Json(face_row(&c, &id)?))
}

#[derive(Deserialize)]
struct DateQuery {
    date: Option<String>,
}

async fn slots(
    State(st): State<Shared>,
    Path(service_id): Path<String>,
    Query(q): Query<DateQuery>,
) -> Res<Json<Vec<api::Slot>>> {
    let s = service(&st, &service_id)?;
    let date = match q.date.as_deref() {
        None => data::next_working_day(Utc::now().date_naive()),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            DemoError::bad_request("bad_date", "日期格式不正确。", "date must be YYYY-MM-DD.")
        })?,
    };
    Ok(Json(data::slots(s, date)))
}

/// Opens a link as the citizen's phone would (a payment or face-check page of this demo
/// platform): one GET, success when it answers 2xx. For `zizhu flow run --sample` and the
/// simulated kiosk's "phone" button.
pub fn open_link(url: &str) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let r = reqwest::Client::new()
            .get(url)
            .timeout(std::time::Duration::from_secs(10))
            .send()
            .await?;
        anyhow::ensure!(
            r.status().is_success(),
            "opening {url}: HTTP {}",
            r.status()
        );
        Ok(())
    })
}

/// What a demo ticket reference stands for: hex of `<licence-type>:<id number>` (or that text).
pub fn ticket_content(reference: &str) -> Option<(String, String)> {
    let text = hex::decode(reference.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_else(|| reference.trim().to_string());
    let (t, id) = text.split_once(':')?;
    Some((t.to_string(), id.to_string()))
}

async fn consume_ticket(
    State(st): State<Shared>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Res<Response> {
    let body = body_bytes(body)?;
    let req: api::TicketRequest = parse(&body)?;
    let unknown = || {
        DemoError::not_found(
            "unknown_ticket",
            "证照码无效，请在手机上刷新后重新出示。",
            "This e-licence ticket is not known; refresh the code on the phone.",
        )
    };
    let (lt, id) = ticket_content(&req.ticket).ok_or_else(unknown)?;
    let licence = st.catalog.licence(&lt).ok_or_else(unknown)?;
    let p = check_id(&id)?;
    once(&st, &h, "tickets", body_hash(&body), |c| {
        let fresh = c.execute(
            "INSERT OR IGNORE INTO tickets (ticket, used_at) VALUES (?1, ?2)",
            params![req.ticket.trim(), now()],
        )?;
        if fresh == 0 {
            return Err(DemoError::new(
                StatusCode::CONFLICT,
                "ticket_used",
                "该证照码已使用，请在手机上重新亮证。",
                "This ticket was already used; show a new code from the phone.",
                false,
            ));
        }
        let (token, _) = issue_subject(c, &id)?;
        let mut fields = std::collections::BTreeMap::new();
        fields.insert("证照名称".to_string(), licence.zh.clone());
        fields.insert("持证人".to_string(), data::mask_name(&p.name));
        fields.insert("签发地".to_string(), p.region.clone());
        let mut rng = data::Rng::new(&p.seed, &lt);
        let out = api::TicketLicence {
            licence_type: lt.clone(),
            identifier: format!("{}-{:010}", lt.to_uppercase(), rng.below(10_000_000_000)),
            holder_masked: masked(&id),
            subject_token: token,
            fields,
        };
        Ok((StatusCode::OK, to_json(&out)?))
    })
}

fn new_reference() -> Res<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(DemoError::internal)?;
    Ok(format!("lic_{}", hex::encode(b)))
}

/// `POST /v1/elicense/licences`: the requested types the citizen holds, each with a fresh
/// reference (recorded for this citizen) to attach it to a service request.
async fn licences(
    State(st): State<Shared>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Res<Response> {
    let body = body_bytes(body)?;
    let req: api::LicenceRequest = parse(&body)?;
    service(&st, &req.service_id)?;
    if req.types.len() > MAX_LICENCES {
        return Err(DemoError::bad_request(
            "bad_request",
            "请求的证照类型过多。",
            format!("Ask for at most {MAX_LICENCES} licence types per call."),
        ));
    }
    once(&st, &h, "licences", body_hash(&body), |c| {
        let id = subject_id(c, &req.subject)?;
        let person = check_id(&id)?;
        let held = data::holdings(&person, Utc::now().date_naive());
        let mut wanted: Vec<&data::Holding> = Vec::new();
        if req.types.is_empty() {
            wanted.extend(held.iter());
        } else {
            for t in &req.types {
                if let Some(h) = held.iter().find(|h| h.licence_type.id == t.trim()) {
                    if !wanted
                        .iter()
                        .any(|w| w.licence_type.id == h.licence_type.id)
                    {
                        wanted.push(h);
                    }
                }
            }
        }
        let mut out = Vec::new();
        for h in wanted {
            let Some(cat) = st.catalog.licence(h.licence_type.id) else {
                continue;
            };
            let reference = new_reference()?;
            c.execute(
                "INSERT INTO licence_refs (reference, id_number, licence_type, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![reference, id, cat.id, now() + LICENCE_REF_TTL],
            )?;
            out.push(api::HeldLicence {
                licence_type: cat.id.clone(),
                name_zh: cat.zh.clone(),
                name_en: cat.en.clone(),
                identifier_masked: masked(&h.identifier),
                reference,
                valid_to: h.valid_to.clone(),
            });
        }
        tracing::info!(service = %req.service_id, held = out.len(), "demo platform: licences");
        Ok((
            StatusCode::OK,
            to_json(&api::LicenceList { licences: out })?,
        ))
    })
}

/// A code as the government app would show it: an `EL1:` presentation or `ET1:` ticket of a
/// licence the synthetic person holds, signed by the demo issuer. Identity presentations carry a
/// fresh subject token in `sd.subject_token`.
fn make_code(st: &DemoState, req: &api::DemoCodeRequest) -> Res<api::DemoCode> {
    let person = check_id(&req.id_number)?;
    let id = req.id_number.trim().to_ascii_uppercase();
    let Some(cat) = st.catalog.licence(req.licence.trim()) else {
        return Err(DemoError::unprocessable(
            "unknown_licence_type",
            "没有这种电子证照。",
            format!(
                "No such licence type; use a catalog licence id: {}.",
                st.catalog
                    .licences()
                    .iter()
                    .map(|l| l.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    let alg_name = req.alg.as_deref().unwrap_or("sm2");
    let Some(alg) = elicense::Alg::parse(alg_name) else {
        return Err(DemoError::bad_request(
            "bad_request",
            "签名算法不正确。",
            "alg must be es256 or sm2.",
        ));
    };
    let held = data::holdings(&person, Utc::now().date_naive());
    let Some(holding) = held.iter().find(|h| h.licence_type.id == cat.id) else {
        let names: Vec<String> = held
            .iter()
            .filter_map(|h| st.catalog.licence(h.licence_type.id))
            .map(|l| l.id.clone())
            .collect();
        return Err(DemoError::not_found(
            "licence_not_held",
            "此人没有这种电子证照，请选择其持有的证照。",
            &format!(
                "This synthetic person holds no {}; choose one they hold: {}.",
                cat.id,
                names.join(", ")
            ),
        ));
    };
    let issuer = elicense::demo::issuer(alg).map_err(DemoError::internal)?;
    let iat = now();
    match req.kind {
        api::DemoCodeKind::Ticket => {
            let reference = format!("{}:{id}", cat.id);
            let payload = elicense::issue_ticket(&issuer, reference.as_bytes(), iat, TICKET_TTL)
                .map_err(DemoError::internal)?;
            Ok(api::DemoCode {
                payload,
                expires_at: iat + TICKET_TTL,
            })
        }
        api::DemoCodeKind::Presentation => {
            let mut licence = elicense::Licence::default();
            if holding.licence_type.id == elicense::types::IDENTITY_CARD.id {
                let c = st.db.lock().map_err(|_| DemoError::internal("lock"))?;
                let (token, _) = issue_subject(&c, &id)?;
                licence.disclosed.push(elicense::Field {
                    name: elicense::SUBJECT_TOKEN_FIELD.into(),
                    value: token,
                });
            }
            licence.licence_type = holding.licence_type.code.into();
            licence.identifier = holding.identifier.clone();
            licence.holder_name = Some(data::mask_name(&person.name));
            licence.holder_id = Some(masked(&id));
            licence.holder_id_type = Some("111".into());
            licence.org_name = Some(holding.org_name.clone());
            licence.org_code = Some(data::DEMO_ISSUING_ORG.into());
            licence.issued = Some(holding.issued.clone());
            licence.valid_to = holding.valid_to.clone();
            let claims = elicense::PresentationClaims {
                licence,
                iat,
                ttl: PRESENTATION_TTL,
                aud: None,
                cti: None,
            };
            let payload =
                elicense::issue_presentation(&issuer, &claims).map_err(DemoError::internal)?;
            Ok(api::DemoCode {
                payload,
                expires_at: iat + PRESENTATION_TTL,
            })
        }
    }
}

async fn demo_elicense(
    State(st): State<Shared>,
    body: Result<Bytes, BytesRejection>,
) -> Res<Json<api::DemoCode>> {
    let body = body_bytes(body)?;
    let req: api::DemoCodeRequest = parse(&body)?;
    Ok(Json(make_code(&st, &req)?))
}

#[derive(Deserialize)]
struct CodeQuery {
    licence: Option<String>,
    kind: Option<String>,
    alg: Option<String>,
}

/// The QR page a person opens on a second screen or phone to show a demo code to a real scanner.
async fn demo_elicense_page(
    State(st): State<Shared>,
    Path(id_number): Path<String>,
    Query(q): Query<CodeQuery>,
) -> Response {
    let kind = match q.kind.as_deref() {
        Some("ticket") => api::DemoCodeKind::Ticket,
        _ => api::DemoCodeKind::Presentation,
    };
    let req = api::DemoCodeRequest {
        id_number,
        licence: q.licence.unwrap_or_else(|| "identity".into()),
        kind,
        alg: q.alg,
    };
    let code = match make_code(&st, &req) {
        Ok(c) => c,
        Err(e) => {
            let body = format!(
                "<p>{}</p><p>{}</p>",
                escape(&e.error.message_zh),
                escape(&e.error.message_en)
            );
            return (e.status, page("无法生成证照码 / No code", &body)).into_response();
        }
    };
    let svg =
        qrcode::QrCode::with_error_correction_level(code.payload.as_bytes(), qrcode::EcLevel::M)
            .map(|qr| {
                qr.render::<qrcode::render::svg::Color<'_>>()
                    .min_dimensions(360, 360)
                    .quiet_zone(true)
                    .build()
            })
            .map(|svg| match svg.find("<svg") {
                Some(i) => svg[i..].to_string(),
                None => svg,
            })
            .unwrap_or_default();
    let ttl = code.expires_at - now();
    // Reload 30 s before expiry (the kiosk tolerates 60 s of skew past it).
    let refresh = (ttl - 30).max(5);
    let name = st
        .catalog
        .licence(&req.licence)
        .map(|l| format!("{} / {}", l.zh, l.en))
        .unwrap_or_default();
    let what = match kind {
        api::DemoCodeKind::Presentation => "亮证码 / presentation (EL1)",
        api::DemoCodeKind::Ticket => "在线核验码 / online ticket (ET1)",
    };
    let until = chrono::DateTime::from_timestamp(code.expires_at, 0)
        .map(|d| d.format("%H:%M:%S UTC").to_string())
        .unwrap_or_default();
    let body = format!(
        "<p>{what}</p><div>{svg}</div>\
         <p>有效至 Valid until {until}；页面每 {refresh} 秒自动刷新 / this page refreshes every \
         {refresh} s.</p>\
         <p>演示数据，仅供测试。Synthetic demo data, for testing only.</p>\
         <details><summary>码文本 / Payload text</summary>\
         <pre style=\"white-space:pre-wrap;word-break:break-all\">{}</pre></details>",
        escape(&code.payload)
    );
    let html = page_with_head(
        &format!("{name} — 演示证照码 / Demo code"),
        &format!("<meta http-equiv=\"refresh\" content=\"{refresh}\">"),
        &body,
    );
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        html,
    )
        .into_response()
}

async fn evaluate(
    State(st): State<Shared>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Res<Response> {
    let body = body_bytes(body)?;
    let ev: api::Evaluation = parse(&body)?;
    if !(1..=5).contains(&ev.level) {
        return Err(DemoError::unprocessable(
            "bad_level",
            "评价等级应为1到5。",
            "level must be 1 (very dissatisfied) to 5 (very satisfied).",
        ));
    }
    if ev.request_id.is_empty() || ev.reasons.len() > 16 {
        return Err(DemoError::unprocessable(
            "bad_evaluation",
            "评价内容不完整。",
            "An evaluation names its request_id and at most 16 reasons.",
        ));
    }
    once(&st, &h, "evaluations", body_hash(&body), |c| {
        let n = store::next(c, "evaluation")?;
        let evaluation_id = format!("ev_{n:06}");
        c.execute(
            "INSERT INTO evaluations (evaluation_id, request_id, service_id, level, reasons)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                evaluation_id,
                ev.request_id,
                ev.service_id,
                ev.level,
                ev.reasons.join(",")
            ],
        )?;
        Ok((
            StatusCode::OK,
            to_json(&api::EvaluationAck { evaluation_id })?,
        ))
    })
}

// ---------------------------------------------------------------------------------------------
// Demo pages

async fn get_faults(State(st): State<Shared>) -> Json<Faults> {
    Json(st.faults())
}

async fn set_faults(
    State(st): State<Shared>,
    body: Result<Bytes, BytesRejection>,
) -> Res<Json<Faults>> {
    let body = body_bytes(body)?;
    let f: Faults = parse(&body)?;
    if !(0.0..=1.0).contains(&f.error_rate) || f.latency_ms > 600_000 {
        return Err(DemoError::unprocessable(
            "bad_faults",
            "故障参数不正确。",
            "error_rate is 0.0-1.0 and latency_ms at most 600000.",
        ));
    }
    tracing::info!(?f, "demo platform: faults");
    st.set_faults(f.clone());
    Ok(Json(f))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, body: &str) -> Html<String> {
    page_with_head(title, "", body)
}

fn page_with_head(title: &str, head: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">{head}<title>{t}</title></head>\
         <body style=\"font-family:sans-serif;max-width:40em;margin:1em auto\"><h1>{t}</h1>{body}\
         </body></html>",
        t = escape(title)
    ))
}

async fn demo_pay(State(st): State<Shared>, Path(id): Path<String>) -> Res<Html<String>> {
    let c = st.db.lock().map_err(|_| DemoError::internal("lock"))?;
    let p = payment_row(&c, &id)?;
    if p.status == api::PaymentState::Pending {
        c.execute(
            "UPDATE payments SET status = 'paid' WHERE order_id = ?1",
            params![id],
        )?;
    }
    let p = payment_row(&c, &id)?;
    let (zh, en) = match p.status {
        api::PaymentState::Paid => ("支付成功", "Paid"),
        api::PaymentState::Cancelled => ("订单已取消", "Cancelled"),
        api::PaymentState::Expired => ("订单已过期", "Expired"),
        api::PaymentState::Pending => ("待支付", "Pending"),
    };
    Ok(page(
        &format!("{zh} / {en}"),
        &format!(
            "<p>订单 Order {} — ¥{}</p>",
            escape(&p.order_id),
            escape(&p.amount)
        ),
    ))
}

#[derive(Deserialize)]
struct FaceQuery {
    refuse: Option<String>,
}

async fn demo_face(
    State(st): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<FaceQuery>,
) -> Res<Html<String>> {
    let c = st.db.lock().map_err(|_| DemoError::internal("lock"))?;
    let f = face_row(&c, &id)?;
    if f.status == api::FaceCheckState::Pending {
        let to = if q.refuse.is_some() {
            "refused"
        } else {
            "confirmed"
        };
        c.execute(
            "UPDATE face_checks SET status = ?2 WHERE check_id = ?1",
            params![id, to],
        )?;
    }
    let f = face_row(&c, &id)?;
    let (zh, en) = match f.status {
        api::FaceCheckState::Confirmed => ("刷脸认证通过", "Face check passed"),
        api::FaceCheckState::Refused => ("刷脸认证未通过", "Face check refused"),
        api::FaceCheckState::Expired => ("认证已过期", "Expired"),
        api::FaceCheckState::Pending => ("等待认证", "Pending"),
    };
    Ok(page(
        &format!("{zh} / {en}"),
        "<p>请回到自助机继续办理。Go back to the kiosk.</p>",
    ))
}

/// `/r/{request_id}` without its view token: no such page (as for an unknown id).
async fn no_page() -> DemoError {
    not_found_page()
}

fn not_found_page() -> DemoError {
    DemoError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "没有这个页面。",
        "No such page.",
        false,
    )
}

async fn result_page(
    State(st): State<Shared>,
    Path((id, view)): Path<(String, String)>,
) -> Res<Html<String>> {
    let c = st.db.lock().map_err(|_| DemoError::internal("lock"))?;
    // Without the request's own view token the page does not exist (the same answer as an
    // unknown id, so ids cannot be probed either).
    let known: Option<String> = c
        .query_row(
            "SELECT view FROM result_views WHERE request_id = ?1",
            params![id],
            |r| r.get(0),
        )
        .optional()?;
    let same = known.is_some_and(|k| {
        use subtle::ConstantTimeEq;
        k.len() == view.len() && bool::from(k.as_bytes().ct_eq(view.as_bytes()))
    });
    if !same {
        return Err(not_found_page());
    }
    let r = load_request(&c, &id)?;
    let mut body = format!(
        "<p>业务编号 Reference: <b>{}</b></p><table>",
        escape(&r.reference)
    );
    let items: Vec<api::Item> = match &r.result {
        api::ServiceResult::Screen(s) => s.items.clone(),
        api::ServiceResult::Print(p) => p.screen.items.clone(),
        api::ServiceResult::Pay(p) => p.items.clone(),
        api::ServiceResult::Submit(s) => vec![api::Item {
            label_zh: "下一步".into(),
            label_en: "Next steps".into(),
            value: s.next_steps_zh.clone(),
            speak: false,
        }],
        api::ServiceResult::Appointment(a) => vec![api::Item {
            label_zh: "预约时段".into(),
            label_en: "Slot".into(),
            value: format!("{} {} – {}", a.office_zh, a.slot.start, a.slot.end),
            speak: false,
        }],
    };
    for i in items {
        body.push_str(&format!(
            "<tr><td>{} / {}</td><td>{}</td></tr>",
            escape(&i.label_zh),
            escape(&i.label_en),
            escape(&i.value)
        ));
    }
    body.push_str("</table>");
    let title = st
        .catalog
        .service(&r.service_id)
        .map(|s| format!("{} / {}", s.zh, s.en))
        .unwrap_or_else(|| r.service_id.clone());
    Ok(page(&title, &body))
}

// ---------------------------------------------------------------------------------------------
// Running

/// Serves until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Shared,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A running demo platform on its own thread; stops when dropped.
pub struct DemoHandle {
    addr: SocketAddr,
    state: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for DemoHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoHandle")
            .field("addr", &self.addr)
            .finish()
    }
}

impl DemoHandle {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's state (faults, counts) for tests.
    pub fn state(&self) -> &DemoState {
        &self.state
    }
}

impl Drop for DemoHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the demo platform with an optional database file.
pub fn spawn(listen: SocketAddr, db: Option<PathBuf>) -> anyhow::Result<DemoHandle> {
    spawn_with(
        listen,
        DemoOptions {
            db,
            ..DemoOptions::default()
        },
    )
}

/// Starts the demo platform on its own thread and tokio runtime.
pub fn spawn_with(listen: SocketAddr, opts: DemoOptions) -> anyhow::Result<DemoHandle> {
    let std_listener = std::net::TcpListener::bind(listen)
        .map_err(|e| anyhow::anyhow!("binding the demo platform to {listen}: {e}"))?;
    std_listener.set_nonblocking(true)?;
    let addr = std_listener.local_addr()?;
    let state = Arc::new(DemoState::new(addr, opts)?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("demo-platform")
        .enable_all()
        .build()?;
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let st = state.clone();
    let listener = {
        let _g = rt.enter();
        tokio::net::TcpListener::from_std(std_listener)?
    };
    let thread = std::thread::Builder::new()
        .name("demo-platform".into())
        .spawn(move || {
            let r = rt.block_on(serve(listener, st, async {
                let _ = rx.await;
            }));
            if let Err(e) = r {
                tracing::error!("demo platform stopped: {e}");
            }
            rt.shutdown_timeout(std::time::Duration::from_secs(1));
        })?;
    tracing::info!(%addr, "demo platform listening");
    Ok(DemoHandle {
        addr,
        state,
        stop: Some(stop),
        thread: Some(thread),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::client::{new_key, Client, ClientConfig};

    #[test]
    fn every_service_answers_with_sample_values() {
        let demo = spawn("127.0.0.1:0".parse().expect("addr"), None).expect("demo");
        let client = Client::new(ClientConfig::new(demo.url(), "t", "k1")).expect("client");
        let id = "11010519491231002X";
        let tok = client
            .subject(&api::SubjectRequest {
                id_number: id.into(),
                kind: api::SubjectKind::IdCard,
            })
            .expect("subject");
        for s in Catalog::builtin().services() {
            let mut req = api::ServiceRequest {
                subject: (s.auth != Auth::None).then(|| {
                    api::Subject::token(tok.subject_token.clone(), api::SubjectKind::Code, s.proxy)
                }),
                fields: s
                    .fields
                    .iter()
                    .map(|f| (f.key.clone(), f.example.clone()))
                    .collect(),
                elicense: vec![],
                face_check_id: None,
                commitment_accepted: true,
                lang: Default::default(),
            };
            if s.output == Output::Appointment {
                req.fields.remove("date");
            }
            let r = client
                .submit(&s.id, &new_key().expect("key"), &req)
                .unwrap_or_else(|e| panic!("{}: {e}", s.id));
            assert_eq!(r.service_id, s.id);
        }
    }
}
