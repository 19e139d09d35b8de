//! The reach definitions the journey knows (accepted into a batch, bought a training,
//! finished one, received an incentive, assisted in a session), counted per counter and day
//! for the dashboard, which sits below this feature (the app plugs this in).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::calendar::{day_number, from_day_number, local_day};
use super::stage::Stage;
use super::store;
use crate::counters::model::ReachDefinition;
use crate::db::Db;
use crate::error::Result;

/// (counter id, day, people who first met `definition` that day), up to `until`. A person
/// counts at the counter they are registered at, once, on the first day they met it (a card
/// later revoked still counts as accepted: they were a recipient).
pub async fn reach_by_day(
    db: &Db,
    definition: ReachDefinition,
    until: NaiveDate,
) -> Result<Vec<(i64, NaiveDate, i64)>> {
    let stage = match definition {
        ReachDefinition::Accepted => Stage::Accepted,
        ReachDefinition::TrainingBought => Stage::TrainingBought,
        ReachDefinition::TrainingCompleted => Stage::TrainingCompleted,
        ReachDefinition::IncentivePaid => Stage::IncentivePaid,
        ReachDefinition::Assisted => return assisted_by_day(db, until).await,
        // Registrations are the counter network's own figure.
        ReachDefinition::Registered => return Ok(Vec::new()),
    };
    Ok(store::reach_by_stage(db, stage, day_number(until))
        .await?
        .into_iter()
        .map(|(counter, day, n)| (counter, from_day_number(day), n))
        .collect())
}

async fn assisted_by_day(db: &Db, until: NaiveDate) -> Result<Vec<(i64, NaiveDate, i64)>> {
    let mut days: BTreeMap<(i64, NaiveDate), i64> = BTreeMap::new();
    for (counter, first) in store::first_sessions(db).await? {
        let day = local_day(first);
        if day <= until {
            *days.entry((counter, day)).or_default() += 1;
        }
    }
    Ok(days.into_iter().map(|((c, d), n)| (c, d, n)).collect())
}
