//! The exchange workflow, applied once, here: upload a programme-office file → link it to the
//! registry and BP2MI's master list → review the uncertain band → apply journey events
//! (idempotently) and list the unknown recipients for outreach → export consented status
//! updates. Linking and applying run as background jobs whose state lives in the database,
//! so a restart leaves an upload resumable, never half-written.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use linkage::{Linker, Side};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::file::{check_master, check_programme};
use super::model::*;
use super::store::{self, LinkOutcome, LinkSubject, NewMasterPerson, NewUploadRow, OutreachScope};
use crate::access::{self, Action};
use crate::audit::{self, Actor, Entry};
use crate::clock;
use crate::error::{AppError, Result};
use crate::journey::model::Source;
use crate::journey::model::{effective, local_day, Stage};
use crate::journey::service::{record_event, EventInput};
use crate::journey::EventFields;
use crate::sheet::{read_sheet_bytes, ImportError};
use crate::state::AppState;
use crate::vault::{IndexKind, Vault};

/// The linkage model used for the exchange (see the file for its reasoning).
pub const LINK_CONFIG: &str = include_str!("link.toml");
/// Match probability from which a pair is accepted without review.
pub const DEFAULT_THRESHOLD: f64 = 0.9;
/// Match probability from which a pair is shown for review (below it: unmatched).
pub const DEFAULT_REVIEW_FLOOR: f64 = 0.3;

const ENTITY: &str = "exchange_upload";

fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

pub(super) fn open_nik(vault: &Vault, sealed: &[u8], what: &str, id: i64) -> Result<String> {
    vault
        .open(IndexKind::Nik, sealed)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("NIK of {what} {id}: {e}")))
}

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

/// Links in the background; a failure is kept on the upload, where the admin sees it.
pub fn spawn_link(state: AppState, upload_id: i64) {
    tokio::spawn(async move {
        if let Err(e) = link(&state, upload_id).await {
            e.log();
            let note = format!("{e}");
            let _ = store::move_status(
                &state.db,
                upload_id,
                &[UploadStatus::Linking],
                UploadStatus::Failed,
                Some(&note),
            )
            .await;
        }
    });
}

/// Linkage figures kept with the upload.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LinkSummary {
    pub rows: usize,
    pub registry_size: usize,
    pub master_size: usize,
    pub exact_registry: usize,
    pub linked_registry: usize,
    pub review: usize,
    pub unmatched: usize,
    pub master_matches: usize,
    pub candidate_pairs: u64,
    pub millis: u128,
}

/// A person as linkage sees them: id, NIK, name, birth date.
type Subject = (i64, String, String, Option<NaiveDate>);

/// One side of a linkage run as CSV bytes with loket's own columns (see `link.toml`).
fn subjects_csv(rows: &[Subject]) -> Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 48));
    let fail = |e: csv::Error| AppError::Internal(anyhow::anyhow!("linkage input: {e}"));
    out.write_record(["id", "nik", "nama", "tanggal_lahir"])
        .map_err(fail)?;
    for (id, nik, name, birth) in rows {
        out.write_record([
            id.to_string(),
            nik.clone(),
            name.clone(),
            birth.map(|d| d.to_string()).unwrap_or_default(),
        ])
        .map_err(fail)?;
    }
    out.into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("linkage input: {e}")))
}

/// A probabilistic match: (left id, right id, probability, explanation).
type Found = (i64, i64, f64, String);

/// Links `left` to `right` with the exchange's model; pairs from the config threshold up.
fn probabilistic(left: &[Subject], right: &[Subject]) -> Result<(Vec<Found>, u64)> {
    if left.is_empty() || right.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let fail = |e: linkage::LinkageError| AppError::Internal(anyhow::anyhow!("linkage: {e}"));
    let linker = Linker::from_toml_str(LINK_CONFIG).map_err(fail)?;
    let l = linker
        .load_bytes(Side::Left, &subjects_csv(left)?)
        .map_err(fail)?;
    let r = linker
        .load_bytes(Side::Right, &subjects_csv(right)?)
        .map_err(fail)?;
    let result = linker.link(&l, &r).map_err(fail)?;
    let mut found = Vec::with_capacity(result.pairs.len());
    for pair in &result.pairs {
        let (li, ri) = (pair.left as usize, pair.right as usize);
        let (Ok(lid), Ok(rid)) = (l.id(li).parse::<i64>(), r.id(ri).parse::<i64>()) else {
            continue;
        };
        let why = linker.explain(&result, &l, li, &r, ri);
        let mut text = String::new();
        for f in &why.fields {
            let weight = (f.m / f.u).log2() + f.tf_adjustment;
            let _ = write!(text, "{}: {} ({weight:+.1}); ", f.comparison, f.label);
        }
        found.push((
            lid,
            rid,
            pair.probability,
            text.trim_end_matches("; ").to_string(),
        ));
    }
    Ok((found, result.stats.blocking.candidate_pairs as u64))
}

