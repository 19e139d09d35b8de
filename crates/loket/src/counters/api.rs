//! `/api/v1/dashboard`, `/api/v1/counters`, `/api/v1/officers`, `/api/v1/tot`, `/api/v1/targets`:
//! JSON for scripts and partner systems, the same figures as the pages.

use axum::extract::State;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dashboard::{self, Dashboard};
use super::model::*;
use super::service::{self, BatchInput, LineageStep};
use super::store;
use crate::auth::ApiUser;
use crate::clock;
use crate::error::{AppError, ErrorBody, FieldError, Result};
use crate::state::AppState;
use crate::web::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/dashboard", get(dashboard))
        .route("/api/v1/counters", get(list_counters))
        .route("/api/v1/counters/{id}/status", post(change_status))
        .route("/api/v1/officers", post(create_officer))
        .route("/api/v1/officers/{id}", get(read_officer))
        .route("/api/v1/tot/batches", post(create_batch))
        .route("/api/v1/tot/batches/{id}/results", post(record_result))
        .route("/api/v1/targets", get(list_targets).put(set_target))
        .route("/api/v1/settings/{key}", put(set_setting))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// `national` (default), `province:35`, `office:UPT-JATIM` or `counter:UPT-JATIM-01`.
    pub scope: Option<String>,
    /// The day the figures are for (default: today, WIB).
    pub as_of: Option<String>,
}

/// Parses the scope and day of a dashboard request (shared with the pages and downloads).
pub fn dashboard_params(scope: Option<&str>, as_of: Option<&str>) -> Result<(ScopeRef, NaiveDate)> {
    let scope = ScopeRef::parse(scope.unwrap_or("")).ok_or_else(|| {
        AppError::field(
            "scope",
            "scope_invalid",
            "Cakupan ditulis national, province:KODE, office:KODE atau counter:KODE.",
            "Write the scope as national, province:CODE, office:CODE or counter:CODE.",
        )
    })?;
    let as_of = match as_of.map(str::trim).filter(|s| !s.is_empty()) {
        None => clock::today(),
        Some(text) => parse_date("as_of", text)?,
    };
    Ok((scope, as_of))
}

pub(super) fn parse_date(field: &str, text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        AppError::field(
            field,
            "date_invalid",
            "Tanggal ditulis TTTT-BB-HH, mis. 2021-12-31.",
            "Write the date as YYYY-MM-DD, e.g. 2021-12-31.",
        )
    })
}

pub(super) fn parse_code<T>(
    field: &str,
    text: &str,
    parse: fn(&str) -> Option<T>,
    codes: String,
) -> Result<T> {
    parse(text).ok_or_else(|| {
        AppError::Validation(vec![FieldError::new(
            field,
            "choice_invalid",
            format!("Pilihan tidak dikenal. Pilih salah satu: {codes}."),
            format!("Unknown choice. Use one of: {codes}."),
        )])
    })
}

