//! Bounds of the numeric settings and flags: every duration, size and count is checked where
//! it is parsed (a clap value parser for the flag and its `CAIRN_*` variable, the same check
//! for its TOML key), so a value that is not finite, negative, zero where zero means nothing,
//! or beyond what the server can schedule or hold is refused with its bounds instead of
//! panicking later or polling in a busy loop.

use std::fmt::Display;
use std::str::FromStr;

/// One day, in seconds.
pub const DAY: u64 = 86_400;
/// One year (of 366 days), in seconds: the longest interval a setting may take.
pub const YEAR: u64 = 366 * DAY;

/// A number of seconds (with a fraction) between `min` and `max`, or exactly 0 when
/// `zero` says what 0 means.
#[derive(Clone, Copy, Debug)]
pub struct Secs {
    /// Smallest value other than 0.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// What 0 means, when 0 is allowed.
    pub zero: Option<&'static str>,
}

impl Secs {
    /// Checks a value.
    pub fn check(&self, v: f64) -> Result<f64, String> {
        if v == 0.0 && self.zero.is_some() {
            return Ok(0.0);
        }
        if v.is_finite() && v >= self.min && v <= self.max {
            return Ok(v);
        }
        let zero = self
            .zero
            .map(|z| format!(", or 0 ({z})"))
            .unwrap_or_default();
        Err(format!(
            "must be a number of seconds from {} to {} ({}){zero}",
            self.min,
            self.max,
            describe(self.max)
        ))
    }

    /// Parses and checks a flag's text.
    pub fn parse(&self, text: &str) -> Result<f64, String> {
        let v: f64 = text
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} is not a number of seconds"))?;
        self.check(v)
    }
}

/// "one year", "one day", … for a bound in seconds.
fn describe(secs: f64) -> String {
    match secs as u64 {
        YEAR => "one year".to_owned(),
        DAY => "one day".to_owned(),
        3600 => "one hour".to_owned(),
        s => format!("{s} s"),
    }
}

/// A whole number between `min` and `max`, of `unit`s.
#[derive(Clone, Copy, Debug)]
pub struct Count<T> {
    /// Smallest value.
    pub min: T,
    /// Largest value.
    pub max: T,
    /// What it counts (`seconds`, `bytes`, …).
    pub unit: &'static str,
}

impl<T: FromStr + PartialOrd + Display + Copy> Count<T> {
    /// Checks a value.
    pub fn check(&self, v: T) -> Result<T, String> {
        if v >= self.min && v <= self.max {
            Ok(v)
        } else {
            Err(format!(
                "must be a whole number of {} from {} to {}",
                self.unit, self.min, self.max
            ))
        }
    }

    /// Parses and checks a flag's text.
    pub fn parse(&self, text: &str) -> Result<T, String> {
        let v: T = text.trim().parse().map_err(|_| {
            format!(
                "{text:?} is not a whole number of {} from {} to {}",
                self.unit, self.min, self.max
            )
        })?;
        self.check(v)
    }
}