/// Opens every NIK of a list, on all cores, off the async threads (a registry is large).
async fn decrypt_subjects(
    vault: &std::sync::Arc<Vault>,
    subjects: Vec<LinkSubject>,
    what: &'static str,
) -> Result<Vec<Subject>> {
    use rayon::prelude::*;
    let vault = vault.clone();
    tokio::task::spawn_blocking(move || {
        subjects
            .into_par_iter()
            .map(|s| {
                let nik = open_nik(&vault, &s.nik_enc, what, s.id)?;
                Ok((s.id, nik, s.full_name, s.birth_date))
            })
            .collect()
    })
    .await
    .map_err(|e| AppError::Internal(anyhow::anyhow!("decrypt task: {e}")))?
}

/// Links an upload's rows: exact NIK first, then the probabilistic model, against the
/// registry; rows left over against BP2MI's master list; the nearest counter for outreach.
pub async fn link(state: &AppState, upload_id: i64) -> Result<LinkSummary> {
    let started = Instant::now();
    let upload = store::upload(&state.db, upload_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let pending = store::pending_rows(&state.db, upload_id).await?;
    let vault = &state.vault;
    let file_subjects = pending
        .iter()
        .map(|p| LinkSubject {
            id: p.id,
            nik_enc: p.nik_enc.clone(),
            full_name: p.full_name.clone(),
            birth_date: p.birth_date,
            district_code: Some(p.district_code.clone()),
        })
        .collect();
    let rows = decrypt_subjects(vault, file_subjects, "upload row").await?;
    let registry = decrypt_subjects(
        vault,
        store::registry_subjects(&state.db).await?,
        "participant",
    )
    .await?;
    let master_list = store::master_subjects(&state.db).await?;
    // BP2MI's record of a person's home district, for choosing the outreach counter.
    let master_districts: HashMap<i64, String> = master_list
        .iter()
        .filter_map(|m| Some((m.id, m.district_code.clone()?)))
        .collect();
    let master = decrypt_subjects(vault, master_list, "master").await?;
    let mut summary = LinkSummary {
        rows: rows.len(),
        registry_size: registry.len(),
        master_size: master.len(),
        ..Default::default()
    };
    let (threshold, floor) = (upload.threshold, upload.review_floor);
    let districts: HashMap<i64, String> = pending
        .iter()
        .map(|p| (p.id, p.district_code.clone()))
        .collect();
    let places = super::counter_places(&state.db).await?;

    // The heavy part runs off the async threads.
    let outcomes =
        tokio::task::spawn_blocking(move || -> Result<(Vec<LinkOutcome>, LinkSummary)> {
            let mut outcomes: HashMap<i64, LinkOutcome> = rows
                .iter()
                .map(|(id, ..)| {
                    (
                        *id,
                        LinkOutcome {
                            row_id: *id,
                            ..Default::default()
                        },
                    )
                })
                .collect();
            // 1. The same NIK in the registry: the key both agencies share.
            let by_nik: HashMap<&str, i64> = registry
                .iter()
                .map(|(id, nik, ..)| (nik.as_str(), *id))
                .collect();
            let mut taken = std::collections::HashSet::new();
            let mut rest = Vec::new();
            for row in &rows {
                match by_nik.get(row.1.as_str()) {
                    Some(pid) => {
                        let o = outcomes.entry(row.0).or_default();
                        o.participant_id = Some(*pid);
                        o.probability = Some(1.0);
                        o.explanation = Some("nik: exact".into());
                        o.decision = Some(Decision::Auto);
                        taken.insert(*pid);
                        summary.exact_registry += 1;
                    }
                    None => rest.push(row.clone()),
                }
            }
            // 2. The model, for the rest, against registry people not already matched.
            let free: Vec<_> = registry
                .into_iter()
                .filter(|r| !taken.contains(&r.0))
                .collect();
            let (found, pairs) = probabilistic(&rest, &free)?;
            summary.candidate_pairs += pairs;
            for (row_id, pid, p, why) in found.into_iter().filter(|f| f.2 >= floor) {
                let o = outcomes.entry(row_id).or_default();
                o.participant_id = Some(pid);
                o.probability = Some(p);
                o.explanation = Some(why);
                o.decision = Some(if p >= threshold {
                    summary.linked_registry += 1;
                    Decision::Auto
                } else {
                    summary.review += 1;
                    Decision::Review
                });
            }
            // 3. Not (surely) in the registry: is the recipient on BP2MI's master list?
            let unknown: Vec<_> = rows
                .iter()
                .filter(|r| outcomes.get(&r.0).and_then(|o| o.decision) != Some(Decision::Auto))
                .cloned()
                .collect();
            let master_by_nik: HashMap<&str, i64> = master
                .iter()
                .map(|(id, nik, ..)| (nik.as_str(), *id))
                .collect();
            let mut unmatched_master = Vec::new();
            for row in &unknown {
                match master_by_nik.get(row.1.as_str()) {
                    Some(mid) => {
                        let o = outcomes.entry(row.0).or_default();
                        o.master_id = Some(*mid);
                        o.master_probability = Some(1.0);
                    }
                    None => unmatched_master.push(row.clone()),
                }
            }
            let (found, pairs) = probabilistic(&unmatched_master, &master)?;
            summary.candidate_pairs += pairs;
            for (row_id, mid, p, _) in found.into_iter().filter(|f| f.2 >= threshold) {
                let o = outcomes.entry(row_id).or_default();
                o.master_id = Some(mid);
                o.master_probability = Some(p);
            }
            // 4. Whoever is not surely in the registry gets the counter nearest their home:
            // BP2MI's record of it when known, else the NIK's district.
            for o in outcomes.values_mut() {
                if o.master_id.is_some() {
                    summary.master_matches += 1;
                }
                if o.decision == Some(Decision::Auto) {
                    continue;
                }
                if o.decision.is_none() {
                    summary.unmatched += 1;
                }
                let district = o
                    .master_id
                    .and_then(|m| master_districts.get(&m))
                    .or_else(|| districts.get(&o.row_id));
                o.outreach_counter_id = district.and_then(|d| nearest_counter(d, &places));
            }
            let mut list: Vec<LinkOutcome> = outcomes.into_values().collect();
            list.sort_by_key(|o| o.row_id);
            Ok((list, summary))
        })
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("linkage task: {e}")))??;
    let (mut outcomes, mut summary) = outcomes;
    carry_over_reviews(state, upload_id, &pending, &mut outcomes).await?;
    summary.millis = started.elapsed().as_millis();
    let text = serde_json::to_string(&summary)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("summary: {e}")))?;
    // The summary arrives with the status: whoever sees `review` sees the figures.
    store::save_links(&state.db, upload_id, &outcomes, &text).await?;
    audit::record(
        &state.db,
        None,
        None,
        Entry::new("exchange.link", ENTITY, upload_id).fields(vec![
            format!("auto={}", summary.exact_registry + summary.linked_registry),
            format!("review={}", summary.review),
            format!("unmatched={}", summary.unmatched),
        ]),
    )
    .await?;
    Ok(summary)
}

