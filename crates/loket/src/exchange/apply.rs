//! Applying a reviewed upload: the journey events each row states, once (applying the same
//! file twice adds nothing), a page at a time so that a restart resumes where it stopped.

use chrono::NaiveDate;

use super::model::*;
use super::service::ENTITY;
use super::store;
use crate::access::{self, Action};
use crate::audit::{self, Entry};
use crate::error::{AppError, Result};
use crate::identity::Actor;
use crate::journey::EventFields;
use crate::journey::Source;
use crate::journey::{effective, local_day, Stage};
use crate::journey::{record_event, EventInput};
use crate::state::AppState;

/// Starts (or resumes) applying a reviewed upload.
pub async fn apply(state: &AppState, actor: &Actor, upload_id: i64) -> Result<()> {
    access::require(&state.db, actor, Action::ManageExchange).await?;
    let upload = store::upload(&state.db, upload_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let open = store::counts(&state.db, upload_id)
        .await?
        .into_iter()
        .find(|(d, ..)| d == Decision::Review.code())
        .map_or(0, |(_, n, _)| n);
    if open > 0 {
        return Err(AppError::Refused {
            code: "review_unfinished",
            message: format!("Masih ada {open} baris yang perlu diperiksa sebelum diterapkan."),
            message_en: format!("{open} row(s) still need review before applying."),
        });
    }
    match upload.status() {
        UploadStatus::Review => {}
        UploadStatus::Applied => {
            return Err(AppError::Refused {
                code: "upload_applied",
                message: "Berkas ini sudah diterapkan.".into(),
                message_en: "This upload is already applied.".into(),
            })
        }
        // A second job beside the running one would record its events twice.
        UploadStatus::Applying => return Err(running()),
        UploadStatus::Linking | UploadStatus::Failed => {
            return Err(AppError::Refused {
                code: "upload_not_linked",
                message: "Berkas ini belum selesai dicocokkan.".into(),
                message_en: "This upload has not finished linking.".into(),
            })
        }
    }
    if !store::move_status(
        &state.db,
        upload_id,
        &[UploadStatus::Review],
        UploadStatus::Applying,
        None,
    )
    .await?
    {
        return Err(running());
    }
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("exchange.apply", ENTITY, upload_id),
    )
    .await?;
    spawn_apply(state.clone(), actor.clone(), upload_id);
    Ok(())
}

fn running() -> AppError {
    AppError::Refused {
        code: "upload_running",
        message: "Berkas ini sedang diterapkan.".into(),
        message_en: "This upload is being applied.".into(),
    }
}

/// Applies in the background. A failure marks the upload failed with the reason; retrying
/// resumes where it stopped (rows already applied are kept and skipped).
pub(super) fn spawn_apply(state: AppState, actor: Actor, upload_id: i64) {
    tokio::spawn(async move {
        if let Err(e) = apply_all(&state, &actor, upload_id).await {
            e.log();
            let note = format!("{e}");
            let _ = store::move_status(
                &state.db,
                upload_id,
                &[UploadStatus::Applying],
                UploadStatus::Failed,
                Some(&note),
            )
            .await;
        }
    });
}

/// Applies every row not applied yet, a page at a time, then marks the upload applied.
pub(super) async fn apply_all(state: &AppState, actor: &Actor, upload_id: i64) -> Result<()> {
    const PAGE: i64 = 500;
    // Rows name different people (the assignment is one-to-one), so several are applied at
    // once: their audit entries then share commits instead of each waiting for its own.
    const AT_ONCE: usize = 8;
    let mut after = 0;
    loop {
        // Marked failed meanwhile (a server started on the database took it for interrupted):
        // the retry that follows goes on from here, so this job stops.
        if !still_applying(state, upload_id).await? {
            return Ok(());
        }
        let rows = store::rows_of(&state.db, upload_id, None, after, PAGE).await?;
        let Some(last) = rows.last() else { break };
        after = last.row_no;
        let mut running = tokio::task::JoinSet::new();
        for row in rows.into_iter().filter(|r| !r.applied) {
            if running.len() >= AT_ONCE {
                joined(running.join_next().await)?;
            }
            let (state, actor) = (state.clone(), actor.clone());
            running.spawn(async move {
                let (created, note) = match (row.decision(), row.participant_id) {
                    (d, Some(pid)) if d.is_linked() => {
                        apply_row(&state, &actor, upload_id, &row, pid).await?
                    }
                    _ => (0, None),
                };
                store::mark_applied(&state.db, upload_id, row.id, created, note.as_deref()).await
            });
        }
        while let Some(done) = running.join_next().await {
            joined(Some(done))?;
        }
    }
    let upload = store::upload(&state.db, upload_id).await?;
    let entry = Entry::new("exchange.applied", ENTITY, upload_id).fields(vec![format!(
        "events={}",
        upload.map_or(0, |u| u.events_created)
    )]);
    let audited = audit::Batch::of(&state.db, Some(actor), None, entry)?;
    store::finish_apply(&state.db, upload_id, actor.user.id, audited).await?;
    Ok(())
}

