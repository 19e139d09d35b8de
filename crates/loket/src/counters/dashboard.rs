//! The national dashboard: rollout, officers and reach against the targets, for any scope
//! (national → province → office → counter), on any day. Every figure is a count over the
//! stored facts (status events, certificates, registrations); nothing is cached, so the
//! numbers always agree with a direct count.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;
use utoipa::ToSchema;

use super::model::*;
use super::service;
use super::store::{self, CounterRow, StatusEvent};
use crate::db::Db;
use crate::error::{AppError, Result};

/// How many months the series show at most, ending at the day asked for.
const SERIES_MONTHS: usize = 24;
/// Weeks shown in the weekly chart; the rate uses the last [`RATE_WEEKS`] of them.
const WEEKS_SHOWN: i64 = 8;
const RATE_WEEKS: i64 = 4;
const LAGGARDS_SHOWN: usize = 10;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StatusCounts {
    pub planned: i64,
    pub preparing: i64,
    pub operating: i64,
    pub paused: i64,
    pub closed: i64,
    pub total: i64,
}

impl StatusCounts {
    fn add(&mut self, s: CounterStatus) {
        match s {
            CounterStatus::Planned => self.planned += 1,
            CounterStatus::Preparing => self.preparing += 1,
            CounterStatus::Operating => self.operating += 1,
            CounterStatus::Paused => self.paused += 1,
            CounterStatus::Closed => self.closed += 1,
        }
        self.total += 1;
    }
}

