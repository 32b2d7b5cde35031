//! The HTTP side of the status server: the axum [`router`], bearer-token check in constant time,
//! per-client rate limiting, and the accept loop ([`serve`]) with bounded headers, header timeouts,
//! connection limits (in all and per client) and optional TLS. [`spawn`] runs it all on a thread of its own,
//! [`spawn_on`] as a task on a runtime the caller owns.
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::{metrics, Error, Limits, Secret, StatusConfig, StatusState, TlsFiles};

/// The client's address, put on each request by the accept loop.
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub IpAddr);

/// Token buckets per client address.
#[derive(Debug)]
struct Limiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl Limiter {
    /// `Ok` when `ip` may make a request now, else how long to wait.
    fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut map = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            // Forget clients whose bucket has refilled; bounds memory under address churn.
            let (rate, burst) = (self.rate, self.burst);
            map.retain(|_, (tokens, at)| *tokens + at.elapsed().as_secs_f64() * rate < burst);
        }
        let (tokens, at) = map.entry(ip).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / self.rate))
        }
    }
}

/// Open connections per client, so one address cannot fill the server's whole pool (the rate
/// limiter counts requests; an idle socket makes none).
#[derive(Debug, Default)]
struct PerClient {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One counted connection; uncounted when dropped.
struct ClientSlot {
    table: Arc<PerClient>,
    key: IpAddr,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut map = self.table.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.key);
            }
        }
    }
}

/// The client an address belongs to: the address itself for IPv4, its /64 for IPv6 (one host
/// has a whole /64 to pick from).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl PerClient {
    /// A slot for `ip`, or `None` when it already holds `max`.
    fn take(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<ClientSlot> {
        let key = client_key(ip);
        let mut map = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(key).or_insert(0);
        if *n >= max.max(1) {
            return None;
        }
        *n += 1;
        Some(ClientSlot {
            table: self.clone(),
            key,
        })
    }
}

#[derive(Clone)]
struct App {
    state: StatusState,
    token: Arc<Secret>,
    limiter: Arc<Limiter>,
}

/// Whether `header` is `Bearer <token>`. The comparison takes the same time whatever the bytes
/// sent, and a wrong length is found without an early exit.
fn authorized(header: Option<&HeaderValue>, token: &Secret) -> bool {
    let want = token.expose().as_bytes();
    let Some(got) = header.and_then(|h| h.as_bytes().strip_prefix(b"Bearer ")) else {
        return false;
    };
    let got = got.trim_ascii();
    let mut same = (got.len() as u64).ct_eq(&(want.len() as u64));
    for (i, w) in want.iter().enumerate() {
        same &= got.get(i).copied().unwrap_or(0).ct_eq(w);
    }
    bool::from(same)
}

fn error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "error": message }).to_string();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn rate_limit(State(app): State<App>, req: Request, next: Next) -> Response {
    let ip = req
        .extensions()
        .get::<Peer>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.0);
    if let Err(wait) = app.limiter.check(ip) {
        let secs = wait.as_secs().max(1).to_string();
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests; slow down",
        );
        if let Ok(v) = HeaderValue::from_str(&secs) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    next.run(req).await
}

async fn require_token(State(app): State<App>, req: Request, next: Next) -> Response {
    if !authorized(req.headers().get(header::AUTHORIZATION), &app.token) {
        tracing::debug!(path = %req.uri().path(), "status request without a valid token");
        let mut r = error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"zizhu\""),
        );
        return r;
    }
    next.run(req).await
}

async fn status_json(State(app): State<App>) -> Response {
    let body = match serde_json::to_vec(&app.state.snapshot()) {
        Ok(b) => b,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// Whether the client accepts gzip (Prometheus asks for it on every scrape).
fn accepts_gzip(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| {
            let mut parts = e.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 3),
        flate2::Compression::fast(),
    );
    enc.write_all(data)?;
    enc.finish()
}

async fn metrics_text(State(app): State<App>, headers: axum::http::HeaderMap) -> Response {
    let text = metrics::render(&app.state.snapshot(), app.state.started_unix());
    if accepts_gzip(&headers) {
        // About 5 KiB shrinks to about 1.2 KiB: what matters on 20,000 kiosks' uplinks.
        if let Ok(body) = gzip(text.as_bytes()) {
            return (
                [
                    (header::CONTENT_TYPE, metrics::CONTENT_TYPE),
                    (header::CONTENT_ENCODING, "gzip"),
                ],
                body,
            )
                .into_response();
        }
    }
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response()
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "no such endpoint; use /v1/status, /metrics or /healthz",
    )
}

