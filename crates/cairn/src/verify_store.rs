//! `cairn verify-store`: checks a data dir's event chain offline and reports every
//! deleted, inserted or edited event by seq.
//!
//! It opens the database read-only and never creates or migrates anything, so it can run on
//! a copy, a backup or beside a running server. Exit status: 0 when the chain is intact,
//! 1 when it found breaks, 2 when it could not check.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

/// Arguments of `cairn verify-store`.
#[derive(Args, Debug)]
pub struct VerifyStoreArgs {
    /// Data directory to check.
    #[arg(long, env = "CAIRN_DATA_DIR", default_value = "cairn-data")]
    data_dir: PathBuf,
}

/// Runs the check and prints its findings.
pub fn run(args: VerifyStoreArgs) -> ExitCode {
    let db = args.data_dir.join("cairn.db");
    if !args.data_dir.is_dir() || !db.is_file() {
        eprintln!(
            "cairn: {} is not a Cairn data dir (no cairn.db)",
            args.data_dir.display()
        );
        return ExitCode::from(2);
    }
    let rules = cairn_core::record::index_check::disagreements;
    let report = match cairn_store::events::verify::verify_store(&db, &rules) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cairn: cannot check {}: {e}", db.display());
            return ExitCode::from(2);
        }
    };
    println!(
        "Event store {}: {} events, chain from seq {} (retention anchor) to seq {} (head)",
        db.display(),
        report.events,
        report.anchor.seq,
        report.head.seq
    );
    for b in &report.breaks {
        println!("{b}");
    }
    if report.breaks.is_empty() {
        println!("Chain intact");
        ExitCode::SUCCESS
    } else {
        println!("{} problems found", report.breaks.len());
        ExitCode::from(1)
    }
}
