//! `/api/v1/participants/{id}/journey…` and `/api/v1/journey/…`: JSON for partner systems,
//! scripts and the pages' data.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::event::EventFields;
use super::service::{self, Loaded};
use super::store::{ContactRow, FunnelScope, SessionRow};
use super::*;
use crate::auth::ApiUser;
use crate::clock;
use crate::error::{AppError, ErrorBody, Result};
use crate::i18n::Lang;
use crate::state::AppState;
use crate::web::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/participants/{id}/journey", get(read))
        .route("/api/v1/participants/{id}/journey/events", post(record))
        .route(
            "/api/v1/participants/{id}/journey/events/{event_id}/correction",
            post(correct),
        )
        .route(
            "/api/v1/participants/{id}/journey/eligibility",
            get(eligibility),
        )
        .route("/api/v1/participants/{id}/journey/sessions", post(session))
        .route("/api/v1/participants/{id}/journey/contacts", post(contact))
        .route("/api/v1/journey/follow-up", get(follow_up))
        .route("/api/v1/journey/funnel", get(funnel))
        .route("/api/v1/journey/schemes", get(schemes).post(add_scheme))
        .route("/api/v1/journey/batches", post(add_batch))
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EventOut {
    pub id: i64,
    pub stage: String,
    pub stage_label: String,
    pub occurred_at: DateTime<Utc>,
    pub occurred_on: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub source: String,
    pub actor_id: Option<i64>,
    pub batch_number: Option<i64>,
    #[serde(flatten)]
    pub fields: EventFields,
    pub correction_of: Option<i64>,
    pub voids: bool,
    pub eligibility_reason: Option<String>,
    pub correction_reason: Option<String>,
    /// False once a later correction replaced or voided it.
    pub in_force: bool,
}

/// The timeline template reads the event's facts straight off the event (`e.amount`).
impl std::ops::Deref for EventOut {
    type Target = EventFields;

    fn deref(&self) -> &EventFields {
        &self.fields
    }
}

