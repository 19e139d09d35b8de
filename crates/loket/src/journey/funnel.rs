//! The funnel's arithmetic, apart from SQL: what a cohort adds up to (a tally), and how a date
//! range splits into whole started-months, read from the roll-up, and edge days, read from the
//! projection rows themselves.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use serde::Serialize;
use utoipa::ToSchema;

use super::calendar::{day_number, from_day_number};
use super::projection::Progress;
use super::stage::{Stage, FUNNEL, TRACKED};
use super::store::{self, FunnelScope};
use crate::access::{self, Action};
use crate::db::Db;
use crate::error::{AppError, Result};
use crate::i18n::Lang;
use crate::identity::Actor;
use crate::state::AppState;

/// What a set of projection rows adds up to: the cohort, people per `TRACKED` stage, and per
/// funnel step (`FUNNEL[i]` to `FUNNEL[i + 1]`) people by days spent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    pub cohort: i64,
    pub reached: Vec<i64>,
    pub dwell: Vec<BTreeMap<i64, i64>>,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            cohort: 0,
            reached: vec![0; TRACKED.len()],
            dwell: vec![BTreeMap::new(); FUNNEL.len() - 1],
        }
    }
}

impl Tally {
    /// Adds (`sign` 1) or takes away (`sign` -1) another tally; empty histogram bars are dropped.
    pub fn add(&mut self, other: &Tally, sign: i64) {
        self.cohort += sign * other.cohort;
        for (mine, theirs) in self.reached.iter_mut().zip(&other.reached) {
            *mine += sign * theirs;
        }
        for (mine, theirs) in self.dwell.iter_mut().zip(&other.dwell) {
            for (days, people) in theirs {
                let bar = mine.entry(*days).or_insert(0);
                *bar += sign * people;
                if *bar == 0 {
                    mine.remove(days);
                }
            }
        }
    }

    /// Counts one projection row, given its first day per `TRACKED` stage.
    pub fn count_row(&mut self, days: &[Option<i64>]) {
        self.cohort += 1;
        for (n, day) in self.reached.iter_mut().zip(days) {
            *n += i64::from(day.is_some());
        }
        for (i, pair) in FUNNEL.windows(2).enumerate() {
            if let (Some(a), Some(b)) = (day_of(days, pair[0]), day_of(days, pair[1])) {
                *self.dwell[i].entry(b - a).or_insert(0) += 1;
            }
        }
    }

    /// People who reached `stage` (0 for a stage that is not tracked).
    pub fn reached_of(&self, stage: Stage) -> i64 {
        tracked_index(stage)
            .and_then(|i| self.reached.get(i))
            .copied()
            .unwrap_or(0)
    }
}

fn tracked_index(stage: Stage) -> Option<usize> {
    TRACKED.iter().position(|s| *s == stage)
}

fn day_of(days: &[Option<i64>], stage: Stage) -> Option<i64> {
    tracked_index(stage).and_then(|i| days.get(i).copied().flatten())
}

/// What projection rows add to the roll-up, keyed as its tables are: counts per (scope,
/// month) as cohort then `TRACKED` order, and people per (scope, month, step stage, days).
/// The bulk loader adds this instead of letting the database group row by row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RollupDelta {
    pub counts: BTreeMap<(String, i64), Vec<i64>>,
    pub dwell: BTreeMap<(String, i64, &'static str, i64), i64>,
}