/// `--delivery-interval`: at least 50 ms (the delivery loop's tick), at most a year.
pub const DELIVERY_INTERVAL: Secs = Secs {
    min: 0.05,
    max: YEAR as f64,
    zero: None,
};
/// `--digest-interval`.
pub const DIGEST_INTERVAL: Secs = Secs {
    min: 1.0,
    max: YEAR as f64,
    zero: None,
};
/// `--alarm-tick-secs` (0 turns evaluation off).
pub const ALARM_TICK: Secs = Secs {
    min: 0.05,
    max: DAY as f64,
    zero: Some("evaluation off"),
};
/// `--notification-wait` of `cairn flush` and `cairn alarms run`.
pub const NOTIFICATION_WAIT: Secs = Secs {
    min: 0.0,
    max: DAY as f64,
    zero: None,
};
/// `cairn bench policy --seconds`.
pub const BENCH_SECONDS: Secs = Secs {
    min: 0.1,
    max: DAY as f64,
    zero: None,
};
/// `--sweep-interval-secs`.
pub const SWEEP_INTERVAL: Count<u64> = Count {
    min: 1,
    max: YEAR,
    unit: "seconds",
};
/// `--header-timeout-secs` and `--idle-timeout-secs`.
pub const TIMEOUT: Count<u64> = Count {
    min: 1,
    max: DAY,
    unit: "seconds",
};
/// `--insights-warm-up`.
pub const WARM_UP: Count<u64> = Count {
    min: 0,
    max: YEAR,
    unit: "seconds",
};
/// `--retention-days`.
pub const RETENTION_DAYS: Count<u32> = Count {
    min: 1,
    max: 36_500,
    unit: "days",
};
/// `--max-connections`.
pub const MAX_CONNECTIONS: Count<usize> = Count {
    min: 1,
    max: cairn_api::listener::MAX_CONNECTIONS,
    unit: "connections",
};
/// `--max-body-bytes` (JSON and Query bodies are held in memory).
pub const MAX_BODY_BYTES: Count<usize> = Count {
    min: 1,
    max: 1 << 30,
    unit: "bytes",
};
/// `--min-body-rate` (0: no floor).
pub const MIN_BODY_RATE: Count<u64> = Count {
    min: 0,
    max: 1 << 30,
    unit: "bytes a second",
};
/// `--max-store-mb`.
pub const MAX_STORE_MB: Count<u64> = Count {
    min: 1,
    max: 1 << 40,
    unit: "MiB",
};
/// `cairn flush --max-events-per-file`.
pub const EVENTS_PER_FILE: Count<usize> = Count {
    min: 1,
    max: 10_000_000,
    unit: "events",
};
/// `cairn flush --max-file-bytes`.
pub const FILE_BYTES: Count<usize> = Count {
    min: 1,
    max: 1 << 30,
    unit: "bytes",
};
/// `cairn validate-logs --concurrency`.
pub const CONCURRENCY: Count<usize> = Count {
    min: 1,
    max: 1024,
    unit: "fetches",
};

/// Value parsers for clap (`value_parser = crate::bounds::…`).
pub mod flag {
    use super::*;

