//! The floor's pages: the officer's queue, the ticket slip, the kiosk, the counter's floor
//! setup (hours, zone, display link, seats), the seat plan, appointments and the figures.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::NaiveDate;
use serde::Deserialize;

use super::figures::{self, duration, percent, Figures, GroupFigures};
use super::service::{self, IssueInput, TicketAction};
use super::store::{self, TicketRow};
use super::{Purpose, TicketStatus};
use crate::access::{self, Action};
use crate::auth::{PageUser, SignedForm, SignedIn};
use crate::clock::Zone;
use crate::counters::FloorCounter;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::state::AppState;
use crate::web::{error_page, render, Chrome, PathId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/floor", get(queue_page))
        .route("/floor/{id}/tickets", post(issue))
        .route("/floor/{id}/call", post(call))
        .route("/floor/tickets/{id}/slip", get(slip))
        .route("/floor/tickets/{id}/{action}", post(act))
        .route("/floor/visits/{id}/arrive", post(arrive))
        .route("/floor/{id}/setup", get(setup_page).post(save_hours))
        .route("/floor/{id}/link", post(rotate))
        .route("/floor/{id}/seats", get(seat_plan).post(add_seat))
        .route("/floor/{id}/seats/book", post(book_seat))
        .route(
            "/floor/appointments",
            get(appointment_page).post(book_appointment),
        )
        .route("/floor/figures", get(figures_page))
        .route("/floor/figures.csv", get(figures_csv))
        .route("/kiosk/{token}", get(kiosk_page).post(kiosk_take))
}

/// A choice in a form: (code, label, selected).
pub struct Opt {
    pub code: String,
    pub label: String,
    pub selected: bool,
}

fn purposes(lang: Lang, selected: &str) -> Vec<Opt> {
    Purpose::ALL
        .iter()
        .map(|p| Opt {
            code: p.code().into(),
            label: format!("{} · {}", p.prefix(), p.label(lang)),
            selected: p.code() == selected,
        })
        .collect()
}

async fn priorities(state: &AppState, lang: Lang) -> Result<Vec<Opt>, AppError> {
    Ok(store::priorities(&state.db)
        .await?
        .into_iter()
        .map(|p| Opt {
            selected: p.code == "none",
            label: lang.pick(&p.label, &p.label_en).to_string(),
            code: p.code,
        })
        .collect())
}

fn purpose_label(code: &str, lang: Lang) -> &'static str {
    Purpose::from_code(code)
        .map(|p| p.label(lang))
        .unwrap_or("—")
}

fn status_label(code: &str, lang: Lang) -> &'static str {
    TicketStatus::from_code(code)
        .map(|s| s.label(lang))
        .unwrap_or("—")
}

// --- the officer's queue ----------------------------------------------------------------

pub struct TicketLine {
    pub id: i64,
    pub label: String,
    pub purpose: &'static str,
    pub priority: String,
    pub status: &'static str,
    pub status_code: String,
    pub issued: String,
    pub desk: String,
    pub mine: bool,
}

pub struct AppointmentLine {
    pub visit_id: i64,
    pub time: String,
    pub purpose: &'static str,
    pub participant_id: Option<i64>,
}

#[derive(Template)]
#[template(path = "floor_queue.html")]
struct QueuePage {
    chrome: Chrome,
    counter: Option<FloorCounter>,
    day: String,
    zone: &'static str,
    /// Counters to choose from (coordinators and head office).
    choices: Vec<(i64, String)>,
    waiting: Vec<TicketLine>,
    active: Vec<TicketLine>,
    finished: Vec<TicketLine>,
    appointments: Vec<AppointmentLine>,
    purposes: Vec<Opt>,
    priorities: Vec<Opt>,
    alert: Option<String>,
    notice: Option<String>,
    can_manage: bool,
}

#[derive(Deserialize, Default)]
struct QueueQuery {
    counter: Option<String>,
    called: Option<String>,
}

