//! SQL of the counter floor: visits, tickets and their daily numbers, the display link, seats
//! and bookings. One SQL text per query, on both engines.

use chrono::{DateTime, NaiveDate, Utc};

use crate::audit::Batch;
use crate::db::{is_unique_violation, Db};
use crate::error::{AppError, Result};
use crate::with_db;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TicketRow {
    pub id: i64,
    pub counter_id: i64,
    pub visit_id: i64,
    pub day: NaiveDate,
    pub purpose: String,
    pub label: String,
    pub priority: String,
    pub rank_order: i64,
    pub status: String,
    pub issued_at: DateTime<Utc>,
    pub called_at: Option<DateTime<Utc>>,
    pub announced_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub officer_id: Option<i64>,
    pub desk: Option<String>,
    pub recalls: i64,
    pub transferred_to: Option<i64>,
}

const TICKET_COLUMNS: &str = "id, counter_id, visit_id, day, purpose, label, priority, rank_order, status, \
     issued_at, called_at, announced_at, started_at, finished_at, officer_id, desk, recalls, transferred_to";

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PriorityRow {
    pub code: String,
    pub rank_order: i64,
    pub label: String,
    pub label_en: String,
}

pub async fn priorities(db: &Db) -> Result<Vec<PriorityRow>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT code, rank_order, label, label_en FROM floor_priorities ORDER BY rank_order, code",
        )
        .fetch_all(pool)
        .await?
    }))
}

/// The visit a new ticket belongs to: one made with it, or a booked one the person came for.
#[derive(Clone, Debug)]
pub enum VisitOf {
    New {
        kind: &'static str,
        participant_id: Option<i64>,
        created_by: Option<i64>,
    },
    Existing(i64),
}

#[derive(Clone, Debug)]
pub struct NewTicket {
    pub counter_id: i64,
    pub day: NaiveDate,
    pub purpose: &'static str,
    pub prefix: &'static str,
    pub priority: String,
    pub visit: VisitOf,
    pub now: DateTime<Utc>,
}

