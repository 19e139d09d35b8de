//! Linking an upload's rows to the registry (exact NIK, then the probabilistic model) and to
//! BP2MI's master list, choosing the outreach counter of whoever is not surely registered.
//! Runs in the background; a failure is kept on the upload.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Instant;

use chrono::NaiveDate;
use linkage::{Linker, Side};
use serde::{Deserialize, Serialize};

use super::agreement::{disagreements, explanation};
use super::model::*;
use super::service::{open_nik, ENTITY, LINK_CONFIG};
use super::store::{self, LinkOutcome, LinkSubject};
use crate::audit::{self, Entry};
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::vault::Vault;

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
    /// Rows with a registry person's NIK but not their name or birth date (in `review`).
    #[serde(default)]
    pub nik_disagreements: usize,
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
    let inputs = link_inputs(state, &upload, &pending).await?;
    // The heavy part runs off the async threads.
    let (mut outcomes, mut summary) = tokio::task::spawn_blocking(move || link_in_memory(inputs))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("linkage task: {e}")))??;
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

/// What one linkage run works on: every side opened, loaded before the blocking part.
struct LinkInputs {
    rows: Vec<Subject>,
    registry: Vec<Subject>,
    master: Vec<Subject>,
    /// BP2MI's record of a person's home district, for choosing the outreach counter.
    master_districts: HashMap<i64, String>,
    /// The home district the file gives for each row.
    districts: HashMap<i64, String>,
    places: Vec<CounterPlace>,
    threshold: f64,
    floor: f64,
}

async fn link_inputs(
    state: &AppState,
    upload: &store::Upload,
    pending: &[store::PendingRow],
) -> Result<LinkInputs> {
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
    let master_districts = master_list
        .iter()
        .filter_map(|m| Some((m.id, m.district_code.clone()?)))
        .collect();
    let master = decrypt_subjects(vault, master_list, "master").await?;
    let districts = pending
        .iter()
        .map(|p| (p.id, p.district_code.clone()))
        .collect();
    Ok(LinkInputs {
        rows,
        registry,
        master,
        master_districts,
        districts,
        places: super::counter_places(&state.db).await?,
        threshold: upload.threshold,
        floor: upload.review_floor,
    })
}

/// Links the file's rows to the registry, then to BP2MI's master list, and chooses the
/// outreach counter of whoever is not surely in the registry. CPU only.
fn link_in_memory(inputs: LinkInputs) -> Result<(Vec<LinkOutcome>, LinkSummary)> {
    let LinkInputs {
        rows,
        registry,
        master,
        master_districts,
        districts,
        places,
        threshold,
        floor,
    } = inputs;
    let mut summary = LinkSummary {
        rows: rows.len(),
        registry_size: registry.len(),
        master_size: master.len(),
        ..Default::default()
    };
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
    link_registry(
        &rows,
        registry,
        (threshold, floor),
        &mut outcomes,
        &mut summary,
    )?;
    link_master(&rows, &master, threshold, &mut outcomes, &mut summary)?;
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
}

/// Steps 1 and 2: the same NIK in the registry, then the model for the rest.
fn link_registry(
    rows: &[Subject],
    registry: Vec<Subject>,
    (threshold, floor): (f64, f64),
    outcomes: &mut HashMap<i64, LinkOutcome>,
    summary: &mut LinkSummary,
) -> Result<()> {
    // 1. The same NIK in the registry: the key both agencies share.
    let by_nik: HashMap<&str, &Subject> = registry
        .iter()
        .map(|person| (person.1.as_str(), person))
        .collect();
    let mut taken = std::collections::HashSet::new();
    let mut rest = Vec::new();
    for row in rows {
        let Some(person) = by_nik.get(row.1.as_str()) else {
            rest.push(row.clone());
            continue;
        };
        // The NIK is shared, but only a row that also names that person is applied unseen.
        let found = disagreements(&row.2, row.3, &person.2, person.3);
        let o = outcomes.entry(row.0).or_default();
        o.participant_id = Some(person.0);
        // A certain NIK is no certainty about the person: no "100%" beside a disagreement.
        o.probability = found.is_empty().then_some(1.0);
        o.explanation = Some(explanation(&found));
        o.decision = Some(if found.is_empty() {
            summary.exact_registry += 1;
            Decision::Auto
        } else {
            summary.review += 1;
            summary.nik_disagreements += 1;
            Decision::Review
        });
        taken.insert(person.0);
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
    Ok(())
}

/// Step 3: is a recipient not (surely) in the registry on BP2MI's master list?
fn link_master(
    rows: &[Subject],
    master: &[Subject],
    threshold: f64,
    outcomes: &mut HashMap<i64, LinkOutcome>,
    summary: &mut LinkSummary,
) -> Result<()> {
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
    let (found, pairs) = probabilistic(&unmatched_master, master)?;
    summary.candidate_pairs += pairs;
    for (row_id, mid, p, _) in found.into_iter().filter(|f| f.2 >= threshold) {
        let o = outcomes.entry(row_id).or_default();
        o.master_id = Some(mid);
        o.master_probability = Some(p);
    }
    Ok(())
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
