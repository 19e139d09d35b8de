//! Pages: the dashboard (drill-down, charts, downloads), the counter list, a counter with its
//! status form, and the officers with their ToT status.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::api::dashboard_params;
use super::chart::{self, group};
use super::dashboard::{self, Dashboard};
use super::model::*;
use super::service;
use super::store::{self, CounterRow};
use crate::access;
use crate::auth::{PageUser, SignedForm, SignedIn};
use crate::clock;
use crate::codes::{choices, Choice};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::state::AppState;
use crate::web::PathId;
use crate::web::{error_page, render, Chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(dashboard_page))
        .route("/dashboard/download/{chart}", get(download))
        .route("/counters", get(counter_list))
        .route("/counters/{id}", get(counter_detail).post(save_status))
        .route("/officers", get(officer_list))
        .route("/targets", get(targets_get).post(targets_post))
}

#[derive(Deserialize)]
struct DashQuery {
    scope: Option<String>,
    as_of: Option<String>,
}

pub struct Card {
    pub label: &'static str,
    pub value: String,
    pub note: String,
}

pub struct ChartView {
    pub key: String,
    pub title: String,
    pub svg: String,
    pub columns: Vec<String>,
    pub rows: Vec<(String, Vec<String>)>,
}

pub struct TargetView {
    pub metric: String,
    pub period_end: String,
    pub target: String,
    pub actual: String,
    pub state: &'static str,
    pub class: &'static str,
}

#[derive(Template)]
#[template(path = "counters_dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    d: Dashboard,
    scope_key: String,
    /// The scope's name in the page's language.
    scope_name: String,
    /// (link scope, name) of each level above, widest first.
    parents: Vec<(String, String)>,
    as_of: String,
    status_line: String,
    cards: Vec<Card>,
    targets: Vec<TargetView>,
    /// (definition label, reached, target with its period end, headline?) per definition.
    reach_rows: Vec<(&'static str, String, String, bool)>,
    charts: Vec<ChartView>,
    /// (link scope, name, counters, operating, certified, reached)
    children: Vec<(String, String, i64, i64, i64, String)>,
    laggards: Vec<(String, String, i64, i64, i64, String)>,
}

fn cards(d: &Dashboard, lang: Lang) -> Vec<Card> {
    let t = |k| lang.t(k);
    let r = &d.reach;
    let projection = if let Some(day) = r.met_on {
        format!("{} {}", t("dash.met_on"), crate::format::date(day))
    } else if r.target.is_none() {
        t("dash.no_target").to_string()
    } else if let Some(day) = r.projected_date {
        crate::format::date(day)
    } else {
        t("dash.not_at_rate").to_string()
    };
    let schedule = match r.on_track {
        Some(true) => t("dash.on_track"),
        Some(false) => t("dash.late"),
        None => "",
    };
    vec![
        Card {
            label: t("dash.counters_operating"),
            value: group(d.counters.operating),
            note: format!("{} {}", t("dash.of_total"), group(d.counters.total)),
        },
        Card {
            label: t("dash.officers_certified"),
            value: group(d.officers_certified),
            note: format!("{} {}", t("dash.of_total"), group(d.officers_total)),
        },
        Card {
            label: t("dash.reached"),
            value: group(r.reached),
            note: r
                .target
                .map(|v| format!("{} {}", t("dash.target"), group(v)))
                .unwrap_or_default(),
        },
        Card {
            label: t("dash.weekly_rate"),
            value: group(r.weekly_rate),
            note: String::new(),
        },
        Card {
            label: t("dash.projection"),
            value: projection,
            note: schedule.to_string(),
        },
    ]
}

