//! Nothing attached to the wrong person (issue 12): a file row with a registry person's NIK but
//! someone else's name or birth date waits for a reviewer, who reads the disagreement in words.

use loket::auth::Role;
use nik::Sex;
use reqwest::StatusCode;

use super::{rows_of, upload_id_of, wait_status, Admin};
use crate::common::exchange::{fill_registry, nik, programme_file, register, Registry};
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
