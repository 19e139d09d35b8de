//! Officer pages: a person's journey timeline with its forms, the printable follow-up list
//! and the funnel (server-made SVG with the table as its text alternative).

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::NaiveDate;
use serde::Deserialize;

use super::api::{funnel_range, parse_scope, FunnelQuery, JourneyOut};
use super::event::EventFields;
use super::picker;
use super::service;
use super::*;
use crate::auth::{PageUser, SignedIn};
use crate::clock;
use crate::codes::{choices, Choice};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::state::AppState;
use crate::web::PathId;
use crate::web::{error_page, render, Chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/participants/{id}/journey", get(timeline))
        .route("/participants/{id}/journey/events", post(record))
        .route(
            "/participants/{id}/journey/events/{event_id}/correct",
            post(correct),
        )
        .route("/participants/{id}/journey/sessions", post(session))
        .route("/participants/{id}/journey/contacts", post(contact))
        .route("/journey/follow-up", get(follow_up))
        .route("/journey/funnel", get(funnel))
        .route("/journey/funnel/download", get(funnel_download))
}

type Pairs = Vec<(String, String)>;

fn value<'a>(pairs: &'a Pairs, name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn text(pairs: &Pairs, name: &str) -> Option<String> {
    value(pairs, name).map(str::to_string)
}

fn number(pairs: &Pairs, name: &str) -> Option<i64> {
    // Officers type rupiah as 1.000.000 or 1,000,000.
    value(pairs, name).and_then(|v| v.replace(['.', ',', ' '], "").parse().ok())
}

fn date(pairs: &Pairs, name: &str) -> Option<NaiveDate> {
    value(pairs, name).and_then(|v| v.parse().ok())
}

/// The form's fields that do not parse as a number or date are errors, not silently dropped.
fn unreadable(pairs: &Pairs, numbers: &[&str], dates: &[&str]) -> Option<AppError> {
    let bad = numbers
        .iter()
        .find(|n| value(pairs, n).is_some() && number(pairs, n).is_none())
        .or_else(|| {
            dates
                .iter()
                .find(|n| value(pairs, n).is_some() && date(pairs, n).is_none())
        })?;
    Some(AppError::field(
        bad,
        "format_invalid",
        "Isian ini tidak dapat dibaca (angka atau tanggal).",
        "This field cannot be read (number or date).",
    ))
}

/// What a timeline form's POST must pass before it is acted on: the CSRF token, and the
/// fields that must read as numbers or dates.
struct FormCheck {
    numbers: &'static [&'static str],
    dates: &'static [&'static str],
}

impl FormCheck {
    /// The page to answer with when the form is refused: an error page for a bad token, the
    /// timeline with the field error for an unreadable field.
    async fn refuse(
        &self,
        state: &AppState,
        lang: Lang,
        user: &PageUser,
        id: i64,
        pairs: &Pairs,
    ) -> Option<Response> {
        if let Err(e) = user.check_csrf(value(pairs, "csrf").unwrap_or("")) {
            return Some(error_page(lang, &e));
        }
        let e = unreadable(pairs, self.numbers, self.dates)?;
        Some(timeline_page(state, lang, user, id, false, Some(&e), Prefill::default()).await)
    }
}

#[derive(Template)]
#[template(path = "journey_timeline.html")]
struct TimelinePage {
    chrome: Chrome,
    j: JourneyOut,
    saved: bool,
    alert: Option<String>,
    alert_code: &'static str,
    can_record: bool,
    can_override: bool,
    stages: Vec<Choice>,
    channels: Vec<Choice>,
    occupations: Vec<Choice>,
    session_channels: Vec<Choice>,
    steps: Vec<Choice>,
    outcomes: Vec<Choice>,
    results: Vec<Choice>,
    today: String,
    prefill: Prefill,
}

impl TimelinePage {
    fn rp(&self, amount: &i64) -> String {
        crate::format::Rupiah(*amount).to_string()
    }

