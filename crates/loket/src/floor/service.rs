//! The floor's rules: who may act on which counter's queue (checked here, once), what each
//! ticket action may follow, the audit trail of every change, and the display's live feed.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use super::store::{self, NewTicket, TicketRow, VisitOf};
use super::{Purpose, TicketStatus, VisitKind};
use crate::access::{self, Action};
use crate::audit::{self, Batch, Entry, Outcome};
use crate::clock::Zone;
use crate::counters::FloorCounter;
use crate::db::Db;
use crate::error::{AppError, Result};
use crate::identity::Actor;
use crate::state::AppState;

/// The counter `counter_id`, if `actor` may do `action` there: officers their own counter,
/// coordinators their office's, head office (and auditors, for figures) every counter. A
/// refusal is audited.
pub async fn counter_in_reach(
    db: &Db,
    actor: &Actor,
    action: Action,
    counter_id: i64,
) -> Result<FloorCounter> {
    access::require_on(db, actor, action, Some(counter_id)).await?;
    let counter = crate::counters::floor_counter(db, counter_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let reaches = match action {
        Action::ManageFloor => access::manages_office(&actor.user, counter.office_id),
        _ => access::reaches_counter(&actor.user, counter.id, counter.office_id),
    };
    if !reaches {
        let entry = Entry::new(action.audit_name(), "counter", counter_id).outcome(Outcome::Denied);
        audit::record(db, Some(actor), None, entry).await?;
        return Err(AppError::Forbidden);
    }
    Ok(counter)
}

/// The counters whose floor `actor` may see for `action`, by code.
pub async fn counters_in_reach(
    db: &Db,
    actor: &Actor,
    action: Action,
) -> Result<Vec<FloorCounter>> {
    access::require(db, actor, action).await?;
    Ok(crate::counters::floor_counters(db)
        .await?
        .into_iter()
        .filter(|c| access::reaches_counter(&actor.user, c.id, c.office_id))
        .collect())
}

#[derive(Clone, Debug)]
pub struct IssueInput {
    pub purpose: String,
    pub priority: String,
}

pub fn parse_purpose(text: &str) -> Result<Purpose> {
    Purpose::from_code(text.trim()).ok_or_else(|| {
        AppError::field(
            "purpose",
            "choice_invalid",
            "Pilih keperluan dari daftar.",
            "Choose the purpose from the list.",
        )
    })
}

fn entry(action: &'static str, t: &TicketRow) -> Entry {
    Entry::new(action, "ticket", t.id).fields(vec![
        format!("label={}", t.label),
        format!("counter={}", t.counter_id),
    ])
}

/// Issues a ticket at `counter` for a walk-in: by an officer (`actor`), or at the kiosk (no
/// one signed in: the kiosk link was checked by the caller).
pub async fn issue_ticket(
    state: &AppState,
    actor: Option<&Actor>,
    counter: &FloorCounter,
    input: &IssueInput,
) -> Result<TicketRow> {
    let purpose = parse_purpose(&input.purpose)?;
    let priority = if input.priority.trim().is_empty() {
        "none".to_string()
    } else {
        input.priority.trim().to_string()
    };
    let db = &state.db;
    let ticket = NewTicket {
        counter_id: counter.id,
        day: counter.today(),
        purpose: purpose.code(),
        prefix: purpose.prefix(),
        priority,
        visit: VisitOf::New {
            kind: VisitKind::WalkIn.code(),
            participant_id: None,
            created_by: actor.map(|a| a.user.id),
        },
        now: Utc::now(),
    };
    let who = actor.is_none().then_some("kiosk");
    let row = store::issue(db, &ticket, |t| {
        Batch::of(db, actor, who, entry("floor.ticket_issue", t))
    })
    .await?;
    super::display::notify(state, counter.id);
    Ok(row)
}

/// Calls the next waiting ticket of `counter_id` for the officer; `queue_empty` (409) when
/// nobody waits.
pub async fn call_next(
    state: &AppState,
    actor: &Actor,
    counter_id: i64,
    desk: Option<&str>,
) -> Result<TicketRow> {
    let db = &state.db;
    let counter = counter_in_reach(db, actor, Action::ServeQueue, counter_id).await?;
    let desk = desk.map(str::trim).filter(|d| !d.is_empty());
    if let Some(d) = desk {
        crate::text::within("desk", d, 20).map_err(|e| AppError::Validation(vec![e]))?;
    }
    let called = store::call_next(
        db,
        counter.id,
        counter.today(),
        actor.user.id,
        desk,
        Utc::now(),
        |t| Batch::of(db, Some(actor), None, entry("floor.ticket_call", t)),
    )
    .await?;
    let Some(ticket) = called else {
        return Err(AppError::Refused {
            code: "queue_empty",
            message: "Tidak ada yang menunggu di antrean.".into(),
            message_en: "Nobody is waiting in the queue.".into(),
        });
    };
    super::display::notify(state, counter.id);
    Ok(ticket)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TicketAction {
    Recall,
    Start,
    Done,
    NoShow,
    Transfer,
}

impl TicketAction {
    pub fn parse(text: &str) -> Option<TicketAction> {
        Some(match text {
            "recall" => TicketAction::Recall,
            "start" => TicketAction::Start,
            "done" => TicketAction::Done,
            "no-show" | "no_show" => TicketAction::NoShow,
            "transfer" => TicketAction::Transfer,
            _ => return None,
        })
    }

    /// (states it may follow, the change, audit action)
    fn rule(self) -> (&'static [&'static str], &'static str, &'static str) {
        match self {
            TicketAction::Recall => (
                &["called"],
                "recalls = recalls + 1, announced_at = $1",
                "floor.ticket_recall",
            ),
            TicketAction::Start => (
                &["called"],
                "status = 'serving', started_at = $1",
                "floor.ticket_start",
            ),
            TicketAction::Done => (
                &["called", "serving"],
                "status = 'done', started_at = COALESCE(started_at, called_at), finished_at = $1",
                "floor.ticket_done",
            ),
            TicketAction::NoShow => (
                &["called"],
                "status = 'no_show', finished_at = $1",
                "floor.ticket_no_show",
            ),
            TicketAction::Transfer => (
                &["called", "serving"],
                "status = 'transferred', started_at = COALESCE(started_at, called_at), finished_at = $1",
                "floor.ticket_transfer",
            ),
        }
    }
}

/// Recall, start, done, no-show, or transfer (to `transfer_to`, a new ticket of the same visit
/// in that purpose's line, keeping its priority). Another counter's ticket is refused (403);
/// an action its state does not allow is `ticket_state` (409).
pub async fn ticket_action(
    state: &AppState,
    actor: &Actor,
    ticket_id: i64,
    action: TicketAction,
    transfer_to: Option<&str>,
) -> Result<TicketRow> {
    let db = &state.db;
    access::require_on(db, actor, Action::ServeQueue, Some(ticket_id)).await?;
    let ticket = store::ticket(db, ticket_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let counter = counter_in_reach(db, actor, Action::ServeQueue, ticket.counter_id).await?;
    let next_purpose = match action {
        TicketAction::Transfer => Some(parse_purpose(transfer_to.unwrap_or_default())?),
        _ => None,
    };
    let (from, set, audit_action) = action.rule();
    let now = Utc::now();
    let moved = store::move_ticket(db, ticket.id, from, set, now, actor.user.id, |t| {
        Batch::of(db, Some(actor), None, entry(audit_action, t))
    })
    .await?;
    let Some(moved) = moved else {
        let status = TicketStatus::from_code(&ticket.status).unwrap_or(TicketStatus::Waiting);
        return Err(AppError::Refused {
            code: "ticket_state",
            message: format!(
                "Tiket {} berstatus «{}»: tindakan ini tidak dapat dilakukan.",
                ticket.label,
                status.labels().0
            ),
            message_en: format!(
                "Ticket {} is «{}»: this action is not possible.",
                ticket.label,
                status.labels().1
            ),
        });
    };
    if let Some(purpose) = next_purpose {
        let next = NewTicket {
            counter_id: counter.id,
            day: moved.day,
            purpose: purpose.code(),
            prefix: purpose.prefix(),
            priority: moved.priority.clone(),
            visit: VisitOf::Existing(moved.visit_id),
            now,
        };
        let new = store::issue(db, &next, |t| {
            Batch::of(db, Some(actor), None, entry("floor.ticket_issue", t))
        })
        .await?;
        store::mark_transferred(db, moved.id, new.id).await?;
    }
    if moved.status == "done" {
        link_sessions(state, &moved).await?;
    }
    super::display::notify(state, counter.id);
    Ok(moved)
}

/// The assistance sessions an officer recorded for the visit's person at this counter while
/// the visit lasted belong to the visit.
async fn link_sessions(state: &AppState, ticket: &TicketRow) -> Result<()> {
    let Some(visit) = store::visit(&state.db, ticket.visit_id).await? else {
        return Ok(());
    };
    let (Some(person), Some(from)) = (visit.participant_id, ticket.called_at) else {
        return Ok(());
    };
    let until = ticket.finished_at.unwrap_or_else(Utc::now);
    crate::journey::link_sessions_to_visit(
        &state.db,
        person,
        visit.counter_id,
        from - chrono::Duration::minutes(30),
        until,
        visit.id,
    )
    .await
}

/// A person's estimated wait in minutes: the tickets ahead of theirs, times the day's median
/// service time (5 minutes before anyone was served), shared by the officers serving today.
pub fn estimated_wait_minutes(day_tickets: &[TicketRow], ticket_id: i64) -> i64 {
    let ahead = day_tickets
        .iter()
        .take_while(|t| t.id != ticket_id)
        .filter(|t| t.status == "waiting")
        .count() as i64;
    let mut service: Vec<i64> = day_tickets
        .iter()
        .filter_map(|t| Some((t.finished_at? - t.started_at?).num_seconds()))
        .collect();
    let median = super::figures::percentile(&mut service, 50).unwrap_or(300);
    let mut officers: Vec<i64> = day_tickets.iter().filter_map(|t| t.officer_id).collect();
    officers.sort_unstable();
    officers.dedup();
    let officers = officers.len().max(1) as i64;
    (ahead * median / officers + 59) / 60
}

// --- the kiosk and display link ---------------------------------------------------------

/// The counter of a kiosk/display link; an unknown or rotated link is "not found".
pub async fn counter_of_link(db: &Db, token: &str) -> Result<FloorCounter> {
    let valid = token.len() == 48 && token.bytes().all(|b| b.is_ascii_hexdigit());
    if !valid {
        return Err(AppError::NotFound);
    }
    let id = store::counter_of_link(db, token)
        .await?
        .ok_or(AppError::NotFound)?;
    crate::counters::floor_counter(db, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The counter's link for its kiosk and display, made on first use.
pub async fn link(db: &Db, actor: &Actor, counter_id: i64) -> Result<String> {
    counter_in_reach(db, actor, Action::ServeQueue, counter_id).await?;
    if let Some(token) = store::link_of(db, counter_id).await? {
        return Ok(token);
    }
    new_link(db, Some(actor), counter_id).await
}

/// A new link (the old one stops working): head office or the office's coordinator.
pub async fn rotate_link(db: &Db, actor: &Actor, counter_id: i64) -> Result<String> {
    counter_in_reach(db, actor, Action::ManageFloor, counter_id).await?;
    new_link(db, Some(actor), counter_id).await
}

pub(crate) async fn new_link(db: &Db, actor: Option<&Actor>, counter_id: i64) -> Result<String> {
    use rand::RngCore;
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let who = actor.is_none().then_some("demo");
    let batch = Batch::of(
        db,
        actor,
        who,
        Entry::new("floor.link_rotate", "counter", counter_id),
    )?;
    store::set_link(db, counter_id, &token, Utc::now(), batch).await?;
    Ok(token)
}

// --- hours and zone ---------------------------------------------------------------------

pub fn parse_time(field: &str, text: &str) -> Result<NaiveTime> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M").map_err(|_| {
        AppError::field(
            field,
            "time_invalid",
            "Tulis jam sebagai JJ:MM, misalnya 08:00.",
            "Write the time as HH:MM, e.g. 08:00.",
        )
    })
}

pub async fn set_hours(
    db: &Db,
    actor: &Actor,
    counter_id: i64,
    zone: &str,
    opens: &str,
    closes: &str,
) -> Result<()> {
    counter_in_reach(db, actor, Action::ManageFloor, counter_id).await?;
    let zone = Zone::from_code(zone).ok_or_else(|| {
        AppError::field(
            "zone",
            "choice_invalid",
            "Pilih zona waktu: WIB, WITA atau WIT.",
            "Choose the time zone: WIB, WITA or WIT.",
        )
    })?;
    let opens_at = parse_time("opens_at", opens)?;
    let closes_at = parse_time("closes_at", closes)?;
    if closes_at <= opens_at {
        return Err(AppError::field(
            "closes_at",
            "hours_invalid",
            "Jam tutup harus setelah jam buka.",
            "Closing time must be after opening time.",
        ));
    }
    let batch = Batch::of(
        db,
        Some(actor),
        None,
        Entry::new("counter.hours", "counter", counter_id).fields(vec![
            format!("zone={}", zone.code()),
            format!(
                "hours={}-{}",
                opens_at.format("%H:%M"),
                closes_at.format("%H:%M")
            ),
        ]),
    )?;
    crate::counters::set_floor_hours(db, counter_id, zone, opens_at, closes_at, batch).await
}

// --- seats ------------------------------------------------------------------------------

pub async fn add_seat(db: &Db, actor: &Actor, counter_id: i64, name: &str) -> Result<i64> {
    counter_in_reach(db, actor, Action::ManageFloor, counter_id).await?;
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::Validation(vec![
            crate::error::FieldError::required("name"),
        ]));
    }
    crate::text::within("name", name, 60).map_err(|e| AppError::Validation(vec![e]))?;
    store::add_seat(db, counter_id, name, Utc::now(), |id| {
        Batch::of(
            db,
            Some(actor),
            None,
            Entry::new("floor.seat_add", "seat", id),
        )
    })
    .await
}

