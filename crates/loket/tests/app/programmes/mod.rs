//! Partner programmes and programme referrals (issue 15): a person is screened, referred with
//! consent, the agency accepts and reports completion, the officer sees it and the dashboard
//! download counts it; bad input is refused with nothing written.

use loket::auth::Role;
use loket::programmes::store::{self, NewAgency, NewProgramme};
use loket::programmes::{ProgrammeKind, Rule};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_api_error, TestApp};
use crate::on_each_backend;

struct Seeded {
    agency: i64,
    open: i64,
    closed: i64,
    men_only: i64,
}

async fn seed(app: &TestApp) -> Seeded {
    let db = &app.state.db;
    let agency = store::insert_agency(
        db,
        &NewAgency {
            code: "BLK-UJI",
            name: "BLK Uji Coba",
            kind: loket::programmes::model::AgencyKind::Province,
            provinces: &[],
        },
    )
    .await
    .unwrap();
    let other = store::insert_agency(
        db,
        &NewAgency {
            code: "BANK-UJI",
            name: "Bank Uji (KUR)",
            kind: loket::programmes::model::AgencyKind::Bank,
            provinces: &[],
        },
    )
    .await
    .unwrap();
    let today = loket::clock::today();
    let programme = |agency_id, code, name, rules, quota, closes_on| NewProgramme {
        agency_id,
        code,
        name,
        kind: ProgrammeKind::Training,
        description: "",
        rules,
        needs: &["name", "age", "phone"],
        documents: "KTP",
        quota,
        opens_on: None,
        closes_on,
        answer_days: 7,
    };
    let age = [Rule::Age {
        min: Some(18),
        max: Some(55),
    }];
    let men = [Rule::Sex { is: "male".into() }];
    let open = store::insert_programme(
        db,
        &programme(
            agency,
            "JAHIT",
            "Pelatihan Menjahit Uji",
            &age,
            Some(1),
            None,
        ),
    )
    .await
    .unwrap();
    let closed = store::insert_programme(
        db,
        &programme(
            agency,
            "TUTUP",
            "Pelatihan Sudah Tutup",
            &age,
            None,
            Some(today - chrono::Days::new(1)),
        ),
    )
    .await
    .unwrap();
    let men_only = store::insert_programme(
        db,
        &programme(other, "KUR-PRIA", "KUR Khusus Uji", &men, None, None),
    )
    .await
    .unwrap();
    Seeded {
        agency,
        open,
        closed,
        men_only,
    }
}

/// A 422 whose field error carries `code`.
async fn assert_field_error(response: reqwest::Response, code: &str) {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["fields"][0]["code"], code, "{body}");
    assert!(!body["error"]["fields"][0]["message"]
        .as_str()
        .unwrap()
        .is_empty());
}

async fn referral_rows(app: &TestApp) -> i64 {
    let db = &app.state.db;
    loket::with_db!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM programme_referrals"
    )
    .fetch_one(pool)
    .await
    .unwrap())
}

async fn taken(app: &TestApp, programme: i64) -> i64 {
    let db = &app.state.db;
    loket::with_db!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT taken FROM programmes WHERE id = $1"
    )
    .bind(programme)
    .fetch_one(pool)
    .await
    .unwrap())
}

/// An agency staff account of `agency` with a token granted the referral endpoints.
async fn agency_user(app: &TestApp, name: &str, agency: i64, granted: bool) -> String {
    let (id, _) = app.user(name, Role::Lembaga, None).await;
    store::set_agency_of_user(&app.state.db, id, agency)
        .await
        .unwrap();
    let grants = if granted {
        vec![loket::access::GRANT_REFERRALS.to_string()]
    } else {
        vec![]
    };
    loket::auth::store::create_token(&app.state.db, id, "agency", &grants, None)
        .await
        .unwrap()
}

async fn status(
    api: &crate::common::Api<'_>,
    rid: i64,
    to: &str,
    version: i64,
    extra: Value,
) -> reqwest::Response {
    let mut body = json!({"status": to, "version": version});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    api.post(&format!("/api/v1/programme-referrals/{rid}/status"), &body)
        .await
}

