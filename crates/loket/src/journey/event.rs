//! One journey event, as it is written and as it is stored, and which stored events still
//! count (corrections replace, voids take back; history is never deleted).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::stage::{Source, Stage};

/// The facts an event carries besides its kind, time and origin, as the officer or partner
/// system gives them. Declared once: the input (API body and page form), the stored event and
/// the API's view of it all embed this struct (`#[serde(flatten)]`, `#[sqlx(flatten)]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema, sqlx::FromRow)]
#[serde(default)]
pub struct EventFields {
    /// Kartu Prakerja number (16 digits), for `accepted`.
    pub card_number: Option<String>,
    pub training_title: Option<String>,
    pub training_platform: Option<String>,
    /// Rupiah: the price of a training, or the amount of a payment (default: the scheme's).
    pub amount: Option<i64>,
    /// `bank` or `ewallet`.
    pub channel: Option<String>,
    pub detail: Option<String>,
    /// Admin only: record although the rules refuse, with this reason.
    pub override_reason: Option<String>,
}

impl EventFields {
    /// The same fields with text trimmed and blank text dropped, as they are stored.
    pub fn cleaned(&self) -> EventFields {
        EventFields {
            card_number: clean(&self.card_number),
            training_title: clean(&self.training_title),
            training_platform: clean(&self.training_platform),
            amount: self.amount,
            channel: clean(&self.channel),
            detail: clean(&self.detail),
            override_reason: clean(&self.override_reason),
        }
    }

    /// Each field given here, else the one of `earlier` (a correction keeps what it leaves out).
    pub fn or(self, earlier: &EventFields) -> EventFields {
        EventFields {
            card_number: self.card_number.or_else(|| earlier.card_number.clone()),
            training_title: self
                .training_title
                .or_else(|| earlier.training_title.clone()),
            training_platform: self
                .training_platform
                .or_else(|| earlier.training_platform.clone()),
            amount: self.amount.or(earlier.amount),
            channel: self.channel.or_else(|| earlier.channel.clone()),
            detail: self.detail.or_else(|| earlier.detail.clone()),
            override_reason: self
                .override_reason
                .or_else(|| earlier.override_reason.clone()),
        }
    }
}

/// Trimmed text, or nothing when it is blank.
pub fn clean(text: &Option<String>) -> Option<String> {
    text.as_ref()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// An event before it is stored (the id comes from the database).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct NewEvent {
    pub participant_id: i64,
    pub stage: Stage,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub source: Source,
    pub actor_id: Option<i64>,
    pub counter_id: Option<i64>,
    pub batch_id: Option<i64>,
    #[sqlx(flatten)]
    pub fields: EventFields,
    pub correction_of: Option<i64>,
    pub voids: bool,
    pub eligibility_reason: Option<String>,
    pub correction_reason: Option<String>,
}

impl NewEvent {
    /// An event of `stage` with no facts yet: the caller fills in what the stage needs.
    pub fn new(
        participant_id: i64,
        stage: Stage,
        source: Source,
        occurred_at: DateTime<Utc>,
        recorded_at: DateTime<Utc>,
    ) -> NewEvent {
        NewEvent {
            participant_id,
            stage,
            occurred_at,
            recorded_at,
            source,
            actor_id: None,
            counter_id: None,
            batch_id: None,
            fields: EventFields::default(),
            correction_of: None,
            voids: false,
            eligibility_reason: None,
            correction_reason: None,
        }
    }

    /// The row this event becomes once stored with `id`.
    pub fn stored(&self, id: i64) -> EventRow {
        EventRow {
            id,
            event: self.clone(),
        }
    }
}

/// One stored event: its id and the event as it was written.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    #[sqlx(flatten)]
    pub event: NewEvent,
}

/// A stored row reads as the event it stores (`row.stage`, `row.occurred_at`): the row adds
/// only its id, and callers across the app read the event's fields straight off the row.
impl std::ops::Deref for EventRow {
    type Target = NewEvent;

    fn deref(&self) -> &NewEvent {
        &self.event
    }
}

impl std::ops::DerefMut for EventRow {
    fn deref_mut(&mut self) -> &mut NewEvent {
        &mut self.event
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_cleaned_and_a_correction_keeps_what_it_leaves_out() {
        let given = EventFields {
            training_title: Some("  Barista  ".into()),
            detail: Some("   ".into()),
            amount: Some(100),
            ..EventFields::default()
        };
        let cleaned = given.cleaned();
        assert_eq!(cleaned.training_title.as_deref(), Some("Barista"));
        assert_eq!(cleaned.detail, None);
        let earlier = EventFields {
            training_title: Some("Lele".into()),
            training_platform: Some("Tokopedia".into()),
            amount: Some(50),
            ..EventFields::default()
        };
        let merged = cleaned.or(&earlier);
        assert_eq!(merged.training_title.as_deref(), Some("Barista"));
        assert_eq!(merged.training_platform.as_deref(), Some("Tokopedia"));
        assert_eq!(merged.amount, Some(100));
    }
}