/// The hours a counter's seats can be booked: each whole hour from opening to closing.
pub fn bookable_hours(counter: &FloorCounter) -> Vec<i64> {
    use chrono::Timelike;
    let open = i64::from(counter.opens_at.hour());
    let close = i64::from(counter.closes_at.hour()) + i64::from(counter.closes_at.minute() > 0);
    (open..close.max(open + 1)).collect()
}

pub struct BookingInput<'a> {
    pub seat_id: i64,
    pub day: NaiveDate,
    pub hour: i64,
    pub participant_id: Option<i64>,
    pub person_name: &'a str,
}

/// Books a person into a seat for an hour of a day; a taken seat is `seat_taken` (409).
pub async fn book_seat(db: &Db, actor: &Actor, b: &BookingInput<'_>) -> Result<i64> {
    access::require(db, actor, Action::ServeQueue).await?;
    let seat = store::seat(db, b.seat_id).await?.ok_or_else(|| {
        AppError::field(
            "seat",
            "choice_invalid",
            "Pilih kursi dari daftar.",
            "Choose a seat from the list.",
        )
    })?;
    let counter = counter_in_reach(db, actor, Action::ServeQueue, seat.counter_id).await?;
    if !bookable_hours(&counter).contains(&b.hour) {
        return Err(AppError::field(
            "hour",
            "hour_closed",
            "Loket tutup pada jam itu.",
            "The counter is closed at that hour.",
        ));
    }
    if b.day < counter.today() {
        return Err(AppError::field(
            "day",
            "day_past",
            "Tanggal itu sudah lewat.",
            "That day has passed.",
        ));
    }
    let name = b.person_name.trim();
    if name.is_empty() {
        return Err(AppError::Validation(vec![
            crate::error::FieldError::required("person_name"),
        ]));
    }
    crate::text::within("person_name", name, 120).map_err(|e| AppError::Validation(vec![e]))?;
    if let Some(person) = b.participant_id {
        crate::participants::require_in_scope(db, actor, Action::ServeQueue, person).await?;
    }
    let booking = store::NewBooking {
        seat_id: seat.id,
        day: b.day,
        hour: b.hour,
        participant_id: b.participant_id,
        person_name: name,
        booked_by: actor.user.id,
        now: Utc::now(),
    };
    store::book_seat(db, &booking, |id| {
        Batch::of(
            db,
            Some(actor),
            None,
            Entry::new("floor.seat_book", "seat", seat.id).fields(vec![
                format!("booking={id}"),
                format!("day={}", b.day),
                format!("hour={}", b.hour),
            ]),
        )
    })
    .await
}

