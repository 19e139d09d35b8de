//! What the API, the pages and the CLI do with journeys: access policy, input checks, the
//! rules replay, the projection rewrite and the audit trail, applied once, here.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::funnel::{self, Tally};
use super::model::*;
use super::store::{
    self, Change, ContactRow, FunnelScope, NewContact, NewSession, Person, SessionRow,
};
use crate::access::{self, Action};
use crate::audit::{self, Actor, Entry, Outcome};
use crate::clock;
use crate::db::Db;
use crate::error::{AppError, FieldError, Result};
use crate::i18n::Lang;
use crate::participants::model::Phone;
use crate::state::AppState;
use crate::vault::IndexKind;

const ENTITY: &str = "participant";

/// Days without contact after which a person mid-journey is listed.
pub const QUIET_DAYS: i64 = 30;

/// The person, if the actor's role allows `action` and their scope reaches the person.
async fn reach(state: &AppState, actor: &Actor, id: i64, action: Action) -> Result<Person> {
    access::require_on(&state.db, actor, action, Some(id)).await?;
    let person = store::person(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let scope = access::participant_scope(&actor.user);
    if !crate::participants::store::visible(&state.db, id, scope).await? {
        audit::record(
            &state.db,
            Some(actor),
            None,
            Entry::new(action.audit_name(), ENTITY, id).outcome(Outcome::Denied),
        )
        .await?;
        return Err(AppError::Forbidden);
    }
    Ok(person)
}

/// Everything about one journey, loaded together.
pub struct Loaded {
    pub person: Person,
    pub rules: Rules,
    pub events: Vec<EventRow>,
    pub sessions: Vec<SessionRow>,
    pub contacts: Vec<ContactRow>,
    pub version: i64,
}

impl Loaded {
    async fn load(db: &Db, person: Person) -> Result<Loaded> {
        let id = person.id;
        Ok(Loaded {
            rules: store::rules(db).await?,
            events: store::events_of(db, id).await?,
            sessions: store::sessions_of(db, id).await?,
            contacts: store::contacts_of(db, id).await?,
            version: store::progress_version(db, id).await?,
            person,
        })
    }

    pub fn state(&self) -> Result<JourneyState> {
        replay(&self.events, &self.rules).map_err(|(id, r)| {
            AppError::Internal(anyhow::anyhow!(
                "stored journey of {} fails at event {id}: {}",
                self.person.id,
                r.code
            ))
        })
    }

    fn context(&self) -> Context {
        context_of(&self.person, &self.sessions, &self.contacts)
    }
}

/// The projection inputs that do not come from events.
pub fn context_of(person: &Person, sessions: &[SessionRow], contacts: &[ContactRow]) -> Context {
    let mut seen: Vec<(NaiveDate, i64)> = sessions
        .iter()
        .map(|s| (local_day(s.started_at), s.officer_id))
        .collect();
    seen.extend(
        contacts
            .iter()
            .filter(|c| ContactResult::parse(&c.result).is_some_and(ContactResult::reached))
            .map(|c| (local_day(c.at), c.officer_id)),
    );
    let next_follow_up = sessions
        .last()
        .and_then(|s| s.next_follow_up.map(|d| (d, local_day(s.started_at))));
    Context {
        counter_id: person.counter_id,
        office_id: person.office_id,
        province_code: person.province_code.clone(),
        contacts: seen,
        next_follow_up,
    }
}

fn refused(r: Refusal) -> AppError {
    AppError::Refused {
        code: r.code,
        message: r.message,
        message_en: r.message_en,
    }
}

/// An event as submitted by a form, the API or an import row.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct EventInput {
    /// Stage code, e.g. `accepted`, `training_bought`, `incentive_paid`, `survey_paid`.
    pub stage: String,
    /// When it happened (default: now). Or give `occurred_on` (a date).
    pub occurred_at: Option<DateTime<Utc>>,
    pub occurred_on: Option<NaiveDate>,
    /// Batch (gelombang) number, for `joined_batch`.
    pub batch: Option<i64>,
    /// Kartu Prakerja number (16 digits), for `accepted`.
    pub card_number: Option<String>,
    pub training_title: Option<String>,
    pub training_platform: Option<String>,
    /// Rupiah: the price of a training, or the amount of a payment (default: the scheme's).
    pub amount: Option<i64>,
    /// `bank` or `ewallet`.
    pub channel: Option<String>,
    /// For `payout_linked` with a bank: the account holder's NIK (checked, never stored).
    pub holder_nik: Option<String>,
    /// For `payout_linked` with an e-wallet: its phone (checked, never stored).
    pub ewallet_phone: Option<String>,
    /// Self-declared occupation for the eligibility check (`none`, `student`, …).
    pub occupation: Option<String>,
    pub detail: Option<String>,
    /// Admin only: record although the rules refuse, with this reason.
    pub override_reason: Option<String>,
    /// Proceed against eligibility advice, with this reason.
    pub eligibility_reason: Option<String>,
    /// The journey version the client saw; a stale one is a `version_conflict`.
    pub expected_version: Option<i64>,
}

