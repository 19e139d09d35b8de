//! Pages: a person's "Program lain yang cocok" with their referrals (officers), the programme
//! overview with referrals waiting too long and the download of counts (head office and
//! officers), and the agency's own pages (agency staff; no officer page is theirs).

use askama::Template;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::model::{ReferralEvent, ReferralStatus, Side};
use super::screening::Verdict;
use super::service::{self, MoveInput};
use crate::auth::{PageUser, SignedForm, SignedIn};
use crate::error::{AppError, Result};
use crate::i18n::Lang;
use crate::identity::Role;
use crate::participants::model::ConsentMethod;
use crate::state::AppState;
use crate::web::{error_page, render, Chrome, PathId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/programmes", get(overview))
        .route("/programmes/report.csv", get(report))
        .route("/participants/{id}/programmes", get(person).post(refer))
        .route("/programme-referrals/{id}", post(move_referral))
        .route("/lembaga", get(agency_list))
        .route("/lembaga/programmes", get(agency_programmes))
        .route("/lembaga/referrals/{id}", get(agency_referral))
}

/// One step a person may take on a referral (a button or a small form).
pub struct Step {
    pub code: &'static str,
    pub label: &'static str,
    /// Sending asks for the person's consent; declining asks for a reason.
    pub consent: bool,
    pub reason: bool,
}

fn steps(status: ReferralStatus, side: Side, lang: Lang) -> Vec<Step> {
    status
        .next(side)
        .iter()
        .map(|to| Step {
            code: to.code(),
            label: lang.t(&format!("programmes.do.{}", to.code())),
            consent: *to == ReferralStatus::Sent,
            reason: *to == ReferralStatus::Declined,
        })
        .collect()
}

pub struct HistoryLine {
    pub status: &'static str,
    pub at: String,
    pub actor: String,
    pub note: String,
}

fn history(events: &[ReferralEvent], lang: Lang) -> Vec<HistoryLine> {
    events
        .iter()
        .map(|e| HistoryLine {
            status: e.status.label(lang),
            at: crate::format::time(e.at),
            actor: e.actor.clone().unwrap_or_default(),
            note: e.note.clone(),
        })
        .collect()
}

pub struct ReferralView {
    pub id: i64,
    pub version: i64,
    pub programme: String,
    pub agency: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub answer: String,
    pub history: Vec<HistoryLine>,
    pub steps: Vec<Step>,
    pub alert: Option<String>,
}

pub struct ScreenView {
    pub id: i64,
    pub name: String,
    pub agency: String,
    pub kind: &'static str,
    pub fits: bool,
    pub why: Vec<String>,
    pub missing: Vec<String>,
    pub documents: String,
    pub places: String,
    pub open: bool,
    pub alert: Option<String>,
}

#[derive(Template)]
#[template(path = "programmes_person.html")]
struct PersonPage {
    chrome: Chrome,
    id: i64,
    name: String,
    referrals: Vec<ReferralView>,
    matching: Vec<ScreenView>,
    others: Vec<ScreenView>,
    consent_methods: Vec<(&'static str, &'static str)>,
}

fn places(quota: Option<i64>, taken: i64, lang: Lang) -> String {
    match quota {
        Some(q) => format!(
            "{} {}",
            (q - taken).max(0),
            lang.t("programmes.places_left")
        ),
        None => lang.t("programmes.places_open").to_string(),
    }
}

/// Where an error shows on the person's page: next to the programme or the referral.
enum Alert {
    Programme(i64, AppError),
    Referral(i64, AppError),
}

