//! API and storage stories, each run on SQLite and (when configured) PostgreSQL.
// Test code may unwrap: a panic is a failed test with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod audit;
mod files;
mod participants;
mod system;