/// A pair a reviewer already judged in an earlier upload (same NIK, same registry person) is
/// not asked again: re-sending a file must not mean reviewing it again.
async fn carry_over_reviews(
    state: &AppState,
    upload_id: i64,
    pending: &[store::PendingRow],
    outcomes: &mut [LinkOutcome],
) -> Result<()> {
    let index: HashMap<i64, &[u8]> = pending
        .iter()
        .map(|p| (p.id, p.nik_index.as_slice()))
        .collect();
    for o in outcomes
        .iter_mut()
        .filter(|o| o.decision == Some(Decision::Review))
    {
        let Some(nik_index) = index.get(&o.row_id) else {
            continue;
        };
        let Some((decision, person, _)) =
            store::earlier_decision(&state.db, nik_index, upload_id).await?
        else {
            continue;
        };
        if person == o.participant_id {
            o.decision = Decision::parse(&decision);
            o.explanation = o.explanation.take().map(|why| {
                format!("{why}; diputuskan pada unggahan sebelumnya / decided in an earlier upload")
            });
        }
    }
    Ok(())
}

/// A reviewer's decision on a row of the uncertain band.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    upload_id: i64,
    row_id: i64,
    accept: bool,
) -> Result<()> {
    access::require(&state.db, actor, Action::ManageExchange).await?;
    let row = store::row(&state.db, row_id)
        .await?
        .ok_or(AppError::NotFound)?;
    // The row must belong to the upload named in the URL.
    if row.upload_id != upload_id {
        return Err(AppError::NotFound);
    }
    let upload = store::upload(&state.db, upload_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if upload.status() != UploadStatus::Review {
        return Err(AppError::Refused {
            code: "upload_not_in_review",
            message: "Berkas ini tidak sedang dalam tahap pemeriksaan.".into(),
            message_en: "This upload is not awaiting review.".into(),
        });
    }
    let decision = if accept {
        Decision::Accepted
    } else {
        Decision::Rejected
    };
    let counter = if accept {
        None
    } else {
        let places = super::counter_places(&state.db).await?;
        nearest_counter(&row.district_code, &places)
    };
    if !store::decide(&state.db, row_id, decision, actor.user.id, counter).await? {
        return Err(AppError::Refused {
            code: "row_not_reviewable",
            message: "Baris ini tidak perlu diperiksa.".into(),
            message_en: "This row is not open to review.".into(),
        });
    }
    let mut fields = vec![
        format!("row={}", row.row_no),
        format!("decision={}", decision.code()),
    ];
    if let Some(p) = row.participant_id {
        fields.push(format!("participant={p}"));
    }
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("exchange.review", ENTITY, upload_id).fields(fields),
    )
    .await?;
    Ok(())
}

