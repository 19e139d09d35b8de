//! Reminders benchmark: queue N reminders (default 100,000) into the outbox and drain them
//! through the sending worker against a local HTTP server speaking the WhatsApp Cloud API, on
//! SQLite and PostgreSQL — messages per second and the process's peak memory (VmHWM); then the
//! status page under 64 concurrent people, p99 against the issue's 50 ms.
//!
//! `cargo bench -p loket --bench reminders` (REMINDERS_BENCH_MESSAGES, default 100000;
//! PostgreSQL from LOKET_BENCH_POSTGRES_URL or LOKET_TEST_POSTGRES_URL).

// A benchmark may panic on a broken setup: that is its failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::post;
use axum::{Json, Router};
use chrono::{NaiveDate, Utc};
use loket::auth::store::{self as users, NewUser};
use loket::auth::Role;
use loket::reminders::{store, Channel, Reason};
use loket::vault::IndexKind;
use loket::{AppState, Config};

const LIMIT_P99_MS: f64 = 50.0;
const USERS: usize = 64;
const VIEWS_PER_USER: usize = 20;

/// The process's peak resident memory so far, in MiB (Linux).
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A local WhatsApp Cloud API: every message accepted with a fresh id.
async fn provider() -> (String, Arc<AtomicU64>) {
    let count = Arc::new(AtomicU64::new(0));
    let seen = count.clone();
    let app = Router::new().route(
        "/{version}/{phone}/messages",
        post(move |Json(body): Json<serde_json::Value>| {
            let seen = seen.clone();
            async move {
                let n = seen.fetch_add(1, Ordering::Relaxed);
                Json(serde_json::json!({"messaging_product": "whatsapp",
                    "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                    "messages": [{"id": format!("wamid.B{n}")}]}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, count)
}

async fn run(backend: &str, messages: usize, dir: &std::path::Path) {
    let Some(url) = support::fresh_database(backend, dir, "loket_bench_reminders").await else {
        println!("{backend:<9} skipped (set LOKET_BENCH_POSTGRES_URL)");
        return;
    };
    let (base, received) = provider().await;
    let mut config = Config {
        database_url: url,
        data_key: Some("42".repeat(32)),
        key_file: dir.join("unused.key"),
        db_max_connections: 8,
        ..Config::default()
    };
    let r = &mut config.reminders;
    r.whatsapp_url = Some(base);
    r.whatsapp_phone_id = "1".into();
    r.whatsapp_token = Some("bench".into());
    r.quiet_from = 0;
    r.quiet_until = 0;
    r.worker = false;
    let state = AppState::open(config).await.unwrap();
    let db = &state.db;
    let network = loket::demo::seed_network(db).await.unwrap();
    let people = 1000.min(messages.max(1));
    loket::demo::seed_people(db, &state.vault, &network, people)
        .await
        .unwrap();
    let ids = store::demo_people(db, people as i64).await.unwrap();
    let phone = "6281234567890";
    let (sealed, index) = (
        state.vault.seal(IndexKind::Phone, phone),
        state.vault.blind_index(IndexKind::Phone, phone),
    );
    let first_day = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();

    let started = Instant::now();
    for n in 0..messages {
        let (id, counter) = ids[n % ids.len()];
        let day = first_day + chrono::Duration::days((n / ids.len()) as i64);
        let now = Utc::now();
        let m = store::NewMessage {
            participant_id: id,
            counter_id: counter,
            reason: Reason::PurchaseDeadlineSoon,
            due_on: day,
            channel: Channel::Whatsapp,
            phone_enc: sealed.clone(),
            phone_index: index.clone(),
            body: loket::reminders::model::message(Reason::PurchaseDeadlineSoon, day, None),
            utc_offset_hours: 7,
            next_attempt_at: now,
            at: now,
        };
        let audited = loket::audit::Batch::of(
            db,
            None,
            Some("bench"),
            loket::audit::Entry::new("reminder.queue", "participant", id),
        )
        .unwrap();
        store::insert(db, &m, audited).await.unwrap();
    }
    let queue_time = started.elapsed();

    let started = Instant::now();
    let mut sent = 0;
    while sent < messages as u64 {
        let pass = loket::reminders::send_due(&state, Utc::now(), 500)
            .await
            .unwrap();
        assert_eq!(pass.failed + pass.retried, 0, "{pass:?}");
        if pass.sent == 0 {
            break;
        }
        sent += pass.sent;
    }
    let drain_time = started.elapsed();
    assert_eq!(sent, messages as u64);
    assert_eq!(
        received.load(Ordering::Relaxed),
        messages as u64,
        "each sent once"
    );
    println!(
        "{backend:<9} queue {messages} in {:>6.1} s ({:>7.0}/s) · drain {:>6.1} s ({:>7.0} messages/s) · peak RSS {:.0} MiB",
        queue_time.as_secs_f64(),
        messages as f64 / queue_time.as_secs_f64(),
        drain_time.as_secs_f64(),
        messages as f64 / drain_time.as_secs_f64(),
        peak_rss_mib()
    );
    status_page(&state, &ids).await;
    state.db.close().await;
}

/// 64 people open their status page at once, each 20 times: p50/p99 per view.
async fn status_page(state: &AppState, ids: &[(i64, Option<i64>)]) {
    let db = &state.db;
    users::create_user(
        db,
        NewUser {
            username: "admin.bench",
            password: "bench-bench-bench-1",
            role: Role::Admin,
            office_id: None,
            counter_id: None,
        },
    )
    .await
    .unwrap();
    let actor = loket::identity::Actor {
        user: users::user_by_username(db, "admin.bench")
            .await
            .unwrap()
            .unwrap(),
        meta: Default::default(),
        grants: Vec::new(),
    };
    let mut people = Vec::new();
    for (id, _) in ids.iter().take(USERS) {
        let code = loket::reminders::service::issue_link(state, &actor, *id)
            .await
            .unwrap();
        let born = loket::journey::own_status(state, *id)
            .await
            .unwrap()
            .unwrap()
            .birth_date;
        people.push((code, born.format("%d-%m-%Y").to_string()));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = loket::app::router(state.clone());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (code, born) in people {
        let (client, base) = (client.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            for _ in 0..VIEWS_PER_USER {
                let t = Instant::now();
                let r = client
                    .post(format!("{base}/s/{code}"))
                    .form(&[("birth_date", born.as_str())])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                let page = r.text().await.unwrap();
                assert!(page.contains("next-step"));
                times.push(t.elapsed());
            }
            times
        }));
    }
    let mut all: Vec<Duration> = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let wall = started.elapsed();
    all.sort();
    let at =
        |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)].as_secs_f64() * 1000.0;
    println!(
        "          status page, {USERS} concurrent: {} views in {:.1} s · p50 {:.1} ms · p99 {:.1} ms (limit {LIMIT_P99_MS} ms: {})",
        all.len(),
        wall.as_secs_f64(),
        at(0.50),
        at(0.99),
        if at(0.99) <= LIMIT_P99_MS { "met" } else { "NOT met" }
    );
}

#[tokio::main]
async fn main() {
    loket::app::register_texts();
    let messages = support::env_usize("REMINDERS_BENCH_MESSAGES", 100_000);
    let dir = tempfile::tempdir().unwrap();
    println!("reminders: queue and drain {messages} messages against a local WhatsApp Cloud API");
    for backend in ["sqlite", "postgres"] {
        run(backend, messages, dir.path()).await;
    }
}
