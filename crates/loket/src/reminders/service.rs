//! What the pages, the API and the CLI do with reminders: access is checked here, changes are
//! audited in their own transaction, and the outbox is filled by rules kept as data.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sha2::{Digest, Sha256};

use super::channel;
use super::model::{message, utc_offset_hours, Channel, Reason, Status};
use super::store::{self, MessageRow, NewMessage, RuleRow};
use crate::access::{self, Action};
use crate::audit::{self, Batch, Entry, Outcome};
use crate::clock;
use crate::error::{AppError, FieldError, Result};
use crate::i18n::Lang;
use crate::identity::Actor;
use crate::state::AppState;
use crate::vault::IndexKind;

/// A message another feature asks for (a visit booked, a referral answered, an incentive
/// received): the person, why, the day it is about, and the number from their record.
pub struct QueueInput {
    pub participant_id: i64,
    pub counter_id: Option<i64>,
    pub province_code: Option<String>,
    pub reason: Reason,
    pub day: NaiveDate,
    pub phone: Option<String>,
}

/// What became of a request to queue one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Queued {
    Queued,
    /// Already in the outbox for this reason and day.
    AlreadyQueued,
    /// No consent on any of the rule's channels (or it was withdrawn).
    NoConsent,
    NoPhone,
    /// The rule is switched off.
    RuleOff,
    /// The person had their messages for this week.
    WeeklyLimit,
}

/// Queues one message if the rules, the person's consent and the weekly limit allow it. The
/// key (person, reason, day) makes a second call a no-op.
pub async fn queue(state: &AppState, actor: Option<&Actor>, input: QueueInput) -> Result<Queued> {
    let rules = store::rules(&state.db).await?;
    let Some(rule) = rules.iter().find(|r| r.reason == input.reason.code()) else {
        return Ok(Queued::RuleOff);
    };
    if !rule.enabled {
        return Ok(Queued::RuleOff);
    }
    let Some(phone) = input.phone.as_deref().filter(|p| !p.trim().is_empty()) else {
        return Ok(Queued::NoPhone);
    };
    let consented = active_consents(state, input.participant_id).await?;
    let Some(channel) = rule
        .channels
        .split(',')
        .filter_map(|c| Channel::from_code(c.trim()))
        .find(|c| consented.contains(c))
    else {
        return Ok(Queued::NoConsent);
    };
    let now = Utc::now();
    let limit = state.config.reminders.weekly_limit;
    if store::count_since(&state.db, input.participant_id, now - Duration::days(7)).await? >= limit
    {
        return Ok(Queued::WeeklyLimit);
    }
    let international = channel::international(phone);
    let offset = utc_offset_hours(input.province_code.as_deref());
    let quiet = &state.config.reminders;
    let m = NewMessage {
        participant_id: input.participant_id,
        counter_id: input.counter_id,
        reason: input.reason,
        due_on: input.day,
        channel,
        phone_enc: state.vault.seal(IndexKind::Phone, &international),
        phone_index: state.vault.blind_index(IndexKind::Phone, &international),
        body: message(input.reason, input.day, None),
        utc_offset_hours: offset,
        next_attempt_at: super::worker::outside_quiet_hours(
            now,
            offset,
            quiet.quiet_from,
            quiet.quiet_until,
        ),
        at: now,
    };
    let batch = Batch::of(
        &state.db,
        actor,
        actor.is_none().then_some("reminders"),
        Entry::new("reminder.queue", "participant", input.participant_id).fields(vec![
            input.reason.code().to_string(),
            channel.code().to_string(),
        ]),
    )?;
    let id = store::insert(&state.db, &m, batch).await?;
    Ok(if id.is_some() {
        Queued::Queued
    } else {
        Queued::AlreadyQueued
    })
}

async fn active_consents(state: &AppState, participant_id: i64) -> Result<Vec<Channel>> {
    Ok(store::consents(&state.db, participant_id)
        .await?
        .into_iter()
        .filter(|c| c.withdrawn_at.is_none())
        .filter_map(|c| Channel::from_code(&c.channel))
        .collect())
}

