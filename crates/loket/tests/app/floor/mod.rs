//! The counter floor (issue 16): a morning's queue from kiosk to done, officers calling at
//! once, seats booked once, the display fed live, and figures that equal a direct count, on
//! both backends.

use std::collections::HashSet;

use chrono::{Duration, Utc};
use loket::auth::Role;
use loket::floor::store::{self, NewTicket, VisitOf};
use loket::floor::{IssueInput, Purpose};
use loket::identity::{Actor, RequestMeta, User};
use reqwest::StatusCode;

use crate::common::TestApp;
use crate::on_each_backend;

fn actor(id: i64, username: &str, role: Role, office: Option<i64>, counter: Option<i64>) -> Actor {
    Actor {
        user: User {
            id,
            username: username.into(),
            role,
            office_id: office,
            counter_id: counter,
            active: true,
        },
        meta: RequestMeta::default(),
        grants: vec![],
    }
}

async fn officer(app: &TestApp, name: &str, counter: i64) -> Actor {
    let (id, _) = app.user(name, Role::Petugas, Some(counter)).await;
    let office = loket::counters::office_of(&app.state.db, counter)
        .await
        .unwrap();
    actor(id, name, Role::Petugas, office, Some(counter))
}

async fn counter(app: &TestApp, id: i64) -> loket::counters::FloorCounter {
    loket::counters::floor_counter(&app.state.db, id)
        .await
        .unwrap()
        .unwrap()
}

fn form<'a>(csrf: &'a str, pairs: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut all = vec![("csrf", csrf)];
    all.extend_from_slice(pairs);
    all
}

/// The ticket id behind a label today at counter A.
async fn ticket_id(app: &TestApp, label: &str) -> i64 {
    let c = counter(app, app.counter_a).await;
    store::day_tickets(&app.state.db, c.id, c.today())
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.label == label)
        .unwrap_or_else(|| panic!("no ticket {label}"))
        .id
}

async fn status_of(app: &TestApp, id: i64) -> String {
    store::ticket(&app.state.db, id)
        .await
        .unwrap()
        .unwrap()
        .status
}

