//! What officers, head office and agency staff do with programmes: every function checks
//! access (`access::require`) and audits reads of people and every change.

use chrono::{NaiveDate, Utc};
use serde::Serialize;

use super::model::{Programme, Referral, ReferralEvent, ReferralStatus, Side};
use super::screening::{self, Screened, Verdict};
use super::store::{self, Move, MoveRefused, NewReferral};
use crate::access::{self, Action};
use crate::audit::{self, Entry, Outcome};
use crate::clock;
use crate::error::{AppError, FieldError, Result};
use crate::identity::{Actor, Role};
use crate::participants::model::ConsentMethod;
use crate::state::AppState;

pub const ENTITY: &str = "programme_referral";

/// Longest note or answer, in characters.
pub const NOTE_MAX: usize = 500;

/// Every programme (for head office's and the officers' overview).
pub async fn programmes(state: &AppState, actor: &Actor) -> Result<Vec<Programme>> {
    access::require(&state.db, actor, Action::ViewProgrammes).await?;
    store::programmes(&state.db).await
}

/// One person screened against every programme (those that fit first). The read is audited.
pub async fn screen_person(
    state: &AppState,
    actor: &Actor,
    participant_id: i64,
) -> Result<Vec<(Programme, Screened)>> {
    access::require(&state.db, actor, Action::ViewProgrammes).await?;
    crate::participants::require_in_scope(&state.db, actor, Action::ViewProgrammes, participant_id)
        .await?;
    let facts = store::facts(&state.db, participant_id)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("programme.screen", "participant", participant_id),
    )
    .await?;
    let programmes = store::programmes(&state.db).await?;
    let today = clock::today();
    let mut out: Vec<(Programme, Screened)> = programmes
        .into_iter()
        .map(|p| {
            let s = screening::screen(&p, &facts, today);
            (p, s)
        })
        .collect();
    out.sort_by_key(|(_, s)| rank(s.verdict));
    Ok(out)
}

fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Fits => 0,
        Verdict::NeedsData => 1,
        Verdict::DoesNotFit => 2,
    }
}

/// One person of a caseload: the programmes that fit, and those that need data first.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CaseloadLine {
    pub participant_id: i64,
    pub fits: Vec<String>,
    pub needs_data: Vec<String>,
}

/// A counter's caseload screened against every programme in one request.
pub async fn screen_caseload(
    state: &AppState,
    actor: &Actor,
    counter_id: i64,
) -> Result<Vec<CaseloadLine>> {
    access::require(&state.db, actor, Action::ViewProgrammes).await?;
    let office = crate::counters::office_of(&state.db, counter_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !access::reaches_counter(&actor.user, counter_id, office) {
        return deny(state, actor, Action::ViewProgrammes, None).await;
    }
    let facts = store::caseload_facts(
        &state.db,
        counter_id,
        access::participant_scope(&actor.user),
    )
    .await?;
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("programme.screen", "counter", counter_id),
    )
    .await?;
    let programmes = store::programmes(&state.db).await?;
    Ok(screen_many(&programmes, &facts, clock::today()))
}

/// The pure part of a caseload screening (the benchmark measures it).
pub fn screen_many(
    programmes: &[Programme],
    facts: &[screening::Facts],
    today: NaiveDate,
) -> Vec<CaseloadLine> {
    facts
        .iter()
        .map(|f| {
            let mut line = CaseloadLine {
                participant_id: f.participant_id,
                fits: Vec::new(),
                needs_data: Vec::new(),
            };
            for p in programmes {
                match screening::verdict(p, f, today) {
                    Verdict::Fits => line.fits.push(p.code.clone()),
                    Verdict::NeedsData => line.needs_data.push(p.code.clone()),
                    Verdict::DoesNotFit => {}
                }
            }
            line
        })
        .collect()
}

