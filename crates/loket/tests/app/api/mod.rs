//! API and storage stories, each run on SQLite and (when configured) PostgreSQL.

mod audit;
mod conformance;
mod files;
mod participants;
mod system;
