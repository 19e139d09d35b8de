//! Registry duplicates (issue 21): the same Purna PMI registered twice (a NIK typed wrong at one
//! counter, an old NIK after a KTP correction, an import with another spelling).
//!
//! This first part holds what a merge moves: [`PARTICIPANT_REFERENCES`], the ONE list of every
//! column that points at a participant, and [`unlisted_references`], which reads the live
//! schema (SQLite `pragma_foreign_key_list`, PostgreSQL `information_schema`) and names any
//! foreign key to `participants(id)` the list lacks — so a table another feature adds later
//! fails the test `duplicates::every_reference_to_a_participant_is_in_the_merge_list` until it
//! is listed, and a merge never leaves rows behind on the merged record.

mod store;

pub use store::{ParticipantReference, PARTICIPANT_REFERENCES};

use crate::db::Db;
use crate::error::Result;

/// The `(table, column)` foreign keys to `participants(id)` in the live schema, sorted.
pub async fn schema_references(db: &Db) -> Result<Vec<(String, String)>> {
    store::schema_references(db).await
}

/// The foreign keys to `participants(id)` in the live schema that [`PARTICIPANT_REFERENCES`]
/// does not list (empty when the list is complete).
pub async fn unlisted_references(db: &Db) -> Result<Vec<(String, String)>> {
    Ok(schema_references(db)
        .await?
        .into_iter()
        .filter(|(table, column)| {
            !PARTICIPANT_REFERENCES
                .iter()
                .any(|r| r.table == table && r.column == column)
        })
        .collect())
}
