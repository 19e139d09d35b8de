//! Synthetic journeys for the demo and the benchmark: batches for both schemes, and for each
//! person a plausible path (drop-outs, rejoins, late payments, revocations) up to today, so
//! every stage, the funnel and the follow-up list look like a real counter's.

use chrono::{Duration, NaiveDate, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::model::*;
use super::store;
use crate::clock;
use crate::db::Db;
use crate::error::Result;
use crate::with_db;

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
    let mut events = Vec::new();
    let mut day = start;
    let push = |events: &mut Vec<NewEvent>,
                stage: Stage,
                on: NaiveDate,
                f: &dyn Fn(&mut NewEvent)|
     -> bool {
        if on > today {
            return false;
        }
        let at = on
            .and_hms_opt(10, 0, 0)
            .and_then(|t| t.and_local_timezone(clock::wib()).single())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(Utc::now);
        let mut e = NewEvent::new(seat.participant_id, stage, Source::Counter, at, at);
        e.counter_id = seat.counter_id;
        f(&mut e);
        events.push(e);
        true
    };
    let step = |rng: &mut ChaCha8Rng, lo: i64, hi: i64| Duration::days(rng.gen_range(lo..=hi));
    // Early drop-outs: most people who start get through registration.
    for (stage, keep) in [
        (Stage::AccountCreated, 1.0),
        (Stage::ProfileVerified, 0.93),
        (Stage::TestPassed, 0.92),
    ] {
        if !rng.gen_bool(keep) || !push(&mut events, stage, day, &|_| {}) {
            return events;
        }
        day += step(rng, 0, 3);
    }
    let mut batches: Vec<&Batch> = rules
        .batches
        .values()
        .filter(|b| b.opens_on >= day)
        .collect();
    batches.sort_by_key(|b| b.number);
    let mut batches = batches.into_iter();
    loop {
        let Some(batch) = batches.next() else {
            return events;
        };
        if !rng.gen_bool(0.95) {
            return events;
        }
        day = batch.opens_on.max(day);
        let id = batch.id;
        if !push(&mut events, Stage::JoinedBatch, day, &|e| {
            e.batch_id = Some(id)
        }) {
            return events;
        }
        day += step(rng, 3, 7);
        if rng.gen_bool(0.8) {
            let card = format!(
                "{:016}",
                5_000_000_000_000_000u64 + seat.participant_id as u64
            );
            if !push(&mut events, Stage::Accepted, day, &|e| {
                e.fields.card_number = Some(card.clone())
            }) {
                return events;
            }
            break;
        }
        if !push(&mut events, Stage::NotAccepted, day, &|_| {}) || !rng.gen_bool(0.5) {
            return events;
        }
        day += step(rng, 1, 10);
    }
    let Some(scheme) = rules.schemes.get(
        &rules
            .batches
            .values()
            .find(|b| events.iter().rev().find_map(|e| e.batch_id) == Some(b.id))
            .map_or(0, |b| b.scheme_id),
    ) else {
        return events;
    };
    let accepted = day;
    let deadline = accepted + Duration::days(scheme.purchase_days);
    let linked = rng.gen_bool(0.9);
    if linked {
        day += step(rng, 0, 5);
        let channel = if rng.gen_bool(0.6) { "ewallet" } else { "bank" };
        if !push(&mut events, Stage::PayoutLinked, day, &|e| {
            e.fields.channel = Some(channel.into())
        }) {
            return events;
        }
    }
    if rng.gen_bool(0.12) {
        // Never bought in time: revoked once the deadline has passed.
        if deadline < today {
            push(
                &mut events,
                Stage::Revoked,
                deadline + Duration::days(1),
                &|_| {},
            );
        }
        return events;
    }
    day = (day + step(rng, 0, scheme.purchase_days)).min(deadline);
    let (title, platform, price) = TRAININGS[rng.gen_range(0..TRAININGS.len())];
    let price = price.min(scheme.training_balance);
    if !push(&mut events, Stage::TrainingBought, day, &|e| {
        e.fields.training_title = Some(title.into());
        e.fields.training_platform = Some(platform.into());
        e.fields.amount = Some(price);
    }) {
        return events;
    }
    if rng.gen_bool(0.02) {
        push(
            &mut events,
            Stage::Withdrawn,
            day + Duration::days(3),
            &|_| {},
        );
        return events;
    }
    day += step(rng, 3, 20);
    if !rng.gen_bool(0.9) || !push(&mut events, Stage::TrainingCompleted, day, &|_| {}) {
        return events;
    }
    day += step(rng, 0, 4);
    if !rng.gen_bool(0.95) || !push(&mut events, Stage::Rated, day, &|_| {}) {
        return events;
    }
    let rated = day;
    // With balance left, many buy a second training (completion and rating follow).
    let left = scheme.training_balance - price;
    let (title, platform, second) = TRAININGS[rng.gen_range(0..TRAININGS.len())];
    if second <= left && rng.gen_bool(0.7) {
        let mut on = day + step(rng, 1, 10);
        let bought = push(&mut events, Stage::TrainingBought, on, &|e| {
            e.fields.training_title = Some(title.into());
            e.fields.training_platform = Some(platform.into());
            e.fields.amount = Some(second);
        });
        on += step(rng, 3, 12);
        if bought && push(&mut events, Stage::TrainingCompleted, on, &|_| {}) {
            push(&mut events, Stage::Rated, on + step(rng, 0, 3), &|_| {});
        }
    }
    if !linked {
        return events;
    }
    // Payments arrive around the expected date; a few are late (the follow-up list shows them).
    let mut payments: Vec<(NaiveDate, Stage, i64)> = Vec::new();
    for k in 0..scheme.incentive_count {
        let expected = rated
            + Duration::days(
                scheme.incentive_first_after_days + k * scheme.incentive_interval_days,
            );
        payments.push((
            expected + step(rng, 0, 4),
            Stage::IncentivePaid,
            scheme.incentive_amount,
        ));
    }
    for k in 0..scheme.survey_count {
        let expected = rated
            + Duration::days(scheme.survey_first_after_days + k * scheme.survey_interval_days);
        payments.push((
            expected + step(rng, 0, 6),
            Stage::SurveyPaid,
            scheme.survey_amount,
        ));
    }
    payments.sort_by_key(|p| p.0);
    let stuck = rng.gen_bool(0.08);
    for (i, (on, stage, amount)) in payments.into_iter().enumerate() {
        if stuck && i >= 1 {
            break;
        }
        if !push(&mut events, stage, on, &|e| e.fields.amount = Some(amount)) {
            break;
        }
    }
    events
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

/// (participant, counter, office, province)
type SeatRow = (i64, Option<i64>, Option<i64>, Option<String>);

async fn seats(db: &Db) -> Result<Vec<Seat>> {
    let rows: Vec<SeatRow> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT p.id, p.counter_id, c.office_id, o.province_code FROM participants p \
             LEFT JOIN counters c ON c.id = p.counter_id LEFT JOIN offices o ON o.id = c.office_id \
             WHERE NOT EXISTS (SELECT 1 FROM journey_progress j WHERE j.participant_id = p.id) ORDER BY p.id",
        )
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(
            |(participant_id, counter_id, office_id, province_code)| Seat {
                participant_id,
                counter_id,
                office_id,
                province_code,
            },
        )
        .collect())
}

/// Gives every demo participant without a journey one: a fifth from 2020–2021, the rest
/// started over the last 150 days, so deadlines and payments fall around today.
pub async fn seed(db: &Db) -> Result<usize> {
    let today = clock::today();
    seed_batches(db, today).await?;
    let rules = store::rules(db).await?;
    let mut rng = ChaCha8Rng::seed_from_u64(20_211_231);
    let old_start = NaiveDate::from_ymd_opt(2020, 4, 1).unwrap_or_default();
    let mut made = 0;
    for chunk in seats(db).await?.chunks(2000) {
        let mut events = Vec::new();
        let mut progress = Vec::new();
        for seat in chunk {
            let start = if rng.gen_bool(0.2) {
                old_start + Duration::days(rng.gen_range(0..600))
            } else {
                today - Duration::days(rng.gen_range(0..150))
            };
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
