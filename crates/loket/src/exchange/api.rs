//! The exchange's JSON API for the admin's systems: where an upload's background job stands,
//! and the retry of one that failed (or that a restart interrupted).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use super::model::UploadStatus;
use super::service;
use super::store::Upload;
use crate::auth::ApiUser;
use crate::error::{ErrorBody, Result};
use crate::state::AppState;
use crate::web::ApiPath;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/exchange/uploads/{id}", get(read))
        .route("/api/v1/exchange/uploads/{id}/retry", post(retry))
}

/// An upload's job: its status, why it stopped, and how far applying got.
#[derive(Serialize, ToSchema)]
pub struct UploadOut {
    pub id: i64,
    pub file_name: String,
    pub rows: i64,
    /// `linking`, `review`, `applying`, `applied` or `failed`.
    pub status: String,
    /// Why it failed; `interrupted` when a restart cut the job off.
    pub status_note: Option<String>,
    pub applied_rows: i64,
    pub events_created: i64,
    /// A failed upload can be retried (`POST …/retry`).
    pub can_retry: bool,
}

impl From<Upload> for UploadOut {
    fn from(u: Upload) -> UploadOut {
        UploadOut {
            can_retry: u.status() == UploadStatus::Failed,
            id: u.id,
            file_name: u.file_name,
            rows: u.rows,
            status: u.status,
            status_note: u.status_note,
            applied_rows: u.applied_rows,
            events_created: u.events_created,
        }
    }
}

/// Where an exchange upload's background job stands.
#[utoipa::path(get, path = "/api/v1/exchange/uploads/{id}", tag = "exchange",
    params(("id" = i64, Path, description = "upload id")),
    responses((status = 200, body = UploadOut), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn read(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<UploadOut>> {
    Ok(Json(
        service::upload_state(&state, &actor, id).await?.into(),
    ))
}

/// Retries a failed upload: linking starts over, applying goes on from the rows not applied.
#[utoipa::path(post, path = "/api/v1/exchange/uploads/{id}/retry", tag = "exchange",
    params(("id" = i64, Path, description = "upload id")),
    responses((status = 202, body = UploadOut, description = "the job runs again"),
        (status = 409, body = ErrorBody, description = "upload_not_failed"), (status = 404, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn retry(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, Json<UploadOut>)> {
    service::retry(&state, &actor, id).await?;
    let upload = service::upload_state(&state, &actor, id).await?;
    Ok((StatusCode::ACCEPTED, Json(upload.into())))
}