async fn deny<T>(state: &AppState, actor: &Actor, action: Action, id: Option<i64>) -> Result<T> {
    let entry = Entry {
        entity_id: id.map(|i| i.to_string()),
        ..Entry::new(action.audit_name(), ENTITY, "").outcome(Outcome::Denied)
    };
    audit::record(&state.db, Some(actor), None, entry).await?;
    Err(AppError::Forbidden)
}

fn note_of(field: &str, note: Option<&str>) -> Result<String> {
    let note = note.unwrap_or("").trim();
    crate::text::within(field, note, NOTE_MAX).map_err(|e| AppError::Validation(vec![e]))
}

fn programme_unknown() -> AppError {
    AppError::field(
        "programme_id",
        "programme_unknown",
        "Program tidak dikenal.",
        "Unknown programme.",
    )
}

fn closed(p: &Programme) -> AppError {
    AppError::Refused {
        code: "programme_closed",
        message: format!(
            "Program «{}» sedang tidak menerima rujukan (di luar masa pendaftaran).",
            p.name
        ),
        message_en: format!(
            "The programme «{}» takes no referrals now (outside its open period).",
            p.name
        ),
    }
}

fn full(p: &Programme) -> AppError {
    AppError::Refused {
        code: "programme_full",
        message: format!("Kuota program «{}» sudah penuh.", p.name),
        message_en: format!("The programme «{}» has no places left.", p.name),
    }
}

