//! A hostile platform: an HTTP/1.1 proxy between the kiosk's client and the demo platform that
//! forwards each request and then misbehaves on command — drops the answer after the platform
//! has acted, answers garbage, a 5xx, slowly, truncated, or with a huge body. Real TCP on
//! loopback, one thread per connection, `Connection: close` on both sides so every call is one
//! connection the proxy fully controls. Used by tests/hostile.rs and benches/soak.rs (which
//! includes this file by path), so it needs nothing but std.
#![allow(dead_code)] // each includer uses a part

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy does to one call. Every fault but `DropBeforeForward` forwards the request
/// first: the platform has acted, the kiosk just does not learn it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Close the connection without forwarding (nothing reaches the platform).
    DropBeforeForward,
    /// Forward, then close without a byte of answer.
    DropAfterForward,
    /// Forward, then answer `200` with an HTML page instead of the JSON.
    Garbage,
    /// Forward, then answer `502` (a gateway that lost the upstream answer).
    ServerError,
    /// Forward, then hold the answer this long before sending it.
    Slow(Duration),
    /// Forward, then send the head and half the body, and close.
    Truncate,
    /// Forward, then answer `200` with 9 MiB of body and no length (the client must cap it).
    Huge,
}

/// The faults a hostile platform has, for tables of cases.
pub const AFTER_FORWARD: [Fault; 6] = [
    Fault::DropAfterForward,
    Fault::Garbage,
    Fault::ServerError,
    Fault::Slow(Duration::from_millis(1500)),
    Fault::Truncate,
    Fault::Huge,
];

/// Which calls get a fault.
#[derive(Debug, Clone)]
struct Rule {
    call: String,
    fault: Fault,
    times: u32,
}

#[derive(Default)]
struct Shared {
    rules: Mutex<Vec<Rule>>,
    /// (fault rate 0..=1, seed) for random faults on every kiosk call.
    random: Mutex<Option<(f64, u64)>>,
    /// Calls seen (normalised), in order.
    seen: Mutex<Vec<String>>,
    faults_done: AtomicU64,
    stop: AtomicBool,
}

/// A running proxy; stops accepting when dropped.
pub struct Proxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    shared: Arc<Shared>,
}

/// The call a request path stands for, with ids left out: `/requests` for any service
/// request, `/slots`, `/v1/payments/` for a payment poll, `/v1/subjects`… `None` for what the
/// citizen's phone calls (`/demo/…`), which the kiosk does not make.
pub fn call_of(path: &str) -> Option<String> {
    let p = path.split('?').next().unwrap_or(path);
    if p.starts_with("/demo/") || p.starts_with("/r/") {
        return None;
    }
    let segs: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
    Some(match segs.as_slice() {
        ["v1", "services", _, last] => format!("/{last}"),
        ["v1", coll, id] if id.contains('_') => format!("/v1/{coll}/"),
        _ => p.to_string(),
    })
}

impl Proxy {
    /// Starts a proxy on a free loopback port in front of `upstream`.
    pub fn spawn(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy bind");
        let addr = listener.local_addr().expect("proxy addr");
        let shared = Arc::new(Shared::default());
        let s = shared.clone();
        std::thread::Builder::new()
            .name("hostile-proxy".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if s.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let s = s.clone();
                    let _ = std::thread::Builder::new()
                        .name("hostile-conn".into())
                        .spawn(move || {
                            let _ = serve(conn, upstream, &s);
                        });
                }
            })
            .expect("proxy thread");
        Proxy {
            addr,
            upstream,
            shared,
        }
    }

    /// The URL the kiosk is given.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next `times` calls to `call` (see [`call_of`]) get `fault`.
    pub fn fault(&self, call: &str, fault: Fault, times: u32) {
        self.shared.rules.lock().unwrap().push(Rule {
            call: call.to_string(),
            fault,
            times,
        });
    }

    /// Every kiosk call gets a random fault of [`AFTER_FORWARD`] (short slowness) or
    /// `DropBeforeForward` with probability `rate`; 0 turns it off.
    pub fn random_faults(&self, rate: f64, seed: u64) {
        *self.shared.random.lock().unwrap() = (rate > 0.0).then_some((rate, seed | 1));
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.shared.rules.lock().unwrap().clear();
        *self.shared.random.lock().unwrap() = None;
    }

    /// The kiosk calls seen so far, normalised, in order.
    pub fn seen(&self) -> Vec<String> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// How many faults were applied.
    pub fn faults_done(&self) -> u64 {
        self.shared.faults_done.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop
        let _ = self.upstream;
    }
}

