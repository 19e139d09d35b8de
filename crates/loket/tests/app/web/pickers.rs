//! The registration form an officer fills in with a person at the counter (issue 14, items 2
//! and 6): regions and countries picked by name without JavaScript, sex and birth date read
//! from the NIK, the promised warning for an unknown district, errors tied to their fields,
//! the journey form at the next stage, and error pages with a way back.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Session, TestApp};
use crate::on_each_backend;

/// The `<option>` of `code`, chosen or not.
fn option(code: &str, selected: bool) -> String {
    let chosen = if selected { " selected" } else { "" };
    format!("<option value=\"{code}\"{chosen}>")
}

/// The text of the `<select id="name">` of a page.
fn select<'a>(page: &'a str, name: &str) -> &'a str {
    let start = page
        .find(&format!("<select id=\"{name}\""))
        .unwrap_or_else(|| panic!("no select {name}"));
    let end = page[start..].find("</select>").unwrap() + start;
    &page[start..end]
}

async fn pick(officer: &Session<'_>, form: &[(&str, &str)]) -> String {
    let mut form = form.to_vec();
    form.push(("csrf", officer.csrf.as_str()));
    form.push(("step", "pick"));
    let response = officer.post_form("/participants/new", &form).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

async fn regions_and_countries_are_picked_by_name(app: &TestApp) {
    app.officer_a().await;
    let officer = app.session("petugas.a").await;
    // "Daftarkan sekarang" from a search by NIK: sex and birth date come from the NIK.
    let page = officer.page("/participants/new?nik=3201014505900001").await;
    assert!(
        select(&page, "sex").contains(&option("female", true)),
        "{page}"
    );
    assert!(page.contains("id=\"birth_date\" name=\"birth_date\" value=\"1990-05-05\""));
    // Countries by Indonesian name, the common destinations first; no code to type.
    let countries = select(&page, "destination_country");
    let at = |name: &str| countries.find(name).unwrap_or_else(|| panic!("{name}"));
    assert!(at("Malaysia") < at("Taiwan") && at("Taiwan") < at("Hong Kong"));
    assert!(at("Korea Selatan") < at("Afganistan") && at("Jepang") < at("Afganistan"));
    assert!(countries.contains("<optgroup label=\"Tujuan umum PMI\">"));
    // No province yet: no regencies to offer.
    assert!(!select(&page, "regency_code").contains("value=\"3201\""));

    // "Tampilkan kabupaten/kota" reloads the form with Jawa Barat's regencies, keeping what
    // was typed and saving nothing.
    let typed = [
        ("nik", "3201014505900001"),
        ("full_name", "Sri Wahyuni"),
        ("province_code", "32"),
    ];
    let page = pick(&officer, &typed).await;
    assert!(page.contains("value=\"Sri Wahyuni\""));
    let regencies = select(&page, "regency_code");
    assert!(regencies.contains("Kabupaten Bogor") || regencies.contains("KAB. BOGOR"));
    assert!(regencies.contains(&option("3201", false)));
    assert!(
        !regencies.contains("value=\"3171\""),
        "Jakarta is not in Jawa Barat"
    );
    assert_eq!(app.participant_count().await, 0);
    // Then the districts of the chosen regency.
    let page = pick(&officer, &[typed[0], typed[2], ("regency_code", "3201")]).await;
    assert!(select(&page, "regency_code").contains(&option("3201", true)));
    assert!(select(&page, "district_code").contains("Cibinong"));
    // Another province: the regency chosen before is dropped, not kept out of place.
    let page = pick(
        &officer,
        &[
            ("province_code", "31"),
            ("regency_code", "3201"),
            ("district_code", "320101"),
        ],
    )
    .await;
    assert!(!select(&page, "regency_code").contains(" selected>"));
    assert!(!select(&page, "district_code").contains("Cibinong"));

    // Saved with the names chosen: the record reads them back as names.
    let csrf = officer.csrf.clone();
    let response = officer
        .post_form(
            "/participants/new",
            &[
                ("csrf", csrf.as_str()),
                ("nik", "3201014505900001"),
                ("full_name", "Sri Wahyuni"),
                ("province_code", "32"),
                ("regency_code", "3201"),
                ("district_code", "320101"),
                ("destination_country", "KR"),
                ("consent_processing", "true"),
                ("consent_method", "paper_form"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to = response.headers()["location"].to_str().unwrap().to_string();
    let detail = officer.page(&to).await;
    assert!(detail.contains("Korea Selatan"), "{detail}");
    assert!(detail.contains("Cibinong") && detail.contains("05-05-1990"));
    assert!(detail.contains("Perempuan"), "sex from the NIK: {detail}");
}

#[tokio::test]
async fn regions_and_countries_are_picked_by_name_without_javascript() {
    on_each_backend!(regions_and_countries_are_picked_by_name);
}

async fn unknown_district_is_accepted_with_a_warning(app: &TestApp) {
    app.officer_a().await;
    let officer = app.session("petugas.a").await;
    // 320199 is not a district of Kabupaten Bogor in the Kemendagri list.
    let nik = "3201994505900001";
    let page = pick(&officer, &[("nik", nik)]).await;
    assert!(page.contains("id=\"nik-note\""), "{page}");
    assert!(page.contains("Kode kecamatan 320199"), "{page}");
    assert!(page.contains("aria-describedby=\"nik-note\""));
    let csrf = officer.csrf.clone();
    let response = officer
        .post_form(
            "/participants/new",
            &[
                ("csrf", csrf.as_str()),
                ("nik", nik),
                ("full_name", "Rina Kartika"),
                ("consent_processing", "true"),
                ("consent_method", "paper_form"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "accepted");
    let to = response.headers()["location"].to_str().unwrap().to_string();
    let detail = officer.page(&to).await;
    assert!(detail.contains("Rina Kartika"));
    assert!(
        detail.contains("Kode kecamatan 320199") && detail.contains("class=\"warn\""),
        "{detail}"
    );
}

#[tokio::test]
async fn a_nik_with_an_unknown_district_is_accepted_with_the_promised_warning() {
    on_each_backend!(unknown_district_is_accepted_with_a_warning);
}

async fn errors_are_summed_up_and_tied_to_their_fields(app: &TestApp) {
    app.officer_a().await;
    let officer = app.session("petugas.a").await;
    let csrf = officer.csrf.clone();
    let response = officer
        .post_form(
            "/participants/new",
            &[
                ("csrf", csrf.as_str()),
                ("nik", "3201014505900001"),
                ("consent_method", "paper_form"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    // The summary comes first in the form's place, takes the focus, and links every field.
    let summary = page.find("id=\"error-summary\"").expect("an error summary");
    assert!(
        summary
            < page
                .find("action=\"/participants/new\" class=\"card\"")
                .unwrap()
    );
    assert!(page.contains("tabindex=\"-1\" autofocus"));
    for field in ["full_name", "consent_processing"] {
        assert!(page.contains(&format!("<a href=\"#{field}\">")), "{field}");
        assert!(
            page.contains(&format!("aria-describedby=\"{field}-error\"")),
            "{field}"
        );
    }
    assert_eq!(page.matches("aria-invalid=\"true\"").count(), 2, "{page}");
    // Sex and birth date were read from the NIK, so they are not among the errors.
    assert!(!page.contains("href=\"#sex\"") && !page.contains("href=\"#birth_date\""));
    // Required fields are marked before anyone submits.
    let blank = officer.page("/participants/new").await;
    for field in [
        "nik",
        "full_name",
        "sex",
        "birth_date",
        "consent_processing",
    ] {
        assert!(
            blank.contains(&format!("id=\"{field}\" name=\"{field}\"")),
            "{field}"
        );
    }
    assert_eq!(blank.matches(" required").count(), 6, "{blank}");
    assert!(blank.contains("Wajib diisi"));
}

#[tokio::test]
async fn form_errors_are_summed_up_at_the_form_and_tied_to_their_fields() {
    on_each_backend!(errors_are_summed_up_and_tied_to_their_fields);
}

async fn error_pages_lead_back(app: &TestApp) {
    app.officer_a().await;
    let officer = app.session("petugas.a").await;
    let missing = app.url("/participants/999999");
    // Came from a search: "Kembali" returns there, and the navigation is there.
    let page = officer
        .client
        .get(&missing)
        .header("referer", app.url("/participants?q=siti"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("id=\"error-back\" href=\"/participants?q=siti\""),
        "{page}"
    );
    assert!(page.contains("href=\"/participants/new\"") && page.contains("petugas.a"));
    // Typed by hand (no referring page), or from another site: the officer's home.
    for referer in [None, Some("http://evil.example/participants")] {
        let mut request = officer.client.get(&missing);
        if let Some(r) = referer {
            request = request.header("referer", r);
        }
        let page = request.send().await.unwrap().text().await.unwrap();
        assert!(
            page.contains("id=\"error-back\" href=\"/participants\""),
            "{page}"
        );
    }
    // Not signed in: no navigation to show, back to the start.
    let page = app.get("/no/such/page").await.text().await.unwrap();
    assert!(page.contains("id=\"error-back\" href=\"/\""), "{page}");
}

#[tokio::test]
async fn error_pages_have_the_navigation_and_a_real_way_back() {
    on_each_backend!(error_pages_lead_back);
}

async fn journey_form_defaults_to_the_next_stage(app: &TestApp) {
    let (_, token) = app.officer_a().await;
    let api = app.api(&token);
    let id = api.register_person("3201014505900001", "Siti Aminah").await;
    let officer = app.session("petugas.a").await;
    let path = format!("/participants/{id}/journey");
    let page = officer.page(&path).await;
    assert!(
        select(&page, "stage-select").contains(&option("account_created", true)),
        "{page}"
    );
    let response = api
        .post(
            &format!("/api/v1/participants/{id}/journey/events"),
            &json!({"stage": "account_created", "occurred_on": "2021-06-01"}),
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    let page = officer.page(&path).await;
    assert!(select(&page, "stage-select").contains(&option("profile_verified", true)));
}

#[tokio::test]
async fn the_journey_form_defaults_to_the_next_possible_stage() {
    on_each_backend!(journey_form_defaults_to_the_next_stage);
}
