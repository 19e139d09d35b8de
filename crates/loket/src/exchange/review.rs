//! The clerical review of the uncertain band: a reviewer accepts or rejects a row's match.

use super::model::*;
use super::service::ENTITY;
use super::store;
use crate::access::{self, Action};
use crate::audit::{self, Entry};
use crate::error::{AppError, Result};
use crate::identity::Actor;
use crate::state::AppState;

/// A reviewer's decision on a row of the uncertain band.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    upload_id: i64,
    row_id: i64,
    accept: bool,
) -> Result<()> {
    access::require(&state.db, actor, Action::ManageExchange).await?;
    let row = store::row(&state.db, row_id)
        .await?
        .ok_or(AppError::NotFound)?;
    // The row must belong to the upload named in the URL.
    if row.upload_id != upload_id {
        return Err(AppError::NotFound);
    }
    let upload = store::upload(&state.db, upload_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if upload.status() != UploadStatus::Review {
        return Err(AppError::Refused {
            code: "upload_not_in_review",
            message: "Berkas ini tidak sedang dalam tahap pemeriksaan.".into(),
            message_en: "This upload is not awaiting review.".into(),
        });
    }
    let decision = if accept {
        Decision::Accepted
    } else {
        Decision::Rejected
    };
    let counter = if accept {
        None
    } else {
        let places = super::counter_places(&state.db).await?;
        nearest_counter(&row.district_code, &places)
    };
    if !store::decide(&state.db, row_id, decision, actor.user.id, counter).await? {
        return Err(AppError::Refused {
            code: "row_not_reviewable",
            message: "Baris ini tidak perlu diperiksa.".into(),
            message_en: "This row is not open to review.".into(),
        });
    }
    let mut fields = vec![
        format!("row={}", row.row_no),
        format!("decision={}", decision.code()),
    ];
    if let Some(p) = row.participant_id {
        fields.push(format!("participant={p}"));
    }
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("exchange.review", ENTITY, upload_id).fields(fields),
    )
    .await?;
    Ok(())
}
