//! SQL of registry duplicates.

use crate::db::Db;
use crate::error::Result;

/// One column that holds a participant's id, and how a merge treats it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParticipantReference {
    pub table: &'static str,
    pub column: &'static str,
    /// At most one row per participant (or per participant and something else), so a merge
    /// keeps the survivor's row where both have one instead of moving the merged record's.
    pub unique_per_participant: bool,
}

const fn moved(table: &'static str, column: &'static str) -> ParticipantReference {
    ParticipantReference {
        table,
        column,
        unique_per_participant: false,
    }
}

const fn kept_once(table: &'static str, column: &'static str) -> ParticipantReference {
    ParticipantReference {
        table,
        column,
        unique_per_participant: true,
    }
}

/// Every column that points at a participant: what a merge moves from the merged record to
/// the survivor. A table added with a foreign key to `participants(id)` must be listed here
/// (the schema test fails until it is).
pub const PARTICIPANT_REFERENCES: &[ParticipantReference] = &[
    moved("consent_events", "participant_id"),
    // UNIQUE (participant_id, counter_id): one referral per counter.
    kept_once("referrals", "participant_id"),
    moved("journey_events", "participant_id"),
    moved("journey_sessions", "participant_id"),
    moved("journey_contacts", "participant_id"),
    // Keyed by the NIK's blind index: the row moves.
    moved("journey_barred", "participant_id"),
    // The journey's projection of the current stage: rebuilt for the survivor after a merge.
    kept_once("journey_progress", "participant_id"),
    // The programme office's list rows linked to a registry person.
    moved("exchange_rows", "participant_id"),
    // Permintaan akses about the person.
    moved("access_requests", "participant_id"),
    // The counter floor: visits and seat bookings.
    moved("floor_visits", "participant_id"),
    moved("floor_seat_bookings", "participant_id"),
    // Reminders: consent per channel (one row per person and channel), messages (one per
    // person, reason and due day), status-page links.
    kept_once("reminder_consents", "participant_id"),
    kept_once("reminder_outbox", "participant_id"),
    moved("status_links", "participant_id"),
    // Partner-programme referrals.
    moved("programme_referrals", "participant_id"),
];

/// The `(table, column)` foreign keys to `participants(id)`, sorted. Reading the schema is the
/// one thing the two engines cannot say in one SQL text: SQLite keeps foreign keys per table
/// (`pragma_foreign_key_list`), PostgreSQL in `information_schema`.
pub async fn schema_references(db: &Db) -> Result<Vec<(String, String)>> {
    let mut found: Vec<(String, String)> = match db {
        Db::Sqlite(pool) => {
            sqlx::query_as(
                "SELECT m.name, f.\"from\" FROM sqlite_master m \
                 JOIN pragma_foreign_key_list(m.name) f \
                 WHERE m.type = 'table' AND f.\"table\" = 'participants' \
                 AND (f.\"to\" = 'id' OR f.\"to\" IS NULL)",
            )
            .fetch_all(pool)
            .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_as(
                "SELECT CAST(k.table_name AS TEXT), CAST(k.column_name AS TEXT) \
                 FROM information_schema.table_constraints t \
                 JOIN information_schema.key_column_usage k \
                   ON k.constraint_name = t.constraint_name AND k.table_schema = t.table_schema \
                 JOIN information_schema.constraint_column_usage c \
                   ON c.constraint_name = t.constraint_name AND c.table_schema = t.table_schema \
                 WHERE t.constraint_type = 'FOREIGN KEY' AND t.table_schema = current_schema() \
                 AND c.table_name = 'participants' AND c.column_name = 'id'",
            )
            .fetch_all(pool)
            .await?
        }
    };
    found.sort();
    found.dedup();
    Ok(found)
}
