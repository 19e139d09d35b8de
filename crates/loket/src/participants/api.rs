//! `/api/v1/participants`: JSON for partner systems and scripts.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::model::{Consent, ConsentMethod};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{to_fields, Participant, ParticipantFields};
use super::service;
use crate::auth::ApiUser;
use crate::error::{AppError, ErrorBody, FieldError, Result};
use crate::state::AppState;
use crate::web::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/participants", get(search).post(create))
        .route("/api/v1/participants/{id}", get(read).patch(update))
        .route(
            "/api/v1/participants/{id}/reassign",
            axum::routing::post(reassign),
        )
        .route(
            "/api/v1/participants/{id}/referrals",
            axum::routing::post(refer),
        )
        .route(
            "/api/v1/participants/{id}/consents",
            get(consents).post(change_consent),
        )
        .route(
            "/api/v1/access-requests",
            get(access_requests).post(request_access),
        )
        .route("/api/v1/access-requests/holder", get(holder))
        .route(
            "/api/v1/access-requests/{id}/answer",
            axum::routing::post(answer_access_request),
        )
}

#[derive(Serialize, ToSchema)]
pub struct ConsentOut {
    pub processing: bool,
    pub sharing: bool,
    pub method: String,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct NikWarningOut {
    pub code: String,
    pub message: String,
    pub message_en: String,
}

/// What the NIK itself says, next to what was recorded.
#[derive(Serialize, ToSchema)]
pub struct NikInfo {
    pub birth_date: NaiveDate,
    pub sex: String,
    pub province_name: Option<String>,
    pub regency_name: Option<String>,
    pub district_name: Option<String>,
    pub warnings: Vec<NikWarningOut>,
}

#[derive(Serialize, ToSchema)]
pub struct ParticipantOut {
    pub id: i64,
    pub version: i64,
    #[serde(flatten)]
    pub fields: ParticipantFields,
    pub consent: ConsentOut,
    pub counter_id: Option<i64>,
    pub nik_info: NikInfo,
    /// `birth_date_mismatch`, `sex_mismatch`: recorded values that disagree with the NIK.
    pub flags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Participant> for ParticipantOut {
    fn from(p: &Participant) -> Self {
        let nik = &p.data.nik;
        let mut fields = to_fields(&p.data);
        // Consent is reported in its own object.
        fields.consent_processing = None;
        fields.consent_sharing = None;
        fields.consent_method = None;
        let mut flags = Vec::new();
        if p.data.birth_date_mismatch() {
            flags.push("birth_date_mismatch".to_string());
        }
        if p.data.sex_mismatch() {
            flags.push("sex_mismatch".to_string());
        }
        ParticipantOut {
            id: p.id,
            version: p.version,
            fields,
            consent: ConsentOut {
                processing: p.data.consent.processing,
                sharing: p.data.consent.sharing,
                method: p.data.consent.method.code().to_string(),
                recorded_at: p.consent_at,
                recorded_by: p.consent_by,
            },
            counter_id: p.counter_id,
            nik_info: NikInfo {
                birth_date: nik.birth_date(),
                sex: nik.sex().code().to_string(),
                province_name: nik.province_name().map(str::to_string),
                regency_name: nik.regency_name().map(str::to_string),
                district_name: nik.district_name().map(str::to_string),
                warnings: nik
                    .warnings()
                    .iter()
                    .map(|w| NikWarningOut {
                        code: w.code().to_string(),
                        message: w.message_id(),
                        message_en: w.message_en(),
                    })
                    .collect(),
            },
            flags,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

fn with_etag(status: StatusCode, participant: &Participant) -> Response {
    let mut response = (status, Json(ParticipantOut::from(participant))).into_response();
    if let Ok(etag) = format!("\"{}\"", participant.version).parse() {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// Register a Purna PMI at the caller's counter.
#[utoipa::path(post, path = "/api/v1/participants", tag = "participants",
    request_body = ParticipantFields,
    responses(
        (status = 201, body = ParticipantOut, description = "Registered"),
        (status = 409, body = ErrorBody, description = "nik_duplicate"),
        (status = 422, body = ErrorBody, description = "nik_invalid or validation_failed"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(fields): ApiJson<ParticipantFields>,
) -> Result<Response> {
    let participant = service::register(&state, &actor, &fields).await?;
    Ok(with_etag(StatusCode::CREATED, &participant))
}

/// Read one participant; the `ETag` header carries the version for `If-Match`.
#[utoipa::path(get, path = "/api/v1/participants/{id}", tag = "participants",
    params(("id" = i64, Path, description = "participant id")),
    responses((status = 200, body = ParticipantOut), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn read(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response> {
    let participant = service::view(&state, &actor, id).await?;
    Ok(with_etag(StatusCode::OK, &participant))
}

/// The version the client changes: `If-Match: "3"` (or `3`), else `?version=3`.
fn expected_version(headers: &HeaderMap, query: &VersionQuery) -> Result<i64> {
    if let Some(value) = headers.get(header::IF_MATCH) {
        let text = value
            .to_str()
            .unwrap_or("")
            .trim()
            .trim_start_matches("W/")
            .trim_matches('"');
        return text.parse().map_err(|_| {
            AppError::field(
                "version",
                "version_invalid",
                "Header If-Match harus berisi nomor versi.",
                "If-Match must hold a version number.",
            )
        });
    }
    query.version.ok_or(AppError::VersionRequired)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// Alternative to the `If-Match` header.
    pub version: Option<i64>,
}

/// Change some fields; only the fields present are changed. Requires the current version.
#[utoipa::path(patch, path = "/api/v1/participants/{id}", tag = "participants",
    params(("id" = i64, Path, description = "participant id"), ("If-Match" = Option<String>, Header, description = "current version, from ETag (or `?version=`)"), VersionQuery),
    request_body = ParticipantFields,
    responses((status = 200, body = ParticipantOut), (status = 409, body = ErrorBody, description = "version_conflict or nik_duplicate"),
        (status = 428, body = ErrorBody, description = "version_required: neither If-Match nor `?version=`"), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<VersionQuery>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<ParticipantFields>,
) -> Result<Response> {
    let version = expected_version(&headers, &query)?;
    let participant = service::change(&state, &actor, id, version, &patch).await?;
    Ok(with_etag(StatusCode::OK, &participant))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Exact NIK (16 digits).
    pub nik: Option<String>,
    /// Part of the name, case-insensitive.
    pub name: Option<String>,
    /// At most this many results (1–100, default 20).
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ParticipantList {
    pub items: Vec<ParticipantOut>,
}

/// Find participants by exact NIK or by name, within the caller's scope.
#[utoipa::path(get, path = "/api/v1/participants", tag = "participants", params(SearchQuery),
    responses((status = 200, body = ParticipantList), (status = 422, body = ErrorBody, description = "nik_invalid or neither nik nor name"), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn search(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Json<ParticipantList>> {
    let found = match (query.nik.as_deref(), query.name.as_deref()) {
        (Some(nik), _) => {
            let nik = nik::Nik::parse(nik)
                .map_err(|e| AppError::Validation(vec![FieldError::from_nik("nik", &e)]))?;
            service::find_by_nik(&state, &actor, &nik)
                .await?
                .into_iter()
                .collect()
        }
        (None, Some(name)) if !name.trim().is_empty() => {
            let found =
                service::search_by_name(&state, &actor, name, query.limit.unwrap_or(20)).await?;
            // The API returns full records: each one is a view.
            for p in &found {
                service::audit_view(&state, &actor, p.id).await?;
            }
            found
        }
        _ => {
            return Err(AppError::field(
                "nik",
                "query_required",
                "Isi parameter nik atau name.",
                "Give the nik or name parameter.",
            ))
        }
    };
    Ok(Json(ParticipantList {
        items: found.iter().map(ParticipantOut::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct ReassignRequest {
    /// The counter that takes over the case.
    pub counter_id: i64,
    /// Why (kept in the audit log).
    pub reason: String,
}

/// Move a case to another counter (koordinator within their office, admin anywhere). Needs `If-Match`.
#[utoipa::path(post, path = "/api/v1/participants/{id}/reassign", tag = "participants",
    params(("id" = i64, Path, description = "participant id"), ("If-Match" = Option<String>, Header, description = "current version, from ETag (or `?version=`)"), VersionQuery),
    request_body = ReassignRequest,
    responses((status = 200, body = ParticipantOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 428, body = ErrorBody, description = "version_required: neither If-Match nor `?version=`")),
    security(("bearer" = [])))]
pub async fn reassign(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<VersionQuery>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ReassignRequest>,
) -> Result<Response> {
    let version = expected_version(&headers, &query)?;
    let participant =
        service::reassign(&state, &actor, id, version, body.counter_id, &body.reason).await?;
    Ok(with_etag(StatusCode::OK, &participant))
}

#[derive(Deserialize, ToSchema)]
pub struct ReferralRequest {
    /// The counter the person is referred to; it may then see and serve them.
    pub counter_id: i64,
    pub reason: String,
}

/// Refer a person to another counter.
#[utoipa::path(post, path = "/api/v1/participants/{id}/referrals", tag = "participants",
    params(("id" = i64, Path, description = "participant id")), request_body = ReferralRequest,
    responses((status = 204, description = "Referred"), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn refer(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReferralRequest>,
) -> Result<StatusCode> {
    service::refer(&state, &actor, id, body.counter_id, &body.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct ConsentEventOut {
    pub processing: bool,
    pub sharing: bool,
    pub method: String,
    pub recorded_by: Option<i64>,
    pub recorded_at: DateTime<Utc>,
    pub note: Option<String>,
}

/// The consent history of a person, oldest first.
#[utoipa::path(get, path = "/api/v1/participants/{id}/consents", tag = "participants",
    params(("id" = i64, Path, description = "participant id")),
    responses((status = 200, body = Vec<ConsentEventOut>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn consents(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<ConsentEventOut>>> {
    let history = service::consent_history(&state, &actor, id).await?;
    Ok(Json(
        history
            .into_iter()
            .map(|e| ConsentEventOut {
                processing: e.processing,
                sharing: e.sharing,
                method: e.method,
                recorded_by: e.recorded_by,
                recorded_at: e.recorded_at,
                note: e.note,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct ConsentRequest {
    pub processing: bool,
    pub sharing: bool,
    #[schema(value_type = ConsentMethod)]
    pub method: String,
    pub note: Option<String>,
}

/// Record a new consent decision, e.g. a withdrawal of consent to sharing (takes effect at once).
#[utoipa::path(post, path = "/api/v1/participants/{id}/consents", tag = "participants",
    params(("id" = i64, Path, description = "participant id")), request_body = ConsentRequest,
    responses((status = 200, body = ParticipantOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn change_consent(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ConsentRequest>,
) -> Result<Response> {
    let method = ConsentMethod::parse(&body.method).ok_or_else(|| {
        AppError::field(
            "method",
            "choice_invalid",
            "Cara persetujuan tidak dikenal.",
            "Unknown consent method.",
        )
    })?;
    let consent = Consent {
        processing: body.processing,
        sharing: body.sharing,
        method,
    };
    let participant =
        service::change_consent(&state, &actor, id, consent, body.note.as_deref()).await?;
    Ok(with_etag(StatusCode::OK, &participant))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NikQuery {
    /// The NIK (16 digits).
    pub nik: String,
}

/// Where a person is registered, by name (nothing more of the person).
#[derive(Serialize, ToSchema)]
pub struct PlaceOut {
    /// The holding counter's name; null when no counter holds the case (head office does).
    pub counter: Option<String>,
    pub office: Option<String>,
}

impl From<super::requests::Place> for PlaceOut {
    fn from(p: super::requests::Place) -> Self {
        PlaceOut {
            counter: p.counter,
            office: p.office,
        }
    }
}

fn parse_nik(text: &str) -> Result<nik::Nik> {
    nik::Nik::parse(text).map_err(|e| AppError::Validation(vec![FieldError::from_nik("nik", &e)]))
}

/// Where the person with this NIK is registered, when the caller's scope does not reach them
/// (404 when it does, or nobody has the NIK): ask that counter with `POST /access-requests`.
#[utoipa::path(get, path = "/api/v1/access-requests/holder", tag = "access requests", params(NikQuery),
    responses((status = 200, body = PlaceOut), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn holder(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiQuery(query): ApiQuery<NikQuery>,
) -> Result<Json<PlaceOut>> {
    let nik = parse_nik(&query.nik)?;
    let place = super::requests::locate(&state, &actor, &nik)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(place.into()))
}

#[derive(Deserialize, ToSchema)]
pub struct AccessRequestIn {
    /// The NIK of the person registered at another counter.
    pub nik: String,
    /// `access` (the holder keeps the case, the caller's counter may serve the person) or
    /// `move` (the case moves to the caller's counter).
    pub kind: String,
    pub reason: String,
}

/// A request as the API shows it: the person only to the side that holds the case.
#[derive(Serialize, ToSchema)]
pub struct AccessRequestOut {
    pub id: i64,
    pub kind: String,
    /// `open`, `accepted` or `declined`.
    pub status: String,
    pub from_counter_id: i64,
    pub from_counter: String,
    pub from_office: String,
    pub holder: PlaceOut,
    pub requested_by: String,
    pub reason: String,
    pub requested_at: DateTime<Utc>,
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    /// Set for the holding side (and for the requester once access is granted).
    pub participant_id: Option<i64>,
}

fn request_out(r: super::store::AccessRequestRow, show_person: bool) -> AccessRequestOut {
    let show = show_person || r.status == super::requests::RequestStatus::Accepted;
    AccessRequestOut {
        id: r.id,
        kind: r.kind.code().to_string(),
        status: r.status.code().to_string(),
        from_counter_id: r.from_counter_id,
        from_counter: r.from_counter,
        from_office: r.from_office,
        holder: PlaceOut {
            counter: r.holder_counter,
            office: r.holder_office,
        },
        requested_by: r.requested_by,
        reason: r.reason,
        requested_at: r.requested_at,
        answer: r.answer,
        answered_at: r.answered_at,
        participant_id: show.then_some(r.participant_id),
    }
}

/// Ask the counter holding a person's case for access to it, or to move it to the caller's
/// counter.
#[utoipa::path(post, path = "/api/v1/access-requests", tag = "access requests", request_body = AccessRequestIn,
    responses((status = 201, body = AccessRequestOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn request_access(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(body): ApiJson<AccessRequestIn>,
) -> Result<(StatusCode, Json<AccessRequestOut>)> {
    let nik = parse_nik(&body.nik)?;
    let kind = super::requests::RequestKind::parse(&body.kind).ok_or_else(|| {
        AppError::field(
            "kind",
            "choice_invalid",
            "Pilih minta akses atau minta pindah.",
            "Choose access or move.",
        )
    })?;
    let id = super::requests::request(&state, &actor, &nik, kind, &body.reason).await?;
    let all = super::requests::list(&state, &actor).await?;
    let row = all
        .outgoing
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(request_out(row, false))))
}

#[derive(Serialize, ToSchema)]
pub struct AccessRequestsOut {
    /// Requests for cases the caller's counter or office holds (open first).
    pub incoming: Vec<AccessRequestOut>,
    /// Requests the caller's counter or office sent.
    pub outgoing: Vec<AccessRequestOut>,
}

/// The caller's access requests, both ways.
#[utoipa::path(get, path = "/api/v1/access-requests", tag = "access requests",
    responses((status = 200, body = AccessRequestsOut), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn access_requests(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<Json<AccessRequestsOut>> {
    let all = super::requests::list(&state, &actor).await?;
    Ok(Json(AccessRequestsOut {
        incoming: all
            .incoming
            .into_iter()
            .map(|r| request_out(r, true))
            .collect(),
        outgoing: all
            .outgoing
            .into_iter()
            .map(|r| request_out(r, false))
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct AccessAnswerIn {
    /// true grants the request (access: a referral; move: a reassignment), false declines.
    pub accept: bool,
    /// Required to decline.
    #[serde(default)]
    pub reason: String,
}

/// Answer a request for a case the caller's counter or office holds.
#[utoipa::path(post, path = "/api/v1/access-requests/{id}/answer", tag = "access requests",
    params(("id" = i64, Path, description = "request id")), request_body = AccessAnswerIn,
    responses((status = 200, body = AccessRequestOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn answer_access_request(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AccessAnswerIn>,
) -> Result<Json<AccessRequestOut>> {
    let row = super::requests::answer(&state, &actor, id, body.accept, &body.reason).await?;
    Ok(Json(request_out(row, true)))
}
