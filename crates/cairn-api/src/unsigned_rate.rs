//! A bound on the unsigned calls that are recorded though they fail: AssumeRoleWithWebIdentity
//! and AssumeRoleWithSAML naming an existing role, and failed console sign-ins. Their ARNs are no secret, so without a bound
//! anyone who can reach the port could fill the event store at the disk's speed, and a full
//! store stops all recording (hostile14: 4,000 calls in 8 s, 65 MB). As AWS's STS does, such
//! calls are throttled: per source (an IPv6 address by its /64) and in all, and a throttled
//! call is answered without a record. Time is the server's clock ([`crate::AppState::now`]), so
//! tests drive the refill with `--clock-file`.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

/// Calls a second each source may make, and its burst.
const PER_SOURCE: (f64, f64) = (2.0, 20.0);
/// Calls a second all sources may make together, and the burst.
const IN_ALL: (f64, f64) = (10.0, 100.0);
/// Sources tracked at most (past it the table starts over).
const MAX_SOURCES: usize = 10_000;

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    /// Epoch seconds of the last refill.
    at: f64,
}

impl Bucket {
    fn full(burst: f64, now: f64) -> Self {
        Bucket {
            tokens: burst,
            at: now,
        }
    }

    /// Refills at `rate` up to `burst`; whether a token is there to take.
    fn ready(&mut self, (rate, burst): (f64, f64), now: f64) -> bool {
        // A clock set back refills nothing (and is not a refill later either).
        let secs = (now - self.at).max(0.0);
        self.tokens = (self.tokens + secs * rate).min(burst);
        self.at = self.at.max(now);
        self.tokens >= 1.0
    }
}

struct State {
    all: Bucket,
    sources: HashMap<String, Bucket>,
}

static STATE: LazyLock<Mutex<State>> = LazyLock::new(|| {
    Mutex::new(State {
        all: Bucket::full(IN_ALL.1, f64::NEG_INFINITY),
        sources: HashMap::new(),
    })
});

/// Whether an unsigned call from `source_ip` may be recorded at `now` (taking its token).
pub fn allow(source_ip: &str, now: chrono::DateTime<chrono::Utc>) -> bool {
    allow_at(
        &mut STATE.lock().unwrap_or_else(|e| e.into_inner()),
        source_ip,
        now.timestamp_millis() as f64 / 1000.0,
    )
}

fn allow_at(state: &mut State, source_ip: &str, now: f64) -> bool {
    let key = source_key(source_ip);
    if state.sources.len() >= MAX_SOURCES && !state.sources.contains_key(&key) {
        state.sources.clear();
    }
    let source = state
        .sources
        .entry(key)
        .or_insert_with(|| Bucket::full(PER_SOURCE.1, now));
    if !source.ready(PER_SOURCE, now) || !state.all.ready(IN_ALL, now) {
        return false;
    }
    source.tokens -= 1.0;
    state.all.tokens -= 1.0;
    true
}

/// An IPv4 address as it is; an IPv6 one by its /64 (one host has many).
pub(crate) fn source_key(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => ip.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_and_the_whole_are_throttled_and_refill() {
        let t0 = 1_000.0;
        let mut st = State {
            all: Bucket::full(IN_ALL.1, t0),
            sources: HashMap::new(),
        };
        let taken = (0..30)
            .filter(|_| allow_at(&mut st, "10.0.0.1", t0))
            .count();
        assert_eq!(taken, 20, "a source's burst");
        assert!(allow_at(&mut st, "10.0.0.2", t0), "another source");
        // A second later a source has two more.
        let t1 = t0 + 1.0;
        assert_eq!(
            (0..5).filter(|_| allow_at(&mut st, "10.0.0.1", t1)).count(),
            2
        );
        // In all: a hundred from many sources, then ten a second.
        let mut st = State {
            all: Bucket::full(IN_ALL.1, t0),
            sources: HashMap::new(),
        };
        let many = (0..200)
            .filter(|i| allow_at(&mut st, &format!("10.1.{}.{}", i / 250, i % 250), t0))
            .count();
        assert_eq!(many, 100);
        // IPv6 addresses of one /64 are one source.
        assert_eq!(
            source_key("2001:db8:1:2::a"),
            source_key("2001:db8:1:2:ffff::b")
        );
        assert_ne!(source_key("2001:db8:1:2::a"), source_key("2001:db8:1:3::a"));
    }
}