fn line(t: &TicketRow, counter: &FloorCounter, lang: Lang, me: i64, prios: &[Opt]) -> TicketLine {
    TicketLine {
        id: t.id,
        label: t.label.clone(),
        purpose: purpose_label(&t.purpose, lang),
        priority: prios
            .iter()
            .find(|p| p.code == t.priority && t.priority != "none")
            .map(|p| p.label.clone())
            .unwrap_or_default(),
        status: status_label(&t.status, lang),
        status_code: t.status.clone(),
        issued: service::clock_time(counter, Some(t.issued_at)),
        desk: t.desk.clone().unwrap_or_default(),
        mine: t.officer_id == Some(me),
    }
}

async fn queue_view(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    counter_param: Option<&str>,
    alert: Option<String>,
    notice: Option<String>,
) -> Result<QueuePage, AppError> {
    let actor = &user.actor;
    let counter_id = match counter_param.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => Some(c.parse::<i64>().map_err(|_| AppError::NotFound)?),
        None => actor.user.counter_id,
    };
    let mut page = QueuePage {
        chrome: Chrome::for_user(lang, user, "/floor"),
        counter: None,
        day: String::new(),
        zone: "",
        choices: Vec::new(),
        waiting: Vec::new(),
        active: Vec::new(),
        finished: Vec::new(),
        appointments: Vec::new(),
        purposes: purposes(lang, ""),
        priorities: priorities(state, lang).await?,
        alert,
        notice,
        can_manage: false,
    };
    let Some(counter_id) = counter_id else {
        page.choices = service::counters_in_reach(&state.db, actor, Action::ServeQueue)
            .await?
            .into_iter()
            .map(|c| (c.id, format!("{} · {}", c.code, c.name)))
            .collect();
        return Ok(page);
    };
    let counter =
        service::counter_in_reach(&state.db, actor, Action::ServeQueue, counter_id).await?;
    let day = counter.today();
    let tickets = store::day_tickets(&state.db, counter.id, day).await?;
    for t in &tickets {
        let l = line(t, &counter, lang, actor.user.id, &page.priorities);
        match t.status.as_str() {
            "waiting" => page.waiting.push(l),
            "called" | "serving" => page.active.push(l),
            _ => page.finished.push(l),
        }
    }
    page.finished.reverse();
    page.finished.truncate(15);
    page.appointments = store::appointments_due(&state.db, counter.id, day)
        .await?
        .into_iter()
        .map(|v| AppointmentLine {
            visit_id: v.id,
            time: service::clock_time(&counter, v.scheduled_at),
            purpose: purpose_label(&v.purpose, lang),
            participant_id: v.participant_id,
        })
        .collect();
    page.can_manage = access::allows(&actor.user, Action::ManageFloor)
        && access::manages_office(&actor.user, counter.office_id);
    page.day = crate::format::date(day);
    page.zone = counter.zone.label();
    page.chrome.path = format!("/floor?counter={}", counter.id);
    page.counter = Some(counter);
    Ok(page)
}

async fn queue_page(
    SignedIn { state, lang, user }: SignedIn,
    Query(q): Query<QueueQuery>,
) -> Response {
    let notice = q
        .called
        .filter(|c| c.len() <= 8)
        .map(|c| format!("{} {c}", lang.t("floor.called_now")));
    match queue_view(&state, lang, &user, q.counter.as_deref(), None, notice).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_page(lang, &e),
    }
}

/// The queue page again with the error said at the top of the forms (status of the error).
async fn queue_again(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    counter: i64,
    e: AppError,
) -> Response {
    let (id, en) = e.messages();
    let message = lang.pick(&id, &en).to_string();
    match queue_view(
        state,
        lang,
        user,
        Some(&counter.to_string()),
        Some(message),
        None,
    )
    .await
    {
        Ok(page) => render(e.status(), &page),
        Err(other) => error_page(lang, &other),
    }
}

#[derive(Deserialize)]
struct IssueForm {
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    priority: String,
}

async fn issue(
    State(state): State<AppState>,
    lang: Lang,
    Path(cid): Path<i64>,
    SignedForm(user, form): SignedForm<IssueForm>,
) -> Response {
    let result = async {
        let counter =
            service::counter_in_reach(&state.db, &user.actor, Action::ServeQueue, cid).await?;
        let input = IssueInput {
            purpose: form.purpose,
            priority: form.priority,
        };
        service::issue_ticket(&state, Some(&user.actor), &counter, &input).await
    }
    .await;
    match result {
        Ok(t) => Redirect::to(&format!("/floor/tickets/{}/slip", t.id)).into_response(),
        Err(AppError::Forbidden) => error_page(lang, &AppError::Forbidden),
        Err(AppError::NotFound) => error_page(lang, &AppError::NotFound),
        Err(e) => queue_again(&state, lang, &user, cid, e).await,
    }
}