/// Issues a ticket: the day's next number of its letter, taken atomically (`ON CONFLICT …
/// DO UPDATE … RETURNING`), so two kiosks never print the same number.
pub async fn issue(
    db: &Db,
    t: &NewTicket,
    audit: impl FnOnce(&TicketRow) -> Result<Batch>,
) -> Result<TicketRow> {
    let insert = format!(
        "INSERT INTO floor_tickets (counter_id, visit_id, day, purpose, label, priority, rank_order, status, issued_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'waiting', $8) RETURNING {TICKET_COLUMNS}"
    );
    Ok(with_db!(db, |pool| {
        let mut tx = pool.begin_with(db.begin_for_write()).await?;
        let rank: Option<i64> =
            sqlx::query_scalar("SELECT rank_order FROM floor_priorities WHERE code = $1")
                .bind(&t.priority)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(rank) = rank else {
            return Err(priority_unknown());
        };
        let visit_id: i64 = match &t.visit {
            VisitOf::Existing(id) => *id,
            VisitOf::New {
                kind,
                participant_id,
                created_by,
            } => {
                sqlx::query_scalar(
                    "INSERT INTO floor_visits (counter_id, participant_id, kind, purpose, day, created_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(t.counter_id)
                .bind(*participant_id)
                .bind(*kind)
                .bind(t.purpose)
                .bind(t.day)
                .bind(*created_by)
                .bind(t.now)
                .fetch_one(&mut *tx)
                .await?
            }
        };
        let number: i64 = sqlx::query_scalar(
            "INSERT INTO floor_ticket_numbers (counter_id, day, prefix, last_number) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (counter_id, day, prefix) DO UPDATE SET last_number = floor_ticket_numbers.last_number + 1 \
             RETURNING last_number",
        )
        .bind(t.counter_id)
        .bind(t.day)
        .bind(t.prefix)
        .fetch_one(&mut *tx)
        .await?;
        let label = format!("{}-{number:03}", t.prefix);
        let row: TicketRow = sqlx::query_as(&insert)
            .bind(t.counter_id)
            .bind(visit_id)
            .bind(t.day)
            .bind(t.purpose)
            .bind(&label)
            .bind(&t.priority)
            .bind(rank)
            .bind(t.now)
            .fetch_one(&mut *tx)
            .await?;
        crate::audit::append(&mut *tx, audit(&row)?).await?;
        tx.commit().await?;
        row
    }))
}

fn priority_unknown() -> AppError {
    AppError::field(
        "priority",
        "choice_invalid",
        "Pilih prioritas dari daftar.",
        "Choose a priority from the list.",
    )
}

/// How many times a caller retries when another officer took the ticket it aimed at.
const CALL_RETRIES: usize = 50;

/// Calls the counter's next waiting ticket (highest priority, then oldest) for `officer_id`.
/// One atomic `UPDATE … WHERE status = 'waiting' … RETURNING`: when two officers aim at the
/// same ticket, PostgreSQL re-checks the status after the first commits and the second gets no
/// row (and tries the next ticket); SQLite has one writer at a time. `None`: nobody waits.
pub async fn call_next(
    db: &Db,
    counter_id: i64,
    day: NaiveDate,
    officer_id: i64,
    desk: Option<&str>,
    now: DateTime<Utc>,
    audit: impl Fn(&TicketRow) -> Result<Batch>,
) -> Result<Option<TicketRow>> {
    let update = format!(
        "UPDATE floor_tickets SET status = 'called', called_at = $1, announced_at = $1, officer_id = $2, desk = $3 \
         WHERE status = 'waiting' AND id = (SELECT id FROM floor_tickets WHERE counter_id = $4 AND day = $5 \
         AND status = 'waiting' ORDER BY rank_order DESC, issued_at, id LIMIT 1) RETURNING {TICKET_COLUMNS}"
    );
    for _ in 0..CALL_RETRIES {
        let called: Option<Option<TicketRow>> = with_db!(db, |pool| {
            let mut tx = pool.begin_with(db.begin_for_write()).await?;
            let row: Option<TicketRow> = sqlx::query_as(&update)
                .bind(now)
                .bind(officer_id)
                .bind(desk)
                .bind(counter_id)
                .bind(day)
                .fetch_optional(&mut *tx)
                .await?;
            match row {
                Some(row) => {
                    crate::audit::append(&mut *tx, audit(&row)?).await?;
                    tx.commit().await?;
                    Some(Some(row))
                }
                None => {
                    let waiting: i64 = sqlx::query_scalar(
                        "SELECT CAST(COUNT(*) AS BIGINT) FROM floor_tickets WHERE counter_id = $1 AND day = $2 AND status = 'waiting'",
                    )
                    .bind(counter_id)
                    .bind(day)
                    .fetch_one(&mut *tx)
                    .await?;
                    tx.rollback().await?;
                    // Someone else took the ticket this call aimed at: try the next one.
                    (waiting == 0).then_some(None)
                }
            }
        });
        if let Some(result) = called {
            return Ok(result);
        }
    }
    Err(AppError::Busy(sqlx::Error::PoolTimedOut))
}

pub async fn ticket(db: &Db, id: i64) -> Result<Option<TicketRow>> {
    let sql = format!("SELECT {TICKET_COLUMNS} FROM floor_tickets WHERE id = $1");
    Ok(with_db!(db, |pool| {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
    }))
}

/// A ticket's move from one of `from` to the state `set` says; `None` when it is no longer in
/// one of those states (another officer moved it first).
pub async fn move_ticket(
    db: &Db,
    id: i64,
    from: &[&str],
    set: &str,
    now: DateTime<Utc>,
    officer_id: i64,
    audit: impl FnOnce(&TicketRow) -> Result<Batch>,
) -> Result<Option<TicketRow>> {
    let states = from
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE floor_tickets SET {set}, officer_id = $2 WHERE id = $3 AND status IN ({states}) RETURNING {TICKET_COLUMNS}"
    );
    Ok(with_db!(db, |pool| {
        let mut tx = pool.begin_with(db.begin_for_write()).await?;
        let row: Option<TicketRow> = sqlx::query_as(&sql)
            .bind(now)
            .bind(officer_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = &row {
            if row.status == "done" || row.status == "no_show" {
                sqlx::query(
                    "UPDATE floor_visits SET started_at = COALESCE(started_at, $1), ended_at = $2 WHERE id = $3",
                )
                .bind(row.started_at)
                .bind(now)
                .bind(row.visit_id)
                .execute(&mut *tx)
                .await?;
            }
            crate::audit::append(&mut *tx, audit(row)?).await?;
            tx.commit().await?;
        }
        row
    }))
}

/// Ends `id` as transferred and links it to `next`, the new ticket of the same visit.
pub async fn mark_transferred(db: &Db, id: i64, next: i64) -> Result<()> {
    with_db!(db, |pool| {
        sqlx::query("UPDATE floor_tickets SET transferred_to = $1 WHERE id = $2")
            .bind(next)
            .bind(id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// The day's tickets of a counter, in queue order (priority, then arrival).
pub async fn day_tickets(db: &Db, counter_id: i64, day: NaiveDate) -> Result<Vec<TicketRow>> {
    let sql = format!(
        "SELECT {TICKET_COLUMNS} FROM floor_tickets WHERE counter_id = $1 AND day = $2 \
         ORDER BY rank_order DESC, issued_at, id"
    );
    Ok(with_db!(db, |pool| {
        sqlx::query_as(&sql)
            .bind(counter_id)
            .bind(day)
            .fetch_all(pool)
            .await?
    }))
}

/// What the display shows: the tickets last called (newest first) and the next few waiting.
pub async fn display_tickets(
    db: &Db,
    counter_id: i64,
    day: NaiveDate,
) -> Result<(Vec<TicketRow>, Vec<TicketRow>)> {
    let called = format!(
        "SELECT {TICKET_COLUMNS} FROM floor_tickets WHERE counter_id = $1 AND day = $2 \
         AND status IN ('called', 'serving') ORDER BY announced_at DESC, id DESC LIMIT 6"
    );
    let waiting = format!(
        "SELECT {TICKET_COLUMNS} FROM floor_tickets WHERE counter_id = $1 AND day = $2 \
         AND status = 'waiting' ORDER BY rank_order DESC, issued_at, id LIMIT 6"
    );
    Ok(with_db!(db, |pool| {
        let a = sqlx::query_as(&called)
            .bind(counter_id)
            .bind(day)
            .fetch_all(pool)
            .await?;
        let b = sqlx::query_as(&waiting)
            .bind(counter_id)
            .bind(day)
            .fetch_all(pool)
            .await?;
        (a, b)
    }))
}

/// The tickets of `counters` (all when `None`) issued on the days `from..=to`.
pub async fn tickets_between(
    db: &Db,
    counters: Option<&[i64]>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<TicketRow>> {
    let sql = format!(
        "SELECT {TICKET_COLUMNS} FROM floor_tickets WHERE day >= $1 AND day <= $2 ORDER BY counter_id, id"
    );
    let rows: Vec<TicketRow> = with_db!(db, |pool| {
        sqlx::query_as(&sql)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?
    });
    Ok(match counters {
        None => rows,
        Some(ids) => rows
            .into_iter()
            .filter(|r| ids.contains(&r.counter_id))
            .collect(),
    })
}

// --- the display link -------------------------------------------------------------------

pub async fn link_of(db: &Db, counter_id: i64) -> Result<Option<String>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar("SELECT token FROM floor_links WHERE counter_id = $1")
            .bind(counter_id)
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn counter_of_link(db: &Db, token: &str) -> Result<Option<i64>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar("SELECT counter_id FROM floor_links WHERE token = $1")
            .bind(token)
            .fetch_optional(pool)
            .await?
    }))
}

/// Sets (or replaces) a counter's link: the old one stops working at once.
pub async fn set_link(
    db: &Db,
    counter_id: i64,
    token: &str,
    now: DateTime<Utc>,
    batch: Batch,
) -> Result<()> {
    with_db!(db, |pool| {
        let mut tx = pool.begin_with(db.begin_for_write()).await?;
        sqlx::query(
            "INSERT INTO floor_links (counter_id, token, rotated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (counter_id) DO UPDATE SET token = $2, rotated_at = $3",
        )
        .bind(counter_id)
        .bind(token)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        crate::audit::append(&mut *tx, batch).await?;
        tx.commit().await?;
    });
    Ok(())
}

// --- appointments -----------------------------------------------------------------------

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct VisitRow {
    pub id: i64,
    pub counter_id: i64,
    pub participant_id: Option<i64>,
    pub kind: String,
    pub purpose: String,
    pub day: NaiveDate,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
}

const VISIT_COLUMNS: &str =
    "id, counter_id, participant_id, kind, purpose, day, scheduled_at, started_at, ended_at";

pub struct NewAppointment {
    pub counter_id: i64,
    pub participant_id: i64,
    pub purpose: &'static str,
    pub day: NaiveDate,
    pub scheduled_at: DateTime<Utc>,
    pub created_by: i64,
    pub now: DateTime<Utc>,
}

pub async fn book_appointment(
    db: &Db,
    a: &NewAppointment,
    audit: impl FnOnce(i64) -> Result<Batch>,
) -> Result<i64> {
    Ok(with_db!(db, |pool| {
        let mut tx = pool.begin_with(db.begin_for_write()).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO floor_visits (counter_id, participant_id, kind, purpose, day, scheduled_at, created_by, created_at) \
             VALUES ($1, $2, 'appointment', $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(a.counter_id)
        .bind(a.participant_id)
        .bind(a.purpose)
        .bind(a.day)
        .bind(a.scheduled_at)
        .bind(a.created_by)
        .bind(a.now)
        .fetch_one(&mut *tx)
        .await?;
        crate::audit::append(&mut *tx, audit(id)?).await?;
        tx.commit().await?;
        id
    }))
}

pub async fn visit(db: &Db, id: i64) -> Result<Option<VisitRow>> {
    let sql = format!("SELECT {VISIT_COLUMNS} FROM floor_visits WHERE id = $1");
    Ok(with_db!(db, |pool| {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
    }))
}

/// The day's booked visits of a counter that have no ticket yet (the person has not arrived).
pub async fn appointments_due(db: &Db, counter_id: i64, day: NaiveDate) -> Result<Vec<VisitRow>> {
    let sql = format!(
        "SELECT {VISIT_COLUMNS} FROM floor_visits v WHERE counter_id = $1 AND day = $2 AND kind = 'appointment' \
         AND NOT EXISTS (SELECT 1 FROM floor_tickets t WHERE t.visit_id = v.id) ORDER BY scheduled_at, id"
    );
    Ok(with_db!(db, |pool| {
        sqlx::query_as(&sql)
            .bind(counter_id)
            .bind(day)
            .fetch_all(pool)
            .await?
    }))
}

// --- seats ------------------------------------------------------------------------------

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SeatRow {
    pub id: i64,
    pub counter_id: i64,
    pub name: String,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct BookingRow {
    pub id: i64,
    pub seat_id: i64,
    pub day: NaiveDate,
    pub hour: i64,
    pub participant_id: Option<i64>,
    pub person_name: String,
}

pub async fn seats(db: &Db, counter_id: i64) -> Result<Vec<SeatRow>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT id, counter_id, name FROM floor_seats WHERE counter_id = $1 ORDER BY name, id",
        )
        .bind(counter_id)
        .fetch_all(pool)
        .await?
    }))
}

