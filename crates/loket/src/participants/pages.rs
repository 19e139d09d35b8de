//! Officer pages: search, register, view and edit a Purna PMI.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use super::model::*;
use super::requests;
use super::service;
use crate::access::{self, Action};
use crate::auth::{PageUser, SignedForm, SignedIn};
use crate::codes::{choices, Choice};
use crate::error::{AppError, FieldError};
use crate::i18n::Lang;
use crate::state::AppState;
use crate::web::PathId;
use crate::web::{error_page, render, ChoiceGroup, Chrome, FieldKind, FormField, FormSection};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/participants", get(search))
        .route("/participants/new", get(new_form).post(register))
        .route("/participants/{id}", get(detail))
        .route("/participants/{id}/edit", get(edit_form).post(save_edit))
        .route(
            "/participants/{id}/consent",
            axum::routing::post(save_consent),
        )
        .route(
            "/participants/{id}/reassign",
            axum::routing::post(save_reassign),
        )
        .route(
            "/participants/{id}/refer",
            axum::routing::post(save_referral),
        )
        .route("/access-requests", get(requests_page).post(send_request))
        .route(
            "/access-requests/{id}/answer",
            axum::routing::post(answer_request),
        )
}

pub struct ResultRow {
    pub id: i64,
    pub name: String,
    pub nik_masked: String,
    pub birth_date: String,
    pub region: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    q: String,
    searched: bool,
    results: Vec<ResultRow>,
    error: Option<String>,
    register_query: String,
    /// Name searches come a page at a time, with the count.
    pager: Option<crate::web::Pager>,
    /// A NIK registered at a counter the user does not reach: where (names only).
    elsewhere: Option<String>,
    /// Whether the user may ask that counter for access (then the form is shown).
    can_request: bool,
    /// The NIK searched for, as the request form sends it.
    nik: String,
    /// The request form as typed, and what is wrong with it (shown at the reason field).
    reason: String,
    kind: String,
    request_error: Option<String>,
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
    offset: Option<i64>,
}

/// Name search results on one page.
const SEARCH_PAGE: i64 = 50;

fn looks_like_nik(q: &str) -> bool {
    let digits = q.chars().filter(char::is_ascii_digit).count();
    digits >= 8 && q.chars().all(|c| c.is_ascii_digit() || " .-".contains(c))
}

fn result_row(p: &Participant) -> ResultRow {
    let nik = &p.data.nik;
    ResultRow {
        id: p.id,
        name: p.data.full_name.as_str().to_string(),
        nik_masked: nik.masked(),
        birth_date: p.data.birth_date.format("%d-%m-%Y").to_string(),
        region: nik
            .regency_name()
            .or(nik.province_name())
            .unwrap_or("")
            .to_string(),
    }
}

async fn search(
    SignedIn { state, lang, user }: SignedIn,
    Query(query): Query<SearchQuery>,
) -> Response {
    // The search is an officer page: agency staff (no participant scope) are refused here too.
    if let Err(e) = access::require(&state.db, &user.actor, Action::ViewParticipant).await {
        return error_page(lang, &e);
    }
    let q = query.q.unwrap_or_default().trim().to_string();
    match search_view(&state, lang, &user, &q, query.offset.unwrap_or(0)).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_page(lang, &e),
    }
}

/// The search page for `q`: a NIK (exact, and where it is registered when out of reach) or a
/// name (a page of results from `offset`).
async fn search_view(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    q: &str,
    offset: i64,
) -> Result<SearchPage, AppError> {
    let mut page = SearchPage {
        chrome: Chrome::for_user(lang, user, "/participants"),
        q: q.to_string(),
        searched: !q.is_empty(),
        results: Vec::new(),
        error: None,
        register_query: String::new(),
        pager: None,
        elsewhere: None,
        can_request: false,
        nik: String::new(),
        reason: String::new(),
        kind: requests::RequestKind::Access.code().to_string(),
        request_error: None,
    };
    if q.is_empty() {
        return Ok(page);
    }
    if looks_like_nik(q) {
        match nik::Nik::parse(q) {
            Ok(nik) => {
                page.register_query = format!("?nik={}", nik.as_str());
                let found = service::find_by_nik(state, &user.actor, &nik).await?;
                page.results = found.iter().map(result_row).collect();
                if found.is_none() {
                    let place = requests::locate(state, &user.actor, &nik).await?;
                    page.elsewhere = place.map(|p| p.words());
                    page.can_request = user.actor.user.counter_id.is_some()
                        && access::allows(&user.actor.user, Action::RequestAccess);
                    page.nik = nik.as_str().to_string();
                }
            }
            Err(e) => page.error = Some(lang.pick(&e.message_id(), &e.message_en()).to_string()),
        }
    } else {
        let offset = offset.max(0);
        let (found, total) =
            service::search_page(state, &user.actor, q, offset, SEARCH_PAGE).await?;
        page.results = found.iter().map(result_row).collect();
        page.pager = Some(crate::web::Pager::new(
            lang,
            "/participants",
            &[("q", q)],
            offset,
            found.len(),
            total,
            SEARCH_PAGE,
        ));
    }
    Ok(page)
}

