//! The accept loop, bounded: a cap on open connections, a deadline for each request's start
//! (the header timeout, from accept and from the end of each response until the next
//! request's first byte, so silent and idle kept-alive sockets are closed; shorter while
//! the cap is nearly reached, see [`crate::conn_deadline`]), hyper's header timeout for
//! headers once begun, an idle deadline for connections whose bytes stop moving
//! mid-request, and a floor on a request body's rate ([`crate::body_rate`]), so slow or
//! silent sockets cannot exhaust connection slots or file descriptors.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

use crate::body_rate::MinRate;
use crate::conn_deadline::{Activity, Guarded, Pressure};

/// The most connections `max_connections` may allow (far below the semaphore's own limit,
/// and what one process's descriptors can hold).
pub const MAX_CONNECTIONS: usize = 1_000_000;

/// Most header lines a request may carry. S3 bounds a request's header section at 8 KiB
/// ([`crate::server::MAX_S3_HEADER_BYTES`]) and a header line takes at least 4 bytes
/// (`a:` and CRLF), so no request within S3's bound has more; the byte bound itself is checked
/// on the parsed request, where it can be answered in the caller's protocol. (hyper's default,
/// 100, refused requests with ~90 `x-amz-meta-*` headers with an empty 431.)
pub const MAX_HEADERS: usize = 2048;

/// Connection limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Most connections open at once; further clients wait in the kernel's backlog.
    pub max_connections: usize,
    /// Time a client has to send a request's headers, counted from accept (or from the end
    /// of the previous response on a kept-alive connection), so it is also the longest a
    /// connection may sit silent before or between requests.
    pub header_timeout: Duration,
    /// Time without a byte moving either way after which a connection is closed.
    pub idle_timeout: Duration,
    /// Bytes a second a request body must average once `header_timeout` has passed since it
    /// began (0: no floor), so a body dribbled a byte at a time cannot hold a connection.
    pub min_body_rate: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            header_timeout: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(120),
            min_body_rate: 1024,
        }
    }
}

/// A socket that notes when bytes move ([`Activity`]).
struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = &polled
            && *n > 0
        {
            self.activity.wrote(*n);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The longest a graceful stop waits for requests in flight (or `idle_timeout`, if shorter):
/// a slow upload cannot hold the server up for long; what it had not finished was never
/// acknowledged, so nothing acknowledged is lost.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves `router` on `listener` until `shutdown` resolves, then lets open connections finish
/// their current request (for at most [`SHUTDOWN_GRACE`] or `idle_timeout`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let max_connections = limits.max_connections.clamp(1, MAX_CONNECTIONS);
    let permits = Arc::new(Semaphore::new(max_connections));
    let pressure = Pressure::new(permits.clone(), max_connections);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_headers(MAX_HEADERS)
        // A client that shuts down its write side after a whole request still gets the
        // answer (the call has run and is recorded); idle and header timeouts still bound
        // such a socket.
        .half_close(true)
        .keep_alive(true);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            p = permits.clone().acquire_owned() => p.expect("semaphore is never closed"),
        };
        let (tcp, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off briefly instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        pressure.check();
        // Streamed bodies go out as several writes; without TCP_NODELAY, Nagle's algorithm
        // and delayed ACKs add ~40 ms to every small GetObject.
        let _ = tcp.set_nodelay(true);
        let activity = Activity::new();
        let io = TokioIo::new(Tracked {
            inner: tcp,
            activity: activity.clone(),
        });
        let router = router.clone();
        let builder = builder.clone();
        let mut stop = stop_rx.clone();
        let pressure = pressure.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let requests = activity.clone();
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                let guard = requests.request_started();
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                let req = req.map(|body| {
                    axum::body::Body::new(MinRate::new(
                        body,
                        limits.min_body_rate,
                        limits.header_timeout,
                    ))
                });
                let response = router.clone().oneshot(req);
                async move {
                    let response = response.await?;
                    Ok::<_, std::convert::Infallible>(
                        response.map(|body| axum::body::Body::new(Guarded::new(body, guard))),
                    )
                }
            });
            let conn = builder.serve_connection(io, service);
            tokio::pin!(conn);
            let reason = tokio::select! {
                _ = conn.as_mut() => return,
                reason = crate::conn_deadline::expired(
                    activity,
                    limits.header_timeout,
                    limits.idle_timeout,
                    pressure,
                    limits.min_body_rate,
                ) => reason,
                _ = stop.wait_for(|s| *s) => "shutdown",
            };
            tracing::debug!(%peer, reason, "closing connection");
            if reason != "shutdown" {
                // Dropped at once: hyper's graceful shutdown closes an HTTP/1 connection only
                // between requests, so one with half its headers (or a response read too
                // slowly) kept its slot until hyper's own header timeout (hostile12).
                return;
            }
            conn.as_mut().graceful_shutdown();
            let grace = if reason == "shutdown" {
                limits.idle_timeout.min(SHUTDOWN_GRACE)
            } else {
                limits.idle_timeout
            };
            let _ = tokio::time::timeout(grace, conn.as_mut()).await;
        });
    }
    // New connections are refused from now on (a load balancer moves on at once), rather
    // than left in the accept queue until the process exits.
    drop(listener);
    let _ = stop_tx.send(true);
    // Wait (bounded) for open connections to hand back their permits.
    let busy = max_connections - permits.available_permits();
    if busy > 0 {
        tracing::info!(
            connections = busy,
            grace_secs = limits.idle_timeout.min(SHUTDOWN_GRACE).as_secs(),
            "waiting for requests in flight (a second SIGTERM or SIGINT stops at once)"
        );
    }
    let _ = tokio::time::timeout(
        limits.idle_timeout.min(SHUTDOWN_GRACE),
        permits.acquire_many(max_connections as u32),
    )
    .await;
    Ok(())
}

/// Raises this process's soft limit on open files to its hard limit, so the connection cap,
/// not the default 1024 descriptors, is what bounds a busy server. Returns the new limit.
pub fn raise_open_file_limit() -> std::io::Result<u64> {
    rlimit::increase_nofile_limit(u64::MAX)
}