pub async fn seat(db: &Db, id: i64) -> Result<Option<SeatRow>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as("SELECT id, counter_id, name FROM floor_seats WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn add_seat(
    db: &Db,
    counter_id: i64,
    name: &str,
    now: DateTime<Utc>,
    audit: impl FnOnce(i64) -> Result<Batch>,
) -> Result<i64> {
    let result: std::result::Result<i64, AppError> = async {
        Ok(with_db!(db, |pool| {
            let mut tx = pool.begin_with(db.begin_for_write()).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO floor_seats (counter_id, name, created_at) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(counter_id)
            .bind(name)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            crate::audit::append(&mut *tx, audit(id)?).await?;
            tx.commit().await?;
            id
        }))
    }
    .await;
    match result {
        Err(AppError::Database(e)) if is_unique_violation(&e, "floor_seats") => {
            Err(AppError::field(
                "name",
                "seat_name_taken",
                "Loket ini sudah punya kursi dengan nama itu.",
                "This counter already has a seat with that name.",
            ))
        }
        other => other,
    }
}

pub struct NewBooking<'a> {
    pub seat_id: i64,
    pub day: NaiveDate,
    pub hour: i64,
    pub participant_id: Option<i64>,
    pub person_name: &'a str,
    pub booked_by: i64,
    pub now: DateTime<Utc>,
}