async fn still_applying(state: &AppState, upload_id: i64) -> Result<bool> {
    Ok(store::upload(&state.db, upload_id)
        .await?
        .is_some_and(|u| u.status() == UploadStatus::Applying))
}

fn joined(done: Option<std::result::Result<Result<()>, tokio::task::JoinError>>) -> Result<()> {
    match done {
        Some(Ok(result)) => result,
        Some(Err(e)) => Err(AppError::Internal(anyhow::anyhow!("apply task: {e}"))),
        None => Ok(()),
    }
}

/// Whether the person's journey already holds the event (any source): then the file row
/// adds nothing, which is what makes applying the same file twice harmless.
fn already_recorded(
    existing: &mut Vec<(Stage, NaiveDate, Option<i64>)>,
    planned: &PlannedEvent,
    batch_id: Option<i64>,
) -> bool {
    let found = existing.iter().position(|(stage, on, batch)| {
        *stage == planned.stage
            && match planned.stage {
                // Joining is one fact per batch, whatever day was written down for it.
                Stage::JoinedBatch => batch_id.is_some() && *batch == batch_id,
                // Only one acceptance counts per batch; the day may differ between sources.
                Stage::Accepted => true,
                _ => *on == planned.on,
            }
    });
    // Each stored event answers for one planned event (two payments on one day are two).
    found.map(|i| existing.remove(i)).is_some()
}

/// Records the events a row states that the journey does not hold yet. The programme office
/// is the authority on its own steps, so an event the counter rules would refuse (a step
/// before it was never recorded at the counter) is kept with an override naming the file.
async fn apply_row(
    state: &AppState,
    actor: &Actor,
    upload_id: i64,
    row: &store::UploadRow,
    participant_id: i64,
) -> Result<(i64, Option<String>)> {
    let facts: Facts = serde_json::from_str(&row.facts)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("facts of row {}: {e}", row.id)))?;
    let rules = crate::journey::rules(&state.db).await?;
    let events = crate::journey::events_of(&state.db, participant_id).await?;
    let mut existing: Vec<(Stage, NaiveDate, Option<i64>)> = effective(&events)
        .iter()
        .map(|e| (e.stage, local_day(e.occurred_at), e.batch_id))
        .collect();
    let reason = format!(
        "Data resmi Manajemen Pelaksana Prakerja (unggahan #{upload_id}, baris {})",
        row.row_no
    );
    let mut created = 0;
    for planned in facts.planned_events() {
        let batch_id = planned
            .batch
            .and_then(|n| rules.batch_by_number(n))
            .map(|b| b.id);
        if already_recorded(&mut existing, &planned, batch_id) {
            continue;
        }
        let mut input = EventInput {
            stage: planned.stage.code().to_string(),
            occurred_on: Some(planned.on),
            batch: planned.batch,
            fields: EventFields {
                card_number: planned.card_number.clone(),
                training_title: planned.training_title.clone(),
                training_platform: planned.training_platform.clone(),
                amount: planned.amount,
                detail: Some(format!("upload={upload_id} row={}", row.row_no)),
                ..Default::default()
            },
            ..Default::default()
        };
        let mut result = record_event(state, actor, participant_id, &input, Source::Import).await;
        // The file's line is written once, as the reason the refusal asked for: the rules'
        // override, or (joining against eligibility advice) the eligibility reason.
        for _ in 0..2 {
            let Err(AppError::Refused { code, .. }) = &result else {
                break;
            };
            if *code == "eligibility_against" {
                input.eligibility_reason = Some(reason.clone());
            } else if input.fields.override_reason.is_none() {
                input.fields.override_reason = Some(reason.clone());
            } else {
                break;
            }
            result = record_event(state, actor, participant_id, &input, Source::Import).await;
        }
        match result {
            Ok(_) => created += 1,
            Err(e) if e.status().is_client_error() => {
                let (id, en) = e.messages();
                // Later steps depend on this one: the rest of the row waits for a correction.
                return Ok((
                    created,
                    Some(super::why::apply_note(planned.stage, &id, &en)),
                ));
            }
            Err(e) => return Err(e),
        }
    }
    Ok((created, None))
}
