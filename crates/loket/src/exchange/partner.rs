//! Data exchange with partner systems (the Prakerja programme office): only what the partner's
//! token is granted, and only people who consented to sharing.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::{self, Action, GRANT_EXCHANGE};
use crate::audit::{self, Entry, Outcome};
use crate::auth::ApiUser;
use crate::error::{AppError, ErrorBody, Result};
use crate::participants;
use crate::state::AppState;
use crate::web::ApiQuery;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/exchange/participants", get(participants))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExchangeQuery {
    /// Continue after this id (the last `id` of the previous page).
    pub after_id: Option<i64>,
    /// Page size, 1–1000 (default 500).
    pub limit: Option<i64>,
}

/// What a partner receives about one person.
#[derive(Serialize, ToSchema)]
pub struct SharedParticipant {
    pub id: i64,
    pub nik: String,
    pub full_name: String,
    pub birth_date: NaiveDate,
    pub sex: String,
    pub phone: Option<String>,
    pub counter_id: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct SharedPage {
    pub items: Vec<SharedParticipant>,
    /// Pass as `after_id` for the next page; absent on the last page.
    pub next_after_id: Option<i64>,
}

/// People who consented to sharing with the programme office (partner tokens with the
/// `exchange:participants` grant only). A withdrawal of consent removes a person at once.
#[utoipa::path(get, path = "/api/v1/exchange/participants", tag = "exchange", params(ExchangeQuery),
    responses((status = 200, body = SharedPage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn participants(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiQuery(q): ApiQuery<ExchangeQuery>,
) -> Result<Json<SharedPage>> {
    if !access::allows(&actor.user, Action::ExchangeParticipants)
        || !access::allows_grant(&actor.grants, GRANT_EXCHANGE)
    {
        let entry = Entry {
            entity_id: None,
            ..Entry::new("exchange.participants", "participant", "").outcome(Outcome::Denied)
        };
        audit::record(&state.db, Some(&actor), None, entry).await?;
        return Err(AppError::Forbidden);
    }
    let limit = q.limit.unwrap_or(500).clamp(1, 1000);
    let people =
        participants::page_shareable(&state.db, &state.vault, q.after_id.unwrap_or(0), limit)
            .await?;
    let next_after_id = (people.len() as i64 == limit)
        .then(|| people.last().map(|p| p.id))
        .flatten();
    let items: Vec<SharedParticipant> = people
        .iter()
        .map(|p| SharedParticipant {
            id: p.id,
            nik: p.data.nik.as_str().to_string(),
            full_name: p.data.full_name.as_str().to_string(),
            birth_date: p.data.birth_date,
            sex: p.data.sex.code().to_string(),
            phone: p.data.phone.as_ref().map(|ph| ph.as_str().to_string()),
            counter_id: p.counter_id,
        })
        .collect();
    let ids = items.iter().map(|i| i.id.to_string()).collect::<Vec<_>>();
    let entry = Entry {
        entity_id: None,
        ..Entry::new("exchange.participants", "participant", "")
    }
    .reason(format!("{} orang/people: {}", ids.len(), ids.join(",")));
    audit::record(&state.db, Some(&actor), None, entry).await?;
    Ok(Json(SharedPage {
        items,
        next_after_id,
    }))
}
