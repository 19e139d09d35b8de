//! Officers' reminder pages (the outbox, a person's messages and consent, the rules and the
//! channels' health) and the person's own status page (`/s/{code}`, no account).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::NaiveDate;
use serde::Deserialize;

use super::api::{parse_channel, parse_status};
use super::model::{Channel, Reason, Status};
use super::service::{self, ChannelHealth, ConsentView, OwnPage, RunReport};
use super::store::{MessageRow, RuleRow};
use crate::auth::{PageUser, SignedForm, SignedIn};
use crate::error::{AppError, FieldError};
use crate::i18n::Lang;
use crate::identity::RequestMeta;
use crate::state::AppState;
use crate::web::{error_page, render, Chrome, PathId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reminders", get(outbox))
        .route("/reminders/run", post(run))
        .route("/reminders/participants/{id}", get(person))
        .route("/reminders/participants/{id}/consent", post(consent))
        .route("/reminders/participants/{id}/link", post(link))
        .route("/reminders/participants/{id}/revoke", post(revoke))
        .route("/reminders/rules", get(rules).post(set_rule))
        .route("/s/{code}", get(status_form).post(status_page))
}

/// One message as a row of a page: everything already in the page's language.
pub struct MessageLine {
    pub id: i64,
    pub participant_id: i64,
    pub full_name: String,
    pub reason: &'static str,
    pub channel: &'static str,
    pub status: &'static str,
    pub status_code: &'static str,
    pub attempts: i64,
    pub body: String,
    pub answer: String,
    pub created: String,
    pub due: String,
}

fn lines(rows: Vec<MessageRow>, lang: Lang) -> Vec<MessageLine> {
    rows.into_iter()
        .map(|r| MessageLine {
            id: r.id,
            participant_id: r.participant_id,
            full_name: r.full_name,
            reason: r.reason.label(lang),
            channel: r.channel.label(lang),
            status: r.status.label(lang),
            status_code: r.status.code(),
            attempts: r.attempts,
            body: r.body,
            answer: answer_in_words(r.provider_answer.as_deref(), lang),
            created: crate::format::time(r.created_at),
            due: crate::format::date(r.due_on),
        })
        .collect()
}

/// A provider's answer as a person reads it: our own words for what we know, and only the
/// provider's codes (its text is English; the API gives it whole).
fn answer_in_words(answer: Option<&str>, lang: Lang) -> String {
    let Some(answer) = answer else {
        return String::new();
    };
    let known = match answer {
        "opt_out" => Some("reminders.answer_opt_out"),
        "file" => Some("reminders.answer_file"),
        "timeout" => Some("reminders.answer_timeout"),
        "connect" | "transport" | "no_channel" => Some("reminders.answer_unreachable"),
        "phone_unreadable" => Some("reminders.answer_phone"),
        _ => None,
    };
    if let Some(key) = known {
        return lang.t(key).to_string();
    }
    let codes: Vec<&str> = answer
        .split_whitespace()
        .take_while(|w| w.chars().all(|c| c.is_ascii_digit()))
        .collect();
    format!("{} {}", lang.t("reminders.answer_code"), codes.join(" "))
}

pub struct StatusChoice {
    pub code: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "reminders_outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    statuses: Vec<StatusChoice>,
    messages: Vec<MessageLine>,
    counter: Option<i64>,
    report: Option<RunReport>,
    can_rules: bool,
}

#[derive(Deserialize)]
struct OutboxQuery {
    status: Option<String>,
}

async fn outbox(
    SignedIn { state, lang, user }: SignedIn,
    Query(q): Query<OutboxQuery>,
) -> Response {
    outbox_page(&state, lang, &user, q.status.as_deref(), None).await
}