/// Books a seat for an hour; the unique key (seat, day, hour) refuses a second booking, even
/// when two officers press at once.
pub async fn book_seat(
    db: &Db,
    b: &NewBooking<'_>,
    audit: impl FnOnce(i64) -> Result<Batch>,
) -> Result<i64> {
    let result: std::result::Result<i64, AppError> = async {
        Ok(with_db!(db, |pool| {
            let mut tx = pool.begin_with(db.begin_for_write()).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO floor_seat_bookings (seat_id, day, hour, participant_id, person_name, booked_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(b.seat_id)
            .bind(b.day)
            .bind(b.hour)
            .bind(b.participant_id)
            .bind(b.person_name)
            .bind(b.booked_by)
            .bind(b.now)
            .fetch_one(&mut *tx)
            .await?;
            crate::audit::append(&mut *tx, audit(id)?).await?;
            tx.commit().await?;
            id
        }))
    }
    .await;
    match result {
        Err(AppError::Database(e)) if is_unique_violation(&e, "floor_seat_bookings") => {
            Err(AppError::Refused {
                code: "seat_taken",
                message: "Kursi ini sudah dipesan pada jam itu. Pilih kursi atau jam lain.".into(),
                message_en:
                    "This seat is already booked for that hour. Choose another seat or hour.".into(),
            })
        }
        other => other,
    }
}

/// The bookings of a counter's seats on `from..=to`.
pub async fn bookings_between(
    db: &Db,
    counter_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<BookingRow>> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT b.id, b.seat_id, b.day, b.hour, b.participant_id, b.person_name FROM floor_seat_bookings b \
             JOIN floor_seats s ON s.id = b.seat_id WHERE s.counter_id = $1 AND b.day >= $2 AND b.day <= $3 \
             ORDER BY b.day, b.hour, b.seat_id",
        )
        .bind(counter_id)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?
    }))
}
