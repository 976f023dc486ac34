//! `cairn bench insights`: the two CloudTrail Insights figures of BENCHMARKS.md.
//!
//! - `recording`: durable events per second with and without a trail with Insights, in the
//!   same run (phases alternate), while the Insights step (count and evaluate) runs beside
//!   the writers every `--tick-ms` (the server runs it once a minute); a phase with Insights
//!   ends when its last event is counted.
//! - `detection`: the time to evaluate one minute for one region with `--keys` active
//!   (source, name) series holding a full seven-day baseline, every series busy enough in
//!   that minute to need its baseline computed; and the minute in which all of them fire.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cairn_core::insights::detect::{DAY, Params, WEEK};
use cairn_core::insights::evaluate::evaluate_minute;
use cairn_core::insights::run::run_once;
use cairn_model::trail::Trail;
use cairn_store::Store;
use cairn_store::insights::{self as store, KIND_CALL, SeriesDelta, SeriesKey};
use clap::{Args, Subcommand};

use super::populate;

/// Arguments of `cairn bench insights`.
#[derive(Args, Debug)]
pub struct InsightsArgs {
    #[command(subcommand)]
    part: Part,
}

#[derive(Subcommand, Debug)]
enum Part {
    /// Recording throughput with and without an Insights trail.
    Recording {
        /// Events per phase.
        #[arg(long, default_value_t = 20_000)]
        events: u64,
        /// Concurrent writers.
        #[arg(long, default_value_t = 64)]
        concurrency: u64,
        /// Pairs of phases (without and with, in ABBA order).
        #[arg(long, default_value_t = 3)]
        rounds: u32,
        /// Milliseconds between Insights steps during the "with" phases.
        #[arg(long, default_value_t = 1000)]
        tick_ms: u64,
    },
    /// Per-minute detection time.
    Detection {
        /// Active series.
        #[arg(long, default_value_t = 1000)]
        keys: usize,
        /// Minutes between calls of a series in the baseline (1 = a call every minute).
        #[arg(long, default_value_t = 1)]
        every: i64,
    },
}

fn trail(insights: bool) -> Trail {
    let selectors = if insights {
        serde_json::json!([
            {"insight_type": "ApiCallRateInsight", "event_categories": ["Management"]},
            {"insight_type": "ApiErrorRateInsight", "event_categories": ["Management"]}
        ])
    } else {
        serde_json::json!([])
    };
    serde_json::from_value(serde_json::json!({
        "name": "bench", "account": "123456789012", "home_region": "us-east-1",
        "s3_bucket_name": "b", "s3_key_prefix": null, "sns_topic_arn": null,
        "include_global_service_events": true, "is_multi_region_trail": false,
        "log_file_validation_enabled": false, "cloud_watch_logs_log_group_arn": null,
        "cloud_watch_logs_role_arn": null, "kms_key_id": null, "is_organization_trail": false,
        "selectors": {"Basic": [{"read_write_type": "All", "include_management_events": true,
            "data_resources": [], "exclude_management_event_sources": []}]},
        "has_custom_event_selectors": false, "insight_selectors": selectors, "tags": [],
        "status": {"is_logging": true, "start_logging_time": null, "stop_logging_time": null,
            "windows": []},
        "created_at": 0.0
    }))
    .expect("a valid trail")
}

/// Runs a part.
pub fn run(args: InsightsArgs) -> anyhow::Result<()> {
    match args.part {
        Part::Recording {
            events,
            concurrency,
            rounds,
            tick_ms,
        } => recording(events, concurrency, rounds, tick_ms),
        Part::Detection { keys, every } => detection(keys, every),
    }
}

