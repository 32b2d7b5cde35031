//! The demo platform (`zizhu platform`, and in-process under `zizhu run` with no config): every
//! endpoint of docs/platform-api.md over axum, with deterministic synthetic data for every catalog
//! service ([`data`]), idempotency keys honoured from a SQLite store ([`store`]), and fault
//! injection for tests (latency, error rate, dropped answers, "down"), switchable at run time with
//! `POST /demo/faults`. It also plays the government app for synthetic people: `POST
//! /demo/elicense` and the page `GET /demo/elicense/{id_number}` make `EL1:`/`ET1:` codes signed
//! by the demo issuer (`elicense::demo`), and `POST /v1/elicense/licences` lists the e-licences
//! they hold (免证办).
//!
//! One module per endpoint group: `reference` (health, catalog, trust list), `request` (what
//! every state-changing endpoint shares: idempotency, bodies), `subjects` (subject tokens,
//! identity codes), `services` (service requests, payments, face checks, slots), `licences`
//! (e-licence tickets and held licences, the demo government app), `evaluations` (ratings),
//! `help` (help requests from kiosks, the site staff's page),
//! `pages` (the pages a phone opens, the fault switch) and `server` (running it).
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

mod evaluations;
mod help;
mod licences;
mod pages;
mod reference;
mod request;
mod server;
mod services;
mod subjects;
use evaluations::*;
use help::*;
pub use licences::*;
pub use pages::*;
use reference::*;
use request::*;
pub use server::*;
use services::*;
pub use subjects::*;

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
    /// A signed catalog bundle served at `/v1/catalog/bundle` from the start (404 until one is
    /// published when absent).
    pub catalog_bundle: Option<Vec<u8>>,
    /// Faults from the start.
    pub faults: Faults,
}

/// Shared state of the server.
pub struct DemoState {
    db: Mutex<Connection>,
    faults: RwLock<Faults>,
    token: Option<String>,
    trust_list: Option<(Vec<u8>, String)>,
    /// The published catalog bundle: its bytes, ETag and sequence.
    catalog_bundle: RwLock<Option<Published>>,
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
        let catalog_bundle =
            match opts.catalog_bundle {
                Some(b) => Some(Published::new(b).map_err(|e| {
                    anyhow::anyhow!("the catalog bundle to serve cannot be read: {e}")
                })?),
                None => None,
            };
        Ok(DemoState {
            db: Mutex::new(db),
            faults: RwLock::new(opts.faults),
            token: opts.token.filter(|t| !t.is_empty()),
            trust_list: opts.trust_list.map(|b| {
                let e = etag(&b);
                (b, e)
            }),
            catalog_bundle: RwLock::new(catalog_bundle),
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

    /// Rows in a table of the store (`requests`, `evaluations`, `payments`, `help`), or `paid`
    /// for the payments that were paid.
    pub fn count(&self, table: &str) -> i64 {
        self.db
            .lock()
            .ok()
            .and_then(|c| store::count(&c, table).ok())
            .unwrap_or(-1)
    }

    /// Every stored request with how its citizen was identified and the helper's staff number
    /// (tests of assisted visits).
    pub fn assisted(&self) -> Vec<store::Assisted> {
        self.db
            .lock()
            .ok()
            .and_then(|c| store::assisted(&c).ok())
            .unwrap_or_default()
    }

    /// The helpers' ratings stored with evaluations: (evaluation id, staff id, level).
    pub fn staff_ratings(&self) -> Vec<(String, String, Option<u8>)> {
        self.db
            .lock()
            .ok()
            .and_then(|c| store::staff_ratings(&c).ok())
            .unwrap_or_default()
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
        .route(
            "/v1/catalog/bundle",
            get(catalog_bundle)
                .put(publish_catalog_bundle)
                .layer(DefaultBodyLimit::max(crate::catalog::bundle::MAX_BUNDLE)),
        )
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
        .route("/v1/help", get(list_help).post(raise_help))
        .route("/v1/help/cancel", post(cancel_help))
        .route("/v1/help/{help_id}", get(get_help))
        .route("/v1/help/{help_id}/ack", post(ack_help))
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
        .route("/demo/help", get(help_page))
        .route("/demo/help/{help_id}/ack", post(help_page_ack))
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
    let path = req.uri().path();
    if let Some(id) = path
        .strip_prefix("/v1/services/")
        .and_then(|r| r.strip_suffix("/requests"))
    {
        if f.down_services.iter().any(|d| d == id) {
            return DemoError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service_down",
                "该事项的办事系统暂时不可用，请稍后再试。",
                "This service's system is down for now; please try again later.",
                true,
            )
            .into_response();
        }
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
                identity_method: None,
                staff_id: None,
            };
            if s.output == Output::Appointment {
                req.fields.remove("date");
            }
            let r = client.submit(&s.id, &new_key().expect("key"), &req);
            if s.is_one_thing() {
                // Filed to each member instead (they are in this loop too).
                let e = r.expect_err("a one-thing has no desk of its own");
                assert_eq!(e.code(), Some("file_to_members"), "{}", s.id);
                continue;
            }
            let r = r.unwrap_or_else(|e| panic!("{}: {e}", s.id));
            assert_eq!(r.service_id, s.id);
        }
    }
}
