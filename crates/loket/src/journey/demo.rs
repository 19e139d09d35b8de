//! Synthetic journeys for the demo and the benchmark: batches for both schemes, and for each
//! person a plausible path (drop-outs, rejoins, late payments, revocations) up to today, so
//! every stage, the funnel and the follow-up list look like a real counter's.

use chrono::{Duration, NaiveDate, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::store;
use super::*;
use crate::clock;
use crate::db::Db;
use crate::error::Result;

/// Batches 1–22 of the 2020–2021 scheme (every two weeks from April 2020) and from 49 on of
/// the 2023 scheme (monthly from March 2023 up to `today`), unless they exist.
pub async fn seed_batches(db: &Db, today: NaiveDate) -> Result<()> {
    let schemes = store::schemes(db).await?;
    let existing = store::batches(db).await?;
    let scheme = |code: &str| schemes.iter().find(|s| s.code == code).map(|s| s.id);
    let (Some(old), Some(normal)) = (scheme("2020"), scheme("2023")) else {
        return Ok(());
    };
    let mut plan = Vec::new();
    let start = NaiveDate::from_ymd_opt(2020, 4, 11).unwrap_or_default();
    for n in 1..=22i64 {
        plan.push((old, n, start + Duration::days((n - 1) * 28)));
    }
    let start = NaiveDate::from_ymd_opt(2023, 3, 1).unwrap_or_default();
    let mut n = 49i64;
    let mut opens = start;
    while opens <= today {
        plan.push((normal, n, opens));
        n += 1;
        opens += Duration::days(30);
    }
    for (scheme_id, number, opens_on) in plan {
        if !existing.iter().any(|b| b.number == number) {
            store::insert_batch(db, scheme_id, number, opens_on).await?;
        }
    }
    Ok(())
}

/// Where a synthetic person belongs.
#[derive(Clone, Debug)]
pub struct Seat {
    pub participant_id: i64,
    pub counter_id: Option<i64>,
    pub office_id: Option<i64>,
    pub province_code: Option<String>,
}

const TRAININGS: &[(&str, &str, i64)] = &[
    ("Menjahit Pakaian untuk Pemula", "Tokopedia", 350_000),
    ("Memulai Usaha Kuliner Rumahan", "Bukalapak", 500_000),
    ("Pemasaran Digital untuk UMKM", "Pintaria", 750_000),
    ("Perawat Lansia (Caregiver)", "Sekolahmu", 900_000),
    ("Bahasa Inggris Percakapan Dasar", "Pijar Mahir", 400_000),
    ("Budidaya Ikan Lele", "Tokopedia", 250_000),
    ("Barista Kopi Profesional", "Pintaria", 1_000_000),
    ("Akuntansi Sederhana UMKM", "Sekolahmu", 600_000),
];

/// One synthetic journey from `start` up to `today`; events after today are not made.
pub fn synthesize(
    rng: &mut ChaCha8Rng,
    seat: &Seat,
    start: NaiveDate,
    today: NaiveDate,
    rules: &Rules,
) -> Vec<NewEvent> {
    let mut walk = Walk {
        rng,
        seat,
        today,
        day: start,
        events: Vec::new(),
    };
    // `None` only says where this person's journey stops; the events so far are the result.
    let _ = walk.run(rules);
    walk.events
}

/// One person's synthetic journey being written, a phase at a time. Each phase returns `None`
/// when the journey stops there (a drop-out, a revocation, or the day passing `today`). The
/// random draws happen in a fixed order, so a seed always gives the same journeys.
struct Walk<'a> {
    rng: &'a mut ChaCha8Rng,
    seat: &'a Seat,
    today: NaiveDate,
    day: NaiveDate,
    events: Vec<NewEvent>,
}