#[derive(Deserialize)]
struct CallForm {
    #[serde(default)]
    desk: String,
}

async fn call(
    State(state): State<AppState>,
    lang: Lang,
    Path(cid): Path<i64>,
    SignedForm(user, form): SignedForm<CallForm>,
) -> Response {
    match service::call_next(&state, &user.actor, cid, Some(&form.desk)).await {
        Ok(t) => Redirect::to(&format!("/floor?counter={cid}&called={}", t.label)).into_response(),
        Err(e @ (AppError::Forbidden | AppError::NotFound)) => error_page(lang, &e),
        Err(e) => queue_again(&state, lang, &user, cid, e).await,
    }
}

#[derive(Deserialize)]
struct ActForm {
    #[serde(default)]
    purpose: Option<String>,
}

async fn act(
    State(state): State<AppState>,
    lang: Lang,
    Path((tid, action)): Path<(i64, String)>,
    SignedForm(user, form): SignedForm<ActForm>,
) -> Response {
    let Some(action) = TicketAction::parse(&action) else {
        return error_page(lang, &AppError::NotFound);
    };
    match service::ticket_action(&state, &user.actor, tid, action, form.purpose.as_deref()).await {
        Ok(t) => Redirect::to(&format!("/floor?counter={}", t.counter_id)).into_response(),
        Err(e @ (AppError::Forbidden | AppError::NotFound)) => error_page(lang, &e),
        Err(e) => match store::ticket(&state.db, tid).await {
            Ok(Some(t)) => queue_again(&state, lang, &user, t.counter_id, e).await,
            _ => error_page(lang, &e),
        },
    }
}

async fn arrive(
    State(state): State<AppState>,
    lang: Lang,
    PathId(vid): PathId,
    SignedForm(user, _): SignedForm<crate::auth::NoFields>,
) -> Response {
    match service::arrive(&state, &user.actor, vid).await {
        Ok(t) => Redirect::to(&format!("/floor/tickets/{}/slip", t.id)).into_response(),
        Err(e) => error_page(lang, &e),
    }
}

// --- the slip ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "floor_slip.html")]
struct SlipPage {
    chrome: Chrome,
    counter_name: String,
    label: String,
    purpose: &'static str,
    issued: String,
    ahead: i64,
    wait_minutes: i64,
    /// Where "another ticket" goes: the kiosk again, or the officer's queue.
    back: String,
}

async fn slip_page(
    state: &AppState,
    lang: Lang,
    chrome: Chrome,
    counter: &FloorCounter,
    ticket: &TicketRow,
    back: String,
) -> Result<SlipPage, AppError> {
    let day = store::day_tickets(&state.db, counter.id, ticket.day).await?;
    let ahead = day
        .iter()
        .take_while(|t| t.id != ticket.id)
        .filter(|t| t.status == "waiting")
        .count() as i64;
    Ok(SlipPage {
        chrome,
        counter_name: counter.name.clone(),
        label: ticket.label.clone(),
        purpose: purpose_label(&ticket.purpose, lang),
        issued: format!(
            "{} {} {}",
            crate::format::date(ticket.day),
            counter.zone.clock_time(ticket.issued_at),
            counter.zone.label()
        ),
        ahead,
        wait_minutes: service::estimated_wait_minutes(&day, ticket.id),
        back,
    })
}

async fn slip(SignedIn { state, lang, user }: SignedIn, Path(tid): Path<i64>) -> Response {
    let result = async {
        access::require(&state.db, &user.actor, Action::ServeQueue).await?;
        let ticket = store::ticket(&state.db, tid)
            .await?
            .ok_or(AppError::NotFound)?;
        let counter = service::counter_in_reach(
            &state.db,
            &user.actor,
            Action::ServeQueue,
            ticket.counter_id,
        )
        .await?;
        let chrome = Chrome::for_user(lang, &user, "/floor");
        let back = format!("/floor?counter={}", counter.id);
        slip_page(&state, lang, chrome, &counter, &ticket, back).await
    }
    .await;
    match result {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_page(lang, &e),
    }
}