    fn rp_opt(&self, amount: &Option<i64>) -> String {
        amount.map_or_else(|| "—".into(), |a| crate::format::Rupiah(a).to_string())
    }

    /// The eligibility reason, unless it only repeats the override reason shown above it.
    fn eligibility_note<'a>(&self, e: &'a super::api::EventOut) -> Option<&'a str> {
        let reason = e.eligibility_reason.as_deref()?;
        (e.override_reason.as_deref() != Some(reason)).then_some(reason)
    }

    /// The known prices together, and that some are unknown ("Rp600.000 + harga tidak
    /// diketahui"); an unknown price is never shown as Rp0.
    fn spent(&self) -> String {
        let ledger = &self.j.ledger;
        let unknown = self.chrome.t("journey.price_unknown");
        match (ledger.spent, ledger.unknown_prices) {
            (_, 0) => crate::format::Rupiah(ledger.spent).to_string(),
            (0, _) => unknown.to_string(),
            (spent, _) => format!("{} + {unknown}", crate::format::Rupiah(spent)),
        }
    }

    /// A purchase's price; an unknown one says so rather than showing nothing or Rp0.
    fn price(&self, amount: &Option<i64>) -> String {
        amount.map_or_else(
            || self.chrome.t("journey.price_unknown").to_string(),
            |a| crate::format::Rupiah(a).to_string(),
        )
    }

    fn day(&self, d: &NaiveDate) -> String {
        crate::format::date(*d)
    }

    fn payment_tables(&self) -> Vec<(&'static str, &Vec<super::api::PaymentOut>)> {
        vec![
            (
                self.chrome.t("journey.incentives"),
                &self.j.ledger.incentives,
            ),
            (self.chrome.t("journey.surveys"), &self.j.ledger.surveys),
        ]
    }

    fn when(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        crate::format::time(*at)
    }

    fn day_opt(&self, d: &Option<NaiveDate>) -> String {
        d.map(crate::format::date).unwrap_or_else(|| "—".into())
    }

    fn status(&self, code: &str) -> &'static str {
        self.chrome.t(&format!("journey.status_{code}"))
    }

    /// The label of a stored code (a session's channel, a contact's result) in this language.
    fn label<'a>(&self, list: &'a [Choice], code: &dyn std::fmt::Display) -> &'a str {
        let code = code.to_string();
        list.iter()
            .find(|c| c.code == code)
            .map_or("?", |c| c.label)
    }

    fn step_labels(&self, codes: &str) -> String {
        codes
            .split(',')
            .filter_map(Step::parse)
            .map(|s| s.label(self.chrome.lang))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn next_step(&self) -> &str {
        self.chrome
            .lang
            .pick(&self.j.next_step, &self.j.next_step_en)
    }
}

#[derive(Deserialize)]
struct SavedQuery {
    saved: Option<String>,
    #[serde(flatten)]
    prefill: Prefill,
}

/// Values the catalogue's "choose this training" link puts into the event form, so the
/// officer only checks them and saves the purchase.
#[derive(Default, serde::Deserialize)]
pub struct Prefill {
    pub stage: Option<String>,
    pub training_title: Option<String>,
    pub training_platform: Option<String>,
    pub amount: Option<String>,
}

