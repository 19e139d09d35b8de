//! Journey stories, each run on SQLite and (when configured) PostgreSQL: a person walked
//! through the whole 2021 and 2023 journeys with deadlines, payments and the follow-up list
//! checked at each step; refusals with their codes; access; pages.
mod rollup;

use loket::auth::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{person_json, TestApp};
use crate::on_each_backend;

const NIK: &str = "3201014505900001";

/// One caller of the API with a token.
struct Caller<'a> {
    app: &'a TestApp,
    token: String,
}

impl Caller<'_> {
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .app
            .client
            .get(self.app.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .app
            .client
            .post(self.app.url(path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Records an event and expects it stored; returns the journey after it.
    async fn ok(&self, id: i64, body: Value) -> Value {
        let (status, out) = self
            .post(
                &format!("/api/v1/participants/{id}/journey/events"),
                body.clone(),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body} -> {out}");
        out["journey"].clone()
    }

    /// Records an event and expects the refusal `code`.
    async fn refused(&self, id: i64, body: Value, code: &str) {
        let (status, out) = self
            .post(
                &format!("/api/v1/participants/{id}/journey/events"),
                body.clone(),
            )
            .await;
        assert_eq!(out["error"]["code"], code, "{body} -> {out}");
        assert!(status.is_client_error(), "{status}");
        assert!(!out["error"]["message"].as_str().unwrap().is_empty());
        assert!(!out["error"]["message_en"].as_str().unwrap().is_empty());
    }

    async fn journey(&self, id: i64) -> Value {
        let (status, out) = self
            .get(&format!("/api/v1/participants/{id}/journey"))
            .await;
        assert_eq!(status, StatusCode::OK, "{out}");
        out
    }

    /// The reasons the person is on the counter's follow-up list on `day` (empty: not listed).
    async fn follow_up(&self, counter: i64, person: i64, day: &str, days: i64) -> Vec<String> {
        let (status, out) = self
            .get(&format!(
                "/api/v1/journey/follow-up?counter={counter}&as_of={day}&days={days}"
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{out}");
        out["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["participant_id"] == person)
            .flat_map(|i| i["reasons"].as_array().unwrap().clone())
            .map(|r| r["code"].as_str().unwrap().to_string())
            .collect()
    }
}

/// A caller; counter staff and admins hold a valid ToT certificate, as they would at a counter.
async fn caller<'a>(app: &'a TestApp, name: &str, role: Role, counter: Option<i64>) -> Caller<'a> {
    let (user_id, token) = app.user(name, role, counter).await;
    if matches!(role, Role::Petugas | Role::Koordinator | Role::Admin) {
        crate::common::certify(app, user_id).await;
    }
    Caller { app, token }
}

async fn uncertified_officer_is_refused(app: &TestApp) {
    let certified = caller(app, "petugas.a", Role::Petugas, Some(app.counter_a)).await;
    let (_, token) = app
        .user("petugas.baru", Role::Petugas, Some(app.counter_a))
        .await;
    let uncertified = Caller { app, token };
    let id = register(
        &certified,
        crate::common::person_json("3201014505900001", "Siti Aminah"),
    )
    .await;
    let body = json!({"started_at": "2021-07-06T03:00:00Z", "channel": "walk_in", "steps": ["choose_training"], "outcome": "done"});
    let (status, out) = uncertified
        .post(
            &format!("/api/v1/participants/{id}/journey/sessions"),
            body.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{out}");
    assert!(out.to_string().contains("officer_not_certified"), "{out}");
    let (status, out) = certified
        .post(&format!("/api/v1/participants/{id}/journey/sessions"), body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
}

#[tokio::test]
async fn only_a_tot_certified_officer_records_an_assistance_session() {
    on_each_backend!(uncertified_officer_is_refused);
}

async fn register(officer: &Caller<'_>, body: Value) -> i64 {
    let (status, out) = officer.post("/api/v1/participants", body).await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    out["id"].as_i64().unwrap()
}

async fn batch(admin: &Caller<'_>, scheme: &str, number: i64, opens_on: &str) {
    let (status, out) = admin
        .post(
            "/api/v1/journey/batches",
            json!({"scheme": scheme, "number": number, "opens_on": opens_on}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
}

async fn session(officer: &Caller<'_>, id: i64, at: &str, next: Option<&str>) {
    let (status, out) = officer
        .post(
            &format!("/api/v1/participants/{id}/journey/sessions"),
            json!({"started_at": at, "channel": "walk_in", "steps": ["choose_training", "link_payout"],
                   "outcome": "done", "next_follow_up": next, "notes": "Dibantu di loket"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
}

async fn whole_2021_journey(app: &TestApp) {
    let admin = caller(app, "admin", Role::Admin, None).await;
    let officer = caller(app, "petugas.a", Role::Petugas, Some(app.counter_a)).await;
    batch(&admin, "2020", 17, "2021-05-01").await;
    batch(&admin, "2020", 18, "2021-07-01").await;
    let id = register(&officer, person_json(NIK, "Siti Aminah")).await;
    let c = app.counter_a;

    let j = officer.journey(id).await;
    assert_eq!(j["stage"], "not_registered");
    assert!(j["next_step"].as_str().unwrap().contains("akun"));
    // Nothing makes sense before the account exists.
    officer
        .refused(id, json!({"stage": "training_bought", "occurred_on": "2021-06-01", "amount": 100000, "training_title": "x"}), "training_before_acceptance")
        .await;
    officer
        .refused(
            id,
            json!({"stage": "incentive_paid", "occurred_on": "2021-06-01"}),
            "incentive_before_completion",
        )
        .await;
    officer
        .refused(
            id,
            json!({"stage": "test_passed", "occurred_on": "2021-06-01"}),
            "stage_order",
        )
        .await;
    officer
        .refused(id, json!({"stage": "flying"}), "validation_failed")
        .await;

    for (stage, day) in [
        ("account_created", "2021-06-01"),
        ("profile_verified", "2021-06-02"),
        ("test_passed", "2021-06-03"),
    ] {
        let j = officer
            .ok(id, json!({"stage": stage, "occurred_on": day}))
            .await;
        assert_eq!(j["stage"], stage);
    }
    let j = officer
        .ok(id, json!({"stage": "joined_batch", "occurred_on": "2021-06-04", "batch": 17, "occupation": "none"}))
        .await;
    assert_eq!(j["batch_number"], 17);
    officer
        .ok(
            id,
            json!({"stage": "not_accepted", "occurred_on": "2021-06-08"}),
        )
        .await;
    // Not accepted: only a later batch.
    officer
        .refused(
            id,
            json!({"stage": "joined_batch", "occurred_on": "2021-06-09", "batch": 17}),
            "batch_not_later",
        )
        .await;
    officer
        .ok(
            id,
            json!({"stage": "joined_batch", "occurred_on": "2021-07-01", "batch": 18}),
        )
        .await;
    let j = officer
        .ok(id, json!({"stage": "accepted", "occurred_on": "2021-07-05", "card_number": "5123 4567 8901 2345"}))
        .await;
    assert_eq!(j["card_number"], "5123456789012345");
    assert_eq!(j["first_purchase_deadline"], "2021-08-04");
    assert_eq!(j["ledger"]["remaining"], 1_000_000);
    // The acceptance was a day late in the records: corrected, not overwritten.
    let accepted_id = j["events"].as_array().unwrap().last().unwrap()["id"]
        .as_i64()
        .unwrap();
    let (status, out) = officer
        .post(
            &format!("/api/v1/participants/{id}/journey/events/{accepted_id}/correction"),
            json!({"occurred_on": "2021-07-06", "reason": "Tanggal dari SMS pengumuman"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    let j = &out["journey"];
    assert_eq!(j["first_purchase_deadline"], "2021-08-05");
    let events = j["events"].as_array().unwrap();
    assert_eq!(events.iter().filter(|e| e["in_force"] == false).count(), 1);
    assert_eq!(events.last().unwrap()["correction_of"], accepted_id);
    session(&officer, id, "2021-07-06T03:00:00Z", None).await;

    // Deadline in view: listed within 7 days of it, not before.
    assert!(officer.follow_up(c, id, "2021-07-20", 7).await.is_empty());
    assert_eq!(
        officer.follow_up(c, id, "2021-07-30", 7).await,
        ["purchase_deadline_soon"]
    );

    // The payout account must be the participant's own.
    officer
        .refused(id, json!({"stage": "payout_linked", "occurred_on": "2021-07-07", "channel": "bank", "holder_nik": "3201011203850002"}), "payout_holder_mismatch")
        .await;
    officer
        .refused(id, json!({"stage": "payout_linked", "occurred_on": "2021-07-07", "channel": "ewallet", "ewallet_phone": "081299999999"}), "payout_phone_mismatch")
        .await;
    let j = officer
        .ok(id, json!({"stage": "payout_linked", "occurred_on": "2021-07-07", "channel": "ewallet", "ewallet_phone": "0812 3456 7890"}))
        .await;
    assert_eq!(j["ledger"]["payout_channel"], "ewallet");
    assert_eq!(
        j["events"].as_array().unwrap().last().unwrap()["detail"],
        "ewallet_phone=match"
    );

    officer
        .refused(id, json!({"stage": "training_bought", "occurred_on": "2021-07-10", "amount": 1_200_000, "training_title": "Barista"}), "over_balance")
        .await;
    let j = officer
        .ok(id, json!({"stage": "training_bought", "occurred_on": "2021-07-10", "amount": 700_000, "training_title": "Menjahit Pakaian", "training_platform": "Tokopedia"}))
        .await;
    assert_eq!(j["ledger"]["remaining"], 300_000);
    assert!(j["first_purchase_deadline"].is_string());
    assert!(officer.follow_up(c, id, "2021-07-30", 7).await.is_empty());
    officer
        .refused(
            id,
            json!({"stage": "incentive_paid", "occurred_on": "2021-07-12"}),
            "incentive_before_completion",
        )
        .await;
    officer
        .ok(
            id,
            json!({"stage": "training_completed", "occurred_on": "2021-07-20"}),
        )
        .await;
    officer
        .refused(
            id,
            json!({"stage": "incentive_paid", "occurred_on": "2021-07-20"}),
            "incentive_before_rating",
        )
        .await;
    let j = officer
        .ok(id, json!({"stage": "rated", "occurred_on": "2021-07-21"}))
        .await;
    // Rp600,000 × 4 a month apart from five days after rating; Rp50,000 × 3 surveys.
    let incentives = j["ledger"]["incentives"].as_array().unwrap();
    assert_eq!(incentives.len(), 4);
    assert_eq!(incentives[0]["expected_on"], "2021-07-26");
    assert_eq!(incentives[0]["expected_amount"], 600_000);
    assert_eq!(incentives[3]["expected_on"], "2021-10-24");
    // Five working days of grace after Monday 26 July: overdue from Tuesday 3 August.
    assert_eq!(incentives[0]["overdue_from"], "2021-08-03");
    assert_eq!(j["ledger"]["surveys"].as_array().unwrap().len(), 3);
    session(&officer, id, "2021-07-21T03:00:00Z", Some("2021-08-10")).await;
    assert!(officer.follow_up(c, id, "2021-08-02", 7).await.is_empty());
    assert_eq!(
        officer.follow_up(c, id, "2021-08-03", 7).await,
        ["incentive_overdue", "survey_overdue"]
    );

    for (k, day) in [
        (1, "2021-08-04"),
        (2, "2021-08-26"),
        (3, "2021-09-25"),
        (4, "2021-10-25"),
    ] {
        let j = officer
            .ok(id, json!({"stage": "incentive_paid", "occurred_on": day}))
            .await;
        assert_eq!(j["stage"], "incentive_paid");
        assert_eq!(j["ledger"]["incentives"][k - 1]["status"], "received");
        assert_eq!(j["ledger"]["incentives"][k - 1]["received_amount"], 600_000);
        assert_eq!(j["ledger"]["incentives"][k - 1]["channel"], "ewallet");
        if k == 1 {
            // The follow-up date set in the session is due on its day.
            assert_eq!(
                officer.follow_up(c, id, "2021-08-10", 7).await,
                ["survey_overdue", "follow_up_due"]
            );
            let (status, _) = officer
                .post(
                    &format!("/api/v1/participants/{id}/journey/contacts"),
                    json!({"channel": "phone", "result": "reached", "at": "2021-08-10T04:00:00Z"}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED);
            assert_eq!(
                officer.follow_up(c, id, "2021-08-10", 7).await,
                ["survey_overdue"]
            );
        }
    }
    officer
        .refused(
            id,
            json!({"stage": "incentive_paid", "occurred_on": "2021-10-26"}),
            "incentive_count_exceeded",
        )
        .await;
    for day in ["2021-08-12", "2021-09-01", "2021-10-01"] {
        officer
            .ok(id, json!({"stage": "survey_paid", "occurred_on": day}))
            .await;
    }
    let j = officer.journey(id).await;
    assert_eq!(j["stage"], "finished");
    assert_eq!(j["ledger"]["surveys"][2]["received_amount"], 50_000);
    assert!(officer.follow_up(c, id, "2021-12-01", 7).await.is_empty());
    officer
        .refused(
            id,
            json!({"stage": "survey_paid", "occurred_on": "2021-10-26"}),
            "journey_closed",
        )
        .await;

    // The counter's funnel counts the whole path.
    let (status, f) = officer
        .get(&format!(
            "/api/v1/journey/funnel?scope=counter&id={c}&from=2021-01-01&to=2021-12-31"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{f}");
    assert_eq!(f["cohort"], 1);
    assert!(
        f["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["reached"] == 1),
        "{f}"
    );
    assert_eq!(f["not_accepted"], 1);
    assert_eq!(f["steps"][0]["median_days_to_next"], 1);

    // Every read and change of the journey is in the audit log.
    let entries = loket::audit::for_entity(&app.state.db, "participant", &id.to_string())
        .await
        .unwrap();
    let count = |action: &str| entries.iter().filter(|e| e.action == action).count();
    assert_eq!(count("journey.event"), 18);
    assert_eq!(count("journey.correct"), 1);
    assert_eq!(count("journey.session"), 2);
    assert_eq!(count("journey.contact"), 1);
    assert!(count("journey.view") >= 1);
}

#[tokio::test]
async fn a_purna_pmi_walks_the_whole_2021_journey() {
    on_each_backend!(whole_2021_journey);
}

async fn whole_2023_journey(app: &TestApp) {
    let admin = caller(app, "admin", Role::Admin, None).await;
    let officer = caller(app, "petugas.a", Role::Petugas, Some(app.counter_a)).await;
    batch(&admin, "2023", 49, "2023-03-01").await;
    let id = register(&officer, person_json(NIK, "Sri Wahyuni")).await;
    let c = app.counter_a;
    for (stage, day) in [
        ("account_created", "2023-03-01"),
        ("profile_verified", "2023-03-01"),
        ("test_passed", "2023-03-02"),
    ] {
        officer
            .ok(id, json!({"stage": stage, "occurred_on": day}))
            .await;
    }
    officer
        .ok(
            id,
            json!({"stage": "joined_batch", "occurred_on": "2023-03-03", "batch": 49}),
        )
        .await;
    let j = officer
        .ok(
            id,
            json!({"stage": "accepted", "occurred_on": "2023-03-10"}),
        )
        .await;
    assert_eq!(j["scheme"], "2023");
    assert_eq!(j["first_purchase_deadline"], "2023-03-25");
    assert_eq!(j["ledger"]["training_balance"], 3_500_000);
    session(&officer, id, "2023-03-10T03:00:00Z", None).await;
    assert!(officer.follow_up(c, id, "2023-03-15", 7).await.is_empty());
    assert_eq!(
        officer.follow_up(c, id, "2023-03-20", 7).await,
        ["purchase_deadline_soon"]
    );
    assert_eq!(
        officer.follow_up(c, id, "2023-03-27", 7).await,
        ["purchase_deadline_passed"]
    );
    // The 2023 rule is 15 days: a first purchase on day 16 is refused.
    officer
        .refused(id, json!({"stage": "training_bought", "occurred_on": "2023-03-26", "amount": 500000, "training_title": "Barista"}), "purchase_deadline_passed")
        .await;
    officer
        .ok(id, json!({"stage": "payout_linked", "occurred_on": "2023-03-11", "channel": "bank", "holder_nik": NIK}))
        .await;
    let j = officer
        .ok(id, json!({"stage": "training_bought", "occurred_on": "2023-03-24", "amount": 3_500_000, "training_title": "Perawat Lansia", "training_platform": "Sekolahmu"}))
        .await;
    assert_eq!(j["ledger"]["remaining"], 0);
    officer
        .refused(id, json!({"stage": "training_bought", "occurred_on": "2023-03-25", "amount": 1, "training_title": "Lagi"}), "over_balance")
        .await;
    officer
        .ok(
            id,
            json!({"stage": "training_completed", "occurred_on": "2023-04-01"}),
        )
        .await;
    let j = officer
        .ok(id, json!({"stage": "rated", "occurred_on": "2023-04-02"}))
        .await;
    assert_eq!(j["ledger"]["incentives"].as_array().unwrap().len(), 1);
    assert_eq!(j["ledger"]["surveys"].as_array().unwrap().len(), 2);
    assert_eq!(j["ledger"]["surveys"][0]["expected_on"], "2023-04-07");
    assert_eq!(j["ledger"]["surveys"][0]["overdue_from"], "2023-04-15");
    session(&officer, id, "2023-04-02T03:00:00Z", None).await;
    let j = officer
        .ok(
            id,
            json!({"stage": "incentive_paid", "occurred_on": "2023-04-08", "amount": 600000}),
        )
        .await;
    assert_eq!(j["ledger"]["incentives"][0]["status"], "received");
    assert!(officer.follow_up(c, id, "2023-04-14", 7).await.is_empty());
    assert_eq!(
        officer.follow_up(c, id, "2023-04-17", 7).await,
        ["survey_overdue"]
    );
    officer
        .refused(
            id,
            json!({"stage": "incentive_paid", "occurred_on": "2023-04-20"}),
            "incentive_count_exceeded",
        )
        .await;
    officer
        .ok(
            id,
            json!({"stage": "survey_paid", "occurred_on": "2023-04-18"}),
        )
        .await;
    let j = officer
        .ok(
            id,
            json!({"stage": "survey_paid", "occurred_on": "2023-05-08"}),
        )
        .await;
    assert_eq!(j["stage"], "finished");
    assert!(officer.follow_up(c, id, "2023-06-30", 7).await.is_empty());
    // Nation-wide funnel: one person, finished.
    let (_, f) = admin
        .get("/api/v1/journey/funnel?from=2023-01-01&to=2023-12-31")
        .await;
    assert_eq!(f["cohort"], 1);
    assert_eq!(f["steps"][11]["stage"], "finished");
    assert_eq!(f["steps"][11]["reached"], 1);
}

#[tokio::test]
async fn a_purna_pmi_walks_the_whole_2023_journey() {
    on_each_backend!(whole_2023_journey);
}

async fn revocation_eligibility_and_overrides(app: &TestApp) {
    let admin = caller(app, "admin", Role::Admin, None).await;
    let officer = caller(app, "petugas.a", Role::Petugas, Some(app.counter_a)).await;
    batch(&admin, "2020", 17, "2021-05-01").await;
    batch(&admin, "2020", 18, "2021-07-01").await;
    batch(&admin, "2020", 19, "2021-08-01").await;

    // Revoked after the deadline passed: final, and the NIK is barred.
    let id = register(&officer, person_json(NIK, "Siti Aminah")).await;
    for (stage, day) in [
        ("account_created", "2021-05-01"),
        ("profile_verified", "2021-05-02"),
        ("test_passed", "2021-05-03"),
    ] {
        officer
            .ok(id, json!({"stage": stage, "occurred_on": day}))
            .await;
    }
    officer
        .ok(
            id,
            json!({"stage": "joined_batch", "occurred_on": "2021-05-04", "batch": 17}),
        )
        .await;
    officer
        .ok(
            id,
            json!({"stage": "accepted", "occurred_on": "2021-05-10"}),
        )
        .await;
    let j = officer
        .ok(id, json!({"stage": "revoked", "occurred_on": "2021-06-10"}))
        .await;
    assert_eq!(j["stage"], "revoked");
    officer
        .refused(
            id,
            json!({"stage": "joined_batch", "occurred_on": "2021-07-01", "batch": 18}),
            "nik_barred",
        )
        .await;
    officer
        .refused(id, json!({"stage": "payout_linked", "occurred_on": "2021-07-01", "channel": "bank", "holder_nik": NIK}), "journey_closed")
        .await;
    // Only an admin may correct a revocation.
    let revoked_id = j["events"].as_array().unwrap().last().unwrap()["id"]
        .as_i64()
        .unwrap();
    let (status, out) = officer
        .post(
            &format!("/api/v1/participants/{id}/journey/events/{revoked_id}/correction"),
            json!({"void": true, "reason": "salah"}),
        )
        .await;
    assert_eq!(
        (status, out["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("override_not_allowed"))
    );

    // Eligibility: a 66-year-old from batch 18 on, and a village official: advised against.
    let old = register(&officer, json!({
        "nik": "3201010101550001", "full_name": "Slamet Riyadi", "sex": "male", "birth_date": "1955-01-01",
        "kk": "3201010101010009", "consent_processing": true, "consent_sharing": true, "consent_method": "paper_form"
    })).await;
    for (stage, day) in [
        ("account_created", "2021-07-01"),
        ("profile_verified", "2021-07-02"),
        ("test_passed", "2021-07-03"),
    ] {
        officer
            .ok(old, json!({"stage": stage, "occurred_on": day}))
            .await;
    }
    let (status, advice) = officer
        .get(&format!(
            "/api/v1/participants/{old}/journey/eligibility?batch=18&occupation=village_official"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(advice["eligible"], false);
    let codes: Vec<&str> = advice["advice"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["age_above_maximum", "excluded_occupation"]);
    let (_, advice17) = officer
        .get(&format!(
            "/api/v1/participants/{old}/journey/eligibility?batch=17&occupation=none"
        ))
        .await;
    assert_eq!(advice17["eligible"], true, "{advice17}");
    officer
        .refused(
            old,
            json!({"stage": "joined_batch", "occurred_on": "2021-07-05", "batch": 18}),
            "eligibility_against",
        )
        .await;
    let j = officer
        .ok(
            old,
            json!({"stage": "joined_batch", "occurred_on": "2021-07-05", "batch": 18,
                        "eligibility_reason": "Usia di KTP keliru; menunggu perbaikan Dukcapil"}),
        )
        .await;
    assert_eq!(
        j["events"].as_array().unwrap().last().unwrap()["detail"],
        "eligibility_against=age_above_maximum"
    );

    // An officer cannot override the rules; an admin can, with a reason.
    officer
        .refused(old, json!({"stage": "training_bought", "occurred_on": "2021-07-06", "amount": 1, "training_title": "x", "override_reason": "saya mau"}), "override_not_allowed")
        .await;
    let j = admin
        .ok(old, json!({"stage": "accepted", "occurred_on": "2021-07-06", "override_reason": "Data Manajemen Pelaksana: diterima"}))
        .await;
    assert_eq!(j["stage"], "accepted");

    // A stale version is a conflict, not a lost update.
    let version = j["version"].as_i64().unwrap();
    officer.ok(old, json!({"stage": "payout_linked", "occurred_on": "2021-07-07", "channel": "bank", "holder_nik": "3201010101550001"})).await;
    officer
        .refused(
            old,
            json!({"stage": "withdrawn", "occurred_on": "2021-07-08", "expected_version": version}),
            "version_conflict",
        )
        .await;
    officer
        .refused(
            old,
            json!({"stage": "withdrawn", "occurred_on": "2999-01-01"}),
            "validation_failed",
        )
        .await;
}

#[tokio::test]
async fn revocation_is_final_eligibility_advises_and_only_admins_override() {
    on_each_backend!(revocation_eligibility_and_overrides);
}

async fn access_and_schemes(app: &TestApp) {
    let admin = caller(app, "admin", Role::Admin, None).await;
    let officer = caller(app, "petugas.a", Role::Petugas, Some(app.counter_a)).await;
    let other = caller(app, "petugas.b", Role::Petugas, Some(app.counter_b)).await;
    let auditor = caller(app, "auditor", Role::Auditor, None).await;
    let id = register(&officer, person_json(NIK, "Siti Aminah")).await;
    let path = format!("/api/v1/participants/{id}/journey");
    assert_eq!(other.get(&path).await.0, StatusCode::FORBIDDEN);
    assert_eq!(auditor.get(&path).await.0, StatusCode::OK);
    let (status, out) = auditor
        .post(
            &format!("{path}/events"),
            json!({"stage": "account_created"}),
        )
        .await;
    assert_eq!(
        (status, out["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    assert_eq!(
        other
            .get(&format!(
                "/api/v1/journey/follow-up?counter={}",
                app.counter_a
            ))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        other
            .get(&format!(
                "/api/v1/journey/funnel?scope=counter&id={}",
                app.counter_a
            ))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        other.get("/api/v1/journey/funnel").await.0,
        StatusCode::FORBIDDEN
    );

    // Schemes are data: both seeded, an admin adds one, an officer cannot.
    let (_, schemes) = officer.get("/api/v1/journey/schemes").await;
    let codes: Vec<&str> = schemes["schemes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["2020", "2023"]);
    assert_eq!(schemes["schemes"][0]["incentive_count"], 4);
    assert_eq!(schemes["schemes"][1]["purchase_days"], 15);
    let new = json!({"code": "2026", "name": "Skema uji", "starts_on": "2026-01-01", "training_balance": 4_000_000,
        "incentive_amount": 700_000, "incentive_count": 1, "survey_amount": 50_000, "survey_count": 2, "purchase_days": 20});
    assert_eq!(
        officer.post("/api/v1/journey/schemes", new.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, out) = admin.post("/api/v1/journey/schemes", new.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    assert_eq!(out["grace_working_days"], 5);
    let (status, out) = admin.post("/api/v1/journey/schemes", new).await;
    assert_eq!(
        (status, out["error"]["fields"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("scheme_code_taken"))
    );
    batch(&admin, "2026", 90, "2026-02-01").await;
    let (status, out) = admin
        .post(
            "/api/v1/journey/batches",
            json!({"scheme": "2026", "number": 90, "opens_on": "2026-03-01"}),
        )
        .await;
    assert_eq!(
        (status, out["error"]["fields"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("batch_number_taken"))
    );

    // The OpenAPI document lists the journey routes.
    let doc: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for p in [
        "/api/v1/participants/{id}/journey/events",
        "/api/v1/journey/follow-up",
        "/api/v1/journey/funnel",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} missing");
    }
}

#[tokio::test]
async fn journeys_respect_scope_and_schemes_are_data() {
    on_each_backend!(access_and_schemes);
}

/// A cookie-keeping client signed in as `username`, with the session's CSRF token.
async fn sign_in(app: &TestApp, username: &str) -> (reqwest::Client, String) {
    crate::common::sign_in(app, username).await
}

async fn pages_work_without_javascript(app: &TestApp) {
    let officer = caller(app, "petugas.a", Role::Petugas, Some(app.counter_a)).await;
    let id = register(&officer, person_json(NIK, "Siti Aminah")).await;
    let (client, csrf) = sign_in(app, "petugas.a").await;
    let detail = client
        .get(app.url(&format!("/participants/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(detail.contains(&format!("/participants/{id}/journey")));
    let url = app.url(&format!("/participants/{id}/journey"));
    let page = client.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Belum mendaftar"), "{page}");
    assert!(page.len() < 60_000, "{} bytes", page.len());

    let today = loket::clock::today().to_string();
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let client = client.clone();
        async move {
            client
                .post(app.url(&path))
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    let r = post(
        format!("/participants/{id}/journey/events"),
        vec![
            ("csrf", csrf.clone()),
            ("stage", "account_created".into()),
            ("occurred_on", today.clone()),
            ("version", "0".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // A refused step shows the reason on the page, with its code.
    let r = post(
        format!("/participants/{id}/journey/events"),
        vec![
            ("csrf", csrf.clone()),
            ("stage", "training_bought".into()),
            ("occurred_on", today.clone()),
            ("amount", "100.000".into()),
            ("training_title", "x".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body = r.text().await.unwrap();
    assert!(body.contains("training_before_acceptance"), "{body}");
    let r = post(
        format!("/participants/{id}/journey/sessions"),
        vec![
            ("csrf", csrf.clone()),
            ("on", today.clone()),
            ("minutes", "45".into()),
            ("channel", "walk_in".into()),
            ("steps", "email_account".into()),
            ("steps", "prakerja_account".into()),
            ("outcome", "done".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = client.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("data-stage=\"account_created\""));
    assert!(page.contains("Membuat email, Akun Prakerja"), "{page}");
    let r = post(
        format!("/participants/{id}/journey/events"),
        vec![
            ("csrf", "forged".into()),
            ("stage", "profile_verified".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The follow-up list and the funnel render, light and printable.
    let list = client
        .get(app.url("/journey/follow-up?days=7"))
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), StatusCode::OK);
    let list = list.text().await.unwrap();
    assert!(list.len() < 60_000);
    assert!(list.contains("id=\"total\""));
    let funnel = client
        .get(app.url(&format!(
            "/journey/funnel?scope=counter&id={}",
            app.counter_a
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(funnel.status(), StatusCode::OK);
    let funnel = funnel.text().await.unwrap();
    assert!(funnel.contains("<svg") && funnel.contains("<title id=\"funnel-alt\">"));
    assert!(funnel.contains("id=\"cohort\">1<"), "{funnel}");
    // The same numbers download as CSV and XLSX, with the stage names a person reads.
    assert!(funnel.contains("/journey/funnel/download?scope=counter%3A"));
    let csv = client
        .get(app.url(&format!(
            "/journey/funnel/download?scope=counter:{}&from=2020-04-01&to=2030-12-31",
            app.counter_a
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(".csv"));
    let csv = csv.text().await.unwrap();
    let table = loket::sheet::read_csv(csv.as_bytes()).unwrap();
    assert_eq!(table.headers[0], "Tahap");
    let api: Value = client
        .get(app.url(&format!(
            "/api/v1/journey/funnel?scope=counter&id={}&from=2020-04-01&to=2030-12-31",
            app.counter_a
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = |c: &loket::sheet::Cell| loket::sheet::cell_text(c).unwrap_or_default();
    let steps = api["steps"].as_array().unwrap();
    assert_eq!(
        table.rows.len(),
        steps.len() + 3,
        "every step and the side exits"
    );
    for (row, step) in table.rows.iter().zip(steps) {
        assert_eq!(text(&row[0]), step["label"].as_str().unwrap());
        assert_eq!(text(&row[1]), step["reached"].to_string());
    }
    let xlsx = client
        .get(app.url(&format!(
            "/journey/funnel/download?scope=counter:{}&from=2020-04-01&to=2030-12-31&format=xlsx",
            app.counter_a
        )))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let sheet = loket::sheet::read_sheet_bytes(xlsx.to_vec()).unwrap();
    assert_eq!(sheet.rows.len(), table.rows.len());
}

#[tokio::test]
async fn the_timeline_follow_up_and_funnel_pages_work_without_javascript() {
    on_each_backend!(pages_work_without_javascript);
}

async fn demo_fills_every_stage(app: &TestApp) {
    let network = loket::demo::seed_network(&app.state.db).await.unwrap();
    loket::demo::seed_people(&app.state.db, &app.state.vault, &network, 1500)
        .await
        .unwrap();
    let made = loket::journey::demo::seed(&app.state.db).await.unwrap();
    assert!(made > 1000, "{made}");
    let f = loket::journey::funnel_figures(
        &app.state.db,
        &loket::journey::store::FunnelScope::Nation,
        chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
        loket::clock::today(),
        loket::i18n::Lang::Id,
    )
    .await
    .unwrap();
    for step in &f.steps {
        assert!(step.reached > 0, "{} empty", step.stage);
    }
    assert!(f.not_accepted > 0 && f.revoked > 0 && f.withdrawn > 0);
    // Rebuilding the projection from the events gives the same funnel.
    loket::journey::rebuild(&app.state.db, |_| {})
        .await
        .unwrap();
    let again = loket::journey::funnel_figures(
        &app.state.db,
        &loket::journey::store::FunnelScope::Nation,
        chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
        loket::clock::today(),
        loket::i18n::Lang::Id,
    )
    .await
    .unwrap();
    let reached =
        |f: &loket::journey::Funnel| f.steps.iter().map(|s| s.reached).collect::<Vec<_>>();
    assert_eq!(reached(&f), reached(&again));
}

#[tokio::test]
async fn demo_data_fills_every_stage() {
    on_each_backend!(demo_fills_every_stage);
}
