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
            let clock = chrono::Utc::now().timestamp() as f64;
            let now = now.unwrap_or(clock);
            if let Some(warning) = future_warning(now, clock) {
                eprintln!("{warning}");
            }
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

/// What a `--now` more than an hour after the system clock does to a server on that clock
/// (ops4: a mistyped year turned Insights off for a year, silently): every minute up to it is
/// marked evaluated, so the server evaluates none until the clock gets there.
fn future_warning(now: f64, clock: f64) -> Option<String> {
    let ahead = now - clock;
    (ahead > 3600.0).then(|| {
        format!(
            "cairn: --now is {:.1} days after the system clock: every minute up to it is now marked evaluated, so a server on the system clock evaluates no Insights until then (turn the trail's Insights selectors off and on again to start over)",
            ahead / 86_400.0
        )
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_now_far_ahead_of_the_clock_is_warned_of() {
        assert_eq!(super::future_warning(1_000.0, 1_000.0), None);
        assert_eq!(super::future_warning(4_000.0, 1_000.0), None);
        let w = super::future_warning(1_000.0 + 365.0 * 86_400.0, 1_000.0).unwrap();
        assert!(w.contains("365.0 days after the system clock"), "{w}");
    }
}
