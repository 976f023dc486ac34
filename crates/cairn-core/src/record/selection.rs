//! Which data events some logging trail selects right now, cheaply.
//!
//! Each thread keeps a snapshot of the logging trails that can select data events, stamped
//! with the store's trails generation (a random value every change to a trail replaces, in
//! the changing transaction). Checking an event reads that one `meta` value; the snapshot
//! is rebuilt from the trails only when it changed. Because the generation is read in the
//! caller's own transaction, the decision always reflects every committed change (and, on
//! the writer, every change earlier in the same group commit); because it is random, a
//! rolled-back change can never be mistaken for a later one.
//!
//! Per-thread rather than shared: the writer is one thread per store, so its snapshot is
//! never contended, and readers rebuild theirs at most once per trail change.

use std::cell::RefCell;

use cairn_model::trail::Trail;
use cairn_store::{Connection, StoreResult, meta, trails};
use serde_json::Value;

use crate::routing;

struct Snapshot {
    generation: String,
    takers: Vec<Trail>,
}

thread_local! {
    static SNAPSHOT: RefCell<Option<Snapshot>> = const { RefCell::new(None) };
}

fn takers(conn: &Connection) -> StoreResult<Vec<Trail>> {
    Ok(trails::all(conn)?
        .into_iter()
        .filter(|t| t.status.is_logging && routing::selects_data_events(&t.selectors))
        .collect())
}

/// Whether a logging trail selects the data event whose routing view is `view`.
pub(super) fn selected(conn: &Connection, view: &Value) -> StoreResult<bool> {
    with_takers(conn, |takers| {
        takers.iter().any(|t| routing::takes_now(t, view))
    })
}

/// Whether a logging trail selects the data event whose routing view `view` makes; the view
/// is not made at all while no logging trail selects data events.
pub(super) fn selected_lazily(
    conn: &Connection,
    view: impl FnOnce() -> Value,
) -> StoreResult<bool> {
    with_takers(conn, |takers| {
        if takers.is_empty() {
            return false;
        }
        let view = view();
        takers.iter().any(|t| routing::takes_now(t, &view))
    })
}

/// Runs `f` on the logging trails that can select data events, as `conn` sees them.
fn with_takers<R>(conn: &Connection, f: impl FnOnce(&[Trail]) -> R) -> StoreResult<R> {
    let Some(generation) = meta::trails_generation(conn)? else {
        // No generation to validate a snapshot against: decide from the trails directly.
        return Ok(f(&takers(conn)?));
    };
    SNAPSHOT.with_borrow_mut(|slot| {
        if slot.as_ref().is_none_or(|s| s.generation != generation) {
            *slot = Some(Snapshot {
                takers: takers(conn)?,
                generation,
            });
        }
        let snapshot = slot.as_ref().expect("just filled");
        Ok(f(&snapshot.takers))
    })
}
