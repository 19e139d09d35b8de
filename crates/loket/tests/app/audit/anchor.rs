//! The keyed, anchored chain: someone with the database's powers but without the key can
//! neither rewrite entries (recomputing the links) nor remove the newest ones unnoticed once a
//! checkpoint is kept outside the database.

use loket::audit::{self, ChainBreak, Entry};

use super::{drop_append_only_guard, loket_cli};
use crate::common::TestApp;
use crate::on_each_backend;

async fn some_entries(app: &TestApp, n: usize) {
    for i in 0..n {
        let entry = Entry::new("participant.view", "participant", i);
        audit::record(&app.state.db, None, Some("petugas.a"), entry)
            .await
            .unwrap();
    }
}

async fn removed_newest_entries_are_caught_by_a_checkpoint(app: &TestApp) {
    some_entries(app, 6).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit-checkpoint.json");
    let out = loket_cli(app)
        .args(["audit", "checkpoint", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("6 entries"));

    // Someone removes the two newest entries: every remaining link still holds.
    drop_append_only_guard(app).await;
    loket::with_db!(&app.state.db, |pool| {
        sqlx::query(
            "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log ORDER BY id DESC LIMIT 2)",
        )
        .execute(pool)
        .await
        .unwrap();
    });
    assert_eq!(audit::verify(&app.state.db).await.unwrap(), (4, None));

    let point = audit::read_checkpoint(&file).unwrap();
    assert_eq!(
        audit::verify_against(&app.state.db, &point)
            .await
            .unwrap()
            .1,
        Some(ChainBreak::Truncated {
            anchored: 6,
            found: 4
        })
    );
    let out = loket_cli(app)
        .args(["audit", "verify", "--against"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(
            "entries were removed from the end: the checkpoint vouches for 6, the log holds 4"
        ),
        "{said}"
    );
}

#[tokio::test]
async fn verify_against_a_checkpoint_reports_entries_removed_from_the_end() {
    on_each_backend!(removed_newest_entries_are_caught_by_a_checkpoint);
}

async fn rewritten_and_rechained_entries_are_caught(app: &TestApp) {
    some_entries(app, 5).await;
    let point = audit::checkpoint(&app.state.db).await.unwrap();
    let rows = audit::page(&app.state.db, 0, 100).await.unwrap();
    let target = rows[1].id;

    // Edit an entry and recompute every link after it the way the unkeyed chain was made.
    drop_append_only_guard(app).await;
    let mut previous = rows[0].hash.clone();
    for mut row in rows.into_iter().skip(1) {
        if row.id == target {
            row.username = Some("orang-lain".into());
        }
        row.prev_hash = previous;
        row.hash = row.unkeyed_hash();
        previous = row.hash.clone();
        loket::with_db!(&app.state.db, |pool| {
            sqlx::query(
                "UPDATE audit_log SET username = $1, prev_hash = $2, hash = $3 WHERE id = $4",
            )
            .bind(&row.username)
            .bind(&row.prev_hash)
            .bind(&row.hash)
            .bind(row.id)
            .execute(pool)
            .await
            .unwrap();
        });
    }
    assert_eq!(
        audit::verify(&app.state.db).await.unwrap(),
        (1, Some(ChainBreak::Altered { id: target }))
    );
    assert_eq!(
        audit::verify_against(&app.state.db, &point)
            .await
            .unwrap()
            .1,
        Some(ChainBreak::Altered { id: target })
    );

    // A checkpoint edited to match the shortened or rewritten log is not signed.
    let mut forged = point.clone();
    forged.entries = 1;
    assert_eq!(
        audit::verify_against(&app.state.db, &forged)
            .await
            .unwrap()
            .1,
        Some(ChainBreak::CheckpointForged)
    );
}

#[tokio::test]
async fn an_edited_entry_with_the_chain_recomputed_without_the_key_is_reported() {
    on_each_backend!(rewritten_and_rechained_entries_are_caught);
}

async fn the_server_writes_checkpoints_on_its_own(app: &TestApp) {
    some_entries(app, 3).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit-checkpoint.json");
    let mut server = loket_cli(app)
        .args(["serve", "--bind", "127.0.0.1:0", "--audit-checkpoint"])
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut waited = 0;
    while !file.exists() && waited < 300 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let point = audit::read_checkpoint(&file).unwrap();
    assert_eq!(point.entries, 3);
    assert_eq!(
        audit::verify_against(&app.state.db, &point).await.unwrap(),
        (3, None)
    );
}

#[tokio::test]
async fn loket_serve_writes_a_signed_checkpoint_when_asked_to() {
    on_each_backend!(the_server_writes_checkpoints_on_its_own);
}
