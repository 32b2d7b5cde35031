//! The kiosk's platform client: reqwest (rustls) behind a blocking facade, with a per-kiosk bearer
//! token, a per-request timeout, a cap on response size, and retries with exponential backoff for
//! idempotent calls only (GETs and calls carrying an `Idempotency-Key`).
//!
//! Each call is spawned on a tokio runtime and the calling thread waits on a channel, so it works
//! from any thread (the flow engine's workers, the outbox drain thread), even one that is itself
//! inside another tokio runtime. The runtime is the kiosk's one runtime
//! ([`Client::on_runtime`]), or, for a client used alone (a CLI command, a test), a one-worker
//! runtime of its own ([`Client::new`]).
use std::sync::mpsc;
use std::time::Duration;

use reqwest::{header, Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::api::{self, ApiError, ErrorBody};
use super::{PlatformError, Result};
use crate::text::Text;

/// Default cap on a response body (the catalog is the largest, a few hundred KiB).
pub const DEFAULT_MAX_RESPONSE: usize = 8 * 1024 * 1024;

/// How the client talks to the platform.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL, e.g. `http://127.0.0.1:8700` (paths `/v1/...` are appended).
    pub base_url: String,
    /// The kiosk's bearer token.
    pub token: String,
    /// The kiosk id sent as `X-Kiosk-Id`.
    pub kiosk_id: String,
    /// Timeout of one attempt (connect + answer).
    pub timeout: Duration,
    /// Attempts for idempotent calls (1 = no retry).
    pub attempts: u32,
    /// First backoff delay; doubled per retry, capped at 8×.
    pub backoff: Duration,
    /// Largest accepted response body in bytes.
    pub max_response: usize,
}

impl ClientConfig {
    /// Defaults: 8 s timeout, 3 attempts, 200 ms first backoff, 8 MiB cap.
    pub fn new(
        base_url: impl Into<String>,
        token: impl Into<String>,
        kiosk_id: impl Into<String>,
    ) -> ClientConfig {
        ClientConfig {
            base_url: base_url.into(),
            token: token.into(),
            kiosk_id: kiosk_id.into(),
            timeout: Duration::from_secs(8),
            attempts: 3,
            backoff: Duration::from_millis(200),
            max_response: DEFAULT_MAX_RESPONSE,
        }
    }
}

/// A resource fetched with an ETag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched<T> {
    /// `304 Not Modified`: what the kiosk has is current.
    NotModified,
    /// A new version.
    Fresh {
        /// Its ETag, for the next `If-None-Match`.
        etag: Option<String>,
        /// The body.
        body: T,
    },
}

/// A fresh idempotency key: 32 hex characters from the OS random source.
pub fn new_key() -> Result<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| PlatformError::Setup(format!("random source: {e}")))?;
    Ok(hex::encode(b))
}

/// The blocking platform client. Cheap to share behind an `Arc`; calls may run concurrently.
pub struct Client {
    cfg: ClientConfig,
    http: reqwest::Client,
    // The client's own runtime, when it has one. `Option` only so `Drop` can hand it to
    // `shutdown_background` (which never blocks, so a client may be dropped anywhere, even on
    // another runtime's thread).
    rt: Option<tokio::runtime::Runtime>,
    /// Where calls run: the own runtime's handle or the shared runtime's.
    handle: tokio::runtime::Handle,
}

impl Drop for Client {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.cfg.base_url)
            .field("kiosk_id", &self.cfg.kiosk_id)
            .finish_non_exhaustive()
    }
}

/// One call, fully described, so it can be repeated.
struct Call {
    method: Method,
    path: String,
    body: Option<Vec<u8>>,
    key: Option<String>,
    etag: Option<String>,
    /// The `X-Kiosk-Id` to send instead of the configured one (an outbox item's own).
    kiosk_id: Option<String>,
    /// The body's media type when it is not JSON.
    content_type: Option<&'static str>,
}

impl Call {
    fn idempotent(&self) -> bool {
        // PUT replaces a resource with the same bytes each time: safe to repeat.
        self.method == Method::GET || self.method == Method::PUT || self.key.is_some()
    }
}

/// A raw answer: status, ETag, body bytes.
struct Raw {
    status: StatusCode,
    etag: Option<String>,
    body: Vec<u8>,
}