impl RollupDelta {
    /// The same sums the migration's views and the triggers make: rows without a start day
    /// count nowhere; a row counts in the nation and in each scope it names.
    pub fn of(rows: &[Progress]) -> RollupDelta {
        let mut delta = RollupDelta::default();
        for row in rows {
            let Some(started) = row.started_day else {
                continue;
            };
            let month = month_of(started);
            let mut scopes = vec![FunnelScope::Nation];
            scopes.extend(row.province_code.clone().map(FunnelScope::Province));
            scopes.extend(row.office_id.map(FunnelScope::Office));
            scopes.extend(row.counter_id.map(FunnelScope::Counter));
            for scope in scopes {
                let key = scope.key();
                let counts = delta
                    .counts
                    .entry((key.clone(), month))
                    .or_insert_with(|| vec![0; TRACKED.len() + 1]);
                counts[0] += 1;
                for (n, day) in counts[1..].iter_mut().zip(&row.days) {
                    *n += i64::from(day.is_some());
                }
                for pair in FUNNEL.windows(2) {
                    let (a, b) = (day_of(&row.days, pair[0]), day_of(&row.days, pair[1]));
                    if let (Some(a), Some(b)) = (a, b) {
                        *delta
                            .dwell
                            .entry((key.clone(), month, pair[0].code(), b - a))
                            .or_insert(0) += 1;
                    }
                }
            }
        }
        delta
    }
}

/// A started month as the roll-up keys it: yyyymm.
pub fn month_of(day: i64) -> i64 {
    let date = from_day_number(day);
    i64::from(date.year()) * 100 + i64::from(date.month())
}

/// First and last day of a yyyymm month.
pub fn month_days(month: i64) -> (i64, i64) {
    let first = |year: i64, m: i64| {
        i32::try_from(year)
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, m as u32, 1))
            .map(day_number)
            .unwrap_or(0)
    };
    let (year, m) = (month / 100, month % 100);
    let next = if m == 12 {
        first(year + 1, 1)
    } else {
        first(year, m + 1)
    };
    (first(year, m), next - 1)
}

fn next_month(month: i64) -> i64 {
    if month % 100 == 12 {
        month + 89
    } else {
        month + 1
    }
}

fn previous_month(month: i64) -> i64 {
    if month % 100 == 1 {
        month - 89
    } else {
        month - 1
    }
}

/// A month the range covers only in part: the days inside it, and the month's other days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    pub month: i64,
    pub inside: (i64, i64),
    pub outside: Vec<(i64, i64)>,
}

/// How the days `from..=to` split: whole months (a yyyymm range) and up to two edge months.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub whole: Option<(i64, i64)>,
    pub edges: Vec<Edge>,
}