/// An officer drafts a referral of a person in scope to a programme.
pub async fn refer(
    state: &AppState,
    actor: &Actor,
    participant_id: i64,
    programme_id: i64,
    note: Option<&str>,
) -> Result<Referral> {
    access::require(&state.db, actor, Action::ReferToProgramme).await?;
    crate::participants::require_in_scope(
        &state.db,
        actor,
        Action::ReferToProgramme,
        participant_id,
    )
    .await?;
    let note = note_of("note", note)?;
    let programme = store::programme(&state.db, programme_id)
        .await?
        .ok_or_else(programme_unknown)?;
    if !programme.open_on(clock::today()) {
        return Err(closed(&programme));
    }
    let counter_id = store::counter_of(&state.db, participant_id).await?;
    let new = NewReferral {
        programme_id,
        participant_id,
        counter_id,
        note: &note,
        actor_id: actor.user.id,
    };
    let db = state.db.clone();
    let batch = audit::Batch::new(&db)?;
    let id = store::insert_referral(&state.db, &new, |id| {
        let mut batch = batch;
        batch.add(
            Some(actor),
            None,
            Entry::new("programme_referral.create", ENTITY, id)
                .fields(vec!["programme_id".into(), "participant_id".into()]),
        );
        batch
    })
    .await?;
    store::referral(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// A change asked of a referral.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct MoveInput {
    /// The state to move to: sent, accepted, declined, in_progress, completed,
    /// did_not_attend, withdrawn.
    pub status: String,
    /// The referral's version as read (a concurrent change is refused).
    pub version: i64,
    pub note: Option<String>,
    /// To send: how the person agreed to share their data with this agency (paper_form,
    /// verbal, digital).
    pub consent_method: Option<String>,
}

/// The side a user acts on: agency staff answer for their own agency; officers (in scope)
/// send and withdraw.
async fn side_of(state: &AppState, actor: &Actor, referral: &Referral) -> Result<Side> {
    if actor.user.role == Role::Lembaga {
        access::require_on(&state.db, actor, Action::AnswerReferral, Some(referral.id)).await?;
        let own = store::agency_of_user(&state.db, actor.user.id).await?;
        if own != Some(referral.agency_id) || referral.status == ReferralStatus::Draft {
            return deny(state, actor, Action::AnswerReferral, Some(referral.id)).await;
        }
        return Ok(Side::Agency);
    }
    access::require_on(
        &state.db,
        actor,
        Action::ReferToProgramme,
        Some(referral.id),
    )
    .await?;
    crate::participants::require_in_scope(
        &state.db,
        actor,
        Action::ReferToProgramme,
        referral.participant_id,
    )
    .await?;
    Ok(Side::Counter)
}

/// Moves a referral one step; every step is audited with its note and time, and a refused step
/// writes nothing.
pub async fn move_referral(
    state: &AppState,
    actor: &Actor,
    id: i64,
    input: &MoveInput,
) -> Result<Referral> {
    let referral = store::referral(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let side = side_of(state, actor, &referral).await?;
    let to = ReferralStatus::parse(&input.status).ok_or_else(|| {
        AppError::field(
            "status",
            "referral_status_invalid",
            &format!(
                "Status tidak dikenal; pilih salah satu: {}.",
                ReferralStatus::codes()
            ),
            &format!(
                "Unknown status; choose one of: {}.",
                ReferralStatus::codes()
            ),
        )
    })?;
    let note = note_of("note", input.note.as_deref())?;
    if input.version != referral.version {
        return Err(AppError::VersionConflict {
            current: referral.version,
        });
    }
    if !referral.status.next(side).contains(&to) {
        return Err(AppError::Refused {
            code: "referral_transition",
            message: format!(
                "Rujukan berstatus «{}» tidak dapat diubah menjadi «{}».",
                referral.status.labels().0,
                to.labels().0
            ),
            message_en: format!(
                "A referral that is «{}» cannot become «{}».",
                referral.status.labels().1,
                to.labels().1
            ),
        });
    }
    if to == ReferralStatus::Declined && note.is_empty() {
        return Err(AppError::Validation(vec![FieldError::new(
            "note",
            "reason_required",
            "Tuliskan alasan penolakan.",
            "Give the reason for declining.",
        )]));
    }
    let consent = if to == ReferralStatus::Sent {
        let method = input
            .consent_method
            .as_deref()
            .filter(|m| !m.is_empty())
            .and_then(ConsentMethod::parse)
            .filter(|m| *m != ConsentMethod::Import);
        let Some(method) = method else {
            return Err(AppError::Validation(vec![FieldError::new(
                "consent_method",
                "consent_missing",
                format!(
                    "Catat persetujuan orang ini untuk membagikan datanya kepada {} sebelum rujukan dikirim.",
                    referral.agency_name
                ),
                format!(
                    "Record this person's consent to share their data with {} before sending.",
                    referral.agency_name
                ),
            )]));
        };
        let programme = store::programme(&state.db, referral.programme_id)
            .await?
            .ok_or_else(programme_unknown)?;
        if !programme.open_on(clock::today()) {
            return Err(closed(&programme));
        }
        Some(method.code())
    } else {
        None
    };
    let answer = (side == Side::Agency && !note.is_empty()).then_some(note.as_str());
    let m = Move {
        id,
        programme_id: referral.programme_id,
        from: referral.status,
        to,
        version: referral.version,
        note: &note,
        answer,
        consent_method: consent,
        actor_id: actor.user.id,
    };
    let mut fields = vec!["status".to_string()];
    if consent.is_some() {
        fields.push("consent".into());
    }
    let batch = audit::Batch::of(
        &state.db,
        Some(actor),
        None,
        Entry::new(audit_action(to), ENTITY, id)
            .fields(fields)
            .reason(note.clone()),
    )?;
    match store::move_referral(&state.db, &m, batch).await? {
        Ok(()) => {}
        Err(MoveRefused::Stale) => {
            let current = store::referral(&state.db, id)
                .await?
                .map_or(0, |r| r.version);
            return Err(AppError::VersionConflict { current });
        }
        Err(MoveRefused::Full) => {
            let programme = store::programme(&state.db, referral.programme_id)
                .await?
                .ok_or_else(programme_unknown)?;
            return Err(full(&programme));
        }
    }
    store::referral(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The audit action of a move to `to`.
fn audit_action(to: ReferralStatus) -> &'static str {
    use ReferralStatus::*;
    match to {
        Draft => "programme_referral.create",
        Sent => "programme_referral.send",
        Accepted => "programme_referral.accept",
        Declined => "programme_referral.decline",
        InProgress => "programme_referral.start",
        Completed => "programme_referral.complete",
        DidNotAttend => "programme_referral.no_show",
        Withdrawn => "programme_referral.withdraw",
    }
}

/// A person's referrals with their history (the officer sees what the agency said).
pub async fn referrals_of_person(
    state: &AppState,
    actor: &Actor,
    participant_id: i64,
) -> Result<Vec<(Referral, Vec<ReferralEvent>)>> {
    access::require(&state.db, actor, Action::ViewProgrammes).await?;
    crate::participants::require_in_scope(&state.db, actor, Action::ViewProgrammes, participant_id)
        .await?;
    let mut out = Vec::new();
    for r in store::referrals_of_participant(&state.db, participant_id).await? {
        let events = store::events_of(&state.db, r.id).await?;
        out.push((r, events));
    }
    Ok(out)
}

/// The agency of a signed-in agency user, or a refusal.
async fn own_agency(state: &AppState, actor: &Actor) -> Result<i64> {
    access::require(&state.db, actor, Action::AnswerReferral).await?;
    match store::agency_of_user(&state.db, actor.user.id).await? {
        Some(id) => Ok(id),
        None => deny(state, actor, Action::AnswerReferral, None).await,
    }
}

/// The referrals to the user's own agency (not drafts), newest change first.
pub async fn agency_referrals(state: &AppState, actor: &Actor) -> Result<Vec<Referral>> {
    let agency = own_agency(state, actor).await?;
    store::referrals_of_agency(&state.db, agency).await
}

/// The user's own agency's programmes, with their places.
pub async fn agency_programmes(state: &AppState, actor: &Actor) -> Result<Vec<Programme>> {
    let agency = own_agency(state, actor).await?;
    Ok(store::programmes(&state.db)
        .await?
        .into_iter()
        .filter(|p| p.agency_id == agency)
        .collect())
}

/// What an agency sees of a referred person: only the fields its programme needs.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SharedField {
    pub field: String,
    pub label: String,
    pub label_en: String,
    pub value: String,
}

/// One referral as the agency sees it; the read is audited.
pub async fn agency_referral(
    state: &AppState,
    actor: &Actor,
    id: i64,
) -> Result<(Referral, Vec<SharedField>, Vec<ReferralEvent>)> {
    let agency = own_agency(state, actor).await?;
    let referral = store::referral(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if referral.agency_id != agency || referral.status == ReferralStatus::Draft {
        return deny(state, actor, Action::AnswerReferral, Some(id)).await;
    }
    let programme = store::programme(&state.db, referral.programme_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let shared = shared_fields(state, &programme, referral.participant_id).await?;
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("programme_referral.view", ENTITY, id)
            .fields(shared.iter().map(|f| f.field.clone()).collect()),
    )
    .await?;
    let events = store::events_of(&state.db, id).await?;
    Ok((referral, shared, events))
}

async fn shared_fields(
    state: &AppState,
    programme: &Programme,
    participant_id: i64,
) -> Result<Vec<SharedField>> {
    use crate::participants::model::{Education, JobSector};
    let person = store::person_for_agency(&state.db, participant_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut out = Vec::new();
    let mut add = |field: &str, label: (&str, &str), value: String| {
        out.push(SharedField {
            field: field.into(),
            label: label.0.into(),
            label_en: label.1.into(),
            value,
        });
    };
    let dash = || "—".to_string();
    for need in &programme.needs {
        match need.as_str() {
            "name" => add("name", ("Nama", "Name"), person.full_name.clone()),
            "age" => add(
                "age",
                ("Usia", "Age"),
                crate::journey::age_on(person.birth_date, clock::today()).to_string(),
            ),
            "sex" => add(
                "sex",
                ("Jenis kelamin", "Sex"),
                if person.sex == "female" {
                    "Perempuan"
                } else {
                    "Laki-laki"
                }
                .into(),
            ),
            "region" => {
                let province = person
                    .province_code
                    .as_deref()
                    .and_then(nik::regions::province)
                    .map(|r| r.name);
                let regency = person
                    .regency_code
                    .as_deref()
                    .and_then(nik::regions::regency)
                    .map(|r| r.name);
                let value = [regency, province]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", ");
                add(
                    "region",
                    ("Domisili", "Residence"),
                    if value.is_empty() { dash() } else { value },
                );
            }
            "education" => add(
                "education",
                ("Pendidikan", "Education"),
                person
                    .education
                    .as_deref()
                    .and_then(Education::parse)
                    .map_or_else(dash, |e| e.labels().0.to_string()),
            ),
            "job_sector" => add(
                "job_sector",
                ("Pekerjaan di luar negeri", "Job abroad"),
                person
                    .job_sector
                    .as_deref()
                    .and_then(JobSector::parse)
                    .map_or_else(dash, |e| e.labels().0.to_string()),
            ),
            "return_date" => add(
                "return_date",
                ("Tanggal kepulangan", "Return date"),
                person.return_date.map_or_else(dash, crate::format::date),
            ),
            "phone" => {
                let phone = match &person.phone_enc {
                    Some(sealed) => state
                        .vault
                        .open(crate::vault::IndexKind::Phone, sealed)
                        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?,
                    None => dash(),
                };
                add("phone", ("Nomor HP", "Phone"), phone);
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Referrals waiting too long for the agency: (referral, days waiting, days allowed).
pub async fn overdue(state: &AppState, actor: &Actor) -> Result<Vec<(Referral, i64, i64)>> {
    access::require(&state.db, actor, Action::ViewProgrammes).await?;
    let offices: std::collections::HashMap<i64, i64> = crate::counters::counters(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.office_id))
        .collect();
    let now = Utc::now();
    let mut out = Vec::new();
    for (r, allowed) in store::open_referrals(&state.db).await? {
        let waited = (now - r.status_at).num_days();
        let limit = if r.status == ReferralStatus::Sent {
            allowed
        } else {
            allowed * 4
        };
        if waited <= limit {
            continue;
        }
        let visible = r.counter_id.and_then(|c| offices.get(&c).map(|o| (c, *o)));
        let reaches = match visible {
            Some((counter, office)) => access::reaches_counter(&actor.user, counter, office),
            None => access::participant_scope(&actor.user) == access::Scope::All,
        };
        if reaches {
            out.push((r, waited, limit));
        }
    }
    Ok(out)
}

/// Referral counts for the dashboard download.
pub async fn counts(state: &AppState, actor: &Actor) -> Result<Vec<store::CountRow>> {
    access::require(&state.db, actor, Action::ViewProgrammes).await?;
    store::counts(&state.db).await
}

/// Links a user to the agency they work for (the CLI and the demo).
pub async fn link_user_to_agency(
    db: &crate::db::Db,
    user_id: i64,
    agency_code: &str,
) -> Result<()> {
    let Some(agency) = store::agency_by_code(db, agency_code).await? else {
        return Err(AppError::field(
            "agency",
            "agency_unknown",
            "Kode lembaga tidak dikenal.",
            "Unknown agency code.",
        ));
    };
    store::set_agency_of_user(db, user_id, agency).await
}

/// A person's name for the page heading (the page's screening read is audited).
pub async fn person_name(state: &AppState, participant_id: i64) -> Result<String> {
    Ok(store::person_for_agency(&state.db, participant_id)
        .await?
        .ok_or(AppError::NotFound)?
        .full_name)
}

/// The person a referral is about.
pub async fn participant_of(state: &AppState, referral_id: i64) -> Result<i64> {
    Ok(store::referral(&state.db, referral_id)
        .await?
        .ok_or(AppError::NotFound)?
        .participant_id)
}
