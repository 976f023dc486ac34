//! Keeping a connection usable after an early answer. s3s reads only as much of a request
//! body as the operation needs: an S3 error answered before the body was read (a PutObject
//! to a missing bucket) would leave unread bytes on the socket, and the listener would then
//! close the connection without saying so, so a client's next call on the kept-alive socket
//! fails (`write EPIPE`). The body is therefore shared: after the answer is ready the
//! listener drains what is left, up to [`DRAIN_LIMIT`] bytes and [`DRAIN_TIME`], and answers
//! `Connection: close` when it cannot (a larger body, a slow client, or an
//! `Expect: 100-continue` body the client has not started sending).

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};

/// The most body bytes drained after an early answer.
pub const DRAIN_LIMIT: u64 = 1024 * 1024;
/// The longest a drain waits for the client.
pub const DRAIN_TIME: Duration = Duration::from_secs(5);

/// What both sides share.
#[derive(Default)]
struct State {
    body: Mutex<Option<Body>>,
    polled: AtomicBool,
    read: AtomicU64,
    /// Reading the body failed (cut short, a client gone).
    failed: AtomicBool,
    /// It failed because the body arrived below the rate floor ([`crate::body_rate`]).
    too_slow: AtomicBool,
}

/// The listener's handle on a request body handed to s3s.
pub struct Leftover {
    state: Arc<State>,
    declared_len: Option<u64>,
    expects_continue: bool,
}

/// The body s3s reads.
pub struct SharedBody {
    state: Arc<State>,
}

/// Splits a request body into the part s3s reads and the listener's handle on the rest.
pub fn share(body: Body, headers: &http::HeaderMap) -> (SharedBody, Leftover) {
    let state = Arc::new(State {
        body: Mutex::new(Some(body)),
        ..Default::default()
    });
    let declared_len = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let expects_continue = headers
        .get(http::header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    (
        SharedBody {
            state: state.clone(),
        },
        Leftover {
            state,
            declared_len,
            expects_continue,
        },
    )
}

impl http_body::Body for SharedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.state.polled.store(true, Ordering::Relaxed);
        let mut guard = self.state.body.lock().expect("body lock");
        let Some(body) = guard.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(body).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.state
                        .read
                        .fetch_add(data.len() as u64, Ordering::Relaxed);
                }
            }
            Poll::Ready(Some(Err(e))) => {
                self.state.failed.store(true, Ordering::Relaxed);
                if crate::server::is_too_slow(e) {
                    self.state.too_slow.store(true, Ordering::Relaxed);
                }
            }
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        let guard = self.state.body.lock().expect("body lock");
        guard.as_ref().is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        let guard = self.state.body.lock().expect("body lock");
        guard
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), http_body::Body::size_hint)
    }
}

/// A look at how reading a request body went, for the answer to an error s3s reports
/// without its cause (see `super::complete_error`).
#[derive(Clone)]
pub struct BodyWatch(Arc<State>);

impl BodyWatch {
    /// Whether reading the body failed: the body was cut short or the client went away.
    pub fn failed(&self) -> bool {
        self.0.failed.load(Ordering::Relaxed)
    }

    /// Whether it failed because the body came too slowly (S3's `RequestTimeout`).
    pub fn too_slow(&self) -> bool {
        self.0.too_slow.load(Ordering::Relaxed)
    }
}

impl Leftover {
    /// A watch on the body s3s reads.
    pub fn watch(&self) -> BodyWatch {
        BodyWatch(self.state.clone())
    }

    /// Drains what the operation left unread; `false` means the connection must close.
    pub async fn drain(self) -> bool {
        let Some(mut body) = self.state.body.lock().expect("body lock").take() else {
            return true;
        };
        if http_body::Body::is_end_stream(&body) {
            return true;
        }
        if self.expects_continue && !self.state.polled.load(Ordering::Relaxed) {
            // The client waits for `100 Continue` before sending: do not ask for the body.
            return false;
        }
        let read = self.state.read.load(Ordering::Relaxed);
        if self
            .declared_len
            .is_some_and(|n| n.saturating_sub(read) > DRAIN_LIMIT)
        {
            return false;
        }
        let drained = tokio::time::timeout(DRAIN_TIME, async {
            let mut budget = DRAIN_LIMIT;
            loop {
                match http_body_util::BodyExt::frame(&mut body).await {
                    None => return true,
                    Some(Err(_)) => return false,
                    Some(Ok(frame)) => {
                        let n = frame.data_ref().map_or(0, |d| d.len() as u64);
                        if n > budget {
                            return false;
                        }
                        budget -= n;
                    }
                }
            }
        })
        .await;
        drained.unwrap_or(false)
    }
}
