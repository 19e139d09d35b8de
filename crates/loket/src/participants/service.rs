//! What the API, the pages and the CLI all do with participants: the access policy and the
//! audit trail applied once, here, between the edge (which parsed the input) and the store.

use chrono::Utc;
use nik::Nik;

use super::model::{
    to_fields, validate, Participant, ParticipantData, ParticipantFields, FIELD_NAMES,
};
use super::store::{self, Registration};
use crate::access::{self, Action};
use crate::audit::{self, Batch, Entry, Outcome};
use crate::clock;
use crate::db::Db;
use crate::error::{AppError, Result};
use crate::identity::Actor;
use crate::state::AppState;

const ENTITY: &str = "participant";

/// Refuses, and records the refusal, when the person is outside the user's scope (their
/// counter, their office, or a referral there). The role check and "does the person exist"
/// come first, at the caller, so an unknown id stays a 404.
pub async fn require_in_scope(db: &Db, actor: &Actor, action: Action, id: i64) -> Result<()> {
    if store::visible(db, id, access::participant_scope(&actor.user)).await? {
        return Ok(());
    }
    audit::record(
        db,
        Some(actor),
        None,
        Entry::new(action.audit_name(), ENTITY, id).outcome(Outcome::Denied),
    )
    .await?;
    Err(AppError::Forbidden)
}

