//! Demo rollout: counters opening from June to December 2021 behind some of their planned
//! dates, officers trained through the ToT cascade (a few fail or miss their batch, which
//! keeps their counter from opening), so the dashboard misses the December target.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::model::*;
use crate::auth::Role;
use crate::auth::{self as auth_store, NewAccount};
use crate::db::Db;
use crate::error::Result;
use crate::with_db;

const PROGRAMME_TRAINER: &str = "Tim Pelatih Manajemen Pelaksana Program Kartu Prakerja";
const TOPICS_CENTRAL: &str =
    "alur Kartu Prakerja; pendampingan pendaftaran; etika layanan; pelindungan data pribadi";
const TOPICS_COUNTER: &str =
    "pendaftaran dan verifikasi; memilih pelatihan; insentif dan survei; pelindungan data pribadi";
const FIRST_NAMES: &[&str] = &[
    "Ahmad", "Dewi", "Rudi", "Sri", "Hendra", "Nur", "Agus", "Ratna", "Wahyu", "Fitri", "Joko",
    "Lestari",
];
const LAST_NAMES: &[&str] = &[
    "Saputra",
    "Wulandari",
    "Hidayat",
    "Rahayu",
    "Santoso",
    "Pratama",
    "Kurniawan",
    "Anggraini",
];

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap_or(NaiveDate::MIN)
}

/// The day each counter of the demo started operating (for spreading registrations).
pub async fn opened_on(db: &Db) -> Result<HashMap<i64, NaiveDate>> {
    let rows: Vec<(i64, NaiveDate)> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT counter_id, MIN(effective_on) FROM counter_status_events WHERE status = 'operating' GROUP BY counter_id",
        )
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().collect())
}

struct Plan {
    counter_id: i64,
    planned_open: NaiveDate,
    officers: Vec<(String, String)>,
}

/// The central ToT by the programme office opened virtually on 3 June 2021.
pub const CENTRAL_TOT_OPENS: NaiveDate = match NaiveDate::from_ymd_opt(2021, 6, 3) {
    Some(day) => day,
    None => NaiveDate::MIN,
};
/// Its last day, when the central trainers were certified.
pub const CENTRAL_TOT_ENDS: NaiveDate = match NaiveDate::from_ymd_opt(2021, 6, 4) {
    Some(day) => day,
    None => NaiveDate::MIN,
};