impl Client {
    /// Builds a client with a one-worker runtime of its own. Fails on a bad URL or if the
    /// runtime cannot start.
    pub fn new(cfg: ClientConfig) -> Result<Client> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("platform-client")
            .enable_all()
            .build()
            .map_err(|e| PlatformError::Setup(format!("runtime: {e}")))?;
        let handle = rt.handle().clone();
        let mut client = Client::on_runtime(cfg, handle)?;
        client.rt = Some(rt);
        Ok(client)
    }

    /// Builds a client whose calls run on `runtime` (the kiosk's one runtime; it needs the IO
    /// and time drivers enabled). Fails on a bad URL. Calls made after that runtime has shut down
    /// fail with [`PlatformError::Setup`].
    pub fn on_runtime(cfg: ClientConfig, runtime: tokio::runtime::Handle) -> Result<Client> {
        let base = cfg.base_url.trim_end_matches('/').to_string();
        // The URL parser would drop tabs and newlines silently: the URL used must be the one
        // that was checked, so such a URL is refused here too, whatever checked it before.
        if let Err(m) = crate::config::check_url(&base) {
            return Err(PlatformError::Setup(format!("platform URL: {m}")));
        }
        let parsed = url::Url::parse(&base)
            .map_err(|e| PlatformError::Setup(format!("platform URL `{base}`: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(PlatformError::Setup(format!(
                "platform URL `{base}` must start with http:// or https://"
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout)
            .user_agent(concat!("zizhu/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PlatformError::Setup(format!("HTTP client: {e}")))?;
        Ok(Client {
            cfg: ClientConfig {
                base_url: base,
                ..cfg
            },
            http,
            rt: None,
            handle: runtime,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    /// `GET /v1/catalog` as TOML text (validate with `Catalog::parse`).
    pub fn catalog(&self, etag: Option<&str>) -> Result<Fetched<String>> {
        match self.get_bytes("/v1/catalog", etag)? {
            Fetched::NotModified => Ok(Fetched::NotModified),
            Fetched::Fresh { etag, body } => Ok(Fetched::Fresh {
                etag,
                body: String::from_utf8(body)
                    .map_err(|_| PlatformError::Malformed("catalog is not UTF-8".into()))?,
            }),
        }
    }

    /// `GET /v1/catalog/bundle`: the signed catalog bundle the platform publishes (verify it
    /// with `catalog::bundle::Bundle::accept`). With the ETag of the last one fetched, an
    /// unchanged bundle costs a `304` and no body.
    pub fn catalog_bundle(&self, etag: Option<&str>) -> Result<Fetched<Vec<u8>>> {
        self.get_bytes("/v1/catalog/bundle", etag)
    }

    /// `PUT /v1/catalog/bundle`: publishes a signed bundle (a publisher's call, not a kiosk's).
    /// The platform refuses one whose sequence is not above the bundle it serves.
    pub fn publish_catalog_bundle(&self, bundle: &[u8]) -> Result<api::CatalogPublished> {
        self.call_json(Call {
            method: Method::PUT,
            path: "/v1/catalog/bundle".into(),
            body: Some(bundle.to_vec()),
            key: None,
            etag: None,
            kiosk_id: None,
            content_type: Some("application/cose"),
        })
    }

    /// `GET /v1/trust-list`: the COSE trust list bytes.
    pub fn trust_list(&self, etag: Option<&str>) -> Result<Fetched<Vec<u8>>> {
        self.get_bytes("/v1/trust-list", etag)
    }

    /// A conditional `GET` of a published document: `304` to the ETag of the copy held is
    /// [`Fetched::NotModified`], otherwise the body and its new ETag.
    fn get_bytes(&self, path: &str, etag: Option<&str>) -> Result<Fetched<Vec<u8>>> {
        let raw = self.run(Call {
            method: Method::GET,
            path: path.into(),
            body: None,
            key: None,
            etag: etag.map(str::to_string),
            kiosk_id: None,
            content_type: None,
        })?;
        if raw.status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        Ok(Fetched::Fresh {
            etag: raw.etag,
            body: raw.body,
        })
    }

    /// `POST /v1/subjects`: exchange an ID number for a subject token (retried safely: the
    /// client adds a fresh idempotency key).
    pub fn subject(&self, req: &api::SubjectRequest) -> Result<api::SubjectToken> {
        let key = new_key()?;
        self.post("/v1/subjects".into(), req, Some(key))
    }

    /// `POST /v1/identity/resolve`: the person behind an identity code.
    pub fn resolve_identity(&self, code: &str) -> Result<api::Person> {
        let key = new_key()?;
        let req = api::ResolveRequest { code: code.into() };
        self.post("/v1/identity/resolve".into(), &req, Some(key))
    }

    /// `POST /v1/services/{service_id}/requests` with the caller's idempotency key (the same key
    /// the journal's outbox holds, so a re-send returns the first answer).
    pub fn submit(
        &self,
        service_id: &str,
        key: &str,
        req: &api::ServiceRequest,
    ) -> Result<api::ServiceResponse> {
        self.submit_as(&self.cfg.kiosk_id.clone(), service_id, key, req)
    }

    /// [`Client::submit`] under an explicit kiosk id: the one the outbox item was written
    /// under, which with the key is the platform's idempotency scope, whoever sends it.
    pub fn submit_as(
        &self,
        kiosk_id: &str,
        service_id: &str,
        key: &str,
        req: &api::ServiceRequest,
    ) -> Result<api::ServiceResponse> {
        let path = format!("/v1/services/{}/requests", seg(service_id));
        let body = serde_json::to_vec(req)
            .map_err(|e| PlatformError::Setup(format!("encoding the request: {e}")))?;
        self.call_json(Call {
            method: Method::POST,
            path,
            body: Some(body),
            key: Some(key.to_string()),
            etag: None,
            kiosk_id: Some(kiosk_id.to_string()),
            content_type: None,
        })
    }

    /// `GET /v1/requests/{request_id}`: the current answer (after a payment, say).
    pub fn request(&self, request_id: &str) -> Result<api::ServiceResponse> {
        self.get(format!("/v1/requests/{}", seg(request_id)))
    }

    /// `GET /v1/payments/{order_id}`.
    pub fn payment(&self, order_id: &str) -> Result<api::Payment> {
        self.get(format!("/v1/payments/{}", seg(order_id)))
    }

    /// `POST /v1/payments/{order_id}/cancel`.
    pub fn cancel_payment(&self, order_id: &str) -> Result<api::CancelAck> {
        let key = new_key()?;
        let path = format!("/v1/payments/{}/cancel", seg(order_id));
        self.post(path, &serde_json::json!({}), Some(key))
    }

    /// `POST /v1/face-checks`.
    pub fn start_face_check(&self, req: &api::FaceCheckRequest) -> Result<api::FaceCheck> {
        let key = new_key()?;
        self.post("/v1/face-checks".into(), req, Some(key))
    }

    /// `GET /v1/face-checks/{check_id}`.
    pub fn face_check(&self, check_id: &str) -> Result<api::FaceCheckStatus> {
        self.get(format!("/v1/face-checks/{}", seg(check_id)))
    }

    /// `GET /v1/services/{service_id}/slots?date=YYYY-MM-DD`.
    pub fn slots(&self, service_id: &str, date: &str) -> Result<Vec<api::Slot>> {
        self.get(format!(
            "/v1/services/{}/slots?date={}",
            seg(service_id),
            seg(date)
        ))
    }

    /// `POST /v1/elicense/tickets/consume` (single use; a different key on the same ticket gets
    /// `ticket_used`).
    pub fn consume_ticket(&self, ticket: &str, key: &str) -> Result<api::TicketLicence> {
        let req = api::TicketRequest {
            ticket: ticket.into(),
        };
        self.post(
            "/v1/elicense/tickets/consume".into(),
            &req,
            Some(key.into()),
        )
    }

    /// `POST /v1/elicense/licences`: which of `req.types` the citizen holds, each with the
    /// reference to attach it to a service request (免证办). An idempotent read: the client adds
    /// a fresh idempotency key and retries like the other reads.
    pub fn licences(&self, req: &api::LicenceRequest) -> Result<api::LicenceList> {
        let key = new_key()?;
        self.post("/v1/elicense/licences".into(), req, Some(key))
    }

    /// `POST /v1/evaluations` with the caller's idempotency key.
    pub fn evaluate(&self, key: &str, ev: &api::Evaluation) -> Result<api::EvaluationAck> {
        self.evaluate_as(&self.cfg.kiosk_id.clone(), key, ev)
    }

    /// [`Client::evaluate`] under an explicit kiosk id (see [`Client::submit_as`]).
    pub fn evaluate_as(
        &self,
        kiosk_id: &str,
        key: &str,
        ev: &api::Evaluation,
    ) -> Result<api::EvaluationAck> {
        let body = serde_json::to_vec(ev)
            .map_err(|e| PlatformError::Setup(format!("encoding the request: {e}")))?;
        self.evaluate_raw_as(kiosk_id, key, body)
    }

    /// Sends an already-serialized evaluation under an explicit kiosk id (the outbox drain).
    pub fn evaluate_raw_as(
        &self,
        kiosk_id: &str,
        key: &str,
        body: Vec<u8>,
    ) -> Result<api::EvaluationAck> {
        self.call_json(Call {
            method: Method::POST,
            path: "/v1/evaluations".into(),
            body: Some(body),
            key: Some(key.into()),
            etag: None,
            kiosk_id: Some(kiosk_id.to_string()),
            content_type: None,
        })
    }

    /// `POST /v1/help` under an explicit kiosk id with the outbox item's idempotency key: a
    /// retry answers the first entry, so a help request is raised once however often it is sent.
    pub fn help_as(&self, kiosk_id: &str, key: &str, body: Vec<u8>) -> Result<api::HelpEntry> {
        self.call_json(Call {
            method: Method::POST,
            path: "/v1/help".into(),
            body: Some(body),
            key: Some(key.into()),
            etag: None,
            kiosk_id: Some(kiosk_id.to_string()),
            content_type: None,
        })
    }

    /// `POST /v1/help/cancel` under an explicit kiosk id (the outbox drain).
    pub fn help_cancel_as(
        &self,
        kiosk_id: &str,
        key: &str,
        body: Vec<u8>,
    ) -> Result<api::HelpEntry> {
        self.call_json(Call {
            method: Method::POST,
            path: "/v1/help/cancel".into(),
            body: Some(body),
            key: Some(key.into()),
            etag: None,
            kiosk_id: Some(kiosk_id.to_string()),
            content_type: None,
        })
    }

    /// `GET /v1/help/{help_id}`: one help request's state (the kiosk waits for staff).
    pub fn help(&self, help_id: &str) -> Result<api::HelpEntry> {
        self.get(format!("/v1/help/{}", seg(help_id)))
    }

    /// `GET /v1/help` (`?open=1`: only requests still waiting for staff).
    pub fn help_list(&self, open_only: bool) -> Result<api::HelpList> {
        let q = if open_only { "?open=1" } else { "" };
        self.get(format!("/v1/help{q}"))
    }

    /// `POST /v1/help/{help_id}/ack`: a staff member takes a request (site staff, technicians).
    pub fn help_ack(&self, help_id: &str, staff_id: Option<&str>) -> Result<api::HelpEntry> {
        let key = new_key()?;
        let req = api::HelpAckRequest {
            staff_id: staff_id.map(str::to_string),
        };
        self.post(format!("/v1/help/{}/ack", seg(help_id)), &req, Some(key))
    }

    /// `POST /demo/elicense` (demo platform only): an `EL1:`/`ET1:` code for a synthetic person,
    /// signed by the demo issuer. One attempt (each call makes a new code).
    pub fn demo_code(&self, req: &api::DemoCodeRequest) -> Result<api::DemoCode> {
        self.post("/demo/elicense".into(), req, None)
    }

    /// `GET /v1/health`: whether the platform answers at all (one attempt, no retry).
    pub fn ping(&self) -> Result<()> {
        let call = Call {
            method: Method::GET,
            path: "/v1/health".into(),
            body: None,
            key: None,
            etag: None,
            kiosk_id: None,
            content_type: None,
        };
        let raw = self.once(call)?;
        check_status(raw).map(|_| ())
    }

    fn get<T: DeserializeOwned>(&self, path: String) -> Result<T> {
        self.call_json(Call {
            method: Method::GET,
            path,
            body: None,
            key: None,
            etag: None,
            kiosk_id: None,
            content_type: None,
        })
    }

    fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: String,
        body: &B,
        key: Option<String>,
    ) -> Result<T> {
        let body = serde_json::to_vec(body)
            .map_err(|e| PlatformError::Setup(format!("encoding the request: {e}")))?;
        self.call_json(Call {
            method: Method::POST,
            path,
            body: Some(body),
            key,
            etag: None,
            kiosk_id: None,
            content_type: None,
        })
    }

    fn call_json<T: DeserializeOwned>(&self, call: Call) -> Result<T> {
        let raw = self.run(call)?;
        serde_json::from_slice(&raw.body)
            .map_err(|e| PlatformError::Malformed(format!("unexpected answer: {e}")))
    }

    /// Runs a call with retries (idempotent calls only) and maps error statuses.
    fn run(&self, call: Call) -> Result<Raw> {
        let attempts = if call.idempotent() {
            self.cfg.attempts.max(1)
        } else {
            1
        };
        let mut delay = zizhu_drivers::backoff::Backoff::new(
            self.cfg.backoff,
            self.cfg.backoff.saturating_mul(8),
        )
        .with_jitter(0.25);
        let mut attempt = 1;
        loop {
            let res = self.once_ref(&call).and_then(check_status);
            match res {
                Err(e) if e.retryable() && attempt < attempts => {
                    tracing::debug!(path = %strip_query(&call.path), attempt, error = %e, "platform call failed; retrying");
                    std::thread::sleep(delay.next_delay());
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    fn once(&self, call: Call) -> Result<Raw> {
        self.once_ref(&call)
    }

    fn once_ref(&self, call: &Call) -> Result<Raw> {
        let url = format!("{}{}", self.cfg.base_url, call.path);
        let mut rb = self
            .http
            .request(call.method.clone(), &url)
            .bearer_auth(&self.cfg.token)
            .header(
                api::KIOSK_ID,
                call.kiosk_id.as_deref().unwrap_or(&self.cfg.kiosk_id),
            )
            .header(header::ACCEPT, "application/json");
        if let Some(k) = &call.key {
            rb = rb.header(api::IDEMPOTENCY_KEY, k);
        }
        if let Some(e) = &call.etag {
            rb = rb.header(header::IF_NONE_MATCH, e);
        }
        if let Some(b) = &call.body {
            rb = rb
                .header(
                    header::CONTENT_TYPE,
                    call.content_type.unwrap_or("application/json"),
                )
                .body(b.clone());
        }
        let cap = self.cfg.max_response;
        let (tx, rx) = mpsc::sync_channel(1);
        self.handle.spawn(async move {
            let r = async {
                let mut resp = rb.send().await.map_err(net_error)?;
                let status = resp.status();
                let etag = resp
                    .headers()
                    .get(header::ETAG)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                if resp.content_length().is_some_and(|n| n > cap as u64) {
                    return Err(PlatformError::TooLarge { limit: cap });
                }
                let mut body = Vec::new();
                while let Some(chunk) = resp.chunk().await.map_err(net_error)? {
                    if body.len() + chunk.len() > cap {
                        return Err(PlatformError::TooLarge { limit: cap });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(Raw { status, etag, body })
            }
            .await;
            let _ = tx.send(r);
        });
        rx.recv()
            .map_err(|_| PlatformError::Setup("the client runtime stopped".into()))?
    }
}

/// Maps a non-success status to an error, using the error body when there is one.
fn check_status(raw: Raw) -> Result<Raw> {
    let s = raw.status;
    if s.is_success() || s == StatusCode::NOT_MODIFIED {
        return Ok(raw);
    }
    let error = match serde_json::from_slice::<ErrorBody>(&raw.body) {
        Ok(b) => b.error,
        Err(_) => ApiError {
            code: format!("http_{}", s.as_u16()),
            message_zh: Text::PlatformError.zh().into(),
            message_en: Text::PlatformError.en().into(),
            retryable: s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS,
        },
    };
    Err(PlatformError::Api {
        status: s.as_u16(),
        error,
    })
}

fn net_error(e: reqwest::Error) -> PlatformError {
    if e.is_timeout() {
        PlatformError::Timeout
    } else if e.is_connect() {
        PlatformError::Unreachable(e.to_string())
    } else {
        // Body/transport errors mid-answer (a dropped connection): the call may or may not
        // have been applied, which is exactly what idempotency keys are for.
        PlatformError::Unreachable(e.to_string())
    }
}

/// Percent-encodes one path segment (ids are plain, but never trust that).
fn seg(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn strip_query(p: &str) -> &str {
    p.split('?').next().unwrap_or(p)
}