/// Registers a person at the officer's counter.
pub async fn register(
    state: &AppState,
    actor: &Actor,
    fields: &ParticipantFields,
) -> Result<Participant> {
    access::require(&state.db, actor, Action::RegisterParticipant).await?;
    let data = validate(fields, clock::today()).map_err(AppError::Validation)?;
    let reg = Registration {
        counter_id: actor.user.counter_id,
        officer_id: Some(actor.user.id),
        at: Utc::now(),
    };
    let filled = FIELD_NAMES
        .iter()
        .zip(to_fields(&data).values())
        .filter(|(_, v)| !v.is_empty())
        .map(|(n, _)| n.to_string())
        .collect();
    let mut batch = Batch::new(&state.db)?;
    let audited = |id| {
        batch.add(
            Some(actor),
            None,
            Entry::new("participant.create", ENTITY, id).fields(filled),
        );
        batch
    };
    let id = match store::insert(&state.db, &state.vault, &data, reg, audited).await {
        Err(AppError::NikDuplicate {
            existing_id: Some(existing),
            ..
        }) => return Err(duplicate_elsewhere(state, actor, existing).await),
        other => other?,
    };
    store::get(&state.db, &state.vault, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The "already registered" answer: where, when the user's scope does not reach the person
/// (they may then ask that counter for access); otherwise "search for them".
async fn duplicate_elsewhere(state: &AppState, actor: &Actor, existing: i64) -> AppError {
    let scope = access::participant_scope(&actor.user);
    let place = match store::visible(&state.db, existing, scope).await {
        Ok(false) => super::requests::place_of(state, actor, existing).await,
        Ok(true) => Ok(None),
        Err(e) => Err(e),
    };
    match place {
        Ok(place) => AppError::NikDuplicate {
            existing_id: Some(existing),
            held_at: place.map(|p| p.words()),
        },
        Err(e) => e,
    }
}

/// One participant's full record, if the user's scope reaches them; the view is audited.
pub async fn view(state: &AppState, actor: &Actor, id: i64) -> Result<Participant> {
    let participant = reachable(state, actor, Action::ViewParticipant, id).await?;
    audit_view(state, actor, id).await?;
    Ok(participant)
}

pub async fn audit_view(state: &AppState, actor: &Actor, id: i64) -> Result<()> {
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("participant.view", ENTITY, id),
    )
    .await
}

/// The names of the fields whose values differ (never the values themselves).
fn changed_fields(before: &ParticipantFields, after: &ParticipantFields) -> Vec<String> {
    FIELD_NAMES
        .iter()
        .zip(before.values().iter().zip(after.values().iter()))
        .filter(|(_, (a, b))| a != b)
        .map(|(n, _)| n.to_string())
        .collect()
}

/// Applies the fields present in `patch` if `expected_version` is still current.
pub async fn change(
    state: &AppState,
    actor: &Actor,
    id: i64,
    expected_version: i64,
    patch: &ParticipantFields,
) -> Result<Participant> {
    let current = reachable(state, actor, Action::EditParticipant, id).await?;
    if current.version != expected_version {
        return Err(AppError::VersionConflict {
            current: current.version,
        });
    }
    let before = to_fields(&current.data);
    let mut fields = before.clone();
    fields.overlay(patch);
    let data: ParticipantData = validate(&fields, clock::today()).map_err(AppError::Validation)?;
    let changed = changed_fields(&before, &to_fields(&data));
    let entry = Entry::new("participant.update", ENTITY, id).fields(changed);
    store::update(
        &state.db,
        &state.vault,
        id,
        expected_version,
        &data,
        Utc::now(),
        Batch::of(&state.db, Some(actor), None, entry)?,
    )
    .await?;
    store::get(&state.db, &state.vault, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The participant, if the action is allowed and the record is in scope; refusals are audited.
async fn reachable(
    state: &AppState,
    actor: &Actor,
    action: Action,
    id: i64,
) -> Result<Participant> {
    access::require_on(&state.db, actor, action, Some(id)).await?;
    let participant = store::get(&state.db, &state.vault, id)
        .await?
        .ok_or(AppError::NotFound)?;
    require_in_scope(&state.db, actor, action, id).await?;
    Ok(participant)
}

pub(super) fn reason_required(reason: &str) -> Result<String> {
    let reason = reason.trim();
    if reason.chars().count() < 5 {
        return Err(AppError::field(
            "reason",
            "reason_required",
            "Tuliskan alasannya (minimal 5 karakter).",
            "Give the reason (at least 5 characters).",
        ));
    }
    crate::text::within("reason", reason, 500).map_err(|e| AppError::Validation(vec![e]))
}

/// Moves a case to another counter. A coordinator moves cases within their office only.
pub async fn reassign(
    state: &AppState,
    actor: &Actor,
    id: i64,
    expected_version: i64,
    counter_id: i64,
    reason: &str,
) -> Result<Participant> {
    let current = reachable(state, actor, Action::ReassignParticipant, id).await?;
    let reason = reason_required(reason)?;
    let office = crate::counters::office_of(&state.db, counter_id)
        .await?
        .ok_or_else(|| {
            AppError::field(
                "counter_id",
                "counter_unknown",
                "Loket tujuan tidak ditemukan.",
                "The target counter does not exist.",
            )
        })?;
    if let access::ScopeLimit::Office(own) = access::reassign_limit(&actor.user) {
        if own != office {
            return Err(AppError::Forbidden);
        }
        let home = match current.counter_id {
            Some(counter) => crate::counters::office_of(&state.db, counter).await?,
            None => None,
        };
        if home != Some(own) {
            let entry = Entry::new("participant.reassign", ENTITY, id).outcome(Outcome::Denied);
            audit::record(&state.db, Some(actor), None, entry).await?;
            return Err(AppError::CaseOfAnotherOffice);
        }
    }
    let entry = Entry::new("participant.reassign", ENTITY, id)
        .fields(vec!["counter_id".into()])
        .reason(format!(
            "{reason} (dari/from {:?} ke/to {counter_id})",
            current.counter_id
        ));
    let audited = Batch::of(&state.db, Some(actor), None, entry)?;
    store::reassign(
        &state.db,
        id,
        expected_version,
        counter_id,
        Utc::now(),
        audited,
    )
    .await?;
    store::get(&state.db, &state.vault, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Refers a case to another counter, which may then see and serve the person.
pub async fn refer(
    state: &AppState,
    actor: &Actor,
    id: i64,
    counter_id: i64,
    reason: &str,
) -> Result<()> {
    reachable(state, actor, Action::ReferParticipant, id).await?;
    let reason = reason_required(reason)?;
    if crate::counters::office_of(&state.db, counter_id)
        .await?
        .is_none()
    {
        return Err(AppError::field(
            "counter_id",
            "counter_unknown",
            "Loket tujuan tidak ditemukan.",
            "The target counter does not exist.",
        ));
    }
    let entry = Entry::new("participant.refer", ENTITY, id)
        .reason(format!("{reason} (ke/to loket {counter_id})"));
    store::refer(
        &state.db,
        id,
        counter_id,
        &reason,
        actor.user.id,
        Utc::now(),
        Batch::of(&state.db, Some(actor), None, entry)?,
    )
    .await
}

/// Records a new consent decision (including a withdrawal); sharing stops at once.
pub async fn change_consent(
    state: &AppState,
    actor: &Actor,
    id: i64,
    consent: super::model::Consent,
    note: Option<&str>,
) -> Result<Participant> {
    let current = reachable(state, actor, Action::ChangeConsent, id).await?;
    let mut changed = Vec::new();
    if current.data.consent.processing != consent.processing {
        changed.push("consent_processing".to_string());
    }
    if current.data.consent.sharing != consent.sharing {
        changed.push("consent_sharing".to_string());
    }
    changed.push("consent_method".to_string());
    let entry = Entry::new("consent.change", ENTITY, id).fields(changed);
    store::record_consent(
        &state.db,
        id,
        consent,
        Some(actor.user.id),
        note,
        Utc::now(),
        Batch::of(&state.db, Some(actor), None, entry)?,
    )
    .await?;
    store::get(&state.db, &state.vault, id)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn consent_history(
    state: &AppState,
    actor: &Actor,
    id: i64,
) -> Result<Vec<store::ConsentEvent>> {
    reachable(state, actor, Action::ViewParticipant, id).await?;
    store::consent_history(&state.db, id).await
}

/// Exact lookup by NIK within scope; a hit is a view of the full record and is audited.
pub async fn find_by_nik(
    state: &AppState,
    actor: &Actor,
    nik: &Nik,
) -> Result<Option<Participant>> {
    access::require(&state.db, actor, Action::ViewParticipant).await?;
    let found = store::find_by_nik(
        &state.db,
        &state.vault,
        nik,
        access::participant_scope(&actor.user),
    )
    .await?;
    if let Some(p) = &found {
        audit_view(state, actor, p.id).await?;
    }
    Ok(found)
}

/// Name search within scope. Callers that show full records audit each view themselves.
pub async fn search_by_name(
    state: &AppState,
    actor: &Actor,
    name: &str,
    limit: i64,
) -> Result<Vec<Participant>> {
    access::require(&state.db, actor, Action::ViewParticipant).await?;
    store::search_by_name(
        &state.db,
        &state.vault,
        name,
        access::participant_scope(&actor.user),
        0,
        limit.clamp(1, 100),
    )
    .await
}

/// One page of a name search within scope, and how many the search finds in all.
pub async fn search_page(
    state: &AppState,
    actor: &Actor,
    name: &str,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Participant>, i64)> {
    access::require(&state.db, actor, Action::ViewParticipant).await?;
    let scope = access::participant_scope(&actor.user);
    let total = store::count_by_name(&state.db, name, scope).await?;
    let found = store::search_by_name(
        &state.db,
        &state.vault,
        name,
        scope,
        offset.max(0),
        limit.clamp(1, 100),
    )
    .await?;
    Ok((found, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_fields_names_only_what_differs() {
        let before = ParticipantFields {
            nik: Some("1".into()),
            email: Some("a@b.co".into()),
            ..Default::default()
        };
        let mut after = before.clone();
        after.email = Some("c@d.co".into());
        after.phone = Some("+6281234567890".into());
        assert_eq!(changed_fields(&before, &after), ["phone", "email"]);
    }
}