async fn person_page(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    id: i64,
    alert: Option<Alert>,
) -> Result<Response> {
    let actor = &user.actor;
    let screened = service::screen_person(state, actor, id).await?;
    let name = service::person_name(state, id).await?;
    let referred = service::referrals_of_person(state, actor, id).await?;
    let (status, alert_for) = match &alert {
        Some(Alert::Programme(p, e)) => (e.status(), (Some(*p), None, Some(e))),
        Some(Alert::Referral(r, e)) => (e.status(), (None, Some(*r), Some(e))),
        None => (StatusCode::OK, (None, None, None)),
    };
    let message = |e: Option<&AppError>| {
        e.map(|e| {
            let (i, en) = e.messages();
            lang.pick(&i, &en).to_string()
        })
    };
    let referrals = referred
        .into_iter()
        .map(|(r, events)| ReferralView {
            alert: if alert_for.1 == Some(r.id) {
                message(alert_for.2)
            } else {
                None
            },
            id: r.id,
            version: r.version,
            programme: r.programme_name,
            agency: r.agency_name,
            status: r.status.label(lang),
            status_code: r.status.code(),
            answer: r.answer,
            history: history(&events, lang),
            steps: steps(r.status, Side::Counter, lang),
        })
        .collect();
    let mut matching = Vec::new();
    let mut others = Vec::new();
    for (p, s) in screened {
        let view = ScreenView {
            alert: if alert_for.0 == Some(p.id) {
                message(alert_for.2)
            } else {
                None
            },
            id: p.id,
            name: p.name.clone(),
            agency: p.agency_name.clone(),
            kind: p.kind.label(lang),
            fits: s.verdict == Verdict::Fits,
            why: s
                .why
                .iter()
                .map(|r| lang.pick(&r.message, &r.message_en).to_string())
                .collect(),
            missing: s
                .missing
                .iter()
                .map(|r| lang.pick(&r.message, &r.message_en).to_string())
                .collect(),
            documents: p.documents.clone(),
            places: places(p.quota, p.taken, lang),
            open: s.open,
        };
        if s.verdict == Verdict::DoesNotFit {
            others.push(view);
        } else {
            matching.push(view);
        }
    }
    let consent_methods = [
        ConsentMethod::PaperForm,
        ConsentMethod::Verbal,
        ConsentMethod::Digital,
    ]
    .into_iter()
    .map(|m| (m.code(), m.label(lang)))
    .collect();
    let page = PersonPage {
        chrome: Chrome::for_user(lang, user, &format!("/participants/{id}/programmes")),
        id,
        name,
        referrals,
        matching,
        others,
        consent_methods,
    };
    Ok(render(status, &page))
}

async fn person(SignedIn { state, lang, user }: SignedIn, PathId(id): PathId) -> Response {
    match person_page(&state, lang, &user, id, None).await {
        Ok(r) => r,
        Err(e) => error_page(lang, &e),
    }
}

#[derive(Deserialize)]
struct ReferForm {
    programme_id: Option<String>,
    note: Option<String>,
}

async fn refer(
    State(state): State<AppState>,
    lang: Lang,
    PathId(id): PathId,
    SignedForm(user, form): SignedForm<ReferForm>,
) -> Response {
    let Some(programme) = form
        .programme_id
        .as_deref()
        .and_then(|p| p.trim().parse::<i64>().ok())
    else {
        return error_page(
            lang,
            &AppError::field(
                "programme_id",
                "programme_unknown",
                "Program tidak dikenal.",
                "Unknown programme.",
            ),
        );
    };
    match service::refer(&state, &user.actor, id, programme, form.note.as_deref()).await {
        Ok(r) => Redirect::to(&format!("/participants/{id}/programmes#r{}", r.id)).into_response(),
        Err(e @ (AppError::Forbidden | AppError::NotFound)) => error_page(lang, &e),
        Err(e) => match person_page(
            &state,
            lang,
            &user,
            id,
            Some(Alert::Programme(programme, e)),
        )
        .await
        {
            Ok(r) => r,
            Err(e) => error_page(lang, &e),
        },
    }
}

#[derive(Deserialize)]
struct MoveForm {
    status: String,
    version: Option<String>,
    note: Option<String>,
    consent_method: Option<String>,
}

async fn move_referral(
    State(state): State<AppState>,
    lang: Lang,
    PathId(id): PathId,
    SignedForm(user, form): SignedForm<MoveForm>,
) -> Response {
    let Some(version) = form.version.as_deref().and_then(|v| v.parse().ok()) else {
        return error_page(lang, &AppError::VersionRequired);
    };
    let input = MoveInput {
        status: form.status,
        version,
        note: form.note,
        consent_method: form.consent_method,
    };
    let agency = user.actor.user.role == Role::Lembaga;
    match service::move_referral(&state, &user.actor, id, &input).await {
        Ok(r) if agency => Redirect::to(&format!("/lembaga/referrals/{}", r.id)).into_response(),
        Ok(r) => Redirect::to(&format!(
            "/participants/{}/programmes#r{}",
            r.participant_id, r.id
        ))
        .into_response(),
        Err(e @ (AppError::Forbidden | AppError::NotFound)) => error_page(lang, &e),
        Err(e) if agency => match agency_page(&state, lang, &user, id, Some(e)).await {
            Ok(r) => r,
            Err(e) => error_page(lang, &e),
        },
        Err(e) => {
            let participant = match service::participant_of(&state, id).await {
                Ok(p) => p,
                Err(e) => return error_page(lang, &e),
            };
            match person_page(
                &state,
                lang,
                &user,
                participant,
                Some(Alert::Referral(id, e)),
            )
            .await
            {
                Ok(r) => r,
                Err(e) => error_page(lang, &e),
            }
        }
    }
}

