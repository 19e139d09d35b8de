//! The training catalogue: institutions, the eight platforms, trainings with a price on each
//! platform; Indonesian search with filters; recommendations an officer can explain.
//!
//! ## Why an in-process index
//! Search runs in Rust over an index built from the database rows, not in the databases' own
//! full-text search. SQLite's FTS5 and PostgreSQL's `tsvector` have different tokenisers,
//! ranking functions and no Indonesian stemmer (PostgreSQL ships none; FTS5 only Porter), so the
//! same query would rank differently on a pilot office's SQLite and the national PostgreSQL —
//! and the issue asks for identical results. tantivy would give a good engine but no Indonesian
//! analyser either, a large compile, and an on-disk index to keep next to a database that may
//! have several servers. The catalogue is small (1,561 trainings; 50,000 in the benchmark), so
//! an in-memory BM25 index with our own Indonesian analyser (`text`) is built in milliseconds
//! from the rows, answers in well under a millisecond, and is the same code on both backends.
//! Staleness across processes (a CLI import while the server runs, several servers on one
//! PostgreSQL) is handled by a revision number bumped in the same transaction as each change.

pub mod api;
pub mod demo;
pub mod file;
pub mod index;
pub mod model;
pub mod pages;
pub mod recommend;
pub mod service;
/// Public for the tests and benchmarks that check its queries; other modules use the front
/// door below (the layer test refuses `catalog::store` elsewhere in `src`).
pub mod store;

pub use store::counts;
pub mod text;
pub mod texts;
pub mod topics;

use axum::Router;

use crate::state::AppState;

/// The catalogue's API routes and pages.
pub fn router() -> Router<AppState> {
    Router::new().merge(api::router()).merge(pages::router())
}
