use reqwest::StatusCode;

use crate::common::{assert_page_says, post_login, TestApp};
use crate::on_each_backend;

fn registration<'a>(csrf: &'a str, nik: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("nik", nik),
        ("full_name", "Sri Wahyuni"),
        ("sex", "female"),
        ("birth_date", "1990-05-05"),
        ("phone", "081298765432"),
        ("destination_country", "HK"),
        ("job_sector", "domestic_worker"),
        ("consent_processing", "true"),
        ("consent_method", "paper_form"),
    ]
}

async fn register_through_forms(app: &TestApp) {
    app.officer_a().await;
    // Not signed in: the pages send you to the login page and keep where you were going.
    let response = app.get("/participants?q=siti").await;
    assert_eq!(
        response.headers()["location"],
        "/login?next=%2Fparticipants%3Fq%3Dsiti"
    );
    let wrong = post_login(&app.client, app, "petugas.a", "salah-sekali-123").await;
    assert_page_says(
        wrong,
        StatusCode::UNAUTHORIZED,
        "Nama pengguna atau kata sandi salah",
    )
    .await;

    let officer = app.session("petugas.a").await;
    let csrf = &officer.csrf;
    // A form with mistakes comes back with each message next to its field, values kept.
    let mut bad = registration(csrf, "3201014505900001");
    bad[1] = ("nik", "32010145059000");
    bad.retain(|(k, _)| *k != "consent_processing");
    let response = officer.post_form("/participants/new", &bad).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(page.contains("id=\"nik-error\""));
    assert!(page.contains("id=\"consent_processing-error\""));
    assert!(page.contains("value=\"Sri Wahyuni\""));

    // Without the session's CSRF token nothing is saved.
    let mut forged = registration("forged", "3201014505900001");
    forged[0] = ("csrf", "forged");
    let response = officer.post_form("/participants/new", &forged).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.participant_count().await, 0);

    let response = officer
        .post_form("/participants/new", &registration(csrf, "3201014505900001"))
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let detail_url = response.headers()["location"].to_str().unwrap().to_string();
    let detail = officer.page(&detail_url).await;
    assert!(
        detail.contains("Sri Wahyuni")
            && detail.contains("Kabupaten Bogor")
            && detail.contains("Data tersimpan")
    );

    // Found by NIK (typed with spaces) and by name.
    let found = officer.page("/participants?q=3201+0145+0590+0001").await;
    assert!(found.contains("Sri Wahyuni") && found.contains("3201**********01"));
    let found = officer.page("/participants?q=wahyu").await;
    assert!(found.contains("Sri Wahyuni"));

    // Edit with the version; a stale version is refused with a message, not lost silently.
    let id = detail_url
        .trim_start_matches("/participants/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let edit_path = format!("/participants/{id}/edit");
    let edit = officer.page(&edit_path).await;
    assert!(edit.contains("name=\"version\" value=\"1\""));
    let mut change = registration(csrf, "3201014505900001");
    change.push(("version", "1"));
    change.push(("email", "sri@gmail.com"));
    let response = officer.post_form(&edit_path, &change).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = officer.post_form(&edit_path, &change).await;
    assert_page_says(
        response,
        StatusCode::CONFLICT,
        "baru saja diubah orang lain",
    )
    .await;
}

#[tokio::test]
async fn an_officer_signs_in_registers_finds_and_edits_through_plain_forms() {
    on_each_backend!(register_through_forms);
}

async fn pages_speak_english_on_request_and_stay_light(app: &TestApp) {
    app.officer_a().await;
    let officer = app.session("petugas.a").await;
    let page = officer.page("/participants/new").await;
    assert!(page.contains("Daftarkan Purna PMI"));
    assert!(page.len() < 60_000, "register page is {} bytes", page.len());
    let response = officer.get("/lang/en?back=/participants/new").await;
    assert_eq!(response.headers()["location"], "/participants/new");
    let page = officer.page("/participants/new").await;
    assert!(page.contains("Register a returning migrant worker"));
    // An open redirect through the language switch is not possible.
    let response = officer.get("/lang/id?back=//evil.example").await;
    assert_eq!(response.headers()["location"], "/");
}

