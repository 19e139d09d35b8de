//! The funnel read from its roll-up equals the funnel counted row by row, whatever was
//! recorded (bulk loads, the service, corrections and voids) and whatever the date range and
//! scope; the follow-up list ranks and cuts in SQL exactly as the rows say.

use chrono::{Duration, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::StatusCode;
use serde_json::{json, Value};

use loket::auth::Role;
use loket::i18n::Lang;
use loket::journey::demo::{synthesize, Seat};
use loket::journey::store::{self, FunnelScope};
use loket::journey::{funnel_figures, funnel_figures_direct};

use super::{caller, register, Caller};
use crate::common::{person_json, TestApp};
use crate::on_each_backend;

fn nik(serial: u32) -> String {
    format!("320101450590{serial:04}")
}

/// Records a synthetic journey through the API, event by event; stops at the first refusal.
async fn record(
    officer: &Caller<'_>,
    db: &loket::db::Db,
    id: i64,
    events: &[loket::journey::NewEvent],
    nik: &str,
) -> usize {
    let batches = store::batches(db).await.unwrap();
    let mut recorded = 0;
    for e in events {
        let mut body = json!({
            "stage": e.stage,
            "occurred_on": loket::journey::local_day(e.occurred_at).to_string(),
            "occupation": "none",
        });
        if let Some(batch) = e.batch_id.and_then(|b| batches.iter().find(|x| x.id == b)) {
            body["batch"] = json!(batch.number);
        }
        for (key, value) in [
            ("card_number", e.fields.card_number.clone()),
            ("training_title", e.fields.training_title.clone()),
            ("training_platform", e.fields.training_platform.clone()),
        ] {
            if let Some(v) = value {
                body[key] = json!(v);
            }
        }
        if let Some(amount) = e.fields.amount {
            body["amount"] = json!(amount);
        }
        match e.fields.channel.as_deref() {
            Some("bank") => {
                body["channel"] = json!("bank");
                body["holder_nik"] = json!(nik);
            }
            Some(_) => {
                body["channel"] = json!("ewallet");
                body["ewallet_phone"] = json!("0812 3456 7890");
            }
            None => {}
        }
        let (status, _) = officer
            .post(&format!("/api/v1/participants/{id}/journey/events"), body)
            .await;
        if status != StatusCode::CREATED {
            break;
        }
        recorded += 1;
    }
    recorded
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Every scope and range the roll-up must get right, against the row-by-row count.
async fn assert_funnels_agree(app: &TestApp, scopes: &[FunnelScope], when: &str) {
    let today = loket::clock::today();
    let ranges = [
        (day(2020, 1, 1), today),
        (day(2021, 1, 1), day(2021, 12, 31)),
        (day(2020, 6, 15), day(2021, 3, 10)),
        (day(2021, 5, 3), day(2021, 5, 27)),
        (today - Duration::days(45), today),
        (today - Duration::days(70), today - Duration::days(20)),
        (today - Duration::days(10), today + Duration::days(40)),
        (today - Duration::days(3), today - Duration::days(3)),
        (today, today - Duration::days(1)),
    ];
    let db = &app.state.db;
    for scope in scopes {
        for (from, to) in ranges {
            let rolled = funnel_figures(db, scope, from, to, Lang::En).await.unwrap();
            let direct = funnel_figures_direct(db, scope, from, to, Lang::En)
                .await
                .unwrap();
            assert_eq!(
                serde_json::to_value(&rolled).unwrap(),
                serde_json::to_value(&direct).unwrap(),
                "{when}: {scope:?} {from}..{to}"
            );
        }
    }
}

async fn rollup_matches_direct(app: &TestApp) {
    let db = &app.state.db;
    // Bulk-loaded demo journeys across the whole network.
    let network = loket::demo::seed_network(db).await.unwrap();
    loket::demo::seed_people(db, &app.state.vault, &network, 250)
        .await
        .unwrap();
    loket::journey::demo::seed(db).await.unwrap();

    // Journeys recorded one event at a time through the service, at two counters of one office
    // and one of another.
    let counter_a2 =
        loket::counters::create_counter(db, app.office_a, "A-02", "Loket A2", "operating")
            .await
            .unwrap();
    let admin = caller(app, "admin", Role::Admin, None).await;
    let officers = [
        (
            caller(app, "petugas.a", Role::Petugas, Some(app.counter_a)).await,
            app.counter_a,
            app.office_a,
            "32",
        ),
        (
            caller(app, "petugas.a2", Role::Petugas, Some(counter_a2)).await,
            counter_a2,
            app.office_a,
            "32",
        ),
        (
            caller(app, "petugas.b", Role::Petugas, Some(app.counter_b)).await,
            app.counter_b,
            app.office_b,
            "35",
        ),
    ];
    let rules = store::rules(db).await.unwrap();
    let today = loket::clock::today();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut people = Vec::new();
    for k in 0..24u32 {
        let (officer, counter, office, province) = &officers[k as usize % officers.len()];
        let mut body = person_json(&nik(k + 1), &format!("Peserta {k}"));
        body["kk"] = json!(format!("32010101010{:05}", k + 1));
        let id = register(officer, body).await;
        let start = if rng.gen_bool(0.4) {
            day(2020, 4, 1) + Duration::days(rng.gen_range(0..600))
        } else {
            today - Duration::days(rng.gen_range(0..120))
        };
        let seat = Seat {
            participant_id: id,
            counter_id: Some(*counter),
            office_id: Some(*office),
            province_code: Some(province.to_string()),
        };
        let events = synthesize(&mut rng, &seat, start, today, &rules);
        let recorded = record(officer, db, id, &events, &nik(k + 1)).await;
        assert!(recorded > 0, "{events:?}");
        people.push(id);
    }

    let mut scopes = vec![
        FunnelScope::Nation,
        FunnelScope::Province("32".into()),
        FunnelScope::Province("35".into()),
        FunnelScope::Office(app.office_a),
        FunnelScope::Office(app.office_b),
        FunnelScope::Counter(app.counter_a),
        FunnelScope::Counter(counter_a2),
        FunnelScope::Counter(app.counter_b),
    ];
    let (first_counter, _) = network[0];
    scopes.push(FunnelScope::Counter(first_counter));
    if let Some(office) = loket::counters::office_of(db, first_counter).await.unwrap() {
        scopes.push(FunnelScope::Office(office));
    }
    assert_funnels_agree(app, &scopes, "recorded").await;

    // Corrections (a day later) and voids move people between months, stages and dwell bars.
    let mut changed = 0;
    for (i, id) in people.iter().enumerate() {
        let (_, journey) = admin
            .get(&format!("/api/v1/participants/{id}/journey"))
            .await;
        let events: Vec<Value> = journey["events"].as_array().cloned().unwrap_or_default();
        let Some(event) = events.get(i % events.len().max(1)).or(events.last()) else {
            continue;
        };
        let event_id = event["id"].as_i64().unwrap();
        let body = if i % 3 == 0 {
            json!({"void": true, "reason": "Salah catat"})
        } else {
            let on = NaiveDate::parse_from_str(
                &event["occurred_at"].as_str().unwrap()[..10],
                "%Y-%m-%d",
            )
            .unwrap();
            json!({"occurred_on": (on + Duration::days(1 + i as i64 % 5)).to_string(), "reason": "Tanggal keliru", "override_reason": "Koreksi data uji"})
        };
        let (status, _) = admin
            .post(
                &format!("/api/v1/participants/{id}/journey/events/{event_id}/correction"),
                body,
            )
            .await;
        if status == StatusCode::CREATED {
            changed += 1;
        }
    }
    assert!(changed >= 6, "only {changed} corrections went through");
    assert_funnels_agree(app, &scopes, "corrected").await;

    // A rebuild rewrites every row and refills the roll-up: still the same.
    loket::journey::rebuild(db, |_| {}).await.unwrap();
    assert_funnels_agree(app, &scopes, "rebuilt").await;
}

#[tokio::test]
async fn the_funnel_from_its_rollup_equals_a_count_of_every_row() {
    on_each_backend!(rollup_matches_direct);
}

async fn follow_up_ranks_and_cuts_in_sql(app: &TestApp) {
    let db = &app.state.db;
    let officer = caller(app, "petugas.a", Role::Petugas, Some(app.counter_a)).await;
    let rules = store::rules(db).await.unwrap();
    loket::journey::demo::seed_batches(db, loket::clock::today())
        .await
        .unwrap();
    let rules = if rules.batches.is_empty() {
        store::rules(db).await.unwrap()
    } else {
        rules
    };
    let today = loket::clock::today();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for k in 0..30u32 {
        let mut body = person_json(&nik(k + 1), &format!("Peserta {k}"));
        body["kk"] = json!(format!("32010101010{:05}", k + 1));
        let id = register(&officer, body).await;
        let start = today - Duration::days(rng.gen_range(0..90));
        let seat = Seat {
            participant_id: id,
            counter_id: Some(app.counter_a),
            office_id: Some(app.office_a),
            province_code: Some("32".into()),
        };
        let events = synthesize(&mut rng, &seat, start, today, &rules);
        record(&officer, db, id, &events, &nik(k + 1)).await;
    }
    let list = |limit: usize| {
        let officer = &officer;
        async move {
            let (status, out) = officer
                .get(&format!(
                    "/api/v1/journey/follow-up?counter={}&days=7&limit={limit}",
                    app.counter_a
                ))
                .await;
            assert_eq!(status, StatusCode::OK, "{out}");
            out
        }
    };
    let all = list(1000).await;
    let items = all["items"].as_array().unwrap().clone();
    let total = all["total"].as_u64().unwrap() as usize;
    assert_eq!(items.len(), total);
    assert!(total >= 5, "too few people due to test the order: {total}");
    // The order the list promises: purchase deadlines ahead first, then the earliest reason
    // day, then the participant id.
    let key = |item: &Value| {
        let reasons = item["reasons"].as_array().unwrap();
        let soon = reasons
            .iter()
            .any(|r| r["code"] == "purchase_deadline_soon");
        let earliest = reasons
            .iter()
            .map(|r| r["day"].as_str().unwrap().to_string())
            .min()
            .unwrap();
        (!soon, earliest, item["participant_id"].as_i64().unwrap())
    };
    let keys: Vec<_> = items.iter().map(key).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // Every person the rows say is due is listed, and nobody else.
    let due: Vec<i64> = {
        let rows: Vec<(i64,)> = loket::with_db!(db, |pool| sqlx::query_as(
            "SELECT participant_id FROM journey_progress WHERE counter_id = $1 \
             AND stage NOT IN ('finished', 'revoked', 'withdrawn', 'not_registered')"
        )
        .bind(app.counter_a)
        .fetch_all(pool)
        .await
        .unwrap());
        rows.into_iter().map(|(id,)| id).collect()
    };
    for item in &items {
        assert!(due.contains(&item["participant_id"].as_i64().unwrap()));
    }
    for limit in [1, 3, total - 1, total, total + 5] {
        let page = list(limit).await;
        assert_eq!(
            page["total"].as_u64().unwrap() as usize,
            total,
            "limit {limit}"
        );
        let ids: Vec<_> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["participant_id"].clone())
            .collect();
        let expected: Vec<_> = items
            .iter()
            .take(limit)
            .map(|i| i["participant_id"].clone())
            .collect();
        assert_eq!(ids, expected, "limit {limit}");
    }
    // The officer filter ranks within that officer's people.
    let mine = officer
        .get(&format!(
            "/api/v1/journey/follow-up?counter={}&days=7&limit=2&officer=999999",
            app.counter_a
        ))
        .await
        .1;
    assert_eq!(mine["total"], 0);
    assert!(mine["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_follow_up_list_is_ranked_and_cut_in_sql() {
    on_each_backend!(follow_up_ranks_and_cuts_in_sql);
}