#[derive(Template)]
#[template(path = "participant_form.html")]
struct FormPage {
    chrome: Chrome,
    title: &'static str,
    action: String,
    submit: &'static str,
    version: Option<i64>,
    alert: Option<String>,
    sections: Vec<FormSection>,
}

/// The register/edit form, grouped the way an officer asks the questions. Long because it is
/// a table, one entry per field in the order they are asked; split up, the order would be lost.
fn form_sections(lang: Lang, f: &ParticipantFields, errors: &[FieldError]) -> Vec<FormSection> {
    let error = |name: &str| {
        errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| lang.pick(&e.message, &e.message_en).to_string())
    };
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let field = |name: &'static str, kind: FieldKind, v: &Option<String>| FormField {
        name,
        label: lang.t(&format!("field.{name}")),
        kind,
        value: value(v),
        error: error(name),
        required: REQUIRED.contains(&name),
        note: None,
        refresh: None,
    };
    let refreshed = |mut f: FormField, label: &str| {
        f.refresh = Some(lang.t(label));
        f
    };
    let select = |all: Vec<Choice>| FieldKind::Select(all);
    let cur = |v: &Option<String>| v.clone().unwrap_or_default();
    let sex_choices = vec![
        Choice {
            code: "female",
            label: sex_label(nik::Sex::Female, lang),
            selected: cur(&f.sex) == "female",
        },
        Choice {
            code: "male",
            label: sex_label(nik::Sex::Male, lang),
            selected: cur(&f.sex) == "male",
        },
    ];
    let yes_no = |v: &Option<String>| {
        let current = cur(v);
        vec![
            Choice {
                code: "true",
                label: lang.t("yes"),
                selected: current == "true",
            },
            Choice {
                code: "false",
                label: lang.t("no"),
                selected: current == "false",
            },
        ]
    };
    let (provinces, regencies, districts) = region_choices(f);
    let mut nik_field = refreshed(
        field("nik", FieldKind::Text("numeric"), &f.nik),
        "register.fill_from_nik",
    );
    nik_field.note = nik_note(lang, f);
    vec![
        FormSection {
            title: lang.t("register.section_identity"),
            fields: vec![
                nik_field,
                field("full_name", FieldKind::Text("text"), &f.full_name),
                field("sex", select(sex_choices), &f.sex),
                field("birth_date", FieldKind::Date, &f.birth_date),
                field("kk", FieldKind::Text("numeric"), &f.kk),
            ],
        },
        FormSection {
            title: lang.t("register.section_contact"),
            fields: vec![
                field("phone", FieldKind::Text("tel"), &f.phone),
                field("email", FieldKind::Text("email"), &f.email),
                refreshed(
                    field("province_code", select(provinces), &f.province_code),
                    "register.show_regencies",
                ),
                refreshed(
                    field("regency_code", select(regencies), &f.regency_code),
                    "register.show_districts",
                ),
                field("district_code", select(districts), &f.district_code),
                field("address", FieldKind::Text("text"), &f.address),
            ],
        },
        FormSection {
            title: lang.t("register.section_migration"),
            fields: vec![
                field(
                    "destination_country",
                    country_choices(lang, &cur(&f.destination_country)),
                    &f.destination_country,
                ),
                field(
                    "job_sector",
                    select(choices(
                        JobSector::ALL,
                        JobSector::code,
                        JobSector::label,
                        lang,
                        &cur(&f.job_sector),
                    )),
                    &f.job_sector,
                ),
                field("departure_date", FieldKind::Date, &f.departure_date),
                field("return_date", FieldKind::Date, &f.return_date),
                field(
                    "return_reason",
                    select(choices(
                        ReturnReason::ALL,
                        ReturnReason::code,
                        ReturnReason::label,
                        lang,
                        &cur(&f.return_reason),
                    )),
                    &f.return_reason,
                ),
            ],
        },
        FormSection {
            title: lang.t("register.section_needs"),
            fields: vec![
                field(
                    "education",
                    select(choices(
                        Education::ALL,
                        Education::code,
                        Education::label,
                        lang,
                        &cur(&f.education),
                    )),
                    &f.education,
                ),
                field(
                    "marital_status",
                    select(choices(
                        MaritalStatus::ALL,
                        MaritalStatus::code,
                        MaritalStatus::label,
                        lang,
                        &cur(&f.marital_status),
                    )),
                    &f.marital_status,
                ),
                field(
                    "training_interests",
                    FieldKind::Text("text"),
                    &f.training_interests,
                ),
                field(
                    "digital_literacy",
                    select(choices(
                        DigitalLiteracy::ALL,
                        DigitalLiteracy::code,
                        DigitalLiteracy::label,
                        lang,
                        &cur(&f.digital_literacy),
                    )),
                    &f.digital_literacy,
                ),
                field(
                    "has_smartphone",
                    select(yes_no(&f.has_smartphone)),
                    &f.has_smartphone,
                ),
            ],
        },
        FormSection {
            title: lang.t("register.section_consent"),
            fields: vec![
                field(
                    "consent_processing",
                    FieldKind::Checkbox,
                    &f.consent_processing,
                ),
                field("consent_sharing", FieldKind::Checkbox, &f.consent_sharing),
                field(
                    "consent_method",
                    select(choices(
                        &ConsentMethod::ALL[..3],
                        ConsentMethod::code,
                        ConsentMethod::label,
                        lang,
                        &cur(&f.consent_method),
                    )),
                    &f.consent_method,
                ),
            ],
        },
    ]
}

