//! Reminders' JSON API (`/api/v1/reminders…`) and the providers' webhooks (`/hooks/…`):
//! WhatsApp's delivery statuses and replies, and an SMS gateway's reports and replies.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::{IntoParams, ToSchema};

use super::model::{Channel, Status};
use super::service::{self, ConsentView, RunReport};
use super::store::MessageRow;
use crate::auth::ApiUser;
use crate::error::{AppError, ErrorBody, Result};
use crate::state::AppState;
use crate::web::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reminders", get(outbox))
        .route("/api/v1/reminders/run", post(run))
        .route(
            "/api/v1/participants/{id}/reminder-consent",
            get(consents).put(set_consent),
        )
        .route("/api/v1/participants/{id}/status-link", post(issue_link))
        .route(
            "/api/v1/participants/{id}/status-link/revoke",
            post(revoke_links),
        )
        .route("/hooks/whatsapp", get(whatsapp_verify).post(whatsapp_hook))
        .route("/hooks/sms", post(sms_hook))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// `queued`, `sending`, `sent`, `delivered` or `failed`
    pub status: Option<String>,
    pub participant: Option<i64>,
    /// At most this many (default 100, at most 500).
    pub limit: Option<i64>,
}

pub(super) fn parse_status(text: Option<&str>) -> Result<Option<Status>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => Status::from_code(t).map(Some).ok_or_else(|| {
            AppError::field(
                "status",
                "status_invalid",
                &format!("Status harus salah satu dari: {}.", Status::codes()),
                &format!("The status must be one of: {}.", Status::codes()),
            )
        }),
    }
}

