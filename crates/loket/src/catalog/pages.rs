//! Officer pages: catalogue search with filters, training detail, institution page, and the
//! printable list of suggestions to hand to a participant.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::index::{Facets, Filters, QueryWord, PRICE_STEPS};
use super::model::*;
use super::service::{self, SearchParams};
use crate::access::{self, Action};
use crate::auth::{PageUser, SignedForm, SignedIn};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::state::AppState;
use crate::web::PathId;
use crate::web::{error_page, render, Chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/catalog", get(search))
        .route("/catalog/trainings/{id}", get(detail))
        .route("/catalog/trainings/{id}/status", post(change_status))
        .route("/catalog/institutions/{id}", get(institution))
        .route("/participants/{id}/recommendations", get(recommendations))
}

/// Where "choose this training" leads: the participant's journey page with the purchase form
/// filled in (stage, title, platform, price), for the officer to check and save.
pub fn purchase_link(
    participant_id: i64,
    title: &str,
    platform: Platform,
    price: i64,
) -> Option<String> {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("stage", "training_bought")
        .append_pair("training_title", title)
        .append_pair("training_platform", platform.name())
        .append_pair("amount", &price.to_string())
        .finish();
    Some(format!(
        "/participants/{participant_id}/journey?{query}#record"
    ))
}

/// One `<option>`: value, label with its count, selected.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct Select {
    pub name: &'static str,
    pub label: &'static str,
    pub options: Vec<Opt>,
}

/// A training as a line in a list.
pub struct Row {
    pub id: i64,
    pub title: String,
    pub institution_id: i64,
    pub institution: String,
    pub mode: &'static str,
    pub category: &'static str,
    pub hours: i64,
    pub price: String,
    pub rating: String,
    pub reviews: i64,
    pub withdrawn: bool,
}

fn row(lang: Lang, t: &Training, offer: Option<Offer>) -> Row {
    let d = &t.data;
    let offer = offer.or_else(|| d.cheapest(None));
    Row {
        id: t.id,
        title: d.title.clone(),
        institution_id: t.institution_id,
        institution: d.institution_name.clone(),
        mode: d.mode.label(lang),
        category: d.category.label(lang),
        hours: d.hours,
        price: offer
            .map(|o| format!("{} · {}", crate::format::Rupiah(o.price), o.platform.name()))
            .unwrap_or_else(|| "—".into()),
        rating: rating_text(d.rating_tenths, lang),
        reviews: d.review_count,
        withdrawn: d.status == Status::Withdrawn,
    }
}

#[derive(Template)]
#[template(path = "catalog_search.html")]
struct SearchPage {
    chrome: Chrome,
    q: String,
    max_price: String,
    selects: Vec<Select>,
    prices: Vec<(String, String, usize)>,
    total: usize,
    rows: Vec<Row>,
    understood: Vec<String>,
    error: Option<String>,
    prev: Option<String>,
    next: Option<String>,
    first: usize,
    last: usize,
}

const PAGE: usize = 20;

fn select<T: Copy + PartialEq>(
    name: &'static str,
    label: &'static str,
    lang: Lang,
    counts: &[(T, usize)],
    code: impl Fn(T) -> String,
    text: impl Fn(T) -> String,
    current: Option<T>,
) -> Select {
    let mut options = vec![Opt {
        value: String::new(),
        label: lang.t("catalog.any").to_string(),
        selected: current.is_none(),
    }];
    options.extend(counts.iter().map(|(v, n)| Opt {
        value: code(*v),
        label: format!("{} ({n})", text(*v)),
        selected: current == Some(*v),
    }));
    Select {
        name,
        label: lang.t(label),
        options,
    }
}