/// The fields a registration cannot be saved without.
const REQUIRED: &[&str] = &[
    "nik",
    "full_name",
    "sex",
    "birth_date",
    "consent_processing",
    "consent_method",
];

/// Regions still in the newest Kemendagri list, and the one already chosen even if retired.
fn region_options(list: Vec<&'static nik::regions::Region>, current: &str) -> Vec<Choice> {
    list.into_iter()
        .filter(|r| !r.is_retired() || r.code == current)
        .map(|r| Choice {
            code: r.code,
            label: r.name,
            selected: r.code == current,
        })
        .collect()
}

/// The address pickers: every province; the regencies of the chosen province; the districts
/// of the chosen regency. Empty until the parent is chosen ("Tampilkan …" reloads the form).
fn region_choices(f: &ParticipantFields) -> (Vec<Choice>, Vec<Choice>, Vec<Choice>) {
    let cur = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or_default().to_string();
    let (province, regency, district) = (
        cur(&f.province_code),
        cur(&f.regency_code),
        cur(&f.district_code),
    );
    let provinces = region_options(nik::regions::provinces().iter().collect(), &province);
    let regencies = region_options(nik::regions::regencies_of(&province), &regency);
    let districts = region_options(nik::regions::districts_of(&regency), &district);
    (provinces, regencies, districts)
}

/// Countries by name in the reader's language, the common PMI destinations first.
fn country_choices(lang: Lang, current: &str) -> FieldKind {
    let current = current.trim().to_ascii_uppercase();
    let (common, others): (Vec<_>, Vec<_>) =
        crate::codes::countries().iter().partition(|c| c.common);
    let group = |label: &str, list: Vec<&'static crate::codes::CountryName>| ChoiceGroup {
        label: lang.t(label),
        choices: list
            .into_iter()
            .map(|c| Choice {
                code: c.code.as_str(),
                label: c.name(lang),
                selected: c.code == current,
            })
            .collect(),
    };
    FieldKind::Grouped(vec![
        group("register.countries_common", common),
        group("register.countries_other", others),
    ])
}

/// The promised warning for a NIK whose region codes are not (or no longer) in the list.
fn nik_note(lang: Lang, f: &ParticipantFields) -> Option<String> {
    let nik = nik::Nik::parse(f.nik.as_deref()?).ok()?;
    let warnings: Vec<String> = nik
        .warnings()
        .iter()
        .map(|w| lang.pick(&w.message_id(), &w.message_en()).to_string())
        .collect();
    (!warnings.is_empty()).then(|| warnings.join(" "))
}

