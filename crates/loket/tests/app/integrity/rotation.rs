//! Key rotation beside a live server: an edit confirmed while the rotation runs is what the
//! record shows afterwards, and a rotation killed midway finishes when run again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use loket::participants::file;
use loket::participants::model::Phone;
use loket::vault::Vault;

use super::{app_key, everyone_opens, kill_after, loket_ok};
use crate::common::{backends, registration_at, spawn_app_with_key, TestApp, DATA_KEY};
use crate::on_each_backend;

const NEW_KEY: [u8; 32] = [0x24; 32];

fn ring_key() -> String {
    format!("1:{},2:{}", hex::encode(DATA_KEY), hex::encode(NEW_KEY))
}

fn new_key_only() -> Vault {
    Vault::from_ring(&[(2, NEW_KEY)]).unwrap()
}

/// `rows` people imported under the old key alone, as before `loket keys add`.
async fn people_under_the_old_key(app: &TestApp, rows: usize) -> Vec<i64> {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    loket::demo::write_csv(&csv, rows, 5).unwrap();
    let sheet = loket::sheet::read_sheet(&csv).unwrap();
    let old = Vault::from_master(&DATA_KEY);
    let reg = registration_at(Some(app.counter_a));
    file::import(
        &app.state.db,
        &old,
        &sheet,
        reg,
        crate::common::TEST_IMPORT,
        false,
        |_| {},
    )
    .await
    .unwrap();
    everyone_opens(app, &old)
        .await
        .iter()
        .map(|p| p.id)
        .collect()
}

/// An officer's API calls from a task of its own.
#[derive(Clone)]
struct Officer {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Officer {
    fn request(&self, method: reqwest::Method, id: i64) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}/api/v1/participants/{id}", self.base))
            .bearer_auth(&self.token)
    }
}

/// Edits the phones of `ids` one after another until `stop`, each with `If-Match`; returns
/// the last confirmed phone of each id.
async fn edit_phones(
    officer: Officer,
    ids: Vec<i64>,
    task: u64,
    stop: Arc<AtomicBool>,
) -> HashMap<i64, String> {
    let mut confirmed = HashMap::new();
    let mut versions: HashMap<i64, i64> = HashMap::new();
    let mut n = 0u64;
    'edits: while !stop.load(Ordering::SeqCst) {
        for id in &ids {
            let version = match versions.get(id) {
                Some(v) => *v,
                None => {
                    let response = officer.request(reqwest::Method::GET, *id).send().await;
                    let body: Value = response.unwrap().json().await.unwrap();
                    body["version"].as_i64().unwrap()
                }
            };
            n += 1;
            let phone = format!("+62812{task:02}{n:06}");
            let response = officer
                .request(reqwest::Method::PATCH, *id)
                .header("If-Match", version.to_string())
                .json(&json!({ "phone": phone }))
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            match status {
                StatusCode::OK => {
                    versions.insert(*id, body["version"].as_i64().unwrap());
                    confirmed.insert(*id, phone);
                }
                StatusCode::CONFLICT => {
                    versions.remove(id);
                }
                // Busy past the timeout on a loaded machine: a clear answer, not a change.
                StatusCode::SERVICE_UNAVAILABLE => {
                    assert_eq!(body["error"]["code"], "database_busy");
                }
                other => panic!("PATCH participant {id}: {other} {body}"),
            }
            if stop.load(Ordering::SeqCst) {
                break 'edits;
            }
        }
    }
    confirmed
}

async fn rotation_keeps_edits(app: &TestApp) {
    let ids = people_under_the_old_key(app, 3000).await;
    let (_, token) = app.officer_a().await;
    let officer = Officer {
        client: app.client.clone(),
        base: app.base.clone(),
        token,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let tasks = 6u64;
    // Each task edits its own people, so "the last confirmed edit" of a person is well defined.
    let editors: Vec<_> = (0..tasks)
        .map(|t| {
            let mine: Vec<i64> = ids
                .iter()
                .copied()
                .filter(|id| *id as u64 % tasks == t)
                .collect();
            tokio::spawn(edit_phones(officer.clone(), mine, t, stop.clone()))
        })
        .collect();
    // Let the edits get going first.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let report = loket::keys::rotate(&app.state.db, &app.state.vault, None, |_| {})
        .await
        .unwrap();
    stop.store(true, Ordering::SeqCst);
    assert!(report.finished);
    let mut confirmed: HashMap<i64, String> = HashMap::new();
    for editor in editors {
        confirmed.extend(editor.await.unwrap());
    }
    assert!(
        confirmed.len() > 100,
        "edits ran beside the rotation: {}",
        confirmed.len()
    );

    // Every record opens with the new key alone, and shows its last confirmed phone.
    let now: HashMap<i64, Option<String>> = everyone_opens(app, &new_key_only())
        .await
        .into_iter()
        .map(|p| (p.id, p.data.phone.map(|ph| ph.as_str().to_string())))
        .collect();
    assert_eq!(now.len(), 3000);
    let lost: Vec<_> = confirmed
        .iter()
        .filter(|(id, phone)| now[*id].as_deref() != Some(Phone::parse(phone).unwrap().as_str()))
        .collect();
    assert!(
        lost.is_empty(),
        "{} confirmed edits lost, e.g. {:?}",
        lost.len(),
        lost.first()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn key_rotation_keeps_every_edit_confirmed_while_it_runs() {
    for backend in backends() {
        let app = spawn_app_with_key(backend, &ring_key()).await;
        eprintln!("running rotation_keeps_edits on {backend:?}");
        rotation_keeps_edits(&app).await;
        app.cleanup().await;
    }
}

async fn rotation_survives_kill_9(app: &TestApp) {
    people_under_the_old_key(app, 3000).await;
    let before: Vec<_> = everyone_opens(app, &app.state.vault)
        .await
        .into_iter()
        .map(|p| p.data)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let ring = Vault::from_ring(&[(1, DATA_KEY), (2, NEW_KEY)]).unwrap();
    for ms in [300, 900, 1800] {
        kill_after(
            app,
            &ring_key(),
            dir.path(),
            &["keys", "rotate"],
            Duration::from_millis(ms),
        )
        .await;
        // Midway, everyone still opens with the ring, unchanged.
        let middle: Vec<_> = everyone_opens(app, &ring)
            .await
            .into_iter()
            .map(|p| p.data)
            .collect();
        assert_eq!(middle, before, "after a kill at {ms} ms");
    }
    let key = ring_key();
    let out = super::run(super::loket(
        &app.state.config.database_url,
        Some(&key),
        dir.path(),
        &["keys", "rotate"],
    ))
    .await;
    assert!(out.status.success(), "{}", super::said(&out));
    assert!(super::said(&out).contains("finished"));
    let after: Vec<_> = everyone_opens(app, &new_key_only())
        .await
        .into_iter()
        .map(|p| p.data)
        .collect();
    assert_eq!(after, before);
    assert_eq!(
        loket::keys::key_usage(&app.state.db).await.unwrap(),
        [(2, 3000)]
    );
    let verified = loket_ok(app, dir.path(), &["audit", "verify"]).await;
    assert!(verified.contains("audit chain intact"), "{verified}");
    let _ = app_key();
}

#[tokio::test]
async fn a_rotation_killed_midway_finishes_when_run_again() {
    on_each_backend!(rotation_survives_kill_9);
}