fn clean(text: &Option<String>) -> Option<String> {
    text.as_ref()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

fn occurred(at: Option<DateTime<Utc>>, on: Option<NaiveDate>) -> Result<DateTime<Utc>> {
    let now = Utc::now();
    let at = match (at, on) {
        (Some(at), _) => at,
        (None, Some(day)) if day == clock::today() => now,
        // A date alone means midday at the counter, so it stays that day in WIB and UTC.
        (None, Some(day)) => day
            .and_hms_opt(12, 0, 0)
            .and_then(|t| t.and_local_timezone(clock::wib()).single())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now),
        (None, None) => now,
    };
    if at > now + Duration::minutes(10) {
        return Err(AppError::field(
            "occurred_at",
            "occurred_in_future",
            "Tanggal peristiwa tidak boleh di masa depan.",
            "The event cannot be in the future.",
        ));
    }
    Ok(at)
}

/// Placeholder id of an event not stored yet (sorts after every real id on the same time).
const CANDIDATE: i64 = i64::MAX;

/// Replays history with `candidate` in it; refuses with the rule's code.
fn check_with(loaded: &Loaded, events: Vec<EventRow>) -> Result<JourneyState> {
    replay(&events, &loaded.rules).map_err(|(id, r)| {
        if id == CANDIDATE {
            refused(r)
        } else {
            AppError::Refused {
                code: "breaks_later_event",
                message: format!(
                    "Perubahan ini membuat peristiwa #{id} yang sudah tercatat tidak sah: {}",
                    r.message
                ),
                message_en: format!(
                    "This change would make the recorded event #{id} invalid: {}",
                    r.message_en
                ),
            }
        }
    })
}

fn override_allowed(actor: &Actor, reason: &Option<String>) -> Result<()> {
    if clean(reason).is_some() && !access::allows(&actor.user, Action::OverrideJourney) {
        return Err(AppError::Refused {
            code: "override_not_allowed",
            message: "Hanya admin pusat yang boleh mencatat pengecualian aturan.".into(),
            message_en: "Only a head-office admin may override the journey rules.".into(),
        });
    }
    Ok(())
}

/// Checks the payout account against the participant's own NIK and phone (blind indexes).
fn payout_check(state: &AppState, person: &Person, input: &EventInput) -> Result<String> {
    let channel = input
        .channel
        .as_deref()
        .and_then(PayoutChannel::parse)
        .ok_or_else(|| {
            AppError::field(
                "channel",
                "channel_required",
                "Pilih jenis rekening: bank atau e-wallet.",
                "Choose the account type: bank or e-wallet.",
            )
        })?;
    match channel {
        PayoutChannel::Bank => {
            let nik = clean(&input.holder_nik).ok_or_else(|| {
                AppError::field(
                    "holder_nik",
                    "required",
                    "Isi NIK pemilik rekening.",
                    "Give the account holder's NIK.",
                )
            })?;
            let nik = nik::Nik::parse(&nik)
                .map_err(|e| AppError::Validation(vec![FieldError::from_nik("holder_nik", &e)]))?;
            let matches = state.vault.blind_index(IndexKind::Nik, nik.as_str()) == person.nik_index;
            if !matches && clean(&input.override_reason).is_none() {
                return Err(AppError::Refused {
                    code: "payout_holder_mismatch",
                    message: "Rekening harus atas NIK peserta sendiri; NIK pemilik rekening berbeda.".into(),
                    message_en: "The account must be in the participant's own NIK; the holder's NIK differs.".into(),
                });
            }
            Ok(if matches {
                "holder_nik=match"
            } else {
                "holder_nik=mismatch"
            }
            .into())
        }
        PayoutChannel::Ewallet => {
            let phone = clean(&input.ewallet_phone).ok_or_else(|| {
                AppError::field(
                    "ewallet_phone",
                    "required",
                    "Isi nomor HP e-wallet.",
                    "Give the e-wallet phone number.",
                )
            })?;
            let phone = Phone::parse(&phone).map_err(|mut e| {
                e.field = "ewallet_phone".into();
                AppError::Validation(vec![e])
            })?;
            let index = state.vault.blind_index(IndexKind::Phone, phone.as_str());
            let matches = person.phone_index.as_deref() == Some(index.as_slice());
            if !matches && clean(&input.override_reason).is_none() {
                return Err(AppError::Refused {
                    code: "payout_phone_mismatch",
                    message:
                        "Nomor HP e-wallet harus sama dengan nomor HP yang terdaftar di Prakerja."
                            .into(),
                    message_en: "The e-wallet phone must equal the phone registered with Prakerja."
                        .into(),
                });
            }
            Ok(if matches {
                "ewallet_phone=match"
            } else {
                "ewallet_phone=mismatch"
            }
            .into())
        }
    }
}

