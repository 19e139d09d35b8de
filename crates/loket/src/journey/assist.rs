//! Assistance sessions (pendampingan) and contact attempts: their closed lists, the input
//! checks, and recording them with the projection rewritten.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::calendar::local_day;
use super::projection::{context_of, project, Context};
use super::service::check_version;
use super::service::{clean, occurred, reach, Loaded, CANDIDATE, ENTITY};
use super::store::{self, Change, ContactRow, NewContact, NewSession, Person, SessionRow};
use crate::access::Action;
use crate::audit::{self, Entry};
use crate::clock;
use crate::code_enum;
use crate::error::{AppError, FieldError, Result};
use crate::identity::Actor;
use crate::state::AppState;

code_enum! {
    pub enum SessionChannel {
        WalkIn => ("walk_in", "Datang ke loket", "Walk-in"),
        Phone => ("phone", "Telepon", "Phone"),
        Whatsapp => ("whatsapp", "WhatsApp", "WhatsApp"),
        HomeVisit => ("home_visit", "Kunjungan rumah", "Home visit"),
        Outreach => ("outreach", "Kegiatan jemput bola (debarkasi, karantina)", "Outreach event (arrival, quarantine site)"),
    }
}

code_enum! {
    /// The checklist of steps an officer helps with in a session.
    pub enum Step {
        EmailAccount => ("email_account", "Membuat email", "Email account"),
        PrakerjaAccount => ("prakerja_account", "Akun Prakerja", "Prakerja account"),
        KtpKkData => ("ktp_kk_data", "Data KTP/KK", "ID and family card data"),
        Otp => ("otp", "Kode OTP", "OTP code"),
        BasicTest => ("basic_test", "Tes kemampuan dasar", "Basic test"),
        JoinBatch => ("join_batch", "Gabung gelombang", "Joining a batch"),
        LinkPayout => ("link_payout", "Sambung rekening/e-wallet", "Linking bank/e-wallet"),
        ChooseTraining => ("choose_training", "Memilih pelatihan", "Choosing training"),
        RedeemVoucher => ("redeem_voucher", "Menukar voucher", "Redeeming the voucher"),
        FinishTraining => ("finish_training", "Menyelesaikan pelatihan", "Finishing training"),
        Rating => ("rating", "Ulasan dan rating", "Rating"),
        CheckIncentive => ("check_incentive", "Cek insentif", "Checking incentives"),
    }
}

code_enum! {
    pub enum SessionOutcome {
        Done => ("done", "Langkah selesai", "Step done"),
        Partly => ("partly", "Sebagian selesai", "Partly done"),
        Blocked => ("blocked", "Terkendala", "Blocked"),
        Referred => ("referred", "Dirujuk ke pihak lain", "Referred elsewhere"),
    }
}

code_enum! {
    pub enum ContactResult {
        Reached => ("reached", "Terhubung", "Reached"),
        WillCome => ("will_come", "Akan datang ke loket", "Will come to the counter"),
        NoAnswer => ("no_answer", "Tidak diangkat/dibalas", "No answer"),
        WrongNumber => ("wrong_number", "Nomor salah/tidak aktif", "Wrong or inactive number"),
    }
}

impl ContactResult {
    /// Whether the person was actually reached (resets "no contact for 30 days").
    pub fn reached(self) -> bool {
        matches!(self, ContactResult::Reached | ContactResult::WillCome)
    }
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
    #[schema(value_type = SessionChannel)]
    pub channel: String,
    /// Checklist codes: `email_account`, `prakerja_account`, `ktp_kk_data`, `otp`, `basic_test`,
    /// `join_batch`, `link_payout`, `choose_training`, `redeem_voucher`, `finish_training`,
    /// `rating`, `check_incentive`.
    #[schema(value_type = Vec<Step>)]
    pub steps: Vec<String>,
    #[schema(value_type = SessionOutcome)]
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
                channel,
                steps: steps.iter().map(|s| s.code()).collect::<Vec<_>>().join(","),
                outcome,
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
    let mut sessions = loaded.sessions.clone();
    sessions.push(SessionRow {
        id: CANDIDATE,
        session: session.clone(),
        recorded_at: Utc::now(),
    });
    let ctx = context_of(&loaded.person, &sessions, &loaded.contacts);
    write_audited(
        state,
        actor,
        &loaded,
        &ctx,
        Change::Session(&session),
        |id| {
            Entry::new("journey.session", ENTITY, participant_id)
                .fields(vec![format!("session={id}")])
        },
    )
    .await
}

/// Writes a session or a contact with the projection rewritten from `ctx` (which already holds
/// it), then audits it with the entry `entry` makes from the new row's id.
async fn write_audited(
    state: &AppState,
    actor: &Actor,
    loaded: &Loaded,
    ctx: &Context,
    change: Change<'_>,
    entry: impl FnOnce(i64) -> Entry + Send,
) -> Result<i64> {
    let journey = loaded.state()?;
    let progress = project(loaded.person.id, &journey, ctx);
    let mut batch = audit::Batch::new(&state.db)?;
    let audited = |id| {
        batch.add(Some(actor), None, entry(id));
        batch
    };
    store::write(&state.db, change, &progress, loaded.version, audited).await
}

/// A contact attempt from the follow-up list.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct ContactInput {
    #[schema(value_type = SessionChannel)]
    pub channel: String,
    #[schema(value_type = ContactResult)]
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
        channel,
        result,
        note: clean(&input.note),
    };
    let loaded = Loaded::load(&state.db, person).await?;
    let mut contacts = loaded.contacts.clone();
    contacts.push(ContactRow {
        id: CANDIDATE,
        contact: contact.clone(),
    });
    let ctx = context_of(&loaded.person, &loaded.sessions, &contacts);
    write_audited(
        state,
        actor,
        &loaded,
        &ctx,
        Change::Contact(&contact),
        |_| {
            Entry::new("journey.contact", ENTITY, participant_id)
                .fields(vec![format!("result={}", result.code())])
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

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
