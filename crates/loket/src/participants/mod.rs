//! The Purna PMI registry: records, their validation, storage, API, pages and file exchange.

pub mod api;
pub mod file;
pub mod model;
pub mod pages;
pub mod requests;
pub mod service;
/// Public for the tests and benchmarks that check its queries; other modules use the front
/// door below (the layer test refuses `participants::store` elsewhere in `src`).
pub mod store;

pub use service::require_in_scope;
pub use store::{count, existing_nik_indexes, insert_many, page_shareable, Registration, Sealed};

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

use crate::error::Result;
use crate::i18n::Lang;
use crate::identity::Actor;
use crate::state::AppState;

/// Advice shown on a person's page right after they are registered or edited: the journey's
/// eligibility check for the newest batch, as (batch number, lines of advice). The registry sits
/// below the journey, so the app assembly plugs the journey's check in here (see `app`).
pub type AfterRegistration = for<'a> fn(&'a AppState, &'a Actor, i64, Lang) -> Advice<'a>;

/// The advice being worked out: (batch number, lines of advice), or none.
pub type Advice<'a> = Pin<Box<dyn Future<Output = Result<Option<(i64, Vec<String>)>>> + Send + 'a>>;

static AFTER_REGISTRATION: OnceLock<AfterRegistration> = OnceLock::new();

/// Sets the advice shown after a registration; the first call wins (one per process).
pub fn set_after_registration(advice: AfterRegistration) {
    let _ = AFTER_REGISTRATION.set(advice);
}

fn after_registration() -> Option<AfterRegistration> {
    AFTER_REGISTRATION.get().copied()
}

/// A card another feature adds to a person's page: (heading, lines, link, link text). The
/// partner programmes ("Program lain yang cocok") sit above the registry; the app plugs them in.
pub type Card = (String, Vec<String>, String, String);

/// The card being worked out, or none.
pub type CardFuture<'a> = Pin<Box<dyn Future<Output = Result<Option<Card>>> + Send + 'a>>;

pub type MoreOnPage = for<'a> fn(&'a AppState, &'a Actor, i64, Lang) -> CardFuture<'a>;

static MORE_ON_PAGE: OnceLock<MoreOnPage> = OnceLock::new();

/// Sets the card shown on every person's page; the first call wins (one per process).
pub fn set_more_on_page(card: MoreOnPage) {
    let _ = MORE_ON_PAGE.set(card);
}

fn more_on_page() -> Option<MoreOnPage> {
    MORE_ON_PAGE.get().copied()
}
