//! Reminders by WhatsApp/SMS and the person's own status page.
//!
//! Rooms: `model` (reasons, channels, statuses, the messages), `channel` (the WhatsApp Cloud
//! API, an SMS gateway, the file channel), `worker` (claims, sends, retries), `service`
//! (rules, consent per channel, opt-out, the outbox, status links), `store` (all SQL), `api`
//! (JSON and the providers' webhooks), `pages` (officers' pages and the status page), `texts`.
//! This file is the front door: other features call `crate::reminders::queue`.

pub mod api;
pub mod channel;
pub mod demo;
pub mod model;
pub mod pages;
pub mod service;
/// Public for the benchmark; other modules use the front door.
pub mod store;
pub mod worker;

pub use model::{Channel, Reason, Status};
pub use service::{queue, QueueInput, Queued};
pub use worker::{send_due, Pass, Worker};

use axum::Router;

use crate::state::AppState;

pub mod texts {
    //! The reminders' texts: (key, Bahasa Indonesia, English).
    pub static TEXTS: &str = include_str!("texts.tsv");
}

/// The JSON API, the webhooks and the pages, for `app::router`.
pub fn router() -> Router<AppState> {
    api::router().merge(pages::router())
}
