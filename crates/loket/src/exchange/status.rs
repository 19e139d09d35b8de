//! The status export back to the programme office: everyone who consented to sharing.

use chrono::{DateTime, Utc};

use super::service::open_nik;
use super::store;
use crate::access::{self, Action};
use crate::audit::{self, Entry};
use crate::error::{AppError, Result};
use crate::identity::Actor;
use crate::journey::Stage;
use crate::state::AppState;

/// Columns of the status export (documented in `docs/exchange-format.md`).
pub const STATUS_HEADER: [&str; 10] = [
    "nik",
    "nama",
    "tahap",
    "tanggal_tahap",
    "gelombang",
    "insentif_diterima",
    "survei_diterima",
    "kode_loket",
    "kontak_terakhir",
    "diperbarui",
];

/// The status of everyone who consented to sharing, as CSV for the programme office.
pub async fn status_export(
    state: &AppState,
    actor: &Actor,
    since: Option<DateTime<Utc>>,
    reason: &str,
) -> Result<(Vec<u8>, usize)> {
    access::require(&state.db, actor, Action::ManageExchange).await?;
    let reason = reason.trim();
    if reason.chars().count() < 5 {
        return Err(AppError::field(
            "reason",
            "reason_required",
            "Tulis alasan ekspor (paling sedikit 5 huruf).",
            "Give the reason for the export (at least 5 characters).",
        ));
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| AppError::Internal(anyhow::anyhow!("status export: {e}"));
    out.write_record(STATUS_HEADER).map_err(fail)?;
    let day = |d: Option<i64>| {
        d.map(|d| crate::journey::from_day_number(d).to_string())
            .unwrap_or_default()
    };
    let (mut after, mut count) = (0, 0);
    loop {
        let rows = store::consented_status(&state.db, since, after, 2000).await?;
        let Some(last) = rows.last() else { break };
        after = last.participant_id;
        for r in rows {
            let nik = open_nik(&state.vault, &r.nik_enc, "participant", r.participant_id)?;
            let changed = r.changed_at();
            crate::sheet::write_csv_record(
                &mut out,
                [
                    nik,
                    r.full_name,
                    r.stage
                        .unwrap_or_else(|| Stage::NotRegistered.code().to_string()),
                    day(r.stage_day),
                    r.batch_number.map(|b| b.to_string()).unwrap_or_default(),
                    r.incentives_paid.unwrap_or(0).to_string(),
                    r.surveys_paid.unwrap_or(0).to_string(),
                    r.counter_code.unwrap_or_default(),
                    day(r.last_contact_day),
                    changed.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                ],
            )
            .map_err(fail)?;
            count += 1;
        }
    }
    let bytes = out
        .into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("status export: {e}")))?;
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("exchange.status_export", "participant", "")
            .fields(vec![format!("rows={count}")])
            .reason(reason),
    )
    .await?;
    Ok((bytes, count))
}
