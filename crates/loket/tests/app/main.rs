//! The app's integration stories in one test binary (each binary links the whole app, and on
//! few cores linking dominates the suite's time): one module per area, all sharing the harness
//! in `tests/common`. Storage stories run on SQLite and (when configured) PostgreSQL.
//!
//! To add an area: move `tests/<area>/main.rs` to `tests/app/<area>/mod.rs` (without its
//! `mod common;`), declare `mod <area>;` here and drop its `[[test]]` from `Cargo.toml`.
//! Run one area with `cargo test -p loket --test app <area>::`.

// Test code may unwrap: a panic is a failed test with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod access;
mod api;
mod audit;
mod catalog;
mod cli;
mod counters;
mod doors;
mod duplicates;
mod exchange;
mod floor;
mod integrity;
mod journey;
mod linkcli;
mod programmes;
mod reminders;
mod upgrade;
mod web;
