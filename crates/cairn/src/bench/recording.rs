//! `cairn bench recording`: how many events per second the store makes durable, with
//! `--concurrency` writers submitting one event each at a time (as concurrent requests do).
//! Group commit is what scales it: many queued events share one `COMMIT` and one fsync.

use std::time::Instant;

use cairn_store::Store;
use clap::Args;

use super::populate;

/// Arguments of `cairn bench recording`.
#[derive(Args, Debug)]
pub struct RecordingArgs {
    /// Events to commit per concurrency level.
    #[arg(long, default_value_t = 20_000)]
    events: u64,
    /// Comma-separated concurrency levels.
    #[arg(long, default_value = "1,8,64,256")]
    concurrency: String,
}

/// Runs the scenario and prints one line per concurrency level.
pub fn run(args: RecordingArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        for level in args.concurrency.split(',') {
            let level: u64 = level.trim().parse()?;
            let dir = tempfile::tempdir()?;
            let store = Store::open(&dir.path().join("cairn.db"))?;
            let now = chrono::Utc::now().timestamp();
            let started = Instant::now();
            let mut tasks = Vec::new();
            for w in 0..level {
                let store = store.clone();
                let per = args.events / level;
                tasks.push(tokio::spawn(async move {
                    for n in 0..per {
                        let i = w * per + n;
                        store
                            .write(move |c| {
                                let (record, time, user, resources) =
                                    populate::synthetic_for_bench(i, now);
                                cairn_core::record::append(
                                    c,
                                    &cairn_core::record::PreparedEvent::new(
                                        &record, time, &user, resources,
                                    ),
                                )
                            })
                            .await??;
                    }
                    Ok::<(), anyhow::Error>(())
                }));
            }
            for t in tasks {
                t.await??;
            }
            let elapsed = started.elapsed().as_secs_f64();
            let committed = (args.events / level) * level;
            println!(
                "concurrency={level} events={committed} durable_events_per_s={:.0}",
                committed as f64 / elapsed
            );
        }
        Ok(())
    })
}
