//! The daily follow-up list: deadlines about to pass, payments overdue, follow-up dates due
//! and people gone quiet, with what to do about each.

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::calendar::{day_number, from_day_number};
use super::store;
use crate::access::{self, Action};
use crate::audit::{self, Entry, Outcome};
use crate::clock;
use crate::error::{AppError, Result};
use crate::i18n::Lang;
use crate::identity::Actor;
use crate::state::AppState;
use crate::vault::IndexKind;

/// Days without contact after which a person mid-journey is listed.
pub const QUIET_DAYS: i64 = 30;

/// One reason a person is on the follow-up list, with what to do about it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FollowUpReason {
    pub code: String,
    pub why: String,
    pub why_en: String,
    pub todo: String,
    pub todo_en: String,
    /// The day that makes it urgent (deadline, expected payment, follow-up date, last contact).
    pub day: NaiveDate,
}

fn reason(code: &str, day: NaiveDate, why: (String, String), todo: (&str, &str)) -> FollowUpReason {
    FollowUpReason {
        code: code.to_string(),
        why: why.0,
        why_en: why.1,
        todo: todo.0.to_string(),
        todo_en: todo.1.to_string(),
        day,
    }
}

/// The first-training deadline, once passed or within `horizon` days.
fn purchase_reason(today: NaiveDate, horizon: i64, deadline: NaiveDate) -> Option<FollowUpReason> {
    let left = (deadline - today).num_days();
    if left < 0 {
        return Some(reason(
            "purchase_deadline_passed",
            deadline,
            (
                format!(
                    "Batas beli pelatihan pertama lewat pada {}.",
                    crate::format::date(deadline)
                ),
                format!(
                    "The first-training deadline passed on {}.",
                    crate::format::date(deadline)
                ),
            ),
            (
                "Pastikan: jika sudah membeli, catat pembeliannya; jika belum, catat pencabutan.",
                "Check: if bought, record the purchase; if not, record the revocation.",
            ),
        ));
    }
    if left <= horizon {
        return Some(reason(
            "purchase_deadline_soon",
            deadline,
            (
                format!(
                    "Batas beli pelatihan pertama {} ({left} hari lagi).",
                    crate::format::date(deadline)
                ),
                format!(
                    "First training must be bought by {} ({left} days left).",
                    crate::format::date(deadline)
                ),
            ),
            (
                "Hubungi dan bantu memilih serta membeli pelatihan sebelum kartu dicabut.",
                "Call and help choose and buy a training before the card is revoked.",
            ),
        ));
    }
    None
}

/// What the projection fields say about a person on `today` (the same tests as the query).
#[allow(clippy::too_many_arguments)]
pub fn follow_up_reasons(
    today: NaiveDate,
    horizon: i64,
    quiet_days: i64,
    incentives_paid: i64,
    surveys_paid: i64,
    purchase_deadline: Option<NaiveDate>,
    incentive_overdue: Option<NaiveDate>,
    survey_overdue: Option<NaiveDate>,
    next_follow_up: Option<NaiveDate>,
    last_contact: Option<NaiveDate>,
) -> Vec<FollowUpReason> {
    let mut out = Vec::new();
    out.extend(purchase_deadline.and_then(|d| purchase_reason(today, horizon, d)));
    if let Some(from) = incentive_overdue.filter(|d| *d <= today) {
        let k = incentives_paid + 1;
        out.push(reason(
            "incentive_overdue",
            from,
            (
                format!("Insentif ke-{k} belum diterima (terlambat sejak {}).", crate::format::date(from)),
                format!("Incentive {k} not received (overdue since {}).", crate::format::date(from)),
            ),
            (
                "Cek status di dasbor Prakerja, rekening/e-wallet atas NIK sendiri, lalu catat bila sudah cair.",
                "Check the Prakerja dashboard and that the account is in their own NIK; record it once paid.",
            ),
        ));
    }
    if let Some(from) = survey_overdue.filter(|d| *d <= today) {
        let k = surveys_paid + 1;
        out.push(reason(
            "survey_overdue",
            from,
            (
                format!(
                    "Insentif survei ke-{k} belum diterima (terlambat sejak {}).",
                    crate::format::date(from)
                ),
                format!(
                    "Survey incentive {k} not received (overdue since {}).",
                    crate::format::date(from)
                ),
            ),
            (
                "Pastikan survei evaluasi sudah diisi di dasbor Prakerja.",
                "Make sure the evaluation survey was filled in on the Prakerja dashboard.",
            ),
        ));
    }
    if let Some(due) = next_follow_up.filter(|d| *d <= today) {
        out.push(reason(
            "follow_up_due",
            due,
            (
                format!("Jadwal tindak lanjut {}.", crate::format::date(due)),
                format!("Follow-up scheduled for {}.", crate::format::date(due)),
            ),
            (
                "Hubungi sesuai rencana pada sesi pendampingan terakhir.",
                "Get in touch as planned in the last assistance session.",
            ),
        ));
    }
    if let Some(last) = last_contact.filter(|d| (today - *d).num_days() >= quiet_days) {
        out.push(reason(
            "no_contact",
            last,
            (
                format!("Tidak ada kontak sejak {}.", crate::format::date(last)),
                format!("No contact since {}.", crate::format::date(last)),
            ),
            (
                "Tanyakan kemajuan dan kendala; tawarkan datang ke loket.",
                "Ask about progress and problems; offer a visit to the counter.",
            ),
        ));
    }
    out
}