async fn outbox_page(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    status: Option<&str>,
    report: Option<RunReport>,
) -> Response {
    let status = match parse_status(status) {
        Ok(s) => s,
        Err(e) => return error_page(lang, &e),
    };
    let rows = match service::outbox(state, &user.actor, status, None, 200).await {
        Ok(rows) => rows,
        Err(e) => return error_page(lang, &e),
    };
    let page = OutboxPage {
        chrome: Chrome::for_user(lang, user, "/reminders"),
        statuses: Status::ALL
            .iter()
            .map(|s| StatusChoice {
                code: s.code(),
                label: s.label(lang),
                selected: Some(*s) == status,
            })
            .collect(),
        messages: lines(rows, lang),
        counter: user.actor.user.counter_id,
        report,
        can_rules: crate::access::allows(
            &user.actor.user,
            crate::access::Action::ManageReminderRules,
        ),
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct RunForm {
    counter: Option<String>,
    as_of: Option<String>,
}

async fn run(
    State(state): State<AppState>,
    lang: Lang,
    SignedForm(user, form): SignedForm<RunForm>,
) -> Response {
    let counter = form
        .counter
        .as_deref()
        .and_then(|c| c.trim().parse::<i64>().ok());
    let as_of = form.as_of.as_deref().and_then(|d| d.trim().parse().ok());
    match service::run_rules(&state, &user.actor, counter, as_of).await {
        Ok(report) => outbox_page(&state, lang, &user, None, Some(report)).await,
        Err(e) => error_page(lang, &e),
    }
}

pub struct ConsentLine {
    pub code: &'static str,
    pub label: &'static str,
    pub given: bool,
    pub since: String,
    pub stopped_by_reply: bool,
}

#[derive(Template)]
#[template(path = "reminders_person.html")]
struct PersonPage {
    chrome: Chrome,
    id: i64,
    consents: Vec<ConsentLine>,
    messages: Vec<MessageLine>,
    links: Vec<String>,
    new_code: Option<String>,
}

async fn person(SignedIn { state, lang, user }: SignedIn, PathId(id): PathId) -> Response {
    person_page(&state, lang, &user, id, None).await
}

async fn person_page(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    id: i64,
    new_code: Option<String>,
) -> Response {
    let loaded = async {
        let consents = service::consents(state, &user.actor, id).await?;
        let messages = service::outbox(state, &user.actor, None, Some(id), 100).await?;
        let links = service::links(state, &user.actor, id).await?;
        Ok::<_, AppError>((consents, messages, links))
    }
    .await;
    let (consents, messages, links) = match loaded {
        Ok(l) => l,
        Err(e) => return error_page(lang, &e),
    };
    let page = PersonPage {
        chrome: Chrome::for_user(lang, user, &format!("/reminders/participants/{id}")),
        id,
        consents: consents
            .iter()
            .map(|c: &ConsentView| consent_line(c, lang))
            .collect(),
        messages: lines(messages, lang),
        links: links
            .iter()
            .map(|(_, at)| crate::format::time(*at))
            .collect(),
        new_code,
    };
    render(StatusCode::OK, &page)
}

fn consent_line(c: &ConsentView, lang: Lang) -> ConsentLine {
    ConsentLine {
        code: c.channel.code(),
        label: c.channel.label(lang),
        given: c.given,
        since: c
            .withdrawn_at
            .or(c.given_at)
            .map(crate::format::time)
            .unwrap_or_default(),
        stopped_by_reply: c.withdrawn_how.as_deref() == Some("stop_reply"),
    }
}

#[derive(Deserialize)]
struct ConsentForm {
    channel: String,
    given: String,
}

async fn consent(
    State(state): State<AppState>,
    lang: Lang,
    PathId(id): PathId,
    SignedForm(user, form): SignedForm<ConsentForm>,
) -> Response {
    let channel = match parse_channel(&form.channel) {
        Ok(c) => c,
        Err(e) => return error_page(lang, &e),
    };
    let given = form.given == "yes";
    match service::set_consent(&state, &user.actor, id, channel, given).await {
        Ok(()) => Redirect::to(&format!("/reminders/participants/{id}")).into_response(),
        Err(e) => error_page(lang, &e),
    }
}

#[derive(Deserialize)]
struct Button {}

async fn link(
    State(state): State<AppState>,
    lang: Lang,
    PathId(id): PathId,
    SignedForm(user, _): SignedForm<Button>,
) -> Response {
    match service::issue_link(&state, &user.actor, id).await {
        Ok(code) => person_page(&state, lang, &user, id, Some(code)).await,
        Err(e) => error_page(lang, &e),
    }
}

async fn revoke(
    State(state): State<AppState>,
    lang: Lang,
    PathId(id): PathId,
    SignedForm(user, _): SignedForm<Button>,
) -> Response {
    match service::revoke_links(&state, &user.actor, id).await {
        Ok(_) => Redirect::to(&format!("/reminders/participants/{id}")).into_response(),
        Err(e) => error_page(lang, &e),
    }
}

pub struct RuleLine {
    pub code: &'static str,
    pub label: &'static str,
    pub enabled: bool,
    pub lead_days: i64,
    pub whatsapp: bool,
    pub sms: bool,
}

pub struct HealthLine {
    pub label: &'static str,
    pub carrier: &'static str,
    pub queued: i64,
    pub sent: i64,
    pub delivered: i64,
    pub failed: i64,
}

#[derive(Template)]
#[template(path = "reminders_rules.html")]
struct RulesPage {
    chrome: Chrome,
    rules: Vec<RuleLine>,
    health: Vec<HealthLine>,
    error: Option<String>,
}

async fn rules(SignedIn { state, lang, user }: SignedIn) -> Response {
    rules_page(&state, lang, &user, None).await
}

async fn rules_page(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    error: Option<String>,
) -> Response {
    let loaded = async {
        Ok::<_, AppError>((
            service::rules(state, &user.actor).await?,
            service::health(state, &user.actor).await?,
        ))
    }
    .await;
    let (rules, health) = match loaded {
        Ok(l) => l,
        Err(e) => return error_page(lang, &e),
    };
    let page = RulesPage {
        chrome: Chrome::for_user(lang, user, "/reminders/rules"),
        rules: rules
            .iter()
            .filter_map(|r: &RuleRow| rule_line(r, lang))
            .collect(),
        health: health
            .iter()
            .map(|h: &ChannelHealth| health_line(h, lang))
            .collect(),
        error,
    };
    let status = if page.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(status, &page)
}

fn rule_line(r: &RuleRow, lang: Lang) -> Option<RuleLine> {
    let reason = Reason::from_code(&r.reason)?;
    let has = |c: Channel| r.channels.split(',').any(|x| x.trim() == c.code());
    Some(RuleLine {
        code: reason.code(),
        label: reason.label(lang),
        enabled: r.enabled,
        lead_days: r.lead_days,
        whatsapp: has(Channel::Whatsapp),
        sms: has(Channel::Sms),
    })
}

fn health_line(h: &ChannelHealth, lang: Lang) -> HealthLine {
    HealthLine {
        label: h.channel.label(lang),
        carrier: lang.t(&format!("reminders.carrier_{}", h.carrier)),
        queued: h.queued,
        sent: h.sent,
        delivered: h.delivered,
        failed: h.failed,
    }
}

#[derive(Deserialize)]
struct RuleForm {
    reason: String,
    enabled: Option<String>,
    lead_days: String,
    whatsapp: Option<String>,
    sms: Option<String>,
}

async fn set_rule(
    State(state): State<AppState>,
    lang: Lang,
    SignedForm(user, form): SignedForm<RuleForm>,
) -> Response {
    let Some(reason) = Reason::from_code(form.reason.trim()) else {
        return error_page(lang, &AppError::BadRequest("reason".into()));
    };
    let lead_days = form.lead_days.trim().parse::<i64>().unwrap_or(-1);
    let channels: Vec<Channel> = [
        (form.whatsapp.is_some(), Channel::Whatsapp),
        (form.sms.is_some(), Channel::Sms),
    ]
    .into_iter()
    .filter_map(|(on, c)| on.then_some(c))
    .collect();
    match service::set_rule(
        &state,
        &user.actor,
        reason,
        form.enabled.is_some(),
        lead_days,
        &channels,
    )
    .await
    {
        Ok(()) => Redirect::to("/reminders/rules").into_response(),
        Err(e @ AppError::Validation(_)) => {
            let (id, en) = e.messages();
            rules_page(&state, lang, &user, Some(lang.pick(&id, &en).to_string())).await
        }
        Err(e) => error_page(lang, &e),
    }
}

#[derive(Template)]
#[template(path = "status_page.html")]
struct StatusPage {
    chrome: Chrome,
    code: String,
    birth_date: String,
    error: Option<String>,
    found: Option<OwnView>,
}

pub struct OwnView {
    pub stage: &'static str,
    pub next_step: String,
    pub deadline: Option<String>,
    pub counter: Option<String>,
}

fn own_view(p: OwnPage, lang: Lang) -> OwnView {
    OwnView {
        stage: p.stage.label(lang),
        next_step: lang.pick(&p.next_step.0, &p.next_step.1).to_string(),
        deadline: p.deadline.map(crate::format::date),
        counter: p.counter,
    }
}

/// Codes are letters and digits only; anything else is refused before a lookup.
fn plain_code(code: &str) -> Option<String> {
    let code = code.trim();
    (code.len() <= 32 && !code.is_empty() && code.chars().all(|c| c.is_ascii_alphanumeric()))
        .then(|| code.to_uppercase())
}

async fn status_form(lang: Lang, Path(code): Path<String>) -> Response {
    let page = StatusPage {
        chrome: Chrome::anonymous(lang, "/s"),
        code: plain_code(&code).unwrap_or_default(),
        birth_date: String::new(),
        error: None,
        found: None,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct BirthForm {
    birth_date: String,
}

/// `DD-MM-YYYY` (as printed on the slip), `DD/MM/YYYY` or `YYYY-MM-DD`.
fn parse_birth_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    NaiveDate::parse_from_str(t, "%d-%m-%Y")
        .or_else(|_| NaiveDate::parse_from_str(t, "%d/%m/%Y"))
        .or_else(|_| NaiveDate::parse_from_str(t, "%Y-%m-%d"))
        .ok()
}

async fn status_page(
    State(state): State<AppState>,
    lang: Lang,
    meta: RequestMeta,
    Path(code): Path<String>,
    Form(form): Form<BirthForm>,
) -> Response {
    let client = meta.client_addr.unwrap_or_default();
    let typed = form.birth_date.chars().take(20).collect::<String>();
    let result = match (plain_code(&code), parse_birth_date(&typed)) {
        (Some(code), Some(day)) => service::open_status(&state, &code, day, &client).await,
        (_, None) => Err(AppError::Validation(vec![FieldError::new(
            "birth_date",
            "date_invalid",
            "Tulis tanggal lahir seperti 05-05-1990.",
            "Write the birth date like 05-05-1990.",
        )])),
        (None, Some(_)) => Err(AppError::NotFound),
    };
    let (status, found, error) = match result {
        Ok(p) => (StatusCode::OK, Some(own_view(p, lang)), None),
        Err(AppError::NotFound) => return error_page(lang, &AppError::NotFound),
        Err(e @ (AppError::Validation(_) | AppError::TooManyAttempts)) => {
            let (id, en) = e.messages();
            (e.status(), None, Some(lang.pick(&id, &en).to_string()))
        }
        Err(e) => return error_page(lang, &e),
    };
    let page = StatusPage {
        chrome: Chrome::anonymous(lang, "/s"),
        code: plain_code(&code).unwrap_or_default(),
        birth_date: if found.is_some() {
            String::new()
        } else {
            typed
        },
        error,
        found,
    };
    render(status, &page)
}