impl Walk<'_> {
    fn run(&mut self, rules: &Rules) -> Option<()> {
        self.register()?;
        let scheme = self.join_until_accepted(rules)?;
        let (linked, price) = self.link_and_buy(scheme)?;
        let rated = self.complete_and_rate(scheme, price)?;
        if linked {
            self.payments(scheme, rated);
        }
        Some(())
    }

    /// Adds an event on `on` unless that is after today; `false` when it was not added.
    fn push(&mut self, stage: Stage, on: NaiveDate, fill: impl FnOnce(&mut NewEvent)) -> bool {
        if on > self.today {
            return false;
        }
        let at = on
            .and_hms_opt(10, 0, 0)
            .and_then(|t| t.and_local_timezone(clock::wib()).single())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(Utc::now);
        let mut e = NewEvent::new(self.seat.participant_id, stage, Source::Counter, at, at);
        e.counter_id = self.seat.counter_id;
        fill(&mut e);
        self.events.push(e);
        true
    }

    fn step(&mut self, lo: i64, hi: i64) -> Duration {
        Duration::days(self.rng.gen_range(lo..=hi))
    }

    /// Moves the journey's day on by a random step.
    fn advance(&mut self, lo: i64, hi: i64) {
        let step = self.step(lo, hi);
        self.day += step;
    }

    /// Early drop-outs: most people who start get through registration.
    fn register(&mut self) -> Option<()> {
        for (stage, keep) in [
            (Stage::AccountCreated, 1.0),
            (Stage::ProfileVerified, 0.93),
            (Stage::TestPassed, 0.92),
        ] {
            if !self.rng.gen_bool(keep) || !self.push(stage, self.day, |_| {}) {
                return None;
            }
            self.advance(0, 3);
        }
        Some(())
    }

    /// Joins the batches that open from now on until accepted in one (or giving up), and
    /// returns the scheme of the batch that accepted them.
    fn join_until_accepted<'r>(&mut self, rules: &'r Rules) -> Option<&'r Scheme> {
        let mut batches: Vec<&Batch> = rules
            .batches
            .values()
            .filter(|b| b.opens_on >= self.day)
            .collect();
        batches.sort_by_key(|b| b.number);
        for batch in batches {
            if !self.rng.gen_bool(0.95) {
                return None;
            }
            self.day = batch.opens_on.max(self.day);
            let id = batch.id;
            if !self.push(Stage::JoinedBatch, self.day, |e| e.batch_id = Some(id)) {
                return None;
            }
            self.advance(3, 7);
            if self.rng.gen_bool(0.8) {
                let card = format!(
                    "{:016}",
                    5_000_000_000_000_000u64 + self.seat.participant_id as u64
                );
                if !self.push(Stage::Accepted, self.day, |e| {
                    e.fields.card_number = Some(card);
                }) {
                    return None;
                }
                return rules.schemes.get(&batch.scheme_id);
            }
            if !self.push(Stage::NotAccepted, self.day, |_| {}) || !self.rng.gen_bool(0.5) {
                return None;
            }
            self.advance(1, 10);
        }
        None
    }

    /// Links a payout account (most do) and buys the first training before the deadline, or
    /// is revoked; returns whether an account is linked and the price paid.
    fn link_and_buy(&mut self, scheme: &Scheme) -> Option<(bool, i64)> {
        let deadline = self.day + Duration::days(scheme.purchase_days);
        let linked = self.rng.gen_bool(0.9);
        if linked {
            self.advance(0, 5);
            let channel = if self.rng.gen_bool(0.6) {
                "ewallet"
            } else {
                "bank"
            };
            if !self.push(Stage::PayoutLinked, self.day, |e| {
                e.fields.channel = Some(channel.into());
            }) {
                return None;
            }
        }
        if self.rng.gen_bool(0.12) {
            // Never bought in time: revoked once the deadline has passed.
            if deadline < self.today {
                self.push(Stage::Revoked, deadline + Duration::days(1), |_| {});
            }
            return None;
        }
        self.day = (self.day + self.step(0, scheme.purchase_days)).min(deadline);
        let (title, platform, price) = TRAININGS[self.rng.gen_range(0..TRAININGS.len())];
        let price = price.min(scheme.training_balance);
        if !self.push(Stage::TrainingBought, self.day, |e| {
            e.fields.training_title = Some(title.into());
            e.fields.training_platform = Some(platform.into());
            e.fields.amount = Some(price);
        }) {
            return None;
        }
        if self.rng.gen_bool(0.02) {
            self.push(Stage::Withdrawn, self.day + Duration::days(3), |_| {});
            return None;
        }
        Some((linked, price))
    }

    /// Completes and rates the first training, perhaps buys a second; returns the rating day.
    fn complete_and_rate(&mut self, scheme: &Scheme, price: i64) -> Option<NaiveDate> {
        self.advance(3, 20);
        if !self.rng.gen_bool(0.9) || !self.push(Stage::TrainingCompleted, self.day, |_| {}) {
            return None;
        }
        self.advance(0, 4);
        if !self.rng.gen_bool(0.95) || !self.push(Stage::Rated, self.day, |_| {}) {
            return None;
        }
        let rated = self.day;
        self.second_training(scheme.training_balance - price);
        Some(rated)
    }

    /// With balance left, many buy a second training (completion and rating follow).
    fn second_training(&mut self, left: i64) {
        let (title, platform, second) = TRAININGS[self.rng.gen_range(0..TRAININGS.len())];
        if second > left || !self.rng.gen_bool(0.7) {
            return;
        }
        let mut on = self.day + self.step(1, 10);
        let bought = self.push(Stage::TrainingBought, on, |e| {
            e.fields.training_title = Some(title.into());
            e.fields.training_platform = Some(platform.into());
            e.fields.amount = Some(second);
        });
        on += self.step(3, 12);
        if bought && self.push(Stage::TrainingCompleted, on, |_| {}) {
            let rated_on = on + self.step(0, 3);
            self.push(Stage::Rated, rated_on, |_| {});
        }
    }

    /// Payments arrive around the expected date; a few are late (the follow-up list shows them).
    fn payments(&mut self, scheme: &Scheme, rated: NaiveDate) {
        let mut payments: Vec<(NaiveDate, Stage, i64)> = Vec::new();
        for k in 0..scheme.incentive_count {
            let expected = rated
                + Duration::days(
                    scheme.incentive_first_after_days + k * scheme.incentive_interval_days,
                );
            let on = expected + self.step(0, 4);
            payments.push((on, Stage::IncentivePaid, scheme.incentive_amount));
        }
        for k in 0..scheme.survey_count {
            let expected = rated
                + Duration::days(scheme.survey_first_after_days + k * scheme.survey_interval_days);
            let on = expected + self.step(0, 6);
            payments.push((on, Stage::SurveyPaid, scheme.survey_amount));
        }
        payments.sort_by_key(|p| p.0);
        let stuck = self.rng.gen_bool(0.08);
        for (i, (on, stage, amount)) in payments.into_iter().enumerate() {
            if stuck && i >= 1 {
                break;
            }
            if !self.push(stage, on, |e| e.fields.amount = Some(amount)) {
                break;
            }
        }
    }
}