fn pick(s: &Shared, call: Option<&str>) -> Option<Fault> {
    let call = call?;
    let mut rules = s.rules.lock().unwrap();
    if let Some(r) = rules.iter_mut().find(|r| r.call == call && r.times > 0) {
        r.times -= 1;
        return Some(r.fault);
    }
    drop(rules);
    let mut random = s.random.lock().unwrap();
    let (rate, seed) = random.as_mut()?;
    // xorshift64: deterministic per seed, no dependency.
    let mut next = || {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    };
    if (next() % 10_000) as f64 >= *rate * 10_000.0 {
        return None;
    }
    Some(match next() % 7 {
        0 => Fault::DropBeforeForward,
        1 => Fault::DropAfterForward,
        2 => Fault::Garbage,
        3 => Fault::ServerError,
        4 => Fault::Slow(Duration::from_millis(300)),
        5 => Fault::Truncate,
        _ => Fault::Huge,
    })
}

/// Reads one request: the head (up to 64 KiB) and a `Content-Length` body.
fn read_request(conn: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            return Err(std::io::Error::other("request head too large"));
        }
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::other("closed before a request"));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok((head, body))
}

/// The head with `Connection: close` in place of any connection header.
fn closing(head: &str) -> String {
    let mut out = String::new();
    for (i, l) in head.trim_end_matches("\r\n").split("\r\n").enumerate() {
        if i > 0
            && l.split_once(':')
                .is_some_and(|(k, _)| k.eq_ignore_ascii_case("connection"))
        {
            continue;
        }
        out.push_str(l);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    out
}

fn serve(mut conn: TcpStream, upstream: SocketAddr, s: &Shared) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let (head, body) = read_request(&mut conn)?;
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let call = call_of(&path);
    if let Some(c) = &call {
        s.seen.lock().unwrap().push(c.clone());
    }
    let fault = pick(s, call.as_deref());
    if fault.is_some() {
        s.faults_done.fetch_add(1, Ordering::SeqCst);
    }
    if fault == Some(Fault::DropBeforeForward) {
        return conn.shutdown(Shutdown::Both);
    }
    let mut up = TcpStream::connect(upstream)?;
    up.set_read_timeout(Some(Duration::from_secs(60)))?;
    up.write_all(closing(&head).as_bytes())?;
    up.write_all(&body)?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    let send = |conn: &mut TcpStream, bytes: &[u8]| -> std::io::Result<()> {
        conn.write_all(bytes)?;
        conn.flush()
    };
    match fault {
        None => send(&mut conn, &answer)?,
        Some(Fault::DropBeforeForward) | Some(Fault::DropAfterForward) => {}
        Some(Fault::Garbage) => {
            let page = b"<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>";
            send(
                &mut conn,
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    page.len()
                )
                .as_bytes(),
            )?;
            send(&mut conn, page)?;
        }
        Some(Fault::ServerError) => send(
            &mut conn,
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: 15\r\nConnection: close\r\n\r\nupstream hiccup",
        )?,
        Some(Fault::Slow(d)) => {
            std::thread::sleep(d);
            send(&mut conn, &answer)?;
        }
        Some(Fault::Truncate) => {
            let split = answer
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map_or(answer.len() / 2, |i| i + 4);
            let body_len = answer.len() - split;
            send(&mut conn, &answer[..split + body_len / 2])?;
        }
        Some(Fault::Huge) => {
            send(
                &mut conn,
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"pad\":\"",
            )?;
            let block = vec![b'a'; 64 * 1024];
            for _ in 0..(9 * 16) {
                if conn.write_all(&block).is_err() {
                    break; // the client gave up at its cap
                }
            }
        }
    }
    let _ = conn.shutdown(Shutdown::Both);
    Ok(())
}