async fn timeline_page(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    id: i64,
    saved: bool,
    error: Option<&AppError>,
    prefill: Prefill,
) -> Response {
    let (loaded, journey) = match service::view(state, &user.actor, id).await {
        Ok(v) => v,
        Err(e) => return error_page(lang, &e),
    };
    let today = clock::today();
    let j = JourneyOut::build(&loaded, &journey, today, lang);
    let u = &user.actor.user;
    let recordable: Vec<Stage> = Stage::ALL
        .iter()
        .copied()
        .filter(|s| *s != Stage::NotRegistered)
        .collect();
    let page = TimelinePage {
        chrome: Chrome::for_user(lang, user, &format!("/participants/{id}/journey")),
        saved,
        alert: error.map(|e| {
            let (id, en) = e.messages();
            lang.pick(&id, &en).to_string()
        }),
        alert_code: error.map_or("", AppError::code),
        can_record: crate::access::allows(u, crate::access::Action::RecordJourney),
        can_override: crate::access::allows(u, crate::access::Action::OverrideJourney),
        stages: choices(
            &recordable,
            Stage::code,
            Stage::label,
            lang,
            prefill
                .stage
                .as_deref()
                .or_else(|| journey.current().next().map(Stage::code))
                .unwrap_or(""),
        ),
        channels: choices(
            PayoutChannel::ALL,
            PayoutChannel::code,
            PayoutChannel::label,
            lang,
            "",
        ),
        occupations: choices(
            Occupation::ALL,
            Occupation::code,
            Occupation::label,
            lang,
            "none",
        ),
        session_channels: choices(
            SessionChannel::ALL,
            SessionChannel::code,
            SessionChannel::label,
            lang,
            "walk_in",
        ),
        steps: choices(Step::ALL, Step::code, Step::label, lang, ""),
        outcomes: choices(
            SessionOutcome::ALL,
            SessionOutcome::code,
            SessionOutcome::label,
            lang,
            "done",
        ),
        results: choices(
            ContactResult::ALL,
            ContactResult::code,
            ContactResult::label,
            lang,
            "reached",
        ),
        today: today.to_string(),
        prefill,
        j,
    };
    let status = error.map_or(StatusCode::OK, AppError::status);
    render(status, &page)
}

async fn timeline(
    SignedIn { state, lang, user }: SignedIn,
    PathId(id): PathId,
    Query(q): Query<SavedQuery>,
) -> Response {
    timeline_page(&state, lang, &user, id, q.saved.is_some(), None, q.prefill).await
}

/// After a POST: back to the timeline, or the timeline with the error explained.
async fn after(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    id: i64,
    result: crate::error::Result<i64>,
    back: Option<String>,
) -> Response {
    match result {
        Ok(_) => {
            let to = back
                .filter(|b| b.starts_with('/') && !b.starts_with("//"))
                .unwrap_or_else(|| format!("/participants/{id}/journey?saved=1"));
            Redirect::to(&to).into_response()
        }
        Err(e @ (AppError::Forbidden | AppError::NotFound)) => error_page(lang, &e),
        Err(e) if e.status().is_server_error() => error_page(lang, &e),
        Err(e) => timeline_page(state, lang, user, id, false, Some(&e), Prefill::default()).await,
    }
}

async fn record(
    SignedIn { state, lang, user }: SignedIn,
    PathId(id): PathId,
    Form(pairs): Form<Pairs>,
) -> Response {
    let form = FormCheck {
        numbers: &["batch", "amount", "version"],
        dates: &["occurred_on"],
    };
    if let Some(refused) = form.refuse(&state, lang, &user, id, &pairs).await {
        return refused;
    }
    let input = EventInput {
        stage: text(&pairs, "stage").unwrap_or_default(),
        occurred_on: date(&pairs, "occurred_on"),
        batch: number(&pairs, "batch"),
        fields: EventFields {
            card_number: text(&pairs, "card_number"),
            training_title: text(&pairs, "training_title"),
            training_platform: text(&pairs, "training_platform"),
            amount: number(&pairs, "amount"),
            channel: text(&pairs, "channel"),
            detail: text(&pairs, "detail"),
            override_reason: text(&pairs, "override_reason"),
        },
        holder_nik: text(&pairs, "holder_nik"),
        ewallet_phone: text(&pairs, "ewallet_phone"),
        occupation: text(&pairs, "occupation"),
        eligibility_reason: text(&pairs, "eligibility_reason"),
        expected_version: number(&pairs, "version"),
        ..Default::default()
    };
    let result = super::record_event(&state, &user.actor, id, &input, Source::Counter).await;
    after(&state, lang, &user, id, result, None).await
}

