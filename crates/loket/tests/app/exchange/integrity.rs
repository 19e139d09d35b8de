//! Nothing attached to the wrong person and nothing stuck (issue 12): a file row with a
//! registry person's NIK but someone else's name or birth date waits for a reviewer, who reads
//! the disagreement in words; a purchase the file gives no price for is unknown, not free; each
//! imported event names its file line once; an upload a restart cut off shows a retry that
//! finishes it.

use loket::auth::Role;
use nik::Sex;
use reqwest::StatusCode;
use serde_json::json;

use super::{rows_of, upload_id_of, wait_status, Admin};
use crate::common::exchange::{
    fill_registry, nik, programme_file, record_as_the_file, register, sample_file, Registry,
};
use crate::common::{sign_in, TestApp};
use crate::on_each_backend;

/// An admin signed in to the pages, with an API token, and the registry filled.
async fn admin_with_registry(app: &TestApp) -> (Admin, String, Registry) {
    loket::journey::demo::seed_batches(&app.state.db, loket::clock::today())
        .await
        .unwrap();
    let (_, token) = app.user("pusat", Role::Admin, None).await;
    let (client, csrf) = sign_in(app, "pusat").await;
    let registry = fill_registry(app, &token).await;
    (Admin { client, csrf }, token, registry)
}

async fn events_of(app: &TestApp, id: i64) -> Vec<String> {
    loket::journey::store::events_of(&app.state.db, id)
        .await
        .unwrap()
        .iter()
        .map(|e| e.stage.to_string())
        .collect()
}

