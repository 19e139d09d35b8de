//! `/api/v1/catalog/...` and `/api/v1/participants/{id}/recommendations`: JSON for partner
//! systems and scripts.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::index::{Facets, QueryWord};
use super::model::*;
use super::recommend::Reason;
use super::service::{self, SearchParams};
use crate::auth::ApiUser;
use crate::error::{ErrorBody, Result};
use crate::state::AppState;
use crate::web::{ApiPath, ApiQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/catalog/trainings", get(search))
        .route("/api/v1/catalog/trainings/{id}", get(read))
        .route(
            "/api/v1/participants/{id}/recommendations",
            get(recommendations),
        )
}

#[derive(Serialize, ToSchema)]
pub struct OfferOut {
    /// Platform code, e.g. `tokopedia`.
    pub platform: String,
    pub platform_name: String,
    /// Whole rupiah.
    pub price: i64,
}

impl From<&Offer> for OfferOut {
    fn from(o: &Offer) -> Self {
        OfferOut {
            platform: o.platform.code().to_string(),
            platform_name: o.platform.name().to_string(),
            price: o.price,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TrainingOut {
    pub id: i64,
    /// The provider's stable id, as in catalogue files.
    pub training_id: String,
    pub title: String,
    pub institution_id: i64,
    pub institution_name: String,
    /// hard_skill, technical, soft_skill, entrepreneurship
    pub category: String,
    pub occupations: Vec<String>,
    /// online, offline, blended
    pub mode: String,
    pub hours: i64,
    pub language: String,
    pub description: String,
    pub prerequisites: String,
    /// Stars, 0.0–5.0, one decimal.
    pub rating: Option<f64>,
    pub review_count: i64,
    /// active or withdrawn
    pub status: String,
    pub offers: Vec<OfferOut>,
    pub version: i64,
}

impl From<&Training> for TrainingOut {
    fn from(t: &Training) -> Self {
        let d = &t.data;
        TrainingOut {
            id: t.id,
            training_id: d.external_id.clone(),
            title: d.title.clone(),
            institution_id: t.institution_id,
            institution_name: d.institution_name.clone(),
            category: d.category.code().to_string(),
            occupations: d.occupations.iter().map(|o| o.code().to_string()).collect(),
            mode: d.mode.code().to_string(),
            hours: d.hours,
            language: d.language.code().to_string(),
            description: d.description.clone(),
            prerequisites: d.prerequisites.clone(),
            // Display only: the stored value is integer tenths.
            rating: d.rating_tenths.map(|r| r as f64 / 10.0),
            review_count: d.review_count,
            status: d.status.code().to_string(),
            offers: d.offers.iter().map(OfferOut::from).collect(),
            version: t.version,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct HitOut {
    #[serde(flatten)]
    pub training: TrainingOut,
    /// The cheapest offer within the filters (platform, max_price).
    pub best_offer: Option<OfferOut>,
}

#[derive(Serialize, ToSchema)]
pub struct FacetValue {
    pub value: String,
    pub count: usize,
}

#[derive(Serialize, ToSchema)]
pub struct FacetsOut {
    pub category: Vec<FacetValue>,
    pub mode: Vec<FacetValue>,
    pub platform: Vec<FacetValue>,
    pub occupation: Vec<FacetValue>,
    /// Ceilings in rupiah and how many trainings cost at most that.
    pub max_price: Vec<FacetValue>,
}

impl From<&Facets> for FacetsOut {
    fn from(f: &Facets) -> Self {
        fn list<T>(v: &[(T, usize)], code: impl Fn(&T) -> String) -> Vec<FacetValue> {
            v.iter()
                .map(|(value, count)| FacetValue {
                    value: code(value),
                    count: *count,
                })
                .collect()
        }
        FacetsOut {
            category: list(&f.category, |c| c.code().to_string()),
            mode: list(&f.mode, |m| m.code().to_string()),
            platform: list(&f.platform, |p| p.code().to_string()),
            occupation: list(&f.occupation, |o| o.code().to_string()),
            max_price: list(&f.price, std::string::ToString::to_string),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct QueryWordOut {
    pub word: String,
    /// The stems searched for this word.
    pub stems: Vec<String>,
    /// exact, synonym, typo or unknown
    pub how: String,
}

impl From<&QueryWord> for QueryWordOut {
    fn from(w: &QueryWord) -> Self {
        QueryWordOut {
            word: w.word.clone(),
            stems: w.stems.clone(),
            how: w.how.to_string(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SearchOut {
    /// Trainings matching the words and all filters.
    pub total: usize,
    pub items: Vec<HitOut>,
    /// For each filter, how many trainings each value would give with the other filters kept.
    pub facets: FacetsOut,
    /// How each query word was understood.
    pub understood: Vec<QueryWordOut>,
}

/// Search the training catalogue in Indonesian, with filters and counts per filter value.
#[utoipa::path(get, path = "/api/v1/catalog/trainings", tag = "catalog", params(SearchParams),
    responses((status = 200, body = SearchOut), (status = 422, body = ErrorBody, description = "validation_failed (unknown filter value)"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn search(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<Json<SearchOut>> {
    let results = service::search(&state, &actor, &params).await?;
    Ok(Json(SearchOut {
        total: results.total,
        items: results
            .items
            .iter()
            .map(|f| HitOut {
                training: TrainingOut::from(&f.training),
                best_offer: f.offer.as_ref().map(OfferOut::from),
            })
            .collect(),
        facets: FacetsOut::from(&results.facets),
        understood: results.understood.iter().map(QueryWordOut::from).collect(),
    }))
}

/// One training with its price on each platform.
#[utoipa::path(get, path = "/api/v1/catalog/trainings/{id}", tag = "catalog",
    params(("id" = i64, Path, description = "training id")),
    responses((status = 200, body = TrainingOut), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn read(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<TrainingOut>> {
    let training = service::training(&state, &actor, id).await?;
    Ok(Json(TrainingOut::from(&training)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BalanceQuery {
    /// Training balance to plan with, in rupiah (default: what the person has left under
    /// their scheme).
    pub balance: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SuggestionOut {
    pub training: TrainingOut,
    /// The offer to buy: the cheapest within the balance.
    pub offer: OfferOut,
    /// Why, in plain Indonesian (`text`) and English.
    pub reasons: Vec<Reason>,
}

#[derive(Serialize, ToSchema)]
pub struct RecommendationsOut {
    pub participant_id: i64,
    /// The balance planned with: the one given, else what the person has left under their
    /// scheme (at most that, while `unknown_prices` > 0).
    pub balance: i64,
    /// Trainings bought at a price loket does not know: the real balance may be lower.
    pub unknown_prices: usize,
    pub items: Vec<SuggestionOut>,
}

/// Trainings suggested for a participant, each with its reasons.
#[utoipa::path(get, path = "/api/v1/participants/{id}/recommendations", tag = "catalog",
    params(("id" = i64, Path, description = "participant id"), BalanceQuery),
    responses((status = 200, body = RecommendationsOut), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "validation_failed (balance)"), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn recommendations(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<BalanceQuery>,
) -> Result<Json<RecommendationsOut>> {
    let balance = service::balance(query.balance.as_deref())?;
    let (participant, plan, suggestions) = service::recommend(&state, &actor, id, balance).await?;
    Ok(Json(RecommendationsOut {
        participant_id: participant.id,
        balance: plan.balance,
        unknown_prices: plan.unknown_prices,
        items: suggestions
            .iter()
            .map(|s| SuggestionOut {
                training: TrainingOut::from(&s.training),
                offer: OfferOut::from(&s.offer),
                reasons: s.reasons.clone(),
            })
            .collect(),
    }))
}
