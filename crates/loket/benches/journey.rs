//! Journey benchmark: one counter's follow-up list and the national funnel over generated
//! data (participants with ~10 journey events each), on SQLite and PostgreSQL, at several
//! sizes. Limits from issue 5: follow-up list p95 < 50 ms, national funnel p95 < 500 ms.
//!
//! `cargo bench -p loket --bench journey` (sizes: JOURNEY_BENCH_SIZES, default
//! "100000,1000000"; PostgreSQL from LOKET_BENCH_POSTGRES_URL or LOKET_TEST_POSTGRES_URL).

// A benchmark may panic on a broken setup: that is its failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use loket::db::Db;
use loket::journey::day_number;
use loket::journey::demo::{projection, seed_batches, synthesize, Seat};
use loket::journey::store::{self, FunnelScope};
use loket::journey::{follow_up_items, funnel_figures, QUIET_DAYS};
use loket::with_db_typed;

const FOLLOW_UP_LIMIT_MS: f64 = 50.0;
const FUNNEL_LIMIT_MS: f64 = 500.0;
/// Rows a follow-up page shows (the API's default `limit`).
const FOLLOW_UP_PAGE: usize = 200;

/// Minimal participant rows: the journey queries need the id, counter, name and phone only.
async fn load_participants(db: &Db, n: usize, counters: &[(i64, &str)]) {
    let now = Utc::now();
    let birth = NaiveDate::from_ymd_opt(1988, 5, 5).unwrap();
    const ROWS: usize = 2000;
    let head = "INSERT INTO participants (nik_enc, nik_index, full_name, sex, birth_date, birth_date_mismatch, sex_mismatch, \
                phone_enc, consent_processing, consent_sharing, consent_method, consent_at, counter_id, created_at, updated_at) ";
    let mut i = 0usize;
    while i < n {
        let end = (i + ROWS).min(n);
        with_db_typed!(db, |pool, DB| {
            let mut qb = sqlx::QueryBuilder::<DB>::new(head);
            qb.push_values(i..end, |mut b, k| {
                let counter = counters[k % counters.len()].0;
                b.push_bind(vec![0u8; 16])
                    .push_bind((k as u64).to_be_bytes().to_vec())
                    .push_bind(format!("Peserta {k}"))
                    .push_bind("female")
                    .push_bind(birth)
                    .push_bind(false)
                    .push_bind(false)
                    .push_bind(None::<Vec<u8>>)
                    .push_bind(true)
                    .push_bind(true)
                    .push_bind("import")
                    .push_bind(now)
                    .push_bind(counter)
                    .push_bind(now)
                    .push_bind(now);
            });
            qb.build().execute(pool).await.unwrap();
        });
        i = end;
    }
}

async fn open(
    backend: &str,
    size: usize,
    dir: &std::path::Path,
) -> Option<(Db, Option<(String, String)>)> {
    let name = format!("loket_bench_journey_{size}");
    let url = support::fresh_database(backend, dir, &name).await?;
    let db = Db::connect(&url).await.unwrap();
    let server = support::postgres_base().filter(|_| backend != "sqlite");
    Some((db, server.map(|base| (base, name))))
}

async fn generate(db: &Db, size: usize, today: NaiveDate) -> (usize, Duration) {
    let started = Instant::now();
    db.migrate().await.unwrap();
    let network = loket::demo::seed_network(db).await.unwrap();
    let offices: Vec<(i64, i64, String)> = {
        let counters = loket::counters::counters(db).await.unwrap();
        let offices = loket::counters::offices(db).await.unwrap();
        counters
            .iter()
            .map(|c| {
                let o = offices.iter().find(|o| o.id == c.office_id).unwrap();
                (c.id, o.id, o.province_code.clone())
            })
            .collect()
    };
    load_participants(db, size, &network).await;
    seed_batches(db, today).await.unwrap();
    let rules = store::rules(db).await.unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let first = NaiveDate::from_ymd_opt(2020, 4, 1).unwrap();
    let span = (today - first).num_days();
    let mut events_total = 0usize;
    let mut next_id = 1i64;
    const CHUNK: usize = 20_000;
    let mut k = 0usize;
    while k < size {
        let end = (k + CHUNK).min(size);
        let mut events = Vec::new();
        let mut rows = Vec::new();
        for p in k..end {
            let (counter_id, office_id, province) = &offices[p % offices.len()];
            let seat = Seat {
                participant_id: p as i64 + 1,
                counter_id: Some(*counter_id),
                office_id: Some(*office_id),
                province_code: Some(province.clone()),
            };
            // Recent starts are more common, as counters opened and grew.
            let back = (rng.gen_range(0.0f64..1.0).powf(1.6) * span as f64) as i64;
            let start = today - chrono::Duration::days(back);
            let journey = synthesize(&mut rng, &seat, start, today, &rules);
            if let Some(row) = projection(&seat, &journey, next_id, &rules) {
                next_id += journey.len() as i64;
                rows.push(row);
                events.extend(journey);
            }
        }
        events_total += events.len();
        store::insert_bulk(db, &events, &rows).await.unwrap();
        k = end;
    }
    // A fresh bulk load has no visibility map yet, so PostgreSQL's index-only scans would still
    // visit the table; autovacuum sets it soon after a load this size, so measure after that.
    match db {
        Db::Sqlite(pool) => {
            sqlx::query("ANALYZE").execute(pool).await.unwrap();
        }
        Db::Postgres(pool) => {
            sqlx::query("VACUUM ANALYZE").execute(pool).await.unwrap();
        }
    }
    (events_total, started.elapsed())
}