// --- the kiosk --------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "floor_kiosk.html")]
struct KioskPage {
    chrome: Chrome,
    counter_name: String,
    token: String,
    purposes: Vec<Opt>,
    priorities: Vec<Opt>,
    alert: Option<String>,
}

async fn kiosk_view(
    state: &AppState,
    lang: Lang,
    token: &str,
    alert: Option<String>,
) -> Result<KioskPage, AppError> {
    let counter = service::counter_of_link(&state.db, token).await?;
    Ok(KioskPage {
        chrome: Chrome::anonymous(lang, &format!("/kiosk/{token}")),
        counter_name: counter.name,
        token: token.to_string(),
        purposes: purposes(lang, ""),
        priorities: priorities(state, lang).await?,
        alert,
    })
}

async fn kiosk_page(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
) -> Response {
    match kiosk_view(&state, lang, &token, None).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_page(lang, &e),
    }
}

/// The kiosk takes a ticket without anyone signing in: the link is the counter's secret, and
/// a ticket holds nothing personal.
async fn kiosk_take(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
    Form(form): Form<IssueForm>,
) -> Response {
    let result = async {
        let counter = service::counter_of_link(&state.db, &token).await?;
        let input = IssueInput {
            purpose: form.purpose,
            priority: form.priority,
        };
        let ticket = service::issue_ticket(&state, None, &counter, &input).await?;
        let chrome = Chrome::anonymous(lang, &format!("/kiosk/{token}"));
        slip_page(
            &state,
            lang,
            chrome,
            &counter,
            &ticket,
            format!("/kiosk/{token}"),
        )
        .await
    }
    .await;
    match result {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e @ AppError::NotFound) => error_page(lang, &e),
        Err(e) => {
            let (id, en) = e.messages();
            match kiosk_view(&state, lang, &token, Some(lang.pick(&id, &en).to_string())).await {
                Ok(page) => render(e.status(), &page),
                Err(other) => error_page(lang, &other),
            }
        }
    }
}

// --- setup: hours, zone, the display link, seats ---------------------------------------

#[derive(Template)]
#[template(path = "floor_setup.html")]
struct SetupPage {
    chrome: Chrome,
    counter: FloorCounter,
    zones: Vec<Opt>,
    opens: String,
    closes: String,
    link: String,
    seats: Vec<String>,
    alert: Option<String>,
    saved: bool,
}

async fn setup_view(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    cid: i64,
    alert: Option<String>,
    saved: bool,
) -> Result<SetupPage, AppError> {
    let counter =
        service::counter_in_reach(&state.db, &user.actor, Action::ManageFloor, cid).await?;
    let link = service::link(&state.db, &user.actor, cid).await?;
    let seats = store::seats(&state.db, cid)
        .await?
        .into_iter()
        .map(|s| s.name)
        .collect();
    Ok(SetupPage {
        chrome: Chrome::for_user(lang, user, &format!("/floor/{cid}/setup")),
        zones: Zone::ALL
            .iter()
            .map(|z| Opt {
                code: z.code().into(),
                label: z.label().into(),
                selected: *z == counter.zone,
            })
            .collect(),
        opens: counter.opens_at.format("%H:%M").to_string(),
        closes: counter.closes_at.format("%H:%M").to_string(),
        link,
        seats,
        counter,
        alert,
        saved,
    })
}

#[derive(Deserialize, Default)]
struct SavedQuery {
    saved: Option<String>,
}

async fn setup_page(
    SignedIn { state, lang, user }: SignedIn,
    PathId(cid): PathId,
    Query(q): Query<SavedQuery>,
) -> Response {
    match setup_view(&state, lang, &user, cid, None, q.saved.is_some()).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_page(lang, &e),
    }
}

async fn setup_again(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    cid: i64,
    e: AppError,
) -> Response {
    if matches!(e, AppError::Forbidden | AppError::NotFound) {
        return error_page(lang, &e);
    }
    let (id, en) = e.messages();
    match setup_view(
        state,
        lang,
        user,
        cid,
        Some(lang.pick(&id, &en).to_string()),
        false,
    )
    .await
    {
        Ok(page) => render(e.status(), &page),
        Err(other) => error_page(lang, &other),
    }
}