/// What one run of the rules did.
#[derive(Clone, Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct RunReport {
    pub counter_id: i64,
    pub as_of: NaiveDate,
    pub queued: usize,
    pub already_queued: usize,
    pub no_consent: usize,
    pub no_phone: usize,
    pub weekly_limit: usize,
}

/// The follow-up reasons a rule turns into a message.
fn reason_of(follow_up_code: &str) -> Option<Reason> {
    match follow_up_code {
        "purchase_deadline_soon" => Some(Reason::PurchaseDeadlineSoon),
        "incentive_overdue" => Some(Reason::IncentiveOverdue),
        "survey_overdue" => Some(Reason::SurveyDue),
        _ => None,
    }
}

/// Runs the rules over a counter's follow-up list (default: the actor's own counter) on
/// `as_of` (default today): one message per person, reason and deadline day, however often
/// it runs.
pub async fn run_rules(
    state: &AppState,
    actor: &Actor,
    counter_id: Option<i64>,
    as_of: Option<NaiveDate>,
) -> Result<RunReport> {
    access::require(&state.db, actor, Action::SendReminders).await?;
    let counter_id = counter_id.or(actor.user.counter_id).ok_or_else(|| {
        AppError::field(
            "counter",
            "counter_required",
            "Pilih loket.",
            "Choose a counter.",
        )
    })?;
    let rules = store::rules(&state.db).await?;
    let horizon = rules
        .iter()
        .filter(|r| r.enabled)
        .map(|r| r.lead_days)
        .max()
        .unwrap_or(0);
    let lead = |reason: Reason| {
        rules
            .iter()
            .find(|r| r.reason == reason.code())
            .map_or(0, |r| r.lead_days)
    };
    let today = as_of.unwrap_or_else(clock::today);
    let list = crate::journey::follow_up(
        state,
        actor,
        counter_id,
        None,
        Some(today),
        horizon,
        100_000,
        Lang::Id,
    )
    .await?;
    let mut report = RunReport {
        counter_id,
        as_of: today,
        ..RunReport::default()
    };
    for item in list.items {
        for why in &item.reasons {
            let Some(reason) = reason_of(&why.code) else {
                continue;
            };
            if reason == Reason::PurchaseDeadlineSoon && (why.day - today).num_days() > lead(reason)
            {
                continue;
            }
            let outcome = queue(
                state,
                Some(actor),
                QueueInput {
                    participant_id: item.participant_id,
                    counter_id: Some(counter_id),
                    province_code: None,
                    reason,
                    day: why.day,
                    phone: item.phone.clone(),
                },
            )
            .await?;
            match outcome {
                Queued::Queued => report.queued += 1,
                Queued::AlreadyQueued => report.already_queued += 1,
                Queued::NoConsent | Queued::RuleOff => report.no_consent += 1,
                Queued::NoPhone => report.no_phone += 1,
                Queued::WeeklyLimit => report.weekly_limit += 1,
            }
        }
    }
    Ok(report)
}

/// Consent on one channel, as the person's page shows it.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ConsentView {
    #[schema(value_type = String)]
    pub channel: Channel,
    pub given: bool,
    pub given_at: Option<DateTime<Utc>>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// `counter` or `stop_reply`
    pub withdrawn_how: Option<String>,
}

pub async fn consents(
    state: &AppState,
    actor: &Actor,
    participant_id: i64,
) -> Result<Vec<ConsentView>> {
    reach(state, actor, participant_id).await?;
    let rows = store::consents(&state.db, participant_id).await?;
    Ok(Channel::ALL
        .iter()
        .map(|channel| {
            let row = rows.iter().find(|r| r.channel == channel.code());
            ConsentView {
                channel: *channel,
                given: row.is_some_and(|r| r.withdrawn_at.is_none()),
                given_at: row.map(|r| r.given_at),
                withdrawn_at: row.and_then(|r| r.withdrawn_at),
                withdrawn_how: row.and_then(|r| r.withdrawn_how.clone()),
            }
        })
        .collect())
}