// --- appointments -----------------------------------------------------------------------

pub struct AppointmentInput<'a> {
    pub participant_id: i64,
    pub counter_id: i64,
    pub day: NaiveDate,
    pub time: &'a str,
    pub purpose: &'a str,
}

/// Books a person's next visit (from the follow-up list); it shows in that day's queue.
pub async fn book_appointment(db: &Db, actor: &Actor, a: &AppointmentInput<'_>) -> Result<i64> {
    let counter = counter_in_reach(db, actor, Action::ServeQueue, a.counter_id).await?;
    crate::participants::require_in_scope(db, actor, Action::ServeQueue, a.participant_id).await?;
    let purpose = parse_purpose(a.purpose)?;
    let time = parse_time("time", a.time)?;
    if a.day < counter.today() {
        return Err(AppError::field(
            "day",
            "day_past",
            "Tanggal itu sudah lewat.",
            "That day has passed.",
        ));
    }
    if time < counter.opens_at || time >= counter.closes_at {
        return Err(AppError::field(
            "time",
            "hour_closed",
            "Loket tutup pada jam itu.",
            "The counter is closed at that hour.",
        ));
    }
    let appointment = store::NewAppointment {
        counter_id: counter.id,
        participant_id: a.participant_id,
        purpose: purpose.code(),
        day: a.day,
        scheduled_at: counter.zone.instant(a.day, time),
        created_by: actor.user.id,
        now: Utc::now(),
    };
    store::book_appointment(db, &appointment, |id| {
        Batch::of(
            db,
            Some(actor),
            None,
            Entry::new("floor.appointment", "participant", a.participant_id)
                .fields(vec![format!("visit={id}"), format!("day={}", a.day)]),
        )
    })
    .await
}