#[derive(Deserialize)]
struct HoursForm {
    #[serde(default)]
    zone: String,
    #[serde(default)]
    opens_at: String,
    #[serde(default)]
    closes_at: String,
}

async fn save_hours(
    State(state): State<AppState>,
    lang: Lang,
    PathId(cid): PathId,
    SignedForm(user, form): SignedForm<HoursForm>,
) -> Response {
    match service::set_hours(
        &state.db,
        &user.actor,
        cid,
        &form.zone,
        &form.opens_at,
        &form.closes_at,
    )
    .await
    {
        Ok(()) => Redirect::to(&format!("/floor/{cid}/setup?saved=1")).into_response(),
        Err(e) => setup_again(&state, lang, &user, cid, e).await,
    }
}

async fn rotate(
    State(state): State<AppState>,
    lang: Lang,
    PathId(cid): PathId,
    SignedForm(user, _): SignedForm<crate::auth::NoFields>,
) -> Response {
    match service::rotate_link(&state.db, &user.actor, cid).await {
        Ok(_) => Redirect::to(&format!("/floor/{cid}/setup?saved=1")).into_response(),
        Err(e) => setup_again(&state, lang, &user, cid, e).await,
    }
}

#[derive(Deserialize)]
struct SeatForm {
    #[serde(default)]
    name: String,
}

async fn add_seat(
    State(state): State<AppState>,
    lang: Lang,
    PathId(cid): PathId,
    SignedForm(user, form): SignedForm<SeatForm>,
) -> Response {
    match service::add_seat(&state.db, &user.actor, cid, &form.name).await {
        Ok(_) => Redirect::to(&format!("/floor/{cid}/setup?saved=1")).into_response(),
        Err(e) => setup_again(&state, lang, &user, cid, e).await,
    }
}

// --- the seat plan ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "floor_seats.html")]
struct SeatPlanPage {
    chrome: Chrome,
    counter: FloorCounter,
    day_iso: String,
    day: String,
    hours: Vec<i64>,
    /// (seat id, seat name, the person in each hour of `hours`, "" when free)
    rows: Vec<(i64, String, Vec<String>)>,
    participant: Option<i64>,
    person_name: String,
    alert: Option<String>,
    saved: bool,
}

#[derive(Deserialize, Default)]
struct SeatQuery {
    day: Option<String>,
    participant: Option<String>,
    saved: Option<String>,
}

fn parse_day(field: &str, text: Option<&str>, default: NaiveDate) -> Result<NaiveDate, AppError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(default),
        Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| {
            AppError::field(
                field,
                "date_invalid",
                "Tanggal ditulis TTTT-BB-HH.",
                "Write the date as YYYY-MM-DD.",
            )
        }),
    }
}

#[allow(clippy::too_many_arguments)]
async fn seat_view(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    cid: i64,
    day: Option<&str>,
    participant: Option<i64>,
    person_name: String,
    alert: Option<String>,
    saved: bool,
) -> Result<SeatPlanPage, AppError> {
    let counter =
        service::counter_in_reach(&state.db, &user.actor, Action::ServeQueue, cid).await?;
    let day = parse_day("day", day, counter.today())?;
    let hours = service::bookable_hours(&counter);
    let seats = store::seats(&state.db, cid).await?;
    let bookings = store::bookings_between(&state.db, cid, day, day).await?;
    let rows = seats
        .iter()
        .map(|s| {
            let cells = hours
                .iter()
                .map(|h| {
                    bookings
                        .iter()
                        .find(|b| b.seat_id == s.id && b.hour == *h)
                        .map(|b| b.person_name.clone())
                        .unwrap_or_default()
                })
                .collect();
            (s.id, s.name.clone(), cells)
        })
        .collect();
    Ok(SeatPlanPage {
        chrome: Chrome::for_user(lang, user, &format!("/floor/{cid}/seats")),
        day_iso: day.to_string(),
        day: crate::format::date(day),
        hours,
        rows,
        counter,
        participant,
        person_name,
        alert,
        saved,
    })
}