/// Seeds officers, ToT batches, results, certificates, planned dates and status events for the
/// demo counters (`network` from `demo::seed_network`).
// Long on purpose: the whole cascade is one transaction, whose per-backend type exists only
// inside this `with_db!` body, and its steps read best in the order they happened.
pub async fn seed_rollout(db: &Db, network: &[(i64, &str)]) -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(20_210_601);
    // Opening plan: 6 counters in June, then the rest spread to December.
    let months = [
        (6, 6usize),
        (7, 14),
        (8, 16),
        (9, 16),
        (10, 16),
        (11, 14),
        (12, 10),
    ];
    let mut slots: Vec<NaiveDate> = Vec::new();
    for (m, n) in months {
        for i in 0..n {
            slots.push(d(2021, m, (1 + (i * 27 / n.max(1)) as u32).min(28)));
        }
    }
    let mut plans: Vec<Plan> = network
        .iter()
        .enumerate()
        .map(|(i, (id, _))| {
            let officers = (0..2)
                .map(|k| {
                    let name = format!(
                        "{} {}",
                        FIRST_NAMES[(i + k * 5) % FIRST_NAMES.len()],
                        LAST_NAMES[(i * 3 + k) % LAST_NAMES.len()]
                    );
                    (format!("petugas.{id}.{}", k + 1), name)
                })
                .collect();
            Plan {
                counter_id: *id,
                planned_open: slots.get(i).copied().unwrap_or(d(2021, 12, 15)),
                officers,
            }
        })
        .collect();
    // Office counters (the first of each office) open first.
    plans.sort_by_key(|p| p.planned_open);

    let now = Utc::now();
    let unusable = auth_store::unusable_password_hash()?;
    with_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        // Central trainers, trained by the programme office: the central ToT opened virtually
        // on 3 June 2021, and counter officers are trained only after their trainers hold a
        // certificate.
        let central: i64 = sqlx::query_scalar(
            "INSERT INTO tot_batches (code, level, mode, start_date, end_date, trainer_officer_id, trainer_name, topics, created_at) \
             VALUES ('TOT-PUSAT-01', 'central', 'online', $1, $2, NULL, $3, $4, $5) RETURNING id",
        )
        .bind(CENTRAL_TOT_OPENS)
        .bind(CENTRAL_TOT_ENDS)
        .bind(PROGRAMME_TRAINER)
        .bind(TOPICS_CENTRAL)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let mut trainers = Vec::new();
        for t in 1..=6 {
            let username = format!("pelatih.{t}");
            let account = NewAccount {
                username: &username,
                password_hash: &unusable,
                role: Role::Admin,
                office_id: None,
                counter_id: None,
            };
            let user = auth_store::insert_account(&mut *tx, &account).await?;
            let officer: i64 = sqlx::query_scalar(
                "INSERT INTO officers (user_id, full_name, cascade_role, created_at) VALUES ($1, $2, 'central_trainer', $3) RETURNING id",
            )
            .bind(user)
            .bind(format!("{} {} (Pelatih Pusat)", FIRST_NAMES[t * 2 % FIRST_NAMES.len()], LAST_NAMES[t % LAST_NAMES.len()]))
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let score: i64 = rng.gen_range(75..=95);
            sqlx::query("INSERT INTO tot_results (batch_id, officer_id, attended, score, passed, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(central)
                .bind(officer)
                .bind(true)
                .bind(score)
                .bind(true)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO certifications (officer_id, batch_id, certified_on, valid_until) VALUES ($1, $2, $3, $4)")
                .bind(officer)
                .bind(central)
                .bind(CENTRAL_TOT_ENDS)
                .bind(certificate_valid_until(CENTRAL_TOT_ENDS))
                .execute(&mut *tx)
                .await?;
            trainers.push(officer);
        }
        // One counter-officer batch per month, two weeks before the month's openings, but
        // never before the central trainers are certified.
        let mut batch_of_month: HashMap<u32, (i64, NaiveDate)> = HashMap::new();
        for (i, (m, _)) in months.iter().enumerate() {
            let start =
                (d(2021, *m, 1) - Duration::days(14)).max(CENTRAL_TOT_ENDS + Duration::days(1));
            let end = start + Duration::days(2);
            let mode = if i % 2 == 0 { "online" } else { "offline" };
            let trainer = trainers[i % trainers.len()];
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO tot_batches (code, level, mode, start_date, end_date, trainer_officer_id, trainer_name, topics, created_at) \
                 VALUES ($1, 'counter', $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(format!("TOT-LOKET-2021-{m:02}"))
            .bind(mode)
            .bind(start)
            .bind(end)
            .bind(trainer)
            .bind(format!("Pelatih Pusat BP2MI #{}", i % trainers.len() + 1))
            .bind(TOPICS_COUNTER)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            batch_of_month.insert(*m, (id, end));
        }
        for plan in &plans {
            let office: Option<i64> =
                sqlx::query_scalar("SELECT office_id FROM counters WHERE id = $1")
                    .bind(plan.counter_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let month = chrono::Datelike::month(&plan.planned_open);
            let (batch, certified_on) = batch_of_month
                .get(&month)
                .copied()
                .unwrap_or((0, plan.planned_open));
            let mut first_certified: Option<NaiveDate> = None;
            for (username, name) in &plan.officers {
                let account = NewAccount {
                    username,
                    password_hash: &unusable,
                    role: Role::Petugas,
                    office_id: office,
                    counter_id: Some(plan.counter_id),
                };
                let user = auth_store::insert_account(&mut *tx, &account).await?;
                let officer: i64 = sqlx::query_scalar(
                    "INSERT INTO officers (user_id, full_name, cascade_role, created_at) VALUES ($1, $2, 'counter_officer', $3) RETURNING id",
                )
                .bind(user)
                .bind(name)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                // Most pass; some miss the batch or score under 70 and wait for a later one.
                let attended = rng.gen_bool(0.85);
                let score: i64 = if rng.gen_bool(0.85) {
                    rng.gen_range(70..=98)
                } else {
                    rng.gen_range(50..70)
                };
                let passed = attended && score >= PASS_SCORE;
                if batch == 0 {
                    continue;
                }
                sqlx::query("INSERT INTO tot_results (batch_id, officer_id, attended, score, passed, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(batch)
                    .bind(officer)
                    .bind(attended)
                    .bind(attended.then_some(score))
                    .bind(passed)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                let retake = (!passed && month < 12)
                    .then(|| batch_of_month.get(&(month + 1)).copied())
                    .flatten()
                    .filter(|_| rng.gen_bool(0.6));
                let cert = if passed {
                    Some((batch, certified_on))
                } else {
                    retake
                };
                if let Some((b, on)) = cert {
                    if !passed {
                        sqlx::query("INSERT INTO tot_results (batch_id, officer_id, attended, score, passed, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)")
                            .bind(b)
                            .bind(officer)
                            .bind(true)
                            .bind(rng.gen_range(70..=90i64))
                            .bind(true)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                    }
                    sqlx::query("INSERT INTO certifications (officer_id, batch_id, certified_on, valid_until) VALUES ($1, $2, $3, $4)")
                        .bind(officer)
                        .bind(b)
                        .bind(on)
                        .bind(certificate_valid_until(on))
                        .execute(&mut *tx)
                        .await?;
                    first_certified = Some(first_certified.map_or(on, |f: NaiveDate| f.min(on)));
                }
            }
            // Preparing two weeks before the plan; operating once staffed (and some late for
            // premises or equipment), never before a certified officer is there.
            let preparing = plan.planned_open - Duration::days(14);
            let delay = if rng.gen_bool(0.3) {
                rng.gen_range(7..60)
            } else {
                0
            };
            let mut events = vec![("preparing", preparing, "Persiapan ruang dan perangkat")];
            let status = match first_certified {
                Some(c) => {
                    let open =
                        (plan.planned_open + Duration::days(delay)).max(c + Duration::days(1));
                    if open <= d(2021, 12, 31) {
                        events.push(("operating", open, "Mulai melayani Purna PMI"));
                        if rng.gen_bool(0.05) {
                            events.push(("paused", open + Duration::days(30), "Petugas dimutasi"));
                            "paused"
                        } else {
                            "operating"
                        }
                    } else {
                        "preparing"
                    }
                }
                None => "preparing",
            };
            for (s, on, note) in &events {
                sqlx::query(
                    "INSERT INTO counter_status_events (counter_id, status, effective_on, note, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, NULL, $5)",
                )
                .bind(plan.counter_id)
                .bind(*s)
                .bind(*on)
                .bind(*note)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("UPDATE counters SET status = $1, planned_open = $2, opening_hours = $3, services = $4, version = version + 1 WHERE id = $5")
                .bind(status)
                .bind(plan.planned_open)
                .bind("Senin–Jumat 08.00–16.00 WIB")
                .bind("pendaftaran; pendampingan pelatihan; insentif; rujukan program")
                .bind(plan.counter_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// The refresher ToT of `today`'s year, held 45 days ago, which renews every counter officer's
/// certificate from 2021 (those expired after two years): the demo's officers can serve today.
/// Returns the batch and the day its certificates start.
pub async fn seed_refresher(db: &Db, today: NaiveDate) -> Result<(i64, NaiveDate)> {
    let start = today - Duration::days(45);
    let certified_on = start + Duration::days(1);
    let (batch, officers) = with_db!(db, |pool| {
        let batch: i64 = sqlx::query_scalar(
            "INSERT INTO tot_batches (code, level, mode, start_date, end_date, trainer_officer_id, trainer_name, topics, created_at) \
             VALUES ($1, 'counter', 'online', $2, $3, NULL, $4, $5, $6) RETURNING id",
        )
        .bind(format!("TOT-LOKET-PENYEGARAN-{}", chrono::Datelike::year(&start)))
        .bind(start)
        .bind(certified_on)
        .bind(PROGRAMME_TRAINER)
        .bind(TOPICS_COUNTER)
        .bind(Utc::now())
        .fetch_one(pool)
        .await?;
        let officers: Vec<i64> = sqlx::query_scalar(
            "SELECT DISTINCT c.officer_id FROM certifications c JOIN officers o ON o.id = c.officer_id \
             WHERE o.cascade_role = 'counter_officer' ORDER BY c.officer_id",
        )
        .fetch_all(pool)
        .await?;
        (batch, officers)
    });
    certify(db, &officers, batch, certified_on).await?;
    Ok((batch, certified_on))
}

/// Makes `user_id` a counter officer named `full_name`, certified in `batch` on `on`.
pub async fn enrol_officer(
    db: &Db,
    user_id: i64,
    full_name: &str,
    (batch, on): (i64, NaiveDate),
) -> Result<()> {
    let officer: i64 = with_db!(db, |pool| {
        sqlx::query_scalar(
        "INSERT INTO officers (user_id, full_name, cascade_role, created_at) VALUES ($1, $2, 'counter_officer', $3) RETURNING id",
    )
    .bind(user_id)
    .bind(full_name)
    .bind(Utc::now())
    .fetch_one(pool)
    .await?
    });
    certify(db, &[officer], batch, on).await
}

/// A pass in `batch` and a two-year certificate from `on` for each of `officers`.
async fn certify(db: &Db, officers: &[i64], batch: i64, on: NaiveDate) -> Result<()> {
    with_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        for officer in officers {
            sqlx::query("INSERT INTO tot_results (batch_id, officer_id, attended, score, passed, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(batch)
                .bind(officer)
                .bind(true)
                .bind(85i64)
                .bind(true)
                .bind(Utc::now())
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO certifications (officer_id, batch_id, certified_on, valid_until) VALUES ($1, $2, $3, $4)")
                .bind(officer)
                .bind(batch)
                .bind(on)
                .bind(certificate_valid_until(on))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}
