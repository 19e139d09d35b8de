//! What the API, the pages and the CLI do with the catalogue: the access policy and the audit
//! trail applied once, here.

use std::sync::Arc;

use serde::Deserialize;
use utoipa::IntoParams;

use super::file::{self, ImportSummary};
use super::index::{Facets, Filters, Index, QueryWord};
use super::model::*;
use super::recommend::{self, Reason, DEFAULT_BALANCE};
use super::store;
use crate::access::{self, Action};
use crate::audit::{self, Entry};
use crate::error::{AppError, FieldError, Result};
use crate::identity::Actor;
use crate::participants::model::Participant;
use crate::sheet::{ImportError, Sheet};
use crate::state::AppState;

const ENTITY: &str = "training";

/// Search parameters as they arrive from a form or a query string; empty means "any".
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct SearchParams {
    /// Words in Indonesian; affixed forms, everyday words and one typo are understood.
    pub q: Option<String>,
    /// hard_skill, technical, soft_skill, entrepreneurship
    pub category: Option<String>,
    /// online, offline, blended
    pub mode: Option<String>,
    /// tokopedia, bukalapak, pijarmahir, sekolahmu, pintaria, maubelajarapa, sisnaker, kariermu
    pub platform: Option<String>,
    /// Highest price in rupiah (the participant's remaining balance).
    pub max_price: Option<String>,
    /// An occupation code, e.g. caregiver_elderly, tailor, customer_service
    pub occupation: Option<String>,
    /// Results to skip (default 0).
    pub offset: Option<usize>,
    /// At most this many results (1–100, default 20).
    pub limit: Option<usize>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A rupiah amount a person may type: "3500000", "3.500.000", "Rp3.500.000".
pub fn parse_amount(field: &str, text: &str) -> std::result::Result<i64, FieldError> {
    crate::format::Rupiah::parse(text)
        .map(|r| r.0)
        .filter(|v| *v <= 1_000_000_000)
        .ok_or_else(|| {
            FieldError::new(
                field,
                "amount_invalid",
                "Jumlah harus rupiah tanpa desimal, mis. 3500000 atau 3.500.000.",
                "The amount must be whole rupiah, e.g. 3500000 or 3.500.000.",
            )
        })
}

impl SearchParams {
    pub fn filters(&self) -> Result<Filters> {
        let mut errors = Vec::new();
        let mut f = Filters::default();
        if let Some(t) = given(&self.category) {
            f.category = Category::parse(t);
            if f.category.is_none() {
                errors.push(choice_error("category", Category::codes()));
            }
        }
        if let Some(t) = given(&self.mode) {
            f.mode = Mode::parse(t);
            if f.mode.is_none() {
                errors.push(choice_error("mode", Mode::codes()));
            }
        }
        if let Some(t) = given(&self.platform) {
            f.platform = Platform::parse(t);
            if f.platform.is_none() {
                let codes = PLATFORMS.iter().map(|p| p.0).collect::<Vec<_>>().join(", ");
                errors.push(choice_error("platform", codes));
            }
        }
        if let Some(t) = given(&self.occupation) {
            f.occupation = Occupation::parse(t);
            if f.occupation.is_none() {
                errors.push(choice_error("occupation", Occupation::codes()));
            }
        }
        if let Some(t) = given(&self.max_price) {
            match parse_amount("max_price", t) {
                Ok(v) => f.max_price = Some(v),
                Err(e) => errors.push(e),
            }
        }
        if given(&self.q).is_some_and(|q| q.chars().count() > 200) {
            errors.push(FieldError::new(
                "q",
                "query_too_long",
                "Kata kunci paling panjang 200 karakter.",
                "The search text may be at most 200 characters.",
            ));
        }
        if errors.is_empty() {
            Ok(f)
        } else {
            Err(AppError::Validation(errors))
        }
    }
}

/// A training found, owned so it can outlive the index it came from.
pub struct Found {
    pub training: Training,
    pub offer: Option<Offer>,
}

pub struct Results {
    pub total: usize,
    pub items: Vec<Found>,
    pub facets: Facets,
    pub understood: Vec<QueryWord>,
    pub filters: Filters,
}

pub async fn index(state: &AppState) -> Result<Arc<Index>> {
    state
        .cache::<super::index::IndexHandle>()
        .get(&state.db)
        .await
}

pub async fn search(state: &AppState, actor: &Actor, params: &SearchParams) -> Result<Results> {
    access::require(&state.db, actor, Action::ViewCatalog).await?;
    let filters = params.filters()?;
    let index = index(state).await?;
    let q = given(&params.q).unwrap_or("");
    let limit = params.limit.unwrap_or(20).clamp(1, 100);
    let found = index.search(q, &filters, params.offset.unwrap_or(0), limit);
    Ok(Results {
        total: found.total,
        items: found
            .hits
            .iter()
            .map(|h| Found {
                training: h.training.clone(),
                offer: h.offer,
            })
            .collect(),
        facets: found.facets,
        understood: found.understood,
        filters,
    })
}

pub async fn training(state: &AppState, actor: &Actor, id: i64) -> Result<Training> {
    access::require(&state.db, actor, Action::ViewCatalog).await?;
    store::training(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// An institution and all its trainings (withdrawn ones too), by title.
pub async fn institution(
    state: &AppState,
    actor: &Actor,
    id: i64,
) -> Result<(Institution, Vec<Training>)> {
    access::require(&state.db, actor, Action::ViewCatalog).await?;
    let institution = store::institution(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let index = index(state).await?;
    let mut trainings: Vec<Training> = index
        .trainings()
        .iter()
        .filter(|t| t.institution_id == id)
        .cloned()
        .collect();
    trainings.sort_by(|a, b| {
        a.data
            .title
            .cmp(&b.data.title)
            .then(a.data.external_id.cmp(&b.data.external_id))
    });
    Ok((institution, trainings))
}

pub struct Suggestion {
    pub training: Training,
    pub offer: Offer,
    pub reasons: Vec<Reason>,
}

/// A balance typed by an officer, if any (else the person's own is planned with).
pub fn balance(text: Option<&str>) -> Result<Option<i64>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => parse_amount("balance", t)
            .map(Some)
            .map_err(|e| AppError::Validation(vec![e])),
    }
}

/// The balance suggestions are planned with.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub balance: i64,
    /// Trainings bought at an unknown price: the real balance may be lower.
    pub unknown_prices: usize,
}

/// The balance to plan with: the one the officer typed, else what the person has left under
/// their scheme (the journey knows), else the usual scheme's balance.
async fn plan(
    state: &AppState,
    actor: &Actor,
    participant_id: i64,
    given: Option<i64>,
) -> Result<Plan> {
    if let Some(balance) = given {
        return Ok(Plan {
            balance,
            unknown_prices: 0,
        });
    }
    let left = crate::journey::planning_balance(state, actor, participant_id).await?;
    Ok(left.map_or(
        Plan {
            balance: DEFAULT_BALANCE,
            unknown_prices: 0,
        },
        |r| Plan {
            balance: r.at_most.max(0),
            unknown_prices: r.unknown_prices,
        },
    ))
}

/// Suggestions for a participant in the actor's scope (reading the record is audited).
pub async fn recommend(
    state: &AppState,
    actor: &Actor,
    participant_id: i64,
    given: Option<i64>,
) -> Result<(Participant, Plan, Vec<Suggestion>)> {
    access::require(&state.db, actor, Action::ViewCatalog).await?;
    let participant = crate::participants::service::view(state, actor, participant_id).await?;
    let plan = plan(state, actor, participant_id, given).await?;
    let index = index(state).await?;
    let suggestions = recommend::recommend(&index, &participant.data, plan.balance)
        .into_iter()
        .map(|r| Suggestion {
            training: r.training.clone(),
            offer: r.offer,
            reasons: r.reasons,
        })
        .collect();
    Ok((participant, plan, suggestions))
}

/// Withdraws or reactivates a training; `expected_version` guards against a concurrent change.
pub async fn set_status(
    state: &AppState,
    actor: &Actor,
    id: i64,
    expected_version: i64,
    status: Status,
) -> Result<Training> {
    access::require(&state.db, actor, Action::ManageCatalog).await?;
    store::set_status(&state.db, id, expected_version, status).await?;
    let action = match status {
        Status::Withdrawn => "training.withdraw",
        Status::Active => "training.reactivate",
    };
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new(action, ENTITY, id).fields(vec!["status".into()]),
    )
    .await?;
    store::training(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Imports a catalogue file (all rows or none). The CLI passes no actor: it runs with the
/// server's own rights, and the audit entry says so by having no user.
pub async fn import(
    state: &AppState,
    actor: Option<&Actor>,
    sheet: &Sheet,
    dry_run: bool,
) -> std::result::Result<ImportSummary, ImportError> {
    if let Some(actor) = actor {
        access::require(&state.db, actor, Action::ManageCatalog).await?;
    }
    let summary = file::import(&state.db, sheet, dry_run).await?;
    if !dry_run {
        let a = &summary.applied;
        audit::record(
            &state.db,
            actor,
            None,
            Entry::new("catalog.import", "catalog", summary.rows).reason(format!(
                "rows={} created={} updated={} unchanged={} institutions_created={} institutions_updated={}",
                summary.rows,
                a.trainings_created,
                a.trainings_updated,
                a.trainings_unchanged,
                a.institutions_created,
                a.institutions_updated
            )),
        )
        .await?;
    }
    Ok(summary)
}