fn target_views(d: &Dashboard, lang: Lang) -> Vec<TargetView> {
    d.targets
        .iter()
        .map(|t| {
            let (state, class) = match (t.met, t.due) {
                (None, _) => (lang.t("dash.not_measured"), "muted"),
                (Some(true), _) => (lang.t("dash.met"), "ok"),
                (Some(false), true) => (lang.t("dash.missed"), "alert"),
                (Some(false), false) => (lang.t("dash.pending"), "warn"),
            };
            let metric = Metric::parse(&t.metric)
                .map(|m| m.label(lang))
                .unwrap_or("?");
            let definition = t.definition.as_deref().and_then(ReachDefinition::parse);
            TargetView {
                metric: match definition {
                    Some(d) if t.metric == Metric::Reached.code() => {
                        format!("{metric}: {}", d.label(lang))
                    }
                    _ => metric.to_string(),
                },
                period_end: crate::format::date(t.period_end),
                target: group(t.target),
                actual: t.actual.map(group).unwrap_or_else(|| "—".into()),
                state,
                class,
            }
        })
        .collect()
}

fn reach_rows(d: &Dashboard, lang: Lang) -> Vec<(&'static str, String, String, bool)> {
    d.reach_by_definition
        .iter()
        .filter_map(|r| {
            let label = ReachDefinition::parse(&r.definition)?.label(lang);
            let target = match (r.target, r.target_period_end) {
                (Some(v), Some(end)) => format!("{} ({})", group(v), crate::format::date(end)),
                _ => "—".into(),
            };
            Some((label, group(r.reached), target, r.headline))
        })
        .collect()
}

/// A scope as a query value for a link.
fn scope_link(scope: &ScopeRef) -> String {
    url::form_urlencoded::byte_serialize(scope.key().as_bytes()).collect()
}