    /// `--delivery-interval`.
    pub fn delivery_interval(s: &str) -> Result<f64, String> {
        DELIVERY_INTERVAL.parse(s)
    }
    /// `--digest-interval`.
    pub fn digest_interval(s: &str) -> Result<f64, String> {
        DIGEST_INTERVAL.parse(s)
    }
    /// `--alarm-tick-secs`.
    pub fn alarm_tick(s: &str) -> Result<f64, String> {
        ALARM_TICK.parse(s)
    }
    /// `--notification-wait`.
    pub fn notification_wait(s: &str) -> Result<f64, String> {
        NOTIFICATION_WAIT.parse(s)
    }
    /// `cairn bench policy --seconds`.
    pub fn bench_seconds(s: &str) -> Result<f64, String> {
        BENCH_SECONDS.parse(s)
    }
    /// `--sweep-interval-secs`.
    pub fn sweep_interval(s: &str) -> Result<u64, String> {
        SWEEP_INTERVAL.parse(s)
    }
    /// `--header-timeout-secs`, `--idle-timeout-secs`.
    pub fn timeout(s: &str) -> Result<u64, String> {
        TIMEOUT.parse(s)
    }
    /// `--insights-warm-up`.
    pub fn warm_up(s: &str) -> Result<u64, String> {
        WARM_UP.parse(s)
    }
    /// `--retention-days`.
    pub fn retention_days(s: &str) -> Result<u32, String> {
        RETENTION_DAYS.parse(s)
    }
    /// `--max-connections`.
    pub fn max_connections(s: &str) -> Result<usize, String> {
        MAX_CONNECTIONS.parse(s)
    }
    /// `--max-body-bytes`.
    pub fn max_body_bytes(s: &str) -> Result<usize, String> {
        MAX_BODY_BYTES.parse(s)
    }
    /// `--min-body-rate`.
    pub fn min_body_rate(s: &str) -> Result<u64, String> {
        MIN_BODY_RATE.parse(s)
    }
    /// `--max-store-mb`.
    pub fn max_store_mb(s: &str) -> Result<u64, String> {
        MAX_STORE_MB.parse(s)
    }
    /// `--max-events-per-file`.
    pub fn events_per_file(s: &str) -> Result<usize, String> {
        EVENTS_PER_FILE.parse(s)
    }
    /// `--max-file-bytes`.
    pub fn file_bytes(s: &str) -> Result<usize, String> {
        FILE_BYTES.parse(s)
    }
    /// `--concurrency`.
    pub fn concurrency(s: &str) -> Result<usize, String> {
        CONCURRENCY.parse(s)
    }
    /// `--listen`: `ip:port`, `[ipv6]:port` or `host:port` (a name such as `localhost` is
    /// resolved once, at start, to its first IPv4 address, else its first address: the one
    /// clients that say `127.0.0.1` reach).
    pub fn listen(s: &str) -> Result<std::net::SocketAddr, String> {
        use std::net::ToSocketAddrs;
        if let Ok(addr) = s.parse() {
            return Ok(addr);
        }
        let shape = || format!("must be host:port (for example 127.0.0.1:4599), not {s:?}");
        let (host, port) = s.rsplit_once(':').ok_or_else(shape)?;
        if host.is_empty() || port.parse::<u16>().is_err() {
            return Err(shape());
        }
        let addrs: Vec<std::net::SocketAddr> = (host, port.parse::<u16>().unwrap_or_default())
            .to_socket_addrs()
            .map_err(|e| format!("names no address: {s:?} ({e})"))?
            .collect();
        addrs
            .iter()
            .find(|a| a.is_ipv4())
            .or_else(|| addrs.first())
            .copied()
            .ok_or_else(|| format!("names no address: {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_takes_addresses_and_host_names() {
        assert_eq!(flag::listen("127.0.0.1:0").unwrap().port(), 0);
        assert_eq!(flag::listen("[::1]:7").unwrap().port(), 7);
        let local = flag::listen("localhost:4599").unwrap();
        assert!(local.ip().is_loopback() && local.port() == 4599, "{local}");
        assert!(
            local.is_ipv4(),
            "localhost is 127.0.0.1 where it has both: {local}"
        );
        for bad in ["localhost", ":4599", "localhost:99999", "localhost:x", ""] {
            assert!(flag::listen(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn seconds_must_be_finite_positive_and_bounded() {
        for bad in [
            "inf",
            "-inf",
            "NaN",
            "nan",
            "1e300",
            "18446744073709551615",
            "-1",
            "0",
            "0.0000001",
            "x",
        ] {
            assert!(DELIVERY_INTERVAL.parse(bad).is_err(), "{bad}");
        }
        assert_eq!(DELIVERY_INTERVAL.parse("0.05"), Ok(0.05));
        assert_eq!(DELIVERY_INTERVAL.parse("86400"), Ok(86_400.0));
        assert!(
            DELIVERY_INTERVAL
                .parse("1e300")
                .unwrap_err()
                .contains("one year")
        );
        assert_eq!(ALARM_TICK.parse("0"), Ok(0.0));
        assert!(ALARM_TICK.parse("1e20").is_err());
        assert!(ALARM_TICK.parse("-1").is_err());
        assert!(DIGEST_INTERVAL.parse("nan").is_err());
        assert_eq!(NOTIFICATION_WAIT.parse("0"), Ok(0.0));
        assert!(NOTIFICATION_WAIT.parse("18446744073709551615").is_err());
    }

    #[test]
    fn counts_are_bounded() {
        assert!(MAX_CONNECTIONS.parse("3000000000000000000").is_err());
        assert!(MAX_CONNECTIONS.parse("0").is_err());
        assert_eq!(MAX_CONNECTIONS.parse("1024"), Ok(1024));
        assert!(MAX_BODY_BYTES.parse("0").is_err());
        assert!(CONCURRENCY.parse("0").is_err());
        assert!(CONCURRENCY.parse("5000").is_err());
        assert_eq!(CONCURRENCY.parse("1024"), Ok(1024));
        assert!(RETENTION_DAYS.parse("0").is_err());
        assert!(TIMEOUT.parse("-1").unwrap_err().contains("from 1 to 86400"));
    }
}