/// Starts (or resumes) applying a reviewed upload.
pub async fn apply(state: &AppState, actor: &Actor, upload_id: i64) -> Result<()> {
    access::require(&state.db, actor, Action::ManageExchange).await?;
    let upload = store::upload(&state.db, upload_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let open = store::counts(&state.db, upload_id)
        .await?
        .into_iter()
        .find(|(d, ..)| d == Decision::Review.code())
        .map_or(0, |(_, n, _)| n);
    if open > 0 {
        return Err(AppError::Refused {
            code: "review_unfinished",
            message: format!("Masih ada {open} baris yang perlu diperiksa sebelum diterapkan."),
            message_en: format!("{open} row(s) still need review before applying."),
        });
    }
    match upload.status() {
        UploadStatus::Review | UploadStatus::Applying => {}
        UploadStatus::Applied => {
            return Err(AppError::Refused {
                code: "upload_applied",
                message: "Berkas ini sudah diterapkan.".into(),
                message_en: "This upload is already applied.".into(),
            })
        }
        UploadStatus::Linking | UploadStatus::Failed => {
            return Err(AppError::Refused {
                code: "upload_not_linked",
                message: "Berkas ini belum selesai dicocokkan.".into(),
                message_en: "This upload has not finished linking.".into(),
            })
        }
    }
    store::move_status(
        &state.db,
        upload_id,
        &[UploadStatus::Review, UploadStatus::Applying],
        UploadStatus::Applying,
        None,
    )
    .await?;
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("exchange.apply", ENTITY, upload_id),
    )
    .await?;
    let (state, actor) = (state.clone(), actor.clone());
    tokio::spawn(async move {
        if let Err(e) = apply_all(&state, &actor, upload_id).await {
            e.log();
            let note = format!("{e}");
            // Stays `applying`: applying again resumes where it stopped.
            let _ = store::move_status(
                &state.db,
                upload_id,
                &[UploadStatus::Applying],
                UploadStatus::Applying,
                Some(&note),
            )
            .await;
        }
    });
    Ok(())
}

/// Applies every row not applied yet, a page at a time, then marks the upload applied.
pub async fn apply_all(state: &AppState, actor: &Actor, upload_id: i64) -> Result<()> {
    const PAGE: i64 = 500;
    // Rows name different people (the assignment is one-to-one), so several are applied at
    // once: their audit entries then share commits instead of each waiting for its own.
    const AT_ONCE: usize = 8;
    let mut after = 0;
    loop {
        let rows = store::rows_of(&state.db, upload_id, None, after, PAGE).await?;
        let Some(last) = rows.last() else { break };
        after = last.row_no;
        let mut running = tokio::task::JoinSet::new();
        for row in rows.into_iter().filter(|r| !r.applied) {
            if running.len() >= AT_ONCE {
                joined(running.join_next().await)?;
            }
            let (state, actor) = (state.clone(), actor.clone());
            running.spawn(async move {
                let (created, note) = match (row.decision(), row.participant_id) {
                    (d, Some(pid)) if d.is_linked() => {
                        apply_row(&state, &actor, upload_id, &row, pid).await?
                    }
                    _ => (0, None),
                };
                store::mark_applied(&state.db, upload_id, row.id, created, note.as_deref()).await
            });
        }
        while let Some(done) = running.join_next().await {
            joined(Some(done))?;
        }
    }
    store::finish_apply(&state.db, upload_id, actor.user.id).await?;
    let upload = store::upload(&state.db, upload_id).await?;
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("exchange.applied", ENTITY, upload_id).fields(vec![format!(
            "events={}",
            upload.map_or(0, |u| u.events_created)
        )]),
    )
    .await?;
    Ok(())
}

