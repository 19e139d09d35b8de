//! What the API, the pages and the CLI share when they act on one journey: reaching the
//! person (policy and scope), loading everything about the journey, and the small input helpers.
//! The actions themselves live with their topic (`record`, `assist`, `eligibility`,
//! `follow_up`, `funnel`, `scheme`, `projection`); they stay reachable here by their old paths.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::benefits::Remaining;
use super::event::EventRow;
use super::machine::{replay, JourneyState};
use super::projection::{context_of, Context};
use super::scheme::Rules;
use super::store::{self, ContactRow, Person, SessionRow};
use super::transitions::Refusal;
use crate::access::{self, Action};
use crate::audit::{self, Entry};
use crate::clock;
use crate::db::Db;
use crate::error::{AppError, Result};
use crate::identity::Actor;
use crate::state::AppState;

pub(super) const ENTITY: &str = "participant";

/// The person, if the actor's role allows `action` and their scope reaches the person.
pub(super) async fn reach(
    state: &AppState,
    actor: &Actor,
    id: i64,
    action: Action,
) -> Result<Person> {
    access::require_on(&state.db, actor, action, Some(id)).await?;
    let person = store::person(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    crate::participants::require_in_scope(&state.db, actor, action, id).await?;
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
    pub(super) async fn load(db: &Db, person: Person) -> Result<Loaded> {
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

    pub(super) fn context(&self) -> Context {
        context_of(&self.person, &self.sessions, &self.contacts)
    }
}

pub(super) fn refused(r: Refusal) -> AppError {
    AppError::Refused {
        code: r.code,
        message: r.message,
        message_en: r.message_en,
    }
}

pub(super) use super::event::clean;

pub(super) fn occurred(at: Option<DateTime<Utc>>, on: Option<NaiveDate>) -> Result<DateTime<Utc>> {
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
pub(super) const CANDIDATE: i64 = i64::MAX;

pub(super) fn check_version(loaded: &Loaded, expected: Option<i64>) -> Result<()> {
    match expected {
        Some(v) if v != loaded.version => Err(AppError::VersionConflict {
            current: loaded.version,
        }),
        _ => Ok(()),
    }
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

/// What a person has to buy training with: their scheme's balance less what they bought, or,
/// before a batch names their scheme, the whole balance of the scheme in force today. Reading it
/// reads their journey, so it is audited as a view.
pub async fn planning_balance(
    state: &AppState,
    actor: &Actor,
    participant_id: i64,
) -> Result<Option<Remaining>> {
    let (loaded, journey) = view(state, actor, participant_id).await?;
    Ok(journey.balance().or_else(|| {
        loaded
            .rules
            .scheme_in_force(clock::today())
            .map(|s| Remaining {
                at_most: s.training_balance,
                unknown_prices: 0,
            })
    }))
}

/// What a person's own status page shows (see `reminders`): read without an officer, so the
/// caller checks the person's code and birth date first and audits the view.
#[derive(Clone, Debug)]
pub struct OwnStatus {
    pub birth_date: NaiveDate,
    pub stage: super::stage::Stage,
    /// The next step in plain words, (Bahasa Indonesia, English).
    pub next_step: (String, String),
    pub purchase_deadline: Option<NaiveDate>,
    pub counter_id: Option<i64>,
    pub province_code: Option<String>,
}

pub async fn own_status(state: &AppState, participant_id: i64) -> Result<Option<OwnStatus>> {
    let Some(person) = store::person(&state.db, participant_id).await? else {
        return Ok(None);
    };
    let loaded = Loaded::load(&state.db, person).await?;
    let journey = loaded.state()?;
    let today = clock::today();
    Ok(Some(OwnStatus {
        birth_date: loaded.person.birth_date,
        stage: journey.current(),
        next_step: super::next_step::next_step(&journey, today),
        purchase_deadline: journey.purchase_deadline().filter(|d| *d >= today),
        counter_id: loaded.person.counter_id,
        province_code: loaded.person.province_code.clone(),
    }))
}
