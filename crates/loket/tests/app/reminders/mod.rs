//! Reminders by WhatsApp/SMS and the status page, each story on SQLite and (when configured)
//! PostgreSQL, against a real local HTTP server that speaks the WhatsApp Business Cloud API
//! (and its failures) and an SMS gateway's contract.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use hmac::{Hmac, Mac};
use loket::auth::Role;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::common::{backends, spawn_app_with, TestApp};

pub(crate) const TOKEN: &str = "wa-test-token-123";
pub(crate) const APP_SECRET: &str = "meta-app-secret";
pub(crate) const SMS_SECRET: &str = "sms-hook-secret";
const NIK: &str = "3201014505900001";

/// What the provider answers next: a status after a delay.
#[derive(Clone, Copy)]
pub(crate) struct Plan {
    status: u16,
    delay: Duration,
}

pub(crate) fn ok() -> Plan {
    Plan {
        status: 200,
        delay: Duration::ZERO,
    }
}

#[derive(Default)]
pub(crate) struct Provider {
    /// Every request body received, in order, with its path.
    pub(crate) received: Mutex<Vec<(String, Value)>>,
    /// Answers still to give (then 200 for ever).
    plan: Mutex<Vec<Plan>>,
    accepted: Mutex<u64>,
}

impl Provider {
    pub(crate) fn bodies(&self) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| b.clone())
            .collect()
    }

    fn accepted(&self) -> u64 {
        *self.accepted.lock().unwrap()
    }
}

/// POST /{version}/{phone_id}/messages as the Cloud API answers it; POST /sms as a gateway.
async fn whatsapp(
    State(p): State<Arc<Provider>>,
    Path((version, phone_id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> axum::response::Response {
    p.received
        .lock()
        .unwrap()
        .push((format!("/{version}/{phone_id}/messages"), body.clone()));
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {TOKEN}"))
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190, "fbtrace_id": "A1"}})),
        )
            .into_response();
    }
    let plan = {
        let mut plan = p.plan.lock().unwrap();
        if plan.is_empty() {
            ok()
        } else {
            plan.remove(0)
        }
    };
    tokio::time::sleep(plan.delay).await;
    if plan.status != 200 {
        return (
            StatusCode::from_u16(plan.status).unwrap(),
            Json(json!({"error": {"message": "Service temporarily unavailable", "type": "OAuthException", "code": 2, "fbtrace_id": "A2"}})),
        )
            .into_response();
    }
    let n = {
        let mut a = p.accepted.lock().unwrap();
        *a += 1;
        *a
    };
    Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": body["to"], "wa_id": body["to"]}],
        "messages": [{"id": format!("wamid.TEST{n}")}]
    }))
    .into_response()
}

async fn sms(
    State(p): State<Arc<Provider>>,
    headers: HeaderMap,
    body: String,
) -> axum::response::Response {
    let value: Value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    p.received
        .lock()
        .unwrap()
        .push(("/sms".into(), value.clone()));
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some("gw-key") {
        return (StatusCode::UNAUTHORIZED, "bad key").into_response();
    }
    *p.accepted.lock().unwrap() += 1;
    Json(json!({"status": "queued", "message_id": format!("sms-{}", value["ref"].as_str().unwrap_or(""))}))
        .into_response()
}

