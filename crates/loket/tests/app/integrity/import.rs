//! A participant import from the command line beside a live server: requests keep being
//! answered (never a 500), and an import killed midway leaves whole chunks and is finished by
//! running the same file again.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use loket::participants::file::CHUNK_ROWS;

use super::{app_key, everyone_opens, finish, kill_after, loket, loket_ok, said};
use crate::common::{person_json, TestApp};
use crate::on_each_backend;

fn people_file(dir: &std::path::Path, rows: usize) -> String {
    let path = dir.join("penerima.csv");
    loket::demo::write_csv(&path, rows, 23).unwrap();
    path.display().to_string()
}

/// A NIK no generated file holds (serials from 9000, in one district).
fn nik(n: usize) -> String {
    format!(
        "320101{:02}0590{:04}",
        41 + (n / 1000) % 28,
        9000 + n % 1000
    )
}

async fn requests_are_answered_during_a_large_import(app: &TestApp) {
    const ROWS: usize = 30_000;
    let dir = tempfile::tempdir().unwrap();
    let file = people_file(dir.path(), ROWS);
    let (_, token) = app.officer_a().await;
    let api = app.api(&token);
    let key = app_key();
    let child = loket(
        &app.state.config.database_url,
        Some(&key),
        dir.path(),
        &["import", "participants", &file, "--counter", "B-01"],
    )
    .spawn()
    .unwrap();
    let import = tokio::spawn(finish(child));
    let mut slowest = Duration::ZERO;
    let (mut answered, mut busy) = (0, 0);
    while !import.is_finished() {
        let started = Instant::now();
        let response = api
            .register(&person_json(&nik(answered), "Ani Lestari"))
            .await;
        let status = response.status();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // Still busy after the busy timeout: a clear answer to retry, never a 500.
            assert_eq!(response.headers()["retry-after"], "5");
            let body = response.text().await.unwrap();
            assert!(
                body.contains("database_busy") && body.contains("Coba lagi"),
                "{body}"
            );
            busy += 1;
            continue;
        }
        let body = response.text().await.unwrap();
        assert!(
            !status.is_server_error(),
            "{status} during the import: {body}"
        );
        assert_eq!(status, StatusCode::CREATED, "{body}");
        slowest = slowest.max(started.elapsed());
        answered += 1;
    }
    let out = import.await.unwrap();
    assert!(out.status.success(), "{}", said(&out));
    assert!(said(&out).contains("30000 rows imported"), "{}", said(&out));
    eprintln!("{answered} registrations during the import, slowest {slowest:?}, {busy} busy");
    assert!(answered >= 10, "only {answered} registrations got through");
    // A chunk's transaction and the pause after it bound the wait (generous: a debug build
    // on a shared machine).
    assert!(
        slowest < Duration::from_secs(3),
        "a request waited {slowest:?}"
    );
    assert_eq!(app.participant_count().await, (ROWS + answered) as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_server_answers_while_a_large_import_runs_from_another_process() {
    on_each_backend!(requests_are_answered_during_a_large_import);
}

async fn participants_without_consent(app: &TestApp) -> i64 {
    loket::with_db!(&app.state.db, |pool| {
        sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM participants p \
             WHERE NOT EXISTS (SELECT 1 FROM consent_events e WHERE e.participant_id = p.id)",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    })
}

async fn import_survives_kill_9(app: &TestApp) {
    const ROWS: usize = 5 * CHUNK_ROWS;
    let dir = tempfile::tempdir().unwrap();
    let file = people_file(dir.path(), ROWS);
    let import = ["import", "participants", file.as_str(), "--counter", "A-01"];
    let key = app_key();
    for ms in [1500, 3000, 4500] {
        kill_after(app, &key, dir.path(), &import, Duration::from_millis(ms)).await;
        let stored = app.participant_count().await as usize;
        assert_eq!(
            stored % CHUNK_ROWS,
            0,
            "whole chunks only (kill at {ms} ms): {stored}"
        );
        assert!(stored <= ROWS);
    }
    let stored = app.participant_count().await as usize;
    eprintln!("{stored} of {ROWS} rows stored when the last kill came");
    // A kill after the last chunk but before the run was closed also leaves it to finish.
    let unfinished = loket::participants::store::unfinished_import(&app.state.db)
        .await
        .unwrap()
        .is_some();
    if stored < ROWS || unfinished {
        let printed = loket_ok(app, dir.path(), &import).await;
        if stored > 0 {
            let resumed = format!("{stored} rows were stored by an earlier, interrupted attempt");
            assert!(printed.contains(&resumed), "{printed}");
        }
        if stored < ROWS {
            let rest = format!("{} rows imported", ROWS - stored);
            assert!(printed.contains(&rest), "{printed}");
        }
    }
    // Everyone once, every record opens, each with its consent, and the audit chain holds.
    assert_eq!(app.participant_count().await as usize, ROWS);
    assert_eq!(everyone_opens(app, &app.state.vault).await.len(), ROWS);
    assert_eq!(participants_without_consent(app).await, 0);
    let verified = loket_ok(app, dir.path(), &["audit", "verify"]).await;
    assert!(verified.contains("audit chain intact"), "{verified}");
    assert_eq!(
        loket::participants::store::unfinished_import(&app.state.db)
            .await
            .unwrap(),
        None
    );
    // The same file once more is refused as a whole: everyone is already registered.
    let out = super::run(loket(
        &app.state.config.database_url,
        Some(&key),
        dir.path(),
        &import,
    ))
    .await;
    assert!(!out.status.success());
    assert!(
        said(&out).contains("nothing was imported"),
        "{}",
        said(&out)
    );
}

#[tokio::test]
async fn an_import_killed_midway_leaves_whole_chunks_and_finishes_when_run_again() {
    on_each_backend!(import_survives_kill_9);
}
