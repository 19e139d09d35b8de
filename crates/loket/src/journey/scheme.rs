//! Scheme-year rules as data (balances, incentives, deadlines, age limits) and the batches
//! (gelombang) that belong to each scheme; admins add both.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::store;
use crate::access::{self, Action};
use crate::audit::{self, Entry};
use crate::error::{AppError, FieldError, Result};
use crate::identity::Actor;
use crate::state::AppState;

/// One scheme's rules (2020–2021, 2023–, or one an admin adds). Amounts in rupiah.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Scheme {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub starts_on: NaiveDate,
    pub training_balance: i64,
    pub incentive_amount: i64,
    pub incentive_count: i64,
    pub survey_amount: i64,
    pub survey_count: i64,
    /// Days after acceptance to buy the first training, or the card is revoked.
    pub purchase_days: i64,
    /// Days after the first rating when the first incentive is expected.
    pub incentive_first_after_days: i64,
    pub incentive_interval_days: i64,
    pub survey_first_after_days: i64,
    pub survey_interval_days: i64,
    /// Working days a payment may be late before the follow-up list flags it.
    pub grace_working_days: i64,
    pub min_age: i64,
    pub max_age: Option<i64>,
    /// From which batch number `max_age` applies (batch 18 in the 2020–2021 scheme).
    pub max_age_from_batch: Option<i64>,
}

/// A batch (gelombang): its number and scheme.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Batch {
    pub id: i64,
    pub scheme_id: i64,
    pub number: i64,
    pub opens_on: NaiveDate,
}

/// The scheme and batch tables, loaded once per request (they are small).
#[derive(Clone, Debug, Default)]
pub struct Rules {
    pub schemes: HashMap<i64, Scheme>,
    pub batches: HashMap<i64, Batch>,
}

impl Rules {
    pub fn new(schemes: Vec<Scheme>, batches: Vec<Batch>) -> Rules {
        Rules {
            schemes: schemes.into_iter().map(|s| (s.id, s)).collect(),
            batches: batches.into_iter().map(|b| (b.id, b)).collect(),
        }
    }

    pub fn batch_by_number(&self, number: i64) -> Option<&Batch> {
        self.batches.values().find(|b| b.number == number)
    }

    /// The scheme a batch opening on `day` would belong to: the latest one started by then.
    pub fn scheme_in_force(&self, day: NaiveDate) -> Option<&Scheme> {
        self.schemes
            .values()
            .filter(|s| s.starts_on <= day)
            .max_by_key(|s| (s.starts_on, s.id))
    }

    pub fn scheme_of(&self, batch_id: i64) -> Option<&Scheme> {
        self.batches
            .get(&batch_id)
            .and_then(|b| self.schemes.get(&b.scheme_id))
    }
}

/// A scheme an admin adds (the id is assigned).
pub async fn add_scheme(state: &AppState, actor: &Actor, scheme: &Scheme) -> Result<i64> {
    access::require(&state.db, actor, Action::ManageSchemes).await?;
    let mut errors = Vec::new();
    if scheme.code.trim().is_empty() || scheme.code.len() > 20 {
        errors.push(FieldError::new(
            "code",
            "required",
            "Isi kode skema (maks. 20).",
            "Give a scheme code (max 20).",
        ));
    }
    if scheme.name.trim().is_empty() {
        errors.push(FieldError::required("name"));
    }
    let amounts = [
        scheme.training_balance,
        scheme.incentive_amount,
        scheme.incentive_count,
        scheme.survey_amount,
        scheme.survey_count,
        scheme.incentive_first_after_days,
        scheme.incentive_interval_days,
        scheme.survey_first_after_days,
        scheme.survey_interval_days,
        scheme.grace_working_days,
    ];
    if amounts.iter().any(|v| *v < 0) || scheme.purchase_days <= 0 {
        errors.push(FieldError::new(
            "training_balance",
            "rule_negative",
            "Nilai aturan tidak boleh negatif; batas hari beli minimal 1.",
            "Rule values cannot be negative; the purchase window is at least 1 day.",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let id = store::insert_scheme(&state.db, scheme).await?;
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("journey.scheme", "scheme", id),
    )
    .await?;
    Ok(id)
}

pub async fn add_batch(
    state: &AppState,
    actor: &Actor,
    scheme_code: &str,
    number: i64,
    opens_on: NaiveDate,
) -> Result<i64> {
    access::require(&state.db, actor, Action::ManageSchemes).await?;
    let schemes = store::schemes(&state.db).await?;
    let scheme = schemes
        .iter()
        .find(|s| s.code == scheme_code)
        .ok_or_else(|| {
            AppError::field(
                "scheme",
                "scheme_unknown",
                "Skema tidak dikenal.",
                "Unknown scheme.",
            )
        })?;
    if number <= 0 {
        return Err(AppError::field(
            "number",
            "batch_number_invalid",
            "Nomor gelombang harus lebih dari 0.",
            "The batch number must be above 0.",
        ));
    }
    let id = store::insert_batch(&state.db, scheme.id, number, opens_on).await?;
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("journey.batch", "batch", id),
    )
    .await?;
    Ok(id)
}

#[cfg(test)]
pub(crate) fn scheme_2021() -> Scheme {
    Scheme {
        id: 1,
        code: "2020".into(),
        name: "2020".into(),
        starts_on: NaiveDate::from_ymd_opt(2020, 4, 1).unwrap(),
        training_balance: 1_000_000,
        incentive_amount: 600_000,
        incentive_count: 4,
        survey_amount: 50_000,
        survey_count: 3,
        purchase_days: 30,
        incentive_first_after_days: 5,
        incentive_interval_days: 30,
        survey_first_after_days: 5,
        survey_interval_days: 30,
        grace_working_days: 5,
        min_age: 18,
        max_age: Some(64),
        max_age_from_batch: Some(18),
    }
}