/// Sex and birth date read from the NIK, where the officer has not filled them in.
fn fill_from_nik(fields: &mut ParticipantFields) {
    let Some(nik) = fields.nik.as_deref().and_then(|t| nik::Nik::parse(t).ok()) else {
        return;
    };
    let empty = |v: &Option<String>| v.as_deref().is_none_or(|t| t.trim().is_empty());
    if empty(&fields.sex) {
        fields.sex = Some(nik.sex().code().to_string());
    }
    if empty(&fields.birth_date) {
        fields.birth_date = Some(nik.birth_date().format("%Y-%m-%d").to_string());
    }
}

/// A regency or district that is not inside the newly chosen parent is dropped when the form
/// is reloaded, so the pickers never show a choice the list does not offer.
fn narrow_regions(fields: &mut ParticipantFields) {
    let code = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or_default().to_string();
    let province = code(&fields.province_code);
    if !code(&fields.regency_code).starts_with(&province) || province.is_empty() {
        fields.regency_code = None;
    }
    let regency = code(&fields.regency_code);
    if !code(&fields.district_code).starts_with(&regency) || regency.is_empty() {
        fields.district_code = None;
    }
}

/// Reads a submitted form: the participant fields, the CSRF token and the version.
fn read_form(pairs: Vec<(String, String)>) -> (ParticipantFields, String, Option<i64>, bool) {
    let mut fields = ParticipantFields::default();
    let mut csrf = String::new();
    let mut version = None;
    let mut pick = false;
    for (name, value) in pairs {
        match name.as_str() {
            "csrf" => csrf = value,
            "version" => version = value.trim().parse().ok(),
            "step" => pick = value == "pick",
            _ => {
                if let Some(slot) = fields.slot(&name) {
                    *slot = Some(value);
                }
            }
        }
    }
    (fields, csrf, version, pick)
}

#[derive(Deserialize)]
struct NewQuery {
    nik: Option<String>,
}

async fn new_form(lang: Lang, user: PageUser, Query(q): Query<NewQuery>) -> Response {
    if !access::allows(&user.actor.user, Action::RegisterParticipant) {
        return error_page(lang, &AppError::Forbidden);
    }
    let mut fields = ParticipantFields {
        nik: q.nik,
        consent_method: Some("paper_form".into()),
        ..Default::default()
    };
    fill_from_nik(&mut fields);
    register_page(lang, &user, &fields, &[], StatusCode::OK)
}

fn register_page(
    lang: Lang,
    user: &PageUser,
    fields: &ParticipantFields,
    errors: &[FieldError],
    status: StatusCode,
) -> Response {
    let page = FormPage {
        chrome: Chrome::for_user(lang, user, "/participants/new"),
        title: lang.t("register.title"),
        action: "/participants/new".into(),
        submit: lang.t("register.submit"),
        version: None,
        alert: (!errors.is_empty()).then(|| lang.t("form.has_errors").to_string()),
        sections: form_sections(lang, fields, errors),
    };
    render(status, &page)
}

async fn register(
    SignedIn { state, lang, user }: SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let (mut fields, csrf, _, pick) = read_form(pairs);
    if let Err(e) = user.check_csrf(&csrf) {
        return error_page(lang, &e);
    }
    fill_from_nik(&mut fields);
    if pick {
        narrow_regions(&mut fields);
        return register_page(lang, &user, &fields, &[], StatusCode::OK);
    }
    match service::register(&state, &user.actor, &fields).await {
        Ok(p) => Redirect::to(&format!("/participants/{}?saved=1", p.id)).into_response(),
        Err(AppError::Validation(errors)) => register_page(
            lang,
            &user,
            &fields,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e @ AppError::NikDuplicate { .. }) => {
            let (id, en) = e.messages();
            let errors = [FieldError::new("nik", "nik_duplicate", id, en)];
            register_page(lang, &user, &fields, &errors, StatusCode::CONFLICT)
        }
        Err(e) => error_page(lang, &e),
    }
}

#[derive(Template)]
#[template(path = "participant_detail.html")]
struct DetailPage {
    chrome: Chrome,
    id: i64,
    version: i64,
    name: String,
    saved: bool,
    can_edit: bool,
    can_consent: bool,
    can_refer: bool,
    can_reassign: bool,
    sharing: bool,
    flags: Vec<String>,
    sections: Vec<(&'static str, Vec<(&'static str, String)>)>,
    consent_history: Vec<String>,
    counters: Vec<CounterOption>,
    /// Right after registering or editing: the Prakerja eligibility advice for the newest
    /// batch (batch number, advice in the reader's language; empty advice means none).
    eligibility: Option<(i64, Vec<String>)>,
    /// Another feature's card (the partner programmes that fit), plugged in by the app.
    more: Option<super::Card>,
}

