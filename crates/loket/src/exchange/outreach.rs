//! The outreach list: recipients the registry does not know yet, by the counter nearest them.

use chrono::NaiveDate;
use serde::Serialize;

use super::model::*;
use super::service::open_nik;
use super::store::{self, OutreachScope};
use crate::access::{self, Action};
use crate::audit::{self, Entry};
use crate::error::{AppError, Result};
use crate::identity::Actor;
use crate::state::AppState;
use crate::vault::IndexKind;

/// The outreach list within the reader's reach, with NIKs and phones opened for calling.
#[derive(Clone, Debug, Serialize)]
pub struct OutreachItem {
    pub upload_id: i64,
    pub row_no: i64,
    pub nik: String,
    pub full_name: String,
    pub birth_date: Option<NaiveDate>,
    pub region: String,
    pub furthest_stage: Option<String>,
    pub on_master_list: bool,
    pub phone: Option<String>,
    pub counter_id: Option<i64>,
    pub counter_name: Option<String>,
}

pub async fn outreach(state: &AppState, actor: &Actor, limit: i64) -> Result<Vec<OutreachItem>> {
    access::require(&state.db, actor, Action::ViewOutreach).await?;
    let scope = match access::participant_scope(&actor.user) {
        crate::access::Scope::All => OutreachScope::All,
        crate::access::Scope::Office(o) => OutreachScope::Office(o),
        crate::access::Scope::Counter(c) => OutreachScope::Counter(c),
        crate::access::Scope::Nothing => return Err(AppError::Forbidden),
    };
    let rows = store::outreach(&state.db, scope, limit).await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        let facts: Facts = serde_json::from_str(&r.facts).unwrap_or_default();
        let phone = match &r.master_phone_enc {
            Some(bytes) => Some(state.vault.open(IndexKind::Phone, bytes).map_err(|e| {
                AppError::Internal(anyhow::anyhow!("phone of master {:?}: {e}", r.master_id))
            })?),
            None => None,
        };
        items.push(OutreachItem {
            upload_id: r.upload_id,
            row_no: r.row_no,
            nik: open_nik(&state.vault, &r.nik_enc, "upload row", r.row_id)?,
            full_name: r.full_name,
            birth_date: r.birth_date,
            region: region_name(&r.district_code),
            furthest_stage: facts.furthest().map(|s| s.code().to_string()),
            on_master_list: r.master_id.is_some(),
            phone,
            counter_id: r.counter_id,
            counter_name: r.counter_name,
        });
    }
    // Names, NIKs and phones of people not yet registered: reading the list is audited.
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("exchange.outreach", "outreach", "")
            .fields(vec![format!("rows={}", items.len())]),
    )
    .await?;
    Ok(items)
}

/// "Kec. X, Kab. Y" from a district code, as far as the region table knows it.
pub fn region_name(district_code: &str) -> String {
    let district = nik::regions::district(district_code).map(|r| r.name.to_string());
    let regency = district_code
        .get(..4)
        .and_then(nik::regions::regency)
        .map(|r| r.name.to_string());
    match (district, regency) {
        (Some(d), Some(r)) => format!("{d}, {r}"),
        (None, Some(r)) => r,
        (d, None) => d.unwrap_or_else(|| district_code.to_string()),
    }
}
