//! A floor on how slowly a request body may arrive. The listener's idle deadline only
//! catches a connection that moves no byte at all; one that sends a byte a second keeps it
//! alive forever, and a thousand of them hold every connection slot (slowloris). A body whose
//! average rate, after a grace period, falls below the floor fails with [`TooSlow`], which
//! ends the request and frees the connection.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// The error a body too slow to wait for ends with.
#[derive(Debug)]
pub struct TooSlow;

/// How [`TooSlow`] displays (a body error reaches some handlers as its text only).
pub const TOO_SLOW: &str = "the request body arrived too slowly";

impl std::fmt::Display for TooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(TOO_SLOW)
    }
}

impl std::error::Error for TooSlow {}

/// A request body that must average at least `rate` bytes a second once `grace` has passed
/// since its first poll.
pub struct MinRate<B> {
    inner: B,
    rate: u64,
    grace: Duration,
    started: Option<Instant>,
    received: u64,
    /// Wakes the body when, with no more bytes, it would fall below the floor: a body that
    /// sends nothing at all is ended too (recheck33b: 64 requests declaring a body and
    /// sending none held every slot until the idle timeout).
    alarm: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<B> MinRate<B> {
    /// Wraps `inner`; a `rate` of 0 sets no floor.
    pub fn new(inner: B, rate: u64, grace: Duration) -> Self {
        Self {
            inner,
            rate,
            grace,
            started: None,
            received: 0,
            alarm: None,
        }
    }

    /// When the body falls below the floor if no more bytes come.
    fn deadline(&self) -> Option<Instant> {
        let started = self.started?;
        (self.rate > 0).then(|| {
            let earned = Duration::from_secs_f64(self.received as f64 / self.rate as f64);
            started + self.grace.max(earned) + Duration::from_millis(10)
        })
    }

    fn too_slow(&self, now: Instant) -> bool {
        let Some(started) = self.started else {
            return false;
        };
        let elapsed = now.duration_since(started);
        self.rate > 0
            && elapsed > self.grace
            && (self.received as f64) < self.rate as f64 * elapsed.as_secs_f64()
    }
}

impl<B> Body for MinRate<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let now = Instant::now();
        self.started.get_or_insert(now);
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.received += data.len() as u64;
                }
                if self.too_slow(now) && !self.inner.is_end_stream() {
                    return Poll::Ready(Some(Err(Box::new(TooSlow))));
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                if self.too_slow(now) {
                    return Poll::Ready(Some(Err(Box::new(TooSlow))));
                }
                if let Some(at) = self.deadline() {
                    let at = tokio::time::Instant::from_std(at);
                    match &mut self.alarm {
                        Some(sleep) => sleep.as_mut().reset(at),
                        None => self.alarm = Some(Box::pin(tokio::time::sleep_until(at))),
                    }
                    if let Some(sleep) = self.alarm.as_mut()
                        && sleep.as_mut().poll(cx).is_ready()
                        && self.too_slow(Instant::now())
                    {
                        return Poll::Ready(Some(Err(Box::new(TooSlow))));
                    }
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_applies_after_the_grace_period() {
        let t0 = Instant::now();
        let mut body = MinRate::new((), 1000, Duration::from_secs(2));
        assert!(!body.too_slow(t0), "not started");
        body.started = Some(t0);
        body.received = 10;
        assert!(
            !body.too_slow(t0 + Duration::from_secs(1)),
            "within the grace period"
        );
        assert!(body.too_slow(t0 + Duration::from_secs(3)));
        body.received = 5000;
        assert!(!body.too_slow(t0 + Duration::from_secs(3)), "fast enough");
        let off = MinRate::new((), 0, Duration::ZERO);
        assert!(!off.too_slow(t0 + Duration::from_secs(100)));
    }

    /// A body that never sends a byte.
    struct Silent;

    impl Body for Silent {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Pending
        }
    }

    #[tokio::test]
    async fn a_body_that_sends_nothing_ends_after_the_grace_period() {
        // recheck33b: the floor was looked at only when bytes came.
        let body = MinRate::new(Silent, 1024, Duration::from_millis(200));
        let started = Instant::now();
        let got = tokio::time::timeout(
            Duration::from_secs(10),
            http_body_util::BodyExt::collect(body),
        )
        .await
        .expect("ended before the timeout");
        let e = got.expect_err("an error");
        assert_eq!(e.to_string(), TOO_SLOW);
        assert!(started.elapsed() >= Duration::from_millis(200));
    }
}