pub struct CounterOption {
    pub id: i64,
    pub label: String,
}

#[derive(Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

fn label_of<T: Copy>(v: Option<T>, label: fn(T, Lang) -> &'static str, lang: Lang) -> String {
    v.map(|v| label(v, lang).to_string())
        .unwrap_or_else(|| "—".into())
}

/// A region's official name from its code, or "—".
fn region_name(
    code: &Option<String>,
    find: fn(&str) -> Option<&'static nik::regions::Region>,
) -> String {
    code.as_deref()
        .and_then(find)
        .map_or_else(|| "—".to_string(), |r| r.name.to_string())
}

/// A person's record as the officer reads it, section by section. Long because it is a table,
/// one line per field in reading order.
fn detail_sections(
    lang: Lang,
    p: &Participant,
) -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    let d = &p.data;
    let t = |k: &str| lang.t(k);
    let opt = |v: Option<&str>| v.filter(|s| !s.is_empty()).unwrap_or("—").to_string();
    let date =
        |v: Option<chrono::NaiveDate>| v.map(crate::format::date).unwrap_or_else(|| "—".into());
    let yes_no = |b: bool| t(if b { "yes" } else { "no" }).to_string();
    let nik = &d.nik;
    let nik_region = [nik.district_name(), nik.regency_name(), nik.province_name()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    vec![
        (
            t("register.section_identity"),
            vec![
                (t("field.nik"), nik.as_str().to_string()),
                (t("nik.region"), opt(Some(&nik_region))),
                (t("field.sex"), sex_label(d.sex, lang).to_string()),
                (t("field.birth_date"), date(Some(d.birth_date))),
                (t("field.kk"), opt(d.kk.as_ref().map(Kk::as_str))),
            ],
        ),
        (
            t("register.section_contact"),
            vec![
                (t("field.phone"), opt(d.phone.as_ref().map(Phone::as_str))),
                (t("field.email"), opt(d.email.as_ref().map(Email::as_str))),
                (
                    t("field.province_code"),
                    region_name(&d.address.province_code, nik::regions::province),
                ),
                (
                    t("field.regency_code"),
                    region_name(&d.address.regency_code, nik::regions::regency),
                ),
                (
                    t("field.district_code"),
                    region_name(&d.address.district_code, nik::regions::district),
                ),
                (t("field.address"), opt(d.address.street.as_deref())),
            ],
        ),
        (
            t("register.section_migration"),
            vec![
                (
                    t("field.destination_country"),
                    opt(d
                        .migration
                        .destination_country
                        .as_ref()
                        .map(|c| c.name(lang))),
                ),
                (
                    t("field.job_sector"),
                    label_of(d.migration.job_sector, JobSector::label, lang),
                ),
                (t("field.departure_date"), date(d.migration.departure_date)),
                (t("field.return_date"), date(d.migration.return_date)),
                (
                    t("field.return_reason"),
                    label_of(d.migration.return_reason, ReturnReason::label, lang),
                ),
            ],
        ),
        (
            t("register.section_needs"),
            vec![
                (
                    t("field.education"),
                    label_of(d.education, Education::label, lang),
                ),
                (
                    t("field.marital_status"),
                    label_of(d.marital_status, MaritalStatus::label, lang),
                ),
                (
                    t("field.training_interests"),
                    opt(d.training_interests.as_deref()),
                ),
                (
                    t("field.digital_literacy"),
                    label_of(d.digital_literacy, DigitalLiteracy::label, lang),
                ),
                (
                    t("field.has_smartphone"),
                    d.has_smartphone.map(yes_no).unwrap_or_else(|| "—".into()),
                ),
            ],
        ),
        (
            t("detail.consent"),
            vec![
                (t("field.consent_processing"), yes_no(d.consent.processing)),
                (t("field.consent_sharing"), yes_no(d.consent.sharing)),
                (
                    t("field.consent_method"),
                    d.consent.method.label(lang).to_string(),
                ),
                (t("field.created_at"), crate::format::time(p.consent_at)),
                (t("field.updated_at"), crate::format::time(p.updated_at)),
                (t("field.version"), p.version.to_string()),
            ],
        ),
    ]
}