async fn seat_plan(
    SignedIn { state, lang, user }: SignedIn,
    PathId(cid): PathId,
    Query(q): Query<SeatQuery>,
) -> Response {
    let participant = q.participant.as_deref().and_then(|p| p.trim().parse().ok());
    match seat_view(
        &state,
        lang,
        &user,
        cid,
        q.day.as_deref(),
        participant,
        String::new(),
        None,
        q.saved.is_some(),
    )
    .await
    {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_page(lang, &e),
    }
}

#[derive(Deserialize)]
struct BookForm {
    #[serde(default)]
    seat: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    hour: String,
    #[serde(default)]
    person_name: String,
    #[serde(default)]
    participant: String,
}

async fn book_seat(
    State(state): State<AppState>,
    lang: Lang,
    PathId(cid): PathId,
    SignedForm(user, form): SignedForm<BookForm>,
) -> Response {
    let participant = form.participant.trim().parse::<i64>().ok();
    let result = async {
        let day = parse_day("day", Some(&form.day), NaiveDate::MIN)?;
        let seat_id = form.seat.trim().parse::<i64>().map_err(|_| {
            AppError::field(
                "seat",
                "choice_invalid",
                "Pilih kursi dari daftar.",
                "Choose a seat from the list.",
            )
        })?;
        let hour = form.hour.trim().parse::<i64>().map_err(|_| {
            AppError::field(
                "hour",
                "choice_invalid",
                "Pilih jam dari daftar.",
                "Choose an hour from the list.",
            )
        })?;
        let booking = service::BookingInput {
            seat_id,
            day,
            hour,
            participant_id: participant,
            person_name: &form.person_name,
        };
        service::book_seat(&state.db, &user.actor, &booking).await?;
        Ok::<_, AppError>(day)
    }
    .await;
    match result {
        Ok(day) => Redirect::to(&format!("/floor/{cid}/seats?day={day}&saved=1")).into_response(),
        Err(e @ (AppError::Forbidden | AppError::NotFound)) => error_page(lang, &e),
        Err(e) => {
            let (id, en) = e.messages();
            let alert = Some(lang.pick(&id, &en).to_string());
            match seat_view(
                &state,
                lang,
                &user,
                cid,
                Some(&form.day),
                participant,
                form.person_name.clone(),
                alert,
                false,
            )
            .await
            {
                Ok(page) => render(e.status(), &page),
                Err(other) => error_page(lang, &other),
            }
        }
    }
}

// --- appointments -----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "floor_appointment.html")]
struct AppointmentPage {
    chrome: Chrome,
    counter: FloorCounter,
    participant: i64,
    day: String,
    time: String,
    purposes: Vec<Opt>,
    alert: Option<String>,
}

#[derive(Deserialize, Default)]
struct AppointmentQuery {
    participant: Option<String>,
    counter: Option<String>,
}

#[derive(Deserialize)]
struct AppointmentForm {
    #[serde(default)]
    participant: String,
    #[serde(default)]
    counter: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    time: String,
    #[serde(default)]
    purpose: String,
}

async fn appointment_view(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    form: &AppointmentForm,
    alert: Option<String>,
) -> Result<AppointmentPage, AppError> {
    let number = |t: &str| t.trim().parse::<i64>().map_err(|_| AppError::NotFound);
    let participant = number(&form.participant)?;
    let cid = match form.counter.trim() {
        "" => user.actor.user.counter_id.ok_or(AppError::NotFound)?,
        c => number(c)?,
    };
    let counter =
        service::counter_in_reach(&state.db, &user.actor, Action::ServeQueue, cid).await?;
    crate::participants::require_in_scope(&state.db, &user.actor, Action::ServeQueue, participant)
        .await?;
    let day = if form.day.is_empty() {
        (counter.today() + chrono::Duration::days(7)).to_string()
    } else {
        form.day.clone()
    };
    let time = if form.time.is_empty() {
        counter.opens_at.format("%H:%M").to_string()
    } else {
        form.time.clone()
    };
    Ok(AppointmentPage {
        chrome: Chrome::for_user(lang, user, "/floor/appointments"),
        purposes: purposes(lang, &form.purpose),
        counter,
        participant,
        day,
        time,
        alert,
    })
}