/// Eligibility advice for joining `batch`, with the facts from the database.
async fn advise(
    state: &AppState,
    person: &Person,
    loaded_state: &JourneyState,
    rules: &Rules,
    batch: &Batch,
    occupation: Option<Occupation>,
) -> Result<Vec<Advice>> {
    let Some(scheme) = rules.schemes.get(&batch.scheme_id) else {
        return Ok(Vec::new());
    };
    let kk_recipients = match &person.kk_index {
        Some(kk) => store::kk_recipients(&state.db, kk, person.id).await?,
        None => 0,
    };
    let facts = EligibilityFacts {
        birth_date: person.birth_date,
        occupation,
        kk_recipients,
        previous_recipient: loaded_state.accepted()
            || store::is_barred(&state.db, &person.nik_index).await?,
    };
    Ok(eligibility(&facts, batch, scheme))
}

fn parse_occupation(text: &Option<String>) -> Result<Option<Occupation>> {
    match clean(text) {
        None => Ok(None),
        Some(t) => Occupation::parse(&t).map(Some).ok_or_else(|| {
            AppError::field(
                "occupation",
                "occupation_unknown",
                format!("Pekerjaan tidak dikenal. Pilih: {}.", Occupation::codes()).as_str(),
                format!("Unknown occupation. Use one of: {}.", Occupation::codes()).as_str(),
            )
        }),
    }
}

fn batch_of(rules: &Rules, number: Option<i64>) -> Result<&Batch> {
    let number = number.ok_or_else(|| {
        AppError::field(
            "batch",
            "batch_required",
            "Pilih gelombang yang diikuti.",
            "Choose the batch joined.",
        )
    })?;
    rules.batch_by_number(number).ok_or_else(|| {
        AppError::field(
            "batch",
            "batch_unknown",
            "Gelombang ini belum terdaftar di loket.",
            "This batch is not known to loket.",
        )
    })
}

fn check_version(loaded: &Loaded, expected: Option<i64>) -> Result<()> {
    match expected {
        Some(v) if v != loaded.version => Err(AppError::VersionConflict {
            current: loaded.version,
        }),
        _ => Ok(()),
    }
}

/// Records one journey event after the rules, eligibility and payout checks.
pub async fn record_event(
    state: &AppState,
    actor: &Actor,
    participant_id: i64,
    input: &EventInput,
    source: Source,
) -> Result<i64> {
    let person = reach(state, actor, participant_id, Action::RecordJourney).await?;
    override_allowed(actor, &input.override_reason)?;
    let loaded = Loaded::load(&state.db, person).await?;
    check_version(&loaded, input.expected_version)?;
    let current = loaded.state()?;
    let stage = Stage::parse(&input.stage).ok_or_else(|| {
        AppError::field(
            "stage",
            "stage_unknown",
            format!("Tahap tidak dikenal. Pilih: {}.", Stage::codes()).as_str(),
            format!("Unknown stage. Use one of: {}.", Stage::codes()).as_str(),
        )
    })?;
    let mut event = NewEvent {
        participant_id,
        stage: stage.code().to_string(),
        occurred_at: occurred(input.occurred_at, input.occurred_on)?,
        recorded_at: Utc::now(),
        source: source.code().to_string(),
        actor_id: Some(actor.user.id),
        counter_id: actor.user.counter_id,
        card_number: clean(&input.card_number),
        training_title: clean(&input.training_title),
        training_platform: clean(&input.training_platform),
        amount: input.amount,
        channel: clean(&input.channel),
        detail: clean(&input.detail),
        override_reason: clean(&input.override_reason),
        eligibility_reason: clean(&input.eligibility_reason),
        ..Default::default()
    };
    let mut bar = None;
    match stage {
        Stage::JoinedBatch => {
            let batch = batch_of(&loaded.rules, input.batch)?.clone();
            event.batch_id = Some(batch.id);
            if store::is_barred(&state.db, &loaded.person.nik_index).await? {
                return Err(AppError::Refused {
                    code: "nik_barred",
                    message:
                        "NIK ini sudah dicabut kepesertaannya dan tidak bisa ikut gelombang lagi."
                            .into(),
                    message_en: "This NIK was revoked and cannot join another batch.".into(),
                });
            }
            let occupation = parse_occupation(&input.occupation)?;
            let advice = advise(
                state,
                &loaded.person,
                &current,
                &loaded.rules,
                &batch,
                occupation,
            )
            .await?;
            if !advice.is_empty() {
                if event.eligibility_reason.is_none() {
                    let (id, en): (Vec<_>, Vec<_>) = advice
                        .iter()
                        .map(|a| (a.message.clone(), a.message_en.clone()))
                        .unzip();
                    return Err(AppError::Refused {
                        code: "eligibility_against",
                        message: format!(
                            "Menurut pemeriksaan kelayakan: {} Lanjutkan hanya dengan alasan yang dicatat.",
                            id.join(" ")
                        ),
                        message_en: format!(
                            "The eligibility check advises against: {} Proceed only with a recorded reason.",
                            en.join(" ")
                        ),
                    });
                }
                let codes: Vec<&str> = advice.iter().map(|a| a.code.as_str()).collect();
                event.detail = Some(format!("eligibility_against={}", codes.join(",")));
            }
        }
        Stage::Accepted => {
            if let Some(card) = &event.card_number {
                let digits: String = card.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
                if digits.len() != 16 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(AppError::field(
                        "card_number",
                        "card_number_invalid",
                        "Nomor Kartu Prakerja harus 16 digit.",
                        "The Kartu Prakerja number must be 16 digits.",
                    ));
                }
                event.card_number = Some(digits);
            }
        }
        Stage::PayoutLinked => {
            let check = payout_check(state, &loaded.person, input)?;
            event.detail = Some(check);
            event.channel = input
                .channel
                .as_deref()
                .and_then(PayoutChannel::parse)
                .map(|c| c.code().to_string());
        }
        Stage::TrainingBought if event.training_title.is_none() => {
            return Err(AppError::field(
                "training_title",
                "required",
                "Isi judul pelatihan yang dibeli.",
                "Give the title of the training bought.",
            ));
        }
        Stage::IncentivePaid | Stage::SurveyPaid => {
            if let Some(scheme) = &current.scheme {
                let default = if stage == Stage::IncentivePaid {
                    scheme.incentive_amount
                } else {
                    scheme.survey_amount
                };
                event.amount = Some(event.amount.unwrap_or(default));
            }
            event.channel = event.channel.or(current.payout_channel.clone());
        }
        Stage::Revoked => bar = Some(loaded.person.nik_index.clone()),
        _ => {}
    }
    if matches!(event.amount, Some(a) if a < 0) {
        return Err(AppError::field(
            "amount",
            "amount_negative",
            "Jumlah rupiah tidak boleh negatif.",
            "The amount cannot be negative.",
        ));
    }
    let mut events = loaded.events.clone();
    events.push(event.stored(CANDIDATE));
    let next = check_with(&loaded, events)?;
    let progress = project(participant_id, &next, &loaded.context());
    let change = Change::Event {
        event: &event,
        bar_nik_index: bar.as_deref(),
    };
    let id = store::write(&state.db, change, &progress, loaded.version).await?;
    let mut entry = Entry::new("journey.event", ENTITY, participant_id).fields(vec![
        format!("stage={}", stage.code()),
        format!("event={id}"),
    ]);
    if let Some(reason) = event
        .override_reason
        .clone()
        .or(event.eligibility_reason.clone())
    {
        entry = entry.reason(reason);
    }
    audit::record(&state.db, Some(actor), None, entry).await?;
    Ok(id)
}