async fn reach(state: &AppState, actor: &Actor, participant_id: i64) -> Result<()> {
    access::require_on(
        &state.db,
        actor,
        Action::SendReminders,
        Some(participant_id),
    )
    .await?;
    crate::participants::require_in_scope(&state.db, actor, Action::SendReminders, participant_id)
        .await
}

/// Records consent to be contacted on `channel`, or its withdrawal at the counter (which also
/// ends the channel's queued messages).
pub async fn set_consent(
    state: &AppState,
    actor: &Actor,
    participant_id: i64,
    channel: Channel,
    given: bool,
) -> Result<()> {
    reach(state, actor, participant_id).await?;
    let action = if given {
        "reminder.consent"
    } else {
        "reminder.opt_out"
    };
    let batch = Batch::of(
        &state.db,
        Some(actor),
        None,
        Entry::new(action, "participant", participant_id).fields(vec![channel.code().to_string()]),
    )?;
    store::set_consent(
        &state.db,
        participant_id,
        channel,
        given,
        Some(actor.user.id),
        "counter",
        Utc::now(),
        batch,
    )
    .await
}

/// A STOP reply from `phone` on `channel`: consent on that channel is withdrawn for everyone
/// messaged at that number. Returns how many people it concerned.
pub async fn stop_reply(state: &AppState, channel: Channel, phone: &str) -> Result<usize> {
    let index = state
        .vault
        .blind_index(IndexKind::Phone, &channel::international(phone));
    let people = store::people_at_phone(&state.db, &index).await?;
    for id in &people {
        let batch = Batch::of(
            &state.db,
            None,
            Some(channel.code()),
            Entry::new("reminder.stop", "participant", id).fields(vec![channel.code().to_string()]),
        )?;
        store::set_consent(
            &state.db,
            *id,
            channel,
            false,
            None,
            "stop_reply",
            Utc::now(),
            batch,
        )
        .await?;
    }
    Ok(people.len())
}

/// Whether a reply asks to stop messages ("STOP", "berhenti", "stop.").
pub fn is_stop(text: &str) -> bool {
    let word: String = text
        .trim()
        .chars()
        .filter(|c| c.is_alphabetic())
        .collect::<String>()
        .to_lowercase();
    matches!(
        word.as_str(),
        "stop" | "berhenti" | "unsubscribe" | "stopall"
    )
}

/// A provider's delivery report for its message id.
pub async fn delivery(
    state: &AppState,
    provider_id: &str,
    delivered: bool,
    answer: &str,
) -> Result<u64> {
    let status = if delivered {
        Status::Delivered
    } else {
        Status::Failed
    };
    let short: String = answer.chars().take(200).collect();
    store::delivery(&state.db, provider_id, status, &short, Utc::now()).await
}

/// The outbox within the actor's scope, newest first; with a person, their messages (a read
/// of their record, audited).
pub async fn outbox(
    state: &AppState,
    actor: &Actor,
    status: Option<Status>,
    participant_id: Option<i64>,
    limit: i64,
) -> Result<Vec<MessageRow>> {
    match participant_id {
        Some(id) => {
            reach(state, actor, id).await?;
            audit::record(
                &state.db,
                Some(actor),
                None,
                Entry::new("reminder.view", "participant", id),
            )
            .await?;
        }
        None => access::require(&state.db, actor, Action::SendReminders).await?,
    }
    let scope = access::participant_scope(&actor.user).params();
    store::list(
        &state.db,
        status,
        participant_id,
        scope,
        limit.clamp(1, 500),
    )
    .await
}

/// The rules (head office).
pub async fn rules(state: &AppState, actor: &Actor) -> Result<Vec<RuleRow>> {
    access::require(&state.db, actor, Action::ManageReminderRules).await?;
    store::rules(&state.db).await
}