async fn appointment_page(
    SignedIn { state, lang, user }: SignedIn,
    Query(q): Query<AppointmentQuery>,
) -> Response {
    let form = AppointmentForm {
        participant: q.participant.unwrap_or_default(),
        counter: q.counter.unwrap_or_default(),
        day: String::new(),
        time: String::new(),
        purpose: String::new(),
    };
    match appointment_view(&state, lang, &user, &form, None).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_page(lang, &e),
    }
}

async fn book_appointment(
    State(state): State<AppState>,
    lang: Lang,
    SignedForm(user, form): SignedForm<AppointmentForm>,
) -> Response {
    let result = async {
        let number = |t: &str| t.trim().parse::<i64>().map_err(|_| AppError::NotFound);
        let input = service::AppointmentInput {
            participant_id: number(&form.participant)?,
            counter_id: number(&form.counter)?,
            day: parse_day("day", Some(&form.day), NaiveDate::MIN)?,
            time: &form.time,
            purpose: &form.purpose,
        };
        service::book_appointment(&state.db, &user.actor, &input).await?;
        Ok::<_, AppError>(input.counter_id)
    }
    .await;
    match result {
        Ok(cid) => Redirect::to(&format!("/floor?counter={cid}")).into_response(),
        Err(e @ (AppError::Forbidden | AppError::NotFound)) => error_page(lang, &e),
        Err(e) => {
            let (id, en) = e.messages();
            let alert = Some(lang.pick(&id, &en).to_string());
            match appointment_view(&state, lang, &user, &form, alert).await {
                Ok(page) => render(e.status(), &page),
                Err(other) => error_page(lang, &other),
            }
        }
    }
}

// --- figures ----------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct FiguresQuery {
    from: Option<String>,
    to: Option<String>,
}

/// One row of a figures table: (name, tickets, wait median, wait p90, service median, service
/// p90, no-show rate).
pub struct FigureRow {
    pub name: String,
    pub tickets: i64,
    pub wait_median: String,
    pub wait_p90: String,
    pub service_median: String,
    pub service_p90: String,
    pub no_show: String,
}

fn figure_row(name: String, g: &GroupFigures) -> FigureRow {
    FigureRow {
        name,
        tickets: g.tickets,
        wait_median: duration(g.wait_median_s),
        wait_p90: duration(g.wait_p90_s),
        service_median: duration(g.service_median_s),
        service_p90: duration(g.service_p90_s),
        no_show: percent(g.no_show_per_mille()),
    }
}

