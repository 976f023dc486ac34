//! Cairn's web console, the presentation half: compile-time checked askama templates (one
//! struct per page in [`pages`]), the static assets embedded in the binary ([`assets`]), and
//! the pure helpers the pages need ([`text`]: CSV with spreadsheet formulas neutralised, time
//! formats, request-parameter flattening).
//!
//! This crate knows nothing of HTTP, sessions or the store: `cairn-api`'s console module signs
//! the user in, calls the operations the API serves as that user, and fills these structs.

pub mod assets;
pub mod pages;
pub mod text;

pub use askama::Template;

impl pages::Dashboard {
    /// How many of the trails are known to be logging.
    pub fn logging_count(&self) -> usize {
        self.trails
            .iter()
            .filter(|t| t.logging && t.status_unknown.is_none())
            .count()
    }

    /// How many of the trails have a status that could not be read.
    pub fn unknown_count(&self) -> usize {
        self.trails
            .iter()
            .filter(|t| t.status_unknown.is_some())
            .count()
    }
}
