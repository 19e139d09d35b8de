//! loket: software for the Counter Layanan Prakerja of BP2MI and the Kartu Prakerja programme.

pub mod access;
pub mod app;
pub mod audit;
pub mod audit_log;
pub mod auth;
pub mod catalog;
pub mod clock;
pub mod codes;
pub mod config;
pub mod counters;
pub mod db;
pub mod demo;
pub mod duplicates;
pub mod error;
pub mod exchange;
pub mod floor;
pub mod format;
pub mod i18n;
pub mod identity;
pub mod journey;
pub mod keys;
pub mod participants;
pub mod programmes;
pub mod reminders;
pub mod sheet;
pub mod state;
pub mod telemetry;
pub mod text;
pub mod vault;
pub mod web;

pub use app::Application;
pub use config::Config;
pub use state::AppState;