/// The routes, with rate limiting on all of them and the token check on all but `/healthz`.
pub fn router(state: StatusState, token: Secret, limits: &Limits) -> Router {
    let app = App {
        state,
        token: Arc::new(token),
        limiter: Arc::new(Limiter {
            rate: limits.per_client_rps,
            burst: limits.per_client_burst.max(1.0),
            buckets: Mutex::new(HashMap::new()),
        }),
    };
    let private = Router::new()
        .route("/v1/status", get(status_json))
        .route("/metrics", get(metrics_text))
        .route_layer(middleware::from_fn_with_state(app.clone(), require_token));
    Router::new()
        .merge(private)
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), rate_limit))
        .with_state(app)
}

fn load_tls(files: &TlsFiles) -> Result<TlsAcceptor, Error> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls;
    let tls_err = |what, path: &std::path::Path, reason: String| Error::Tls {
        what,
        path: path.to_path_buf(),
        reason,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| tls_err("certificate", &files.cert, e.to_string()))?;
    if certs.is_empty() {
        return Err(tls_err(
            "certificate",
            &files.cert,
            "no certificate in the file".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| tls_err("private key", &files.key, e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err("protocol versions", &files.cert, e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| tls_err("certificate and key", &files.key, e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

async fn serve_connection<S>(io: S, peer: IpAddr, app: Router, limits: Arc<Limits>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;
    let service =
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(Peer(peer));
            app.clone().oneshot(req.map(axum::body::Body::new))
        });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_head_bytes.max(8192))
        .serve_connection(TokioIo::new(io), service);
    match tokio::time::timeout(limits.connection_lifetime, conn).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::debug!(%peer, "status connection ended: {e}"),
        Err(_) => tracing::debug!(%peer, "status connection closed at its lifetime limit"),
    }
}

/// Serves `state` on `listener` until `shutdown` completes. Used by [`spawn`]; public so a
/// benchmark can run many servers on one runtime.
pub async fn serve(
    listener: TcpListener,
    config: StatusConfig,
    state: StatusState,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    let tls = config.tls.as_ref().map(load_tls).transpose()?;
    let limits = Arc::new(config.limits.clone());
    let app = router(state, config.token.clone(), &limits);
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let per_client = Arc::new(PerClient::default());
    tokio::pin!(shutdown);
    loop {
        let (stream, addr) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors and the like: back off instead of spinning.
                    tracing::warn!("status server accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Per client first: a client at its own limit is turned away without touching the
        // shared pool, which therefore always has room for the others.
        let Some(client_slot) = per_client.take(addr.ip(), limits.max_connections_per_client)
        else {
            tracing::debug!(peer = %addr, "status client at its connection limit; closing");
            continue;
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::debug!(peer = %addr, "status server at its connection limit; closing");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (app, limits, tls) = (app.clone(), limits.clone(), tls.clone());
        tokio::spawn(async move {
            let peer = addr.ip();
            match tls {
                None => serve_connection(stream, peer, app, limits).await,
                Some(acceptor) => {
                    match tokio::time::timeout(limits.header_timeout, acceptor.accept(stream)).await
                    {
                        Ok(Ok(s)) => serve_connection(s, peer, app, limits).await,
                        Ok(Err(e)) => tracing::debug!(%peer, "status TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!(%peer, "status TLS handshake timed out"),
                    }
                }
            }
            drop(slot);
            drop(client_slot);
        });
    }
    Ok(())
}

/// A running status server. Dropping it stops the server (and waits for it to end).
#[derive(Debug)]
pub struct StatusHandle {
    local: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// The server's own thread ([`spawn`]).
    thread: Option<std::thread::JoinHandle<()>>,
    /// Closed when the server's task on a shared runtime ends ([`spawn_on`]).
    done: Option<Mutex<std::sync::mpsc::Receiver<()>>>,
}

impl StatusHandle {
    /// The address it listens on (the real port when `:0` was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Stops the server and waits for it to end.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(done) = self.done.take() {
            // Returns when the task ends or its runtime drops it; never waits longer than the
            // graceful end of the open connections would take.
            let done = done.into_inner().unwrap_or_else(|p| p.into_inner());
            let _ = done.recv_timeout(Duration::from_secs(5));
        }
    }
}

impl Drop for StatusHandle {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// Binds the address and loads the TLS files (so their errors come back to the caller).
fn bind(config: &StatusConfig) -> Result<(std::net::TcpListener, SocketAddr), Error> {
    let std_listener =
        std::net::TcpListener::bind(config.listen).map_err(|source| Error::Bind {
            addr: config.listen,
            source,
        })?;
    std_listener.set_nonblocking(true).map_err(Error::Start)?;
    let local = std_listener.local_addr().map_err(Error::Start)?;
    if let Some(files) = &config.tls {
        load_tls(files)?;
    }
    Ok((std_listener, local))
}

/// The server until `rx` fires (or its sender is dropped).
async fn run_until(
    std_listener: std::net::TcpListener,
    config: StatusConfig,
    state: StatusState,
    rx: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = match TcpListener::from_std(std_listener) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("status server cannot use its socket: {e}");
            return;
        }
    };
    let stop = async {
        let _ = rx.await;
    };
    if let Err(e) = serve(listener, config, state, stop).await {
        tracing::error!("status server stopped: {e}");
    }
}

/// Starts the status server on a thread of its own (`zizhu-status`) with a single-threaded tokio
/// runtime. The address is bound and the TLS files are loaded before this returns, so their
/// errors come back here.
pub fn spawn(config: StatusConfig, state: StatusState) -> Result<StatusHandle, Error> {
    let (std_listener, local) = bind(&config)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Start)?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("zizhu-status".into())
        .spawn(move || runtime.block_on(run_until(std_listener, config, state, rx)))
        .map_err(Error::Start)?;
    tracing::info!(%local, "status server listening");
    Ok(StatusHandle {
        local,
        stop: Some(tx),
        thread: Some(thread),
        done: None,
    })
}

/// Starts the status server as a task on `runtime` (the kiosk's one runtime; IO and time
/// drivers enabled), with no thread of its own. Errors as for [`spawn`].
pub fn spawn_on(
    runtime: &tokio::runtime::Handle,
    config: StatusConfig,
    state: StatusState,
) -> Result<StatusHandle, Error> {
    let (std_listener, local) = bind(&config)?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (done_tx, done) = std::sync::mpsc::channel::<()>();
    runtime.spawn(async move {
        run_until(std_listener, config, state, rx).await;
        drop(done_tx);
    });
    tracing::info!(%local, "status server listening");
    Ok(StatusHandle {
        local,
        stop: Some(tx),
        thread: None,
        done: Some(Mutex::new(done)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt;

    fn app(limits: &Limits) -> Router {
        let s = StatusState::new("T-1", "测试站");
        router(s, Secret::new("0123456789abcdef"), limits)
    }

    async fn get(app: &Router, path: &str, auth: Option<&str>) -> (StatusCode, String) {
        let mut req = axum::http::Request::get(path);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let resp = app
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn token_is_required_except_for_healthz() {
        let app = app(&Limits::default());
        assert_eq!(
            get(&app, "/healthz", None).await,
            (StatusCode::OK, "ok\n".into())
        );
        assert_eq!(
            get(&app, "/v1/status", None).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            get(&app, "/metrics", Some("Bearer 0123456789abcdeX"))
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            get(&app, "/metrics", Some("Bearer 0123456789abcdef0"))
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            get(&app, "/metrics", Some("Basic 0123456789abcdef"))
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
        let (code, body) = get(&app, "/v1/status", Some("Bearer 0123456789abcdef")).await;
        assert_eq!(code, StatusCode::OK);
        assert!(body.contains("\"kiosk_id\":\"T-1\""));
        assert_eq!(
            get(&app, "/nope", Some("Bearer 0123456789abcdef")).await.0,
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn bad_tls_files_and_taken_ports_fail_at_spawn() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let mut config = StatusConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            token: Secret::new("0123456789abcdef"),
            tls: Some(TlsFiles {
                cert: junk.clone(),
                key: junk,
            }),
            limits: Limits::default(),
        };
        let state = StatusState::new("T-1", "t");
        assert!(matches!(
            spawn(config.clone(), state.clone()),
            Err(Error::Tls { .. })
        ));
        config.tls = None;
        let first = spawn(config.clone(), state.clone()).unwrap();
        config.listen = first.local_addr();
        assert!(matches!(spawn(config, state), Err(Error::Bind { .. })));
    }

    #[tokio::test]
    async fn metrics_are_gzipped_when_asked() {
        use std::io::Read;
        let app = app(&Limits::default());
        let req = axum::http::Request::get("/metrics")
            .header("authorization", "Bearer 0123456789abcdef")
            .header("accept-encoding", "identity, gzip")
            .body(Body::empty())
            .unwrap();
        let resp = app.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.headers()["content-encoding"], "gzip");
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_string(&mut text)
            .unwrap();
        assert!(text.contains("zizhu_build_info"));
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0, br"),
        );
        assert!(!accepts_gzip(&h));
        let (code, plain) = get(&app, "/metrics", Some("Bearer 0123456789abcdef")).await;
        assert_eq!(code, StatusCode::OK);
        assert!(plain.starts_with("# HELP"));
    }

    #[tokio::test]
    async fn clients_are_rate_limited() {
        let limits = Limits {
            per_client_rps: 0.001,
            per_client_burst: 3.0,
            ..Limits::default()
        };
        let app = app(&limits);
        for _ in 0..3 {
            assert_eq!(get(&app, "/healthz", None).await.0, StatusCode::OK);
        }
        assert_eq!(
            get(&app, "/healthz", None).await.0,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
}