async fn detail(
    SignedIn { state, lang, user }: SignedIn,
    PathId(id): PathId,
    Query(q): Query<SavedQuery>,
) -> Response {
    match detail_page(&state, lang, &user, id, q.saved.is_some()).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_page(lang, &e),
    }
}

async fn detail_page(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    id: i64,
    saved: bool,
) -> Result<DetailPage, AppError> {
    let p = service::view(state, &user.actor, id).await?;
    let mut flags = Vec::new();
    if p.data.birth_date_mismatch() {
        flags.push(lang.t("detail.flag_birth_date").to_string());
    }
    if p.data.sex_mismatch() {
        flags.push(lang.t("detail.flag_sex").to_string());
    }
    for w in p.data.nik.warnings() {
        flags.push(lang.pick(&w.message_id(), &w.message_en()).to_string());
    }
    let consent_history = super::store::consent_history(&state.db, id)
        .await?
        .iter()
        .map(|e| {
            let yes_no = |b: bool| lang.t(if b { "yes" } else { "no" });
            let method = ConsentMethod::parse(&e.method)
                .map(|m| m.label(lang))
                .unwrap_or("?");
            format!(
                "{} — {}: {} · {}: {} · {}{}",
                crate::format::time(e.recorded_at),
                lang.t("consent.processing_short"),
                yes_no(e.processing),
                lang.t("consent.sharing_short"),
                yes_no(e.sharing),
                method,
                e.note
                    .as_deref()
                    .map(|n| format!(" · {n}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    let allows = |a| access::allows(&user.actor.user, a);
    let counters = crate::counters::counters(&state.db)
        .await?
        .into_iter()
        .filter(|c| Some(c.id) != p.counter_id)
        .map(|c| CounterOption {
            id: c.id,
            label: format!("{} — {}", c.code, c.name),
        })
        .collect();
    let eligibility = if saved && allows(Action::ViewJourney) {
        match super::after_registration() {
            Some(advice) => advice(state, &user.actor, id, lang).await?,
            None => None,
        }
    } else {
        None
    };
    let more = match super::more_on_page() {
        Some(card) => card(state, &user.actor, id, lang).await?,
        None => None,
    };
    Ok(DetailPage {
        more,
        eligibility,
        chrome: Chrome::for_user(lang, user, &format!("/participants/{id}")),
        id,
        version: p.version,
        name: p.data.full_name.as_str().to_string(),
        saved,
        can_edit: allows(Action::EditParticipant),
        can_consent: allows(Action::ChangeConsent),
        can_refer: allows(Action::ReferParticipant),
        can_reassign: allows(Action::ReassignParticipant),
        sharing: p.data.consent.sharing,
        flags,
        sections: detail_sections(lang, &p),
        consent_history,
        counters,
    })
}

fn edit_page(
    lang: Lang,
    user: &PageUser,
    (id, version): (i64, i64),
    fields: &ParticipantFields,
    errors: &[FieldError],
    alert: Option<String>,
    status: StatusCode,
) -> Response {
    let path = format!("/participants/{id}/edit");
    let page = FormPage {
        chrome: Chrome::for_user(lang, user, &path),
        title: lang.t("edit.title"),
        action: path,
        submit: lang.t("edit.submit"),
        version: Some(version),
        alert: alert
            .or_else(|| (!errors.is_empty()).then(|| lang.t("form.has_errors").to_string())),
        sections: form_sections(lang, fields, errors),
    };
    render(status, &page)
}

async fn edit_form(SignedIn { state, lang, user }: SignedIn, PathId(id): PathId) -> Response {
    if !access::allows(&user.actor.user, Action::EditParticipant) {
        return error_page(lang, &AppError::Forbidden);
    }
    match service::view(&state, &user.actor, id).await {
        Ok(p) => edit_page(
            lang,
            &user,
            (id, p.version),
            &to_fields(&p.data),
            &[],
            None,
            StatusCode::OK,
        ),
        Err(e) => error_page(lang, &e),
    }
}

async fn save_edit(
    SignedIn { state, lang, user }: SignedIn,
    PathId(id): PathId,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let (mut fields, csrf, version, pick) = read_form(pairs);
    if let Err(e) = user.check_csrf(&csrf) {
        return error_page(lang, &e);
    }
    let Some(version) = version else {
        return error_page(lang, &AppError::VersionRequired);
    };
    fill_from_nik(&mut fields);
    if pick {
        narrow_regions(&mut fields);
        return edit_page(
            lang,
            &user,
            (id, version),
            &fields,
            &[],
            None,
            StatusCode::OK,
        );
    }
    // An unchecked checkbox is absent from the form: it means "no".
    for name in ["consent_processing", "consent_sharing"] {
        if let Some(slot) = fields.slot(name) {
            slot.get_or_insert_with(|| "false".into());
        }
    }
    match service::change(&state, &user.actor, id, version, &fields).await {
        Ok(_) => Redirect::to(&format!("/participants/{id}?saved=1")).into_response(),
        Err(AppError::Validation(errors)) => edit_page(
            lang,
            &user,
            (id, version),
            &fields,
            &errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e @ (AppError::VersionConflict { .. } | AppError::NikDuplicate { .. })) => {
            let (msg_id, msg_en) = e.messages();
            edit_page(
                lang,
                &user,
                (id, version),
                &fields,
                &[],
                Some(lang.pick(&msg_id, &msg_en).to_string()),
                e.status(),
            )
        }
        Err(e) => error_page(lang, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nik_like_queries_are_told_apart_from_names() {
        assert!(looks_like_nik("3201 0145 0590 0001"));
        assert!(looks_like_nik("32010145"));
        assert!(!looks_like_nik("siti"));
        assert!(!looks_like_nik("siti 3201"));
    }

    #[test]
    fn every_form_field_has_a_label() {
        for section in form_sections(Lang::Id, &ParticipantFields::default(), &[]) {
            for f in section.fields {
                assert_ne!(f.label, "??", "{}", f.name);
            }
        }
    }
}

#[derive(Deserialize)]
struct ConsentForm {
    sharing: Option<String>,
    method: String,
    note: Option<String>,
}

/// Records a new decision on sharing (processing consent stays; withdrawing it is a deletion
/// request handled by the office, outside this form).
async fn save_consent(
    State(state): State<AppState>,
    lang: Lang,
    PathId(id): PathId,
    SignedForm(user, form): SignedForm<ConsentForm>,
) -> Response {
    let Some(method) = ConsentMethod::parse(&form.method) else {
        return error_page(
            lang,
            &AppError::field(
                "method",
                "choice_invalid",
                "Cara persetujuan tidak dikenal.",
                "Unknown consent method.",
            ),
        );
    };
    let consent = Consent {
        processing: true,
        sharing: form.sharing.as_deref() == Some("true"),
        method,
    };
    let note = form
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    match service::change_consent(&state, &user.actor, id, consent, note).await {
        Ok(_) => Redirect::to(&format!("/participants/{id}?saved=1")).into_response(),
        Err(e) => error_page(lang, &e),
    }
}

#[derive(Deserialize)]
struct MoveForm {
    version: Option<i64>,
    counter_id: i64,
    reason: String,
}

async fn save_reassign(
    State(state): State<AppState>,
    lang: Lang,
    PathId(id): PathId,
    SignedForm(user, form): SignedForm<MoveForm>,
) -> Response {
    let Some(version) = form.version else {
        return error_page(lang, &AppError::VersionRequired);
    };
    match service::reassign(
        &state,
        &user.actor,
        id,
        version,
        form.counter_id,
        &form.reason,
    )
    .await
    {
        // The officer may no longer reach the case after moving it away: go back to search.
        Ok(_) => Redirect::to("/participants").into_response(),
        Err(e) => error_page(lang, &e),
    }
}

async fn save_referral(
    State(state): State<AppState>,
    lang: Lang,
    PathId(id): PathId,
    SignedForm(user, form): SignedForm<MoveForm>,
) -> Response {
    match service::refer(&state, &user.actor, id, form.counter_id, &form.reason).await {
        Ok(()) => Redirect::to(&format!("/participants/{id}?saved=1")).into_response(),
        Err(e) => error_page(lang, &e),
    }
}

#[derive(Deserialize)]
struct RequestForm {
    nik: String,
    kind: String,
    reason: String,
}

/// Sends a request to the counter holding the NIK; a mistake re-renders the search for that
/// NIK with the message at the reason.
async fn send_request(
    State(state): State<AppState>,
    lang: Lang,
    SignedForm(user, form): SignedForm<RequestForm>,
) -> Response {
    let nik = match nik::Nik::parse(&form.nik) {
        Ok(nik) => nik,
        Err(e) => {
            return error_page(
                lang,
                &AppError::Validation(vec![FieldError::from_nik("nik", &e)]),
            )
        }
    };
    let kind = requests::RequestKind::parse(&form.kind).unwrap_or(requests::RequestKind::Access);
    match requests::request(&state, &user.actor, &nik, kind, &form.reason).await {
        Ok(_) => Redirect::to("/access-requests?sent=1").into_response(),
        Err(e) if e.status().is_client_error() && !matches!(e, AppError::Forbidden) => {
            let mut page = match search_view(&state, lang, &user, nik.as_str(), 0).await {
                Ok(page) => page,
                Err(e) => return error_page(lang, &e),
            };
            let (id, en) = e.messages();
            page.request_error = Some(lang.pick(&id, &en).to_string());
            page.reason = form.reason;
            page.kind = kind.code().to_string();
            render(e.status(), &page)
        }
        Err(e) => error_page(lang, &e),
    }
}

/// A request as the page shows it.
pub struct RequestView {
    pub id: i64,
    pub kind: &'static str,
    pub status: &'static str,
    pub open: bool,
    pub accepted: bool,
    pub participant_id: i64,
    pub participant_name: String,
    pub from: String,
    pub holder: String,
    pub requested_by: String,
    pub when: String,
    pub reason: String,
    pub answer: String,
    pub answered_on: String,
}

fn request_view(r: &super::store::AccessRequestRow, lang: Lang) -> RequestView {
    let place = requests::Place {
        counter: r.holder_counter.clone(),
        office: r.holder_office.clone(),
    };
    RequestView {
        id: r.id,
        kind: r.kind.label(lang),
        status: r.status.label(lang),
        open: r.status == requests::RequestStatus::Open,
        accepted: r.status == requests::RequestStatus::Accepted,
        participant_id: r.participant_id,
        participant_name: r.participant_name.clone(),
        from: format!("{}, {}", r.from_counter, r.from_office),
        holder: place.words(),
        requested_by: r.requested_by.clone(),
        when: crate::format::time(r.requested_at),
        reason: r.reason.clone(),
        answer: r.answer.clone().unwrap_or_default(),
        answered_on: r.answered_at.map(crate::format::time).unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "access_requests.html")]
struct RequestsPage {
    chrome: Chrome,
    sent: bool,
    answered: bool,
    alert: Option<(i64, String)>,
    waiting: usize,
    incoming: Vec<RequestView>,
    outgoing: Vec<RequestView>,
}

#[derive(Deserialize)]
struct RequestsQuery {
    sent: Option<String>,
    answered: Option<String>,
}

async fn requests_page(
    SignedIn { state, lang, user }: SignedIn,
    Query(q): Query<RequestsQuery>,
) -> Response {
    let flags = (q.sent.is_some(), q.answered.is_some());
    match requests_view(&state, lang, &user, flags, None).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_page(lang, &e),
    }
}

async fn requests_view(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    (sent, answered): (bool, bool),
    alert: Option<(i64, String)>,
) -> Result<RequestsPage, AppError> {
    let found = requests::list(state, &user.actor).await?;
    let incoming: Vec<RequestView> = found
        .incoming
        .iter()
        .map(|r| request_view(r, lang))
        .collect();
    Ok(RequestsPage {
        chrome: Chrome::for_user(lang, user, "/access-requests"),
        sent,
        answered,
        alert,
        waiting: incoming.iter().filter(|r| r.open).count(),
        incoming,
        outgoing: found
            .outgoing
            .iter()
            .map(|r| request_view(r, lang))
            .collect(),
    })
}

#[derive(Deserialize)]
struct AnswerForm {
    decision: String,
    #[serde(default)]
    answer: String,
}

async fn answer_request(
    State(state): State<AppState>,
    lang: Lang,
    PathId(id): PathId,
    SignedForm(user, form): SignedForm<AnswerForm>,
) -> Response {
    let accept = form.decision == "accept";
    match requests::answer(&state, &user.actor, id, accept, &form.answer).await {
        Ok(_) => Redirect::to("/access-requests?answered=1").into_response(),
        Err(e)
            if e.status().is_client_error()
                && !matches!(e, AppError::Forbidden | AppError::NotFound) =>
        {
            let (msg_id, en) = e.messages();
            let alert = Some((id, lang.pick(&msg_id, &en).to_string()));
            match requests_view(&state, lang, &user, (false, false), alert).await {
                Ok(page) => render(e.status(), &page),
                Err(e) => error_page(lang, &e),
            }
        }
        Err(e) => error_page(lang, &e),
    }
}
