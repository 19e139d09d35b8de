//! The projection row per participant (what the follow-up list and the funnel read): a pure
//! function of the replayed state and the contacts, and the rebuild of every row.

use chrono::NaiveDate;

use super::calendar::{day_number, local_day};
use super::machine::{replay, JourneyState};
use super::stage::{Stage, TRACKED};
use super::store::{self, ContactRow, Person, SessionRow};
use crate::db::Db;
use crate::error::{AppError, Result};

/// Facts about a participant the projection needs besides the events.
#[derive(Clone, Debug, Default)]
pub struct Context {
    pub counter_id: Option<i64>,
    pub office_id: Option<i64>,
    pub province_code: Option<String>,
    /// Days of assistance sessions and successful contacts, with the officer.
    pub contacts: Vec<(NaiveDate, i64)>,
    /// The latest session's next follow-up date, and the day that session was recorded.
    pub next_follow_up: Option<(NaiveDate, NaiveDate)>,
}

/// The projection row: what the follow-up list and the funnel read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub participant_id: i64,
    pub counter_id: Option<i64>,
    pub office_id: Option<i64>,
    pub province_code: Option<String>,
    pub owner_id: Option<i64>,
    pub scheme_id: Option<i64>,
    pub batch_number: Option<i64>,
    pub stage: Stage,
    pub stage_day: Option<i64>,
    pub started_day: Option<i64>,
    /// First day of each stage in `TRACKED` order.
    pub days: Vec<Option<i64>>,
    pub spent: i64,
    pub incentives_paid: i64,
    pub surveys_paid: i64,
    pub purchase_deadline_day: Option<i64>,
    pub incentive_overdue_day: Option<i64>,
    pub survey_overdue_day: Option<i64>,
    pub last_contact_day: Option<i64>,
    pub next_follow_up_day: Option<i64>,
}

/// The projection of one participant: a pure function of their events and contacts.
pub fn project(participant_id: i64, state: &JourneyState, ctx: &Context) -> Progress {
    let closed = state.current().is_closed() || state.current() == Stage::NotAccepted;
    let first_unpaid = |surveys: bool| {
        state
            .schedule(surveys)
            .into_iter()
            .find(|e| e.received.is_none())
            .map(|e| day_number(e.overdue_from))
    };
    let last_contact = ctx
        .contacts
        .iter()
        .map(|(d, _)| *d)
        .chain(state.last_counter_day)
        .max();
    let owner = ctx
        .contacts
        .iter()
        .max_by_key(|(d, _)| *d)
        .map(|(_, o)| *o)
        .or(state.last_counter_actor);
    // A follow-up date is done once someone was reached on or after it.
    let follow_up = ctx.next_follow_up.and_then(|(due, set_on)| {
        let reached_after = ctx.contacts.iter().any(|(d, _)| *d > set_on && *d >= due);
        (!reached_after).then_some(due)
    });
    Progress {
        participant_id,
        counter_id: ctx.counter_id,
        office_id: ctx.office_id,
        province_code: ctx.province_code.clone(),
        owner_id: owner,
        scheme_id: state.scheme.as_ref().map(|s| s.id),
        batch_number: state.batch_number,
        stage: state.current(),
        stage_day: state.stage_since.map(day_number),
        started_day: state.first_day.map(day_number),
        days: TRACKED
            .iter()
            .map(|s| state.reached.get(s.code()).copied().map(day_number))
            .collect(),
        spent: state.spent(),
        incentives_paid: state.incentives.len() as i64,
        surveys_paid: state.surveys.len() as i64,
        purchase_deadline_day: (state.purchases.is_empty() && !closed)
            .then(|| state.purchase_deadline().map(day_number))
            .flatten(),
        incentive_overdue_day: (!closed).then(|| first_unpaid(false)).flatten(),
        survey_overdue_day: (!closed).then(|| first_unpaid(true)).flatten(),
        last_contact_day: last_contact.map(day_number),
        next_follow_up_day: (!closed).then_some(follow_up.map(day_number)).flatten(),
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
            .filter(|c| c.result.reached())
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