/// Starts the provider on port 0; returns it and its base URL.
pub(crate) async fn provider(plan: Vec<Plan>) -> (Arc<Provider>, String) {
    let p = Arc::new(Provider {
        plan: Mutex::new(plan),
        ..Provider::default()
    });
    let app = Router::new()
        .route("/{version}/{phone_id}/messages", post(whatsapp))
        .route("/sms", post(sms))
        .with_state(p.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (p, base)
}

/// The app with WhatsApp and the SMS gateway pointed at `base`; no quiet hours (the tests run
/// at any hour), retries after one second, the worker not running (the stories drive it).
pub(crate) async fn app_with_provider(backend: crate::common::Backend, base: &str) -> TestApp {
    let base = base.to_string();
    spawn_app_with(backend, move |c| {
        let r = &mut c.reminders;
        r.whatsapp_url = Some(base.clone());
        r.whatsapp_phone_id = "1099".into();
        r.whatsapp_token = Some(TOKEN.into());
        r.whatsapp_app_secret = Some(APP_SECRET.into());
        r.sms_url = Some(format!("{base}/sms"));
        r.sms_auth_header = Some("X-Api-Key: gw-key".into());
        r.sms_webhook_secret = Some(SMS_SECRET.into());
        r.quiet_from = 0;
        r.quiet_until = 0;
        r.retry_base = Duration::from_secs(1);
        r.provider_timeout = Duration::from_millis(400);
        r.worker = false;
    })
    .await
}

async fn call(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut r = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A Purna PMI at counter A accepted on 2021-07-05 (first training due by 2021-08-04), who
/// agreed to WhatsApp messages; returns (officer token, participant id).
pub(crate) async fn accepted_person(app: &TestApp) -> (String, i64) {
    let (_, admin) = app.user("admin.r", Role::Admin, None).await;
    let (status, out) = call(
        app,
        &admin,
        reqwest::Method::POST,
        "/api/v1/journey/batches",
        Some(json!({"scheme": "2020", "number": 18, "opens_on": "2021-07-01"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    let (_, token) = app
        .user("petugas.r", Role::Petugas, Some(app.counter_a))
        .await;
    let id = app.api(&token).register_person(NIK, "Siti Aminah").await;
    let events = [
        json!({"stage": "account_created", "occurred_on": "2021-06-01"}),
        json!({"stage": "profile_verified", "occurred_on": "2021-06-02"}),
        json!({"stage": "test_passed", "occurred_on": "2021-06-03"}),
        json!({"stage": "joined_batch", "occurred_on": "2021-07-01", "batch": 18, "occupation": "none"}),
        json!({"stage": "accepted", "occurred_on": "2021-07-05", "card_number": "5123 4567 8901 2345"}),
    ];
    for e in events {
        let (status, out) = call(
            app,
            &token,
            reqwest::Method::POST,
            &format!("/api/v1/participants/{id}/journey/events"),
            Some(e.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{e} -> {out}");
    }
    let (status, out) = call(
        app,
        &token,
        reqwest::Method::PUT,
        &format!("/api/v1/participants/{id}/reminder-consent"),
        Some(json!({"channel": "whatsapp", "given": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out[0]["channel"], "whatsapp");
    assert_eq!(out[0]["given"], true);
    (token, id)
}

async fn run_rules(app: &TestApp, token: &str, day: &str) -> Value {
    let (status, out) = call(
        app,
        token,
        reqwest::Method::POST,
        "/api/v1/reminders/run",
        Some(json!({"as_of": day})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    out
}

async fn messages(app: &TestApp, token: &str, id: i64) -> Vec<Value> {
    let (status, out) = call(
        app,
        token,
        reqwest::Method::GET,
        &format!("/api/v1/reminders?participant={id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    out.as_array().unwrap().clone()
}

fn signed(body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn whatsapp_webhook(
    app: &TestApp,
    value: Value,
    signature: Option<String>,
) -> reqwest::StatusCode {
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA1", "changes": [{"field": "messages", "value": value}]}]}).to_string();
    let mut r = app
        .client
        .post(app.url("/hooks/whatsapp"))
        .header("content-type", "application/json");
    if let Some(s) = signature
        .or_else(|| Some(signed(&body)))
        .filter(|s| !s.is_empty())
    {
        r = r.header("x-hub-signature-256", s);
    }
    r.body(body).send().await.unwrap().status()
}

async fn deadline_soon_person_gets_one_whatsapp_message(app: &TestApp, provider: &Provider) {
    let (token, id) = accepted_person(app).await;
    // Six days before the deadline the rule (5 days ahead) does not fire; four days before it does.
    let report = run_rules(app, &token, "2021-07-29").await;
    assert_eq!(report["queued"], 0, "{report}");
    let report = run_rules(app, &token, "2021-07-31").await;
    assert_eq!(report["queued"], 1, "{report}");
    // A rerun (tomorrow's run sees the same deadline) never queues twice.
    let report = run_rules(app, &token, "2021-08-01").await;
    assert_eq!(
        (report["queued"].clone(), report["already_queued"].clone()),
        (json!(0), json!(1)),
        "{report}"
    );

    let pass = loket::reminders::send_due(&app.state, Utc::now(), 100)
        .await
        .unwrap();
    assert_eq!(pass.sent, 1, "{pass:?}");
    let again = loket::reminders::send_due(&app.state, Utc::now(), 100)
        .await
        .unwrap();
    assert_eq!(again.sent, 0);

    let bodies = provider.bodies();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let sent = &bodies[0];
    assert_eq!(sent["messaging_product"], "whatsapp");
    assert_eq!(sent["to"], "6281234567890");
    assert_eq!(sent["type"], "text");
    let text = sent["text"]["body"].as_str().unwrap();
    assert!(text.contains("04-08-2021"), "{text}");
    assert!(text.contains("STOP"), "{text}");
    assert!(
        !text.contains(NIK) && !text.contains("1990"),
        "no NIK or birth date: {text}"
    );
    assert!(text.chars().count() <= 160, "{text}");

    let list = messages(app, &token, id).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["status"], "sent");
    assert_eq!(list[0]["reason"], "purchase_deadline_soon");
    assert_eq!(list[0]["channel"], "whatsapp");

    // The provider reports delivery through its signed webhook.
    let status = whatsapp_webhook(app, json!({"statuses": [{"id": "wamid.TEST1", "status": "delivered", "recipient_id": "6281234567890"}]}), None).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert_eq!(messages(app, &token, id).await[0]["status"], "delivered");

    // The officer sees it on the person's messages page, in Indonesian.
    let session = app.session("petugas.r").await;
    let page = session.page(&format!("/reminders/participants/{id}")).await;
    assert!(
        page.contains("Diterima") && page.contains("04-08-2021"),
        "{page}"
    );
    let outbox = session.page("/reminders?status=delivered").await;
    assert!(outbox.contains("Siti Aminah"), "{outbox}");
}

#[tokio::test]
async fn a_deadline_soon_person_gets_one_whatsapp_message() {
    for backend in backends() {
        let (provider, base) = provider(vec![]).await;
        let app = app_with_provider(backend, &base).await;
        eprintln!("running deadline_soon on {backend:?}");
        deadline_soon_person_gets_one_whatsapp_message(&app, &provider).await;
        app.cleanup().await;
    }
}

async fn failure_retries_then_succeeds_once(app: &TestApp, provider: &Provider) {
    let (token, id) = accepted_person(app).await;
    assert_eq!(run_rules(app, &token, "2021-07-31").await["queued"], 1);
    let now = Utc::now();
    let send = |at| loket::reminders::send_due(&app.state, at, 100);
    // 500: back to the queue, due again after the backoff (1 s, then 2 s).
    let pass = send(now).await.unwrap();
    assert_eq!((pass.sent, pass.retried), (0, 1), "{pass:?}");
    assert_eq!(messages(app, &token, id).await[0]["status"], "queued");
    assert!(messages(app, &token, id).await[0]["provider_answer"]
        .as_str()
        .unwrap()
        .starts_with("500"));
    assert_eq!(
        send(now).await.unwrap(),
        Default::default(),
        "not due before its backoff"
    );
    // A slow answer past our timeout: retried as well.
    let pass = send(now + chrono::Duration::seconds(2)).await.unwrap();
    assert_eq!(pass.retried, 1, "{pass:?}");
    assert_eq!(
        messages(app, &token, id).await[0]["provider_answer"],
        "timeout"
    );
    // Then the provider takes it, once, even with two workers at it.
    let later = now + chrono::Duration::seconds(10);
    let (a, b) = tokio::join!(send(later), send(later));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent + b.sent, 1, "{a:?} {b:?}");
    assert_eq!(
        send(later + chrono::Duration::hours(1)).await.unwrap().sent,
        0
    );
    assert_eq!(provider.accepted(), 1);
    let m = &messages(app, &token, id).await[0];
    assert_eq!(m["status"], "sent");
    assert_eq!(m["attempts"], 3);
}

#[tokio::test]
async fn a_provider_failure_retries_then_succeeds_exactly_once() {
    for backend in backends() {
        let slow = Plan {
            status: 200,
            delay: Duration::from_millis(1500),
        };
        let fail = Plan {
            status: 500,
            delay: Duration::ZERO,
        };
        let (provider, base) = provider(vec![fail, slow]).await;
        let app = app_with_provider(backend, &base).await;
        eprintln!("running failure_retries on {backend:?}");
        failure_retries_then_succeeds_once(&app, &provider).await;
        app.cleanup().await;
    }
}

async fn stop_ends_messages(app: &TestApp, provider: &Provider) {
    let (token, id) = accepted_person(app).await;
    assert_eq!(run_rules(app, &token, "2021-07-31").await["queued"], 1);
    loket::reminders::send_due(&app.state, Utc::now(), 100)
        .await
        .unwrap();
    assert_eq!(provider.bodies().len(), 1);
    let stop = json!({"messages": [{"from": "6281234567890", "id": "wamid.IN1", "type": "text", "text": {"body": "STOP"}}]});
    // Unsigned or wrongly signed: refused, nothing changes.
    assert_eq!(
        whatsapp_webhook(app, stop.clone(), Some(String::new())).await,
        reqwest::StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        whatsapp_webhook(app, stop.clone(), Some("sha256=00".into())).await,
        reqwest::StatusCode::UNAUTHORIZED
    );
    let (_, consent) = call(
        app,
        &token,
        reqwest::Method::GET,
        &format!("/api/v1/participants/{id}/reminder-consent"),
        None,
    )
    .await;
    assert_eq!(consent[0]["given"], true);
    // The person replies STOP.
    assert_eq!(
        whatsapp_webhook(app, stop, None).await,
        reqwest::StatusCode::OK
    );
    let (_, consent) = call(
        app,
        &token,
        reqwest::Method::GET,
        &format!("/api/v1/participants/{id}/reminder-consent"),
        None,
    )
    .await;
    assert_eq!(consent[0]["given"], false, "{consent}");
    assert_eq!(consent[0]["withdrawn_how"], "stop_reply");
    // No more messages: a later reason is not queued, nothing more is sent.
    let queued = loket::reminders::queue(
        &app.state,
        None,
        loket::reminders::QueueInput {
            participant_id: id,
            counter_id: Some(app.counter_a),
            province_code: None,
            reason: loket::reminders::Reason::VisitBooked,
            day: chrono::NaiveDate::from_ymd_opt(2021, 8, 2).unwrap(),
            phone: Some("+6281234567890".into()),
        },
    )
    .await
    .unwrap();
    assert_eq!(queued, loket::reminders::Queued::NoConsent);
    loket::reminders::send_due(&app.state, Utc::now(), 100)
        .await
        .unwrap();
    assert_eq!(provider.bodies().len(), 1);
    let session = app.session("petugas.r").await;
    let page = session.page(&format!("/reminders/participants/{id}")).await;
    assert!(page.contains("berhenti (balasan STOP)"), "{page}");

    // By SMS: consent again at the counter, then STOP through the gateway's webhook.
    call(
        app,
        &token,
        reqwest::Method::PUT,
        &format!("/api/v1/participants/{id}/reminder-consent"),
        Some(json!({"channel": "sms", "given": true})),
    )
    .await;
    let hook = |secret: &'static str| {
        app.client
            .post(app.url("/hooks/sms"))
            .header("x-loket-secret", secret)
            .json(&json!({"from": "081234567890", "text": "stop"}))
            .send()
    };
    assert_eq!(
        hook("guess").await.unwrap().status(),
        reqwest::StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        hook(SMS_SECRET).await.unwrap().status(),
        reqwest::StatusCode::OK
    );
    let (_, consent) = call(
        app,
        &token,
        reqwest::Method::GET,
        &format!("/api/v1/participants/{id}/reminder-consent"),
        None,
    )
    .await;
    assert_eq!(consent[1]["channel"], "sms");
    assert_eq!(consent[1]["given"], false, "{consent}");
}

#[tokio::test]
async fn a_stop_reply_ends_messages() {
    for backend in backends() {
        let (provider, base) = provider(vec![]).await;
        let app = app_with_provider(backend, &base).await;
        eprintln!("running stop on {backend:?}");
        stop_ends_messages(&app, &provider).await;
        app.cleanup().await;
    }
}

async fn status_form(app: &TestApp, code: &str, birth: &str) -> (reqwest::StatusCode, String) {
    let r = app
        .client
        .post(app.url(&format!("/s/{code}")))
        .form(&[("birth_date", birth)])
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn status_page_shows_the_next_step(app: &TestApp) {
    let (token, id) = accepted_person(app).await;
    let (status, link) = call(
        app,
        &token,
        reqwest::Method::POST,
        &format!("/api/v1/participants/{id}/status-link"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{link}");
    let code = link["code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 10);
    let (_, journey) = call(
        app,
        &token,
        reqwest::Method::GET,
        &format!("/api/v1/participants/{id}/journey"),
        None,
    )
    .await;
    let next_step = journey["next_step"].as_str().unwrap().to_string();

    let form = app
        .client
        .get(app.url(&format!("/s/{code}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains("Tanggal lahir"), "{form}");
    assert!(!form.contains("Siti"), "the form alone shows nobody");

    let (status, page) = status_form(app, &code, "05-05-1990").await;
    assert_eq!(status, reqwest::StatusCode::OK, "{page}");
    assert!(page.contains(&next_step), "{next_step} not in {page}");
    assert!(page.contains("Diterima"), "{page}");
    assert!(page.contains("Loket A"), "{page}");
    assert!(!page.contains(NIK) && !page.contains("3201 0145"), "no NIK");

    // A wrong date or a guessed code: the same answer, nothing revealed.
    let (s1, wrong) = status_form(app, &code, "06-05-1990").await;
    let (s2, guessed) = status_form(app, "ABCDEFGHJK", "05-05-1990").await;
    assert_eq!(
        (s1, s2),
        (
            reqwest::StatusCode::UNPROCESSABLE_ENTITY,
            reqwest::StatusCode::UNPROCESSABLE_ENTITY
        )
    );
    for p in [&wrong, &guessed] {
        assert!(p.contains("Kode atau tanggal lahir tidak cocok"), "{p}");
        assert!(!p.contains(&next_step) && !p.contains("Loket A"), "{p}");
    }
    // Five wrong dates lock the link, even for the right date.
    for _ in 0..4 {
        status_form(app, &code, "01-01-1980").await;
    }
    let (status, _) = status_form(app, &code, "05-05-1990").await;
    assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "locked");
    // A new code works; revoked, it reveals nothing.
    let (_, link) = call(
        app,
        &token,
        reqwest::Method::POST,
        &format!("/api/v1/participants/{id}/status-link"),
        None,
    )
    .await;
    let fresh = link["code"].as_str().unwrap().to_string();
    assert_eq!(
        status_form(app, &fresh, "05-05-1990").await.0,
        reqwest::StatusCode::OK
    );
    let (_, revoked) = call(
        app,
        &token,
        reqwest::Method::POST,
        &format!("/api/v1/participants/{id}/status-link/revoke"),
        None,
    )
    .await;
    assert_eq!(revoked["revoked"], 2);
    assert_eq!(
        status_form(app, &fresh, "05-05-1990").await.0,
        reqwest::StatusCode::UNPROCESSABLE_ENTITY
    );
    // Every view is audited.
    let views: i64 = match &app.state.db {
        loket::db::Db::Sqlite(pool) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'status_link.view'")
                .fetch_one(pool)
                .await
                .unwrap()
        }
        loket::db::Db::Postgres(pool) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'status_link.view'")
                .fetch_one(pool)
                .await
                .unwrap()
        }
    };
    // Shown twice, a wrong date five times, the locked and the revoked link once each (a
    // guessed code names nobody: it is only throttled).
    assert_eq!(views, 9);
    // Guessing from one address is throttled: after 20 failures even a good code waits.
    let (_, link) = call(
        app,
        &token,
        reqwest::Method::POST,
        &format!("/api/v1/participants/{id}/status-link"),
        None,
    )
    .await;
    let good = link["code"].as_str().unwrap().to_string();
    for n in 0..12 {
        status_form(app, &format!("GUESS{n:05}"), "05-05-1990").await;
    }
    let (status, page) = status_form(app, &good, "05-05-1990").await;
    assert_eq!(status, reqwest::StatusCode::TOO_MANY_REQUESTS, "{page}");
    assert!(!page.contains(&next_step));
}

#[tokio::test]
async fn the_status_page_shows_the_next_step_and_nothing_to_a_guess() {
    for backend in backends() {
        let (_provider, base) = provider(vec![]).await;
        let app = app_with_provider(backend, &base).await;
        eprintln!("running status page on {backend:?}");
        status_page_shows_the_next_step(&app).await;
        app.cleanup().await;
    }
}

async fn sms_gateway_carries_a_message_and_reports_delivery(app: &TestApp, provider: &Provider) {
    let (token, id) = accepted_person(app).await;
    // WhatsApp withdrawn at the counter, SMS agreed: the rule's next channel carries it.
    for (channel, given) in [("whatsapp", false), ("sms", true)] {
        let (status, _) = call(
            app,
            &token,
            reqwest::Method::PUT,
            &format!("/api/v1/participants/{id}/reminder-consent"),
            Some(json!({"channel": channel, "given": given})),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(run_rules(app, &token, "2021-07-31").await["queued"], 1);
    let pass = loket::reminders::send_due(&app.state, Utc::now(), 100)
        .await
        .unwrap();
    assert_eq!(pass.sent, 1, "{pass:?}");
    let received = provider.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let (path, body) = &received[0];
    assert_eq!(path, "/sms");
    assert_eq!(body["to"], "6281234567890");
    assert!(body["text"].as_str().unwrap().contains("04-08-2021"));
    let reference = body["ref"].as_str().unwrap().to_string();
    let m = &messages(app, &token, id).await[0];
    assert_eq!(
        (m["channel"].as_str(), m["status"].as_str()),
        (Some("sms"), Some("sent"))
    );
    // The gateway reports delivery with its own message id.
    let r = app
        .client
        .post(app.url("/hooks/sms"))
        .header("x-loket-secret", SMS_SECRET)
        .json(&json!({"id": format!("sms-{reference}"), "status": "DELIVRD"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    assert_eq!(messages(app, &token, id).await[0]["status"], "delivered");
}

#[tokio::test]
async fn an_sms_gateway_carries_a_message_and_reports_delivery() {
    for backend in backends() {
        let (provider, base) = provider(vec![]).await;
        let app = app_with_provider(backend, &base).await;
        eprintln!("running sms on {backend:?}");
        sms_gateway_carries_a_message_and_reports_delivery(&app, &provider).await;
        app.cleanup().await;
    }
}
