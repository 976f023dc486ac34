//! Admin commands that work directly on a data dir (also while the server runs):
//! `cairn events` prints stored records, `cairn lifecycle run` applies lifecycle
//! expiration as of a given time.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use cairn_store::{Store, events};
use clap::{Args, Subcommand};

/// Arguments of `cairn events`.
#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Data directory.
    #[arg(long, env = "CAIRN_DATA_DIR", default_value = "cairn-data")]
    data_dir: PathBuf,
    /// `Management` or `Data`.
    #[arg(long, default_value = "Management")]
    category: String,
}

/// Prints every stored record of a category as one JSON object per line, oldest first.
pub fn events(args: EventsArgs) -> anyhow::Result<()> {
    let store = Store::open(&args.data_dir.join("cairn.db")).context("opening store")?;
    let mut out = std::io::stdout().lock();
    let mut after = 0;
    loop {
        let category = args.category.clone();
        let page = store.read_blocking(move |c| events::records(c, &category, after, 10_000))?;
        let Some((last, _)) = page.last() else {
            return Ok(());
        };
        after = *last;
        for (_, record) in page {
            writeln!(out, "{record}")?;
        }
    }
}

/// Arguments of `cairn lifecycle`.
#[derive(Args, Debug)]
pub struct LifecycleArgs {
    #[command(subcommand)]
    command: LifecycleCommand,
}

#[derive(Subcommand, Debug)]
enum LifecycleCommand {
    /// Expire every object due under its bucket's lifecycle rules.
    Run {
        /// Data directory.
        #[arg(long, env = "CAIRN_DATA_DIR", default_value = "cairn-data")]
        data_dir: PathBuf,
        /// The time to evaluate rules at, epoch seconds (default: now).
        #[arg(long)]
        now: Option<f64>,
    },
}

/// Runs a lifecycle command.
pub fn lifecycle(args: LifecycleArgs) -> anyhow::Result<()> {
    match args.command {
        LifecycleCommand::Run { data_dir, now } => {
            let store = Store::open(&data_dir.join("cairn.db")).context("opening store")?;
            let now = now.unwrap_or_else(|| chrono::Utc::now().timestamp() as f64);
            let expired = crate::serve::expire_objects(&store, &data_dir, now)?;
            println!("{}", serde_json::json!({"Expired": expired}));
            Ok(())
        }
    }
}