/// The person of a booked visit has arrived: their ticket joins the queue with the
/// appointment's priority.
pub async fn arrive(state: &AppState, actor: &Actor, visit_id: i64) -> Result<TicketRow> {
    let db = &state.db;
    access::require_on(db, actor, Action::ServeQueue, Some(visit_id)).await?;
    let visit = store::visit(db, visit_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let counter = counter_in_reach(db, actor, Action::ServeQueue, visit.counter_id).await?;
    let purpose = parse_purpose(&visit.purpose)?;
    let due = store::appointments_due(db, counter.id, counter.today()).await?;
    if !due.iter().any(|v| v.id == visit.id) {
        return Err(AppError::Refused {
            code: "ticket_state",
            message: "Janji temu ini bukan untuk hari ini atau sudah mendapat nomor antrean."
                .into(),
            message_en: "This appointment is not for today or already has a ticket.".into(),
        });
    }
    let ticket = NewTicket {
        counter_id: counter.id,
        day: counter.today(),
        purpose: purpose.code(),
        prefix: purpose.prefix(),
        priority: "appointment".into(),
        visit: VisitOf::Existing(visit.id),
        now: Utc::now(),
    };
    let row = store::issue(db, &ticket, |t| {
        Batch::of(db, Some(actor), None, entry("floor.ticket_issue", t))
    })
    .await?;
    super::display::notify(state, counter.id);
    Ok(row)
}

/// The instant shown for a ticket (its counter's clock, HH:MM).
pub fn clock_time(counter: &FloorCounter, at: Option<DateTime<Utc>>) -> String {
    at.map(|t| counter.zone.clock_time(t)).unwrap_or_default()
}
