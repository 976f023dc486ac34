//! `cairn insights run --data-dir D [--now EPOCH]`: counts what was recorded and evaluates
//! every minute closed by `now` for every trail with Insights, exactly as the server's own
//! once-a-minute loop does ([`tick`]), with the warm-up the server last ran with. Safe while
//! the server runs: each batch of minutes commits only if nobody evaluated it first, so no
//! Insights event is ever written twice. A following `cairn flush` delivers them.

use std::path::PathBuf;

use cairn_core::insights::run::{Report, params_from_store, run_once};
use cairn_store::Store;
use clap::{Args, Subcommand};

/// Arguments of `cairn insights`.
#[derive(Args, Debug)]
pub struct InsightsArgs {
    #[command(subcommand)]
    command: InsightsCommand,
}

#[derive(Subcommand, Debug)]
enum InsightsCommand {
    /// Evaluate every closed minute up to `--now` and write the Insights events due.
    Run {
        /// Data directory.
        #[arg(long, env = "CAIRN_DATA_DIR", default_value = "cairn-data")]
        data_dir: PathBuf,
        /// The clock: epoch seconds or ISO-8601 (default: now).
        #[arg(long, value_parser = crate::timearg::parse)]
        now: Option<f64>,
    },
}

/// One evaluation up to `now` (epoch seconds) with the stored warm-up.
pub fn tick(store: &Store, now: i64) -> anyhow::Result<Report> {
    let params = params_from_store(store)?;
    Ok(run_once(store, now, &params)?)
}

/// Runs an insights command.
pub fn run(args: InsightsArgs) -> anyhow::Result<()> {
    match args.command {
        InsightsCommand::Run { data_dir, now } => {
            let store = crate::admin_store::open_existing(&data_dir)?;
            let now = now.unwrap_or_else(|| chrono::Utc::now().timestamp() as f64);
            let report = tick(&store, now.floor() as i64)?;
            println!(
                "{}",
                serde_json::json!({
                    "Counted": report.counted,
                    "Minutes": report.minutes,
                    "Written": report.written,
                })
            );
            Ok(())
        }
    }
}