/// A correction of a recorded event: new values, or `void` to take it back.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct CorrectionInput {
    /// Take the event back entirely.
    pub void: bool,
    pub occurred_at: Option<DateTime<Utc>>,
    pub occurred_on: Option<NaiveDate>,
    pub batch: Option<i64>,
    pub card_number: Option<String>,
    pub training_title: Option<String>,
    pub training_platform: Option<String>,
    pub amount: Option<i64>,
    pub channel: Option<String>,
    pub detail: Option<String>,
    /// Why the record was wrong (required).
    pub reason: String,
    /// Admin only: keep the correction although the rules refuse it.
    pub override_reason: Option<String>,
    pub expected_version: Option<i64>,
}

/// Corrects an event by appending a correcting one; history is never deleted.
pub async fn correct_event(
    state: &AppState,
    actor: &Actor,
    participant_id: i64,
    event_id: i64,
    input: &CorrectionInput,
) -> Result<i64> {
    let person = reach(state, actor, participant_id, Action::RecordJourney).await?;
    override_allowed(actor, &input.override_reason)?;
    let reason = clean(&Some(input.reason.clone())).ok_or_else(|| {
        AppError::field(
            "reason",
            "reason_required",
            "Tuliskan alasan koreksi.",
            "Say why the record is corrected.",
        )
    })?;
    let loaded = Loaded::load(&state.db, person).await?;
    check_version(&loaded, input.expected_version)?;
    let in_force = effective(&loaded.events);
    let Some(original) = in_force.iter().find(|e| e.id == event_id) else {
        return Err(AppError::Refused {
            code: "correction_target_invalid",
            message: "Peristiwa ini tidak ada atau sudah dikoreksi.".into(),
            message_en: "This event does not exist or was already corrected.".into(),
        });
    };
    if original.stage == Stage::Revoked.code()
        && !access::allows(&actor.user, Action::OverrideJourney)
    {
        return Err(AppError::Refused {
            code: "override_not_allowed",
            message: "Pencabutan bersifat final; hanya admin pusat yang boleh mengoreksinya."
                .into(),
            message_en: "A revocation is final; only a head-office admin may correct it.".into(),
        });
    }
    let batch_id = match input.batch {
        Some(n) => Some(batch_of(&loaded.rules, Some(n))?.id),
        None => original.batch_id,
    };
    let occurred_at = if input.occurred_at.is_some() || input.occurred_on.is_some() {
        occurred(input.occurred_at, input.occurred_on)?
    } else {
        original.occurred_at
    };
    let event = NewEvent {
        participant_id,
        stage: original.stage.clone(),
        occurred_at,
        recorded_at: Utc::now(),
        source: Source::Counter.code().to_string(),
        actor_id: Some(actor.user.id),
        counter_id: actor.user.counter_id,
        batch_id,
        card_number: clean(&input.card_number).or(original.card_number.clone()),
        training_title: clean(&input.training_title).or(original.training_title.clone()),
        training_platform: clean(&input.training_platform).or(original.training_platform.clone()),
        amount: input.amount.or(original.amount),
        channel: clean(&input.channel).or(original.channel.clone()),
        detail: clean(&input.detail).or(original.detail.clone()),
        correction_of: Some(event_id),
        voids: input.void,
        override_reason: clean(&input.override_reason).or(original.override_reason.clone()),
        eligibility_reason: original.eligibility_reason.clone(),
        correction_reason: Some(reason.clone()),
    };
    let mut events = loaded.events.clone();
    events.push(event.stored(CANDIDATE));
    let next = check_with(&loaded, events)?;
    let progress = project(participant_id, &next, &loaded.context());
    let change = Change::Event {
        event: &event,
        bar_nik_index: None,
    };
    let id = store::write(&state.db, change, &progress, loaded.version).await?;
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("journey.correct", ENTITY, participant_id)
            .fields(vec![
                format!("event={event_id}"),
                format!("correction={id}"),
            ])
            .reason(reason),
    )
    .await?;
    Ok(id)
}

