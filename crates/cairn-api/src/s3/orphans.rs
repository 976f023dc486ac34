//! The object directory's start-up clean and what it tells the operator: the temp files of
//! writes a stop cut off are deleted, complete files no record references are moved aside
//! (and many of them reported as a store that lost committed transactions), and referenced
//! files that are missing are named as an error.

use std::collections::HashSet;

use cairn_buckets::local::ObjectFiles;

/// More complete object files no record references at start than a crash leaves (those
/// that finished writing and waited for their commit; the most an outside tester saw in 60
/// kills under load was 4, and the temp files of writes still streaming are not counted): a
/// sign the store lost committed rows.
const ORPHANS_OF_A_CRASH: usize = 16;

/// Cleans `files` against the files the store's records reference, and logs what it found.
pub fn clean(files: &ObjectFiles, referenced: &HashSet<String>) -> std::io::Result<()> {
    let cairn_buckets::local::Orphans {
        moved,
        cut_off,
        missing,
    } = files.quarantine_orphans(referenced)?;
    let kept = files.quarantine_dir();
    if cut_off > 0 {
        tracing::info!(
            cut_off,
            "deleted the temp files of object writes the last stop cut off"
        );
    }
    if moved > ORPHANS_OF_A_CRASH {
        tracing::error!(
            moved,
            dir = %kept.display(),
            "object files no record references, more than writes in flight at a crash leave: the store may have lost committed transactions (a damaged write-ahead log?); the files are kept for a week for inspection"
        );
    } else if moved > 0 {
        tracing::warn!(
            moved,
            dir = %kept.display(),
            "complete object files no record references (writes that finished as the server stopped, before their commit), kept for a week"
        );
    }
    if missing > 0 {
        tracing::error!(
            missing,
            "objects or upload parts whose files are missing: reading them fails; was the data dir copied while its server ran? `cairn verify-store` lists them"
        );
    }
    Ok(())
}