async fn measure(db: &Db, today: NaiveDate) -> ((f64, f64), usize, (f64, f64)) {
    // The counter with the most people: the first of each office gets as many as any.
    let counter = loket::counters::counter_by_code(db, "UPT-JATIM-01")
        .await
        .unwrap()
        .unwrap()
        .id;
    let mut follow = Vec::new();
    let mut listed = 0;
    for i in 0..40 {
        let t = Instant::now();
        let (total, rows) = store::follow_up(
            db,
            counter,
            None,
            day_number(today),
            7,
            QUIET_DAYS,
            FOLLOW_UP_PAGE,
        )
        .await
        .unwrap();
        let items = follow_up_items(rows, today, 7, loket::i18n::Lang::Id);
        if i >= 5 {
            follow.push(t.elapsed());
        }
        assert_eq!(items.len(), (total as usize).min(FOLLOW_UP_PAGE));
        listed = total as usize;
    }
    let mut funnel = Vec::new();
    let from = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    for i in 0..12 {
        let t = Instant::now();
        let f = funnel_figures(db, &FunnelScope::Nation, from, today, loket::i18n::Lang::Id)
            .await
            .unwrap();
        assert!(f.cohort > 0);
        if i >= 2 {
            funnel.push(t.elapsed());
        }
    }
    (
        support::median_p95_ms(follow),
        listed,
        support::median_p95_ms(funnel),
    )
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::var("JOURNEY_BENCH_SIZES")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let backends: Vec<String> = std::env::var("JOURNEY_BENCH_BACKENDS")
        .unwrap_or_else(|_| "sqlite,postgres".into())
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let today = loket::clock::today();
    println!("journey benchmark — limits: follow-up list p95 < {FOLLOW_UP_LIMIT_MS} ms, national funnel p95 < {FUNNEL_LIMIT_MS} ms");
    println!(
        "{:<9} {:>12} {:>12} {:>9} {:>22} {:>6} {:>22}",
        "backend",
        "participants",
        "events",
        "load s",
        "follow-up med/p95 ms",
        "rows",
        "funnel med/p95 ms"
    );
    for backend in &backends {
        for &size in &sizes {
            let Some((db, pg)) = open(backend, size, dir.path()).await else {
                println!("{backend:<9} skipped (set LOKET_BENCH_POSTGRES_URL)");
                continue;
            };
            let (events, load) = generate(&db, size, today).await;
            let ((fm, fp), rows, (nm, np)) = measure(&db, today).await;
            let verdict = |p: f64, limit: f64| if p < limit { "ok" } else { "OVER" };
            println!(
                "{backend:<9} {size:>12} {events:>12} {:>9.0} {:>14.1}/{:>6.1} {} {rows:>6} {:>14.1}/{:>6.1} {}",
                load.as_secs_f64(),
                fm,
                fp,
                verdict(fp, FOLLOW_UP_LIMIT_MS),
                nm,
                np,
                verdict(np, FUNNEL_LIMIT_MS)
            );
            db.close().await;
            if let Some((base, name)) = pg {
                let admin = sqlx::PgPool::connect(&base).await.unwrap();
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&admin)
                    .await;
            }
            let _ = std::fs::remove_file(dir.path().join(format!("journey-{size}.db")));
        }
    }
}
