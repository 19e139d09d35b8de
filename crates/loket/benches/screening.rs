//! Screening benchmark (issue 15): one counter's caseload of 10,000 people screened against 100
//! programmes in one request — the caseload query, the programmes and the rules — on SQLite and
//! PostgreSQL. The aim: under 200 ms (median and p95 printed).
//!
//! `cargo bench -p loket --bench screening` (people: SCREENING_BENCH_PEOPLE, default 10000;
//! PostgreSQL from LOKET_BENCH_POSTGRES_URL or LOKET_TEST_POSTGRES_URL).

// A benchmark may panic on a broken setup: that is its failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Instant;

use chrono::{NaiveDate, Utc};

use loket::access::Scope;
use loket::db::Db;
use loket::programmes::model::{AgencyKind, ProgrammeKind, Rule};
use loket::programmes::store::{self, NewAgency, NewProgramme};
use loket::with_db_typed;

const AIM_MS: f64 = 200.0;
const PROGRAMMES: usize = 100;
const RUNS: usize = 30;

async fn open(backend: &str, dir: &std::path::Path) -> Option<Db> {
    let url = support::fresh_database(backend, dir, "loket_bench_screening").await?;
    Some(Db::connect(&url).await.unwrap())
}

/// People of one counter with the facts screening reads (varied, some missing).
async fn load_people(db: &Db, n: usize, counter: i64) {
    let now = Utc::now();
    let sectors = [
        "domestic_worker",
        "caregiver",
        "manufacturing",
        "plantation",
        "fishing",
    ];
    let education = ["sd", "smp", "sma", "diploma", "s1"];
    let provinces = ["35", "33", "32", "52", "53"];
    const ROWS: usize = 1000;
    let head = "INSERT INTO participants (nik_enc, nik_index, full_name, sex, birth_date, birth_date_mismatch, sex_mismatch, \
                province_code, education, job_sector, return_date, digital_literacy, \
                consent_processing, consent_sharing, consent_method, consent_at, counter_id, created_at, updated_at) ";
    let mut i = 0usize;
    while i < n {
        let end = (i + ROWS).min(n);
        with_db_typed!(db, |pool, DB| {
            let mut qb = sqlx::QueryBuilder::<DB>::new(head);
            qb.push_values(i..end, |mut b, k| {
                let birth = NaiveDate::from_ymd_opt(
                    1965 + (k % 40) as i32,
                    1 + (k % 12) as u32,
                    1 + (k % 28) as u32,
                )
                .unwrap();
                let back = NaiveDate::from_ymd_opt(2018 + (k % 8) as i32, 1 + (k % 12) as u32, 10)
                    .unwrap();
                b.push_bind(vec![0u8; 16])
                    .push_bind((k as u64).to_be_bytes().to_vec())
                    .push_bind(format!("Peserta {k}"))
                    .push_bind(if k % 3 == 0 { "male" } else { "female" })
                    .push_bind(birth)
                    .push_bind(false)
                    .push_bind(false)
                    .push_bind(provinces[k % provinces.len()])
                    .push_bind((k % 7 != 0).then(|| education[k % education.len()]))
                    .push_bind(sectors[k % sectors.len()])
                    .push_bind((k % 5 != 0).then_some(back))
                    .push_bind((k % 4 != 0).then_some("needs_some_help"))
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

/// 100 programmes with two to four rules each, over five agencies.
async fn load_programmes(db: &Db) {
    let mut agencies = Vec::new();
    for (i, province) in ["", "35", "33", "32", "52"].iter().enumerate() {
        let provinces: Vec<&str> = if province.is_empty() {
            vec![]
        } else {
            vec![province]
        };
        let code = format!("BENCH-{i}");
        agencies.push(
            store::insert_agency(
                db,
                &NewAgency {
                    code: &code,
                    name: &code,
                    kind: AgencyKind::Ministry,
                    provinces: &provinces,
                },
            )
            .await
            .unwrap(),
        );
    }
    for i in 0..PROGRAMMES {
        let mut rules = vec![Rule::Age {
            min: Some(18 + (i % 5) as i64),
            max: Some(45 + (i % 20) as i64),
        }];
        if i % 2 == 0 {
            rules.push(Rule::ReturnedWithinMonths {
                months: 12 + (i % 36) as i64,
            });
        }
        if i % 3 == 0 {
            rules.push(Rule::Education {
                any_of: vec!["sma".into(), "diploma".into(), "s1".into()],
            });
        }
        if i % 4 == 0 {
            rules.push(Rule::JobSector {
                any_of: vec!["domestic_worker".into(), "caregiver".into()],
            });
        }
        if i % 5 == 0 {
            rules.push(Rule::PrakerjaStage {
                any_of: vec!["not_registered".into(), "finished".into()],
            });
        }
        let code = format!("BENCH-P{i}");
        store::insert_programme(
            db,
            &NewProgramme {
                agency_id: agencies[i % agencies.len()],
                code: &code,
                name: &code,
                kind: ProgrammeKind::Training,
                description: "",
                rules: &rules,
                needs: &["name"],
                documents: "",
                quota: Some(100),
                opens_on: None,
                closes_on: None,
                answer_days: 7,
            },
        )
        .await
        .unwrap();
    }
}

#[tokio::main]
async fn main() {
    let people: usize = std::env::var("SCREENING_BENCH_PEOPLE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let today = loket::clock::today();
    println!("screening benchmark — {people} people of one counter × {PROGRAMMES} programmes in one request; aim < {AIM_MS} ms");
    println!(
        "{:<9} {:>22} {:>22} {:>8} {:>8}",
        "backend", "request med/p95 ms", "rules only med/p95 ms", "fits", "data"
    );
    for backend in ["sqlite", "postgres"] {
        let Some(db) = open(backend, dir.path()).await else {
            println!("{backend:<9} skipped (set LOKET_BENCH_POSTGRES_URL)");
            continue;
        };
        db.migrate().await.unwrap();
        let office = loket::counters::create_office(
            &db,
            "BENCH",
            "Bench",
            loket::counters::OfficeKind::Upt,
            "35",
        )
        .await
        .unwrap();
        let counter =
            loket::counters::create_counter(&db, office, "BENCH-01", "Bench", "operating")
                .await
                .unwrap();
        load_people(&db, people, counter).await;
        load_programmes(&db).await;
        let mut whole = Vec::new();
        let mut rules_only = Vec::new();
        let mut fits = 0;
        let mut needs = 0;
        for _ in 0..RUNS {
            let started = Instant::now();
            let facts = store::caseload_facts(&db, counter, Scope::Counter(counter))
                .await
                .unwrap();
            let programmes = store::programmes(&db).await.unwrap();
            let ruled = Instant::now();
            let lines = loket::programmes::screen_many(&programmes, &facts, today);
            rules_only.push(ruled.elapsed());
            whole.push(started.elapsed());
            assert_eq!(lines.len(), people);
            fits = lines.iter().map(|l| l.fits.len()).sum::<usize>();
            needs = lines.iter().map(|l| l.needs_data.len()).sum::<usize>();
        }
        let (m, p) = support::median_p95_ms(whole);
        let (rm, rp) = support::median_p95_ms(rules_only);
        let verdict = if p < AIM_MS { "ok" } else { "OVER" };
        println!("{backend:<9} {m:>13.1}/{p:>6.1} {verdict:<4} {rm:>11.1}/{rp:>6.1} {fits:>8} {needs:>8}");
        db.close().await;
    }
}
