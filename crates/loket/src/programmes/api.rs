//! `/api/v1/programmes…`, a person's screening and programme referrals, and the partner
//! agencies' API (`/api/v1/partner/programme-referrals/search`, in the envelope of the DCI
//! social-registry search; `docs/programmes.md` lists where it differs).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{Programme, Referral, ReferralEvent};
use super::screening::Screened;
use super::service::{self, CaseloadLine, MoveInput, SharedField};
use crate::access::{self, Action};
use crate::auth::ApiUser;
use crate::error::{AppError, ErrorBody, Result};
use crate::identity::Actor;
use crate::state::AppState;
use crate::web::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/programmes", get(list))
        .route("/api/v1/programmes/caseload", get(caseload))
        .route("/api/v1/participants/{id}/programmes", get(screening))
        .route(
            "/api/v1/participants/{id}/programme-referrals",
            get(referrals).post(refer),
        )
        .route(
            "/api/v1/programme-referrals/{id}/status",
            post(move_referral),
        )
        .route(
            "/api/v1/partner/programme-referrals/search",
            post(partner_search),
        )
}

/// Every partner programme with its rules, places and open period.
#[utoipa::path(get, path = "/api/v1/programmes", tag = "programmes",
    responses((status = 200, body = Vec<Programme>), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<Json<Vec<Programme>>> {
    Ok(Json(service::programmes(&state, &actor).await?))
}

/// One programme as screened for a person: why it fits and what is missing.
#[derive(Serialize, ToSchema)]
pub struct ScreenedOut {
    pub programme: Programme,
    pub screening: Screened,
}

/// Screen a person against every programme ("Program lain yang cocok"), those that fit first.
#[utoipa::path(get, path = "/api/v1/participants/{id}/programmes", tag = "programmes",
    params(("id" = i64, Path, description = "participant id")),
    responses((status = 200, body = Vec<ScreenedOut>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn screening(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<ScreenedOut>>> {
    let out = service::screen_person(&state, &actor, id).await?;
    Ok(Json(
        out.into_iter()
            .map(|(programme, screening)| ScreenedOut {
                programme,
                screening,
            })
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseloadQuery {
    /// The counter whose caseload is screened.
    pub counter: i64,
}

/// Screen a counter's whole caseload against every programme in one request.
#[utoipa::path(get, path = "/api/v1/programmes/caseload", tag = "programmes",
    params(CaseloadQuery),
    responses((status = 200, body = Vec<CaseloadLine>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn caseload(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiQuery(q): ApiQuery<CaseloadQuery>,
) -> Result<Json<Vec<CaseloadLine>>> {
    Ok(Json(
        service::screen_caseload(&state, &actor, q.counter).await?,
    ))
}

/// A referral with its history.
#[derive(Serialize, ToSchema)]
pub struct ReferralOut {
    #[serde(flatten)]
    pub referral: Referral,
    pub history: Vec<ReferralEvent>,
}

/// A person's programme referrals with what each agency said.
#[utoipa::path(get, path = "/api/v1/participants/{id}/programme-referrals", tag = "programmes",
    params(("id" = i64, Path, description = "participant id")),
    responses((status = 200, body = Vec<ReferralOut>), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn referrals(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<ReferralOut>>> {
    let out = service::referrals_of_person(&state, &actor, id).await?;
    Ok(Json(
        out.into_iter()
            .map(|(referral, history)| ReferralOut { referral, history })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct ReferInput {
    pub programme_id: i64,
    pub note: Option<String>,
}

/// Draft a referral of a person to a programme (sent later, with consent).
#[utoipa::path(post, path = "/api/v1/participants/{id}/programme-referrals", tag = "programmes",
    params(("id" = i64, Path, description = "participant id")),
    request_body = ReferInput,
    responses((status = 201, body = Referral), (status = 409, body = ErrorBody, description = "programme_closed"),
        (status = 422, body = ErrorBody, description = "programme_unknown"), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn refer(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ReferInput>,
) -> Result<(StatusCode, Json<Referral>)> {
    let r = service::refer(
        &state,
        &actor,
        id,
        input.programme_id,
        input.note.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// Move a referral one step: the counter sends (with the person's consent) or withdraws; the
/// agency accepts, declines (with a reason), starts, completes or reports no-show. Refusals:
/// `consent_missing` (422), `programme_closed`, `programme_full`, `referral_transition`,
/// `version_conflict` (409), another agency's referral (403).
#[utoipa::path(post, path = "/api/v1/programme-referrals/{id}/status", tag = "programmes",
    params(("id" = i64, Path, description = "referral id")),
    request_body = MoveInput,
    responses((status = 200, body = Referral), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn move_referral(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<MoveInput>,
) -> Result<Json<Referral>> {
    if actor.user.role == crate::identity::Role::Lembaga {
        require_grant(&state, &actor).await?;
    }
    Ok(Json(
        service::move_referral(&state, &actor, id, &input).await?,
    ))
}

/// An agency's token must carry the referrals grant.
async fn require_grant(state: &AppState, actor: &Actor) -> Result<()> {
    if access::allows_grant(&actor.grants, access::GRANT_REFERRALS) {
        return Ok(());
    }
    let entry = crate::audit::Entry::new(Action::AnswerReferral.audit_name(), service::ENTITY, "")
        .outcome(crate::audit::Outcome::Denied);
    crate::audit::record(&state.db, Some(actor), None, entry).await?;
    Err(AppError::Forbidden)
}

/// The DCI envelope header (sender, receiver, message id and time).
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct DciHeader {
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub message_id: Option<String>,
    #[serde(default)]
    pub message_ts: Option<DateTime<Utc>>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub sender_id: Option<String>,
    #[serde(default)]
    pub receiver_id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub total_count: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
pub struct DciSearchRequest {
    #[serde(default)]
    pub header: DciHeader,
    pub message: DciSearchMessage,
}

#[derive(Deserialize, ToSchema)]
pub struct DciSearchMessage {
    pub transaction_id: String,
    pub search_request: Vec<DciSearchItem>,
}

#[derive(Deserialize, ToSchema)]
pub struct DciSearchItem {
    pub reference_id: String,
    pub search_criteria: DciCriteria,
}

/// loket supports `query_type` "predicate" with an optional `status` to match (e.g. "sent":
/// referrals waiting for an answer); an empty query lists every referral of the agency.
#[derive(Deserialize, ToSchema)]
pub struct DciCriteria {
    #[serde(default)]
    pub reg_type: Option<String>,
    #[serde(default)]
    pub query_type: Option<String>,
    #[serde(default)]
    pub query: Option<DciQuery>,
}

#[derive(Deserialize, ToSchema)]
pub struct DciQuery {
    pub status: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DciSearchResponse {
    pub header: DciHeader,
    pub message: DciResponseMessage,
}

#[derive(Serialize, ToSchema)]
pub struct DciResponseMessage {
    pub transaction_id: String,
    pub correlation_id: String,
    pub search_response: Vec<DciResponseItem>,
}

#[derive(Serialize, ToSchema)]
pub struct DciResponseItem {
    pub reference_id: String,
    pub timestamp: DateTime<Utc>,
    /// "succ" or "rjct".
    pub status: String,
    pub data: DciData,
}

#[derive(Serialize, ToSchema)]
pub struct DciData {
    pub reg_type: String,
    pub reg_records: Vec<AgencyRecord>,
}

/// One referral as the agency sees it: only the fields its programme needs.
#[derive(Serialize, ToSchema)]
pub struct AgencyRecord {
    pub referral_id: i64,
    pub programme: String,
    pub status: String,
    pub version: i64,
    pub status_at: DateTime<Utc>,
    pub person: Vec<SharedField>,
}

/// A partner agency's search of the referrals to its programmes, in the envelope of the DCI
/// social-registry `search` (synchronous: the answer is the `on-search` body). Needs an agency
/// token with the `programmes:referrals` grant.
#[utoipa::path(post, path = "/api/v1/partner/programme-referrals/search", tag = "programmes",
    request_body = DciSearchRequest,
    responses((status = 200, body = DciSearchResponse), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn partner_search(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(request): ApiJson<DciSearchRequest>,
) -> Result<Json<DciSearchResponse>> {
    access::require(&state.db, &actor, Action::AnswerReferral).await?;
    require_grant(&state, &actor).await?;
    let all = service::agency_referrals(&state, &actor).await?;
    let mut items = Vec::new();
    for item in &request.message.search_request {
        let wanted = item
            .search_criteria
            .query
            .as_ref()
            .and_then(|q| q.status.clone());
        let mut records = Vec::new();
        for r in all
            .iter()
            .filter(|r| wanted.as_deref().is_none_or(|w| r.status.code() == w))
        {
            let (referral, person, _) = service::agency_referral(&state, &actor, r.id).await?;
            records.push(AgencyRecord {
                referral_id: referral.id,
                programme: referral.programme_name,
                status: referral.status.code().to_string(),
                version: referral.version,
                status_at: referral.status_at,
                person,
            });
        }
        items.push(DciResponseItem {
            reference_id: item.reference_id.clone(),
            timestamp: Utc::now(),
            status: "succ".into(),
            data: DciData {
                reg_type: "programme_referral".into(),
                reg_records: records,
            },
        });
    }
    let total = items.iter().map(|i| i.data.reg_records.len() as i64).sum();
    Ok(Json(DciSearchResponse {
        header: DciHeader {
            version: Some("1.0.0".into()),
            message_id: request.header.message_id.clone(),
            message_ts: Some(Utc::now()),
            action: Some("on-search".into()),
            sender_id: Some("loket".into()),
            receiver_id: request.header.sender_id.clone(),
            status: Some("succ".into()),
            total_count: Some(total),
        },
        message: DciResponseMessage {
            transaction_id: request.message.transaction_id.clone(),
            correlation_id: request.message.transaction_id,
            search_response: items,
        },
    }))
}