async fn dashboard_page(
    SignedIn { state, lang, user }: SignedIn,
    Query(q): Query<DashQuery>,
) -> Response {
    let result = async {
        service::view_allowed(&state.db, &user.actor).await?;
        let (scope, as_of) = dashboard_params(q.scope.as_deref(), q.as_of.as_deref())?;
        dashboard::compute(&state.db, &scope, as_of).await
    }
    .await;
    let d = match result {
        Ok(d) => d,
        Err(e) => return error_page(lang, &e),
    };
    let scope_key = d.scope.key();
    let charts = d
        .charts
        .iter()
        .map(|c| ChartView {
            key: c.key.clone(),
            title: lang.pick(&c.title, &c.title_en).to_string(),
            svg: chart::svg(c, lang),
            columns: c
                .columns
                .iter()
                .map(|code| chart::column_label(code, lang).to_string())
                .collect(),
            rows: c
                .rows
                .iter()
                .map(|r| {
                    let values = r
                        .values
                        .iter()
                        .map(|v| v.map(group).unwrap_or_else(|| "—".into()))
                        .collect();
                    (chart::period_label(&r.label), values)
                })
                .collect(),
        })
        .collect();
    let children = d
        .children
        .iter()
        .map(|c| {
            let link = url::form_urlencoded::byte_serialize(c.scope.as_bytes()).collect();
            (
                link,
                c.name.clone(),
                c.counters,
                c.operating,
                c.officers_certified,
                group(c.reached),
            )
        })
        .collect();
    let laggards = d
        .laggards
        .iter()
        .map(|l| {
            (
                scope_link(&ScopeRef::Office(l.office_code.clone())),
                l.office_name.clone(),
                l.planned_by_now,
                l.operating,
                l.behind,
                group(l.reached),
            )
        })
        .collect();
    let c = &d.counters;
    let status_line = [
        (CounterStatus::Planned, c.planned),
        (CounterStatus::Preparing, c.preparing),
        (CounterStatus::Operating, c.operating),
        (CounterStatus::Paused, c.paused),
        (CounterStatus::Closed, c.closed),
    ]
    .iter()
    .map(|(s, n)| format!("{} {n}", s.label(lang)))
    .collect::<Vec<_>>()
    .join(" · ");
    let name_of = |scope: &ScopeRef, name: &str| match scope {
        ScopeRef::National => lang.t("dash.national").to_string(),
        _ => name.to_string(),
    };
    let parents = d
        .parents
        .iter()
        .map(|p| (scope_link(&p.scope), name_of(&p.scope, &p.name)))
        .collect();
    let page = DashboardPage {
        chrome: Chrome::for_user(lang, &user, "/dashboard"),
        scope_name: name_of(&d.scope, &d.scope_name),
        parents,
        status_line,
        cards: cards(&d, lang),
        targets: target_views(&d, lang),
        reach_rows: reach_rows(&d, lang),
        charts,
        children,
        laggards,
        as_of: d.as_of.to_string(),
        scope_key: url::form_urlencoded::byte_serialize(scope_key.as_bytes()).collect(),
        d,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct DownloadQuery {
    scope: Option<String>,
    as_of: Option<String>,
    format: Option<String>,
}

/// The numbers of one chart as CSV (default) or XLSX.
async fn download(
    SignedIn { state, lang, user }: SignedIn,
    Path(key): Path<String>,
    Query(q): Query<DownloadQuery>,
) -> Response {
    let result = async {
        service::view_allowed(&state.db, &user.actor).await?;
        let (scope, as_of) = dashboard_params(q.scope.as_deref(), q.as_of.as_deref())?;
        let d = dashboard::compute(&state.db, &scope, as_of).await?;
        let chart = d
            .charts
            .into_iter()
            .find(|c| c.key == key)
            .ok_or(AppError::NotFound)?;
        let name = format!("{}-{}-{}", chart.key, scope.key().replace(':', "-"), as_of);
        let xlsx = q.format.as_deref() == Some("xlsx");
        let (bytes, mime, ext) = if xlsx {
            let bytes = chart::xlsx_bytes(&chart).map_err(|e| AppError::Internal(e.into()))?;
            (
                bytes,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "xlsx",
            )
        } else {
            let bytes = chart::csv_bytes(&chart).map_err(|e| AppError::Internal(e.into()))?;
            (bytes, "text/csv; charset=utf-8", "csv")
        };
        Ok::<_, AppError>((
            bytes,
            mime,
            format!("attachment; filename=\"{name}.{ext}\""),
        ))
    }
    .await;
    match result {
        Ok((bytes, mime, disposition)) => (
            [
                (header::CONTENT_TYPE, mime.to_string()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => error_page(lang, &e),
    }
}

pub struct CounterLine {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub office: String,
    pub status: &'static str,
    pub certified: usize,
    pub planned_open: String,
}

#[derive(Template)]
#[template(path = "counters_list.html")]
struct ListPage {
    chrome: Chrome,
    counters: Vec<CounterLine>,
}

async fn counter_list(State(state): State<AppState>, lang: Lang, user: PageUser) -> Response {
    let result = async {
        service::view_allowed(&state.db, &user.actor).await?;
        let rows = store::counter_rows(&state.db).await?;
        let officers = store::officer_rows(&state.db).await?;
        let certs = store::certifications(&state.db, None).await?;
        let today = clock::today();
        Ok::<_, AppError>(
            rows.into_iter()
                .map(|c| CounterLine {
                    certified: officers
                        .iter()
                        .filter(|o| o.active && o.counter_id == Some(c.id))
                        .filter(|o| {
                            certs
                                .iter()
                                .any(|x| x.officer_id == o.id && x.valid_on(today))
                        })
                        .count(),
                    status: c.status().label(lang),
                    planned_open: c
                        .planned_open
                        .map(crate::format::date)
                        .unwrap_or_else(|| "—".into()),
                    id: c.id,
                    code: c.code,
                    name: c.name,
                    office: c.office_name,
                })
                .collect(),
        )
    }
    .await;
    match result {
        Ok(counters) => render(
            StatusCode::OK,
            &ListPage {
                chrome: Chrome::for_user(lang, &user, "/counters"),
                counters,
            },
        ),
        Err(e) => error_page(lang, &e),
    }
}

#[derive(Template)]
#[template(path = "counters_detail.html")]
struct DetailPage {
    chrome: Chrome,
    c: store::CounterRow,
    status: &'static str,
    location: &'static str,
    planned_open: String,
    history: Vec<(String, &'static str, String)>,
    officers: Vec<(String, String, bool)>,
    can_manage: bool,
    choices: Vec<Choice>,
    today: String,
    saved: bool,
    alert: Option<String>,
    note: String,
}

#[derive(Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

async fn detail_page(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    id: i64,
    saved: bool,
    alert: Option<String>,
    status_code: StatusCode,
) -> Response {
    let result = async {
        service::view_allowed(&state.db, &user.actor).await?;
        let c = store::counter_row(&state.db, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let history = store::status_events(&state.db, Some(id)).await?;
        let staff = service::staffing(&state.db, id, clock::today()).await?;
        Ok::<_, AppError>((c, history, staff))
    }
    .await;
    let (c, history, staff) = match result {
        Ok(v) => v,
        Err(e) => return error_page(lang, &e),
    };
    let current = c.status();
    let next: Vec<CounterStatus> = CounterStatus::ALL
        .iter()
        .copied()
        .filter(|s| current.may_become(*s))
        .collect();
    let page = DetailPage {
        chrome: Chrome::for_user(lang, user, &format!("/counters/{id}")),
        status: current.label(lang),
        planned_open: c
            .planned_open
            .map_or_else(|| "—".to_string(), crate::format::date),
        location: LocationType::parse(&c.location_type)
            .map(|l| l.label(lang))
            .unwrap_or("—"),
        history: history
            .iter()
            .rev()
            .map(|e| {
                (
                    crate::format::date(e.effective_on),
                    CounterStatus::parse(&e.status)
                        .map(|s| s.label(lang))
                        .unwrap_or("?"),
                    e.note.clone().unwrap_or_default(),
                )
            })
            .collect(),
        officers: staff
            .into_iter()
            .map(|(o, ok)| (o.full_name, o.username, ok))
            .collect(),
        can_manage: access::manages_office(&user.actor.user, c.office_id),
        choices: choices(&next, CounterStatus::code, CounterStatus::label, lang, ""),
        today: clock::today().to_string(),
        saved,
        alert,
        note: String::new(),
        c,
    };
    render(status_code, &page)
}

async fn counter_detail(
    SignedIn { state, lang, user }: SignedIn,
    PathId(id): PathId,
    Query(q): Query<SavedQuery>,
) -> Response {
    detail_page(
        &state,
        lang,
        &user,
        id,
        q.saved.is_some(),
        None,
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
struct StatusForm {
    version: i64,
    status: String,
    effective_on: String,
    note: Option<String>,
}

async fn save_status(
    State(state): State<AppState>,
    lang: Lang,
    PathId(id): PathId,
    SignedForm(user, form): SignedForm<StatusForm>,
) -> Response {
    let result = async {
        let status = CounterStatus::parse(&form.status).ok_or_else(|| {
            AppError::field(
                "status",
                "choice_invalid",
                "Pilih status baru.",
                "Choose the new status.",
            )
        })?;
        let on = chrono::NaiveDate::parse_from_str(form.effective_on.trim(), "%Y-%m-%d").map_err(
            |_| {
                AppError::field(
                    "effective_on",
                    "date_invalid",
                    "Tanggal ditulis TTTT-BB-HH.",
                    "Write the date as YYYY-MM-DD.",
                )
            },
        )?;
        service::change_status(
            &state.db,
            &user.actor,
            id,
            form.version,
            status,
            on,
            form.note.as_deref(),
        )
        .await
    }
    .await;
    match result {
        Ok(_) => Redirect::to(&format!("/counters/{id}?saved=1")).into_response(),
        Err(e @ (AppError::Validation(_) | AppError::VersionConflict { .. })) => {
            let (msg_id, msg_en) = e.messages();
            let alert = Some(lang.pick(&msg_id, &msg_en).to_string());
            detail_page(&state, lang, &user, id, false, alert, e.status()).await
        }
        Err(e) => error_page(lang, &e),
    }
}

pub struct OfficerLine {
    pub name: String,
    pub username: String,
    pub role: &'static str,
    pub counter: String,
    pub valid_until: String,
    pub certified: bool,
    pub trained_by: String,
}

#[derive(Template)]
#[template(path = "counters_officers.html")]
struct OfficersPage {
    chrome: Chrome,
    officers: Vec<OfficerLine>,
}

async fn officer_list(State(state): State<AppState>, lang: Lang, user: PageUser) -> Response {
    let result = async {
        service::view_allowed(&state.db, &user.actor).await?;
        let officers = store::officer_rows(&state.db).await?;
        let certs = store::certifications(&state.db, None).await?;
        let batches = store::batch_rows(&state.db).await?;
        let counters = store::counter_rows(&state.db).await?;
        let today = clock::today();
        Ok::<_, AppError>(
            officers
                .into_iter()
                .map(|o| {
                    let latest = certs
                        .iter()
                        .filter(|c| c.officer_id == o.id)
                        .max_by_key(|c| c.valid_until);
                    let batch = latest.and_then(|c| batches.iter().find(|b| b.id == c.batch_id));
                    OfficerLine {
                        certified: certs
                            .iter()
                            .any(|c| c.officer_id == o.id && c.valid_on(today)),
                        valid_until: latest
                            .map(|c| crate::format::date(c.valid_until))
                            .unwrap_or_else(|| "—".into()),
                        trained_by: batch
                            .map(|b| format!("{} ({})", b.trainer_name, b.code))
                            .unwrap_or_else(|| "—".into()),
                        role: CascadeRole::parse(&o.cascade_role)
                            .map(|r| r.label(lang))
                            .unwrap_or("?"),
                        counter: o
                            .counter_id
                            .and_then(|id| counters.iter().find(|c| c.id == id))
                            .map(|c| c.code.clone())
                            .unwrap_or_else(|| "—".into()),
                        name: o.full_name,
                        username: o.username,
                    }
                })
                .collect(),
        )
    }
    .await;
    match result {
        Ok(officers) => render(
            StatusCode::OK,
            &OfficersPage {
                chrome: Chrome::for_user(lang, &user, "/officers"),
                officers,
            },
        ),
        Err(e) => error_page(lang, &e),
    }
}

/// One target as the targets page lists it.
pub struct TargetLine {
    pub metric: String,
    pub scope: String,
    pub period_end: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "counters_targets.html")]
struct TargetsPage {
    chrome: Chrome,
    targets: Vec<TargetLine>,
    can_manage: bool,
    metrics: Vec<Choice>,
    definitions: Vec<Choice>,
    /// (scope key, name, selected)
    scopes: Vec<(String, String, bool)>,
    form: TargetForm,
    /// field → message, shown beside the field.
    errors: Vec<(String, String)>,
    saved: bool,
}

impl TargetsPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Clone, Default, Deserialize)]
struct TargetForm {
    #[serde(default)]
    metric: String,
    #[serde(default)]
    definition: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    period_end: String,
    #[serde(default)]
    value: String,
}

fn scope_label(scope: &ScopeRef, counters: &[CounterRow], lang: Lang) -> String {
    match scope {
        ScopeRef::National => lang.t("dash.national").to_string(),
        ScopeRef::Province(p) => nik::regions::province(p)
            .map(|r| r.name.to_string())
            .unwrap_or_else(|| p.clone()),
        ScopeRef::Office(o) => counters
            .iter()
            .find(|c| &c.office_code == o)
            .map_or_else(|| o.clone(), |c| c.office_name.clone()),
        ScopeRef::Counter(k) => counters
            .iter()
            .find(|c| &c.code == k)
            .map_or_else(|| k.clone(), |c| c.name.clone()),
    }
}

async fn targets_page(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    form: TargetForm,
    errors: Vec<(String, String)>,
    saved: bool,
    status: StatusCode,
) -> Response {
    let result = async {
        service::view_allowed(&state.db, &user.actor).await?;
        let rows = store::targets(&state.db).await?;
        let counters = store::counter_rows(&state.db).await?;
        Ok::<_, AppError>((rows, counters))
    }
    .await;
    let (rows, counters) = match result {
        Ok(v) => v,
        Err(e) => return error_page(lang, &e),
    };
    let targets = rows
        .iter()
        .map(|t| {
            let metric = Metric::parse(&t.metric).map_or("?", |m| m.label(lang));
            TargetLine {
                metric: match (Metric::parse(&t.metric), t.reach_definition()) {
                    (Some(Metric::Reached), Some(d)) => format!("{metric}: {}", d.label(lang)),
                    _ => metric.to_string(),
                },
                scope: t
                    .scope()
                    .map(|s| scope_label(&s, &counters, lang))
                    .unwrap_or_default(),
                period_end: crate::format::date(t.period_end),
                value: group(t.value),
            }
        })
        .collect();
    let mut keys: Vec<ScopeRef> = vec![ScopeRef::National];
    for c in &counters {
        for s in [
            ScopeRef::Province(c.province_code.clone()),
            ScopeRef::Office(c.office_code.clone()),
        ] {
            if !keys.contains(&s) {
                keys.push(s);
            }
        }
    }
    let scopes = keys
        .iter()
        .map(|s| {
            let kind = match s {
                ScopeRef::Province(_) => format!("{}: ", lang.t("targets.province")),
                ScopeRef::Office(_) => format!("{}: ", lang.t("dash.office")),
                _ => String::new(),
            };
            (
                s.key(),
                format!("{kind}{}", scope_label(s, &counters, lang)),
                s.key() == form.scope,
            )
        })
        .collect();
    let page = TargetsPage {
        chrome: Chrome::for_user(lang, user, "/targets"),
        targets,
        can_manage: access::allows(&user.actor.user, access::Action::ManageNetwork),
        metrics: choices(Metric::ALL, Metric::code, Metric::label, lang, &form.metric),
        definitions: choices(
            ReachDefinition::ALL,
            ReachDefinition::code,
            ReachDefinition::label,
            lang,
            &form.definition,
        ),
        scopes,
        form,
        errors,
        saved,
    };
    render(status, &page)
}

async fn targets_get(
    SignedIn { state, lang, user }: SignedIn,
    Query(q): Query<SavedQuery>,
) -> Response {
    targets_page(
        &state,
        lang,
        &user,
        TargetForm::default(),
        Vec::new(),
        q.saved.is_some(),
        StatusCode::OK,
    )
    .await
}

async fn targets_post(
    State(state): State<AppState>,
    lang: Lang,
    SignedForm(user, form): SignedForm<TargetForm>,
) -> Response {
    let result = async {
        let metric = super::api::parse_code("metric", &form.metric, Metric::parse, Metric::codes());
        let definition = match form.definition.trim() {
            "" => Ok(None),
            d => super::api::parse_code(
                "definition",
                d,
                ReachDefinition::parse,
                ReachDefinition::codes(),
            )
            .map(Some),
        };
        let scope = dashboard_params(Some(&form.scope), None).map(|(s, _)| s);
        let period_end = super::api::parse_date("period_end", &form.period_end);
        let value = form.value.trim().parse::<i64>().map_err(|_| {
            AppError::field(
                "value",
                "number_invalid",
                "Tulis target sebagai bilangan bulat, misalnya 110000.",
                "Write the target as a whole number, e.g. 110000.",
            )
        });
        // Every mistake at once, each beside its field.
        let mut errors = Vec::new();
        for e in [
            metric.as_ref().err(),
            definition.as_ref().err(),
            scope.as_ref().err(),
            period_end.as_ref().err(),
            value.as_ref().err(),
        ]
        .into_iter()
        .flatten()
        {
            errors.extend(e.field_errors().iter().cloned());
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        service::set_target(
            &state.db,
            &user.actor,
            metric?,
            definition?,
            &scope?,
            period_end?,
            value?,
        )
        .await
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/targets?saved=1").into_response(),
        Err(e @ AppError::Validation(_)) => {
            let errors = e
                .field_errors()
                .iter()
                .map(|f| {
                    (
                        f.field.clone(),
                        lang.pick(&f.message, &f.message_en).to_string(),
                    )
                })
                .collect();
            targets_page(&state, lang, &user, form, errors, false, e.status()).await
        }
        Err(e) => error_page(lang, &e),
    }
}