/// The current search as a query string, with one parameter replaced.
fn link(params: &SearchParams, key: &str, value: &str) -> String {
    let mut pairs: Vec<(&str, String)> = vec![
        ("q", params.q.clone().unwrap_or_default()),
        ("category", params.category.clone().unwrap_or_default()),
        ("mode", params.mode.clone().unwrap_or_default()),
        ("platform", params.platform.clone().unwrap_or_default()),
        ("occupation", params.occupation.clone().unwrap_or_default()),
        ("max_price", params.max_price.clone().unwrap_or_default()),
        ("offset", params.offset.unwrap_or(0).to_string()),
    ];
    for pair in &mut pairs {
        if pair.0 == key {
            pair.1 = value.to_string();
        }
    }
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().filter(|(_, v)| !v.is_empty() && v != "0"))
        .finish();
    format!("/catalog?{query}")
}

async fn search(
    SignedIn { state, lang, user }: SignedIn,
    Query(mut params): Query<SearchParams>,
) -> Response {
    params.limit = Some(PAGE);
    let offset = params.offset.unwrap_or(0);
    let mut page = SearchPage {
        chrome: Chrome::for_user(lang, &user, "/catalog"),
        q: params.q.clone().unwrap_or_default(),
        max_price: params.max_price.clone().unwrap_or_default(),
        selects: Vec::new(),
        prices: Vec::new(),
        total: 0,
        rows: Vec::new(),
        understood: Vec::new(),
        error: None,
        prev: None,
        next: None,
        first: offset + 1,
        last: offset,
    };
    let results = match service::search(&state, &user.actor, &params).await {
        Ok(r) => r,
        Err(AppError::Validation(errors)) => {
            // The form is shown again with what was typed, so it can be corrected.
            page.error = Some(validation_message(lang, &errors));
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
        Err(e) => return error_page(lang, &e),
    };
    page.selects = filter_selects(lang, &results.filters, &results.facets);
    page.prices = price_links(&params, &results.facets);
    page.understood = understood_words(lang, &results.understood);
    page.total = results.total;
    page.rows = results
        .items
        .iter()
        .map(|f| row(lang, &f.training, f.offer))
        .collect();
    page.last = offset + page.rows.len();
    (page.prev, page.next) = paging_links(&params, offset, results.total);
    render(StatusCode::OK, &page)
}

/// Every problem with the search, in the reader's language, as one line.
fn validation_message(lang: Lang, errors: &[crate::error::FieldError]) -> String {
    errors
        .iter()
        .map(|e| lang.pick(&e.message, &e.message_en).to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The filter drop-downs, each option with how many trainings it would leave.
fn filter_selects(lang: Lang, f: &Filters, facets: &Facets) -> Vec<Select> {
    let mut selects = vec![
        select(
            "category",
            "catalog.category",
            lang,
            &facets.category,
            |v| v.code().into(),
            |v| v.label(lang).into(),
            f.category,
        ),
        select(
            "mode",
            "catalog.mode",
            lang,
            &facets.mode,
            |v| v.code().into(),
            |v| v.label(lang).into(),
            f.mode,
        ),
        select(
            "platform",
            "catalog.platform",
            lang,
            &facets.platform,
            |v| v.code().into(),
            |v| v.name().into(),
            f.platform,
        ),
        select(
            "occupation",
            "catalog.occupation",
            lang,
            &facets.occupation,
            |v| v.code().into(),
            |v| v.label(lang).into(),
            f.occupation,
        ),
    ];
    // Occupations nobody offers under the current filters only lengthen the list.
    if let Some(s) = selects.last_mut() {
        s.options
            .retain(|o| o.selected || o.value.is_empty() || !o.label.ends_with(" (0)"));
    }
    selects
}

/// (link, price ceiling, trainings at or below it) for each price step.
fn price_links(params: &SearchParams, facets: &Facets) -> Vec<(String, String, usize)> {
    PRICE_STEPS
        .iter()
        .zip(&facets.price)
        .map(|(step, (_, n))| {
            (
                link(params, "max_price", &step.to_string()),
                crate::format::Rupiah(*step).to_string(),
                *n,
            )
        })
        .collect()
}

/// How the search read the words that were not taken literally, so a surprising result can
/// be explained.
fn understood_words(lang: Lang, words: &[QueryWord]) -> Vec<String> {
    words
        .iter()
        .filter(|w| w.how != "exact")
        .map(|w| match w.how {
            "unknown" => format!("“{}”: {}", w.word, lang.t("catalog.word_unknown")),
            _ => format!("“{}” → {}", w.word, w.stems.join(", ")),
        })
        .collect()
}

/// Links to the previous and next page, where there is one.
fn paging_links(
    params: &SearchParams,
    offset: usize,
    total: usize,
) -> (Option<String>, Option<String>) {
    let prev =
        (offset > 0).then(|| link(params, "offset", &offset.saturating_sub(PAGE).to_string()));
    let next =
        (offset + PAGE < total).then(|| link(params, "offset", &(offset + PAGE).to_string()));
    (prev, next)
}

#[derive(Template)]
#[template(path = "catalog_training.html")]
struct DetailPage {
    chrome: Chrome,
    id: i64,
    version: i64,
    title: String,
    institution_id: i64,
    institution: String,
    withdrawn: bool,
    facts: Vec<(&'static str, String)>,
    description: String,
    prerequisites: String,
    offers: Vec<(String, String)>,
    can_manage: bool,
    saved: bool,
    alert: Option<String>,
}

#[derive(Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

fn detail_page(
    lang: Lang,
    user: &PageUser,
    t: &Training,
    saved: bool,
    alert: Option<String>,
) -> DetailPage {
    let d = &t.data;
    let occupations = d
        .occupations
        .iter()
        .map(|o| o.label(lang))
        .collect::<Vec<_>>()
        .join(", ");
    DetailPage {
        chrome: Chrome::for_user(lang, user, &format!("/catalog/trainings/{}", t.id)),
        id: t.id,
        version: t.version,
        title: d.title.clone(),
        institution_id: t.institution_id,
        institution: d.institution_name.clone(),
        withdrawn: d.status == Status::Withdrawn,
        facts: vec![
            (
                lang.t("catalog.category"),
                d.category.label(lang).to_string(),
            ),
            (lang.t("catalog.mode"), d.mode.label(lang).to_string()),
            (lang.t("catalog.hours"), d.hours.to_string()),
            (
                lang.t("catalog.language"),
                d.language.label(lang).to_string(),
            ),
            (lang.t("catalog.occupation"), occupations),
            (
                lang.t("catalog.rating"),
                format!(
                    "{} ({} {})",
                    rating_text(d.rating_tenths, lang),
                    d.review_count,
                    lang.t("catalog.reviews")
                ),
            ),
            (lang.t("catalog.training_id"), d.external_id.clone()),
        ],
        description: d.description.clone(),
        prerequisites: d.prerequisites.clone(),
        offers: d
            .offers
            .iter()
            .map(|o| {
                (
                    o.platform.name().to_string(),
                    crate::format::Rupiah(o.price).to_string(),
                )
            })
            .collect(),
        can_manage: access::allows(&user.actor.user, Action::ManageCatalog),
        saved,
        alert,
    }
}

async fn detail(
    SignedIn { state, lang, user }: SignedIn,
    PathId(id): PathId,
    Query(q): Query<SavedQuery>,
) -> Response {
    match service::training(&state, &user.actor, id).await {
        Ok(t) => render(
            StatusCode::OK,
            &detail_page(lang, &user, &t, q.saved.is_some(), None),
        ),
        Err(e) => error_page(lang, &e),
    }
}

#[derive(Deserialize)]
struct StatusForm {
    version: String,
    status: String,
}

async fn change_status(
    State(state): State<AppState>,
    lang: Lang,
    PathId(id): PathId,
    SignedForm(user, form): SignedForm<StatusForm>,
) -> Response {
    let (Ok(version), Some(status)) = (
        form.version.trim().parse::<i64>(),
        Status::parse(&form.status),
    ) else {
        return error_page(lang, &AppError::BadRequest("version/status".into()));
    };
    match service::set_status(&state, &user.actor, id, version, status).await {
        Ok(_) => Redirect::to(&format!("/catalog/trainings/{id}?saved=1")).into_response(),
        Err(e @ AppError::VersionConflict { .. }) => {
            let (msg_id, msg_en) = e.messages();
            match service::training(&state, &user.actor, id).await {
                Ok(t) => render(
                    StatusCode::CONFLICT,
                    &detail_page(
                        lang,
                        &user,
                        &t,
                        false,
                        Some(lang.pick(&msg_id, &msg_en).to_string()),
                    ),
                ),
                Err(e) => error_page(lang, &e),
            }
        }
        Err(e) => error_page(lang, &e),
    }
}

#[derive(Template)]
#[template(path = "catalog_institution.html")]
struct InstitutionPage {
    chrome: Chrome,
    name: String,
    city: String,
    external_id: String,
    rows: Vec<Row>,
}

async fn institution(SignedIn { state, lang, user }: SignedIn, PathId(id): PathId) -> Response {
    match service::institution(&state, &user.actor, id).await {
        Ok((inst, trainings)) => render(
            StatusCode::OK,
            &InstitutionPage {
                chrome: Chrome::for_user(lang, &user, &format!("/catalog/institutions/{id}")),
                name: inst.name,
                city: inst.city,
                external_id: inst.external_id,
                rows: trainings.iter().map(|t| row(lang, t, None)).collect(),
            },
        ),
        Err(e) => error_page(lang, &e),
    }
}

pub struct SuggestionRow {
    pub row: Row,
    pub platform: &'static str,
    pub price: String,
    pub reasons: Vec<String>,
    pub purchase: Option<String>,
}

#[derive(Template)]
#[template(path = "catalog_recommendations.html")]
struct RecommendationsPage {
    chrome: Chrome,
    participant_id: i64,
    name: String,
    balance: String,
    balance_value: i64,
    /// Trainings bought at an unknown price: the balance shown is the most that is left.
    unknown_prices: usize,
    today: String,
    items: Vec<SuggestionRow>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct BalanceQuery {
    balance: Option<String>,
}

async fn recommendations(
    SignedIn { state, lang, user }: SignedIn,
    PathId(id): PathId,
    Query(q): Query<BalanceQuery>,
) -> Response {
    // A balance that cannot be read is said, and the person's own is planned with.
    let (given, error) = match service::balance(q.balance.as_deref()) {
        Ok(b) => (b, None),
        Err(e) => {
            let (id_msg, en_msg) = e.messages();
            (None, Some(lang.pick(&id_msg, &en_msg).to_string()))
        }
    };
    let (participant, plan, suggestions) =
        match service::recommend(&state, &user.actor, id, given).await {
            Ok(found) => found,
            Err(e) => return error_page(lang, &e),
        };
    let balance = plan.balance;
    let items = suggestions
        .iter()
        .map(|s| SuggestionRow {
            row: row(lang, &s.training, Some(s.offer)),
            platform: s.offer.platform.name(),
            price: crate::format::Rupiah(s.offer.price).to_string(),
            reasons: s
                .reasons
                .iter()
                .map(|r| lang.pick(&r.text, &r.text_en).to_string())
                .collect(),
            purchase: purchase_link(id, &s.training.data.title, s.offer.platform, s.offer.price),
        })
        .collect();
    let page = RecommendationsPage {
        chrome: Chrome::for_user(lang, &user, &format!("/participants/{id}/recommendations")),
        participant_id: id,
        name: participant.data.full_name.as_str().to_string(),
        balance: crate::format::Rupiah(balance).to_string(),
        balance_value: balance,
        unknown_prices: plan.unknown_prices,
        today: crate::clock::today().format("%d-%m-%Y").to_string(),
        items,
        error,
    };
    let status = if page.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(status, &page)
}