/// Records `events` with `concurrency` writers; returns how many were recorded.
async fn phase(store: &Store, events: u64, concurrency: u64, offset: u64) -> anyhow::Result<u64> {
    let mut tasks = Vec::new();
    let per = events / concurrency;
    for w in 0..concurrency {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..per {
                let i = offset + w * per + n;
                let now = chrono::Utc::now().timestamp();
                let (record, time, user, resources) = populate::synthetic_current(i, now);
                let prepared =
                    cairn_core::record::PreparedEvent::new(&record, time, &user, resources);
                store
                    .write(move |c| cairn_core::record::append(c, &prepared))
                    .await??;
            }
            Ok::<(), anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(per * concurrency)
}

fn recording(events: u64, concurrency: u64, rounds: u32, tick_ms: u64) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("cairn.db"))?;
    let params = Params {
        warm_up_secs: 0,
        ..Params::default()
    };
    let mut offset = 0;
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // ABBA order: the store grows through the run and gets slower as it does, so the
        // phase that runs second in every round would pay for that.
        let order = if round % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for insights in order {
            let t = trail(insights);
            // Armed now, as PutInsightSelectors does: the step then evaluates the minutes
            // that close during the phase, as a server does, not a week of history.
            let armed = chrono::Utc::now().timestamp();
            store.write_blocking(move |c| {
                cairn_store::trails::put(c, &t)?;
                cairn_core::insights::selectors_changed(c, !insights, &t, armed)
            })??;
            if insights {
                // The events of the phase before were recorded without an Insights trail:
                // count them now, outside the timed phase, so that the phase counts its own
                // events only, as a server with Insights on all along does.
                cairn_core::insights::run::count_all(&store)?;
            }
            let stop = Arc::new(AtomicBool::new(false));
            let ticker = insights.then(|| {
                let (store, stop) = (store.clone(), stop.clone());
                std::thread::spawn(move || -> anyhow::Result<usize> {
                    let mut counted = 0;
                    let mut next = Instant::now();
                    while !stop.load(Ordering::Relaxed) {
                        if Instant::now() >= next {
                            counted +=
                                run_once(&store, chrono::Utc::now().timestamp(), &params)?.counted;
                            next = Instant::now() + Duration::from_millis(tick_ms);
                        }
                        std::thread::sleep(Duration::from_millis(tick_ms.min(50)));
                    }
                    Ok(counted)
                })
            });
            let started = Instant::now();
            let recorded = runtime.block_on(phase(&store, events, concurrency, offset))?;
            offset += events;
            stop.store(true, Ordering::Relaxed);
            let mut counted = match ticker {
                Some(h) => h.join().expect("ticker thread")?,
                None => 0,
            };
            if insights {
                // The phase's last events, not yet counted by a step: their counting is part
                // of the phase's cost.
                counted += cairn_core::insights::run::count_all(&store)?;
            }
            let rate = recorded as f64 / started.elapsed().as_secs_f64();
            println!(
                "round={round} insights_trail={insights} events={events} concurrency={concurrency} durable_events_per_s={rate:.0} counted_meanwhile={counted}"
            );
            if insights { &mut with } else { &mut without }.push(rate);
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let (a, b) = (mean(&without), mean(&with));
    println!(
        "mean_without={a:.0} mean_with={b:.0} change={:+.1}%",
        (b - a) / a * 100.0
    );
    Ok(())
}

fn detection(keys: usize, every: i64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("cairn.db"))?;
    // 2026-11-24T12:00Z: the window holds 7 days and 720 minutes.
    let t: i64 = 1_795_521_600 / 60;
    let from = t - t.rem_euclid(DAY) - WEEK;
    let key = |k: usize| SeriesKey {
        account: "123456789012".into(),
        region: "us-east-1".into(),
        kind: KIND_CALL,
        source: format!("svc{}.amazonaws.com", k % 50),
        name: format!("Operation{k}"),
        error_code: String::new(),
    };
    let started = Instant::now();
    let mut rows = 0usize;
    for k in 0..keys {
        let cursor = k as i64;
        let deltas: Vec<SeriesDelta> = (from..t)
            .step_by(every as usize)
            .map(|minute| SeriesDelta {
                key: key(k),
                minute,
                count: 2,
            })
            .chain([SeriesDelta {
                key: key(k),
                minute: t,
                count: 3,
            }])
            .chain([SeriesDelta {
                key: key(k),
                minute: t + 1,
                count: 60,
            }])
            .collect();
        rows += deltas.len();
        store
            .write_blocking(move |c| store::apply_counts(c, cursor, cursor + 1, &deltas, &[]))??;
    }
    println!(
        "filled keys={keys} rows={rows} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let tr = trail(true);
    let p = Params::default();
    for (label, minute) in [("busy_none_fire", t), ("busy_all_fire", t + 1)] {
        let tr = tr.clone();
        let started = Instant::now();
        let written = store.write_blocking(move |c| {
            cairn_store::with_savepoint(c, |c| {
                evaluate_minute(c, &tr, "us-east-1", KIND_CALL, minute, &p)
            })
        })??;
        println!(
            "{label}: keys={keys} every={every} evaluated_minute_ms={:.1} insights_started={}",
            started.elapsed().as_secs_f64() * 1000.0,
            written.len()
        );
    }
    Ok(())
}