async fn story(app: &TestApp) {
    let s = seed(app).await;
    let (_, token) = app.officer_a().await;
    let officer = app.api(&token);
    let person = officer
        .register_person("3201014505900001", "Siti Rujukan")
        .await;

    // Screening: the sewing course fits (with why), the men-only credit does not (with what).
    let screened = officer
        .get_json(&format!("/api/v1/participants/{person}/programmes"))
        .await;
    let of = |id: i64| {
        screened
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["programme"]["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(of(s.open)["screening"]["verdict"], "fits", "{screened}");
    assert!(of(s.open)["screening"]["why"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("Usia "));
    assert_eq!(of(s.men_only)["screening"]["verdict"], "does_not_fit");
    assert!(of(s.men_only)["screening"]["missing"][0]["message"]
        .as_str()
        .unwrap()
        .contains("perempuan; syarat: laki-laki"));
    assert_eq!(of(s.closed)["screening"]["open"], false);
    let session = app.session("petugas.a").await;
    let page = session.page(&format!("/participants/{person}")).await;
    assert!(page.contains("Program lain yang cocok (2)"), "{page}");
    assert!(page.contains("Pelatihan Menjahit Uji"));
    let caseload = officer
        .get_json(&format!(
            "/api/v1/programmes/caseload?counter={}",
            app.counter_a
        ))
        .await;
    assert_eq!(caseload[0]["participant_id"], person, "{caseload}");
    assert!(caseload[0]["fits"]
        .as_array()
        .unwrap()
        .contains(&json!("JAHIT")));

    // Bad input: nothing is written.
    let refer = |programme: i64| json!({"programme_id": programme, "note": "minat menjahit"});
    let path = format!("/api/v1/participants/{person}/programme-referrals");
    assert_field_error(
        officer.post(&path, &refer(99_999)).await,
        "programme_unknown",
    )
    .await;
    assert_api_error(
        officer.post(&path, &refer(s.closed)).await,
        StatusCode::CONFLICT,
        "programme_closed",
    )
    .await;
    assert_eq!(referral_rows(app).await, 0);

    // A draft, refused without consent, sent with it.
    let draft = officer.post(&path, &refer(s.open)).await;
    assert_eq!(draft.status(), StatusCode::CREATED);
    let draft: Value = draft.json().await.unwrap();
    let rid = draft["id"].as_i64().unwrap();
    assert_eq!(draft["status"], "draft");
    assert_field_error(
        status(&officer, rid, "sent", 1, json!({})).await,
        "consent_missing",
    )
    .await;
    assert_eq!(taken(app, s.open).await, 0);
    let sent = status(
        &officer,
        rid,
        "sent",
        1,
        json!({"consent_method": "paper_form", "note": "setuju"}),
    )
    .await;
    assert_eq!(sent.status(), StatusCode::OK);
    let sent: Value = sent.json().await.unwrap();
    assert_eq!(sent["status"], "sent");
    assert!(sent["consent_at"].is_string());
    assert_eq!(taken(app, s.open).await, 1);

    // The only place is taken: another person's referral stays a draft.
    let second = officer
        .register_person("3201014506900002", "Ani Kedua")
        .await;
    let other: Value = officer
        .post(
            &format!("/api/v1/participants/{second}/programme-referrals"),
            &refer(s.open),
        )
        .await
        .json()
        .await
        .unwrap();
    let other_id = other["id"].as_i64().unwrap();
    assert_api_error(
        status(
            &officer,
            other_id,
            "sent",
            1,
            json!({"consent_method": "verbal"}),
        )
        .await,
        StatusCode::CONFLICT,
        "programme_full",
    )
    .await;
    let still: Value = officer
        .get_json(&format!(
            "/api/v1/participants/{second}/programme-referrals"
        ))
        .await;
    assert_eq!(still[0]["status"], "draft", "{still}");
    assert_eq!(taken(app, s.open).await, 1);

    // The agency: another agency, or a token without the grant, is refused.
    let outsider_agency = store::agency_by_code(&app.state.db, "BANK-UJI")
        .await
        .unwrap()
        .unwrap();
    let outsider = agency_user(app, "bank.uji", outsider_agency, true).await;
    assert_api_error(
        status(&app.api(&outsider), rid, "accepted", 2, json!({})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let ungranted = agency_user(app, "blk.tanpa", s.agency, false).await;
    assert_api_error(
        status(&app.api(&ungranted), rid, "accepted", 2, json!({})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let agency_token = agency_user(app, "blk.uji", s.agency, true).await;
    let agency = app.api(&agency_token);
    assert_field_error(
        status(&agency, rid, "declined", 2, json!({})).await,
        "reason_required",
    )
    .await;
    assert_api_error(
        status(&agency, rid, "completed", 2, json!({})).await,
        StatusCode::CONFLICT,
        "referral_transition",
    )
    .await;
    let accepted = status(
        &agency,
        rid,
        "accepted",
        2,
        json!({"note": "Kelas mulai Senin"}),
    )
    .await;
    assert_eq!(accepted.status(), StatusCode::OK);

    // The agency's search, in the DCI envelope: only the fields the programme needs.
    let search = json!({
        "header": {"message_id": "m-1", "sender_id": "blk-uji"},
        "message": {"transaction_id": "t-1", "search_request": [
            {"reference_id": "r-1", "search_criteria": {"query_type": "predicate", "query": {"status": "accepted"}}}
        ]}
    });
    let found: Value = agency
        .post("/api/v1/partner/programme-referrals/search", &search)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["header"]["action"], "on-search", "{found}");
    assert_eq!(found["message"]["correlation_id"], "t-1");
    let records = &found["message"]["search_response"][0]["data"]["reg_records"];
    assert_eq!(records.as_array().unwrap().len(), 1, "{found}");
    let shared: Vec<&str> = records[0]["person"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(shared, ["name", "age", "phone"]);
    assert!(
        !found.to_string().contains("3201014505900001"),
        "no NIK goes to the agency"
    );
    assert_api_error(
        app.api(&token)
            .post("/api/v1/partner/programme-referrals/search", &search)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // The agency's pages: its referral with the shared fields; no officer page.
    let staff = app.session("blk.uji").await;
    let list = staff.page("/lembaga").await;
    assert!(list.contains("Pelatihan Menjahit Uji"), "{list}");
    let detail = staff.page(&format!("/lembaga/referrals/{rid}")).await;
    assert!(
        detail.contains("Siti Rujukan") && detail.contains("Nomor HP"),
        "{detail}"
    );
    assert!(!detail.contains("3201014505900001"));
    assert_eq!(
        staff.get(&format!("/participants/{person}")).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        staff
            .get(&format!("/lembaga/referrals/{other_id}"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    for (to, version, note) in [
        ("in_progress", "3", "Hadir"),
        ("completed", "4", "Lulus uji kompetensi"),
    ] {
        let r = staff
            .post_form(
                &format!("/programme-referrals/{rid}"),
                &[
                    ("csrf", staff.csrf.as_str()),
                    ("status", to),
                    ("version", version),
                    ("note", note),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{to}");
    }

    // The officer sees what the agency said, and the history.
    let mine = session
        .page(&format!("/participants/{person}/programmes"))
        .await;
    assert!(
        mine.contains("Jawaban lembaga: Lulus uji kompetensi"),
        "{mine}"
    );
    assert!(mine.contains("Kelas mulai Senin"));
    assert!(mine.contains(r#"data-status="completed""#));

    // The dashboard download counts it.
    let csv = session.get("/programmes/report.csv").await;
    assert_eq!(csv.status(), StatusCode::OK);
    let csv = csv.text().await.unwrap();
    assert!(
        csv.lines().any(|l| l.contains("Pelatihan Menjahit Uji")
            && l.contains("Selesai")
            && l.ends_with(",1")),
        "{csv}"
    );

    // Every change is in the audit log.
    let db = &app.state.db;
    let actions: Vec<String> = loket::with_db!(db, |pool| {
        sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE entity = 'programme_referral' AND entity_id = $1 AND outcome = 'ok' ORDER BY id"
    )
    .bind(rid.to_string())
    .fetch_all(pool)
    .await
    .unwrap()
    });
    for action in [
        "programme_referral.create",
        "programme_referral.send",
        "programme_referral.accept",
        "programme_referral.start",
        "programme_referral.complete",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
}

#[tokio::test]
async fn a_person_is_screened_referred_with_consent_and_the_agency_reports_completion() {
    on_each_backend!(story);
}

/// Two officers send to the last place at once: one gets it, the other a clear refusal.
async fn last_place(app: &TestApp) {
    let s = seed(app).await;
    let (_, token) = app.officer_a().await;
    let officer = app.api(&token);
    let mut drafts = Vec::new();
    for (nik, name) in [("3201014505900011", "Satu"), ("3201014505900012", "Dua")] {
        let id = officer
            .register_person(nik, &format!("Peserta {name}"))
            .await;
        let draft: Value = officer
            .post(
                &format!("/api/v1/participants/{id}/programme-referrals"),
                &json!({"programme_id": s.open}),
            )
            .await
            .json()
            .await
            .unwrap();
        drafts.push(draft["id"].as_i64().unwrap());
    }
    let (a, b) = tokio::join!(
        status(
            &officer,
            drafts[0],
            "sent",
            1,
            json!({"consent_method": "verbal"})
        ),
        status(
            &officer,
            drafts[1],
            "sent",
            1,
            json!({"consent_method": "verbal"})
        )
    );
    let mut codes = [a.status().as_u16(), b.status().as_u16()];
    codes.sort_unstable();
    assert_eq!(codes, [200, 409]);
    assert_eq!(taken(app, s.open).await, 1);
}

#[tokio::test]
async fn the_last_place_goes_to_one_referral_only() {
    on_each_backend!(last_place);
}