/// An assistance session (pendampingan).
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct SessionInput {
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// For forms: the day and the length in minutes instead of start and end.
    pub on: Option<NaiveDate>,
    pub minutes: Option<i64>,
    /// `walk_in`, `phone`, `whatsapp`, `home_visit`, `outreach`.
    pub channel: String,
    /// Checklist codes: `email_account`, `prakerja_account`, `ktp_kk_data`, `otp`, `basic_test`,
    /// `join_batch`, `link_payout`, `choose_training`, `redeem_voucher`, `finish_training`,
    /// `rating`, `check_incentive`.
    pub steps: Vec<String>,
    /// `done`, `partly`, `blocked`, `referred`.
    pub outcome: String,
    pub next_follow_up: Option<NaiveDate>,
    pub notes: Option<String>,
    pub expected_version: Option<i64>,
}

/// Who may record an assistance session: the one place for that rule. The role and the scope
/// decide first; then only an officer whose ToT certificate is valid today may record one.
pub async fn may_record_session(
    state: &AppState,
    actor: &Actor,
    participant_id: i64,
) -> Result<Person> {
    let person = reach(state, actor, participant_id, Action::RecordSession).await?;
    if !crate::counters::officer_is_certified(&state.db, actor.user.id, crate::clock::today())
        .await?
    {
        return Err(AppError::Validation(vec![FieldError::new(
            "officer",
            "officer_not_certified",
            "Hanya petugas bersertifikat ToT yang masih berlaku yang dapat mencatat pendampingan.",
            "Only an officer with a valid ToT certificate may record an assistance session.",
        )]));
    }
    Ok(person)
}

fn parse_session(input: &SessionInput) -> Result<(NewSession, Vec<Step>)> {
    let mut errors = Vec::new();
    let channel = SessionChannel::parse(&input.channel);
    if channel.is_none() {
        errors.push(FieldError::new(
            "channel",
            "channel_unknown",
            format!("Pilih cara pendampingan: {}.", SessionChannel::codes()),
            format!(
                "Choose how the person was assisted: {}.",
                SessionChannel::codes()
            ),
        ));
    }
    let outcome = SessionOutcome::parse(&input.outcome);
    if outcome.is_none() {
        errors.push(FieldError::new(
            "outcome",
            "outcome_unknown",
            format!("Pilih hasil sesi: {}.", SessionOutcome::codes()),
            format!("Choose the outcome: {}.", SessionOutcome::codes()),
        ));
    }
    let mut steps = Vec::new();
    for code in input.steps.iter().filter(|s| !s.trim().is_empty()) {
        match Step::parse(code) {
            Some(step) if !steps.contains(&step) => steps.push(step),
            Some(_) => {}
            None => errors.push(FieldError::new(
                "steps",
                "step_unknown",
                format!("Langkah tidak dikenal: {code}."),
                format!("Unknown step: {code}."),
            )),
        }
    }
    let now = Utc::now();
    let length = Duration::minutes(input.minutes.unwrap_or(30).clamp(1, 600));
    let started = input
        .started_at
        .or_else(|| (input.on == Some(clock::today())).then(|| now - length))
        .or_else(|| {
            input
                .on
                .and_then(|d| d.and_hms_opt(9, 0, 0))
                .and_then(|t| t.and_local_timezone(clock::wib()).single())
                .map(|t| t.with_timezone(&Utc))
        })
        .unwrap_or(now);
    let ended = input.ended_at.unwrap_or(started + length);
    if ended < started {
        errors.push(FieldError::new(
            "ended_at",
            "session_ends_before_start",
            "Waktu selesai sebelum waktu mulai.",
            "The session ends before it starts.",
        ));
    }
    if started > now + Duration::minutes(10) {
        errors.push(FieldError::new(
            "started_at",
            "occurred_in_future",
            "Sesi tidak boleh di masa depan.",
            "The session cannot be in the future.",
        ));
    }
    if let Some(next) = input.next_follow_up {
        if next < local_day(started) {
            errors.push(FieldError::new(
                "next_follow_up",
                "follow_up_in_past",
                "Tanggal tindak lanjut harus sesudah sesi.",
                "The follow-up date must come after the session.",
            ));
        }
    }
    match (channel, outcome, errors.is_empty()) {
        (Some(channel), Some(outcome), true) => Ok((
            NewSession {
                participant_id: 0,
                officer_id: 0,
                counter_id: None,
                started_at: started,
                ended_at: ended,
                channel: channel.code().to_string(),
                steps: steps.iter().map(|s| s.code()).collect::<Vec<_>>().join(","),
                outcome: outcome.code().to_string(),
                next_follow_up: input.next_follow_up,
                notes: clean(&input.notes),
            },
            steps,
        )),
        _ => Err(AppError::Validation(errors)),
    }
}

