//! `cairn verify-store`: checks a data dir's event chain offline and reports every
//! deleted, inserted or edited event by seq, every object whose file is missing, and damage
//! SQLite's integrity check finds anywhere in the database file.
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
    if let Err(e) = crate::admin_store::readable(&args.data_dir) {
        eprintln!("cairn: {e}");
        return ExitCode::from(2);
    }
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
    // Which schema the data dir is at, beside this binary's (an upgrade is one-way).
    if let Ok(version) = cairn_store::schema_version_of(&db) {
        println!(
            "Schema version {version} (this cairn's: {})",
            cairn_store::SCHEMA_VERSION
        );
    }
    for b in &report.breaks {
        println!("{b}");
    }
    let missing = match missing_object_files(&args.data_dir, &db) {
        Ok(m) => m,
        Err(e) => {
            eprintln!(
                "cairn: cannot list the object files of {}: {e}",
                db.display()
            );
            return ExitCode::from(2);
        }
    };
    for line in &missing {
        println!("{line}");
    }
    // Not a break: a crash leaves the files of the writes it cut off. Many mean the store
    // lost committed rows (a damaged write-ahead log), whose files are then the evidence.
    match unreferenced_object_files(&args.data_dir, &db) {
        Ok(0) => {}
        Ok(n) => println!(
            "{n} object files no record references (a crash leaves the few writes it cut off, and beside a running server its uploads in flight are counted; many mean the store lost committed transactions): the next start moves them to {}",
            cairn_buckets::local::QUARANTINE
        ),
        Err(e) => println!("object files could not be listed: {e}"),
    }
    // Pages the chain walk never reads (other tables, indexes) can be damaged too.
    let damaged = match cairn_store::meta::integrity_check_read_only(&db) {
        Ok(problems) => problems,
        Err(e) => vec![format!("could not be checked: {e}")],
    };
    for problem in &damaged {
        println!("database file damaged: {problem}");
    }
    if report.breaks.is_empty() {
        println!("Chain intact");
    }
    let problems = report.breaks.len() + missing.len() + damaged.len();
    if problems == 0 {
        ExitCode::SUCCESS
    } else {
        let noun = if problems == 1 { "problem" } else { "problems" };
        println!("{problems} {noun} found");
        ExitCode::from(1)
    }
}

/// How many files of `<data_dir>/objects` no object or upload part references.
fn unreferenced_object_files(
    data_dir: &std::path::Path,
    db: &std::path::Path,
) -> anyhow::Result<usize> {
    let referenced: std::collections::HashSet<String> = cairn_store::objects::files_read_only(db)?
        .into_iter()
        .map(|(_, _, file)| file)
        .collect();
    let mut count = 0;
    for entry in std::fs::read_dir(data_dir.join("objects"))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        // A temp file is a write still streaming (or cut off by a stop): never a record's.
        if !referenced.contains(&name) && !name.starts_with(cairn_buckets::local::TEMP_PREFIX) {
            count += 1;
        }
    }
    Ok(count)
}

/// The objects and upload parts whose files are gone from `<data_dir>/objects`, one line
/// each: what a copy of a data dir taken while its server wrote can lack (README, "Backup and
/// restore").
fn missing_object_files(
    data_dir: &std::path::Path,
    db: &std::path::Path,
) -> cairn_store::StoreResult<Vec<String>> {
    let dir = data_dir.join("objects");
    let gone = |rows: Vec<(String, String, String)>| -> Vec<(String, String, String)> {
        rows.into_iter()
            .filter(|(_, _, file)| !dir.join(file).exists())
            .collect()
    };
    let mut missing = gone(cairn_store::objects::files_read_only(db)?);
    if !missing.is_empty() {
        // Beside a running server, an overwrite may have replaced (and deleted) a file after
        // the first read: count only what a later read still references and still lacks.
        let again = gone(cairn_store::objects::files_read_only(db)?);
        missing.retain(|m| again.contains(m));
    }
    Ok(missing
        .into_iter()
        .map(|(bucket, key, file)| format!("object {bucket}/{key}: its file {file} is missing"))
        .collect())
}