impl EventOut {
    fn of(e: &EventRow, rules: &Rules, in_force: bool, lang: Lang) -> EventOut {
        EventOut {
            id: e.id,
            stage: e.stage.code().to_string(),
            stage_label: e.stage.label(lang).to_string(),
            occurred_at: e.occurred_at,
            occurred_on: local_day(e.occurred_at),
            recorded_at: e.recorded_at,
            source: e.source.code().to_string(),
            actor_id: e.actor_id,
            batch_number: e
                .batch_id
                .and_then(|b| rules.batches.get(&b))
                .map(|b| b.number),
            fields: e.fields.clone(),
            correction_of: e.correction_of,
            voids: e.voids,
            eligibility_reason: e.eligibility_reason.clone(),
            correction_reason: e.correction_reason.clone(),
            in_force,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PurchaseOut {
    pub event_id: i64,
    pub on: NaiveDate,
    pub title: Option<String>,
    pub platform: Option<String>,
    /// `null` when the price is unknown (a programme-office file without it).
    pub price: Option<i64>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PaymentOut {
    pub k: i64,
    pub expected_on: NaiveDate,
    pub overdue_from: NaiveDate,
    pub expected_amount: i64,
    pub received_on: Option<NaiveDate>,
    pub received_amount: Option<i64>,
    pub channel: Option<String>,
    /// `received`, `overdue`, `due` (expected date passed, still in grace) or `upcoming`.
    pub status: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LedgerOut {
    pub training_balance: Option<i64>,
    /// The known prices together; a purchase with an unknown price adds nothing.
    pub spent: i64,
    /// The balance left; `null` without a scheme or while a price is unknown.
    pub remaining: Option<i64>,
    /// The most that can be left: the balance less the known prices.
    pub remaining_at_most: Option<i64>,
    /// Purchases whose price is unknown.
    pub unknown_prices: usize,
    /// What is left as a person reads it ("paling banyak Rp… (harga 1 pelatihan tidak
    /// diketahui)" while a price is unknown).
    pub remaining_text: Option<String>,
    pub payout_channel: Option<String>,
    pub purchases: Vec<PurchaseOut>,
    pub incentives: Vec<PaymentOut>,
    pub surveys: Vec<PaymentOut>,
}

/// One person's journey: where they stand, what is next, the ledger and the history.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct JourneyOut {
    pub participant_id: i64,
    pub full_name: String,
    pub stage: String,
    pub stage_label: String,
    pub stage_since: Option<NaiveDate>,
    /// Send it back as `expected_version` so a concurrent change is detected.
    pub version: i64,
    pub next_step: String,
    pub next_step_en: String,
    pub scheme: Option<String>,
    pub scheme_name: Option<String>,
    pub batch_number: Option<i64>,
    pub card_number: Option<String>,
    pub first_purchase_deadline: Option<NaiveDate>,
    pub ledger: LedgerOut,
    pub events: Vec<EventOut>,
    pub sessions: Vec<SessionRow>,
    pub contacts: Vec<ContactRow>,
}

fn payments(list: Vec<Expected>, today: NaiveDate) -> Vec<PaymentOut> {
    list.into_iter()
        .map(|e| {
            let status = match (&e.received, today) {
                (Some(_), _) => "received",
                (None, t) if t >= e.overdue_from => "overdue",
                (None, t) if t >= e.expected_on => "due",
                _ => "upcoming",
            };
            PaymentOut {
                k: e.k,
                expected_on: e.expected_on,
                overdue_from: e.overdue_from,
                expected_amount: e.amount,
                received_on: e.received.as_ref().map(|r| r.on),
                received_amount: e.received.as_ref().and_then(|r| r.amount),
                channel: e.received.and_then(|r| r.channel),
                status: status.to_string(),
            }
        })
        .collect()
}

impl JourneyOut {
    pub fn build(
        loaded: &Loaded,
        state: &JourneyState,
        today: NaiveDate,
        lang: Lang,
    ) -> JourneyOut {
        let in_force: std::collections::HashSet<i64> =
            effective(&loaded.events).iter().map(|e| e.id).collect();
        let events = loaded
            .events
            .iter()
            .map(|e| EventOut::of(e, &loaded.rules, in_force.contains(&e.id), lang))
            .collect();
        let (next_id, next_en) = next_step(state, today);
        let stage = state.current();
        JourneyOut {
            participant_id: loaded.person.id,
            full_name: loaded.person.full_name.clone(),
            stage: stage.code().to_string(),
            stage_label: stage.label(lang).to_string(),
            stage_since: state.stage_since,
            version: loaded.version,
            next_step: next_id,
            next_step_en: next_en,
            scheme: state.scheme.as_ref().map(|s| s.code.clone()),
            scheme_name: state.scheme.as_ref().map(|s| s.name.clone()),
            batch_number: state.batch_number,
            card_number: state.card_number.clone(),
            first_purchase_deadline: state.purchase_deadline(),
            ledger: LedgerOut {
                training_balance: state.scheme.as_ref().map(|s| s.training_balance),
                spent: state.spent(),
                remaining: state.balance().and_then(Remaining::known),
                remaining_at_most: state.balance().map(|b| b.at_most),
                unknown_prices: state.unknown_prices(),
                remaining_text: state.balance().map(|b| b.words(lang)),
                payout_channel: state.payout_channel.clone(),
                purchases: state
                    .purchases
                    .iter()
                    .map(|p| PurchaseOut {
                        event_id: p.event_id,
                        on: p.on,
                        title: p.title.clone(),
                        platform: p.platform.clone(),
                        price: p.amount,
                    })
                    .collect(),
                incentives: payments(state.schedule(false), today),
                surveys: payments(state.schedule(true), today),
            },
            events,
            sessions: loaded.sessions.clone(),
            contacts: loaded.contacts.clone(),
        }
    }
}

async fn journey_out(
    state: &AppState,
    actor: &crate::identity::Actor,
    id: i64,
) -> Result<JourneyOut> {
    let (loaded, journey) = service::view(state, actor, id).await?;
    Ok(JourneyOut::build(
        &loaded,
        &journey,
        clock::today(),
        Lang::Id,
    ))
}

/// A person's journey: stage, next step, deadlines, ledger, events, sessions and contacts.
#[utoipa::path(get, path = "/api/v1/participants/{id}/journey", tag = "journey",
    params(("id" = i64, Path, description = "participant id")),
    responses((status = 200, body = JourneyOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn read(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<JourneyOut>> {
    Ok(Json(journey_out(&state, &actor, id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Recorded {
    /// The id of the stored event, session or contact.
    pub id: i64,
    pub journey: JourneyOut,
}

/// Record a journey event. Refusals are 409 with a stable code: `stage_order`,
/// `training_before_acceptance`, `incentive_before_completion`, `incentive_before_rating`,
/// `payout_not_linked`, `over_balance`, `purchase_deadline_passed`, `batch_not_later`,
/// `nik_barred`, `journey_closed`, `eligibility_against`, `payout_holder_mismatch`,
/// `payout_phone_mismatch`, `override_not_allowed`, `breaks_later_event`, `version_conflict`.
#[utoipa::path(post, path = "/api/v1/participants/{id}/journey/events", tag = "journey",
    params(("id" = i64, Path, description = "participant id")),
    request_body = EventInput,
    responses((status = 201, body = Recorded), (status = 409, body = ErrorBody, description = "a journey rule refuses"),
        (status = 422, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn record(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<EventInput>,
) -> Result<(StatusCode, Json<Recorded>)> {
    let event = super::record_event(&state, &actor, id, &input, Source::Api).await?;
    let journey = journey_out(&state, &actor, id).await?;
    Ok((StatusCode::CREATED, Json(Recorded { id: event, journey })))
}

/// Correct a recorded event (new values, or `void`): appended, never overwritten.
#[utoipa::path(post, path = "/api/v1/participants/{id}/journey/events/{event_id}/correction", tag = "journey",
    params(("id" = i64, Path, description = "participant id"), ("event_id" = i64, Path, description = "the event corrected")),
    request_body = CorrectionInput,
    responses((status = 201, body = Recorded), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn correct(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath((id, event_id)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<CorrectionInput>,
) -> Result<(StatusCode, Json<Recorded>)> {
    let event = super::correct_event(&state, &actor, id, event_id, &input).await?;
    let journey = journey_out(&state, &actor, id).await?;
    Ok((StatusCode::CREATED, Json(Recorded { id: event, journey })))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EligibilityQuery {
    /// Batch (gelombang) number.
    pub batch: i64,
    /// Self-declared occupation code.
    pub occupation: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EligibilityOut {
    pub eligible: bool,
    pub advice: Vec<Advice>,
}

/// Eligibility advice before joining a batch, with reasons.
#[utoipa::path(get, path = "/api/v1/participants/{id}/journey/eligibility", tag = "journey",
    params(("id" = i64, Path, description = "participant id"), EligibilityQuery),
    responses((status = 200, body = EligibilityOut), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn eligibility(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<EligibilityQuery>,
) -> Result<Json<EligibilityOut>> {
    let advice = super::eligibility_advice(&state, &actor, id, q.batch, &q.occupation).await?;
    Ok(Json(EligibilityOut {
        eligible: advice.is_empty(),
        advice,
    }))
}

/// Record an assistance session (pendampingan).
#[utoipa::path(post, path = "/api/v1/participants/{id}/journey/sessions", tag = "journey",
    params(("id" = i64, Path, description = "participant id")),
    request_body = SessionInput,
    responses((status = 201, body = Recorded), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn session(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<SessionInput>,
) -> Result<(StatusCode, Json<Recorded>)> {
    let session = super::record_session(&state, &actor, id, &input).await?;
    let journey = journey_out(&state, &actor, id).await?;
    Ok((
        StatusCode::CREATED,
        Json(Recorded {
            id: session,
            journey,
        }),
    ))
}

/// Log a contact attempt and its result (from the follow-up list).
#[utoipa::path(post, path = "/api/v1/participants/{id}/journey/contacts", tag = "journey",
    params(("id" = i64, Path, description = "participant id")),
    request_body = ContactInput,
    responses((status = 201, body = Recorded), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn contact(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ContactInput>,
) -> Result<(StatusCode, Json<Recorded>)> {
    let contact = super::log_contact(&state, &actor, id, &input).await?;
    let journey = journey_out(&state, &actor, id).await?;
    Ok((
        StatusCode::CREATED,
        Json(Recorded {
            id: contact,
            journey,
        }),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FollowUpQuery {
    /// Counter id (default: the caller's counter).
    pub counter: Option<i64>,
    /// Only the people this officer last assisted.
    pub officer: Option<i64>,
    /// The day the list is for (default: today, WIB).
    pub as_of: Option<NaiveDate>,
    /// Deadlines within this many days (default 7, at most 60).
    pub days: Option<i64>,
    /// At most this many rows (default 200, at most 1000).
    pub limit: Option<usize>,
}

fn counter_of(actor: &crate::identity::Actor, counter: Option<i64>) -> Result<i64> {
    counter.or(actor.user.counter_id).ok_or_else(|| {
        AppError::field(
            "counter",
            "counter_required",
            "Pilih loket.",
            "Choose a counter.",
        )
    })
}

/// The daily follow-up list of a counter or an officer, each row with why and what to do.
#[utoipa::path(get, path = "/api/v1/journey/follow-up", tag = "journey", params(FollowUpQuery),
    responses((status = 200, body = super::FollowUpList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody, description = "no such counter"), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn follow_up(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiQuery(q): ApiQuery<FollowUpQuery>,
) -> Result<Json<super::FollowUpList>> {
    let counter = counter_of(&actor, q.counter)?;
    let list = super::follow_up(
        &state,
        &actor,
        counter,
        q.officer,
        q.as_of,
        q.days.unwrap_or(7),
        q.limit.unwrap_or(200).clamp(1, 1000),
        Lang::Id,
    )
    .await?;
    Ok(Json(list))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct FunnelQuery {
    /// `nation` (default), `office`, `counter` or `province`.
    pub scope: Option<String>,
    /// Office or counter id, or province code (two digits).
    pub id: Option<String>,
    /// Journeys started from this day (default: 2020-04-01).
    pub from: Option<NaiveDate>,
    /// … up to this day (default: today).
    pub to: Option<NaiveDate>,
}

pub fn parse_scope(q: &FunnelQuery) -> Result<FunnelScope> {
    let bad = || {
        AppError::field(
            "id",
            "scope_invalid",
            "Cakupan tidak dikenal: gunakan nation, office + id, counter + id, atau province + kode.",
            "Unknown scope: use nation, office + id, counter + id, or province + code.",
        )
    };
    let id = q.id.as_deref().map(str::trim).filter(|s| !s.is_empty());
    match q.scope.as_deref().unwrap_or("nation") {
        "nation" | "" => Ok(FunnelScope::Nation),
        "office" => id
            .and_then(|i| i.parse().ok())
            .map(FunnelScope::Office)
            .ok_or_else(bad),
        "counter" => id
            .and_then(|i| i.parse().ok())
            .map(FunnelScope::Counter)
            .ok_or_else(bad),
        "province" => id
            .filter(|c| nik::regions::province(c).is_some())
            .map(|c| FunnelScope::Province(c.to_string()))
            .ok_or_else(bad),
        _ => Err(bad()),
    }
}

pub fn funnel_range(q: &FunnelQuery) -> (NaiveDate, NaiveDate) {
    let from = q
        .from
        .or(NaiveDate::from_ymd_opt(2020, 4, 1))
        .unwrap_or_default();
    (from, q.to.unwrap_or_else(clock::today))
}

/// Counts per stage, conversion and median days in each stage, for a cohort and scope.
#[utoipa::path(get, path = "/api/v1/journey/funnel", tag = "journey", params(FunnelQuery),
    responses((status = 200, body = super::Funnel), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn funnel(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiQuery(q): ApiQuery<FunnelQuery>,
) -> Result<Json<super::Funnel>> {
    let scope = parse_scope(&q)?;
    let (from, to) = funnel_range(&q);
    Ok(Json(
        super::funnel(&state, &actor, scope, from, to, Lang::Id).await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct SchemesOut {
    pub schemes: Vec<Scheme>,
    pub batches: Vec<Batch>,
}

/// Scheme rules and batches.
#[utoipa::path(get, path = "/api/v1/journey/schemes", tag = "journey",
    responses((status = 200, body = SchemesOut)), security(("bearer" = [])))]
pub async fn schemes(
    State(state): State<AppState>,
    ApiUser(_actor): ApiUser,
) -> Result<Json<SchemesOut>> {
    Ok(Json(SchemesOut {
        schemes: super::store::schemes(&state.db).await?,
        batches: super::store::batches(&state.db).await?,
    }))
}

/// A new scheme's rules (admin).
#[derive(Deserialize, ToSchema)]
pub struct SchemeInput {
    pub code: String,
    pub name: String,
    pub starts_on: NaiveDate,
    pub training_balance: i64,
    pub incentive_amount: i64,
    pub incentive_count: i64,
    pub survey_amount: i64,
    pub survey_count: i64,
    pub purchase_days: i64,
    #[serde(default = "five")]
    pub incentive_first_after_days: i64,
    #[serde(default = "thirty")]
    pub incentive_interval_days: i64,
    #[serde(default = "five")]
    pub survey_first_after_days: i64,
    #[serde(default = "thirty")]
    pub survey_interval_days: i64,
    #[serde(default = "five")]
    pub grace_working_days: i64,
    #[serde(default = "eighteen")]
    pub min_age: i64,
    pub max_age: Option<i64>,
    pub max_age_from_batch: Option<i64>,
}

fn five() -> i64 {
    5
}
fn thirty() -> i64 {
    30
}
fn eighteen() -> i64 {
    18
}

/// Add a scheme (admin only).
#[utoipa::path(post, path = "/api/v1/journey/schemes", tag = "journey", request_body = SchemeInput,
    responses((status = 201, body = Scheme), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_scheme(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(s): ApiJson<SchemeInput>,
) -> Result<(StatusCode, Json<Scheme>)> {
    let mut scheme = Scheme {
        id: 0,
        code: s.code.trim().to_string(),
        name: s.name.trim().to_string(),
        starts_on: s.starts_on,
        training_balance: s.training_balance,
        incentive_amount: s.incentive_amount,
        incentive_count: s.incentive_count,
        survey_amount: s.survey_amount,
        survey_count: s.survey_count,
        purchase_days: s.purchase_days,
        incentive_first_after_days: s.incentive_first_after_days,
        incentive_interval_days: s.incentive_interval_days,
        survey_first_after_days: s.survey_first_after_days,
        survey_interval_days: s.survey_interval_days,
        grace_working_days: s.grace_working_days,
        min_age: s.min_age,
        max_age: s.max_age,
        max_age_from_batch: s.max_age_from_batch,
    };
    scheme.id = super::add_scheme(&state, &actor, &scheme).await?;
    Ok((StatusCode::CREATED, Json(scheme)))
}

#[derive(Deserialize, ToSchema)]
pub struct BatchInput {
    /// Scheme code, e.g. `2020` or `2023`.
    pub scheme: String,
    pub number: i64,
    pub opens_on: NaiveDate,
}

/// Add a batch (gelombang) to a scheme (admin only).
#[utoipa::path(post, path = "/api/v1/journey/batches", tag = "journey", request_body = BatchInput,
    responses((status = 201, body = Batch), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_batch(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(b): ApiJson<BatchInput>,
) -> Result<(StatusCode, Json<Batch>)> {
    let id = super::add_batch(&state, &actor, &b.scheme, b.number, b.opens_on).await?;
    let batch = super::store::batches(&state.db)
        .await?
        .into_iter()
        .find(|x| x.id == id)
        .ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(batch)))
}
