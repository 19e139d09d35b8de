//! What the API, the pages and the CLI do with the counter network: the access policy, the
//! lifecycle rules and the audit trail, applied once, here.

use chrono::NaiveDate;

use super::model::*;
use super::store::{self, CounterRow, NewBatch};
use crate::access::{self, Action};
use crate::audit::{self, Entry, Outcome};
use crate::clock;
use crate::db::Db;
use crate::error::{AppError, FieldError, Result};
use crate::identity::Actor;

/// Setting: how many currently certified officers a counter needs to operate.
pub const SETTING_MIN_OFFICERS: &str = "min_certified_officers";
/// Setting: what counts as a Purna PMI "reached" (see [`ReachDefinition`]).
pub const SETTING_REACH: &str = "reach_definition";

pub async fn min_certified_officers(db: &Db) -> Result<i64> {
    Ok(store::setting(db, SETTING_MIN_OFFICERS)
        .await?
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(1))
}

pub async fn reach_definition(db: &Db) -> Result<ReachDefinition> {
    Ok(store::setting(db, SETTING_REACH)
        .await?
        .and_then(|v| ReachDefinition::parse(&v))
        .unwrap_or(ReachDefinition::Registered))
}

async fn require_office(
    db: &Db,
    actor: &Actor,
    office_id: i64,
    entity: &'static str,
) -> Result<()> {
    access::require(db, actor, Action::ManageCounters).await?;
    if access::manages_office(&actor.user, office_id) {
        return Ok(());
    }
    let entry = Entry::new("counter.manage", entity, office_id).outcome(Outcome::Denied);
    audit::record(db, Some(actor), None, entry).await?;
    Err(AppError::Forbidden)
}

pub async fn view_allowed(db: &Db, actor: &Actor) -> Result<()> {
    access::require(db, actor, Action::ViewNetwork).await
}

/// The officers assigned to a counter, each with whether they hold a certificate valid `on`.
pub async fn staffing(
    db: &Db,
    counter_id: i64,
    on: NaiveDate,
) -> Result<Vec<(store::OfficerRow, bool)>> {
    let officers = store::officer_rows(db).await?;
    let certs = store::certifications(db, None).await?;
    Ok(officers
        .into_iter()
        .filter(|o| o.counter_id == Some(counter_id) && o.active)
        .map(|o| {
            let valid = certs.iter().any(|c| c.officer_id == o.id && c.valid_on(on));
            (o, valid)
        })
        .collect())
}

fn status_error(code: &str, id: String, en: String) -> AppError {
    AppError::Validation(vec![FieldError::new("status", code, id, en)])
}

