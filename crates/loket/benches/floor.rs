//! The counter floor under a day's rush: 92 counters × 5 officers issuing, calling and
//! finishing tickets concurrently, plus 92 displays listening to their counter's queue:
//! `cargo bench -p loket --bench floor` (PostgreSQL too when `LOKET_TEST_POSTGRES_URL` is set;
//! `LOKET_BENCH_SECONDS` shortens the 60 s run per backend).
//!
//! Each officer loops: a walk-in takes a ticket (as at the kiosk), the officer calls next and
//! finishes the ticket, every step through the floor's service (access check, audit entry in
//! the same transaction, display notice). It prints the tickets finished per second, the
//! median and p99 of "call next" against the issue's aim (p99 under 50 ms), and the display
//! update delay (the ticket's call committed → the display's board read again showing it)
//! against the aim of 1 s.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use loket::auth::Role;
use loket::config::Config;
use loket::floor::{IssueInput, TicketAction};
use loket::identity::{Actor, RequestMeta, User};
use loket::{AppState, Application};
use tokio::sync::Mutex;

const COUNTERS: usize = 92;
const OFFICERS_PER_COUNTER: usize = 5;
const CALL_AIM_MS: f64 = 50.0;
const DISPLAY_AIM_MS: f64 = 1000.0;

fn percentile(values: &mut [f64], p: usize) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    values[((p * values.len()).div_ceil(100)).max(1) - 1]
}

async fn app(database_url: String, dir: &std::path::Path) -> AppState {
    let config = Config {
        database_url,
        bind: "127.0.0.1:0".parse().unwrap(),
        data_key: Some("42".repeat(32)),
        key_file: dir.join("unused.key"),
        ..Config::default()
    };
    let app = Application::build(config).await.unwrap();
    app.state().clone()
}

/// 23 offices of 4 counters, 5 officers each (accounts written directly: no password needed).
async fn network(state: &AppState) -> Vec<(i64, Vec<Actor>)> {
    let db = &state.db;
    let mut out = Vec::new();
    for i in 0..COUNTERS {
        let office = if i % 4 == 0 {
            loket::counters::create_office(
                db,
                &format!("UPT-{}", i / 4),
                &format!("BP3MI {}", i / 4),
                loket::counters::OfficeKind::Upt,
                "35",
            )
            .await
            .unwrap()
        } else {
            out.last()
                .map(|(_, a): &(i64, Vec<Actor>)| a[0].user.office_id.unwrap())
                .unwrap()
        };
        let counter = loket::counters::create_counter(
            db,
            office,
            &format!("C-{i:02}"),
            &format!("Loket {i}"),
            "operating",
        )
        .await
        .unwrap();
        let mut officers = Vec::new();
        for j in 0..OFFICERS_PER_COUNTER {
            let username = format!("petugas-{i}-{j}");
            let id: i64 = loket::with_db!(db, |pool| {
                sqlx::query_scalar(
                "INSERT INTO users (username, password_hash, role, office_id, counter_id, active, created_at) \
                 VALUES ($1, 'x', 'petugas', $2, $3, TRUE, $4) RETURNING id"
            )
            .bind(&username)
            .bind(office)
            .bind(counter)
            .bind(Utc::now())
            .fetch_one(pool)
            .await
            .unwrap()
            });
            officers.push(Actor {
                user: User {
                    id,
                    username,
                    role: Role::Petugas,
                    office_id: Some(office),
                    counter_id: Some(counter),
                    active: true,
                },
                meta: RequestMeta::default(),
                grants: vec![],
            });
        }
        out.push((counter, officers));
    }
    out
}

struct Results {
    finished: usize,
    calls_ms: Vec<f64>,
    display_ms: Vec<f64>,
    errors: usize,
}