async fn a_nik_with_another_persons_name_waits_for_review(app: &TestApp) {
    let (admin, token, _) = admin_with_registry(app).await;
    let siti_nik = nik("320101", "1990-05-05", Sex::Female, 77);
    let siti = register(
        app,
        &token,
        &siti_nik,
        "Siti Handayani",
        "1990-05-05",
        "female",
        true,
    )
    .await;
    let dewi_nik = nik("352501", "1987-03-09", Sex::Female, 78);
    let dewi = register(
        app,
        &token,
        &dewi_nik,
        "Dewi Lestari",
        "1987-03-09",
        "female",
        true,
    )
    .await;
    // Row 2: Siti's NIK typed for Budi. Row 3: Dewi, her name in capitals (that agrees) but
    // her day and month of birth swapped (that does not).
    let file = programme_file(&[
        [
            &siti_nik,
            "Budi Santoso",
            "01/02/1980",
            "12",
            "2021-03-01",
            "",
            "",
            "",
            "",
        ],
        [
            &dewi_nik,
            "DEWI LESTARI",
            "03/09/1987",
            "12",
            "2021-03-01",
            "",
            "",
            "",
            "",
        ],
    ]);
    let r = admin
        .post_file(app, "/exchange/uploads", "penerima.csv", file)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let upload = upload_id_of(&r);
    assert_eq!(wait_status(app, upload, "linking").await, "review");

    let rows = rows_of(app, upload).await;
    let row = |n: i64| rows.iter().find(|r| r.row_no == n).unwrap().clone();
    assert_eq!(
        (
            row(2).participant_id,
            row(2).decision.as_str(),
            row(2).probability
        ),
        (Some(siti), "review", None),
        "Siti's NIK under Budi's name is not matched automatically"
    );
    assert_eq!(
        (row(3).participant_id, row(3).decision.as_str()),
        (Some(dewi), "review")
    );

    // The reviewer reads what disagrees, in Indonesian and in English.
    let path = format!("/exchange/uploads/{upload}?show=review");
    let (status, page) = admin.page(app, &path).await;
    assert_eq!(status, StatusCode::OK);
    for words in [
        "NIK sama, nama berbeda: di berkas &#39;Budi Santoso&#39;, di loket &#39;Siti Handayani&#39;",
        "NIK sama, tanggal lahir berbeda: di berkas &#39;01-02-1980&#39;, di loket &#39;05-05-1990&#39;",
        "NIK sama, hari dan bulan lahir tertukar: di berkas &#39;03-09-1987&#39;, di loket &#39;09-03-1987&#39;",
    ] {
        assert!(page.contains(words), "{words} not in {page}");
    }
    assert!(page.contains("id=\"n-nik-disagreements\">2<"), "{page}");
    assert!(
        !page.contains("100.0%"),
        "no certainty shown beside a disagreement"
    );
    let r = admin
        .client
        .get(app.url(&format!("/lang/en?back={path}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = admin.page(app, &path).await;
    assert!(
        page.contains("Same NIK, different name: in the file &#39;Budi Santoso&#39;, at the counter &#39;Siti Handayani&#39;"),
        "{page}"
    );

    // Nothing is applied before the review; Budi's row is rejected, Dewi's accepted.
    let r = admin
        .post_form(app, &format!("/exchange/uploads/{upload}/apply"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    for (n, decision) in [(2, "reject"), (3, "accept")] {
        let r = admin
            .post_form(
                app,
                &format!("/exchange/uploads/{upload}/rows/{}", row(n).id),
                &[("decision", decision)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let r = admin
        .post_form(app, &format!("/exchange/uploads/{upload}/apply"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(wait_status(app, upload, "applying").await, "applied");
    assert!(
        events_of(app, siti).await.is_empty(),
        "Budi's Prakerja events are not given to Siti"
    );
    assert_eq!(events_of(app, dewi).await, ["joined_batch", "accepted"]);
}

#[tokio::test]
async fn a_row_with_a_registry_nik_but_another_persons_name_waits_for_review_in_words() {
    on_each_backend!(a_nik_with_another_persons_name_waits_for_review);
}

/// Uploads the sample file and settles its review (Rizal accepted, the other Ratna rejected).
async fn uploaded_and_reviewed(app: &TestApp, admin: &Admin, name: &str) -> i64 {
    let r = admin
        .post_file(app, "/exchange/uploads", name, sample_file().bytes)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let upload = upload_id_of(&r);
    assert_eq!(wait_status(app, upload, "linking").await, "review");
    for row in rows_of(app, upload).await {
        let decision = match row.row_no {
            4 => "accept",
            5 => "reject",
            _ => continue,
        };
        let path = format!("/exchange/uploads/{upload}/rows/{}", row.id);
        let r = admin.post_form(app, &path, &[("decision", decision)]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    upload
}

/// The sample file uploaded, reviewed and applied.
async fn uploaded_and_applied(app: &TestApp, admin: &Admin) -> i64 {
    let upload = uploaded_and_reviewed(app, admin, "penerima.csv").await;
    let r = admin
        .post_form(app, &format!("/exchange/uploads/{upload}/apply"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(wait_status(app, upload, "applying").await, "applied");
    upload
}

/// What a server stopped in the middle of a job leaves in the database: `statements` about
/// `upload` (its id bound as `$1`).
async fn write_state(app: &TestApp, statements: &[&str], upload: i64) {
    for sql in statements {
        loket::with_db!(&app.state.db, |pool| {
            sqlx::query(sql).bind(upload).execute(pool).await.unwrap();
        });
    }
}

async fn interrupted_jobs_fail_with_a_retry_that_works(app: &TestApp) {
    let (admin, token, registry) = admin_with_registry(app).await;
    let siti = registry.exact;
    // Cut off while applying: the upload `applying`, Siti's first two events recorded, her row
    // not yet marked applied.
    let applying = uploaded_and_reviewed(app, &admin, "penerima.csv").await;
    write_state(
        app,
        &["UPDATE exchange_uploads SET status = 'applying' WHERE id = $1"],
        applying,
    )
    .await;
    let day = |stage: &str| json!({"stage": stage, "occurred_on": "2021-03-01", "batch": 12});
    record_as_the_file(app, &token, siti, &[day("joined_batch"), day("accepted")]).await;
    // Cut off while linking: stored whole, nothing linked yet.
    let linking = uploaded_and_reviewed(app, &admin, "penerima-2.csv").await;
    write_state(
        app,
        &[
            "UPDATE exchange_uploads SET status = 'linking', summary = NULL WHERE id = $1",
            "UPDATE exchange_rows SET decision = 'unmatched', participant_id = NULL, \
             probability = NULL, explanation = NULL, decided_by = NULL WHERE upload_id = $1",
        ],
        linking,
    )
    .await;

    // The server starts again: neither job is shown as running for ever.
    let again = app.restarted().await;
    for id in [applying, linking] {
        let u = super::upload_row(&again, id).await;
        assert_eq!(
            (u.status.as_str(), u.status_note.as_deref()),
            ("failed", Some("interrupted"))
        );
    }
    let (client, csrf) = sign_in(&again, "pusat").await;
    let admin = Admin { client, csrf };
    let (_, page) = admin
        .page(&again, &format!("/exchange/uploads/{applying}"))
        .await;
    assert!(
        page.contains("Pekerjaan ini terhenti karena aplikasi dimulai ulang.")
            && page.contains("id=\"retry-form\"")
            && page.contains("Coba lagi"),
        "{page}"
    );
    assert!(
        !page.contains("http-equiv=\"refresh\""),
        "not shown as running"
    );
    let api = again.api(&token);
    let state = api
        .get_json(&format!("/api/v1/exchange/uploads/{linking}"))
        .await;
    assert_eq!(
        (&state["status"], &state["status_note"], &state["can_retry"]),
        (&"failed".into(), &"interrupted".into(), &true.into()),
        "{state}"
    );

    // Retried through the API, linking starts over and reaches the review again.
    let r = api
        .post(
            &format!("/api/v1/exchange/uploads/{linking}/retry"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(wait_status(&again, linking, "linking").await, "review");
    let rows = rows_of(&again, linking).await;
    assert!(rows
        .iter()
        .any(|r| r.row_no == 2 && r.decision == "auto" && r.participant_id == Some(siti)));
    // A retry of an upload that did not fail is refused.
    let r = api
        .post(
            &format!("/api/v1/exchange/uploads/{linking}/retry"),
            &json!({}),
        )
        .await;
    crate::common::assert_api_error(r, StatusCode::CONFLICT, "upload_not_failed").await;

    // Retried on the page, applying goes on: Siti's events are not recorded twice.
    let r = admin
        .post_form(&again, &format!("/exchange/uploads/{applying}/retry"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(wait_status(&again, applying, "applying").await, "applied");
    assert_eq!(
        events_of(&again, siti).await,
        [
            "joined_batch",
            "accepted",
            "training_bought",
            "training_completed",
            "incentive_paid"
        ]
    );
    let u = super::upload_row(&again, applying).await;
    assert_eq!(u.applied_rows, 6);
    let actions = super::audit_actions(&again).await;
    assert!(actions.iter().any(|a| a == "exchange.interrupted"));
    assert_eq!(actions.iter().filter(|a| *a == "exchange.retry").count(), 2);
    again.state.db.close().await;
}

#[tokio::test]
async fn an_upload_a_restart_cut_off_is_failed_with_a_retry_and_the_retry_finishes_it() {
    on_each_backend!(interrupted_jobs_fail_with_a_retry_that_works);
}

async fn a_purchase_without_a_price_is_unknown_not_free(app: &TestApp) {
    let (admin, token, registry) = admin_with_registry(app).await;
    // Siti's row says she bought "Menjahit Busana" on 2021-03-05; the file has no price.
    uploaded_and_applied(app, &admin).await;
    let siti = registry.exact;

    let events = loket::journey::store::events_of(&app.state.db, siti)
        .await
        .unwrap();
    let bought = events
        .iter()
        .find(|e| e.stage.code() == "training_bought")
        .unwrap();
    assert_eq!(bought.fields.amount, None, "stored as unknown, not Rp0");

    // The API: no price, nothing counted as spent, the balance only "at most".
    let journey = app
        .api(&token)
        .get_json(&format!("/api/v1/participants/{siti}/journey"))
        .await;
    let ledger = &journey["ledger"];
    assert_eq!(ledger["purchases"][0]["price"], serde_json::Value::Null);
    assert_eq!(ledger["training_balance"], 1_000_000);
    assert_eq!(ledger["spent"], 0);
    assert_eq!(ledger["remaining"], serde_json::Value::Null, "{ledger}");
    assert_eq!(ledger["remaining_at_most"], 1_000_000);
    assert_eq!(ledger["unknown_prices"], 1);

    // The page says so in words.
    let (status, page) = admin
        .page(app, &format!("/participants/{siti}/journey"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Menjahit Busana · <span class=\"price\">harga tidak diketahui</span>"),
        "{page}"
    );
    assert!(
        page.contains(
            "id=\"remaining\">paling banyak Rp1.000.000 (harga 1 pelatihan tidak diketahui)<"
        ),
        "{page}"
    );
    assert!(
        page.contains("id=\"spent\">harga tidak diketahui<"),
        "{page}"
    );
    assert!(!page.contains("Rp0"), "{page}");
}

#[tokio::test]
async fn an_imported_purchase_without_a_price_shows_price_unknown_and_an_at_most_balance() {
    on_each_backend!(a_purchase_without_a_price_is_unknown_not_free);
}

async fn an_imported_event_names_its_file_line_once(app: &TestApp) {
    let (admin, _, registry) = admin_with_registry(app).await;
    let upload = uploaded_and_applied(app, &admin).await;
    let siti = registry.exact;
    let events = loket::journey::store::events_of(&app.state.db, siti)
        .await
        .unwrap();
    let (_, page) = admin
        .page(app, &format!("/participants/{siti}/journey"))
        .await;
    let line = format!("Data resmi Manajemen Pelaksana Prakerja (unggahan #{upload}, baris 2)");
    let with_reason = events
        .iter()
        .filter(|e| e.fields.override_reason.is_some() || e.eligibility_reason.is_some())
        .count();
    assert!(with_reason >= 1);
    assert_eq!(page.matches(&line).count(), with_reason, "{page}");
    for e in &events {
        assert!(
            e.fields.override_reason.is_none() || e.eligibility_reason.is_none(),
            "one reason per imported event: {e:?}"
        );
    }
}

#[tokio::test]
async fn an_imported_event_shows_the_file_line_it_came_from_once() {
    on_each_backend!(an_imported_event_names_its_file_line_once);
}
