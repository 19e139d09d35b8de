//! Data exchange with the Kartu Prakerja programme office (issue 7, in the app): BP2MI's master
//! list of returned migrant workers, the programme office's recipient files linked to the
//! registry, clerical review, journey events applied from the file, the outreach list of
//! recipients not yet registered, and the status export of people who consented to sharing.
//! File formats: `docs/exchange-format.md`.

pub mod demo;
pub mod file;
pub mod model;
pub mod pages;
pub mod service;
pub mod store;
pub mod texts;

use crate::db::Db;
use crate::error::Result;
use model::CounterPlace;

pub use pages::router;

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