#[tokio::test]
async fn pages_are_indonesian_first_english_on_request_and_light() {
    on_each_backend!(pages_speak_english_on_request_and_stay_light);
}

async fn registering_shows_the_eligibility_advice(app: &TestApp) {
    loket::journey::demo::seed_batches(&app.state.db, loket::clock::today())
        .await
        .unwrap();
    app.officer_a().await;
    let officer = app.session("petugas.a").await;
    let register = |nik: &'static str, birth: &'static str| {
        let officer = &officer;
        async move {
            let mut form = registration(&officer.csrf, nik);
            form.retain(|(k, _)| *k != "birth_date");
            form.push(("birth_date", birth));
            let response = officer.post_form("/participants/new", &form).await;
            assert_eq!(response.status(), StatusCode::SEE_OTHER);
            let to = response.headers()["location"].to_str().unwrap().to_string();
            let page = officer.page(&to).await;
            (to, page)
        }
    };
    // 36 years old: nothing to advise against.
    let (_, page) = register("3201014505900001", "1990-05-05").await;
    assert!(
        page.contains("id=\"eligibility\" data-advice=\"0\""),
        "{page}"
    );
    // 71 years old: over the age limit of the 2023 scheme's batches, said plainly.
    let (to, page) = register("3201015505550002", "1955-05-15").await;
    assert!(
        page.contains("id=\"eligibility\" data-advice=\"1\""),
        "{page}"
    );
    assert!(page.contains("64"), "{page}");
    // Later views do not repeat it (it is shown when registering or editing).
    let detail = to.split('?').next().unwrap();
    assert!(detail.starts_with("/participants/") && detail.len() > "/participants/".len());
    let later = officer.page(detail).await;
    assert!(
        later.contains("1955") || later.contains("15-05-1955"),
        "{later}"
    );
    assert!(!later.contains("id=\"eligibility\""));
}

#[tokio::test]
async fn registering_a_purna_pmi_shows_the_prakerja_eligibility_advice() {
    on_each_backend!(registering_shows_the_eligibility_advice);
}

/// How many consent decisions the API lists for a person.
async fn consents(api: &crate::common::Api<'_>, path: &str) -> usize {
    api.get_json(path).await.as_array().unwrap().len()
}

/// A state-changing form with a forged or missing token changes nothing and says why; the same
/// form with the session's token is taken.
async fn forms_without_the_session_token_change_nothing(app: &TestApp) {
    let (_, token) = app.officer_a().await;
    let id = app
        .api(&token)
        .register_person("3201014505900001", "Siti Aminah")
        .await;
    let officer = app.session("petugas.a").await;
    let path = format!("/participants/{id}/consent");
    let consents_path = format!("/api/v1/participants/{id}/consents");
    let api = app.api(&token);
    let before = consents(&api, &consents_path).await;
    for csrf in ["forged", ""] {
        let response = officer
            .post_form(
                &path,
                &[
                    ("csrf", csrf),
                    ("sharing", "true"),
                    ("method", "paper_form"),
                ],
            )
            .await;
        assert_page_says(response, StatusCode::FORBIDDEN, "Formulir kedaluwarsa").await;
    }
    let response = officer
        .post_form(&path, &[("sharing", "true"), ("method", "paper_form")])
        .await;
    assert_page_says(response, StatusCode::FORBIDDEN, "Formulir kedaluwarsa").await;
    assert_eq!(consents(&api, &consents_path).await, before);

    let csrf = officer.csrf.clone();
    let response = officer
        .post_form(
            &path,
            &[
                ("csrf", csrf.as_str()),
                ("sharing", "true"),
                ("method", "paper_form"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(consents(&api, &consents_path).await, before + 1);
}

#[tokio::test]
async fn a_form_without_the_session_token_changes_nothing() {
    on_each_backend!(forms_without_the_session_token_change_nothing);
}
