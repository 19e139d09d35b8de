//! The counter network: lifecycle with the certified-staff rule, ToT cascade, targets, the
//! dashboard against direct counts, network files and pages; each story on both backends.

use crate::on_each_backend;
use chrono::{NaiveDate, TimeZone, Utc};
use loket::auth::Role;
use loket::counters::dashboard;
use loket::counters::file::{self as netfile, Kind};
use loket::counters::model::*;
use loket::counters::store as cstore;
use loket::participants::file::seal_all;
use loket::participants::model::{validate, ParticipantData, ParticipantFields};
use loket::participants::store::{insert_many, Registration};
use loket::sheet::{read_csv, ImportError};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{sign_in, TestApp};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let r = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    let r = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn version_of(app: &TestApp, counter: i64) -> i64 {
    cstore::counter_row(&app.state.db, counter)
        .await
        .unwrap()
        .unwrap()
        .version
}

/// Head office takes a new counter from planned to operating; the staffing rule blocks it
/// until an officer trained through the cascade holds a valid certificate.
async fn a_counter_operates_only_with_certified_staff(app: &TestApp) {
    let (_, admin) = app.user("admin.pusat", Role::Admin, None).await;
    let db = &app.state.db;
    let office = app.office_a;
    let counter = loket::counters::create_counter(db, office, "A-02", "Loket A Bandara", "planned")
        .await
        .unwrap();
    let path = format!("/api/v1/counters/{counter}/status");

    // planned → operating directly is not a lifecycle step.
    let v = version_of(app, counter).await;
    let (s, body) = post(
        app,
        &admin,
        &path,
        json!({"status": "operating", "effective_on": "2021-06-20", "version": v}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["error"]["fields"][0]["code"],
        "status_transition_invalid"
    );

    let (s, body) = post(
        app,
        &admin,
        &path,
        json!({"status": "preparing", "effective_on": "2021-06-10", "version": v}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "preparing");

    // A stale version is a conflict, not a silent overwrite.
    let (s, body) = post(
        app,
        &admin,
        &path,
        json!({"status": "closed", "effective_on": "2021-06-11", "version": v}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "version_conflict");

    // No officer yet: the error says so.
    let v = version_of(app, counter).await;
    let (s, body) = post(
        app,
        &admin,
        &path,
        json!({"status": "operating", "effective_on": "2021-06-20", "version": v}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["error"]["fields"][0]["code"],
        "certified_officers_missing"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Belum ada petugas"),
        "{body}"
    );
    assert!(
        body["error"]["message_en"]
            .as_str()
            .unwrap()
            .contains("No officer"),
        "{body}"
    );

    // An officer assigned but not yet trained is named in the error.
    let (petugas_user, petugas_token) =
        app.user("siti.petugas", Role::Petugas, Some(counter)).await;
    let (s, body) = post(app, &admin, "/api/v1/officers", json!({"user_id": petugas_user, "full_name": "Siti Rahayu", "cascade_role": "counter_officer"})).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let officer = body["id"].as_i64().unwrap();
    let (s, body) = post(
        app,
        &admin,
        &path,
        json!({"status": "operating", "effective_on": "2021-06-20", "version": v}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Siti Rahayu"),
        "{body}"
    );

    // The cascade: programme office trains a central trainer, who trains the officer.
    let (trainer_user, _) = app.user("budi.pelatih", Role::Admin, None).await;
    let (_, body) = post(app, &admin, "/api/v1/officers", json!({"user_id": trainer_user, "full_name": "Budi Santoso", "cascade_role": "central_trainer"})).await;
    let trainer = body["id"].as_i64().unwrap();
    let (s, body) = post(app, &admin, "/api/v1/tot/batches", json!({"code": "TOT-P-1", "level": "central", "mode": "offline", "start_date": "2021-05-24", "end_date": "2021-05-28", "trainer_name": "Manajemen Pelaksana", "topics": "alur Prakerja"})).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let central = body["id"].as_i64().unwrap();
    // A counter batch needs a certified central trainer: not yet.
    let counter_batch = json!({"code": "TOT-L-1", "level": "counter", "mode": "online", "start_date": "2021-06-14", "end_date": "2021-06-15", "trainer_officer_id": trainer, "trainer_name": "Budi Santoso", "topics": "pendaftaran"});
    let (s, body) = post(app, &admin, "/api/v1/tot/batches", counter_batch.clone()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["fields"][0]["code"], "trainer_not_certified");
    let (_, body) = post(
        app,
        &admin,
        &format!("/api/v1/tot/batches/{central}/results"),
        json!({"officer_id": trainer, "attended": true, "score": 88}),
    )
    .await;
    assert_eq!(body["passed"], true);
    let (s, body) = post(app, &admin, "/api/v1/tot/batches", counter_batch).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let batch = body["id"].as_i64().unwrap();

    // A failed assessment certifies nobody; the corrected result does.
    let results = format!("/api/v1/tot/batches/{batch}/results");
    let (_, body) = post(
        app,
        &admin,
        &results,
        json!({"officer_id": officer, "attended": true, "score": 65}),
    )
    .await;
    assert_eq!(body["passed"], false);
    assert!(
        !loket::counters::officer_is_certified(db, petugas_user, d(2021, 6, 20))
            .await
            .unwrap()
    );
    let (s, _) = post(
        app,
        &admin,
        &results,
        json!({"officer_id": officer, "attended": true, "score": 101}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, body) = post(
        app,
        &admin,
        &results,
        json!({"officer_id": officer, "attended": true, "score": 82}),
    )
    .await;
    assert_eq!(body["passed"], true);

    // Certified from the batch's last day, for two years.
    assert!(
        !loket::counters::officer_is_certified(db, petugas_user, d(2021, 6, 14))
            .await
            .unwrap()
    );
    assert!(
        loket::counters::officer_is_certified(db, petugas_user, d(2021, 6, 15))
            .await
            .unwrap()
    );
    assert!(
        loket::counters::officer_is_certified(db, petugas_user, d(2023, 6, 15))
            .await
            .unwrap()
    );
    assert!(
        !loket::counters::officer_is_certified(db, petugas_user, d(2023, 6, 16))
            .await
            .unwrap()
    );

    // A coordinator of another office may not move this counter; an officer may not either.
    let (_, koordinator_b) = app
        .user("koord.b", Role::Koordinator, Some(app.counter_b))
        .await;
    let (s, _) = post(
        app,
        &koordinator_b,
        &path,
        json!({"status": "operating", "effective_on": "2021-06-20", "version": v}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = post(
        app,
        &petugas_token,
        &path,
        json!({"status": "operating", "effective_on": "2021-06-20", "version": v}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Now it operates; the history keeps the dates.
    let (s, body) = post(app, &admin, &path, json!({"status": "operating", "effective_on": "2021-06-20", "note": "dibuka", "version": v})).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "operating");
    let events = cstore::status_events(db, Some(counter)).await.unwrap();
    let steps: Vec<_> = events
        .iter()
        .map(|e| (e.status.as_str(), e.effective_on))
        .collect();
    assert_eq!(
        steps,
        [("preparing", d(2021, 6, 10)), ("operating", d(2021, 6, 20))]
    );

    // Lineage: officer ← central trainer ← programme office.
    let (_, body) = get(app, &admin, &format!("/api/v1/officers/{officer}")).await;
    let names: Vec<&str> = body["lineage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Siti Rahayu", "Budi Santoso", "Manajemen Pelaksana"]
    );

    // N is a setting: with 2 required, pausing and reopening is refused, naming the gap.
    let (s, _) = app
        .client
        .put(app.url("/api/v1/settings/min_certified_officers"))
        .bearer_auth(&admin)
        .json(&json!({"value": "2"}))
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(s, StatusCode::NO_CONTENT);
    let v = version_of(app, counter).await;
    post(
        app,
        &admin,
        &path,
        json!({"status": "paused", "effective_on": "2021-07-01", "version": v}),
    )
    .await;
    let v = version_of(app, counter).await;
    let (s, body) = post(
        app,
        &admin,
        &path,
        json!({"status": "operating", "effective_on": "2021-07-05", "version": v}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"]["message_en"]
            .as_str()
            .unwrap()
            .contains("at least 2"),
        "{body}"
    );
    let bad = app
        .client
        .put(app.url("/api/v1/settings/min_certified_officers"))
        .bearer_auth(&admin)
        .json(&json!({"value": "zero"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_counter_operates_only_with_certified_staff_on_each_backend() {
    on_each_backend!(a_counter_operates_only_with_certified_staff);
}

fn people(n: usize, first_serial: u16) -> Vec<ParticipantData> {
    (0..n)
        .map(|i| {
            let serial = first_serial + i as u16;
            let nik = nik::Nik::compose("320101", d(1990, 5, 5), nik::Sex::Female, serial).unwrap();
            let fields = ParticipantFields {
                nik: Some(nik.as_str().to_string()),
                full_name: Some(format!("Peserta {serial}")),
                sex: Some("female".into()),
                birth_date: Some("1990-05-05".into()),
                consent_processing: Some("true".into()),
                consent_method: Some("paper_form".into()),
                ..Default::default()
            };
            validate(&fields, d(2026, 1, 1)).unwrap()
        })
        .collect()
}

async fn register(
    app: &TestApp,
    counter: Option<i64>,
    at: chrono::DateTime<Utc>,
    batch: Vec<ParticipantData>,
) {
    let sealed = seal_all(&app.state.vault, batch);
    let unaudited = loket::audit::Batch::new(&app.state.db).unwrap();
    insert_many(
        &app.state.db,
        &sealed,
        Registration {
            counter_id: counter,
            officer_id: None,
            at,
        },
        |_| unaudited.clone(),
        |_| {},
    )
    .await
    .unwrap();
}

async fn direct_count(app: &TestApp, counters: &[i64], until: chrono::DateTime<Utc>) -> i64 {
    let mut total = 0;
    for c in counters {
        let n: i64 = loket::with_db!(&app.state.db, |pool| {
            sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM participants WHERE counter_id = $1 AND created_at < $2")
                .bind(*c)
                .bind(until)
                .fetch_one(pool)
                .await
                .unwrap()
        });
        total += n;
    }
    total
}

/// The dashboard's figures equal direct counts, at every level and on a past day; the WIB
/// day boundary is respected; the projection follows the four-week rate.
async fn dashboard_figures_agree_with_direct_counts(app: &TestApp) {
    let db = &app.state.db;
    let (_, admin) = app.user("admin.pusat", Role::Admin, None).await;
    // Office A (province 32) has counters; office B (35) has B-01.
    let a3 = loket::counters::create_counter(db, app.office_a, "A-03", "Loket A3", "planned")
        .await
        .unwrap();
    let wib = |y, m, day, h| {
        chrono::FixedOffset::east_opt(7 * 3600)
            .unwrap()
            .with_ymd_and_hms(y, m, day, h, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    register(app, Some(app.counter_a), wib(2021, 7, 5, 9), people(30, 1)).await;
    register(
        app,
        Some(app.counter_a),
        wib(2021, 11, 20, 10),
        people(12, 100),
    )
    .await;
    // 06:30 WIB on 1 Dec is still 30 Nov in UTC: it counts for 1 December.
    register(
        app,
        Some(a3),
        wib(2021, 12, 1, 6) + chrono::Duration::minutes(30),
        people(7, 200),
    )
    .await;
    register(
        app,
        Some(app.counter_b),
        wib(2021, 12, 10, 11),
        people(20, 300),
    )
    .await;
    register(
        app,
        Some(app.counter_b),
        wib(2022, 1, 10, 11),
        people(5, 400),
    )
    .await;
    register(app, None, wib(2021, 12, 10, 11), people(3, 500)).await; // imported, no counter: not reached

    cstore::set_target(
        db,
        Metric::Reached,
        None,
        &ScopeRef::National,
        d(2021, 12, 31),
        100,
    )
    .await
    .unwrap();
    let as_of = d(2021, 12, 31);
    let end = wib(2022, 1, 1, 0);
    let national = dashboard::compute(db, &ScopeRef::National, as_of)
        .await
        .unwrap();
    let all = [app.counter_a, a3, app.counter_b];
    assert_eq!(national.reach.reached, direct_count(app, &all, end).await);
    assert_eq!(national.reach.reached, 69);
    let province = dashboard::compute(db, &ScopeRef::Province("32".into()), as_of)
        .await
        .unwrap();
    assert_eq!(
        province.reach.reached,
        direct_count(app, &[app.counter_a, a3], end).await
    );
    let office = dashboard::compute(db, &ScopeRef::Office("UPT-B".into()), as_of)
        .await
        .unwrap();
    assert_eq!(
        office.reach.reached,
        direct_count(app, &[app.counter_b], end).await
    );
    let counter = dashboard::compute(db, &ScopeRef::Counter("A-03".into()), as_of)
        .await
        .unwrap();
    assert_eq!(counter.reach.reached, 7);
    // The children add up to the parent.
    assert_eq!(
        national.children.iter().map(|c| c.reached).sum::<i64>(),
        national.reach.reached
    );
    assert_eq!(national.children.len(), 2);
    assert_eq!(
        province.children.iter().map(|c| c.reached).sum::<i64>(),
        province.reach.reached
    );

    // Moving and removing rows keeps the figures exact (the daily rollup follows by trigger).
    loket::with_db!(db, |pool| {
        sqlx::query("UPDATE participants SET counter_id = $1 WHERE id IN (SELECT id FROM participants WHERE counter_id = $2 ORDER BY id LIMIT 3)")
            .bind(app.counter_a).bind(app.counter_b).execute(pool).await.unwrap();
        sqlx::query("UPDATE participants SET counter_id = $1 WHERE counter_id IS NULL")
            .bind(a3)
            .execute(pool)
            .await
            .unwrap();
        // Consent history rows point at the person: remove them first.
        sqlx::query("DELETE FROM consent_events WHERE participant_id IN (SELECT id FROM participants WHERE counter_id = $1 ORDER BY id LIMIT 2)")
            .bind(app.counter_a).execute(pool).await.unwrap();
        sqlx::query("DELETE FROM participants WHERE id IN (SELECT id FROM participants WHERE counter_id = $1 ORDER BY id LIMIT 2)")
            .bind(app.counter_a).execute(pool).await.unwrap();
    });
    for (scope, ids) in [
        (ScopeRef::National, all.to_vec()),
        (ScopeRef::Office("UPT-B".into()), vec![app.counter_b]),
        (ScopeRef::Counter("A-03".into()), vec![a3]),
    ] {
        let again = dashboard::compute(db, &scope, as_of).await.unwrap();
        assert_eq!(
            again.reach.reached,
            direct_count(app, &ids, end).await,
            "{scope:?}"
        );
    }
    assert_eq!(
        dashboard::compute(db, &ScopeRef::National, as_of)
            .await
            .unwrap()
            .reach
            .reached,
        69 + 3 - 2
    );
    // Put the figures back for the rest of the story.
    register(app, Some(app.counter_a), wib(2021, 7, 5, 9), people(2, 600)).await;
    loket::with_db!(db, |pool| {
        sqlx::query(
            "UPDATE participants SET counter_id = NULL WHERE counter_id = $1 AND created_at > $2",
        )
        .bind(a3)
        .bind(wib(2021, 12, 5, 0))
        .execute(pool)
        .await
        .unwrap();
    });
    let national = dashboard::compute(db, &ScopeRef::National, as_of)
        .await
        .unwrap();
    assert_eq!(national.reach.reached, 69);
    // The WIB day: on 30 Nov the 06:30 WIB registrations of 1 Dec are not there yet.
    let nov = dashboard::compute(db, &ScopeRef::Counter("A-03".into()), d(2021, 11, 30))
        .await
        .unwrap();
    assert_eq!(nov.reach.reached, 0);

    // The monthly chart is cumulative and ends on as_of.
    let reach_chart = national.charts.iter().find(|c| c.key == "reach").unwrap();
    let last = reach_chart.rows.last().unwrap();
    assert_eq!(
        (last.label.as_str(), last.values[0], last.values[1]),
        ("2021-12-31", Some(69), Some(100))
    );
    let july = reach_chart
        .rows
        .iter()
        .find(|r| r.label == "2021-07-31")
        .unwrap();
    assert_eq!(
        july.values[0],
        Some(direct_count(app, &all, wib(2021, 8, 1, 0)).await)
    );

    // Last four weeks (4–31 Dec, so not A-03's 1 Dec): 20; remaining 31 → ceil(31 × 28 / 20)
    // = 44 days after 31 Dec.
    assert_eq!(national.reach.last_four_weeks, 20);
    assert_eq!(national.reach.weekly_rate, 5);
    assert_eq!(national.reach.projected_date, Some(d(2022, 2, 13)));
    assert_eq!(national.reach.on_track, Some(false));
    // With the target met, the day it was met is shown instead.
    cstore::set_target(
        db,
        Metric::Reached,
        None,
        &ScopeRef::National,
        d(2021, 12, 31),
        42,
    )
    .await
    .unwrap();
    let met = dashboard::compute(db, &ScopeRef::National, as_of)
        .await
        .unwrap();
    assert_eq!(
        (met.reach.met_on, met.reach.projected_date),
        (Some(d(2021, 11, 20)), None)
    );

    // Counters by status on a past day follow the status events.
    let v = version_of(app, a3).await;
    let (s, _) = post(
        app,
        &admin,
        &format!("/api/v1/counters/{a3}/status"),
        json!({"status": "preparing", "effective_on": "2021-11-01", "version": v}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let oct = dashboard::compute(db, &ScopeRef::National, d(2021, 10, 31))
        .await
        .unwrap();
    let dec = dashboard::compute(db, &ScopeRef::National, as_of)
        .await
        .unwrap();
    assert_eq!((oct.counters.planned, oct.counters.preparing), (1, 0));
    assert_eq!(
        (
            dec.counters.preparing,
            dec.counters.operating,
            dec.counters.total
        ),
        (1, 2, 3)
    );
    // Seeded targets: 5 operating by 2021-06-30, 92 by 2021-12-31, both missed here.
    let checks: Vec<_> = dec
        .targets
        .iter()
        .filter(|t| t.metric == "counters_operating")
        .map(|t| (t.target, t.actual, t.met))
        .collect();
    assert_eq!(
        checks,
        [(5, Some(2), Some(false)), (92, Some(2), Some(false))]
    );

    // Laggards: a planned opening date that passed without operating puts the office behind.
    loket::with_db!(db, |pool| {
        sqlx::query("UPDATE counters SET planned_open = $1 WHERE id = $2")
            .bind(d(2021, 12, 1))
            .bind(a3)
            .execute(pool)
            .await
            .unwrap();
    });
    let dec = dashboard::compute(db, &ScopeRef::National, as_of)
        .await
        .unwrap();
    let lag: Vec<_> = dec
        .laggards
        .iter()
        .map(|l| (l.office_code.as_str(), l.behind))
        .collect();
    assert_eq!(lag, [("UPT-A", 1)]);

    // The JSON API gives the same figures; a bad scope is a 422, never a 500.
    let (s, body) = get(
        app,
        &admin,
        "/api/v1/dashboard?scope=province:32&as_of=2021-12-31",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let province_32 = [app.counter_a, a3];
    assert_eq!(
        body["reach"]["reached"],
        direct_count(app, &province_32, end).await
    );
    for bad in ["scope=planet:9", "scope=province:99", "as_of=31-12-2021"] {
        let (s, body) = get(app, &admin, &format!("/api/v1/dashboard?{bad}")).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
}

#[tokio::test]
async fn dashboard_figures_agree_with_direct_counts_on_each_backend() {
    on_each_backend!(dashboard_figures_agree_with_direct_counts);
}

/// Network files: every bad row reported with row and column, nothing half-imported; a good
/// file goes in whole and comes back out the same.
async fn network_files_are_all_or_nothing(app: &TestApp) {
    let db = &app.state.db;
    let offices = "code;name;kind;province_code;address\nUPT-NTB;BP3MI NTB;upt;52;Mataram\nP4MI-LOTIM;P4MI Lombok Timur;p4mi;52;\n";
    let bad_counters = "code,office_code,name,location_type,planned_open\nNTB-01,UPT-NTB,Loket NTB,office,2021-07-01\nNTB-02,UPT-XXX,Loket Bandara,airport,2021-13-01\nNTB-01,UPT-NTB,Lagi,office,\n";
    let sheet = read_csv(bad_counters.as_bytes()).unwrap();
    let Err(ImportError::Rejected(errors)) =
        netfile::import(db, None, Kind::Counters, &sheet, false).await
    else {
        panic!("bad counters must be rejected");
    };
    let located: Vec<_> = errors.iter().map(loket::sheet::RowError::place).collect();
    assert_eq!(
        located,
        [
            (2, "B (office_code)", "office_unknown"),
            (3, "B (office_code)", "office_unknown"),
            (3, "D (location_type)", "choice_invalid"),
            (3, "E (planned_open)", "date_invalid"),
            (4, "B (office_code)", "office_unknown"),
            (4, "A (code)", "duplicate_in_file"),
        ]
    );
    assert_eq!(
        cstore::counter_rows(db).await.unwrap().len(),
        2,
        "nothing half-imported"
    );

    let summary = netfile::import(
        db,
        None,
        Kind::Offices,
        &read_csv(offices.as_bytes()).unwrap(),
        false,
    )
    .await
    .unwrap();
    assert_eq!((summary.created, summary.updated), (2, 0));
    let good = "code,office_code,name,location_type,planned_open,opening_hours\nNTB-01,UPT-NTB,Loket NTB,office,2021-07-01,08-16\nNTB-02,UPT-NTB,Loket BIL,arrival,2021-08-01,\n";
    let summary = netfile::import(
        db,
        None,
        Kind::Counters,
        &read_csv(good.as_bytes()).unwrap(),
        true,
    )
    .await
    .unwrap();
    assert_eq!((summary.rows, summary.dry_run), (2, true));
    assert_eq!(
        cstore::counter_rows(db).await.unwrap().len(),
        2,
        "a dry run writes nothing"
    );
    netfile::import(
        db,
        None,
        Kind::Counters,
        &read_csv(good.as_bytes()).unwrap(),
        false,
    )
    .await
    .unwrap();
    let ntb = cstore::counter_rows(db)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.code == "NTB-02")
        .unwrap();
    assert_eq!(
        (
            ntb.location_type.as_str(),
            ntb.status.as_str(),
            ntb.planned_open
        ),
        ("arrival", "planned", Some(d(2021, 8, 1)))
    );

    let officers = "username,full_name,role,cascade_role,counter_code\nina.ntb,Ina Lestari,petugas,counter_officer,NTB-01\nrina.ntb,Rina,petugas,,NTB-09\n";
    let Err(ImportError::Rejected(errors)) = netfile::import(
        db,
        None,
        Kind::Officers,
        &read_csv(officers.as_bytes()).unwrap(),
        false,
    )
    .await
    else {
        panic!("bad officers must be rejected");
    };
    let located: Vec<_> = errors.iter().map(loket::sheet::RowError::place).collect();
    assert_eq!(
        located,
        [
            (3, "D (cascade_role)", "required"),
            (3, "E (counter_code)", "counter_unknown")
        ]
    );
    assert!(cstore::officer_rows(db).await.unwrap().is_empty());
    let officers = "username,full_name,role,cascade_role,counter_code\nina.ntb,Ina Lestari,petugas,counter_officer,NTB-01\n";
    netfile::import(
        db,
        None,
        Kind::Officers,
        &read_csv(officers.as_bytes()).unwrap(),
        false,
    )
    .await
    .unwrap();
    let user = loket::auth::store::user_by_username(db, "ina.ntb")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.counter_id, Some(ntb.id - 1));

    // Export, then import the export: the same rows come back as updates.
    let dir = tempfile::tempdir().unwrap();
    for (kind, name) in [(Kind::Offices, "o.csv"), (Kind::Counters, "c.xlsx")] {
        let path = dir.path().join(name);
        let n = netfile::export(db, kind, loket::sheet::Format::from_path(&path), &path)
            .await
            .unwrap();
        let sheet = loket::sheet::read_sheet(&path).unwrap();
        assert_eq!(sheet.rows.len(), n);
        let again = netfile::import(db, None, kind, &sheet, true).await.unwrap();
        assert_eq!((again.rows, again.updated), (n, n));
    }
}

#[tokio::test]
async fn network_files_are_all_or_nothing_on_each_backend() {
    on_each_backend!(network_files_are_all_or_nothing);
}

/// The pages: a light dashboard with SVG charts and their numbers, downloads that hold the
/// same numbers, and the status form refusing an unstaffed counter in plain HTML.
async fn pages_show_the_dashboard_and_the_lifecycle(app: &TestApp) {
    app.user("admin.pusat", Role::Admin, None).await;
    let wib = |y, m, day| {
        chrono::FixedOffset::east_opt(7 * 3600)
            .unwrap()
            .with_ymd_and_hms(y, m, day, 9, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    register(app, Some(app.counter_a), wib(2021, 12, 1), people(4, 1)).await;
    let (client, csrf) = sign_in(app, "admin.pusat").await;
    let page = client
        .get(app.url("/dashboard?as_of=2021-12-31"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.len() < 60_000, "dashboard is {} bytes", html.len());
    assert!(html.contains("<svg") && html.contains("<desc id=\"c-reach-d\">"));
    assert!(html.contains("Purna PMI terjangkau"));
    assert!(
        html.contains("scope=province%3A32"),
        "drill-down link to the province"
    );
    let csv = client
        .get(app.url("/dashboard/download/reach?scope=national&as_of=2021-12-31"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The seeded 110,000 count card recipients, not registrations: the registrations chart
    // has no target, and the seeded one is checked against `accepted` (see the reach story).
    assert!(csv.trim_end().ends_with("2021-12-31,4,"), "{csv}");
    let xlsx = client
        .get(app.url("/dashboard/download/counters?as_of=2021-12-31&format=xlsx"))
        .send()
        .await
        .unwrap();
    assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"));
    let page = client
        .get(app.url("/dashboard?scope=province%3A99"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let db = &app.state.db;
    let counter = loket::counters::create_counter(db, app.office_a, "A-09", "Loket A9", "planned")
        .await
        .unwrap();
    let v = version_of(app, counter).await.to_string();
    let form = |status: &'static str, v: String| {
        vec![
            ("csrf", csrf.clone()),
            ("version", v),
            ("status", status.to_string()),
            ("effective_on", "2021-06-01".to_string()),
        ]
    };
    let r = client
        .post(app.url(&format!("/counters/{counter}")))
        .form(&form("preparing", v))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let v = version_of(app, counter).await.to_string();
    let r = client
        .post(app.url(&format!("/counters/{counter}")))
        .form(&form("operating", v))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"status-alert\"") && html.contains("Belum ada petugas"),
        "the error names what is missing"
    );
    let list = client
        .get(app.url("/counters"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("A-09") && list.contains("Persiapan"));
    assert_eq!(
        client
            .get(app.url("/officers"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn pages_show_the_dashboard_and_the_lifecycle_on_each_backend() {
    on_each_backend!(pages_show_the_dashboard_and_the_lifecycle);
}

/// People of any counter who have a stage still in effect (not voided, not replaced by a
/// correction), counted straight from the event log.
async fn direct_stage_count(app: &TestApp, stage: &str) -> i64 {
    loket::with_db!(&app.state.db, |pool| {
        sqlx::query_scalar(
            "SELECT CAST(COUNT(DISTINCT e.participant_id) AS BIGINT) FROM journey_events e \
             JOIN participants p ON p.id = e.participant_id \
             WHERE p.counter_id IS NOT NULL AND e.stage = $1 AND NOT e.voids \
             AND e.id NOT IN (SELECT c.correction_of FROM journey_events c WHERE c.correction_of IS NOT NULL)",
        )
        .bind(stage)
        .fetch_one(pool)
        .await
        .unwrap()
    })
}

async fn direct_simple_count(app: &TestApp, sql: &str) -> i64 {
    loket::with_db!(&app.state.db, |pool| {
        sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
    })
}

/// Each reach definition (registered, accepted, bought, finished, incentive, assisted) is a
/// figure of its own on the dashboard, equal to a direct count; a target names the definition
/// it counts, and `card_received` counts people accepted as card recipients.
async fn each_reach_definition_equals_a_direct_count(app: &TestApp) {
    let db = &app.state.db;
    let network = loket::demo::seed_network(db).await.unwrap();
    loket::demo::seed_people(db, &app.state.vault, &network, 400)
        .await
        .unwrap();
    loket::journey::demo::seed(db).await.unwrap();
    // Two people assisted at counter A, one of them twice: two people assisted.
    let (officer_id, officer) = app
        .user("petugas.a", Role::Petugas, Some(app.counter_a))
        .await;
    crate::common::certify(app, officer_id).await;
    let api = app.api(&officer);
    let first = api.register_person("3201014505900001", "Siti Aminah").await;
    let second = api
        .register_person("3201014505900002", "Dewi Lestari")
        .await;
    for (id, at) in [
        (first, "2021-07-06T03:00:00Z"),
        (first, "2021-07-08T03:00:00Z"),
        (second, "2021-07-07T03:00:00Z"),
    ] {
        let r = api
            .post(
                &format!("/api/v1/participants/{id}/journey/sessions"),
                &json!({"started_at": at, "channel": "walk_in", "steps": ["choose_training"], "outcome": "done"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }

    let today = loket::clock::today();
    let d = dashboard::compute(db, &ScopeRef::National, today)
        .await
        .unwrap();
    let figure = |def: ReachDefinition| {
        d.reach_by_definition
            .iter()
            .find(|r| r.definition == def.code())
            .unwrap()
            .reached
    };
    let registered = direct_simple_count(
        app,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM participants WHERE counter_id IS NOT NULL",
    )
    .await;
    let assisted = direct_simple_count(
        app,
        "SELECT CAST(COUNT(DISTINCT s.participant_id) AS BIGINT) FROM journey_sessions s \
         JOIN participants p ON p.id = s.participant_id WHERE p.counter_id IS NOT NULL",
    )
    .await;
    assert_eq!(assisted, 2);
    assert_eq!(figure(ReachDefinition::Registered), registered);
    assert_eq!(figure(ReachDefinition::Assisted), assisted);
    for (def, stage) in [
        (ReachDefinition::Accepted, "accepted"),
        (ReachDefinition::TrainingBought, "training_bought"),
        (ReachDefinition::TrainingCompleted, "training_completed"),
        (ReachDefinition::IncentivePaid, "incentive_paid"),
    ] {
        let direct = direct_stage_count(app, stage).await;
        assert!(direct > 0, "the demo has no {stage}");
        assert_eq!(figure(def), direct, "{stage}");
    }
    // The funnel narrows: each later definition counts fewer people than registered.
    assert!(figure(ReachDefinition::Accepted) < registered);
    assert!(figure(ReachDefinition::IncentivePaid) <= figure(ReachDefinition::TrainingBought));
    // An office's figures add up to the nation's.
    let offices: i64 = {
        let mut sum = 0;
        for office in loket::counters::offices(db).await.unwrap() {
            if let Ok(o) = dashboard::compute(db, &ScopeRef::Office(office.code), today).await {
                sum += o
                    .reach_by_definition
                    .iter()
                    .find(|r| r.definition == "accepted")
                    .unwrap()
                    .reached;
            }
        }
        sum
    };
    assert_eq!(offices, figure(ReachDefinition::Accepted));

    // The seed's 110,000 are card recipients: that target is measured against `accepted`.
    let accepted = figure(ReachDefinition::Accepted);
    let seed = d
        .targets
        .iter()
        .find(|t| t.target == 110_000)
        .expect("the seeded reach target");
    assert_eq!(seed.definition.as_deref(), Some("accepted"));
    let end_2021 = dashboard::compute(
        db,
        &ScopeRef::National,
        NaiveDate::from_ymd_opt(2021, 12, 31).unwrap(),
    )
    .await
    .unwrap();
    let accepted_2021 = end_2021
        .reach_by_definition
        .iter()
        .find(|r| r.definition == "accepted")
        .unwrap()
        .reached;
    assert_eq!(seed.actual, Some(accepted_2021));
    assert_eq!(end_2021.reach_by_definition[1].target, Some(110_000));
    let (_, admin) = app.user("admin.pusat", Role::Admin, None).await;
    let admin = app.api(&admin);
    // Targets a year ahead are measured on today.
    let ahead = today + chrono::Duration::days(365);
    for body in [
        json!({"metric": "card_received", "scope": "national", "period_end": ahead.to_string(), "value": 50}),
        json!({"metric": "reached", "definition": "training_completed", "scope": "national", "period_end": ahead.to_string(), "value": 40}),
        json!({"metric": "reached", "scope": "national", "period_end": ahead.to_string(), "value": 30}),
    ] {
        let r = admin
            .request(reqwest::Method::PUT, "/api/v1/targets")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    let r = admin
        .request(reqwest::Method::PUT, "/api/v1/targets")
        .json(&json!({"metric": "reached", "definition": "liked_a_post", "scope": "national", "period_end": "2022-12-31", "value": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let d = dashboard::compute(db, &ScopeRef::National, today)
        .await
        .unwrap();
    let check = |metric: &str, def: &str| {
        d.targets
            .iter()
            .find(|t| {
                t.metric == metric && t.definition.as_deref() == Some(def) && t.period_end == ahead
            })
            .and_then(|t| t.actual)
    };
    assert_eq!(check("card_received", "accepted"), Some(accepted));
    assert_eq!(
        check("reached", "training_completed"),
        Some(figure(ReachDefinition::TrainingCompleted))
    );
    assert_eq!(check("reached", "registered"), Some(registered));
    let listed = admin.get_json("/api/v1/targets").await;
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["definition"] == "training_completed" && t["value"] == 40));

    // The page shows every definition side by side.
    let page = app.session("admin.pusat").await.page("/dashboard").await;
    for label in [
        "Terdaftar di loket",
        "Diterima di gelombang (penerima kartu)",
        "Membeli pelatihan",
        "Menyelesaikan pelatihan",
        "Menerima insentif (minimal sekali)",
        "Didampingi (minimal satu sesi)",
    ] {
        assert!(page.contains(label), "{label} missing");
    }
}

#[tokio::test]
async fn each_reach_definition_equals_a_direct_count_on_each_backend() {
    on_each_backend!(each_reach_definition_equals_a_direct_count);
}

/// Head office sets a target from a page: a mistake comes back beside its field with what was
/// typed kept, a good one is listed and measured on the dashboard; a coordinator sees the
/// targets but has no form.
async fn head_office_sets_targets_from_a_page(app: &TestApp) {
    app.user("admin.pusat", Role::Admin, None).await;
    app.user("koor.a", Role::Koordinator, Some(app.counter_a))
        .await;
    let admin = app.session("admin.pusat").await;
    let dashboard = admin.page("/dashboard").await;
    assert!(
        dashboard.contains("href=\"/targets\""),
        "linked from the dashboard"
    );
    let page = admin.page("/targets").await;
    assert!(page.contains("id=\"target-form\""));
    // The seeded targets are listed by name, the 110,000 as card recipients.
    assert!(page.contains("Purna PMI terjangkau: Diterima di gelombang (penerima kartu)"));
    assert!(page.contains("110.000"));

    let bad = admin
        .post_form(
            "/targets",
            &[
                ("csrf", admin.csrf.as_str()),
                ("metric", "reached"),
                ("definition", "assisted"),
                ("scope", "national"),
                ("period_end", "31-12-2022"),
                ("value", "seribu"),
            ],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text().await.unwrap();
    assert!(html.contains("id=\"period_end-error\""), "{html}");
    assert!(html.contains("Tulis target sebagai bilangan bulat"));
    assert!(html.contains("value=\"seribu\""), "what was typed is kept");

    let ok = admin
        .post_form(
            "/targets",
            &[
                ("csrf", admin.csrf.as_str()),
                ("metric", "reached"),
                ("definition", "assisted"),
                ("scope", "office:UPT-A"),
                ("period_end", "2099-12-31"),
                ("value", "2500"),
            ],
        )
        .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let page = admin.page("/targets?saved=1").await;
    assert!(page.contains("Target disimpan."));
    assert!(page.contains("Purna PMI terjangkau: Didampingi (minimal satu sesi)"));
    assert!(page.contains("31-12-2099") && page.contains("2.500"));
    let office = dashboard::compute(
        &app.state.db,
        &ScopeRef::Office("UPT-A".into()),
        loket::clock::today(),
    )
    .await
    .unwrap();
    let assisted = office
        .reach_by_definition
        .iter()
        .find(|r| r.definition == "assisted")
        .unwrap();
    assert_eq!(assisted.target, Some(2500));

    let koor = app.session("koor.a").await;
    let page = koor.page("/targets").await;
    assert!(page.contains("31-12-2099"));
    assert!(!page.contains("id=\"target-form\""));
    let refused = koor
        .post_form(
            "/targets",
            &[
                ("csrf", koor.csrf.as_str()),
                ("metric", "counters_operating"),
                ("scope", "national"),
                ("period_end", "2099-12-31"),
                ("value", "1"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn head_office_sets_targets_from_a_page_on_each_backend() {
    on_each_backend!(head_office_sets_targets_from_a_page);
}

/// The demo's cascade happens in the order it did: the central ToT opened virtually on
/// 3 June 2021, every counter officer is trained after their trainer was certified, and no
/// counter operates before one of its officers is certified; at least five operate by the end
/// of June 2021.
async fn the_demo_cascade_trains_trainers_first(app: &TestApp) {
    let db = &app.state.db;
    let network = loket::demo::seed_network(db).await.unwrap();
    loket::counters::demo::seed_rollout(db, &network)
        .await
        .unwrap();
    let batches = cstore::batch_rows(db).await.unwrap();
    let central = batches.iter().find(|b| b.level == "central").unwrap();
    assert_eq!(central.start_date, d(2021, 6, 3));
    assert_eq!(central.mode, "online");
    let certs = cstore::certifications(db, None).await.unwrap();
    let trainer_certified = |officer: i64| {
        certs
            .iter()
            .filter(|c| c.officer_id == officer)
            .map(|c| c.certified_on)
            .min()
    };
    for b in batches.iter().filter(|b| b.level == "counter") {
        let trainer = b
            .trainer_officer_id
            .expect("a counter batch names its trainer");
        let certified = trainer_certified(trainer).expect("the trainer is certified");
        assert!(
            b.start_date > certified,
            "{} starts {} before its trainer's certificate of {certified}",
            b.code,
            b.start_date
        );
    }
    let june = dashboard::compute(db, &ScopeRef::National, d(2021, 6, 30))
        .await
        .unwrap();
    assert!(june.counters.operating >= 5 + 2, "{:?}", june.counters);
    let before = dashboard::compute(db, &ScopeRef::National, d(2021, 6, 4))
        .await
        .unwrap();
    // The test's own two counters (A-01, B-01) operate without a recorded history.
    assert_eq!(before.counters.operating, 2);
}

#[tokio::test]
async fn the_demo_cascade_trains_trainers_first_on_each_backend() {
    on_each_backend!(the_demo_cascade_trains_trainers_first);
}
