//! Taking files in: BP2MI's master list, and the programme office's recipients files (stored
//! whole or not at all, then linked in the background).

use serde::Serialize;

use super::file::{check_master, check_programme};
use super::linking::spawn_link;
use super::service::{sha256, DEFAULT_REVIEW_FLOOR, DEFAULT_THRESHOLD, ENTITY};
use super::store::{self, NewMasterPerson, NewUploadRow};
use crate::access::{self, Action};
use crate::audit::{self, Entry};
use crate::clock;
use crate::error::AppError;
use crate::identity::Actor;
use crate::sheet::{read_sheet_bytes, ImportError};
use crate::state::AppState;
use crate::vault::IndexKind;

/// Summary of a master-list import.
#[derive(Clone, Debug, Serialize)]
pub struct MasterImported {
    pub import_id: i64,
    pub rows: usize,
}

/// Imports BP2MI's master list: every row checked first, then all stored in one transaction.
pub async fn import_master(
    state: &AppState,
    actor: &Actor,
    file_name: &str,
    bytes: Vec<u8>,
) -> std::result::Result<MasterImported, ImportError> {
    access::require(&state.db, actor, Action::ManageExchange).await?;
    let digest = sha256(&bytes);
    let sheet = read_sheet_bytes(bytes)?;
    let rows = check_master(&sheet, clock::today()).map_err(ImportError::Rejected)?;
    let vault = &state.vault;
    let people: Vec<NewMasterPerson> = rows
        .iter()
        .map(|r| NewMasterPerson {
            nik_enc: vault.seal(IndexKind::Nik, r.nik.as_str()),
            nik_index: vault.blind_index(IndexKind::Nik, r.nik.as_str()),
            full_name: r.full_name.clone(),
            birth_date: r.birth_date,
            sex: r.sex.clone(),
            district_code: r.nik.district_code().to_string(),
            phone_enc: r.phone.as_deref().map(|p| vault.seal(IndexKind::Phone, p)),
            destination_country: r.destination_country.clone(),
            return_date: r.return_date,
        })
        .collect();
    let import_id =
        store::insert_master(&state.db, file_name, &digest, actor.user.id, &people).await?;
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("exchange.master_import", "master_import", import_id)
            .fields(vec![format!("rows={}", people.len())]),
    )
    .await?;
    Ok(MasterImported {
        import_id,
        rows: people.len(),
    })
}

/// What an upload created.
#[derive(Clone, Debug, Serialize)]
pub struct Uploaded {
    pub upload_id: i64,
    pub rows: usize,
    /// The same bytes were uploaded before as this upload (applying again changes nothing).
    pub earlier_upload: Option<i64>,
}

/// Stores a programme-office file (all rows or none) and starts linking it.
pub async fn upload(
    state: &AppState,
    actor: &Actor,
    file_name: &str,
    bytes: Vec<u8>,
) -> std::result::Result<Uploaded, ImportError> {
    access::require(&state.db, actor, Action::ManageExchange).await?;
    let digest = sha256(&bytes);
    let earlier_upload = store::upload_by_sha(&state.db, &digest).await?;
    let sheet = read_sheet_bytes(bytes)?;
    let rows = check_programme(&sheet, clock::today()).map_err(ImportError::Rejected)?;
    let vault = &state.vault;
    let mut stored = Vec::with_capacity(rows.len());
    for r in &rows {
        let facts = serde_json::to_string(&r.facts)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("facts of row {}: {e}", r.row)))?;
        stored.push(NewUploadRow {
            row_no: r.row as i64,
            nik_enc: vault.seal(IndexKind::Nik, r.nik.as_str()),
            nik_index: vault.blind_index(IndexKind::Nik, r.nik.as_str()),
            full_name: r.full_name.clone(),
            birth_date: r.birth_date,
            district_code: r.nik.district_code().to_string(),
            facts,
        });
    }
    let upload_id = store::insert_upload(
        &state.db,
        file_name,
        &digest,
        actor.user.id,
        DEFAULT_THRESHOLD,
        DEFAULT_REVIEW_FLOOR,
        &stored,
    )
    .await?;
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("exchange.upload", ENTITY, upload_id).fields(vec![
            format!("rows={}", stored.len()),
            format!("file={file_name}"),
        ]),
    )
    .await?;
    spawn_link(state.clone(), upload_id);
    Ok(Uploaded {
        upload_id,
        rows: stored.len(),
        earlier_upload,
    })
}