async fn correct(
    SignedIn { state, lang, user }: SignedIn,
    Path((id, event_id)): Path<(i64, i64)>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let form = FormCheck {
        numbers: &["amount", "version"],
        dates: &["occurred_on"],
    };
    if let Some(refused) = form.refuse(&state, lang, &user, id, &pairs).await {
        return refused;
    }
    let input = CorrectionInput {
        void: value(&pairs, "void").is_some(),
        occurred_on: date(&pairs, "occurred_on"),
        fields: EventFields {
            amount: number(&pairs, "amount"),
            override_reason: text(&pairs, "override_reason"),
            ..EventFields::default()
        },
        reason: text(&pairs, "reason").unwrap_or_default(),
        expected_version: number(&pairs, "version"),
        ..Default::default()
    };
    let result = super::correct_event(&state, &user.actor, id, event_id, &input).await;
    after(&state, lang, &user, id, result, None).await
}

async fn session(
    SignedIn { state, lang, user }: SignedIn,
    PathId(id): PathId,
    Form(pairs): Form<Pairs>,
) -> Response {
    let form = FormCheck {
        numbers: &["minutes", "version"],
        dates: &["on", "next_follow_up"],
    };
    if let Some(refused) = form.refuse(&state, lang, &user, id, &pairs).await {
        return refused;
    }
    let input = SessionInput {
        on: date(&pairs, "on"),
        minutes: number(&pairs, "minutes"),
        channel: text(&pairs, "channel").unwrap_or_default(),
        steps: pairs
            .iter()
            .filter(|(k, _)| k == "steps")
            .map(|(_, v)| v.clone())
            .collect(),
        outcome: text(&pairs, "outcome").unwrap_or_default(),
        next_follow_up: date(&pairs, "next_follow_up"),
        notes: text(&pairs, "notes"),
        expected_version: number(&pairs, "version"),
        ..Default::default()
    };
    let result = super::record_session(&state, &user.actor, id, &input).await;
    after(&state, lang, &user, id, result, None).await
}

async fn contact(
    SignedIn { state, lang, user }: SignedIn,
    PathId(id): PathId,
    Form(pairs): Form<Pairs>,
) -> Response {
    let form = FormCheck {
        numbers: &[],
        dates: &[],
    };
    if let Some(refused) = form.refuse(&state, lang, &user, id, &pairs).await {
        return refused;
    }
    let input = ContactInput {
        channel: text(&pairs, "channel").unwrap_or_default(),
        result: text(&pairs, "result").unwrap_or_default(),
        note: text(&pairs, "note"),
        at: None,
    };
    let result = super::log_contact(&state, &user.actor, id, &input).await;
    after(&state, lang, &user, id, result, text(&pairs, "back")).await
}

#[derive(Template)]
#[template(path = "journey_follow_up.html")]
struct FollowUpPage {
    chrome: Chrome,
    /// `None` until a counter is chosen (a coordinator or head office with several).
    list: Option<super::FollowUpList>,
    counters: Vec<picker::Group>,
    days: i64,
    /// The day as the date input takes it (ISO) and as a person reads it.
    as_of: NaiveDate,
    mine: bool,
    back: String,
    channels: Vec<Choice>,
    results: Vec<Choice>,
}

impl FollowUpPage {
    fn day(&self) -> String {
        crate::format::date(self.as_of)
    }

    fn pick<'a>(&self, id: &'a str, en: &'a str) -> &'a str {
        self.chrome.lang.pick(id, en)
    }

    /// Where to book the person's next visit at the list's counter (when the floor is there).
    fn book(&self, participant_id: &i64) -> Option<String> {
        let counter = self.list.as_ref()?.counter_id;
        super::booking_link(*participant_id, counter)
    }
}

#[derive(Deserialize)]
struct FollowUpQuery {
    counter: Option<String>,
    mine: Option<String>,
    days: Option<String>,
    as_of: Option<String>,
}