pub struct ProgrammeLine {
    pub name: String,
    pub agency: String,
    pub kind: &'static str,
    pub period: String,
    pub places: String,
    pub regions: String,
}

fn programme_line(p: &super::model::Programme, lang: Lang) -> ProgrammeLine {
    ProgrammeLine {
        name: p.name.clone(),
        agency: p.agency_name.clone(),
        kind: p.kind.label(lang),
        period: match (p.opens_on, p.closes_on) {
            (Some(a), Some(b)) => {
                format!("{} – {}", crate::format::date(a), crate::format::date(b))
            }
            (Some(a), None) => {
                format!("{} {}", lang.t("programmes.from"), crate::format::date(a))
            }
            (None, Some(b)) => {
                format!("{} {}", lang.t("programmes.until"), crate::format::date(b))
            }
            (None, None) => lang.t("programmes.always_open").to_string(),
        },
        places: places(p.quota, p.taken, lang),
        regions: if p.provinces.is_empty() {
            lang.t("programmes.nationwide").to_string()
        } else {
            p.provinces
                .iter()
                .filter_map(|c| nik::regions::province(c).map(|r| r.name))
                .collect::<Vec<_>>()
                .join(", ")
        },
    }
}

pub struct WaitingLine {
    pub participant_id: i64,
    pub programme: String,
    pub agency: String,
    pub status: &'static str,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "programmes_overview.html")]
struct OverviewPage {
    chrome: Chrome,
    programmes: Vec<ProgrammeLine>,
    waiting: Vec<WaitingLine>,
    agencies: usize,
}

async fn overview(SignedIn { state, lang, user }: SignedIn) -> Response {
    let result = async {
        let programmes = service::programmes(&state, &user.actor).await?;
        let waiting = service::overdue(&state, &user.actor).await?;
        Ok::<_, AppError>((programmes, waiting))
    }
    .await;
    let (programmes, waiting) = match result {
        Ok(v) => v,
        Err(e) => return error_page(lang, &e),
    };
    let mut agencies: Vec<i64> = programmes.iter().map(|p| p.agency_id).collect();
    agencies.sort_unstable();
    agencies.dedup();
    let lines = programmes.iter().map(|p| programme_line(p, lang)).collect();
    let waiting = waiting
        .into_iter()
        .map(|(r, waited, limit)| WaitingLine {
            participant_id: r.participant_id,
            programme: r.programme_name,
            agency: r.agency_name,
            status: r.status.label(lang),
            reason: match lang {
                Lang::Id if r.status == ReferralStatus::Sent => format!(
                    "Belum dijawab lembaga selama {waited} hari (batas {limit} hari): hubungi lembaga."
                ),
                Lang::Id => format!(
                    "Belum ada hasil selama {waited} hari (batas {limit} hari): tanyakan kabar kepada orangnya dan lembaga."
                ),
                Lang::En if r.status == ReferralStatus::Sent => format!(
                    "No answer from the agency for {waited} days (limit {limit}): contact the agency."
                ),
                Lang::En => format!(
                    "No outcome for {waited} days (limit {limit}): ask the person and the agency."
                ),
            },
        })
        .collect();
    render(
        StatusCode::OK,
        &OverviewPage {
            chrome: Chrome::for_user(lang, &user, "/programmes"),
            programmes: lines,
            waiting,
            agencies: agencies.len(),
        },
    )
}

async fn report(SignedIn { state, lang, user }: SignedIn) -> Response {
    let rows = match service::counts(&state, &user.actor).await {
        Ok(rows) => rows,
        Err(e) => return error_page(lang, &e),
    };
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        lang.t("programmes.csv.agency"),
        lang.t("programmes.csv.programme"),
        lang.t("programmes.csv.counter"),
        lang.t("programmes.csv.province"),
        lang.t("programmes.csv.status"),
        lang.t("programmes.csv.count"),
    ];
    let mut result = crate::sheet::write_csv_record(&mut writer, header);
    for r in &rows {
        if result.is_err() {
            break;
        }
        let province = r
            .province_code
            .as_deref()
            .and_then(nik::regions::province)
            .map(|p| p.name)
            .unwrap_or("—");
        result = crate::sheet::write_csv_record(
            &mut writer,
            [
                r.agency.as_str(),
                r.programme.as_str(),
                r.counter.as_deref().unwrap_or("—"),
                province,
                r.status.label(lang),
                &r.count.to_string(),
            ],
        );
    }
    let bytes = match result
        .map_err(|e| AppError::Internal(e.into()))
        .and_then(|()| {
            writer
                .into_inner()
                .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))
        }) {
        Ok(b) => b,
        Err(e) => return error_page(lang, &e),
    };
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"rujukan-program.csv\"",
            ),
        ],
        bytes,
    )
        .into_response()
}

