//! The deadlines of one connection, kept apart from hyper's: hyper's header timeout starts
//! only once a request's first byte has arrived, so a socket that sends nothing at all (on
//! connect, or between kept-alive requests) would otherwise be held until the idle deadline,
//! and a thousand such sockets lock every client out.
//!
//! [`Activity`] notes when bytes last moved and whether the connection is *awaiting* a
//! request: from accept, and again from the end of each response, until the next byte
//! arrives. An awaiting connection is closed once it has waited the header timeout; while
//! the connection cap is nearly reached ([`Pressure`]), once it has waited
//! [`PRESSURE_GRACE`], so slots held by silent or idle kept-alive clients are handed to
//! clients with a request. A connection whose request headers have begun but not ended is
//! held to the same header timeout, counted from when it began awaiting, and under pressure
//! to [`PRESSURE_GRACE`] from its first byte, so trickled headers hold no slot either.
//! Mid-request, only the idle deadline (no byte moved either way) and the body-rate floor
//! apply.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::{Notify, Semaphore};

/// How long an awaiting connection may wait for its request while the connection cap is
/// nearly reached (or the header timeout, if shorter).
pub const PRESSURE_GRACE: Duration = Duration::from_secs(1);

/// What one connection is doing, as its deadlines see it.
pub(crate) struct Activity {
    epoch: Instant,
    /// Milliseconds after `epoch` when a byte last moved either way.
    last_moved: AtomicU64,
    /// Requests whose response has not ended yet.
    in_flight: AtomicUsize,
    /// No request in progress and no byte of the next one read yet.
    awaiting: AtomicBool,
    /// Milliseconds after `epoch` when the connection began awaiting its current request.
    awaiting_since: AtomicU64,
    /// Milliseconds after `epoch` when the first byte of the request being read arrived.
    header_began: AtomicU64,
    /// Wakes the deadline watcher when the connection begins awaiting a request.
    changed: Notify,
    /// Bytes written to the client in all.
    written: AtomicU64,
    /// `written` when the current response's first byte went out.
    written_at_response: AtomicU64,
    /// Milliseconds after `epoch` when the current response's first byte went out
    /// ([`NOT_YET`] before it).
    response_began: AtomicU64,
}

/// `response_began` before the response's first byte.
const NOT_YET: u64 = u64::MAX;

impl Activity {
    /// A connection accepted now: awaiting its first request.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            epoch: Instant::now(),
            last_moved: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            awaiting: AtomicBool::new(true),
            awaiting_since: AtomicU64::new(0),
            header_began: AtomicU64::new(0),
            changed: Notify::new(),
            written: AtomicU64::new(0),
            written_at_response: AtomicU64::new(0),
            response_began: AtomicU64::new(NOT_YET),
        })
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Bytes arrived from the client.
    pub(crate) fn read(&self) {
        let now = self.now_ms();
        self.last_moved.store(now, Ordering::Relaxed);
        if self.awaiting.swap(false, Ordering::AcqRel) {
            self.header_began.store(now, Ordering::Relaxed);
        }
    }

    /// `n` bytes went out to the client.
    pub(crate) fn wrote(&self, n: usize) {
        let now = self.now_ms();
        self.last_moved.store(now, Ordering::Relaxed);
        let before = self.written.fetch_add(n as u64, Ordering::Relaxed);
        if self.in_flight.load(Ordering::Acquire) > 0
            && self
                .response_began
                .compare_exchange(NOT_YET, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            self.written_at_response.store(before, Ordering::Relaxed);
        }
    }

    /// A request's headers were parsed; the guard ends it when its response ends (or is
    /// dropped).
    pub(crate) fn request_started(self: &Arc<Self>) -> RequestGuard {
        if self.in_flight.fetch_add(1, Ordering::AcqRel) == 0 {
            self.response_began.store(NOT_YET, Ordering::Release);
        }
        self.awaiting.store(false, Ordering::Release);
        RequestGuard(self.clone())
    }
}

/// Ends a request when dropped: once none is left, the connection awaits the next one.
pub(crate) struct RequestGuard(Arc<Activity>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let activity = &self.0;
        if activity.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            activity
                .awaiting_since
                .store(activity.now_ms(), Ordering::Relaxed);
            activity.awaiting.store(true, Ordering::Release);
            activity.changed.notify_one();
        }
    }
}

/// A response body that ends its request (through its [`RequestGuard`]) when it is done.
pub(crate) struct Guarded<B> {
    inner: B,
    _guard: RequestGuard,
}

impl<B> Guarded<B> {
    pub(crate) fn new(inner: B, guard: RequestGuard) -> Self {
        Self {
            inner,
            _guard: guard,
        }
    }
}