/// An officer gives tickets at the front desk, an elderly person goes first, the officer
/// calls, recalls, starts, finishes, marks a no-show and transfers a person to another
/// service; an empty queue and another counter's ticket are refused; a restart loses nothing.
async fn queue_lifecycle(app: &TestApp) {
    officer(app, "rina", app.counter_a).await;
    officer(app, "budi", app.counter_b).await;
    let rina = app.session("rina").await;
    let csrf = rina.csrf.clone();
    let a = app.counter_a;
    let issue = |purpose: &'static str, priority: &'static str| {
        let path = format!("/floor/{a}/tickets");
        let body = form(&csrf, &[("purpose", purpose), ("priority", priority)])
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>();
        let rina = &rina;
        async move { rina.post_form(&path, &body).await }
    };
    let first = issue("training", "none").await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let slip_path = first.headers()["location"].to_str().unwrap().to_string();
    let slip = rina.page(&slip_path).await;
    assert!(slip.contains("B-001"), "{slip}");
    assert!(slip.contains("Loket A"), "the slip names the counter");
    assert!(
        slip.contains("Perkiraan tunggu"),
        "the slip estimates the wait"
    );
    issue("training", "none").await;
    issue("register", "none").await;
    issue("incentive", "elderly").await;
    let queue = rina.page(&format!("/floor?counter={a}")).await;
    for label in ["B-001", "B-002", "A-001", "D-001"] {
        assert!(queue.contains(label), "{label} waits: {queue}");
    }
    // A wrong purpose is said on the page, with the form again.
    let bad = issue("sightseeing", "none").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad
        .text()
        .await
        .unwrap()
        .contains("Pilih keperluan dari daftar"));

    // The elderly person is called first, then in order of arrival.
    let call = |desk: &'static str| {
        let body = vec![
            ("csrf".to_string(), csrf.clone()),
            ("desk".to_string(), desk.to_string()),
        ];
        let rina = &rina;
        async move { rina.post_form(&format!("/floor/{a}/call"), &body).await }
    };
    let called = call("2").await;
    assert_eq!(called.status(), StatusCode::SEE_OTHER);
    assert!(called.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("called=D-001"));
    let d1 = ticket_id(app, "D-001").await;
    assert_eq!(status_of(app, d1).await, "called");
    let act = |id: i64, action: &'static str, extra: Vec<(String, String)>| {
        let mut body = vec![("csrf".to_string(), csrf.clone())];
        body.extend(extra);
        let rina = &rina;
        async move {
            rina.post_form(&format!("/floor/tickets/{id}/{action}"), &body)
                .await
        }
    };
    assert_eq!(
        act(d1, "recall", vec![]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        act(d1, "start", vec![]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(status_of(app, d1).await, "serving");
    // Starting twice is refused with the ticket's state in words.
    let again = act(d1, "start", vec![]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(again.text().await.unwrap().contains("Sedang dilayani"));
    assert_eq!(
        act(d1, "done", vec![]).await.status(),
        StatusCode::SEE_OTHER
    );
    let done = store::ticket(&app.state.db, d1).await.unwrap().unwrap();
    assert_eq!(done.status, "done");
    assert_eq!(done.recalls, 1);
    assert!(done.finished_at.unwrap() >= done.started_at.unwrap());

    call("2").await;
    let b1 = ticket_id(app, "B-001").await;
    assert_eq!(status_of(app, b1).await, "called");
    assert_eq!(
        act(b1, "no-show", vec![]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(status_of(app, b1).await, "no_show");

    call("2").await;
    let b2 = ticket_id(app, "B-002").await;
    let moved = act(b2, "transfer", vec![("purpose".into(), "referral".into())]).await;
    assert_eq!(moved.status(), StatusCode::SEE_OTHER);
    let b2row = store::ticket(&app.state.db, b2).await.unwrap().unwrap();
    assert_eq!(b2row.status, "transferred");
    let e1 = ticket_id(app, "E-001").await;
    assert_eq!(b2row.transferred_to, Some(e1));
    let e1row = store::ticket(&app.state.db, e1).await.unwrap().unwrap();
    assert_eq!(
        (e1row.status.as_str(), e1row.visit_id),
        ("waiting", b2row.visit_id)
    );

    // Another counter's officer cannot act on counter A's tickets.
    let budi = app.session("budi").await;
    let foreign = budi
        .post_form(
            &format!("/floor/tickets/{e1}/recall"),
            &[("csrf", budi.csrf.as_str())],
        )
        .await;
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    let foreign_call = budi
        .post_form(&format!("/floor/{a}/call"), &[("csrf", budi.csrf.as_str())])
        .await;
    assert_eq!(foreign_call.status(), StatusCode::FORBIDDEN);

    // The queue lives in the database: a restarted server has every ticket.
    let restarted = app.restarted().await;
    let c = counter(&restarted, a).await;
    let labels: Vec<String> = store::day_tickets(&restarted.state.db, a, c.today())
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.label)
        .collect();
    assert_eq!(labels.len(), 5, "{labels:?}");
    let rina_again = restarted.session("rina").await;
    let queue = rina_again.page(&format!("/floor?counter={a}")).await;
    assert!(
        queue.contains("A-001") && queue.contains("E-001"),
        "{queue}"
    );

    // Two left waiting; then the queue is empty and says so.
    for _ in 0..2 {
        call("1").await;
    }
    let empty = call("1").await;
    assert_eq!(empty.status(), StatusCode::CONFLICT);
    assert!(empty
        .text()
        .await
        .unwrap()
        .contains("Tidak ada yang menunggu di antrean"));
    // Every change is in the audit log.
    let calls: i64 = loket::with_db!(&app.state.db, |pool| sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action = 'floor.ticket_call'"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(calls, 5);
}

#[tokio::test]
async fn a_ticket_goes_from_the_front_desk_to_done_and_survives_a_restart() {
    on_each_backend!(queue_lifecycle);
}

/// Eight officers press "call next" at once, again and again: every ticket is called exactly
/// once, and when the queue is empty each hears so.
async fn concurrent_calls(app: &TestApp) {
    let c = counter(app, app.counter_a).await;
    let mut officers = Vec::new();
    for i in 0..8 {
        officers.push(officer(app, &format!("petugas{i}"), app.counter_a).await);
    }
    let input = IssueInput {
        purpose: "register".into(),
        priority: "none".into(),
    };
    const TICKETS: usize = 60;
    for _ in 0..TICKETS {
        loket::floor::issue_ticket(&app.state, None, &c, &input)
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for o in officers {
        let state = app.state.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                match loket::floor::call_next(&state, &o, o.user.counter_id.unwrap(), None).await {
                    Ok(t) => mine.push(t.label),
                    Err(e) if e.code() == "queue_empty" => return mine,
                    Err(e) if e.code() == "database_busy" => continue,
                    Err(e) => panic!("call next failed: {e:?}"),
                }
            }
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let distinct: HashSet<&String> = all.iter().collect();
    assert_eq!(all.len(), TICKETS, "every ticket called once: {all:?}");
    assert_eq!(distinct.len(), TICKETS, "no ticket called twice");
    let called: i64 = loket::with_db!(&app.state.db, |pool| {
        sqlx::query_scalar(
        "SELECT CAST(COUNT(DISTINCT officer_id) AS BIGINT) FROM floor_tickets WHERE status = 'called'"
    )
    .fetch_one(pool)
    .await
    .unwrap()
    });
    assert!(called >= 2, "several officers served the one queue");
}

#[tokio::test]
async fn officers_calling_at_once_never_get_the_same_ticket() {
    on_each_backend!(concurrent_calls);
}

/// The coordinator adds computer seats; an officer books a person into a seat and hour; the
/// same seat and hour again is refused, also when ten officers press at once; the plan shows
/// the person.
async fn seat_booking(app: &TestApp) {
    app.user("koord", Role::Koordinator, None).await;
    officer(app, "rina", app.counter_a).await;
    let a = app.counter_a;
    let koord = app.session("koord").await;
    for name in ["PC-1", "PC-2"] {
        let added = koord
            .post_form(
                &format!("/floor/{a}/seats"),
                &form(&koord.csrf, &[("name", name)]),
            )
            .await;
        assert_eq!(added.status(), StatusCode::SEE_OTHER);
    }
    let twice = koord
        .post_form(
            &format!("/floor/{a}/seats"),
            &form(&koord.csrf, &[("name", "PC-1")]),
        )
        .await;
    assert_eq!(twice.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let seats = store::seats(&app.state.db, a).await.unwrap();
    let pc1 = seats
        .iter()
        .find(|s| s.name == "PC-1")
        .unwrap()
        .id
        .to_string();
    let c = counter(app, a).await;
    let day = c.today().to_string();
    let rina = app.session("rina").await;
    let book = |name: &'static str, hour: &'static str| {
        let body: Vec<(String, String)> = [
            ("csrf", rina.csrf.as_str()),
            ("seat", pc1.as_str()),
            ("day", day.as_str()),
            ("hour", hour),
            ("person_name", name),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let rina = &rina;
        async move {
            rina.post_form(&format!("/floor/{a}/seats/book"), &body)
                .await
        }
    };
    assert_eq!(
        book("Siti Aminah", "9").await.status(),
        StatusCode::SEE_OTHER
    );
    let taken = book("Dewi Lestari", "9").await;
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    assert!(taken
        .text()
        .await
        .unwrap()
        .contains("Kursi ini sudah dipesan pada jam itu"));
    let closed = book("Dewi Lestari", "22").await;
    assert_eq!(closed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Ten at once for 10.00: one wins, nine are told the seat is taken.
    let officer_actor = officer(app, "rina2", a).await;
    let mut tasks = Vec::new();
    for i in 0..10 {
        let state = app.state.clone();
        let actor = officer_actor.clone();
        let seat_id: i64 = pc1.parse().unwrap();
        let day = c.today();
        tasks.push(tokio::spawn(async move {
            let name = format!("Orang {i}");
            let b = loket::floor::service::BookingInput {
                seat_id,
                day,
                hour: 10,
                participant_id: None,
                person_name: &name,
            };
            loket::floor::service::book_seat(&state.db, &actor, &b)
                .await
                .map_err(|e| e.code())
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => won += 1,
            Err(code) => assert!(code == "seat_taken" || code == "database_busy", "{code}"),
        }
    }
    assert_eq!(won, 1);
    let plan = rina.page(&format!("/floor/{a}/seats?day={day}")).await;
    assert!(
        plan.contains("Siti Aminah") && plan.contains("PC-2"),
        "{plan}"
    );
    let rows: i64 = loket::with_db!(&app.state.db, |pool| sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM floor_seat_bookings"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(rows, 2);
}

#[tokio::test]
async fn a_seat_is_booked_once_per_hour() {
    on_each_backend!(seat_booking);
}

/// A ticket as the direct count reads it: purpose, issued, called, started, finished, status.
type Row = (
    String,
    chrono::DateTime<Utc>,
    Option<chrono::DateTime<Utc>>,
    Option<chrono::DateTime<Utc>>,
    Option<chrono::DateTime<Utc>>,
    String,
);

/// A day of tickets with known times: the figures page and its CSV say what a direct count
/// and a direct computation over the rows say.
async fn figures(app: &TestApp) {
    let db = &app.state.db;
    let rina = officer(app, "rina", app.counter_a).await;
    let c = counter(app, app.counter_a).await;
    let start = Utc::now() - Duration::hours(3);
    // (purpose, wait minutes, service minutes or None for a no-show)
    let plan: Vec<(Purpose, i64, Option<i64>)> = (0..23)
        .map(|i| {
            let purpose = [Purpose::Register, Purpose::Training, Purpose::Incentive][i % 3];
            let service = if i % 7 == 3 {
                None
            } else {
                Some(3 + (i as i64 * 5) % 11)
            };
            (purpose, 1 + (i as i64 * 7) % 17, service)
        })
        .collect();
    for (i, (purpose, wait, service)) in plan.iter().enumerate() {
        let issued = start + Duration::minutes(i as i64 * 4);
        let t = store::issue(
            db,
            &NewTicket {
                counter_id: c.id,
                day: c.today(),
                purpose: purpose.code(),
                prefix: purpose.prefix(),
                priority: "none".into(),
                visit: VisitOf::New {
                    kind: "walk_in",
                    participant_id: None,
                    created_by: None,
                },
                now: issued,
            },
            |_| loket::audit::Batch::new(db),
        )
        .await
        .unwrap();
        let called_at = issued + Duration::minutes(*wait);
        store::call_next(db, c.id, c.today(), rina.user.id, None, called_at, |_| {
            loket::audit::Batch::new(db)
        })
        .await
        .unwrap()
        .unwrap();
        let (from, set): (&[&str], &str) = match service {
            Some(_) => (
                &["called"],
                "status = 'done', started_at = called_at, finished_at = $1",
            ),
            None => (&["called"], "status = 'no_show', finished_at = $1"),
        };
        let end = called_at + Duration::minutes(service.unwrap_or(1));
        store::move_ticket(db, t.id, from, set, end, rina.user.id, |_| {
            loket::audit::Batch::new(db)
        })
        .await
        .unwrap();
    }
    // The direct count, straight from the rows.
    let rows: Vec<Row> = loket::with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT purpose, issued_at, called_at, started_at, finished_at, status FROM floor_tickets WHERE counter_id = $1"
        )
        .bind(c.id)
        .fetch_all(pool)
        .await
        .unwrap()
    });
    let nearest_rank = |mut v: Vec<i64>, p: usize| {
        v.sort();
        v[(p * v.len()).div_ceil(100) - 1]
    };
    let waits: Vec<i64> = rows
        .iter()
        .map(|r| (r.2.unwrap() - r.1).num_seconds())
        .collect();
    let services: Vec<i64> = rows
        .iter()
        .filter(|r| r.5 == "done")
        .map(|r| (r.4.unwrap() - r.3.unwrap()).num_seconds())
        .collect();
    let no_shows = rows.iter().filter(|r| r.5 == "no_show").count() as i64;
    assert_eq!(rows.len(), 23);
    assert_eq!(no_shows, 3);

    app.user("koord", Role::Koordinator, None).await;
    let session = app.session("koord").await;
    let csv = session.page("/floor/figures.csv").await;
    let total = csv
        .lines()
        .find(|l| l.starts_with("all,"))
        .unwrap()
        .to_string();
    let expected = format!(
        "all,,23,23,{},{},{},{},{},{}",
        nearest_rank(waits.clone(), 50),
        nearest_rank(waits.clone(), 90),
        services.len(),
        nearest_rank(services.clone(), 50),
        nearest_rank(services.clone(), 90),
        no_shows
    );
    assert_eq!(total, expected, "{csv}");
    // Per purpose: the tickets of each purpose, as counted directly.
    for purpose in ["register", "training", "incentive"] {
        let n = rows.iter().filter(|r| r.0 == purpose).count();
        let line = csv
            .lines()
            .find(|l| l.starts_with(&format!("purpose,{purpose},")))
            .unwrap();
        assert!(
            line.starts_with(&format!("purpose,{purpose},{n},{n},")),
            "{line}"
        );
    }
    let page = session.page("/floor/figures").await;
    let wait_median = nearest_rank(waits, 50);
    let shown = format!("{}:{:02}", wait_median / 60, wait_median % 60);
    assert!(page.contains(&shown), "median wait {shown} on the page");
    assert!(page.contains("Loket A"));
    // Officers of another office do not see counter A's figures.
    officer(app, "budi", app.counter_b).await;
    let budi = app.session("budi").await;
    let theirs = budi.page("/floor/figures.csv").await;
    assert!(theirs.lines().any(|l| l == "all,,0,0,,,0,,,0"), "{theirs}");
}

#[tokio::test]
async fn the_floor_figures_equal_a_direct_count() {
    on_each_backend!(figures);
}

/// The kiosk and the TV use the counter's link, not a login: a person takes a ticket at the
/// kiosk, the display shows it waiting, an officer calls it and the display's live feed says
/// so; a rotated link stops working; nothing personal is on the display.
async fn kiosk_and_display(app: &TestApp) {
    app.user("koord", Role::Koordinator, None).await;
    officer(app, "rina", app.counter_a).await;
    let a = app.counter_a;
    let koord = app.session("koord").await;
    let setup = koord.page(&format!("/floor/{a}/setup")).await;
    let token = setup
        .split("/kiosk/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(token.len(), 48);
    let kiosk = app.get(&format!("/kiosk/{token}")).await;
    assert_eq!(kiosk.status(), StatusCode::OK);
    let slip = app
        .client
        .post(app.url(&format!("/kiosk/{token}")))
        .form(&[("purpose", "training"), ("priority", "none")])
        .send()
        .await
        .unwrap();
    assert_eq!(slip.status(), StatusCode::OK);
    let slip = slip.text().await.unwrap();
    assert!(slip.contains("B-001") && slip.contains("Loket A"), "{slip}");
    let display = app
        .get(&format!("/display/{token}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(display.contains("B-001"), "{display}");
    assert!(
        display.contains("http-equiv=\"refresh\""),
        "a refresh without scripts"
    );

    // The live feed: the board now, then the board after the officer's call.
    let mut events = app
        .client
        .get(app.url(&format!("/display/{token}/events")))
        .send()
        .await
        .unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let first = next_event(&mut events).await;
    assert!(first.contains("B-001"), "{first}");
    let rina = app.session("rina").await;
    let called_at = std::time::Instant::now();
    rina.post_form(
        &format!("/floor/{a}/call"),
        &[("csrf", rina.csrf.as_str()), ("desk", "3")],
    )
    .await;
    let update = next_event(&mut events).await;
    assert!(called_at.elapsed() < std::time::Duration::from_secs(5));
    assert!(update.contains("class=\"called\""), "{update}");
    assert!(
        update.contains("B-001") && update.contains("Meja 3"),
        "{update}"
    );

    // A new link: the old one shows nothing any more.
    let rotated = koord
        .post_form(
            &format!("/floor/{a}/link"),
            &[("csrf", koord.csrf.as_str())],
        )
        .await;
    assert_eq!(rotated.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&format!("/display/{token}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/display/not-a-token").await.status(),
        StatusCode::NOT_FOUND
    );
    // An officer may not rotate (head office and coordinators do).
    let refused = rina
        .post_form(&format!("/floor/{a}/link"), &[("csrf", rina.csrf.as_str())])
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

/// The next `data:` of a server-sent event stream, joined.
async fn next_event(response: &mut reqwest::Response) -> String {
    let mut buffer = String::new();
    loop {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), response.chunk())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        if let Some(end) = buffer.find("\n\n") {
            let event = &buffer[..end];
            if event.contains("data:") {
                return event
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .collect::<Vec<_>>()
                    .join("\n");
            }
            buffer = buffer[end + 2..].to_string();
        }
    }
}

#[tokio::test]
async fn the_kiosk_and_the_display_need_no_login_and_show_only_numbers() {
    on_each_backend!(kiosk_and_display);
}

/// From the follow-up list an officer books a person's next visit; on that day the visit is
/// in the queue, and when the person arrives their ticket jumps ahead as an appointment.
async fn appointment(app: &TestApp) {
    let (rina_id, token) = app.user("rina", Role::Petugas, Some(app.counter_a)).await;
    crate::common::certify(app, rina_id).await;
    let person = app
        .api(&token)
        .register_person("3201014505900001", "Siti Aminah")
        .await;
    let a = app.counter_a;
    let rina = app.session("rina").await;
    let c = counter(app, a).await;
    let today = c.today().to_string();
    let page = rina
        .page(&format!(
            "/floor/appointments?participant={person}&counter={a}"
        ))
        .await;
    assert!(page.contains("Janji kunjungan"), "{page}");
    let booked = rina
        .post_form(
            "/floor/appointments",
            &form(
                &rina.csrf,
                &[
                    ("participant", &person.to_string()),
                    ("counter", &a.to_string()),
                    ("day", &today),
                    ("time", "15:59"),
                    ("purpose", "incentive"),
                ],
            ),
        )
        .await;
    assert_eq!(booked.status(), StatusCode::SEE_OTHER);
    let closed = rina
        .post_form(
            "/floor/appointments",
            &form(
                &rina.csrf,
                &[
                    ("participant", &person.to_string()),
                    ("counter", &a.to_string()),
                    ("day", &today),
                    ("time", "21:00"),
                    ("purpose", "incentive"),
                ],
            ),
        )
        .await;
    assert_eq!(closed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(closed
        .text()
        .await
        .unwrap()
        .contains("Loket tutup pada jam itu"));
    let walk_in = rina
        .post_form(
            &format!("/floor/{a}/tickets"),
            &form(&rina.csrf, &[("purpose", "register"), ("priority", "none")]),
        )
        .await;
    assert_eq!(walk_in.status(), StatusCode::SEE_OTHER);
    let queue = rina.page(&format!("/floor?counter={a}")).await;
    assert!(queue.contains("Janji temu hari ini"), "{queue}");
    let visit = store::appointments_due(&app.state.db, a, c.today())
        .await
        .unwrap()[0]
        .id;
    let arrived = rina
        .post_form(
            &format!("/floor/visits/{visit}/arrive"),
            &[("csrf", rina.csrf.as_str())],
        )
        .await;
    assert_eq!(arrived.status(), StatusCode::SEE_OTHER);
    // The appointment goes before the walk-in who came first.
    let called = rina
        .post_form(&format!("/floor/{a}/call"), &[("csrf", rina.csrf.as_str())])
        .await;
    assert!(called.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("called=D-001"));
    assert!(store::appointments_due(&app.state.db, a, c.today())
        .await
        .unwrap()
        .is_empty());
    // The assistance session given during the visit belongs to it once the visit is done.
    let session = app
        .api(&token)
        .post(
            &format!("/api/v1/participants/{person}/journey/sessions"),
            &serde_json::json!({"started_at": Utc::now().to_rfc3339(), "channel": "walk_in",
                                "steps": ["choose_training"], "outcome": "done"}),
        )
        .await;
    assert_eq!(session.status(), StatusCode::CREATED);
    let d1 = ticket_id(app, "D-001").await;
    let done = rina
        .post_form(
            &format!("/floor/tickets/{d1}/done"),
            &[("csrf", rina.csrf.as_str())],
        )
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let session_id: i64 = loket::with_db!(&app.state.db, |pool| sqlx::query_scalar(
        "SELECT id FROM journey_sessions WHERE participant_id = $1"
    )
    .bind(person)
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(
        loket::journey::session_visit(&app.state.db, session_id)
            .await
            .unwrap(),
        Some(visit)
    );
}

#[tokio::test]
async fn a_visit_booked_from_the_follow_up_list_joins_the_days_queue() {
    on_each_backend!(appointment);
}

/// A counter's "today" is in its own zone: a counter in Makassar is in WITA from its office's
/// province; the coordinator sets another zone and hours on the counter's floor settings, and
/// the floor's pages follow; impossible hours are refused next to the form.
async fn time_zones(app: &TestApp) {
    let db = &app.state.db;
    let office = loket::counters::create_office(
        db,
        "UPT-SULSEL",
        "BP3MI Sulawesi Selatan",
        loket::counters::OfficeKind::Upt,
        "73",
    )
    .await
    .unwrap();
    let makassar =
        loket::counters::create_counter(db, office, "SULSEL-01", "Loket Makassar", "operating")
            .await
            .unwrap();
    let c = counter(app, makassar).await;
    assert_eq!(c.zone, loket::clock::Zone::Wita);
    assert_eq!(c.today(), loket::clock::Zone::Wita.today());
    assert_eq!(
        counter(app, app.counter_a).await.zone,
        loket::clock::Zone::Wib
    );

    app.user("koord", Role::Koordinator, None).await;
    officer(app, "rina", app.counter_a).await;
    let a = app.counter_a;
    let koord = app.session("koord").await;
    let counter_page = koord.page(&format!("/counters/{a}")).await;
    assert!(
        counter_page.contains(&format!("/floor/{a}/setup")),
        "the counter page links its floor settings"
    );
    let wrong = koord
        .post_form(
            &format!("/floor/{a}/setup"),
            &form(
                &koord.csrf,
                &[
                    ("zone", "wit"),
                    ("opens_at", "15:00"),
                    ("closes_at", "09:00"),
                ],
            ),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("Jam tutup harus setelah jam buka"));
    let saved = koord
        .post_form(
            &format!("/floor/{a}/setup"),
            &form(
                &koord.csrf,
                &[
                    ("zone", "wit"),
                    ("opens_at", "07:30"),
                    ("closes_at", "15:00"),
                ],
            ),
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let c = counter(app, a).await;
    assert_eq!(c.zone, loket::clock::Zone::Wit);
    assert_eq!(c.opens_at.format("%H:%M").to_string(), "07:30");
    let rina = app.session("rina").await;
    let queue = rina.page(&format!("/floor?counter={a}")).await;
    assert!(
        queue.contains(&loket::format::date(loket::clock::Zone::Wit.today())),
        "{queue}"
    );
    assert!(queue.contains("WIT"));
    // Seats are bookable in the counter's opening hours only: 07.00 to 14.00.
    koord
        .post_form(
            &format!("/floor/{a}/seats"),
            &form(&koord.csrf, &[("name", "PC-1")]),
        )
        .await;
    let plan = rina.page(&format!("/floor/{a}/seats")).await;
    assert!(
        plan.contains("07.00") && plan.contains("14.00") && !plan.contains("15.00"),
        "{plan}"
    );
    // An officer may not change a counter's hours.
    let refused = rina
        .post_form(
            &format!("/floor/{a}/setup"),
            &form(
                &rina.csrf,
                &[
                    ("zone", "wib"),
                    ("opens_at", "08:00"),
                    ("closes_at", "16:00"),
                ],
            ),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn every_today_on_the_floor_is_the_counters_own() {
    on_each_backend!(time_zones);
}
