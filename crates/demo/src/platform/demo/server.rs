//! Running the demo platform: on a thread of its own ([`spawn`], [`spawn_with`]) or as a task on
//! a runtime the caller owns ([`spawn_on`]).
#[allow(unused_imports)]
use super::*;

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

/// A running demo platform, on its own thread ([`spawn_with`]) or as a task on a runtime the
/// caller owns ([`spawn_on`]); stops when dropped.
pub struct DemoHandle {
    addr: SocketAddr,
    state: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    /// Closed when the task on the caller's runtime ends.
    done: Option<Mutex<std::sync::mpsc::Receiver<()>>>,
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
        if let Some(done) = self.done.take() {
            let done = done.into_inner().unwrap_or_else(|p| p.into_inner());
            let _ = done.recv_timeout(std::time::Duration::from_secs(5));
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
        done: None,
    })
}

/// Starts the demo platform as a task on `runtime` (the kiosk's one runtime in simulation mode;
/// IO and time drivers enabled), with no thread of its own.
pub fn spawn_on(
    runtime: &tokio::runtime::Handle,
    listen: SocketAddr,
    opts: DemoOptions,
) -> anyhow::Result<DemoHandle> {
    let std_listener = std::net::TcpListener::bind(listen)
        .map_err(|e| anyhow::anyhow!("binding the demo platform to {listen}: {e}"))?;
    std_listener.set_nonblocking(true)?;
    let addr = std_listener.local_addr()?;
    let state = Arc::new(DemoState::new(addr, opts)?);
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let (done_tx, done) = std::sync::mpsc::channel::<()>();
    let listener = {
        let _g = runtime.enter();
        tokio::net::TcpListener::from_std(std_listener)?
    };
    let st = state.clone();
    runtime.spawn(async move {
        let r = serve(listener, st, async {
            let _ = rx.await;
        })
        .await;
        if let Err(e) = r {
            tracing::error!("demo platform stopped: {e}");
        }
        drop(done_tx);
    });
    tracing::info!(%addr, "demo platform listening");
    Ok(DemoHandle {
        addr,
        state,
        stop: Some(stop),
        thread: None,
        done: Some(Mutex::new(done)),
    })
}