pub async fn record_session(
    state: &AppState,
    actor: &Actor,
    participant_id: i64,
    input: &SessionInput,
) -> Result<i64> {
    let person = may_record_session(state, actor, participant_id).await?;
    let (mut session, _) = parse_session(input)?;
    session.participant_id = participant_id;
    session.officer_id = actor.user.id;
    session.counter_id = actor.user.counter_id;
    let loaded = Loaded::load(&state.db, person).await?;
    check_version(&loaded, input.expected_version)?;
    let journey = loaded.state()?;
    let mut sessions = loaded.sessions.clone();
    sessions.push(SessionRow {
        id: CANDIDATE,
        participant_id,
        officer_id: session.officer_id,
        counter_id: session.counter_id,
        started_at: session.started_at,
        ended_at: session.ended_at,
        channel: session.channel.clone(),
        steps: session.steps.clone(),
        outcome: session.outcome.clone(),
        next_follow_up: session.next_follow_up,
        notes: session.notes.clone(),
        recorded_at: Utc::now(),
    });
    let ctx = context_of(&loaded.person, &sessions, &loaded.contacts);
    let progress = project(participant_id, &journey, &ctx);
    let id = store::write(
        &state.db,
        Change::Session(&session),
        &progress,
        loaded.version,
    )
    .await?;
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("journey.session", ENTITY, participant_id).fields(vec![format!("session={id}")]),
    )
    .await?;
    Ok(id)
}

/// A contact attempt from the follow-up list.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct ContactInput {
    /// `phone`, `whatsapp`, `home_visit`, …
    pub channel: String,
    /// `reached`, `will_come`, `no_answer`, `wrong_number`.
    pub result: String,
    pub note: Option<String>,
    pub at: Option<DateTime<Utc>>,
}

pub async fn log_contact(
    state: &AppState,
    actor: &Actor,
    participant_id: i64,
    input: &ContactInput,
) -> Result<i64> {
    let person = reach(state, actor, participant_id, Action::RecordSession).await?;
    let channel = SessionChannel::parse(&input.channel);
    let result = ContactResult::parse(&input.result);
    let mut errors = Vec::new();
    if channel.is_none() {
        errors.push(FieldError::new(
            "channel",
            "channel_unknown",
            format!("Pilih cara menghubungi: {}.", SessionChannel::codes()),
            format!("Choose how contact was tried: {}.", SessionChannel::codes()),
        ));
    }
    if result.is_none() {
        errors.push(FieldError::new(
            "result",
            "result_unknown",
            format!("Pilih hasilnya: {}.", ContactResult::codes()),
            format!("Choose the result: {}.", ContactResult::codes()),
        ));
    }
    let (Some(channel), Some(result)) = (channel, result) else {
        return Err(AppError::Validation(errors));
    };
    let at = occurred(input.at, None)?;
    let contact = NewContact {
        participant_id,
        officer_id: actor.user.id,
        counter_id: actor.user.counter_id,
        at,
        channel: channel.code().to_string(),
        result: result.code().to_string(),
        note: clean(&input.note),
    };
    let loaded = Loaded::load(&state.db, person).await?;
    let journey = loaded.state()?;
    let mut contacts = loaded.contacts.clone();
    contacts.push(ContactRow {
        id: CANDIDATE,
        participant_id,
        officer_id: contact.officer_id,
        counter_id: contact.counter_id,
        at,
        channel: contact.channel.clone(),
        result: contact.result.clone(),
        note: contact.note.clone(),
    });
    let ctx = context_of(&loaded.person, &loaded.sessions, &contacts);
    let progress = project(participant_id, &journey, &ctx);
    let id = store::write(
        &state.db,
        Change::Contact(&contact),
        &progress,
        loaded.version,
    )
    .await?;
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("journey.contact", ENTITY, participant_id)
            .fields(vec![format!("result={}", result.code())]),
    )
    .await?;
    Ok(id)
}

