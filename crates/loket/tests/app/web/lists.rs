//! Lists that say how many and page on (issue 14, item 7), and pages that speak words, not
//! codes (item 3): name search and the audit log a page at a time with "Menampilkan 1–50 dari
//! 120" and links that keep the filters; refusals without the code in brackets.

use chrono::NaiveDate;
use loket::auth::Role;
use loket::participants::model::{validate, ParticipantFields};

use crate::common::{audited_by_test, registration_at, TestApp};
use crate::on_each_backend;

/// `n` people called "Siti …" registered at counter A, straight into the store.
async fn sitis(app: &TestApp, n: u16) {
    let birth = NaiveDate::from_ymd_opt(1990, 5, 5).unwrap();
    for serial in 1..=n {
        let nik = nik::Nik::compose("320101", birth, nik::Sex::Female, serial).unwrap();
        let fields = ParticipantFields {
            nik: Some(nik.as_str().into()),
            full_name: Some(format!("Siti Nomor {serial:03}")),
            sex: Some("female".into()),
            birth_date: Some("1990-05-05".into()),
            consent_processing: Some("true".into()),
            consent_method: Some("paper_form".into()),
            ..Default::default()
        };
        let data = validate(&fields, loket::clock::today()).unwrap();
        loket::participants::store::insert(
            &app.state.db,
            &app.state.vault,
            &data,
            registration_at(Some(app.counter_a)),
            audited_by_test(app),
        )
        .await
        .unwrap();
    }
}

async fn name_search_and_audit_are_paged(app: &TestApp) {
    app.officer_a().await;
    app.user("pemeriksa", Role::Auditor, None).await;
    sitis(app, 120).await;

    let officer = app.session("petugas.a").await;
    let page = officer.page("/participants?q=siti").await;
    assert!(page.contains("Menampilkan 1–50 dari 120"), "{page}");
    assert!(page.contains("Siti Nomor 001") && page.contains("Siti Nomor 050"));
    assert!(!page.contains("Siti Nomor 051"));
    assert!(page.contains("href=\"/participants?q=siti&amp;offset=50\" rel=\"next\""));
    assert!(!page.contains("rel=\"prev\""));
    let page = officer.page("/participants?q=siti&offset=100").await;
    assert!(page.contains("Menampilkan 101–120 dari 120"));
    assert!(page.contains("Siti Nomor 120"));
    assert!(page.contains("href=\"/participants?q=siti&amp;offset=50\" rel=\"prev\""));
    assert!(!page.contains("rel=\"next\""));
    // In English too.
    officer.get("/lang/en?back=/").await;
    let page = officer.page("/participants?q=siti&offset=50").await;
    assert!(page.contains("Showing 51–100 of 120"));

    let auditor = app.session("pemeriksa").await;
    let page = auditor.page("/audit?action=participant.create").await;
    assert!(page.contains("Menampilkan 1–100 dari 120"), "{page}");
    assert!(page.contains("href=\"/audit?action=participant.create&amp;offset=100\" rel=\"next\""));
    // The action is picked by its words; the log's code is only the option's value.
    assert!(
        page.contains(
            "<option value=\"participant.create\" selected>mendaftarkan peserta</option>"
        ),
        "{page}"
    );
    let page = auditor
        .page("/audit?action=participant.create&offset=100")
        .await;
    assert!(page.contains("Menampilkan 101–120 dari 120"));
    assert_eq!(page.matches("<tr><td>").count(), 20);
    // A filter that finds nothing says so.
    let page = auditor.page("/audit?user=tidak.ada").await;
    assert!(page.contains("Tidak ada hasil"));
}

#[tokio::test]
async fn name_search_and_the_audit_log_are_paged_with_counts_and_filters_kept() {
    on_each_backend!(name_search_and_audit_are_paged);
}

async fn refusals_speak_words(app: &TestApp) {
    let (_, token) = app.officer_a().await;
    let id = app
        .api(&token)
        .register_person("3201014505900001", "Siti Aminah")
        .await;
    let officer = app.session("petugas.a").await;
    let response = officer
        .post_form(
            &format!("/participants/{id}/journey/events"),
            &[
                ("csrf", officer.csrf.as_str()),
                ("stage", "training_bought"),
                ("occurred_on", "2021-07-10"),
                ("amount", "99999999"),
                ("training_title", "Barista"),
            ],
        )
        .await;
    assert!(response.status().is_client_error());
    let page = response.text().await.unwrap();
    assert!(page.contains("id=\"journey-alert\""), "{page}");
    let alert = page.split("id=\"journey-alert\"").nth(1).unwrap();
    let alert = &alert[..alert.find("</p>").unwrap()];
    assert!(!alert.contains('('), "no code in brackets: {alert}");

    // An error page names the request for the help desk, not the code.
    let page = officer.page("/participants/999999").await;
    assert!(page.contains("data-code=\"not_found\""));
    assert!(!page.contains(">not_found"), "{page}");
}

