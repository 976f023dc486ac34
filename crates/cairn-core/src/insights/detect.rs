//! The detection arithmetic (monitoring spec §7.2, Cairn's own design): minute buckets,
//! the baseline over the seven days before the day of the minute plus that day so far,
//! the threshold, and the rules that start, continue and end an insight.

/// Minutes in a day.
pub const DAY: i64 = 1440;
/// Minutes in the seven baseline days.
pub const WEEK: i64 = 7 * DAY;

/// Detection parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    /// K: deviations above the mean.
    pub k: f64,
    /// R: multiple of the mean.
    pub r: f64,
    /// C_min: the least count per minute that can start an insight.
    pub c_min: f64,
    /// Q: inactive minutes that end an insight; also the cool-down after one.
    pub quiet: i64,
    /// Longest insight, in minutes.
    pub max_minutes: i64,
    /// A minute is evaluated this long after it closed (late events still count).
    pub settle_lag_secs: i64,
    /// No evaluation until this long after Insights were enabled or logging restarted.
    pub warm_up_secs: i64,
    /// Days of per-minute series kept (ListInsightsMetricData reaches back 90 days).
    pub series_days: i64,
    /// Days of attribution counters kept (a baseline reaches back at most eight days).
    pub attribution_days: i64,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            k: 4.0,
            r: 2.0,
            c_min: 3.0,
            quiet: 5,
            max_minutes: DAY,
            settle_lag_secs: 300,
            warm_up_secs: 36 * 3600,
            series_days: 90,
            attribution_days: 9,
        }
    }
}

/// The baseline window of minute `t`: `[midnight(t) - 7 days, t)`, and its length
/// `10080 + minute of day`.
pub fn window(t: i64) -> (i64, i64, i64) {
    let of_day = t.rem_euclid(DAY);
    (t - of_day - WEEK, t, WEEK + of_day)
}

/// A baseline: mean and deviation over a window (empty minutes are zeros) and the
/// threshold derived from them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Baseline {
    /// μ = S / D.
    pub mean: f64,
    /// σ = √max(0, Q/D − μ²).
    pub deviation: f64,
    /// D, minutes.
    pub duration: i64,
    /// τ = max(μ + Kσ, Rμ, C_min).
    pub threshold: f64,
}

/// The baseline of a window of `duration` minutes with Σc = `sum` and Σc² = `sum_sq`.
pub fn baseline(sum: i64, sum_sq: i64, duration: i64, p: &Params) -> Baseline {
    let d = duration.max(1) as f64;
    let mean = sum as f64 / d;
    let deviation = (sum_sq as f64 / d - mean * mean).max(0.0).sqrt();
    let threshold = (mean + p.k * deviation).max(p.r * mean).max(p.c_min);
    Baseline {
        mean,
        deviation,
        duration,
        threshold,
    }
}

/// Whether a count is at or over a threshold.
pub fn breaches(count: i64, threshold: f64) -> bool {
    count as f64 >= threshold
}

/// An open insight's running figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Running {
    /// Start minute.
    pub start: i64,
    /// Last minute at or over the frozen threshold.
    pub last_active: i64,
    /// Σ counts from the start through `last_active`.
    pub sum_to_last_active: i64,
    /// Σ counts from the start through the last evaluated minute.
    pub sum_running: i64,
}

/// How an open insight ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ending {
    /// End minute `e` (one past the last active minute): the End event's time.
    pub end: i64,
    /// No new insight on the series before this minute.
    pub cooldown_until: i64,
}

/// Advances an open insight over minute `t` with count `count`; returns how it ends, if it
/// ends at `t`: after `quiet` inactive minutes, or when it reaches `max_minutes`.
pub fn step(run: &mut Running, t: i64, count: i64, threshold: f64, p: &Params) -> Option<Ending> {
    run.sum_running += count;
    if breaches(count, threshold) {
        run.last_active = t;
        run.sum_to_last_active = run.sum_running;
    }
    if t - run.last_active >= p.quiet {
        let end = run.last_active + 1;
        return Some(Ending {
            end,
            cooldown_until: end + p.quiet,
        });
    }
    if t + 1 - run.start >= p.max_minutes {
        return Some(Ending {
            end: run.last_active + 1,
            cooldown_until: t + 1,
        });
    }
    None
}

/// Rounds an average to ten decimal places, as AWS's records carry them.
pub fn round10(x: f64) -> f64 {
    (x * 1e10).round() / 1e10
}
