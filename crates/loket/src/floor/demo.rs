//! Demo data for the counter floor: at the first office's counters, a morning of tickets (some
//! served, one no-show, some called and waiting), computer seats with bookings, and the
//! kiosk/display link, so every floor page shows something.

use chrono::{Duration, Utc};

use super::store::{self, NewTicket, VisitOf};
use super::Purpose;
use crate::audit::Batch;
use crate::counters::FloorCounter;
use crate::db::Db;
use crate::error::Result;

/// Seeds `counters` once (a counter with a link already has its floor).
pub async fn seed(db: &Db, counters: &[FloorCounter], officer_id: i64) -> Result<()> {
    for counter in counters {
        if store::link_of(db, counter.id).await?.is_some() {
            continue;
        }
        super::service::new_link(db, None, counter.id).await?;
        seed_queue(db, counter, officer_id).await?;
        seed_seats(db, counter, officer_id).await?;
    }
    Ok(())
}

async fn seed_queue(db: &Db, counter: &FloorCounter, officer_id: i64) -> Result<()> {
    let start = Utc::now() - Duration::minutes(150);
    let plan = [
        (Purpose::Register, "none", "done"),
        (Purpose::Training, "elderly", "done"),
        (Purpose::Training, "none", "done"),
        (Purpose::Incentive, "none", "no_show"),
        (Purpose::DoTraining, "none", "done"),
        (Purpose::Register, "pregnant", "done"),
        (Purpose::Referral, "none", "called"),
        (Purpose::Training, "none", "waiting"),
        (Purpose::Register, "disability", "waiting"),
        (Purpose::Other, "none", "waiting"),
    ];
    for (i, (purpose, priority, end)) in plan.into_iter().enumerate() {
        let issued = start + Duration::minutes(12 * i as i64);
        let ticket = NewTicket {
            counter_id: counter.id,
            day: counter.today(),
            purpose: purpose.code(),
            prefix: purpose.prefix(),
            priority: priority.into(),
            visit: VisitOf::New {
                kind: "walk_in",
                participant_id: None,
                created_by: None,
            },
            now: issued,
        };
        let t = store::issue(db, &ticket, |_| Batch::new(db)).await?;
        if end == "waiting" {
            continue;
        }
        let called = issued + Duration::minutes(4 + (i as i64 % 5) * 3);
        let desk = Some("1");
        store::call_next(
            db,
            counter.id,
            counter.today(),
            officer_id,
            desk,
            called,
            |_| Batch::new(db),
        )
        .await?;
        let (from, set): (&[&str], &str) = match end {
            "done" => (
                &["called"],
                "status = 'done', started_at = COALESCE(started_at, called_at), finished_at = $1",
            ),
            "no_show" => (&["called"], "status = 'no_show', finished_at = $1"),
            _ => continue,
        };
        let finished = called + Duration::minutes(6 + (i as i64 % 4) * 2);
        store::move_ticket(db, t.id, from, set, finished, officer_id, |_| {
            Batch::new(db)
        })
        .await?;
    }
    Ok(())
}

async fn seed_seats(db: &Db, counter: &FloorCounter, officer_id: i64) -> Result<()> {
    let hours = super::service::bookable_hours(counter);
    let names = ["Demo Peserta Satu", "Demo Peserta Dua", "Demo Peserta Tiga"];
    for (n, name) in ["PC-1", "PC-2", "PC-3"].iter().enumerate() {
        let seat = store::add_seat(db, counter.id, name, Utc::now(), |_| Batch::new(db)).await?;
        let Some(hour) = hours.get(n + 1) else {
            continue;
        };
        let booking = store::NewBooking {
            seat_id: seat,
            day: counter.today(),
            hour: *hour,
            participant_id: None,
            person_name: names[n],
            booked_by: officer_id,
            now: Utc::now(),
        };
        store::book_seat(db, &booking, |_| Batch::new(db)).await?;
    }
    Ok(())
}