impl<B: Body<Data = Bytes> + Unpin> Body for Guarded<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Whether the connection cap is nearly reached: fewer than a sixteenth of the slots (at
/// least one) are free.
pub(crate) struct Pressure {
    permits: Arc<Semaphore>,
    reserve: usize,
    rising: Notify,
}

impl Pressure {
    /// Pressure on `permits`, a semaphore of `max` connection slots.
    pub(crate) fn new(permits: Arc<Semaphore>, max: usize) -> Arc<Self> {
        Arc::new(Self {
            permits,
            reserve: (max / 16).max(1),
            rising: Notify::new(),
        })
    }

    /// Whether the cap is nearly reached now.
    pub(crate) fn high(&self) -> bool {
        self.permits.available_permits() < self.reserve
    }

    /// Called after each accepted connection took its slot: wakes every watcher if the cap
    /// is now nearly reached, so awaiting connections are reclaimed at once.
    pub(crate) fn check(&self) {
        if self.high() {
            self.rising.notify_waiters();
        }
    }
}

/// Resolves when the connection must be closed, with the reason: no byte moved for `idle`
/// (mid-request or not), or its next request did not begin within `header` (within
/// [`PRESSURE_GRACE`] under pressure); or, while the connection cap is nearly reached, a
/// response read more slowly than `min_rate` bytes a second on average once `header` has
/// passed since its first byte (hostile12: 1,200 presigned GETs read at 100 bytes a second
/// held every slot for good).
pub(crate) async fn expired(
    activity: Arc<Activity>,
    header: Duration,
    idle: Duration,
    pressure: Arc<Pressure>,
    min_rate: u64,
) -> &'static str {
    let header_ms = header.as_millis() as u64;
    let idle_ms = idle.as_millis() as u64;
    let grace_ms = header_ms.min(PRESSURE_GRACE.as_millis() as u64);
    loop {
        // Registered before the state is read, so a change in between still wakes us.
        let rising = pressure.rising.notified();
        tokio::pin!(rising);
        rising.as_mut().enable();
        let now = activity.now_ms();
        let last = activity.last_moved.load(Ordering::Relaxed);
        let idle_left = idle_ms.saturating_sub(now.saturating_sub(last));
        if idle_left == 0 {
            return "idle";
        }
        let mut wait = idle_left;
        if activity.awaiting.load(Ordering::Acquire) {
            let since = activity.awaiting_since.load(Ordering::Relaxed).max(last);
            let waited = now.saturating_sub(since);
            let (limit, reason) = if pressure.high() {
                (
                    grace_ms,
                    "no request while the connection cap is nearly reached",
                )
            } else {
                (header_ms, "no request within the header timeout")
            };
            if waited >= limit {
                return reason;
            }
            wait = wait.min(limit - waited);
        } else if activity.in_flight.load(Ordering::Acquire) == 0 {
            // Its request's headers are arriving but not complete: a client trickling them a
            // byte at a time keeps no slot longer than a silent one (ops5: 1,200 such
            // connections held every slot for hyper's whole header timeout).
            let (since, limit, reason) = if pressure.high() {
                (
                    activity.header_began.load(Ordering::Relaxed),
                    grace_ms,
                    "request headers too slow while the connection cap is nearly reached",
                )
            } else {
                (
                    activity.awaiting_since.load(Ordering::Relaxed),
                    header_ms,
                    "request headers not complete within the header timeout",
                )
            };
            let waited = now.saturating_sub(since);
            if waited >= limit {
                return reason;
            }
            wait = wait.min(limit - waited);
        } else if pressure.high() && min_rate > 0 {
            let began = activity.response_began.load(Ordering::Acquire);
            if began != NOT_YET {
                let elapsed = now.saturating_sub(began);
                let sent = activity
                    .written
                    .load(Ordering::Relaxed)
                    .saturating_sub(activity.written_at_response.load(Ordering::Relaxed));
                if elapsed >= header_ms && sent.saturating_mul(1000) < min_rate * elapsed {
                    return "response read too slowly while the connection cap is nearly reached";
                }
            }
            // Looked at again each second while the response goes out.
            wait = wait.min(1000);
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
            _ = activity.changed.notified() => {}
            _ = rising => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pressure(max: usize) -> (Arc<Semaphore>, Arc<Pressure>) {
        let permits = Arc::new(Semaphore::new(max));
        (permits.clone(), Pressure::new(permits, max))
    }

    #[tokio::test]
    async fn a_silent_connection_expires_at_the_header_timeout() {
        let (_, p) = pressure(16);
        let a = Activity::new();
        let started = Instant::now();
        let header = Duration::from_millis(300);
        let reason = expired(a, header, Duration::from_secs(60), p, 1024).await;
        assert_eq!(reason, "no request within the header timeout");
        assert!(started.elapsed() >= header && started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn under_pressure_an_awaiting_connection_expires_after_the_grace() {
        let (permits, p) = pressure(1);
        let _only = permits.try_acquire_owned().unwrap();
        let a = Activity::new();
        let started = Instant::now();
        let reason = expired(a, Duration::from_secs(60), Duration::from_secs(60), p, 1024).await;
        assert_eq!(
            reason,
            "no request while the connection cap is nearly reached"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    /// A client sending one more header byte every `ms` milliseconds, until aborted.
    fn trickle(a: &Arc<Activity>, ms: u64) -> tokio::task::JoinHandle<()> {
        let a = a.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                a.read();
            }
        })
    }

    #[tokio::test]
    async fn under_pressure_trickled_headers_expire_after_the_grace() {
        let (permits, p) = pressure(1);
        let _only = permits.try_acquire_owned().unwrap();
        let a = Activity::new();
        a.read();
        let trickle = trickle(&a, 100);
        let started = Instant::now();
        let reason = expired(a, Duration::from_secs(60), Duration::from_secs(60), p, 1024).await;
        trickle.abort();
        assert_eq!(
            reason,
            "request headers too slow while the connection cap is nearly reached"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[tokio::test]
    async fn trickled_headers_expire_at_the_header_timeout() {
        let (_, p) = pressure(16);
        let a = Activity::new();
        a.read();
        let trickle = trickle(&a, 50);
        let reason = expired(
            a,
            Duration::from_millis(400),
            Duration::from_secs(60),
            p,
            1024,
        )
        .await;
        trickle.abort();
        assert_eq!(
            reason,
            "request headers not complete within the header timeout"
        );
    }

    /// A client reading its response `n` bytes every `ms` milliseconds, until aborted.
    fn slow_reader(a: &Arc<Activity>, n: usize, ms: u64) -> tokio::task::JoinHandle<()> {
        let a = a.clone();
        tokio::spawn(async move {
            loop {
                a.wrote(n);
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
        })
    }

    #[tokio::test]
    async fn under_pressure_a_response_read_too_slowly_expires() {
        let (permits, p) = pressure(1);
        let _only = permits.try_acquire_owned().unwrap();
        let a = Activity::new();
        a.read();
        let _guard = a.request_started();
        // 10 bytes every 50 ms: 200 bytes a second, under the 1,024 floor.
        let reader = slow_reader(&a, 10, 50);
        let started = Instant::now();
        let reason = expired(
            a,
            Duration::from_millis(400),
            Duration::from_secs(60),
            p,
            1024,
        )
        .await;
        reader.abort();
        assert_eq!(
            reason,
            "response read too slowly while the connection cap is nearly reached"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[tokio::test]
    async fn a_response_read_fast_enough_or_without_pressure_keeps_its_slot() {
        for (max, bytes) in [(1, 1000), (16, 10)] {
            let (permits, p) = pressure(max);
            let _only = permits.try_acquire_owned().unwrap();
            let a = Activity::new();
            a.read();
            let _guard = a.request_started();
            // 1000 bytes every 50 ms under pressure (20 KB/s); 200 B/s without.
            let reader = slow_reader(&a, bytes, 50);
            let watch = expired(
                a,
                Duration::from_millis(200),
                Duration::from_secs(60),
                p,
                1024,
            );
            let outcome = tokio::time::timeout(Duration::from_millis(1500), watch).await;
            reader.abort();
            assert!(outcome.is_err(), "kept: {outcome:?}");
        }
    }

    #[test]
    fn a_request_in_progress_is_not_awaiting_and_its_end_is() {
        let a = Activity::new();
        a.read();
        assert!(!a.awaiting.load(Ordering::Acquire));
        let g1 = a.request_started();
        let g2 = a.request_started();
        drop(g1);
        assert!(
            !a.awaiting.load(Ordering::Acquire),
            "one is still in flight"
        );
        drop(g2);
        assert!(a.awaiting.load(Ordering::Acquire));
    }

    #[test]
    fn pressure_is_the_last_sixteenth_of_the_slots() {
        let (permits, p) = pressure(32);
        let held = permits.clone().try_acquire_many_owned(30).unwrap();
        assert!(!p.high());
        let more = permits.clone().try_acquire_owned().unwrap();
        assert!(p.high());
        drop((held, more));
        let (permits, p) = pressure(1);
        assert!(!p.high());
        let _only = permits.try_acquire_owned().unwrap();
        assert!(p.high());
    }
}
