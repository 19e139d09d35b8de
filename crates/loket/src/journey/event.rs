//! One journey event, as it is written and as it is stored, and which stored events still
//! count (corrections replace, voids take back; history is never deleted).

use chrono::{DateTime, Utc};

/// One stored event.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub participant_id: i64,
    pub stage: String,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub source: String,
    pub actor_id: Option<i64>,
    pub counter_id: Option<i64>,
    pub batch_id: Option<i64>,
    pub card_number: Option<String>,
    pub training_title: Option<String>,
    pub training_platform: Option<String>,
    pub amount: Option<i64>,
    pub channel: Option<String>,
    pub detail: Option<String>,
    pub correction_of: Option<i64>,
    pub voids: bool,
    pub override_reason: Option<String>,
    pub eligibility_reason: Option<String>,
    pub correction_reason: Option<String>,
}

/// An event before it is stored (the id comes from the database).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewEvent {
    pub participant_id: i64,
    pub stage: String,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub source: String,
    pub actor_id: Option<i64>,
    pub counter_id: Option<i64>,
    pub batch_id: Option<i64>,
    pub card_number: Option<String>,
    pub training_title: Option<String>,
    pub training_platform: Option<String>,
    pub amount: Option<i64>,
    pub channel: Option<String>,
    pub detail: Option<String>,
    pub correction_of: Option<i64>,
    pub voids: bool,
    pub override_reason: Option<String>,
    pub eligibility_reason: Option<String>,
    pub correction_reason: Option<String>,
}

impl NewEvent {
    /// The row this event becomes once stored with `id`.
    pub fn stored(&self, id: i64) -> EventRow {
        EventRow {
            id,
            participant_id: self.participant_id,
            stage: self.stage.clone(),
            occurred_at: self.occurred_at,
            recorded_at: self.recorded_at,
            source: self.source.clone(),
            actor_id: self.actor_id,
            counter_id: self.counter_id,
            batch_id: self.batch_id,
            card_number: self.card_number.clone(),
            training_title: self.training_title.clone(),
            training_platform: self.training_platform.clone(),
            amount: self.amount,
            channel: self.channel.clone(),
            detail: self.detail.clone(),
            correction_of: self.correction_of,
            voids: self.voids,
            override_reason: self.override_reason.clone(),
            eligibility_reason: self.eligibility_reason.clone(),
            correction_reason: self.correction_reason.clone(),
        }
    }
}

/// The events that still count: not voided and not replaced by a correction.
pub fn effective(events: &[EventRow]) -> Vec<EventRow> {
    let replaced: std::collections::HashSet<i64> =
        events.iter().filter_map(|e| e.correction_of).collect();
    let mut list: Vec<EventRow> = events
        .iter()
        .filter(|e| !e.voids && !replaced.contains(&e.id))
        .cloned()
        .collect();
    // A backdated event takes its place in time; ties keep the order of recording.
    list.sort_by_key(|e| (e.occurred_at, e.id));
    list
}
