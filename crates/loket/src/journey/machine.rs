//! The state machine's memory: where a person stands, derived by replaying their effective
//! events in time order. Which event may follow which is in `transitions`.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};

use super::benefits::{LedgerLine, Remaining};
use super::calendar::local_day;
use super::event::{effective, EventRow};
use super::scheme::{Rules, Scheme};
use super::stage::{Source, Stage};
use super::transitions::Refusal;

/// Where a person stands, replayed from their effective events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JourneyState {
    pub stage: Option<Stage>,
    pub stage_since: Option<NaiveDate>,
    pub reached: HashMap<&'static str, NaiveDate>,
    pub batch_id: Option<i64>,
    pub batch_number: Option<i64>,
    pub scheme: Option<Scheme>,
    pub accepted_on: Option<NaiveDate>,
    pub card_number: Option<String>,
    pub payout_channel: Option<String>,
    pub purchases: Vec<LedgerLine>,
    pub completions: u32,
    pub ratings: u32,
    pub first_rated_on: Option<NaiveDate>,
    pub incentives: Vec<LedgerLine>,
    pub surveys: Vec<LedgerLine>,
    pub first_day: Option<NaiveDate>,
    pub last_counter_day: Option<NaiveDate>,
    pub last_counter_actor: Option<i64>,
}

impl JourneyState {
    pub fn current(&self) -> Stage {
        self.stage.unwrap_or(Stage::NotRegistered)
    }

    /// The known prices of the trainings bought (an unknown price adds nothing here).
    pub fn spent(&self) -> i64 {
        self.purchases.iter().filter_map(|p| p.amount).sum()
    }

    /// Trainings bought whose price is unknown.
    pub fn unknown_prices(&self) -> usize {
        self.purchases.iter().filter(|p| p.amount.is_none()).count()
    }

    /// What is left of the scheme's training balance, once a batch names the scheme.
    pub fn balance(&self) -> Option<Remaining> {
        self.scheme.as_ref().map(|s| Remaining {
            at_most: s.training_balance - self.spent(),
            unknown_prices: self.unknown_prices(),
        })
    }

    pub fn accepted(&self) -> bool {
        self.accepted_on.is_some()
    }

    /// The last day to buy the first training, while none is bought.
    pub fn purchase_deadline(&self) -> Option<NaiveDate> {
        let scheme = self.scheme.as_ref()?;
        let accepted = self.accepted_on?;
        Some(accepted + Duration::days(scheme.purchase_days))
    }

    fn set_stage(&mut self, stage: Stage, on: NaiveDate) {
        self.reached.entry(stage.code()).or_insert(on);
        let current = self.current();
        // The stage is the furthest one reached; side exits and a rejoin replace it.
        let replaces = stage.rank() >= current.rank()
            || stage == Stage::JoinedBatch
            || matches!(stage, Stage::Revoked | Stage::Withdrawn);
        if replaces && stage != Stage::SurveyPaid {
            if current != stage {
                self.stage_since = Some(on);
            }
            self.stage = Some(stage);
        }
    }

    /// Applies an event already known to be allowed (or overridden by an admin).
    pub fn apply(&mut self, event: &EventRow, rules: &Rules) {
        let stage = event.stage;
        let on = local_day(event.occurred_at);
        self.first_day = Some(self.first_day.map_or(on, |d| d.min(on)));
        if event.source == Source::Counter {
            if self.last_counter_day.is_none_or(|d| d <= on) {
                self.last_counter_day = Some(on);
            }
            self.last_counter_actor = event.actor_id.or(self.last_counter_actor);
        }
        let line = || LedgerLine {
            event_id: event.id,
            on,
            amount: event.fields.amount,
            title: event.fields.training_title.clone(),
            platform: event.fields.training_platform.clone(),
            channel: event.fields.channel.clone(),
        };
        match stage {
            Stage::JoinedBatch => {
                if let Some(batch) = event.batch_id.and_then(|id| rules.batches.get(&id)) {
                    self.batch_id = Some(batch.id);
                    self.batch_number = Some(batch.number);
                    self.scheme = rules.schemes.get(&batch.scheme_id).cloned();
                }
            }
            Stage::Accepted => {
                self.accepted_on = Some(on);
                self.card_number = event.fields.card_number.clone().or(self.card_number.take());
            }
            Stage::PayoutLinked => self.payout_channel = event.fields.channel.clone(),
            Stage::TrainingBought => self.purchases.push(line()),
            Stage::TrainingCompleted => self.completions += 1,
            Stage::Rated => {
                self.ratings += 1;
                self.first_rated_on.get_or_insert(on);
            }
            Stage::IncentivePaid => self.incentives.push(line()),
            Stage::SurveyPaid => self.surveys.push(line()),
            _ => {}
        }
        self.set_stage(stage, on);
        // The counts reached turn into stages of their own.
        if stage == Stage::SurveyPaid
            && self
                .scheme
                .as_ref()
                .is_some_and(|s| self.surveys.len() as i64 >= s.survey_count)
        {
            self.set_stage(Stage::SurveysDone, on);
        }
        if matches!(
            stage,
            Stage::SurveyPaid | Stage::IncentivePaid | Stage::SurveysDone
        ) && self.reached.contains_key(Stage::SurveysDone.code())
            && self
                .scheme
                .as_ref()
                .is_some_and(|s| self.incentives.len() as i64 >= s.incentive_count)
        {
            self.set_stage(Stage::Finished, on);
        }
    }
}

/// Replays the effective events; each must pass the rules unless it carries an override.
/// Returns the state and the first refusal with the id of the event refused.
pub fn replay(events: &[EventRow], rules: &Rules) -> Result<JourneyState, (i64, Refusal)> {
    let mut state = JourneyState::default();
    for event in effective(events) {
        if event.fields.override_reason.is_none() {
            state.check(&event, rules).map_err(|r| (event.id, r))?;
        }
        state.apply(&event, rules);
    }
    Ok(state)
}