/// The outbox within the caller's scope, newest first (a person's messages with `participant`).
#[utoipa::path(get, path = "/api/v1/reminders", tag = "reminders", params(OutboxQuery),
    responses((status = 200, body = [MessageRow]), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn outbox(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiQuery(q): ApiQuery<OutboxQuery>,
) -> Result<Json<Vec<MessageRow>>> {
    let status = parse_status(q.status.as_deref())?;
    let rows = service::outbox(
        &state,
        &actor,
        status,
        q.participant,
        q.limit.unwrap_or(100),
    )
    .await?;
    Ok(Json(rows))
}

#[derive(Deserialize, ToSchema)]
pub struct RunInput {
    /// The counter whose follow-up list is read (default: the caller's own).
    pub counter: Option<i64>,
    /// The day the rules look at (default: today, WIB).
    pub as_of: Option<NaiveDate>,
}

/// Runs the reminder rules over a counter's follow-up list; a rerun never queues twice.
#[utoipa::path(post, path = "/api/v1/reminders/run", tag = "reminders", request_body = RunInput,
    responses((status = 200, body = RunReport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn run(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(input): ApiJson<RunInput>,
) -> Result<Json<RunReport>> {
    Ok(Json(
        service::run_rules(&state, &actor, input.counter, input.as_of).await?,
    ))
}

/// Consent to be contacted, per channel.
#[utoipa::path(get, path = "/api/v1/participants/{id}/reminder-consent", tag = "reminders",
    params(("id" = i64, Path)),
    responses((status = 200, body = [ConsentView]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn consents(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<ConsentView>>> {
    Ok(Json(service::consents(&state, &actor, id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ConsentInput {
    /// `whatsapp` or `sms`
    pub channel: String,
    /// `true`: the person agrees to messages on this channel; `false`: opt-out at the counter.
    pub given: bool,
}

pub(super) fn parse_channel(text: &str) -> Result<Channel> {
    Channel::from_code(text.trim()).ok_or_else(|| {
        AppError::field(
            "channel",
            "channel_invalid",
            "Saluran harus whatsapp atau sms.",
            "The channel must be whatsapp or sms.",
        )
    })
}

/// Records consent on a channel, or an opt-out at the counter.
#[utoipa::path(put, path = "/api/v1/participants/{id}/reminder-consent", tag = "reminders",
    params(("id" = i64, Path)), request_body = ConsentInput,
    responses((status = 200, body = [ConsentView]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_consent(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ConsentInput>,
) -> Result<Json<Vec<ConsentView>>> {
    let channel = parse_channel(&input.channel)?;
    service::set_consent(&state, &actor, id, channel, input.given).await?;
    Ok(Json(service::consents(&state, &actor, id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct LinkOut {
    /// The code to print on the slip; shown once, only its hash is kept.
    pub code: String,
    pub path: String,
}

/// A new status-page code for the person.
#[utoipa::path(post, path = "/api/v1/participants/{id}/status-link", tag = "reminders",
    params(("id" = i64, Path)),
    responses((status = 200, body = LinkOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn issue_link(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<LinkOut>> {
    let code = service::issue_link(&state, &actor, id).await?;
    Ok(Json(LinkOut {
        path: format!("/s/{code}"),
        code,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Revoked {
    pub revoked: u64,
}

/// Revokes every status-page code of the person.
#[utoipa::path(post, path = "/api/v1/participants/{id}/status-link/revoke", tag = "reminders",
    params(("id" = i64, Path)),
    responses((status = 200, body = Revoked), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke_links(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Revoked>> {
    let revoked = service::revoke_links(&state, &actor, id).await?;
    Ok(Json(Revoked { revoked }))
}

#[derive(Deserialize)]
pub struct VerifyQuery {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// Meta's subscription check: echo the challenge when the verify token is ours.
async fn whatsapp_verify(
    State(state): State<AppState>,
    Query(q): Query<VerifyQuery>,
) -> Result<String> {
    let ours = state.config.reminders.whatsapp_verify_token.as_deref();
    match (
        q.mode.as_deref(),
        q.verify_token.as_deref(),
        ours,
        q.challenge,
    ) {
        (Some("subscribe"), Some(given), Some(ours), Some(challenge))
            if constant_eq(given.as_bytes(), ours.as_bytes()) =>
        {
            Ok(challenge)
        }
        _ => Err(AppError::Forbidden),
    }
}

/// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>`.
fn signed_by_meta(secret: Option<&str>, headers: &HeaderMap, body: &[u8]) -> bool {
    let (Some(secret), Some(given)) = (
        secret,
        headers
            .get("x-hub-signature-256")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("sha256="))
            .and_then(|v| hex::decode(v).ok()),
    ) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Serialize)]
pub struct HookAnswer {
    stopped: usize,
    statuses: u64,
}

/// WhatsApp's webhook: message statuses (`delivered`, `read`, `failed`) and replies (STOP).
async fn whatsapp_hook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<HookAnswer>> {
    let secret = state.config.reminders.whatsapp_app_secret.as_deref();
    if !signed_by_meta(secret, &headers, &body) {
        return Err(AppError::Unauthorized);
    }
    let payload: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| AppError::BadRequest("webhook body is not JSON".into()))?;
    let mut answer = HookAnswer {
        stopped: 0,
        statuses: 0,
    };
    let empty = Vec::new();
    for entry in payload["entry"].as_array().unwrap_or(&empty) {
        for change in entry["changes"].as_array().unwrap_or(&empty) {
            let value = &change["value"];
            for status in value["statuses"].as_array().unwrap_or(&empty) {
                let (Some(id), Some(kind)) = (status["id"].as_str(), status["status"].as_str())
                else {
                    continue;
                };
                let delivered = match kind {
                    "delivered" | "read" => true,
                    "failed" => false,
                    _ => continue,
                };
                let why = status["errors"][0]["code"]
                    .as_i64()
                    .map_or(kind.to_string(), |c| format!("{kind} {c}"));
                answer.statuses += service::delivery(&state, id, delivered, &why).await?;
            }
            for message in value["messages"].as_array().unwrap_or(&empty) {
                let (Some(from), Some(text)) =
                    (message["from"].as_str(), message["text"]["body"].as_str())
                else {
                    continue;
                };
                if service::is_stop(text) {
                    answer.stopped += service::stop_reply(&state, Channel::Whatsapp, from).await?;
                }
            }
        }
    }
    Ok(Json(answer))
}

#[derive(Deserialize)]
pub struct SmsHook {
    /// A reply: the sender and the text.
    from: Option<String>,
    text: Option<String>,
    /// A delivery report: the gateway's message id (or our reference) and its status.
    id: Option<String>,
    status: Option<String>,
}

/// An SMS gateway's webhook, authenticated by the shared secret in `X-Loket-Secret`.
async fn sms_hook(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(hook): Json<SmsHook>,
) -> Result<Json<HookAnswer>> {
    let ours = state.config.reminders.sms_webhook_secret.as_deref();
    let given = headers.get("x-loket-secret").and_then(|v| v.to_str().ok());
    match (ours, given) {
        (Some(ours), Some(given)) if constant_eq(ours.as_bytes(), given.as_bytes()) => {}
        _ => return Err(AppError::Unauthorized),
    }
    let mut answer = HookAnswer {
        stopped: 0,
        statuses: 0,
    };
    if let (Some(from), Some(text)) = (&hook.from, &hook.text) {
        if service::is_stop(text) {
            answer.stopped = service::stop_reply(&state, Channel::Sms, from).await?;
        }
    }
    if let (Some(id), Some(status)) = (&hook.id, &hook.status) {
        let s = status.to_lowercase();
        let delivered = matches!(s.as_str(), "delivered" | "delivrd" | "success");
        let failed = matches!(
            s.as_str(),
            "failed" | "undeliv" | "undelivered" | "rejected" | "expired"
        );
        if delivered || failed {
            answer.statuses = service::delivery(&state, id, delivered, &s).await?;
        }
    }
    Ok(Json(answer))
}