/// The follow-up list of the chosen counter, or of the person's own; with several counters to
/// choose from and none chosen, the page asks which.
async fn follow_up(
    SignedIn { state, lang, user }: SignedIn,
    Query(q): Query<FollowUpQuery>,
) -> Response {
    let u = &user.actor.user;
    let chosen = q
        .counter
        .as_deref()
        .and_then(|c| c.trim().parse::<i64>().ok())
        .or(u.counter_id);
    let mut counters = match picker::counters(&state, u).await {
        Ok(groups) => groups,
        Err(e) => return error_page(lang, &e),
    };
    let counter = chosen.or_else(|| picker::first_of_one_office(&counters));
    if let Some(counter) = counter {
        picker::choose(&mut counters, counter);
    }
    let mine = q.mine.is_some();
    let days = q.days.as_deref().and_then(|d| d.parse().ok()).unwrap_or(7);
    let as_of = q.as_of.as_deref().and_then(|d| d.parse().ok());
    let list = match counter {
        Some(counter) => {
            let found = super::follow_up(
                &state,
                &user.actor,
                counter,
                mine.then_some(u.id),
                as_of,
                days,
                300,
                lang,
            )
            .await;
            match found {
                Ok(list) => Some(list),
                Err(e) => return error_page(lang, &e),
            }
        }
        None => None,
    };
    let back = format!(
        "/journey/follow-up?counter={}&days={days}{}",
        counter.map(|c| c.to_string()).unwrap_or_default(),
        if mine { "&mine=1" } else { "" }
    );
    let page = FollowUpPage {
        chrome: Chrome::for_user(lang, &user, &back),
        as_of: list
            .as_ref()
            .map(|l| l.as_of)
            .or(as_of)
            .unwrap_or_else(clock::today),
        list,
        counters,
        days,
        mine,
        back,
        channels: choices(
            SessionChannel::ALL,
            SessionChannel::code,
            SessionChannel::label,
            lang,
            "phone",
        ),
        results: choices(
            ContactResult::ALL,
            ContactResult::code,
            ContactResult::label,
            lang,
            "reached",
        ),
    };
    render(StatusCode::OK, &page)
}

/// One bar of the funnel chart.
struct Bar {
    label: String,
    reached: i64,
    width: i64,
    y: i64,
    conversion: String,
    median: String,
}