/// One row of the follow-up list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FollowUpItem {
    pub participant_id: i64,
    pub full_name: String,
    pub phone: Option<String>,
    pub stage: String,
    pub stage_label: String,
    pub reasons: Vec<FollowUpReason>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FollowUpList {
    pub counter_id: i64,
    pub officer_id: Option<i64>,
    pub as_of: NaiveDate,
    pub horizon_days: i64,
    /// People due in all; `items` holds the most urgent `limit` of them.
    pub total: usize,
    pub items: Vec<FollowUpItem>,
}

/// Builds the list from projection rows: reasons, urgency order, then the first `limit`.
pub fn follow_up_items(
    rows: Vec<store::FollowUpRow>,
    today: NaiveDate,
    horizon: i64,
    lang: Lang,
) -> Vec<(store::FollowUpRow, FollowUpItem)> {
    let day = |d: Option<i64>| d.map(from_day_number);
    let mut items: Vec<_> = rows
        .into_iter()
        .filter_map(|row| {
            let reasons = follow_up_reasons(
                today,
                horizon,
                QUIET_DAYS,
                row.incentives_paid,
                row.surveys_paid,
                day(row.purchase_deadline_day),
                day(row.incentive_overdue_day),
                day(row.survey_overdue_day),
                day(row.next_follow_up_day),
                day(row.last_contact_day.or(row.started_day)),
            );
            if reasons.is_empty() {
                return None;
            }
            let stage = row.stage;
            let item = FollowUpItem {
                participant_id: row.participant_id,
                full_name: row.full_name.clone(),
                phone: None,
                stage: stage.code().to_string(),
                stage_label: stage.label(lang).to_string(),
                reasons,
            };
            Some((row, item))
        })
        .collect();
    // Deadlines first (nothing can be done after them), then the longest overdue.
    items.sort_by_key(|(_, item)| {
        let deadline = item
            .reasons
            .iter()
            .any(|r| r.code == "purchase_deadline_soon");
        let earliest = item.reasons.iter().map(|r| r.day).min();
        (!deadline, earliest, item.participant_id)
    });
    items
}

/// The follow-up list of a counter (and optionally one officer) on `as_of`.
#[allow(clippy::too_many_arguments)]
pub async fn follow_up(
    state: &AppState,
    actor: &Actor,
    counter_id: i64,
    officer_id: Option<i64>,
    as_of: Option<NaiveDate>,
    horizon: i64,
    limit: usize,
    lang: Lang,
) -> Result<FollowUpList> {
    access::require(&state.db, actor, Action::ViewFollowUp).await?;
    let office = crate::counters::office_of(&state.db, counter_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !access::reaches_counter(&actor.user, counter_id, office) {
        audit::record(
            &state.db,
            Some(actor),
            None,
            Entry::new("journey.follow_up", "counter", counter_id).outcome(Outcome::Denied),
        )
        .await?;
        return Err(AppError::Forbidden);
    }
    let today = as_of.unwrap_or_else(clock::today);
    let horizon = horizon.clamp(0, 60);
    let (total, rows) = store::follow_up(
        &state.db,
        counter_id,
        officer_id,
        day_number(today),
        horizon,
        QUIET_DAYS,
        limit,
    )
    .await?;
    let mut items = Vec::new();
    for (row, mut item) in follow_up_items(rows, today, horizon, lang) {
        item.phone = match row.phone_enc {
            Some(bytes) => Some(state.vault.open(IndexKind::Phone, &bytes).map_err(|e| {
                AppError::Internal(anyhow::anyhow!("phone of {}: {e}", row.participant_id))
            })?),
            None => None,
        };
        items.push(item);
    }
    // The list shows names and phone numbers: reading it is audited like a view.
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("journey.follow_up", "counter", counter_id)
            .fields(vec![format!("rows={}", items.len())]),
    )
    .await?;
    Ok(FollowUpList {
        counter_id,
        officer_id,
        as_of: today,
        horizon_days: horizon,
        total: usize::try_from(total).unwrap_or(0),
        items,
    })
}
