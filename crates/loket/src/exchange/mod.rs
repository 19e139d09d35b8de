//! Data exchange with the Kartu Prakerja programme office (issue 7, in the app): BP2MI's master
//! list of returned migrant workers, the programme office's recipient files linked to the
//! registry, clerical review, journey events applied from the file, the outreach list of
//! recipients not yet registered, and the status export of people who consented to sharing.
//! The partner JSON endpoint (`partner`) serves the same office's systems directly.
//! File formats: `docs/exchange-format.md`.

pub mod agreement;
pub mod api;
mod apply;
pub mod demo;
pub mod file;
mod intake;
mod jobs;
mod linking;
pub mod model;
mod outreach;
pub mod pages;
pub mod partner;
mod review;
pub mod service;
mod status;
/// Public for the tests and benchmarks that check its queries; other modules use the front
/// door below (the layer test refuses `exchange::store` elsewhere in `src`).
pub mod store;
pub mod texts;
pub mod why;

use axum::Router;

use crate::db::Db;
use crate::error::Result;
use crate::state::AppState;
use model::CounterPlace;

/// The exchange's pages (uploads limited to `upload_limit` bytes) and the partner endpoint.
pub fn router(upload_limit: usize) -> Router<AppState> {
    pages::router(upload_limit)
        .merge(partner::router())
        .merge(api::router())
}

/// The counters that can take people, as the nearest-counter choice needs them.
pub async fn counter_places(db: &Db) -> Result<Vec<CounterPlace>> {
    Ok(store::counter_places(db)
        .await?
        .into_iter()
        .map(|(id, region_code, province_code, status)| CounterPlace {
            id,
            region_code,
            province_code,
            operating: status == "operating",
        })
        .collect())
}