#[derive(Template)]
#[template(path = "floor_figures.html")]
struct FiguresPage {
    chrome: Chrome,
    from_iso: String,
    to_iso: String,
    period: String,
    /// (title, rows): all, by counter, by purpose, by hour.
    tables: Vec<(&'static str, Vec<FigureRow>)>,
    /// (counter, seats, hours open, hours booked, use)
    seats: Vec<(String, i64, i64, i64, String)>,
}

/// The figures of the counters `actor` reaches over `from..=to` (default: the last 30 days),
/// with each counter's name.
pub async fn figures_for(
    state: &AppState,
    actor: &crate::identity::Actor,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(Figures, Vec<FloorCounter>, NaiveDate, NaiveDate), AppError> {
    let counters = service::counters_in_reach(&state.db, actor, Action::ViewFloorFigures).await?;
    let today = crate::clock::today();
    let to = parse_day("to", to, today)?;
    let from = parse_day("from", from, to - chrono::Duration::days(29))?;
    if from > to {
        return Err(AppError::field(
            "from",
            "date_order",
            "Tanggal awal harus sebelum tanggal akhir.",
            "The start date must be before the end date.",
        ));
    }
    if (to - from).num_days() > 366 {
        return Err(AppError::field(
            "from",
            "range_too_long",
            "Pilih paling lama satu tahun.",
            "Choose at most one year.",
        ));
    }
    let ids: Vec<i64> = counters.iter().map(|c| c.id).collect();
    let tickets = store::tickets_between(&state.db, Some(&ids), from, to).await?;
    let zone_of = |id: i64| {
        counters
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.zone)
            .unwrap_or(Zone::Wib)
    };
    let mut f = figures::compute(&tickets, zone_of);
    let days = (to - from).num_days() + 1;
    for c in &counters {
        let seats = store::seats(&state.db, c.id).await?.len() as i64;
        if seats == 0 {
            continue;
        }
        let booked = store::bookings_between(&state.db, c.id, from, to)
            .await?
            .len() as i64;
        f.seat_use.push(figures::SeatUse {
            counter_id: c.id,
            seats,
            hours_open: seats * service::bookable_hours(c).len() as i64 * days,
            hours_booked: booked,
        });
    }
    Ok((f, counters, from, to))
}

async fn figures_page(
    SignedIn { state, lang, user }: SignedIn,
    Query(q): Query<FiguresQuery>,
) -> Response {
    let result = figures_for(&state, &user.actor, q.from.as_deref(), q.to.as_deref()).await;
    let (f, counters, from, to) = match result {
        Ok(r) => r,
        Err(e) => return error_page(lang, &e),
    };
    let name = |id: i64| {
        counters
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
            .unwrap_or_default()
    };
    let page = FiguresPage {
        chrome: Chrome::for_user(lang, &user, "/floor/figures"),
        from_iso: from.to_string(),
        to_iso: to.to_string(),
        period: format!(
            "{} – {}",
            crate::format::date(from),
            crate::format::date(to)
        ),
        tables: vec![
            (
                lang.t("floor.all"),
                vec![figure_row(lang.t("floor.all").to_string(), &f.total)],
            ),
            (
                lang.t("floor.by_counter"),
                f.by_counter
                    .iter()
                    .map(|(id, g)| figure_row(name(*id), g))
                    .collect(),
            ),
            (
                lang.t("floor.by_purpose"),
                f.by_purpose
                    .iter()
                    .map(|(p, g)| figure_row(purpose_label(p, lang).to_string(), g))
                    .collect(),
            ),
            (
                lang.t("floor.by_hour"),
                f.by_hour
                    .iter()
                    .map(|(h, g)| figure_row(format!("{h:02}.00"), g))
                    .collect(),
            ),
        ],
        seats: f
            .seat_use
            .iter()
            .map(|s| {
                (
                    name(s.counter_id),
                    s.seats,
                    s.hours_open,
                    s.hours_booked,
                    percent(s.per_mille()),
                )
            })
            .collect(),
    };
    render(StatusCode::OK, &page)
}

/// The figures as CSV: one row per group (all, counter, purpose, hour), times in seconds.
async fn figures_csv(
    SignedIn { state, lang, user }: SignedIn,
    Query(q): Query<FiguresQuery>,
) -> Response {
    let result = async {
        let (f, counters, from, to) =
            figures_for(&state, &user.actor, q.from.as_deref(), q.to.as_deref()).await?;
        let mut out = csv::Writer::from_writer(Vec::new());
        let csv_err = |e: csv::Error| AppError::Internal(e.into());
        crate::sheet::write_csv_record(
            &mut out,
            [
                "group",
                "key",
                "tickets",
                "called",
                "wait_median_s",
                "wait_p90_s",
                "served",
                "service_median_s",
                "service_p90_s",
                "no_shows",
            ],
        )
        .map_err(csv_err)?;
        let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        let mut rows: Vec<(&str, String, &GroupFigures)> = vec![("all", String::new(), &f.total)];
        for (id, g) in &f.by_counter {
            let code = counters
                .iter()
                .find(|c| c.id == *id)
                .map(|c| c.code.clone())
                .unwrap_or_default();
            rows.push(("counter", code, g));
        }
        rows.extend(f.by_purpose.iter().map(|(p, g)| ("purpose", p.clone(), g)));
        rows.extend(f.by_hour.iter().map(|(h, g)| ("hour", h.to_string(), g)));
        for (group, key, g) in rows {
            let cells = [
                group.to_string(),
                key,
                g.tickets.to_string(),
                g.called.to_string(),
                opt(g.wait_median_s),
                opt(g.wait_p90_s),
                g.served.to_string(),
                opt(g.service_median_s),
                opt(g.service_p90_s),
                g.no_shows.to_string(),
            ];
            crate::sheet::write_csv_record(&mut out, &cells).map_err(csv_err)?;
        }
        let bytes = out
            .into_inner()
            .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
        Ok::<_, AppError>((
            bytes,
            format!("attachment; filename=\"floor-{from}-{to}.csv\""),
        ))
    }
    .await;
    match result {
        Ok((bytes, disposition)) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => error_page(lang, &e),
    }
}
