//! What the API, the pages and the CLI all do with participants, with the access policy applied
//! once, here, between the edge (which parsed the input) and the store.

use chrono::Utc;
use nik::Nik;

use super::model::{to_fields, validate, Participant, ParticipantData, ParticipantFields};
use super::store::{self, Registration};
use crate::access::{self, Action};
use crate::app::AppState;
use crate::auth::User;
use crate::clock;
use crate::error::{AppError, Result};

fn require(user: &User, action: Action) -> Result<()> {
    if access::allows(user, action) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

async fn office_of_counter(state: &AppState, counter_id: Option<i64>) -> Result<Option<i64>> {
    match counter_id {
        Some(id) => Ok(crate::counters::office_of(&state.db, id).await?),
        None => Ok(None),
    }
}

/// Registers a person at the officer's counter.
pub async fn register(
    state: &AppState,
    user: &User,
    fields: &ParticipantFields,
) -> Result<Participant> {
    require(user, Action::RegisterParticipant)?;
    let data = validate(fields, clock::today()).map_err(AppError::Validation)?;
    let reg = Registration {
        counter_id: user.counter_id,
        officer_id: Some(user.id),
        at: Utc::now(),
    };
    let id = store::insert(&state.db, &state.vault, &data, reg).await?;
    store::get(&state.db, &state.vault, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// One participant, if the user's scope reaches them.
pub async fn view(state: &AppState, user: &User, id: i64) -> Result<Participant> {
    require(user, Action::ViewParticipant)?;
    let participant = store::get(&state.db, &state.vault, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let office = office_of_counter(state, participant.counter_id).await?;
    if !access::reaches(user, participant.counter_id, office) {
        return Err(AppError::Forbidden);
    }
    Ok(participant)
}

/// Applies the fields present in `patch` if `expected_version` is still current.
pub async fn change(
    state: &AppState,
    user: &User,
    id: i64,
    expected_version: i64,
    patch: &ParticipantFields,
) -> Result<Participant> {
    require(user, Action::EditParticipant)?;
    let current = view(state, user, id).await?;
    if current.version != expected_version {
        return Err(AppError::VersionConflict {
            current: current.version,
        });
    }
    let mut fields = to_fields(&current.data);
    fields.overlay(patch);
    let data: ParticipantData = validate(&fields, clock::today()).map_err(AppError::Validation)?;
    store::update(
        &state.db,
        &state.vault,
        id,
        expected_version,
        &data,
        Utc::now(),
    )
    .await?;
    store::get(&state.db, &state.vault, id)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn find_by_nik(state: &AppState, user: &User, nik: &Nik) -> Result<Option<Participant>> {
    require(user, Action::ViewParticipant)?;
    store::find_by_nik(
        &state.db,
        &state.vault,
        nik,
        access::participant_scope(user),
    )
    .await
}

pub async fn search_by_name(
    state: &AppState,
    user: &User,
    name: &str,
    limit: i64,
) -> Result<Vec<Participant>> {
    require(user, Action::ViewParticipant)?;
    store::search_by_name(
        &state.db,
        &state.vault,
        name,
        access::participant_scope(user),
        limit.clamp(1, 100),
    )
    .await
}