#[derive(Template)]
#[template(path = "journey_funnel.html")]
struct FunnelPage {
    chrome: Chrome,
    funnel: super::Funnel,
    bars: Vec<Bar>,
    side: Vec<(&'static str, i64)>,
    height: i64,
    scopes: Vec<picker::Group>,
    from: String,
    to: String,
    /// The query of the download links: the same scope and range.
    download: String,
}

/// The funnel of the chosen scope (`office:3`, or `scope=office&id=3` as the API takes it),
/// opening on the person's own: their counter, office or the nation.
async fn funnel(
    SignedIn { state, lang, user }: SignedIn,
    Query(mut q): Query<FunnelQuery>,
) -> Response {
    let chosen = q
        .scope
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| picker::own_scope(&user.actor.user));
    if let Some((kind, id)) = chosen.split_once(':') {
        q.scope = Some(kind.to_string());
        q.id = Some(id.to_string());
    }
    let chosen = match (&q.scope, &q.id) {
        (Some(kind), Some(id)) if kind != "nation" => format!("{kind}:{id}"),
        _ => "nation".to_string(),
    };
    let scopes = match picker::funnel_scopes(&state, &user.actor.user, lang, &chosen).await {
        Ok(groups) => groups,
        Err(e) => return error_page(lang, &e),
    };
    let scope = match parse_scope(&q) {
        Ok(s) => s,
        Err(e) => return error_page(lang, &e),
    };
    let (from, to) = funnel_range(&q);
    let funnel = match super::funnel(&state, &user.actor, scope, from, to, lang).await {
        Ok(f) => f,
        Err(e) => return error_page(lang, &e),
    };
    let top = funnel
        .steps
        .iter()
        .map(|s| s.reached)
        .max()
        .unwrap_or(0)
        .max(1);
    // The longest bar leaves room for its count inside the 640-wide chart (at 400 the first
    // step's count was cut off at the right edge).
    const FUNNEL_BAR_MAX: i64 = 330;
    let bars = funnel
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| Bar {
            label: s.label.clone(),
            reached: s.reached,
            width: s.reached * FUNNEL_BAR_MAX / top,
            y: i as i64 * 26,
            conversion: s
                .conversion
                .map(|c| format!("{:.0}%", c * 100.0))
                .unwrap_or_else(|| "—".into()),
            median: s
                .median_days_to_next
                .map(|d| d.to_string())
                .unwrap_or_else(|| "—".into()),
        })
        .collect::<Vec<_>>();
    let page = FunnelPage {
        chrome: Chrome::for_user(lang, &user, "/journey/funnel"),
        height: bars.len() as i64 * 26,
        side: vec![
            (Stage::NotAccepted.label(lang), funnel.not_accepted),
            (Stage::Revoked.label(lang), funnel.revoked),
            (Stage::Withdrawn.label(lang), funnel.withdrawn),
        ],
        bars,
        scopes,
        download: url::form_urlencoded::Serializer::new(String::new())
            .append_pair("scope", &chosen)
            .append_pair("from", &from.to_string())
            .append_pair("to", &to.to_string())
            .finish(),
        from: from.to_string(),
        to: to.to_string(),
        funnel,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct DownloadFormat {
    format: Option<String>,
}

/// The funnel's numbers (the table and the side exits) as CSV (default) or XLSX.
async fn funnel_download(
    SignedIn { state, lang, user }: SignedIn,
    Query(mut q): Query<FunnelQuery>,
    Query(f): Query<DownloadFormat>,
) -> Response {
    let chosen = q
        .scope
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| picker::own_scope(&user.actor.user));
    if let Some((kind, id)) = chosen.split_once(':') {
        q.scope = Some(kind.to_string());
        q.id = Some(id.to_string());
    }
    let result = async {
        let scope = parse_scope(&q)?;
        let (from, to) = funnel_range(&q);
        let funnel = super::funnel(&state, &user.actor, scope, from, to, lang).await?;
        let mut rows: Vec<Vec<String>> = funnel
            .steps
            .iter()
            .map(|s| {
                vec![
                    s.label.clone(),
                    s.reached.to_string(),
                    s.conversion
                        .map(|c| format!("{:.0}%", c * 100.0))
                        .unwrap_or_default(),
                    s.median_days_to_next
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                ]
            })
            .collect();
        for (stage, n) in [
            (Stage::NotAccepted, funnel.not_accepted),
            (Stage::Revoked, funnel.revoked),
            (Stage::Withdrawn, funnel.withdrawn),
        ] {
            rows.push(vec![
                stage.label(lang).to_string(),
                n.to_string(),
                String::new(),
                String::new(),
            ]);
        }
        let xlsx = f.format.as_deref() == Some("xlsx");
        let format = if xlsx {
            crate::sheet::Format::Xlsx
        } else {
            crate::sheet::Format::Csv
        };
        let header = [
            lang.t("funnel.stage"),
            lang.t("funnel.reached"),
            lang.t("funnel.conversion"),
            lang.t("funnel.median"),
        ];
        let bytes = crate::sheet::table_bytes(format, &header, &rows)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("funnel download: {e}")))?;
        Ok::<_, AppError>((bytes, xlsx, from, to))
    }
    .await;
    match result {
        Ok((bytes, xlsx, from, to)) => {
            let (mime, ext) = if xlsx {
                (
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    "xlsx",
                )
            } else {
                ("text/csv; charset=utf-8", "csv")
            };
            let name = format!("corong-{}-{from}-{to}.{ext}", chosen.replace(':', "-"));
            (
                [
                    (axum::http::header::CONTENT_TYPE, mime.to_string()),
                    (
                        axum::http::header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        Err(e) => error_page(lang, &e),
    }
}