fn joined(done: Option<std::result::Result<Result<()>, tokio::task::JoinError>>) -> Result<()> {
    match done {
        Some(Ok(result)) => result,
        Some(Err(e)) => Err(AppError::Internal(anyhow::anyhow!("apply task: {e}"))),
        None => Ok(()),
    }
}

/// Whether the person's journey already holds the event (any source): then the file row
/// adds nothing, which is what makes applying the same file twice harmless.
fn already_recorded(
    existing: &mut Vec<(Stage, NaiveDate, Option<i64>)>,
    planned: &PlannedEvent,
    batch_id: Option<i64>,
) -> bool {
    let found = existing.iter().position(|(stage, on, batch)| {
        *stage == planned.stage
            && match planned.stage {
                // Joining is one fact per batch, whatever day was written down for it.
                Stage::JoinedBatch => batch_id.is_some() && *batch == batch_id,
                // Only one acceptance counts per batch; the day may differ between sources.
                Stage::Accepted => true,
                _ => *on == planned.on,
            }
    });
    // Each stored event answers for one planned event (two payments on one day are two).
    found.map(|i| existing.remove(i)).is_some()
}

/// Records the events a row states that the journey does not hold yet. The programme office
/// is the authority on its own steps, so an event the counter rules would refuse (a step
/// before it was never recorded at the counter) is kept with an override naming the file.
async fn apply_row(
    state: &AppState,
    actor: &Actor,
    upload_id: i64,
    row: &store::UploadRow,
    participant_id: i64,
) -> Result<(i64, Option<String>)> {
    let facts: Facts = serde_json::from_str(&row.facts)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("facts of row {}: {e}", row.id)))?;
    let rules = crate::journey::store::rules(&state.db).await?;
    let events = crate::journey::store::events_of(&state.db, participant_id).await?;
    let mut existing: Vec<(Stage, NaiveDate, Option<i64>)> = effective(&events)
        .iter()
        .map(|e| (e.stage, local_day(e.occurred_at), e.batch_id))
        .collect();
    let reason = format!(
        "Data resmi Manajemen Pelaksana Prakerja (unggahan #{upload_id}, baris {})",
        row.row_no
    );
    let mut created = 0;
    for planned in facts.planned_events() {
        let batch_id = planned
            .batch
            .and_then(|n| rules.batch_by_number(n))
            .map(|b| b.id);
        if already_recorded(&mut existing, &planned, batch_id) {
            continue;
        }
        let mut input = EventInput {
            stage: planned.stage.code().to_string(),
            occurred_on: Some(planned.on),
            batch: planned.batch,
            fields: EventFields {
                card_number: planned.card_number.clone(),
                training_title: planned.training_title.clone(),
                training_platform: planned.training_platform.clone(),
                amount: planned.amount,
                detail: Some(format!("upload={upload_id} row={}", row.row_no)),
                ..Default::default()
            },
            ..Default::default()
        };
        let mut result = record_event(state, actor, participant_id, &input, Source::Import).await;
        if matches!(result, Err(AppError::Refused { .. })) {
            input.fields.override_reason = Some(reason.clone());
            input.eligibility_reason = Some(reason.clone());
            result = record_event(state, actor, participant_id, &input, Source::Import).await;
        }
        match result {
            Ok(_) => created += 1,
            Err(e) if e.status().is_client_error() => {
                let (id, en) = e.messages();
                // Later steps depend on this one: the rest of the row waits for a correction.
                return Ok((
                    created,
                    Some(format!("{}: {id} / {en}", planned.stage.code())),
                ));
            }
            Err(e) => return Err(e),
        }
    }
    Ok((created, None))
}

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
        d.map(|d| crate::journey::model::from_day_number(d).to_string())
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
            out.write_record([
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
            ])
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
