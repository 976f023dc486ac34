//! CloudWatch Logs housekeeping: the retention sweep the server runs with its periodic sweep,
//! and `cairn logs sweep --data-dir D --now TIME` to run it on a data dir at a chosen time.

use std::path::PathBuf;

use cairn_store::Store;
use clap::{Args, Subcommand};

/// Events deleted per write job, so a large expiry never holds the writer for long.
const BATCH: i64 = 5_000;

/// Applies log group retention as of `now_ms`: deletes expired events in batches (plus old
/// Logs Insights answers and metric datapoints). Returns how many events were deleted.
pub async fn sweep(store: &Store, now_ms: i64) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        let n = store
            .write(move |c| cairn_core::logs::sweep::sweep(c, now_ms, BATCH))
            .await??;
        total += n;
        if n < BATCH as usize {
            return Ok(total);
        }
    }
}

/// Arguments of `cairn logs`.
#[derive(Args, Debug)]
pub struct LogsArgs {
    #[command(subcommand)]
    command: LogsCommand,
}

#[derive(Subcommand, Debug)]
enum LogsCommand {
    /// Delete log events older than their group's retention.
    Sweep {
        /// Data directory.
        #[arg(long, env = "CAIRN_DATA_DIR", default_value = "cairn-data")]
        data_dir: PathBuf,
        /// The time to apply retention at, epoch seconds or ISO-8601 (default: now).
        #[arg(long, value_parser = crate::timearg::parse)]
        now: Option<f64>,
    },
}

/// Runs a `cairn logs` command.
pub fn run(args: LogsArgs) -> anyhow::Result<()> {
    match args.command {
        LogsCommand::Sweep { data_dir, now } => {
            let store = crate::admin_store::open_existing(&data_dir)?;
            let now_ms = now.map_or_else(
                || chrono::Utc::now().timestamp_millis(),
                |s| (s * 1000.0) as i64,
            );
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let expired = runtime.block_on(sweep(&store, now_ms))?;
            println!("{}", serde_json::json!({"Expired": expired}));
            Ok(())
        }
    }
}