pub async fn set_rule(
    state: &AppState,
    actor: &Actor,
    reason: Reason,
    enabled: bool,
    lead_days: i64,
    channels: &[Channel],
) -> Result<()> {
    access::require(&state.db, actor, Action::ManageReminderRules).await?;
    if !(0..=60).contains(&lead_days) {
        return Err(AppError::field(
            "lead_days",
            "lead_days_invalid",
            "Jumlah hari harus 0–60.",
            "The number of days must be 0–60.",
        ));
    }
    if channels.is_empty() {
        return Err(AppError::field(
            "channels",
            "channels_required",
            "Pilih paling sedikit satu saluran.",
            "Choose at least one channel.",
        ));
    }
    let row = RuleRow {
        reason: reason.code().to_string(),
        enabled,
        lead_days,
        channels: channels
            .iter()
            .map(|c| c.code())
            .collect::<Vec<_>>()
            .join(","),
    };
    let batch = Batch::of(
        &state.db,
        Some(actor),
        None,
        Entry::new("reminder.rule", "reminder_rule", reason.code()),
    )?;
    store::set_rule(&state.db, &row, batch).await
}

/// Messages per channel and status, and whether each channel has a provider.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ChannelHealth {
    #[schema(value_type = String)]
    pub channel: Channel,
    /// `whatsapp_cloud`, `sms_gateway`, `file` or `none`
    pub carrier: &'static str,
    pub queued: i64,
    pub sent: i64,
    pub delivered: i64,
    pub failed: i64,
}

pub async fn health(state: &AppState, actor: &Actor) -> Result<Vec<ChannelHealth>> {
    access::require(&state.db, actor, Action::ManageReminderRules).await?;
    let counts = store::counts_by_channel(&state.db).await?;
    let config = &state.config.reminders;
    Ok(Channel::ALL
        .iter()
        .map(|channel| {
            let n = |status: &str| {
                counts
                    .iter()
                    .filter(|(c, s, _)| c == channel.code() && s == status)
                    .map(|(_, _, n)| *n)
                    .sum()
            };
            let carrier = match channel {
                Channel::Whatsapp if config.whatsapp_url.is_some() => "whatsapp_cloud",
                Channel::Sms if config.sms_url.is_some() => "sms_gateway",
                _ if config.file.is_some() => "file",
                _ => "none",
            };
            ChannelHealth {
                channel: *channel,
                carrier,
                queued: n("queued") + n("sending"),
                sent: n("sent"),
                delivered: n("delivered"),
                failed: n("failed"),
            }
        })
        .collect())
}

const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
const CODE_LENGTH: usize = 10;

fn code_hash(code: &str) -> String {
    hex::encode(Sha256::digest(code.trim().to_uppercase().as_bytes()))
}

/// A new status-page code for the person (printed on the counter slip); only its hash is kept.
pub async fn issue_link(state: &AppState, actor: &Actor, participant_id: i64) -> Result<String> {
    reach(state, actor, participant_id).await?;
    let code: String = {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        (0..CODE_LENGTH)
            .map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char)
            .collect()
    };
    let batch = Batch::of(
        &state.db,
        Some(actor),
        None,
        Entry::new("status_link.create", "participant", participant_id),
    )?;
    store::insert_link(
        &state.db,
        &code_hash(&code),
        participant_id,
        actor.user.id,
        Utc::now(),
        batch,
    )
    .await?;
    Ok(code)
}

/// The person's links in force: (id, created).
pub async fn links(
    state: &AppState,
    actor: &Actor,
    participant_id: i64,
) -> Result<Vec<(i64, DateTime<Utc>)>> {
    reach(state, actor, participant_id).await?;
    store::links_of(&state.db, participant_id).await
}

pub async fn revoke_links(state: &AppState, actor: &Actor, participant_id: i64) -> Result<u64> {
    reach(state, actor, participant_id).await?;
    let batch = Batch::of(
        &state.db,
        Some(actor),
        None,
        Entry::new("status_link.revoke", "participant", participant_id),
    )?;
    store::revoke_links(&state.db, participant_id, Utc::now(), batch).await
}

/// Attempts per client address in a window, for the status page.
#[derive(Default)]
struct Attempts(Mutex<HashMap<String, (DateTime<Utc>, u32)>>);

/// Per client: this many failed tries in [`WINDOW_MINUTES`]; per link: a lock after this many
/// wrong dates.
pub const CLIENT_TRIES: u32 = 20;
pub const WINDOW_MINUTES: i64 = 10;
pub const LINK_FAILURES: i64 = 5;