pub struct AgencyLine {
    pub id: i64,
    pub programme: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub since: String,
}

#[derive(Template)]
#[template(path = "programmes_agency_list.html")]
struct AgencyListPage {
    chrome: Chrome,
    waiting: Vec<AgencyLine>,
    rest: Vec<AgencyLine>,
    /// The status filters: (code, label, chosen).
    filters: Vec<(&'static str, &'static str, bool)>,
    all_chosen: bool,
}

#[derive(Deserialize)]
struct StatusQuery {
    status: Option<String>,
}

async fn agency_list(
    SignedIn { state, lang, user }: SignedIn,
    axum::extract::Query(q): axum::extract::Query<StatusQuery>,
) -> Response {
    let referrals = match service::agency_referrals(&state, &user.actor).await {
        Ok(r) => r,
        Err(e) => return error_page(lang, &e),
    };
    // An unknown status shows every referral, as no filter does.
    let chosen = q.status.as_deref().and_then(ReferralStatus::parse);
    let filters = [
        ReferralStatus::Sent,
        ReferralStatus::Accepted,
        ReferralStatus::InProgress,
        ReferralStatus::Completed,
    ]
    .into_iter()
    .map(|s| (s.code(), s.label(lang), chosen == Some(s)))
    .collect();
    let (waiting, rest): (Vec<_>, Vec<_>) = referrals
        .into_iter()
        .filter(|r| chosen.is_none_or(|c| r.status == c))
        .map(|r| AgencyLine {
            id: r.id,
            programme: r.programme_name,
            status: r.status.label(lang),
            status_code: r.status.code(),
            since: crate::format::time(r.status_at),
        })
        .partition(|l| ReferralStatus::parse(l.status_code).is_some_and(ReferralStatus::open));
    render(
        StatusCode::OK,
        &AgencyListPage {
            chrome: Chrome::for_user(lang, &user, "/lembaga"),
            waiting,
            rest,
            filters,
            all_chosen: chosen.is_none(),
        },
    )
}

#[derive(Template)]
#[template(path = "programmes_agency_programmes.html")]
struct AgencyProgrammesPage {
    chrome: Chrome,
    programmes: Vec<ProgrammeLine>,
}

async fn agency_programmes(SignedIn { state, lang, user }: SignedIn) -> Response {
    let programmes = match service::agency_programmes(&state, &user.actor).await {
        Ok(p) => p,
        Err(e) => return error_page(lang, &e),
    };
    let programmes = programmes.iter().map(|p| programme_line(p, lang)).collect();
    render(
        StatusCode::OK,
        &AgencyProgrammesPage {
            chrome: Chrome::for_user(lang, &user, "/lembaga/programmes"),
            programmes,
        },
    )
}

#[derive(Template)]
#[template(path = "programmes_agency_referral.html")]
struct AgencyReferralPage {
    chrome: Chrome,
    referrals: Vec<ReferralView>,
    /// Agencies do not record consent (the counter did, before sending).
    consent_methods: Vec<(&'static str, &'static str)>,
    note: String,
    fields: Vec<(String, String)>,
}

async fn agency_page(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    id: i64,
    alert: Option<AppError>,
) -> Result<Response> {
    let (r, shared, events) = service::agency_referral(state, &user.actor, id).await?;
    let status = alert.as_ref().map_or(StatusCode::OK, AppError::status);
    let referral = ReferralView {
        alert: alert.map(|e| {
            let (i, en) = e.messages();
            lang.pick(&i, &en).to_string()
        }),
        id: r.id,
        version: r.version,
        programme: r.programme_name,
        agency: r.agency_name,
        status: r.status.label(lang),
        status_code: r.status.code(),
        answer: r.answer,
        history: history(&events, lang),
        steps: steps(r.status, Side::Agency, lang),
    };
    let fields = shared
        .into_iter()
        .map(|f| (lang.pick(&f.label, &f.label_en).to_string(), f.value))
        .collect();
    Ok(render(
        status,
        &AgencyReferralPage {
            chrome: Chrome::for_user(lang, user, &format!("/lembaga/referrals/{id}")),
            referrals: vec![referral],
            consent_methods: Vec::new(),
            note: r.note,
            fields,
        },
    ))
}

async fn agency_referral(SignedIn { state, lang, user }: SignedIn, PathId(id): PathId) -> Response {
    match agency_page(&state, lang, &user, id, None).await {
        Ok(r) => r,
        Err(e) => error_page(lang, &e),
    }
}
