//! Exchange benchmark: a programme-office recipients file taken through the in-app workflow —
//! upload (parse, check, seal, store), link (registry and BP2MI master list), apply (journey
//! events) — on SQLite and PostgreSQL, against the linkage engine alone on the same two lists
//! (the peer: what linking costs without loket's decrypting, storing and auditing).
//!
//! `cargo bench -p loket --bench exchange` (EXCHANGE_BENCH_REGISTRY, default 100000;
//! EXCHANGE_BENCH_FILE, default 10000 registry people in the file plus 10% strangers;
//! PostgreSQL from LOKET_BENCH_POSTGRES_URL or LOKET_TEST_POSTGRES_URL).

// A benchmark may panic on a broken setup: that is its failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use loket::auth::store::{self as users, NewUser};
use loket::auth::Role;
use loket::exchange::{service, store};
use loket::{AppState, Config};

async fn wait(state: &AppState, id: i64, from: &str) -> Duration {
    let started = Instant::now();
    loop {
        let u = store::upload(&state.db, id).await.unwrap().unwrap();
        if u.status != from {
            assert_ne!(u.status, "failed", "{:?}", u.status_note);
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The linkage engine alone on the same two lists, written as loket writes them.
fn engine_alone(
    state_rows: &[(String, String, String)],
    registry: &[(String, String, String)],
) -> Duration {
    let csv = |rows: &[(String, String, String)]| {
        let mut out = String::from("id,nik,nama,tanggal_lahir\n");
        for (i, (nik, name, birth)) in rows.iter().enumerate() {
            out.push_str(&format!("{i},{nik},\"{name}\",{birth}\n"));
        }
        out.into_bytes()
    };
    let (left, right) = (csv(state_rows), csv(registry));
    let started = Instant::now();
    let linker = linkage::Linker::from_toml_str(service::LINK_CONFIG).unwrap();
    let l = linker.load_bytes(linkage::Side::Left, &left).unwrap();
    let r = linker.load_bytes(linkage::Side::Right, &right).unwrap();
    let result = linker.link(&l, &r).unwrap();
    assert!(!result.pairs.is_empty());
    started.elapsed()
}

async fn run(backend: &str, registry: usize, from_file: usize, dir: &std::path::Path) {
    let Some(url) = support::fresh_database(backend, dir, "loket_bench_exchange").await else {
        println!("{backend:<9} skipped (set LOKET_BENCH_POSTGRES_URL)");
        return;
    };
    let config = Config {
        database_url: url,
        data_key: Some("42".repeat(32)),
        key_file: dir.join("unused.key"),
        db_max_connections: 8,
        ..Config::default()
    };
    let state = AppState::open(config).await.unwrap();
    let db = &state.db;
    let network = loket::demo::seed_network(db).await.unwrap();
    loket::demo::seed_people(db, &state.vault, &network, registry)
        .await
        .unwrap();
    loket::journey::demo::seed_batches(db, loket::clock::today())
        .await
        .unwrap();
    let admin_id = users::create_user(
        db,
        NewUser {
            username: "admin",
            password: "bench-bench-bench-1",
            role: Role::Admin,
            office_id: None,
            counter_id: None,
        },
    )
    .await
    .unwrap();
    let actor = loket::identity::Actor {
        user: users::user_by_username(db, "admin").await.unwrap().unwrap(),
        meta: Default::default(),
        grants: Vec::new(),
    };
    assert_eq!(actor.user.id, admin_id);
    let file = dir.join(format!("penerima-{backend}.csv"));
    let strangers = (from_file / 10) as u16;
    let maker = loket::demo::stranger_maker();
    let rows =
        loket::exchange::demo::write_sample(db, &state.vault, &file, from_file, strangers, &maker)
            .await
            .unwrap();
    let bytes = std::fs::read(&file).unwrap();

    let started = Instant::now();
    let uploaded = service::upload(&state, &actor, "penerima.csv", bytes.clone())
        .await
        .unwrap();
    let upload_time = started.elapsed();
    let link_time = wait(&state, uploaded.upload_id, "linking").await;
    let u = store::upload(db, uploaded.upload_id)
        .await
        .unwrap()
        .unwrap();
    let summary: serde_json::Value = serde_json::from_str(u.summary.as_deref().unwrap()).unwrap();
    // Settle the review band as a reviewer would (accept), so the apply covers every match.
    let review = store::rows_of(
        db,
        u.id,
        Some(loket::exchange::model::Decision::Review),
        0,
        i64::MAX,
    )
    .await
    .unwrap();
    for r in &review {
        service::decide(&state, &actor, u.id, r.id, true)
            .await
            .unwrap();
    }
    let started = Instant::now();
    service::apply(&state, &actor, u.id).await.unwrap();
    let apply_time = started.elapsed() + wait(&state, u.id, "applying").await;
    let u = store::upload(db, u.id).await.unwrap().unwrap();

    // The peer, on the same people: the file's rows and the registry, plain.
    let sheet = loket::sheet::read_csv(&bytes).unwrap();
    let file_rows: Vec<(String, String, String)> = sheet
        .rows
        .iter()
        .map(|r| {
            let text = |i: usize| match r.get(i) {
                Some(loket::sheet::Cell::Text(t)) => t.clone(),
                _ => String::new(),
            };
            (text(0), text(1), text(2))
        })
        .collect();
    let registry_rows: Vec<(String, String, String)> = store::registry_subjects(db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| {
            (
                state
                    .vault
                    .open(loket::vault::IndexKind::Nik, &s.nik_enc)
                    .unwrap(),
                s.full_name,
                s.birth_date.map(|d| d.to_string()).unwrap_or_default(),
            )
        })
        .collect();
    let engine = engine_alone(&file_rows, &registry_rows);
    let ratio = link_time.as_secs_f64() / engine.as_secs_f64();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{backend:<9} {registry:>9} {rows:>6} {:>10.0} {:>10.0} {:>10.0} {:>8} {:>9.0} {:>8} {:>7} {:>10.0} {:>7.1}",
        ms(upload_time),
        ms(link_time),
        ms(engine),
        summary["exact_registry"].as_u64().unwrap_or(0) + summary["linked_registry"].as_u64().unwrap_or(0),
        review.len(),
        summary["unmatched"],
        u.events_created,
        u.events_created as f64 / apply_time.as_secs_f64(),
        ratio,
    );
    println!(
        "          apply: {:.1} s for {} rows",
        apply_time.as_secs_f64(),
        u.applied_rows
    );
    state.db.close().await;
}

#[tokio::main]
async fn main() {
    let registry = support::env_usize("EXCHANGE_BENCH_REGISTRY", 100_000);
    let from_file = support::env_usize("EXCHANGE_BENCH_FILE", 10_000);
    let dir = tempfile::tempdir().unwrap();
    println!(
        "exchange benchmark — in-app link vs the linkage engine alone on the same lists (ratio = link / engine; the in-app link also fetches and decrypts the registry and the master list, links twice and stores every row's outcome)"
    );
    println!(
        "{:<9} {:>9} {:>6} {:>10} {:>10} {:>10} {:>8} {:>9} {:>8} {:>7} {:>10} {:>7}",
        "backend",
        "registry",
        "rows",
        "upload ms",
        "link ms",
        "engine ms",
        "matched",
        "reviewed",
        "unknown",
        "events",
        "events/s",
        "ratio"
    );
    for backend in ["sqlite", "postgres"] {
        run(backend, registry, from_file, dir.path()).await;
    }
}