/// Whether the client still may try (fewer than [`CLIENT_TRIES`] failures in the window);
/// with `failed`, counts one more failure.
fn client_allowed(state: &AppState, client: &str, now: DateTime<Utc>, failed: bool) -> bool {
    let attempts = state.cache::<Attempts>();
    let mut map = match attempts.0.lock() {
        Ok(m) => m,
        Err(poisoned) => poisoned.into_inner(),
    };
    if map.len() > 50_000 {
        map.retain(|_, (start, _)| now - *start < Duration::minutes(WINDOW_MINUTES));
    }
    let entry = map.entry(client.to_string()).or_insert((now, 0));
    if now - entry.0 >= Duration::minutes(WINDOW_MINUTES) {
        *entry = (now, 0);
    }
    if failed {
        entry.1 += 1;
    }
    entry.1 < CLIENT_TRIES
}

/// What the person sees on their status page (no NIK, no phone, no full record).
#[derive(Clone, Debug)]
pub struct OwnPage {
    pub stage: crate::journey::Stage,
    pub next_step: (String, String),
    pub deadline: Option<NaiveDate>,
    pub counter: Option<String>,
}

fn no_match() -> AppError {
    AppError::Validation(vec![FieldError::new(
        "birth_date",
        "status_check_failed",
        "Kode atau tanggal lahir tidak cocok. Periksa slip dari loket, atau tanyakan ke petugas.",
        "The code or birth date does not match. Check the slip from the counter, or ask an officer.",
    )])
}

/// Opens the status page for `code` and `birth_date`. A wrong code, a revoked or locked link
/// and a wrong date all answer the same, and count against the client and the link.
pub async fn open_status(
    state: &AppState,
    code: &str,
    birth_date: NaiveDate,
    client: &str,
) -> Result<OwnPage> {
    let now = Utc::now();
    if !client_allowed(state, client, now, false) {
        return Err(AppError::TooManyAttempts);
    }
    let opened = open_link(state, code, birth_date, now).await;
    if matches!(opened, Err(AppError::Validation(_))) {
        client_allowed(state, client, now, true);
    }
    opened
}

async fn open_link(
    state: &AppState,
    code: &str,
    birth_date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<OwnPage> {
    let Some(link) = store::link_by_hash(&state.db, &code_hash(code)).await? else {
        return Err(no_match());
    };
    let denied = |why: &'static str| {
        audit::record(
            &state.db,
            None,
            Some("status_page"),
            Entry::new("status_link.view", "participant", link.participant_id)
                .reason(why)
                .outcome(Outcome::Denied),
        )
    };
    if link.revoked_at.is_some() {
        denied("revoked").await?;
        return Err(no_match());
    }
    if link.locked_until.is_some_and(|t| t > now) {
        denied("locked").await?;
        return Err(no_match());
    }
    let status = crate::journey::own_status(state, link.participant_id).await?;
    let Some(status) = status.filter(|s| s.birth_date == birth_date) else {
        store::link_failed(
            &state.db,
            link.id,
            now + Duration::minutes(15),
            LINK_FAILURES,
        )
        .await?;
        denied("birth_date").await?;
        return Err(no_match());
    };
    let batch = Batch::of(
        &state.db,
        None,
        Some("status_page"),
        Entry::new("status_link.view", "participant", link.participant_id),
    )?;
    store::link_opened(&state.db, link.id, batch).await?;
    let counter = match status.counter_id {
        Some(id) => crate::counters::counters(&state.db)
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .map(|c| c.name),
        None => None,
    };
    Ok(OwnPage {
        stage: status.stage,
        next_step: status.next_step,
        deadline: status.purchase_deadline,
        counter,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_are_recognised() {
        for t in ["STOP", " stop. ", "Berhenti", "UNSUBSCRIBE"] {
            assert!(is_stop(t), "{t}");
        }
        assert!(!is_stop("stop dulu ya nanti saya datang"));
        assert!(!is_stop("Terima kasih"));
    }

    #[test]
    fn codes_hash_the_same_however_typed() {
        assert_eq!(code_hash("abcd2345ef"), code_hash(" ABCD2345EF "));
    }
}
