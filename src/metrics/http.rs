//! The metrics listener: `GET /metrics` (Prometheus text format 0.0.4)
//! and `GET /health` (200 healthy, 503 not, with the reasons as JSON),
//! over plain HTTP/1.x, one request per connection; nothing else is
//! served. Its own thread, a few clients at a time ([`crate::accept`]),
//! each bounded in size and time: a scraper that stalls holds only its
//! own connection.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::exposition::CONTENT_TYPE;
use super::page::{PageInputs, render};
use crate::control::{Context, health, reports_within};

/// Connections served at once; more are closed at once.
const MAX_CLIENTS: usize = 4;
/// The longest request head read.
const MAX_REQUEST: usize = 8192;
/// How long a client may take to send its request and take the answer.
const TIMEOUT: Duration = Duration::from_secs(5);
/// How long a scrape waits for the transfer thread's per-zone state.
const REPORTS_TIMEOUT: Duration = Duration::from_secs(2);

/// What a scrape reads.
pub struct Scrape {
    pub ctx: Arc<Context>,
    pub zone_series_max: usize,
    pub started_unix: u64,
}

/// The running listener.
pub struct MetricsServer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    addr: SocketAddr,
}

impl MetricsServer {
    pub fn start(addr: SocketAddr, scrape: Scrape) -> io::Result<MetricsServer> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let theirs = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("metrics".into())
            .spawn(move || serve(&listener, &Arc::new(scrape), &theirs))?;
        Ok(MetricsServer {
            stop,
            thread: Some(thread),
            addr,
        })
    }

    /// The address bound (with the port, when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(listener: &TcpListener, scrape: &Arc<Scrape>, stop: &AtomicBool) {
    let scrape = Arc::clone(scrape);
    crate::accept::serve(
        "metrics",
        MAX_CLIENTS,
        stop,
        || listener.accept().map(|(s, _)| s),
        move |stream| answer(stream, &scrape),
    );
}

/// A request as far as it matters here.
#[derive(Debug, PartialEq, Eq)]
pub enum Request<'a> {
    Get(&'a str),
    /// Another method.
    Method,
    /// Not HTTP, or a head too long.
    Bad,
}

/// Reads the request line of `head` (everything up to the blank line).
pub fn parse_request(head: &[u8]) -> Request<'_> {
    let Ok(text) = std::str::from_utf8(head) else {
        return Request::Bad;
    };
    let line = text.split("\r\n").next().unwrap_or("");
    let mut words = line.split(' ');
    match (words.next(), words.next(), words.next(), words.next()) {
        (Some(m), Some(target), Some(v), None) if v.starts_with("HTTP/1.") => {
            if m != "GET" {
                return Request::Method;
            }
            // The query string, if any, changes nothing.
            Request::Get(target.split('?').next().unwrap_or(target))
        }
        _ => Request::Bad,
    }
}

/// Reads the request head: up to the blank line, within [`MAX_REQUEST`].
fn read_head(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = memchr::memmem::find(&head, b"\r\n\r\n") {
            head.truncate(end);
            return Some(head);
        }
        if head.len() > MAX_REQUEST {
            return Some(Vec::new());
        }
    }
}

fn answer(mut stream: TcpStream, scrape: &Scrape) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(TIMEOUT));
    let _ = stream.set_write_timeout(Some(TIMEOUT));
    let Some(head) = read_head(&mut stream) else {
        return;
    };
    let (status, ctype, body) = match parse_request(&head) {
        Request::Get("/metrics") => ("200 OK", CONTENT_TYPE, metrics_page(scrape)),
        Request::Get("/health") => {
            let h = health(&scrape.ctx);
            let ok = h.get("healthy").and_then(|v| v.as_bool()) == Some(true);
            (
                if ok {
                    "200 OK"
                } else {
                    "503 Service Unavailable"
                },
                "application/json",
                format!("{h}\n"),
            )
        }
        Request::Get(_) => (
            "404 Not Found",
            "text/plain",
            "only /metrics and /health are served here\n".to_string(),
        ),
        Request::Method => (
            "405 Method Not Allowed",
            "text/plain",
            "only GET is served here\n".to_string(),
        ),
        Request::Bad => ("400 Bad Request", "text/plain", "bad request\n".to_string()),
    };
    let allow = if status.starts_with("405") {
        "Allow: GET\r\n"
    } else {
        ""
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{allow}Connection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(reply.as_bytes());
    let _ = stream.write_all(body.as_bytes());
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn metrics_page(scrape: &Scrape) -> String {
    let ctx = &scrape.ctx;
    let zones = ctx.zones.load();
    // The per-zone refresh ages come from the transfer thread, asked only
    // when per-zone series are written; a busy thread costs them alone.
    let reports = (zones.len() <= scrape.zone_series_max)
        .then(|| reports_within(ctx, None, REPORTS_TIMEOUT).ok())
        .flatten();
    render(
        &ctx.metrics,
        &PageInputs {
            zones: &zones,
            reports: reports.as_deref(),
            zone_series_max: scrape.zone_series_max,
            started_unix: scrape.started_unix,
            now_ms: unix_ms(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_request_line() {
        assert_eq!(
            parse_request(b"GET /metrics HTTP/1.1\r\nHost: x"),
            Request::Get("/metrics")
        );
        assert_eq!(
            parse_request(b"GET /health?x=1 HTTP/1.0"),
            Request::Get("/health")
        );
        assert_eq!(parse_request(b"POST /metrics HTTP/1.1"), Request::Method);
        assert_eq!(parse_request(b"GET /metrics"), Request::Bad);
        assert_eq!(parse_request(b"\xff\xfe"), Request::Bad);
        assert_eq!(parse_request(b""), Request::Bad);
    }
}
