//! Linking and applying run in the background, so a restart can cut them off. On start, an
//! upload left `linking` or `applying` is marked failed with a retry: nothing is resumed
//! unseen (applying acts in a person's name, and a file that brought the server down would
//! bring it down again), and a retry is safe — linking starts over, applying goes on from the
//! first row not applied (each row is applied and counted in one transaction).
//!
//! One `loket serve` per database is assumed: a second server starting on it would take the
//! first one's running jobs for interrupted ones.

use super::apply::spawn_apply;
use super::linking::spawn_link;
use super::model::UploadStatus;
use super::service::ENTITY;
use super::store;
use crate::access::{self, Action};
use crate::audit::{self, Entry};
use crate::error::{AppError, Result};
use crate::identity::Actor;
use crate::state::AppState;

/// The note of an upload a restart interrupted (the pages say it in the reader's language).
pub const INTERRUPTED: &str = "interrupted";

/// Marks every upload a stopped server left running as failed, with a retry (see above).
pub async fn recover_interrupted(state: &AppState) -> Result<usize> {
    let running = [UploadStatus::Linking, UploadStatus::Applying];
    let mut marked = 0;
    for id in store::upload_ids_with(&state.db, &running).await? {
        if store::move_status(
            &state.db,
            id,
            &running,
            UploadStatus::Failed,
            Some(INTERRUPTED),
        )
        .await?
        {
            audit::record(
                &state.db,
                None,
                None,
                Entry::new("exchange.interrupted", ENTITY, id),
            )
            .await?;
            marked += 1;
        }
    }
    Ok(marked)
}

/// Retries a failed upload: links it again if linking never finished, else goes on applying
/// where it stopped, in the name of whoever retries.
pub async fn retry(state: &AppState, actor: &Actor, upload_id: i64) -> Result<UploadStatus> {
    access::require(&state.db, actor, Action::ManageExchange).await?;
    let upload = store::upload(&state.db, upload_id)
        .await?
        .ok_or(AppError::NotFound)?;
    // Linking keeps its figures with the status `review` in one transaction: without them it
    // never finished.
    let next = if upload.summary.is_none() {
        UploadStatus::Linking
    } else {
        UploadStatus::Applying
    };
    let moved = upload.status() == UploadStatus::Failed
        && store::move_status(&state.db, upload_id, &[UploadStatus::Failed], next, None).await?;
    if !moved {
        return Err(AppError::Refused {
            code: "upload_not_failed",
            message: "Hanya unggahan yang gagal yang bisa dicoba lagi.".into(),
            message_en: "Only a failed upload can be retried.".into(),
        });
    }
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("exchange.retry", ENTITY, upload_id)
            .fields(vec![format!("step={}", next.code())]),
    )
    .await?;
    match next {
        UploadStatus::Linking => spawn_link(state.clone(), upload_id),
        _ => spawn_apply(state.clone(), actor.clone(), upload_id),
    }
    Ok(next)
}

/// An upload's state, for a system following its job (no personal data in it).
pub async fn upload_state(
    state: &AppState,
    actor: &Actor,
    upload_id: i64,
) -> Result<store::Upload> {
    access::require(&state.db, actor, Action::ManageExchange).await?;
    store::upload(&state.db, upload_id)
        .await?
        .ok_or(AppError::NotFound)
}