/// Rollout, officers and reach against the targets, for a scope on a day.
#[utoipa::path(get, path = "/api/v1/dashboard", tag = "network", params(DashboardQuery),
    responses((status = 200, body = Dashboard), (status = 422, body = ErrorBody, description = "scope_invalid, scope_unknown or date_invalid"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn dashboard(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiQuery(q): ApiQuery<DashboardQuery>,
) -> Result<Json<Dashboard>> {
    service::view_allowed(&state.db, &actor).await?;
    let (scope, as_of) = dashboard_params(q.scope.as_deref(), q.as_of.as_deref())?;
    Ok(Json(dashboard::compute(&state.db, &scope, as_of).await?))
}

#[derive(Serialize, ToSchema)]
pub struct CounterOut {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub office_code: String,
    pub province_code: String,
    pub status: String,
    pub location_type: String,
    pub address: Option<String>,
    pub region_code: Option<String>,
    pub opening_hours: Option<String>,
    pub services: Option<String>,
    pub planned_open: Option<NaiveDate>,
    pub version: i64,
}

impl From<store::CounterRow> for CounterOut {
    fn from(c: store::CounterRow) -> Self {
        CounterOut {
            id: c.id,
            code: c.code,
            name: c.name,
            office_code: c.office_code,
            province_code: c.province_code,
            status: c.status,
            location_type: c.location_type,
            address: c.address,
            region_code: c.region_code,
            opening_hours: c.opening_hours,
            services: c.services,
            planned_open: c.planned_open,
            version: c.version,
        }
    }
}

/// Every counter with its office, status and version.
#[utoipa::path(get, path = "/api/v1/counters", tag = "network",
    responses((status = 200, body = Vec<CounterOut>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_counters(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<Json<Vec<CounterOut>>> {
    service::view_allowed(&state.db, &actor).await?;
    let rows = store::counter_rows(&state.db).await?;
    Ok(Json(rows.into_iter().map(CounterOut::from).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct StatusChange {
    #[schema(value_type = CounterStatus)]
    pub status: String,
    /// The day the change takes effect (default today).
    #[schema(format = Date)]
    pub effective_on: Option<String>,
    pub note: Option<String>,
    /// The counter's current version (from the list); a stale one is a conflict.
    pub version: i64,
}

/// Move a counter through its lifecycle; `operating` needs enough certified officers.
#[utoipa::path(post, path = "/api/v1/counters/{id}/status", tag = "network",
    params(("id" = i64, Path, description = "counter id")), request_body = StatusChange,
    responses((status = 200, body = CounterOut), (status = 422, body = ErrorBody, description = "certified_officers_missing, status_transition_invalid, effective_on_invalid"),
        (status = 409, body = ErrorBody, description = "version_conflict"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn change_status(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<StatusChange>,
) -> Result<Json<CounterOut>> {
    let status = parse_code(
        "status",
        &body.status,
        CounterStatus::parse,
        CounterStatus::codes(),
    )?;
    let on = match body.effective_on.as_deref() {
        Some(t) => parse_date("effective_on", t)?,
        None => clock::today(),
    };
    let row = service::change_status(
        &state.db,
        &actor,
        id,
        body.version,
        status,
        on,
        body.note.as_deref(),
    )
    .await?;
    Ok(Json(row.into()))
}

#[derive(Deserialize, ToSchema)]
pub struct NewOfficer {
    pub user_id: i64,
    pub full_name: String,
    #[schema(value_type = CascadeRole)]
    pub cascade_role: String,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// Give an account an officer profile.
#[utoipa::path(post, path = "/api/v1/officers", tag = "network", request_body = NewOfficer,
    responses((status = 200, body = Created), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_officer(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(body): ApiJson<NewOfficer>,
) -> Result<Json<Created>> {
    let role = parse_code(
        "cascade_role",
        &body.cascade_role,
        CascadeRole::parse,
        CascadeRole::codes(),
    )?;
    let id =
        service::create_officer(&state.db, &actor, body.user_id, &body.full_name, role).await?;
    Ok(Json(Created { id }))
}

#[derive(Serialize, ToSchema)]
pub struct CertificateOut {
    pub batch_id: i64,
    pub certified_on: NaiveDate,
    pub valid_until: NaiveDate,
    pub revoked_on: Option<NaiveDate>,
}

#[derive(Serialize, ToSchema)]
pub struct OfficerOut {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub full_name: String,
    pub cascade_role: String,
    pub office_id: Option<i64>,
    pub counter_id: Option<i64>,
    pub certified_today: bool,
    pub certificates: Vec<CertificateOut>,
    /// Who trained whom, from this officer up to the programme office.
    pub lineage: Vec<LineageStep>,
}

/// An officer with certificates and cascade lineage.
#[utoipa::path(get, path = "/api/v1/officers/{id}", tag = "network", params(("id" = i64, Path, description = "officer id")),
    responses((status = 200, body = OfficerOut), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn read_officer(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<OfficerOut>> {
    service::view_allowed(&state.db, &actor).await?;
    let o = store::officer_row(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let certs = store::certifications(&state.db, Some(id)).await?;
    let today = clock::today();
    Ok(Json(OfficerOut {
        certified_today: certs.iter().any(|c| c.valid_on(today)),
        certificates: certs
            .into_iter()
            .map(|c| CertificateOut {
                batch_id: c.batch_id,
                certified_on: c.certified_on,
                valid_until: c.valid_until,
                revoked_on: c.revoked_on,
            })
            .collect(),
        lineage: service::lineage(&state.db, id).await?,
        id: o.id,
        user_id: o.user_id,
        username: o.username,
        full_name: o.full_name,
        cascade_role: o.cascade_role,
        office_id: o.office_id,
        counter_id: o.counter_id,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct NewBatchIn {
    pub code: String,
    #[schema(value_type = TotLevel)]
    pub level: String,
    #[schema(value_type = TotMode)]
    pub mode: String,
    #[schema(format = Date)]
    pub start_date: String,
    #[schema(format = Date)]
    pub end_date: String,
    /// The central trainer teaching a counter-level batch.
    pub trainer_officer_id: Option<i64>,
    /// The trainer's name (for a central batch: the programme office's trainer).
    pub trainer_name: String,
    pub topics: String,
}

/// Open a ToT batch.
#[utoipa::path(post, path = "/api/v1/tot/batches", tag = "network", request_body = NewBatchIn,
    responses((status = 200, body = Created), (status = 422, body = ErrorBody, description = "trainer_not_certified, date_order, …"), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_batch(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(b): ApiJson<NewBatchIn>,
) -> Result<Json<Created>> {
    let input = BatchInput {
        level: parse_code("level", &b.level, TotLevel::parse, TotLevel::codes())?,
        mode: parse_code("mode", &b.mode, TotMode::parse, TotMode::codes())?,
        start_date: parse_date("start_date", &b.start_date)?,
        end_date: parse_date("end_date", &b.end_date)?,
        code: b.code,
        trainer_officer_id: b.trainer_officer_id,
        trainer_name: b.trainer_name,
        topics: b.topics,
    };
    let id = service::create_batch(&state.db, &actor, &input).await?;
    Ok(Json(Created { id }))
}

#[derive(Deserialize, ToSchema)]
pub struct ResultIn {
    pub officer_id: i64,
    pub attended: bool,
    /// Assessment score 0–100; 70 or more passes.
    pub score: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ResultOut {
    pub passed: bool,
}

/// Record an officer's attendance and assessment in a batch; a pass certifies for two years.
#[utoipa::path(post, path = "/api/v1/tot/batches/{id}/results", tag = "network", params(("id" = i64, Path, description = "batch id")), request_body = ResultIn,
    responses((status = 200, body = ResultOut), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn record_result(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<ResultIn>,
) -> Result<Json<ResultOut>> {
    let passed =
        service::record_result(&state.db, &actor, id, r.officer_id, r.attended, r.score).await?;
    Ok(Json(ResultOut { passed }))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TargetIn {
    #[schema(value_type = Metric)]
    pub metric: String,
    /// What a `reached` target counts (`registered` when absent); `card_received` counts
    /// `accepted`; other metrics have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ReachDefinition>)]
    pub definition: Option<String>,
    /// `national`, `province:35`, `office:UPT-JATIM`, `counter:UPT-JATIM-01`
    pub scope: String,
    #[schema(format = Date)]
    pub period_end: String,
    pub value: i64,
}

/// Every target.
#[utoipa::path(get, path = "/api/v1/targets", tag = "network",
    responses((status = 200, body = Vec<TargetIn>), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_targets(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<Json<Vec<TargetIn>>> {
    service::view_allowed(&state.db, &actor).await?;
    let rows = store::targets(&state.db).await?;
    Ok(Json(
        rows.into_iter()
            .map(|t| TargetIn {
                scope: t.scope().map(|s| s.key()).unwrap_or_default(),
                definition: t.reach_definition().map(|d| d.code().to_string()),
                metric: t.metric,
                period_end: t.period_end.to_string(),
                value: t.value,
            })
            .collect(),
    ))
}

/// Set (or replace) a target: metric × scope × period end.
#[utoipa::path(put, path = "/api/v1/targets", tag = "network", request_body = TargetIn,
    responses((status = 204), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_target(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(t): ApiJson<TargetIn>,
) -> Result<axum::http::StatusCode> {
    let metric = parse_code("metric", &t.metric, Metric::parse, Metric::codes())?;
    let definition = match t.definition.as_deref() {
        Some(d) => Some(parse_code(
            "definition",
            d,
            ReachDefinition::parse,
            ReachDefinition::codes(),
        )?),
        None => None,
    };
    let (scope, _) = dashboard_params(Some(&t.scope), None)?;
    let period_end = parse_date("period_end", &t.period_end)?;
    service::set_target(
        &state.db, &actor, metric, definition, &scope, period_end, t.value,
    )
    .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct SettingIn {
    pub value: String,
}

/// Change a network setting: `min_certified_officers` (1–20) or `reach_definition`.
#[utoipa::path(put, path = "/api/v1/settings/{key}", tag = "network", params(("key" = String, Path, description = "setting name")), request_body = SettingIn,
    responses((status = 204), (status = 422, body = ErrorBody, description = "setting_invalid"), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_setting(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(key): ApiPath<String>,
    ApiJson(s): ApiJson<SettingIn>,
) -> Result<axum::http::StatusCode> {
    service::set_setting(&state.db, &actor, &key, &s.value).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
