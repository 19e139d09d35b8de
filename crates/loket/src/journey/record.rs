//! Recording an event and correcting one: input checks, eligibility and payout checks, the
//! rules replay with the candidate in place, then the event, the projection and the audit.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::eligibility::{advise, parse_occupation};
use super::event::{effective, EventFields, EventRow, NewEvent};
use super::machine::{replay, JourneyState};
use super::projection::project;
use super::scheme::{Batch, Rules};
use super::service::{check_version, clean, occurred, reach, refused, Loaded, CANDIDATE, ENTITY};
use super::stage::{PayoutChannel, Source, Stage};
use super::store::{self, Change, Person};
use crate::access::{self, Action};
use crate::audit::{self, Entry};
use crate::error::{AppError, FieldError, Result};
use crate::identity::Actor;
use crate::participants::model::Phone;
use crate::state::AppState;
use crate::vault::IndexKind;

/// An event as submitted by a form, the API or an import row.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct EventInput {
    /// Stage code, e.g. `accepted`, `training_bought`, `incentive_paid`, `survey_paid`.
    #[schema(value_type = Stage)]
    pub stage: String,
    /// When it happened (default: now). Or give `occurred_on` (a date).
    pub occurred_at: Option<DateTime<Utc>>,
    pub occurred_on: Option<NaiveDate>,
    /// Batch (gelombang) number, for `joined_batch`.
    pub batch: Option<i64>,
    /// The event's facts: card number, training, amount, channel, detail, override reason.
    #[serde(flatten)]
    pub fields: EventFields,
    /// For `payout_linked` with a bank: the account holder's NIK (checked, never stored).
    pub holder_nik: Option<String>,
    /// For `payout_linked` with an e-wallet: its phone (checked, never stored).
    pub ewallet_phone: Option<String>,
    /// Self-declared occupation for the eligibility check (`none`, `student`, …).
    pub occupation: Option<String>,
    /// Proceed against eligibility advice, with this reason.
    pub eligibility_reason: Option<String>,
    /// The journey version the client saw; a stale one is a `version_conflict`.
    pub expected_version: Option<i64>,
}

