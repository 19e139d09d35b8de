//! Officer pages: search, register, view and edit a Purna PMI.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use super::model::*;
use super::service;
use crate::access::{self, Action};
use crate::auth::{PageUser, SignedForm, SignedIn};
use crate::codes::{choices, Choice};
use crate::error::{AppError, FieldError};
use crate::i18n::Lang;
use crate::state::AppState;
use crate::web::PathId;
use crate::web::{error_page, render, Chrome, FieldKind, FormField, FormSection};

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
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
}

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
    let mut page = SearchPage {
        chrome: Chrome::for_user(lang, &user, "/participants"),
        q: q.clone(),
        searched: !q.is_empty(),
        results: Vec::new(),
        error: None,
        register_query: String::new(),
    };
    if q.is_empty() {
        return render(StatusCode::OK, &page);
    }
    if looks_like_nik(&q) {
        match nik::Nik::parse(&q) {
            Ok(nik) => {
                page.register_query = format!("?nik={}", nik.as_str());
                match service::find_by_nik(&state, &user.actor, &nik).await {
                    Ok(found) => page.results = found.iter().map(result_row).collect(),
                    Err(e) => return error_page(lang, &e),
                }
            }
            Err(e) => page.error = Some(lang.pick(&e.message_id(), &e.message_en()).to_string()),
        }
    } else {
        match service::search_by_name(&state, &user.actor, &q, 50).await {
            Ok(found) => page.results = found.iter().map(result_row).collect(),
            Err(e) => return error_page(lang, &e),
        }
    }
    render(StatusCode::OK, &page)
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
    let provinces: Vec<Choice> = nik::regions::provinces()
        .iter()
        .filter(|p| p.last_seen >= 2025)
        .map(|p| Choice {
            code: p.code,
            label: p.name,
            selected: cur(&f.province_code) == p.code,
        })
        .collect();
    vec![
        FormSection {
            title: lang.t("register.section_identity"),
            fields: vec![
                field("nik", FieldKind::Text("numeric"), &f.nik),
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
                field("province_code", select(provinces), &f.province_code),
                field("regency_code", FieldKind::Text("numeric"), &f.regency_code),
                field(
                    "district_code",
                    FieldKind::Text("numeric"),
                    &f.district_code,
                ),
                field("address", FieldKind::Text("text"), &f.address),
            ],
        },
        FormSection {
            title: lang.t("register.section_migration"),
            fields: vec![
                field(
                    "destination_country",
                    FieldKind::Text("text"),
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

/// Reads a submitted form: the participant fields, the CSRF token and the version.
fn read_form(pairs: Vec<(String, String)>) -> (ParticipantFields, String, Option<i64>) {
    let mut fields = ParticipantFields::default();
    let mut csrf = String::new();
    let mut version = None;
    for (name, value) in pairs {
        match name.as_str() {
            "csrf" => csrf = value,
            "version" => version = value.trim().parse().ok(),
            _ => {
                if let Some(slot) = fields.slot(&name) {
                    *slot = Some(value);
                }
            }
        }
    }
    (fields, csrf, version)
}

#[derive(Deserialize)]
struct NewQuery {
    nik: Option<String>,
}

async fn new_form(lang: Lang, user: PageUser, Query(q): Query<NewQuery>) -> Response {
    if !access::allows(&user.actor.user, Action::RegisterParticipant) {
        return error_page(lang, &AppError::Forbidden);
    }
    let fields = ParticipantFields {
        nik: q.nik,
        consent_method: Some("paper_form".into()),
        ..Default::default()
    };
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
    let (fields, csrf, _) = read_form(pairs);
    if let Err(e) = user.check_csrf(&csrf) {
        return error_page(lang, &e);
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
    flags: Vec<&'static str>,
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
                        .map(super::super::codes::Country::as_str)),
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
        flags.push(lang.t("detail.flag_birth_date"));
    }
    if p.data.sex_mismatch() {
        flags.push(lang.t("detail.flag_sex"));
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
    let (fields, csrf, version) = read_form(pairs);
    if let Err(e) = user.check_csrf(&csrf) {
        return error_page(lang, &e);
    }
    let Some(version) = version else {
        return error_page(lang, &AppError::VersionRequired);
    };
    // An unchecked checkbox is absent from the form: it means "no".
    let mut fields = fields;
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