/// Moves a counter through its lifecycle. Operating needs at least N officers with a ToT
/// certificate valid on the day it starts; the error names who is missing.
pub async fn change_status(
    db: &Db,
    actor: &Actor,
    counter_id: i64,
    expected_version: i64,
    next: CounterStatus,
    on: NaiveDate,
    note: Option<&str>,
) -> Result<CounterRow> {
    let counter = store::counter_row(db, counter_id)
        .await?
        .ok_or(AppError::NotFound)?;
    require_office(db, actor, counter.office_id, "counter").await?;
    if counter.version != expected_version {
        return Err(AppError::VersionConflict {
            current: counter.version,
        });
    }
    let current = counter.status();
    if !current.may_become(next) {
        return Err(status_error(
            "status_transition_invalid",
            format!(
                "Loket {} berstatus \"{}\" dan tidak dapat langsung menjadi \"{}\".",
                counter.code,
                current.labels().0,
                next.labels().0
            ),
            format!(
                "Counter {} is \"{}\" and cannot become \"{}\" directly.",
                counter.code,
                current.labels().1,
                next.labels().1
            ),
        ));
    }
    let today = clock::today();
    let last = store::status_events(db, Some(counter_id))
        .await?
        .last()
        .map(|e| e.effective_on);
    if on > today || last.is_some_and(|l| on < l) {
        return Err(AppError::field(
            "effective_on",
            "effective_on_invalid",
            "Tanggal berlaku tidak boleh di masa depan atau sebelum perubahan status terakhir.",
            "The effective date may not be in the future or before the last status change.",
        ));
    }
    if next == CounterStatus::Operating {
        check_staffing(db, &counter, on).await?;
    }
    store::set_status(
        db,
        counter_id,
        expected_version,
        next,
        on,
        note.filter(|n| !n.trim().is_empty()),
        Some(actor.user.id),
    )
    .await?;
    audit::record(
        db,
        Some(actor),
        None,
        Entry::new("counter.status", "counter", counter_id)
            .fields(vec!["status".into()])
            .reason(format!("{} -> {} on {on}", current.code(), next.code())),
    )
    .await?;
    store::counter_row(db, counter_id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn check_staffing(db: &Db, counter: &CounterRow, on: NaiveDate) -> Result<()> {
    let needed = min_certified_officers(db).await?;
    let staff = staffing(db, counter.id, on).await?;
    let certified = staff.iter().filter(|(_, ok)| *ok).count() as i64;
    if certified >= needed {
        return Ok(());
    }
    let uncertified: Vec<&str> = staff
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(o, _)| o.full_name.as_str())
        .collect();
    let (who_id, who_en) = if uncertified.is_empty() {
        (
            "Belum ada petugas yang ditugaskan di loket ini.".to_string(),
            "No officer is assigned to this counter yet.".to_string(),
        )
    } else {
        (
            format!(
                "Petugas tanpa sertifikat berlaku: {}.",
                uncertified.join(", ")
            ),
            format!(
                "Officers without a valid certificate: {}.",
                uncertified.join(", ")
            ),
        )
    };
    Err(status_error(
        "certified_officers_missing",
        format!(
            "Loket {} baru dapat beroperasi pada {on} dengan minimal {needed} petugas bersertifikat ToT yang berlaku; ada {certified}, kurang {}. {who_id}",
            counter.code,
            needed - certified
        ),
        format!(
            "Counter {} can operate on {on} only with at least {needed} officer(s) holding a valid ToT certificate; it has {certified}, {} missing. {who_en}",
            counter.code,
            needed - certified
        ),
    ))
}

/// Gives an account an officer profile; coordinators do so for their own office.
pub async fn create_officer(
    db: &Db,
    actor: &Actor,
    user_id: i64,
    full_name: &str,
    role: CascadeRole,
) -> Result<i64> {
    let user = crate::auth::user_by_id(db, user_id).await?.ok_or_else(|| {
        AppError::field(
            "user_id",
            "user_unknown",
            "Akun tidak ditemukan.",
            "No such account.",
        )
    })?;
    match user.office_id {
        Some(office) => require_office(db, actor, office, "officer").await?,
        None => access::require(db, actor, Action::ManageNetwork).await?,
    }
    let name = full_name.trim();
    if name.chars().count() < 2 || name.chars().count() > 100 {
        return Err(AppError::field(
            "full_name",
            "name_invalid",
            "Nama petugas 2–100 karakter.",
            "The officer's name must be 2–100 characters.",
        ));
    }
    let id = store::insert_officer(db, user_id, name, role).await?;
    audit::record(
        db,
        Some(actor),
        None,
        Entry::new("officer.create", "officer", id),
    )
    .await?;
    Ok(id)
}

/// The input of a new ToT batch, as the edge parsed it.
pub struct BatchInput {
    pub code: String,
    pub level: TotLevel,
    pub mode: TotMode,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub trainer_officer_id: Option<i64>,
    pub trainer_name: String,
    pub topics: String,
}

/// Opens a ToT batch. A counter-level batch is taught by a certified central trainer, so the
/// cascade (programme office → central trainer → counter officer) stays traceable.
pub async fn create_batch(db: &Db, actor: &Actor, input: &BatchInput) -> Result<i64> {
    access::require(db, actor, Action::ManageNetwork).await?;
    let mut errors = Vec::new();
    if input.code.trim().is_empty() {
        errors.push(FieldError::required("code"));
    }
    if input.end_date < input.start_date {
        errors.push(FieldError::new(
            "end_date",
            "date_order",
            "Tanggal selesai sebelum tanggal mulai.",
            "The end date is before the start date.",
        ));
    }
    if input.trainer_name.trim().is_empty() {
        errors.push(FieldError::required("trainer_name"));
    }
    if input.topics.trim().is_empty() {
        errors.push(FieldError::required("topics"));
    }
    if input.level == TotLevel::Counter {
        let trainer_ok = match input.trainer_officer_id {
            Some(t) => {
                let is_trainer = store::officer_row(db, t)
                    .await?
                    .is_some_and(|o| o.cascade_role == CascadeRole::CentralTrainer.code());
                let certified = store::certifications(db, Some(t))
                    .await?
                    .iter()
                    .any(|c| c.valid_on(input.start_date));
                is_trainer && certified
            }
            None => false,
        };
        if !trainer_ok {
            errors.push(FieldError::new(
                "trainer_officer_id",
                "trainer_not_certified",
                "Pelatihan petugas loket diajar oleh pelatih pusat yang sertifikat ToT-nya berlaku pada tanggal mulai.",
                "Counter officer training is taught by a central trainer whose ToT certificate is valid on the start date.",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let id = store::insert_batch(
        db,
        &NewBatch {
            code: input.code.trim(),
            level: input.level,
            mode: input.mode,
            start_date: input.start_date,
            end_date: input.end_date,
            trainer_officer_id: input.trainer_officer_id,
            trainer_name: input.trainer_name.trim(),
            topics: input.topics.trim(),
        },
    )
    .await?;
    audit::record(
        db,
        Some(actor),
        None,
        Entry::new("tot.batch.create", "tot_batch", id),
    )
    .await?;
    Ok(id)
}

/// Records attendance and the assessment score; a pass (attended, score ≥ 70) certifies.
pub async fn record_result(
    db: &Db,
    actor: &Actor,
    batch_id: i64,
    officer_id: i64,
    attended: bool,
    score: Option<i64>,
) -> Result<bool> {
    access::require(db, actor, Action::ManageNetwork).await?;
    let batch = store::batch_row(db, batch_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let officer = store::officer_row(db, officer_id).await?.ok_or_else(|| {
        AppError::field(
            "officer_id",
            "officer_unknown",
            "Petugas tidak ditemukan.",
            "No such officer.",
        )
    })?;
    if score.is_some_and(|s| !(0..=100).contains(&s)) {
        return Err(AppError::field(
            "score",
            "score_range",
            "Nilai 0–100.",
            "The score must be 0–100.",
        ));
    }
    if batch.level == TotLevel::Central.code()
        && officer.cascade_role != CascadeRole::CentralTrainer.code()
    {
        return Err(AppError::field(
            "officer_id",
            "level_mismatch",
            "ToT pusat hanya untuk pelatih pusat BP2MI.",
            "The central ToT is for BP2MI central trainers only.",
        ));
    }
    let passed = store::record_result(db, &batch, officer_id, attended, score).await?;
    audit::record(
        db,
        Some(actor),
        None,
        Entry::new("tot.result", "officer", officer_id)
            .fields(vec!["attended".into(), "score".into()])
            .reason(format!("batch {}", batch.code)),
    )
    .await?;
    Ok(passed)
}

/// One step of "who trained whom", from the officer up to the programme office.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct LineageStep {
    pub officer_id: Option<i64>,
    pub name: String,
    pub batch_code: Option<String>,
    pub certified_on: Option<NaiveDate>,
}

/// The cascade lineage: the officer, the trainer of the batch that certified them, that
/// trainer's own trainer, … ending at the programme office (a trainer who is not an officer).
pub async fn lineage(db: &Db, officer_id: i64) -> Result<Vec<LineageStep>> {
    let officers = store::officer_rows(db).await?;
    let batches = store::batch_rows(db).await?;
    let certs = store::certifications(db, None).await?;
    let mut steps = Vec::new();
    let mut current = Some(officer_id);
    while let Some(id) = current.take() {
        if steps.iter().any(|s: &LineageStep| s.officer_id == Some(id)) || steps.len() > 10 {
            break; // a cycle in bad data must not loop forever
        }
        let Some(officer) = officers.iter().find(|o| o.id == id) else {
            break;
        };
        let cert = certs
            .iter()
            .filter(|c| c.officer_id == id)
            .max_by_key(|c| c.certified_on);
        let batch = cert.and_then(|c| batches.iter().find(|b| b.id == c.batch_id));
        steps.push(LineageStep {
            officer_id: Some(id),
            name: officer.full_name.clone(),
            batch_code: batch.map(|b| b.code.clone()),
            certified_on: cert.map(|c| c.certified_on),
        });
        match batch {
            Some(b) if b.trainer_officer_id.is_some() => current = b.trainer_officer_id,
            Some(b) => steps.push(LineageStep {
                officer_id: None,
                name: b.trainer_name.clone(),
                batch_code: None,
                certified_on: None,
            }),
            None => {}
        }
    }
    Ok(steps)
}

/// Sets a target value (head office only).
pub async fn set_target(
    db: &Db,
    actor: &Actor,
    metric: Metric,
    definition: Option<ReachDefinition>,
    scope: &ScopeRef,
    period_end: NaiveDate,
    value: i64,
) -> Result<()> {
    access::require(db, actor, Action::ManageNetwork).await?;
    if value < 0 {
        return Err(AppError::field(
            "value",
            "value_negative",
            "Target tidak boleh negatif.",
            "A target cannot be negative.",
        ));
    }
    store::set_target(db, metric, definition, scope, period_end, value).await?;
    let definition = metric
        .definition("")
        .and(definition.or(metric.definition("")));
    audit::record(
        db,
        Some(actor),
        None,
        Entry::new(
            "target.set",
            "target",
            format!(
                "{}{}/{}/{period_end}",
                metric.code(),
                definition
                    .map(|d| format!(":{}", d.code()))
                    .unwrap_or_default(),
                scope.key()
            ),
        ),
    )
    .await
}

/// Changes a network setting (head office only), checking its value.
pub async fn set_setting(db: &Db, actor: &Actor, key: &str, value: &str) -> Result<()> {
    access::require(db, actor, Action::ManageNetwork).await?;
    let ok = match key {
        SETTING_MIN_OFFICERS => value
            .trim()
            .parse::<i64>()
            .is_ok_and(|n| (1..=20).contains(&n)),
        SETTING_REACH => ReachDefinition::parse(value).is_some(),
        _ => false,
    };
    if !ok {
        return Err(AppError::field(
            "value",
            "setting_invalid",
            &format!("Nilai pengaturan {key} tidak valid ({SETTING_MIN_OFFICERS}: 1–20; {SETTING_REACH}: {}).", ReachDefinition::codes()),
            &format!("Invalid value for setting {key} ({SETTING_MIN_OFFICERS}: 1–20; {SETTING_REACH}: {}).", ReachDefinition::codes()),
        ));
    }
    store::set_setting(db, key, value.trim()).await?;
    audit::record(
        db,
        Some(actor),
        None,
        Entry::new("setting.set", "setting", key),
    )
    .await
}