#[tokio::test]
async fn refusals_and_error_pages_show_words_not_codes() {
    on_each_backend!(refusals_speak_words);
}

async fn the_funnel_chart_fits_its_labels(app: &TestApp) {
    let (_, token) = app.officer_a().await;
    let api = app.api(&token);
    for (serial, name) in [(1, "Siti Aminah"), (2, "Dewi Lestari")] {
        let id = api
            .register_person(&format!("320101450590000{serial}"), name)
            .await;
        let event = serde_json::json!({"stage": "account_created", "occurred_on": "2021-06-01"});
        let response = api
            .post(&format!("/api/v1/participants/{id}/journey/events"), &event)
            .await;
        assert_eq!(response.status(), 201);
    }
    let officer = app.session("petugas.a").await;
    let page = officer.page("/journey/funnel").await;
    let chart = page.split("<svg").nth(1).unwrap();
    let chart = &chart[..chart.find("</svg>").unwrap()];
    let mut counts = 0;
    // Every count written after its bar stays inside the 640-wide view (about 7 units a
    // character at font size 12), the first, longest bar's too.
    for text in chart.split("<text x=\"").skip(1) {
        let x: i64 = text.split('"').next().unwrap().parse().unwrap();
        let words = text.split('>').nth(1).unwrap().split('<').next().unwrap();
        assert!(
            x + 7 * words.chars().count() as i64 <= 640,
            "«{words}» at {x} is cut off"
        );
        counts += 1;
    }
    assert!(counts >= 4, "{chart}");
    assert!(chart.contains(">2</text>"), "{chart}");
}

#[tokio::test]
async fn the_funnel_charts_first_bar_keeps_its_count_inside_the_chart() {
    on_each_backend!(the_funnel_chart_fits_its_labels);
}

async fn a_match_is_explained_in_words(app: &TestApp) {
    let (_, token) = app.officer_a().await;
    let person = app
        .api(&token)
        .register_person("3201014505900001", "Siti Aminah")
        .await;
    let (admin_id, _) = app.user("pusat", Role::Admin, None).await;
    let db = &app.state.db;
    let nik = "3201014505900011";
    let row = loket::exchange::store::NewUploadRow {
        row_no: 2,
        nik_enc: app.state.vault.seal(loket::vault::IndexKind::Nik, nik),
        nik_index: app
            .state
            .vault
            .blind_index(loket::vault::IndexKind::Nik, nik),
        full_name: "Sitti Aminah".into(),
        birth_date: NaiveDate::from_ymd_opt(1990, 5, 5),
        district_code: "320101".into(),
        facts: "{}".into(),
    };
    let upload =
        loket::exchange::store::insert_upload(db, "p.csv", &[7], admin_id, 0.9, 0.3, &[row])
            .await
            .unwrap();
    let rows = loket::exchange::store::rows_of(db, upload, None, 0, 10)
        .await
        .unwrap();
    let outcome = loket::exchange::store::LinkOutcome {
        row_id: rows[0].id,
        participant_id: Some(person),
        probability: Some(0.7),
        explanation: Some(
            "nik: nik_typo (+5.1); name: jaro_winkler >= 0.88 (+4.0); birth_date: date_swap (+2.2)"
                .into(),
        ),
        master_id: None,
        master_probability: None,
        decision: Some(loket::exchange::model::Decision::Review),
        outreach_counter_id: Some(app.counter_b),
    };
    loket::exchange::store::save_links(db, upload, &[outcome], "{}")
        .await
        .unwrap();

    let admin = app.session("pusat").await;
    let page = admin.page(&format!("/exchange/uploads/{upload}")).await;
    assert!(
        page.contains("Alasan: NIK beda satu angka, nama mirip, tanggal lahir tertukar hari/bulan"),
        "{page}"
    );
    assert!(page.contains(&format!(
        "Loket penjangkauan: <a href=\"/counters/{}\">Loket B</a>",
        app.counter_b
    )));
    assert!(!page.contains("jaro_winkler") && !page.contains("nik_typo"));
    admin.get("/lang/en?back=/").await;
    let page = admin.page(&format!("/exchange/uploads/{upload}")).await;
    assert!(
        page.contains("Why: NIK differs by a typo, similar name, day and month of birth swapped")
    );
}

#[tokio::test]
async fn the_review_page_explains_a_match_in_words_and_names_the_outreach_counter() {
    on_each_backend!(a_match_is_explained_in_words);
}