/// The numbers behind one chart: what the SVG draws, the table beside it and the download.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Chart {
    /// `counters`, `reach` or `weekly`.
    pub key: String,
    pub title: String,
    pub title_en: String,
    /// Series names, e.g. `["operating", "target"]`.
    pub columns: Vec<String>,
    pub rows: Vec<ChartRow>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ChartRow {
    /// The period's last day (`YYYY-MM-DD`).
    pub label: String,
    pub values: Vec<Option<i64>>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Reach {
    pub definition: String,
    pub reached: i64,
    pub target: Option<i64>,
    pub target_period_end: Option<NaiveDate>,
    /// Registrations in the last four weeks ending on `as_of`.
    pub last_four_weeks: i64,
    /// Average per week over those four weeks, rounded down.
    pub weekly_rate: i64,
    /// The day the target is met at the current rate; absent when the rate is zero or the
    /// target is already met.
    pub projected_date: Option<NaiveDate>,
    /// The day the cumulative count first reached the target, when it has.
    pub met_on: Option<NaiveDate>,
    /// Whether the projection (or the met date) is on or before the target's period end.
    pub on_track: Option<bool>,
}

/// One reach definition's figure, beside the others, against its latest target.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReachFigure {
    /// `registered`, `accepted`, `training_bought`, `training_completed`, `incentive_paid`
    /// or `assisted`.
    pub definition: String,
    /// Whether this is the definition the headline figures and charts count.
    pub headline: bool,
    pub reached: i64,
    pub target: Option<i64>,
    pub target_period_end: Option<NaiveDate>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Child {
    pub scope: String,
    pub name: String,
    pub counters: i64,
    pub operating: i64,
    pub officers_certified: i64,
    pub reached: i64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Laggard {
    pub office_code: String,
    pub office_name: String,
    pub province_code: String,
    /// Counters whose planned opening date has passed (and are not closed).
    pub planned_by_now: i64,
    /// All operating counters of the office, planned or not.
    pub operating: i64,
    /// Counters past their planned opening date that are not operating.
    pub behind: i64,
    pub reached: i64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TargetCheck {
    pub metric: String,
    /// The reach definition a reach target counts; absent for other metrics.
    pub definition: Option<String>,
    pub period_end: NaiveDate,
    pub target: i64,
    /// The figure on the period's end (or on `as_of` if that comes first).
    pub actual: Option<i64>,
    pub due: bool,
    pub met: Option<bool>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Dashboard {
    pub scope: ScopeRef,
    pub scope_name: String,
    pub as_of: NaiveDate,
    pub counters: StatusCounts,
    pub officers_certified: i64,
    pub officers_total: i64,
    pub reach: Reach,
    /// Every reach definition side by side (the headline one included).
    pub reach_by_definition: Vec<ReachFigure>,
    pub targets: Vec<TargetCheck>,
    pub charts: Vec<Chart>,
    /// The levels above, widest first (nation, province, office): the way up from a counter.
    pub parents: Vec<Parent>,
    /// The next level down: provinces, offices or counters.
    pub children: Vec<Child>,
    pub laggards: Vec<Laggard>,
}

/// A counter's status on `day`: its last event on or before that day; a counter without any
/// events (created before the lifecycle was recorded) keeps its stored status.
fn status_on(counter: &CounterRow, events: &[&StatusEvent], day: NaiveDate) -> CounterStatus {
    if events.is_empty() {
        return counter.status();
    }
    events
        .iter()
        .take_while(|e| e.effective_on <= day)
        .last()
        .and_then(|e| CounterStatus::parse(&e.status))
        .unwrap_or(CounterStatus::Planned)
}

fn month_end(day: NaiveDate) -> NaiveDate {
    let (y, m) = if day.month() == 12 {
        (day.year() + 1, 1)
    } else {
        (day.year(), day.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .map(|d| d - Duration::days(1))
        .unwrap_or(day)
}

/// Month ends from `start`'s month up to `as_of` (the last point is `as_of` itself).
fn period_ends(start: NaiveDate, as_of: NaiveDate) -> Vec<NaiveDate> {
    let mut points = Vec::new();
    let mut end = month_end(start.min(as_of));
    while end < as_of {
        points.push(end);
        end = month_end(end + Duration::days(1));
    }
    points.push(as_of);
    if points.len() > SERIES_MONTHS {
        points.drain(..points.len() - SERIES_MONTHS);
    }
    points
}

/// counter id → day → people newly counted that day.
type DailyCounts = HashMap<i64, BTreeMap<NaiveDate, i64>>;

/// How many people of each counter first met a reach definition on each day.
fn reached_until_in(daily: &DailyCounts, counters: &[&CounterRow], day: NaiveDate) -> i64 {
    counters
        .iter()
        .filter_map(|c| daily.get(&c.id))
        .map(|days| days.range(..=day).map(|(_, n)| n).sum::<i64>())
        .sum()
}

/// Everything the figures are computed from, loaded once for a scope.
struct Facts {
    counters: Vec<CounterRow>,
    events: HashMap<i64, Vec<StatusEvent>>,
    /// officer id → (counter id, office id) and their certificates.
    officers: Vec<store::OfficerRow>,
    /// officer id → certificates.
    certs: HashMap<i64, Vec<store::CertificationRow>>,
    /// counter id → day → people newly reached by the headline definition.
    daily: DailyCounts,
    /// The same for every definition.
    by_definition: HashMap<ReachDefinition, DailyCounts>,
    headline: ReachDefinition,
    targets: Vec<store::TargetRow>,
}

impl Facts {
    fn events_of(&self, counter: i64) -> Vec<&StatusEvent> {
        self.events
            .get(&counter)
            .map(|v| v.iter().collect())
            .unwrap_or_default()
    }

    fn operating_on(&self, counters: &[&CounterRow], day: NaiveDate) -> i64 {
        counters
            .iter()
            .filter(|c| status_on(c, &self.events_of(c.id), day) == CounterStatus::Operating)
            .count() as i64
    }

    fn reached_until(&self, counters: &[&CounterRow], day: NaiveDate) -> i64 {
        reached_until_in(&self.daily, counters, day)
    }

    fn reached_by(
        &self,
        definition: ReachDefinition,
        counters: &[&CounterRow],
        day: NaiveDate,
    ) -> i64 {
        self.by_definition
            .get(&definition)
            .map_or(0, |daily| reached_until_in(daily, counters, day))
    }

    fn reached_between(&self, counters: &[&CounterRow], from: NaiveDate, to: NaiveDate) -> i64 {
        counters
            .iter()
            .filter_map(|c| self.daily.get(&c.id))
            .map(|days| days.range(from..=to).map(|(_, n)| n).sum::<i64>())
            .sum()
    }

    /// Officers assigned to one of `counters` (or their offices, for coordinators and
    /// trainers without a counter) holding a certificate valid on `day`.
    fn certified_on(&self, counters: &[&CounterRow], national: bool, day: NaiveDate) -> (i64, i64) {
        let counter_ids: HashSet<i64> = counters.iter().map(|c| c.id).collect();
        let office_ids: HashSet<i64> = counters.iter().map(|c| c.office_id).collect();
        let in_scope = |o: &store::OfficerRow| match (o.counter_id, o.office_id) {
            _ if national => true,
            (Some(c), _) => counter_ids.contains(&c),
            (None, Some(office)) => office_ids.contains(&office),
            (None, None) => false,
        };
        let scoped: Vec<_> = self
            .officers
            .iter()
            .filter(|o| o.active && in_scope(o))
            .collect();
        let certified = scoped
            .iter()
            .filter(|o| {
                self.certs
                    .get(&o.id)
                    .is_some_and(|cs| cs.iter().any(|c| c.valid_on(day)))
            })
            .count() as i64;
        (certified, scoped.len() as i64)
    }

    /// The first day the cumulative registrations of `counters` reached `target`.
    fn met_on(&self, counters: &[&CounterRow], target: i64) -> Option<NaiveDate> {
        let mut per_day: BTreeMap<NaiveDate, i64> = BTreeMap::new();
        for days in counters.iter().filter_map(|c| self.daily.get(&c.id)) {
            for (d, n) in days {
                *per_day.entry(*d).or_default() += n;
            }
        }
        let mut total = 0;
        per_day.into_iter().find_map(|(d, n)| {
            total += n;
            (total >= target).then_some(d)
        })
    }
}

fn in_scope(c: &CounterRow, scope: &ScopeRef) -> bool {
    match scope {
        ScopeRef::National => true,
        ScopeRef::Province(p) => &c.province_code == p,
        ScopeRef::Office(o) => &c.office_code == o,
        ScopeRef::Counter(k) => &c.code == k,
    }
}

/// A level above the dashboard's scope, by name.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Parent {
    pub scope: ScopeRef,
    pub name: String,
}

fn parents(scope: &ScopeRef, counters: &[&CounterRow]) -> Vec<Parent> {
    let Some(first) = counters.first() else {
        return Vec::new();
    };
    let province = || Parent {
        scope: ScopeRef::Province(first.province_code.clone()),
        name: scope_name(&ScopeRef::Province(first.province_code.clone()), counters),
    };
    let office = || Parent {
        scope: ScopeRef::Office(first.office_code.clone()),
        name: first.office_name.clone(),
    };
    let nation = Parent {
        scope: ScopeRef::National,
        name: scope_name(&ScopeRef::National, counters),
    };
    match scope {
        ScopeRef::National => Vec::new(),
        ScopeRef::Province(_) => vec![nation],
        ScopeRef::Office(_) => vec![nation, province()],
        ScopeRef::Counter(_) => vec![nation, province(), office()],
    }
}

fn scope_name(scope: &ScopeRef, counters: &[&CounterRow]) -> String {
    match scope {
        ScopeRef::National => "Nasional".into(),
        ScopeRef::Province(p) => nik::regions::province(p)
            .map(|r| r.name.to_string())
            .unwrap_or_else(|| p.clone()),
        ScopeRef::Office(_) => counters
            .first()
            .map(|c| c.office_name.clone())
            .unwrap_or_default(),
        ScopeRef::Counter(_) => counters.first().map(|c| c.name.clone()).unwrap_or_default(),
    }
}

/// Computes the dashboard of `scope` on `as_of`.
pub async fn compute(db: &Db, scope: &ScopeRef, as_of: NaiveDate) -> Result<Dashboard> {
    let all = store::counter_rows(db).await?;
    let counters: Vec<CounterRow> = all.into_iter().filter(|c| in_scope(c, scope)).collect();
    if counters.is_empty() && *scope != ScopeRef::National {
        return Err(AppError::field(
            "scope",
            "scope_unknown",
            "Wilayah, kantor atau loket ini tidak dikenal atau belum punya loket.",
            "This province, office or counter is unknown or has no counters.",
        ));
    }
    let ids: Vec<i64> = counters.iter().map(|c| c.id).collect();
    let filter = (*scope != ScopeRef::National).then_some(ids.as_slice());
    let headline = service::reach_definition(db).await?;
    let mut by_definition: HashMap<ReachDefinition, DailyCounts> = HashMap::new();
    for definition in ReachDefinition::ALL.iter().copied() {
        let rows = match definition {
            ReachDefinition::Registered => store::registrations_by_day(db, filter, as_of).await?,
            other => super::reach_counts(db, other, as_of).await?,
        };
        let daily = by_definition.entry(definition).or_default();
        for (counter, day, n) in rows {
            *daily.entry(counter).or_default().entry(day).or_default() += n;
        }
    }
    let daily = by_definition.get(&headline).cloned().unwrap_or_default();
    let mut events: HashMap<i64, Vec<StatusEvent>> = HashMap::new();
    for e in store::status_events(db, None).await? {
        events.entry(e.counter_id).or_default().push(e);
    }
    let facts = Facts {
        counters,
        events,
        officers: store::officer_rows(db).await?,
        certs: {
            let mut by_officer: HashMap<i64, Vec<store::CertificationRow>> = HashMap::new();
            for c in store::certifications(db, None).await? {
                by_officer.entry(c.officer_id).or_default().push(c);
            }
            by_officer
        },
        daily,
        by_definition,
        headline,
        targets: store::targets(db).await?,
    };
    Ok(build(&facts, scope, as_of))
}

fn build(f: &Facts, scope: &ScopeRef, as_of: NaiveDate) -> Dashboard {
    let definition = f.headline;
    let counters: Vec<&CounterRow> = f.counters.iter().collect();
    let national = *scope == ScopeRef::National;
    let status = status_counts(f, &counters, as_of);
    let (officers_certified, officers_total) = f.certified_on(&counters, national, as_of);
    let reached = f.reached_until(&counters, as_of);
    let scope_targets: Vec<&store::TargetRow> = f
        .targets
        .iter()
        .filter(|t| t.scope().as_ref() == Some(scope))
        .collect();
    let reach = reach(f, &counters, &scope_targets, as_of, reached, definition);
    let reach_by_definition = reach_figures(f, &counters, &scope_targets, as_of);
    let mut charts = month_end_charts(f, &counters, &scope_targets, as_of);
    charts.push(weekly_chart(f, &counters, as_of));
    let targets = target_checks(f, &counters, national, &scope_targets, as_of);
    Dashboard {
        scope: scope.clone(),
        scope_name: scope_name(scope, &counters),
        as_of,
        counters: status,
        officers_certified,
        officers_total,
        reach,
        reach_by_definition,
        targets,
        charts,
        parents: parents(scope, &counters),
        children: children(f, scope, as_of),
        laggards: laggards(f, as_of),
    }
}

/// How many of `counters` were in each status on `as_of`.
fn status_counts(f: &Facts, counters: &[&CounterRow], as_of: NaiveDate) -> StatusCounts {
    let mut status = StatusCounts {
        planned: 0,
        preparing: 0,
        operating: 0,
        paused: 0,
        closed: 0,
        total: 0,
    };
    for c in counters {
        status.add(status_on(c, &f.events_of(c.id), as_of));
    }
    status
}

/// The day of the earliest fact (status event or registration), where the series start.
fn first_fact_day(f: &Facts, as_of: NaiveDate) -> NaiveDate {
    f.events
        .values()
        .flatten()
        .map(|e| e.effective_on)
        .chain(f.daily.values().filter_map(|d| d.keys().next().copied()))
        .min()
        .unwrap_or(as_of)
}

/// The counters and reach charts: a month-end line each, against the targets set for the
/// same metric.
fn month_end_charts(
    f: &Facts,
    counters: &[&CounterRow],
    scope_targets: &[&store::TargetRow],
    as_of: NaiveDate,
) -> Vec<Chart> {
    let points = period_ends(first_fact_day(f, as_of), as_of);
    // A target belongs to the first point on or after its period end, so none is lost
    // between two month ends.
    let target_in = |wanted: &dyn Fn(&store::TargetRow) -> bool, i: usize| -> Option<i64> {
        let from = if i == 0 {
            NaiveDate::MIN
        } else {
            points[i - 1]
        };
        scope_targets
            .iter()
            .filter(|t| wanted(t) && t.period_end > from && t.period_end <= points[i])
            .map(|t| t.value)
            .max()
    };
    let against_target = |key: &str,
                          (title, title_en): (&str, &str),
                          column: &str,
                          wanted: &dyn Fn(&store::TargetRow) -> bool,
                          value: &dyn Fn(NaiveDate) -> i64| Chart {
        key: key.into(),
        title: title.into(),
        title_en: title_en.into(),
        columns: vec![column.into(), "target".into()],
        rows: points
            .iter()
            .enumerate()
            .map(|(i, d)| ChartRow {
                label: d.to_string(),
                values: vec![Some(value(*d)), target_in(wanted, i)],
            })
            .collect(),
    };
    let counters_chart = against_target(
        "counters",
        (
            "Loket beroperasi per akhir bulan, dibanding target",
            "Counters operating at each month end, against the target",
        ),
        "operating",
        &|t| t.metric == Metric::CountersOperating.code(),
        &|d| f.operating_on(counters, d),
    );
    let reach_chart = against_target(
        "reach",
        (
            "Purna PMI terjangkau (kumulatif), dibanding target",
            "Purna PMI reached (cumulative), against the target",
        ),
        "reached",
        &|t| t.reach_definition() == Some(f.headline),
        &|d| f.reached_until(counters, d),
    );
    vec![counters_chart, reach_chart]
}

/// Registrations in each of the last [`WEEKS_SHOWN`] weeks up to `as_of`.
fn weekly_chart(f: &Facts, counters: &[&CounterRow], as_of: NaiveDate) -> Chart {
    Chart {
        key: "weekly".into(),
        title: "Pendaftaran per minggu (7 hari sampai tanggal)".into(),
        title_en: "Registrations per week (7 days up to the date)".into(),
        columns: vec!["registered".into()],
        rows: (0..WEEKS_SHOWN)
            .rev()
            .map(|w| {
                let end = as_of - Duration::days(7 * w);
                ChartRow {
                    label: end.to_string(),
                    values: vec![Some(f.reached_between(
                        counters,
                        end - Duration::days(6),
                        end,
                    ))],
                }
            })
            .collect(),
    }
}

/// Each target of the scope against what was reached by its period end (or today).
fn target_checks(
    f: &Facts,
    counters: &[&CounterRow],
    national: bool,
    scope_targets: &[&store::TargetRow],
    as_of: NaiveDate,
) -> Vec<TargetCheck> {
    scope_targets
        .iter()
        .filter_map(|t| {
            let metric = Metric::parse(&t.metric)?;
            let day = t.period_end.min(as_of);
            let definition = t.reach_definition();
            let actual = match (metric, definition) {
                (_, Some(d)) => Some(f.reached_by(d, counters, day)),
                (Metric::CountersOperating, None) => Some(f.operating_on(counters, day)),
                (Metric::OfficersCertified, None) => {
                    Some(f.certified_on(counters, national, day).0)
                }
                (Metric::Reached | Metric::CardReceived, None) => None,
            };
            Some(TargetCheck {
                metric: t.metric.clone(),
                definition: definition.map(|d| d.code().to_string()),
                period_end: t.period_end,
                target: t.value,
                actual,
                due: t.period_end <= as_of,
                met: actual.map(|a| a >= t.value),
            })
        })
        .collect()
}

fn reach(
    f: &Facts,
    counters: &[&CounterRow],
    targets: &[&store::TargetRow],
    as_of: NaiveDate,
    reached: i64,
    definition: ReachDefinition,
) -> Reach {
    let target = targets
        .iter()
        .filter(|t| t.reach_definition() == Some(definition))
        .max_by_key(|t| t.period_end);
    let window = RATE_WEEKS * 7;
    let last = f.reached_between(counters, as_of - Duration::days(window - 1), as_of);
    let mut out = Reach {
        definition: definition.code().into(),
        reached,
        target: target.map(|t| t.value),
        target_period_end: target.map(|t| t.period_end),
        last_four_weeks: last,
        weekly_rate: last / RATE_WEEKS,
        projected_date: None,
        met_on: None,
        on_track: None,
    };
    let Some(t) = target else { return out };
    if reached >= t.value {
        out.met_on = f.met_on(counters, t.value);
        out.on_track = out.met_on.map(|d| d <= t.period_end);
    } else if out.weekly_rate > 0 {
        // Without one person a week no projection can be made. Days needed at the four-week daily rate, rounded up: remaining × 28 / last.
        let remaining = t.value - reached;
        let days = (remaining * window + last - 1) / last;
        out.projected_date = as_of.checked_add_signed(Duration::days(days));
        out.on_track = Some(out.projected_date.is_some_and(|d| d <= t.period_end));
    } else {
        out.on_track = Some(false);
    }
    out
}

/// Every reach definition on `as_of`, each against its latest target in the scope.
fn reach_figures(
    f: &Facts,
    counters: &[&CounterRow],
    targets: &[&store::TargetRow],
    as_of: NaiveDate,
) -> Vec<ReachFigure> {
    ReachDefinition::ALL
        .iter()
        .map(|d| {
            let target = targets
                .iter()
                .filter(|t| t.reach_definition() == Some(*d))
                .max_by_key(|t| t.period_end);
            ReachFigure {
                definition: d.code().into(),
                headline: *d == f.headline,
                reached: f.reached_by(*d, counters, as_of),
                target: target.map(|t| t.value),
                target_period_end: target.map(|t| t.period_end),
            }
        })
        .collect()
}

fn children(f: &Facts, scope: &ScopeRef, as_of: NaiveDate) -> Vec<Child> {
    let mut groups: BTreeMap<(String, String), Vec<&CounterRow>> = BTreeMap::new();
    for c in &f.counters {
        let key = match scope {
            ScopeRef::National => (
                ScopeRef::Province(c.province_code.clone()).key(),
                nik::regions::province(&c.province_code)
                    .map(|r| r.name.to_string())
                    .unwrap_or_else(|| c.province_code.clone()),
            ),
            ScopeRef::Province(_) => (
                ScopeRef::Office(c.office_code.clone()).key(),
                c.office_name.clone(),
            ),
            ScopeRef::Office(_) => (ScopeRef::Counter(c.code.clone()).key(), c.name.clone()),
            ScopeRef::Counter(_) => return Vec::new(),
        };
        groups.entry(key).or_default().push(c);
    }
    groups
        .into_iter()
        .map(|((scope, name), cs)| Child {
            scope,
            name,
            counters: cs.len() as i64,
            operating: f.operating_on(&cs, as_of),
            officers_certified: f.certified_on(&cs, false, as_of).0,
            reached: f.reached_until(&cs, as_of),
        })
        .collect()
}

fn laggards(f: &Facts, as_of: NaiveDate) -> Vec<Laggard> {
    let mut offices: BTreeMap<&str, Vec<&CounterRow>> = BTreeMap::new();
    for c in &f.counters {
        offices.entry(c.office_code.as_str()).or_default().push(c);
    }
    let mut rows: Vec<Laggard> = offices
        .into_values()
        .filter_map(|cs| {
            let first = cs.first()?;
            let due: Vec<CounterStatus> = cs
                .iter()
                .filter(|c| c.planned_open.is_some_and(|d| d <= as_of))
                .map(|c| status_on(c, &f.events_of(c.id), as_of))
                .filter(|s| *s != CounterStatus::Closed)
                .collect();
            Some(Laggard {
                office_code: first.office_code.clone(),
                office_name: first.office_name.clone(),
                province_code: first.province_code.clone(),
                planned_by_now: due.len() as i64,
                operating: f.operating_on(&cs, as_of),
                behind: due
                    .iter()
                    .filter(|s| **s != CounterStatus::Operating)
                    .count() as i64,
                reached: f.reached_until(&cs, as_of),
            })
        })
        .filter(|l| l.behind > 0)
        .collect();
    rows.sort_by(|a, b| b.behind.cmp(&a.behind).then(a.reached.cmp(&b.reached)));
    rows.truncate(LAGGARDS_SHOWN);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn periods_are_month_ends_up_to_the_day_asked() {
        assert_eq!(
            period_ends(d(2021, 6, 10), d(2021, 8, 15)),
            [d(2021, 6, 30), d(2021, 7, 31), d(2021, 8, 15)]
        );
        assert_eq!(
            period_ends(d(2021, 12, 5), d(2021, 12, 31)),
            [d(2021, 12, 31)]
        );
        assert_eq!(
            period_ends(d(2019, 1, 1), d(2021, 12, 31)).len(),
            SERIES_MONTHS
        );
        assert_eq!(month_end(d(2024, 2, 3)), d(2024, 2, 29));
    }
}
