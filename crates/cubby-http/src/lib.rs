//! Serving HTTP so that slow and idle clients cannot hold the server: a
//! deadline for each request's header (which also closes idle keep-alive
//! connections and sockets that never send a byte), a deadline for each
//! request's body, and a cap on concurrent connections. The API server and
//! the locker's kiosk both serve through [`serve`].
//!
//! Every request carries the peer's address as axum's `ConnectInfo`, so
//! handlers can throttle and audit by source.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// How long clients may take, and how many may be connected at once.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// From the moment a connection may send a request (just accepted, or
    /// idle after the last answer) until its header has fully arrived.
    pub header_timeout: Duration,
    /// From the header until the whole body has arrived (one deadline, not
    /// an idle timer: a body trickled a byte at a time is cut off too).
    pub body_timeout: Duration,
    /// Connections served at once; further clients wait in the listen queue.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(20),
            body_timeout: Duration::from_secs(30),
            max_connections: 1024,
        }
    }
}

impl Limits {
    /// The defaults, with `CUBBY_HTTP_HEADER_TIMEOUT_MS`,
    /// `CUBBY_HTTP_BODY_TIMEOUT_MS` and `CUBBY_HTTP_MAX_CONNECTIONS` applied
    /// when set to a positive number.
    pub fn from_env() -> Limits {
        Limits::default().overridden_by_env()
    }

    /// These limits, with the environment's settings (as [`Limits::from_env`]) applied.
    pub fn overridden_by_env(self) -> Limits {
        let read = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|v| *v > 0)
        };
        let d = self;
        Limits {
            header_timeout: read("CUBBY_HTTP_HEADER_TIMEOUT_MS")
                .map_or(d.header_timeout, Duration::from_millis),
            body_timeout: read("CUBBY_HTTP_BODY_TIMEOUT_MS")
                .map_or(d.body_timeout, Duration::from_millis),
            max_connections: read("CUBBY_HTTP_MAX_CONNECTIONS")
                .map_or(d.max_connections, |n| n as usize),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then waits up to
/// five seconds for connections in flight.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    tokio::pin!(shutdown);
    loop {
        // Hold a permit before accepting, so that past the cap new clients
        // wait in the kernel's queue instead of costing memory here.
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off, not spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        tokio::spawn(async move {
            let service = tower::service_fn(move |mut req: axum::http::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                let req = req.map(|b| axum::body::Body::new(Deadline::new(b, limits.body_timeout)));
                app.clone().oneshot(req)
            });
            let served = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .max_buf_size(64 * 1024)
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                .await;
            if let Err(e) = served {
                tracing::debug!("connection from {peer} ended: {e}");
            }
            drop(permit);
        });
    }
    // Connections in flight finish (bounded): every permit back means none left.
    let all = u32::try_from(limits.max_connections.max(1)).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(Duration::from_secs(5), permits.acquire_many(all)).await;
    Ok(())
}

/// A request body that fails once its deadline passes, however its bytes
/// trickle in.
struct Deadline<B> {
    inner: std::pin::Pin<Box<B>>,
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl<B> Deadline<B> {
    fn new(inner: B, within: Duration) -> Deadline<B> {
        Deadline {
            inner: Box::pin(inner),
            sleep: Box::pin(tokio::time::sleep(within)),
        }
    }
}

#[derive(Debug)]
struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimedOut {}

impl<B> http_body::Body for Deadline<B>
where
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = B::Data;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        if this.sleep.as_mut().poll(cx).is_ready() {
            return std::task::Poll::Ready(Some(Err(Box::new(BodyTimedOut))));
        }
        this.inner.as_mut().poll_frame(cx).map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use std::time::Instant;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    async fn server(limits: Limits) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = Router::new().route(
            "/",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }),
        );
        tokio::spawn(serve(listener, app, limits, std::future::pending()));
        addr
    }

    /// Reads until the server closes the connection; how long that took.
    async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
        let started = Instant::now();
        let mut buf = [0u8; 1024];
        loop {
            match tokio::time::timeout_at(
                tokio::time::Instant::from_std(started + limit),
                stream.read(&mut buf),
            )
            .await
            {
                Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
                Ok(Ok(_)) => continue,
                Err(_) => return None,
            }
        }
    }

    #[tokio::test]
    async fn idle_and_slow_clients_are_cut_off_and_the_server_keeps_serving() {
        let limits = Limits {
            header_timeout: Duration::from_millis(600),
            body_timeout: Duration::from_millis(600),
            max_connections: 8,
        };
        let addr = server(limits).await;
        // More idle sockets than the cap, and a slowloris trickling its header.
        let mut idle = Vec::new();
        for _ in 0..12 {
            idle.push(TcpStream::connect(addr).await.expect("connect"));
        }
        let mut slow = TcpStream::connect(addr).await.expect("connect");
        let trickle = tokio::spawn(async move {
            let started = Instant::now();
            let _ = slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await;
            while started.elapsed() < Duration::from_secs(5) {
                if slow.write_all(b"X-Slow: 1\r\n").await.is_err() {
                    return Some(started.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                let mut b = [0u8; 64];
                if let Ok(Ok(0)) =
                    tokio::time::timeout(Duration::from_millis(1), slow.read(&mut b)).await
                {
                    return Some(started.elapsed());
                }
            }
            None
        });
        // The first eight get the header deadline; the rest wait for a
        // place, then get theirs: all are closed well before 5 s.
        for s in &mut idle {
            let took = closed_within(s, Duration::from_secs(5)).await;
            assert!(took.is_some(), "an idle connection was held open");
        }
        let cut = trickle.await.expect("trickle");
        assert!(
            cut.is_some_and(|t| t < Duration::from_secs(3)),
            "the slowloris client was held for {cut:?}"
        );
        // A well-behaved client is served, and told its own address.
        let mut ok = TcpStream::connect(addr).await.expect("connect");
        ok.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .expect("write");
        let mut answer = String::new();
        ok.read_to_string(&mut answer).await.expect("read");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("127.0.0.1"), "{answer}");
    }

    #[tokio::test]
    async fn a_body_sent_too_slowly_is_refused() {
        let limits = Limits {
            header_timeout: Duration::from_millis(2_000),
            body_timeout: Duration::from_millis(300),
            max_connections: 8,
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = Router::new().route(
            "/",
            axum::routing::post(|body: axum::body::Bytes| async move { body.len().to_string() }),
        );
        tokio::spawn(serve(listener, app, limits, std::future::pending()));
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
            .await
            .expect("write");
        let mut answer = String::new();
        let read =
            tokio::time::timeout(Duration::from_secs(3), s.read_to_string(&mut answer)).await;
        assert!(read.is_ok(), "the connection was held");
        assert!(!answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
}