/// Replays history with `candidate` in it; refuses with the rule's code.
pub(super) fn check_with(loaded: &Loaded, events: Vec<EventRow>) -> Result<JourneyState> {
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

pub(super) fn override_allowed(actor: &Actor, reason: &Option<String>) -> Result<()> {
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
pub(super) fn payout_check(
    state: &AppState,
    person: &Person,
    input: &EventInput,
) -> Result<String> {
    let channel = input
        .fields
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
            if !matches && clean(&input.fields.override_reason).is_none() {
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
            if !matches && clean(&input.fields.override_reason).is_none() {
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

pub(super) fn batch_of(rules: &Rules, number: Option<i64>) -> Result<&Batch> {
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

/// Records one journey event after the rules, eligibility and payout checks.
pub async fn record_event(
    state: &AppState,
    actor: &Actor,
    participant_id: i64,
    input: &EventInput,
    source: Source,
) -> Result<i64> {
    let person = reach(state, actor, participant_id, Action::RecordJourney).await?;
    override_allowed(actor, &input.fields.override_reason)?;
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
    let occurred_at = occurred(input.occurred_at, input.occurred_on)?;
    let mut event = NewEvent::new(participant_id, stage, source, occurred_at, Utc::now());
    event.actor_id = Some(actor.user.id);
    event.counter_id = actor.user.counter_id;
    event.fields = input.fields.cleaned();
    event.eligibility_reason = clean(&input.eligibility_reason);
    let bar = check_stage_input(state, &loaded, &current, input, &mut event).await?;
    if matches!(event.fields.amount, Some(a) if a < 0) {
        return Err(AppError::field(
            "amount",
            "amount_negative",
            "Jumlah rupiah tidak boleh negatif.",
            "The amount cannot be negative.",
        ));
    }
    let reason = event
        .fields
        .override_reason
        .clone()
        .or(event.eligibility_reason.clone());
    let entry = |id| {
        let entry = Entry::new("journey.event", ENTITY, participant_id).fields(vec![
            format!("stage={}", stage.code()),
            format!("event={id}"),
        ]);
        match reason {
            Some(reason) => entry.reason(reason),
            None => entry,
        }
    };
    append(state, actor, &loaded, &event, bar.as_deref(), entry).await
}

/// Appends `event` if the history with it still replays, rewriting the projection.
/// The audit entry `entry` makes from the new event's id commits with it.
async fn append(
    state: &AppState,
    actor: &Actor,
    loaded: &Loaded,
    event: &NewEvent,
    bar_nik_index: Option<&[u8]>,
    entry: impl FnOnce(i64) -> Entry + Send,
) -> Result<i64> {
    let mut events = loaded.events.clone();
    events.push(event.stored(CANDIDATE));
    let next = check_with(loaded, events)?;
    let progress = project(event.participant_id, &next, &loaded.context());
    let change = Change::Event {
        event,
        bar_nik_index,
    };
    let mut batch = audit::Batch::new(&state.db)?;
    let audited = |id| {
        batch.add(Some(actor), None, entry(id));
        batch
    };
    store::write(&state.db, change, &progress, loaded.version, audited).await
}

/// The checks and completions one stage needs before the rules replay (batch, eligibility,
/// card number, payout account, defaults for payments). Returns the NIK index to bar when the
/// event is a revocation.
async fn check_stage_input(
    state: &AppState,
    loaded: &Loaded,
    current: &JourneyState,
    input: &EventInput,
    event: &mut NewEvent,
) -> Result<Option<Vec<u8>>> {
    let fields = &mut event.fields;
    match event.stage {
        Stage::JoinedBatch => {
            let batch = batch_of(&loaded.rules, input.batch)?.clone();
            event.batch_id = Some(batch.id);
            check_joining(state, loaded, current, input, &batch, event).await?;
        }
        Stage::Accepted => {
            if let Some(card) = &fields.card_number {
                fields.card_number = Some(card_digits(card)?);
            }
        }
        Stage::PayoutLinked => {
            fields.detail = Some(payout_check(state, &loaded.person, input)?);
            fields.channel = input
                .fields
                .channel
                .as_deref()
                .and_then(PayoutChannel::parse)
                .map(|c| c.code().to_string());
        }
        Stage::TrainingBought if fields.training_title.is_none() => {
            return Err(AppError::field(
                "training_title",
                "required",
                "Isi judul pelatihan yang dibeli.",
                "Give the title of the training bought.",
            ));
        }
        Stage::IncentivePaid | Stage::SurveyPaid => {
            if let Some(scheme) = &current.scheme {
                let default = if event.stage == Stage::IncentivePaid {
                    scheme.incentive_amount
                } else {
                    scheme.survey_amount
                };
                fields.amount = Some(fields.amount.unwrap_or(default));
            }
            fields.channel = fields.channel.take().or(current.payout_channel.clone());
        }
        Stage::Revoked => return Ok(Some(loaded.person.nik_index.clone())),
        _ => {}
    }
    Ok(None)
}

/// A Kartu Prakerja number as its 16 digits (spaces and dashes as written are dropped).
fn card_digits(card: &str) -> Result<String> {
    let digits: String = card.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if digits.len() != 16 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::field(
            "card_number",
            "card_number_invalid",
            "Nomor Kartu Prakerja harus 16 digit.",
            "The Kartu Prakerja number must be 16 digits.",
        ));
    }
    Ok(digits)
}

/// Joining a batch: the NIK must not be barred, and eligibility advice against joining needs a
/// recorded reason (the advice codes are kept in the event's detail).
async fn check_joining(
    state: &AppState,
    loaded: &Loaded,
    current: &JourneyState,
    input: &EventInput,
    batch: &Batch,
    event: &mut NewEvent,
) -> Result<()> {
    if store::is_barred(&state.db, &loaded.person.nik_index).await? {
        return Err(AppError::Refused {
            code: "nik_barred",
            message: "NIK ini sudah dicabut kepesertaannya dan tidak bisa ikut gelombang lagi."
                .into(),
            message_en: "This NIK was revoked and cannot join another batch.".into(),
        });
    }
    let occupation = parse_occupation(&input.occupation)?;
    let advice = advise(
        state,
        &loaded.person,
        current,
        &loaded.rules,
        batch,
        occupation,
    )
    .await?;
    if advice.is_empty() {
        return Ok(());
    }
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
    event.fields.detail = Some(format!("eligibility_against={}", codes.join(",")));
    Ok(())
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
    /// New values; what is left out keeps the corrected event's value. An admin's
    /// `override_reason` keeps the correction although the rules refuse it.
    #[serde(flatten)]
    pub fields: EventFields,
    /// Why the record was wrong (required).
    pub reason: String,
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
    override_allowed(actor, &input.fields.override_reason)?;
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
    if original.stage == Stage::Revoked && !access::allows(&actor.user, Action::OverrideJourney) {
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
    let mut event = NewEvent::new(
        participant_id,
        original.stage,
        Source::Counter,
        occurred_at,
        Utc::now(),
    );
    event.actor_id = Some(actor.user.id);
    event.counter_id = actor.user.counter_id;
    event.batch_id = batch_id;
    event.fields = input.fields.cleaned().or(&original.fields);
    event.correction_of = Some(event_id);
    event.voids = input.void;
    event.eligibility_reason = original.eligibility_reason.clone();
    event.correction_reason = Some(reason.clone());
    let entry = |id| {
        Entry::new("journey.correct", ENTITY, participant_id)
            .fields(vec![
                format!("event={event_id}"),
                format!("correction={id}"),
            ])
            .reason(reason)
    };
    append(state, actor, &loaded, &event, None, entry).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_body_keeps_its_flat_keys() {
        let input: EventInput = serde_json::from_value(serde_json::json!({
            "stage": "training_bought",
            "training_title": "Barista",
            "amount": 250000,
            "override_reason": "data MP",
            "eligibility_reason": "ok",
        }))
        .unwrap();
        assert_eq!(input.fields.training_title.as_deref(), Some("Barista"));
        assert_eq!(input.fields.amount, Some(250_000));
        assert_eq!(input.fields.override_reason.as_deref(), Some("data MP"));
        assert_eq!(input.eligibility_reason.as_deref(), Some("ok"));
        let back = serde_json::to_value(&input).unwrap();
        assert_eq!(back["training_title"], "Barista");
        assert!(back.get("fields").is_none());
    }
}
