//! The demo platform (`zizhu platform`): axum + rusqlite, deterministic synthetic data for every
//! catalog service, idempotency, and fault injection for tests. (Being built.)
use std::net::SocketAddr;
use std::path::PathBuf;

/// A running demo platform; stops when dropped.
#[derive(Debug)]
pub struct DemoHandle {
    addr: SocketAddr,
}

impl DemoHandle {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Starts the demo platform on its own thread and tokio runtime.
pub fn spawn(listen: SocketAddr, db: Option<PathBuf>) -> anyhow::Result<DemoHandle> {
    let _ = (listen, db);
    anyhow::bail!("the demo platform is not built yet")
}