/// Replays synthetic events (ids assigned from `next_id`) into a projection row.
pub fn projection(
    seat: &Seat,
    events: &[NewEvent],
    next_id: i64,
    rules: &Rules,
) -> Option<Progress> {
    let rows: Vec<EventRow> = events
        .iter()
        .enumerate()
        .map(|(i, e)| e.stored(next_id + i as i64))
        .collect();
    let state = replay(&rows, rules).ok()?;
    let ctx = Context {
        counter_id: seat.counter_id,
        office_id: seat.office_id,
        province_code: seat.province_code.clone(),
        ..Default::default()
    };
    Some(project(seat.participant_id, &state, &ctx))
}

/// Each participant without a journey and the day (WIB) they were registered.
async fn seats(db: &Db) -> Result<Vec<(Seat, NaiveDate)>> {
    let rows = store::participants_without_journey(db).await?;
    Ok(rows
        .into_iter()
        .map(
            |(participant_id, counter_id, office_id, province_code, registered)| {
                let seat = Seat {
                    participant_id,
                    counter_id,
                    office_id,
                    province_code,
                };
                (seat, registered.with_timezone(&clock::wib()).date_naive())
            },
        )
        .collect())
}

/// Gives every demo participant without a journey one, starting within three weeks of their
/// registration: registrations run from the counters' opening up to today, so journeys are
/// spread over those years and the recent ones have deadlines and payments around today.
pub async fn seed(db: &Db) -> Result<usize> {
    let today = clock::today();
    seed_batches(db, today).await?;
    let rules = store::rules(db).await?;
    let mut rng = ChaCha8Rng::seed_from_u64(20_211_231);
    let mut made = 0;
    for chunk in seats(db).await?.chunks(2000) {
        let mut events = Vec::new();
        let mut progress = Vec::new();
        for (seat, registered) in chunk {
            let start = (*registered + Duration::days(rng.gen_range(0..21))).min(today);
            let journey = synthesize(&mut rng, seat, start, today, &rules);
            if journey.is_empty() {
                continue;
            }
            if let Some(row) = projection(seat, &journey, 1, &rules) {
                progress.push(row);
                events.extend(journey);
                made += 1;
            }
        }
        store::insert_bulk(db, &events, &progress).await?;
    }
    Ok(made)
}