pub fn plan(from: i64, to: i64) -> Plan {
    if from > to {
        return Plan::default();
    }
    let edge = |month: i64| {
        let (first, last) = month_days(month);
        let inside = (from.max(first), to.min(last));
        let mut outside = Vec::new();
        if inside.0 > first {
            outside.push((first, inside.0 - 1));
        }
        if inside.1 < last {
            outside.push((inside.1 + 1, last));
        }
        Edge {
            month,
            inside,
            outside,
        }
    };
    let (first_month, last_month) = (month_of(from), month_of(to));
    let mut edges = Vec::new();
    let mut whole_from = first_month;
    let mut whole_to = last_month;
    let head = edge(first_month);
    if !head.outside.is_empty() {
        edges.push(head);
        whole_from = next_month(first_month);
    }
    if last_month != first_month {
        let tail = edge(last_month);
        if !tail.outside.is_empty() {
            edges.push(tail);
            whole_to = previous_month(last_month);
        }
    } else if !edges.is_empty() {
        whole_to = previous_month(last_month);
    }
    Plan {
        whole: (whole_from <= whole_to).then_some((whole_from, whole_to)),
        edges,
    }
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
    let plan = plan(day_number(from), day_number(to));
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
async fn inside_is_smaller(db: &Db, edge: &Edge) -> Result<bool> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> i64 {
        day_number(NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    #[test]
    fn months_are_calendar_months() {
        assert_eq!(month_of(day(2021, 6, 30)), 202106);
        assert_eq!(month_days(202102), (day(2021, 2, 1), day(2021, 2, 28)));
        assert_eq!(month_days(202012), (day(2020, 12, 1), day(2020, 12, 31)));
        assert_eq!(month_of(-1), 196912);
    }

    #[test]
    fn a_range_splits_into_whole_months_and_edges() {
        let aligned = plan(day(2021, 1, 1), day(2021, 12, 31));
        assert_eq!(aligned.whole, Some((202101, 202112)));
        assert!(aligned.edges.is_empty());

        let ragged = plan(day(2020, 12, 15), day(2021, 3, 3));
        assert_eq!(ragged.whole, Some((202101, 202102)));
        assert_eq!(ragged.edges.len(), 2);
        assert_eq!(
            ragged.edges[0].inside,
            (day(2020, 12, 15), day(2020, 12, 31))
        );
        assert_eq!(
            ragged.edges[0].outside,
            vec![(day(2020, 12, 1), day(2020, 12, 14))]
        );
        assert_eq!(ragged.edges[1].inside, (day(2021, 3, 1), day(2021, 3, 3)));

        let within = plan(day(2021, 5, 10), day(2021, 5, 20));
        assert_eq!(within.whole, None);
        assert_eq!(within.edges.len(), 1);
        assert_eq!(
            within.edges[0].outside,
            vec![
                (day(2021, 5, 1), day(2021, 5, 9)),
                (day(2021, 5, 21), day(2021, 5, 31))
            ]
        );

        let next_door = plan(day(2021, 5, 31), day(2021, 6, 1));
        assert_eq!(next_door.whole, None);
        assert_eq!(next_door.edges.len(), 2);

        assert_eq!(plan(day(2021, 5, 2), day(2021, 5, 1)), Plan::default());
        let one_month = plan(day(2021, 5, 1), day(2021, 5, 31));
        assert_eq!(one_month.whole, Some((202105, 202105)));
    }

    #[test]
    fn a_tally_adds_and_takes_away() {
        let mut row = vec![None; TRACKED.len()];
        row[0] = Some(10);
        row[1] = Some(13);
        let mut a = Tally::default();
        a.count_row(&row);
        a.count_row(&row);
        assert_eq!(a.cohort, 2);
        assert_eq!(a.reached[1], 2);
        assert_eq!(a.dwell[0].get(&3), Some(&2));
        let mut b = a.clone();
        b.add(&a, -1);
        assert_eq!(b, Tally::default());
    }

    #[test]
    fn a_rollup_delta_counts_each_row_in_the_nation_and_its_scopes() {
        let mut days = vec![None; TRACKED.len()];
        days[0] = Some(day(2021, 6, 30));
        days[1] = Some(day(2021, 7, 2));
        let row = Progress {
            participant_id: 1,
            counter_id: Some(7),
            office_id: Some(5),
            province_code: None,
            started_day: Some(day(2021, 6, 30)),
            days,
            ..Default::default()
        };
        let unstarted = Progress {
            started_day: None,
            ..row.clone()
        };
        let delta = RollupDelta::of(&[row, unstarted]);
        let keys: Vec<_> = delta
            .counts
            .keys()
            .map(|(s, m)| format!("{s}@{m}"))
            .collect();
        assert_eq!(
            keys,
            ["counter:7@202106", "nation@202106", "office:5@202106"]
        );
        assert_eq!(
            delta.counts[&("nation".to_string(), 202106)][..3],
            [1, 1, 1]
        );
        assert_eq!(
            delta
                .dwell
                .get(&("office:5".to_string(), 202106, "account_created", 2)),
            Some(&1)
        );
        assert_eq!(delta.dwell.len(), 3);
    }

    #[test]
    fn histogram_median_is_the_middle_person() {
        assert_eq!(histogram_median(vec![]), None);
        assert_eq!(histogram_median(vec![(5, 1)]), Some(5));
        assert_eq!(histogram_median(vec![(10, 1), (1, 1), (3, 1)]), Some(3));
        assert_eq!(histogram_median(vec![(2, 10), (30, 9)]), Some(2));
        assert_eq!(histogram_median(vec![(2, 9), (30, 10)]), Some(30));
    }
}