async fn run(state: AppState, seconds: u64) -> Results {
    let counters = network(&state).await;
    let results = Arc::new(Mutex::new(Results {
        finished: 0,
        calls_ms: Vec::new(),
        display_ms: Vec::new(),
        errors: 0,
    }));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    // The displays: each waits for its counter's changes and reads its board again.
    for (counter_id, _) in &counters {
        let state = state.clone();
        let results = results.clone();
        let counter = loket::counters::floor_counter(&state.db, *counter_id)
            .await
            .unwrap()
            .unwrap();
        let mut changes = loket::floor::display::subscribe(&state);
        tasks.push(tokio::spawn(async move {
            let mut last_seen = None;
            while Instant::now() < deadline {
                let Ok(Ok(id)) =
                    tokio::time::timeout(Duration::from_millis(500), changes.recv()).await
                else {
                    continue;
                };
                if id != counter.id {
                    continue;
                }
                let (called, _) =
                    loket::floor::store::display_tickets(&state.db, counter.id, counter.today())
                        .await
                        .unwrap();
                let Some(newest) = called.first().and_then(|t| t.announced_at) else {
                    continue;
                };
                if last_seen != Some(newest) {
                    last_seen = Some(newest);
                    let delay =
                        (Utc::now() - newest).num_microseconds().unwrap_or(0) as f64 / 1000.0;
                    results.lock().await.display_ms.push(delay);
                }
            }
        }));
    }
    let input = IssueInput {
        purpose: "register".into(),
        priority: "none".into(),
    };
    for (counter_id, officers) in counters {
        let counter = loket::counters::floor_counter(&state.db, counter_id)
            .await
            .unwrap()
            .unwrap();
        for officer in officers {
            let state = state.clone();
            let results = results.clone();
            let input = input.clone();
            let counter = counter.clone();
            tasks.push(tokio::spawn(async move {
                while Instant::now() < deadline {
                    if loket::floor::issue_ticket(&state, None, &counter, &input)
                        .await
                        .is_err()
                    {
                        results.lock().await.errors += 1;
                        continue;
                    }
                    let start = Instant::now();
                    let called = loket::floor::call_next(&state, &officer, counter.id, None).await;
                    let ms = start.elapsed().as_secs_f64() * 1000.0;
                    let Ok(ticket) = called else {
                        // Another officer of the counter took the ticket issued: not an error.
                        continue;
                    };
                    results.lock().await.calls_ms.push(ms);
                    match loket::floor::ticket_action(
                        &state,
                        &officer,
                        ticket.id,
                        TicketAction::Done,
                        None,
                    )
                    .await
                    {
                        Ok(_) => results.lock().await.finished += 1,
                        Err(_) => results.lock().await.errors += 1,
                    }
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    Arc::try_unwrap(results).ok().unwrap().into_inner()
}

async fn report(name: &str, state: AppState, seconds: u64) {
    let started = Instant::now();
    let mut r = run(state, seconds).await;
    let elapsed = started.elapsed().as_secs_f64().max(seconds as f64);
    let p50 = percentile(&mut r.calls_ms, 50);
    let p99 = percentile(&mut r.calls_ms, 99);
    let d50 = percentile(&mut r.display_ms, 50);
    let d99 = percentile(&mut r.display_ms, 99);
    println!(
        "{name}: {} tickets finished in {seconds} s ({:.1}/s), {} errors",
        r.finished,
        r.finished as f64 / elapsed,
        r.errors
    );
    println!(
        "{name}: call next  p50 {p50:.1} ms, p99 {p99:.1} ms (aim p99 < {CALL_AIM_MS} ms: {})",
        if p99 < CALL_AIM_MS { "met" } else { "NOT met" }
    );
    println!(
        "{name}: display    p50 {d50:.1} ms, p99 {d99:.1} ms after the call (aim < {DISPLAY_AIM_MS} ms: {}), {} updates",
        if d99 < DISPLAY_AIM_MS { "met" } else { "NOT met" },
        r.display_ms.len()
    );
}

fn main() {
    loket::app::register_texts();
    let seconds: u64 = std::env::var("LOKET_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        println!(
            "floor: {COUNTERS} counters × {OFFICERS_PER_COUNTER} officers + {COUNTERS} displays, {seconds} s per backend"
        );
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("floor.db").display());
        report("sqlite", app(url, dir.path()).await, seconds).await;
        if let Ok(base) = std::env::var("LOKET_TEST_POSTGRES_URL") {
            let name = format!("loket_bench_floor_{}", std::process::id());
            let admin = sqlx::PgPool::connect(&base).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&admin).await.unwrap();
            let mut url = url::Url::parse(&base).unwrap();
            url.set_path(&format!("/{name}"));
            let state = app(url.to_string(), dir.path()).await;
            report("postgres", state.clone(), seconds).await;
            state.db.close().await;
            sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&admin)
                .await
                .unwrap();
        } else {
            println!("postgres: skipped (set LOKET_TEST_POSTGRES_URL)");
        }
    });
}