/// The eligibility advice for joining a batch, without recording anything.
pub async fn eligibility_advice(
    state: &AppState,
    actor: &Actor,
    participant_id: i64,
    batch: i64,
    occupation: &Option<String>,
) -> Result<Vec<Advice>> {
    let person = reach(state, actor, participant_id, Action::ViewJourney).await?;
    let occupation = parse_occupation(occupation)?;
    let loaded = Loaded::load(&state.db, person).await?;
    let batch = batch_of(&loaded.rules, Some(batch))?.clone();
    let journey = loaded.state()?;
    let advice = advise(
        state,
        &loaded.person,
        &journey,
        &loaded.rules,
        &batch,
        occupation,
    )
    .await?;
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("journey.eligibility", ENTITY, participant_id),
    )
    .await?;
    Ok(advice)
}

/// One journey for reading: loaded, replayed, and its view audited.
pub async fn view(
    state: &AppState,
    actor: &Actor,
    participant_id: i64,
) -> Result<(Loaded, JourneyState)> {
    let person = reach(state, actor, participant_id, Action::ViewJourney).await?;
    let loaded = Loaded::load(&state.db, person).await?;
    let journey = loaded.state()?;
    audit::record(
        &state.db,
        Some(actor),
        None,
        Entry::new("journey.view", ENTITY, participant_id),
    )
    .await?;
    Ok((loaded, journey))
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
            let stage = Stage::parse(&row.stage).unwrap_or(Stage::NotRegistered);
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

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FunnelStep {
    pub stage: String,
    pub label: String,
    pub reached: i64,
    /// Share of the previous stage's people who reached this one (0–1).
    pub conversion: Option<f64>,
    /// Median days from reaching this stage to reaching the next one.
    pub median_days_to_next: Option<i64>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Funnel {
    pub scope: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// People whose journey started in the date range.
    pub cohort: i64,
    pub steps: Vec<FunnelStep>,
    pub not_accepted: i64,
    pub revoked: i64,
    pub withdrawn: i64,
}

/// The median of a (value, count) histogram.
pub fn histogram_median(mut pairs: Vec<(i64, i64)>) -> Option<i64> {
    let total: i64 = pairs.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    pairs.sort_unstable();
    let middle = (total + 1) / 2;
    let mut seen = 0;
    for (value, n) in pairs {
        seen += n;
        if seen >= middle {
            return Some(value);
        }
    }
    None
}

/// The funnel for a scope the actor may see.
pub async fn funnel(
    state: &AppState,
    actor: &Actor,
    scope: FunnelScope,
    from: NaiveDate,
    to: NaiveDate,
    lang: Lang,
) -> Result<Funnel> {
    access::require(&state.db, actor, Action::ViewFunnel).await?;
    let allowed = match (&scope, access::participant_scope(&actor.user)) {
        (_, crate::access::Scope::All) => true,
        (FunnelScope::Counter(c), crate::access::Scope::Counter(mine)) => *c == mine,
        (FunnelScope::Counter(c), crate::access::Scope::Office(office)) => {
            crate::counters::office_of(&state.db, *c).await? == Some(office)
        }
        (FunnelScope::Office(o), crate::access::Scope::Office(mine)) => *o == mine,
        _ => false,
    };
    if !allowed {
        return Err(AppError::Forbidden);
    }
    funnel_figures(&state.db, &scope, from, to, lang).await
}

/// The funnel's figures, without the access check (the benchmark calls this). Whole started
/// months come from the roll-up; a month the range covers in part is counted from its
/// projection rows, or as the roll-up's month less the days outside the range, whichever reads
/// fewer rows. The result equals [`funnel_figures_direct`].
pub async fn funnel_figures(
    db: &Db,
    scope: &FunnelScope,
    from: NaiveDate,
    to: NaiveDate,
    lang: Lang,
) -> Result<Funnel> {
    let plan = funnel::plan(day_number(from), day_number(to));
    let mut tally = Tally::default();
    if let Some((first, last)) = plan.whole {
        tally.add(&store::rollup_tally(db, scope, first, last).await?, 1);
    }
    for edge in &plan.edges {
        if inside_is_smaller(db, edge).await? {
            let part = store::direct_tally(db, scope, edge.inside.0, edge.inside.1).await?;
            tally.add(&part, 1);
        } else {
            let month = store::rollup_tally(db, scope, edge.month, edge.month).await?;
            tally.add(&month, 1);
            for (a, b) in &edge.outside {
                tally.add(&store::direct_tally(db, scope, *a, *b).await?, -1);
            }
        }
    }
    Ok(funnel_of(scope, from, to, &tally, lang))
}

/// Whether an edge month has fewer rows inside the range than outside it, found with counts
/// capped ten times higher each round, so the probe reads about as many rows as the smaller side.
async fn inside_is_smaller(db: &Db, edge: &funnel::Edge) -> Result<bool> {
    let mut cap = 1000;
    loop {
        let inside = store::started_between(db, edge.inside.0, edge.inside.1, cap).await?;
        let mut outside = 0;
        for (a, b) in &edge.outside {
            outside += store::started_between(db, *a, *b, cap).await?;
        }
        if inside < cap || outside < cap {
            return Ok(inside <= outside);
        }
        cap *= 10;
    }
}

/// The funnel counted straight from the projection rows: the reference the roll-up must equal.
pub async fn funnel_figures_direct(
    db: &Db,
    scope: &FunnelScope,
    from: NaiveDate,
    to: NaiveDate,
    lang: Lang,
) -> Result<Funnel> {
    let (a, b) = (day_number(from), day_number(to));
    let counts = store::funnel_counts(db, scope, a, b).await?;
    let mut tally = Tally {
        cohort: counts.first().copied().unwrap_or(0),
        reached: counts.iter().skip(1).copied().collect(),
        ..Tally::default()
    };
    for (i, pair) in FUNNEL.windows(2).enumerate() {
        let bars = store::dwell_histogram(db, scope, a, b, pair[0], pair[1]).await?;
        if let Some(step) = tally.dwell.get_mut(i) {
            step.extend(bars);
        }
    }
    Ok(funnel_of(scope, from, to, &tally, lang))
}

fn funnel_of(
    scope: &FunnelScope,
    from: NaiveDate,
    to: NaiveDate,
    tally: &Tally,
    lang: Lang,
) -> Funnel {
    let mut steps = Vec::new();
    for (i, stage) in FUNNEL.iter().enumerate() {
        let bars = tally.dwell.get(i).map(|bars| {
            bars.iter()
                .filter(|(_, people)| **people > 0)
                .map(|(days, people)| (*days, *people))
                .collect()
        });
        let now = tally.reached_of(*stage);
        let before = i.checked_sub(1).map(|j| tally.reached_of(FUNNEL[j]));
        steps.push(FunnelStep {
            stage: stage.code().to_string(),
            label: stage.label(lang).to_string(),
            reached: now,
            conversion: before.filter(|b| *b > 0).map(|b| now as f64 / b as f64),
            median_days_to_next: bars.and_then(histogram_median),
        });
    }
    Funnel {
        scope: scope.key(),
        from,
        to,
        cohort: tally.cohort,
        steps,
        not_accepted: tally.reached_of(Stage::NotAccepted),
        revoked: tally.reached_of(Stage::Revoked),
        withdrawn: tally.reached_of(Stage::Withdrawn),
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

/// Recomputes every projection row from the events (after a restore or a rules change).
pub async fn rebuild(db: &Db, mut progress: impl FnMut(usize)) -> Result<usize> {
    let rules = store::rules(db).await?;
    let mut after = 0;
    let mut done = 0;
    loop {
        let ids = store::participant_ids(db, after, 500).await?;
        let Some(last) = ids.last() else { break };
        after = *last;
        for id in &ids {
            let Some(person) = store::person(db, *id).await? else {
                continue;
            };
            let events = store::events_of(db, *id).await?;
            if events.is_empty() {
                continue;
            }
            let sessions = store::sessions_of(db, *id).await?;
            let contacts = store::contacts_of(db, *id).await?;
            // History recorded with an override replays as it was accepted then.
            let journey = replay(&events, &rules).map_err(|(e, r)| {
                AppError::Internal(anyhow::anyhow!(
                    "participant {id}: event {e} fails the rules ({})",
                    r.code
                ))
            })?;
            let row = project(*id, &journey, &context_of(&person, &sessions, &contacts));
            store::put_progress(db, &row).await?;
            done += 1;
        }
        progress(ids.len());
    }
    // The triggers kept the roll-up in step row by row; refilling it also repairs one that
    // was restored apart from the projection.
    store::refill_rollup(db).await?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_median_is_the_middle_person() {
        assert_eq!(histogram_median(vec![]), None);
        assert_eq!(histogram_median(vec![(5, 1)]), Some(5));
        assert_eq!(histogram_median(vec![(10, 1), (1, 1), (3, 1)]), Some(3));
        assert_eq!(histogram_median(vec![(2, 10), (30, 9)]), Some(2));
        assert_eq!(histogram_median(vec![(2, 9), (30, 10)]), Some(30));
    }

    #[test]
    fn a_session_needs_a_channel_an_outcome_and_known_steps() {
        let err = parse_session(&SessionInput {
            steps: vec!["otp".into(), "fly".into()],
            ..Default::default()
        })
        .unwrap_err();
        let codes: Vec<_> = err.field_errors().iter().map(|f| f.code.as_str()).collect();
        assert_eq!(
            codes,
            ["channel_unknown", "outcome_unknown", "step_unknown"]
        );
        let (session, steps) = parse_session(&SessionInput {
            channel: "whatsapp".into(),
            outcome: "done".into(),
            steps: vec!["otp".into(), "otp".into(), "basic_test".into()],
            ..Default::default()
        })
        .unwrap();
        assert_eq!(steps.len(), 2);
        assert_eq!(session.steps, "otp,basic_test");
    }
}
