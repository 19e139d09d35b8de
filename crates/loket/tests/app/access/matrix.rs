//! Every route, called as every role, in and out of scope, with the status each must get.
//! A route added to the code without a row here fails `every_route_has_a_matrix_row`.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use loket::auth::Role;
use loket::participants::model::*;
use loket::participants::store;
use reqwest::Method;
use serde_json::json;

use crate::common::{
    audited_by_test, csrf_in, post_login, registration_at, session_cookie, TestApp, PASSWORD,
};
use crate::on_each_backend;

/// The callers, in the order of each row's expected statuses.
#[derive(Clone, Copy, Debug)]
enum Who {
    Anonymous,
    Admin,
    KoordinatorIn,
    KoordinatorOut,
    PetugasIn,
    PetugasOut,
    Auditor,
    Mitra,
    Lembaga,
}

const WHO: [Who; 9] = [
    Who::Anonymous,
    Who::Admin,
    Who::KoordinatorIn,
    Who::KoordinatorOut,
    Who::PetugasIn,
    Who::PetugasOut,
    Who::Auditor,
    Who::Mitra,
    Who::Lembaga,
];

/// (method, path, body kind, expected status per caller in `WHO` order). `{id}` is a person
/// registered at counter A (in scope for the "In" callers, out of scope for the "Out" ones).
type Row = (&'static str, &'static str, Body, [u16; 9]);

#[derive(Clone, Copy, Debug)]
enum Body {
    None,
    Json(&'static str),
    Form(&'static str),
}

#[rustfmt::skip]
const ROWS: &[Row] = &[
    //                                                           anon admin kIn kOut pIn pOut audit mitra lembaga
    ("GET", "/healthz", Body::None, [200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET", "/livez", Body::None, [200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET", "/api/openapi.json", Body::None, [200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST", "/api/v1/participants", Body::Json("register"), [401, 201, 201, 201, 201, 201, 403, 403, 403]),
    ("GET", "/api/v1/participants?nik={nik}", Body::None, [401, 200, 200, 200, 200, 200, 200, 403, 403]),
    ("GET", "/api/v1/participants/{id}", Body::None, [401, 200, 200, 403, 200, 403, 200, 403, 403]),
    ("PATCH", "/api/v1/participants/{id}", Body::Json("patch"), [401, 200, 200, 403, 200, 403, 403, 403, 403]),
    ("POST", "/api/v1/participants/{id}/reassign", Body::Json("reassign"), [401, 200, 200, 403, 403, 403, 403, 403, 403]),
    ("POST", "/api/v1/participants/{id}/referrals", Body::Json("refer"), [401, 204, 204, 403, 204, 403, 403, 403, 403]),
    ("GET", "/api/v1/participants/{id}/consents", Body::None, [401, 200, 200, 403, 200, 403, 200, 403, 403]),
    ("POST", "/api/v1/participants/{id}/consents", Body::Json("consent"), [401, 200, 200, 403, 200, 403, 403, 403, 403]),
    ("GET", "/api/v1/audit", Body::None, [401, 200, 403, 403, 403, 403, 200, 403, 403]),
    ("GET", "/api/v1/exchange/participants", Body::None, [401, 403, 403, 403, 403, 403, 403, 200, 403]),
    ("GET", "/api/v1/exchange/uploads/{uid}", Body::None, [401, 200, 403, 403, 403, 403, 403, 403, 403]),
    ("POST", "/api/v1/exchange/uploads/{uid}/retry", Body::None, [401, 409, 403, 403, 403, 403, 403, 403, 403]),
    ("GET", "/", Body::None, [303, 303, 303, 303, 303, 303, 303, 303, 303]),
    ("GET", "/login", Body::None, [200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST", "/login", Body::Form("bad_login"), [403, 403, 403, 403, 403, 403, 403, 403, 403]),
    ("POST", "/logout", Body::Form("csrf"), [303, 303, 303, 303, 303, 303, 303, 403, 303]),
    ("GET", "/lang/{lang}", Body::None, [303, 303, 303, 303, 303, 303, 303, 303, 303]),
    ("GET", "/static/app.css", Body::None, [200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET", "/participants", Body::None, [303, 200, 200, 200, 200, 200, 200, 403, 403]),
    ("GET", "/participants/new", Body::None, [303, 200, 200, 200, 200, 200, 403, 403, 403]),
    ("POST", "/participants/new", Body::Form("register"), [303, 303, 303, 303, 303, 303, 403, 403, 403]),
    ("GET", "/participants/{id}", Body::None, [303, 200, 200, 403, 200, 403, 200, 403, 403]),
    ("GET", "/participants/{id}/edit", Body::None, [303, 200, 200, 403, 200, 403, 403, 403, 403]),
    ("POST", "/participants/{id}/edit", Body::Form("edit"), [303, 303, 303, 403, 303, 403, 403, 403, 403]),
    ("POST", "/participants/{id}/consent", Body::Form("consent"), [303, 303, 303, 403, 303, 403, 403, 403, 403]),
    ("POST", "/participants/{id}/reassign", Body::Form("move"), [303, 303, 303, 403, 403, 403, 403, 403, 403]),
    ("POST", "/participants/{id}/refer", Body::Form("move"), [303, 303, 303, 403, 303, 403, 403, 403, 403]),
    ("GET", "/audit", Body::None, [303, 200, 403, 403, 403, 403, 200, 403, 403]),
    ("GET", "/audit/export?reason=pemeriksaan+rutin&format=csv", Body::None, [303, 200, 403, 403, 403, 403, 200, 403, 403]),
    // Training catalogue (issue 6): no personal data, so partners may read it through the API.
    ("GET", "/api/v1/catalog/trainings?q=menjahit", Body::None, [401, 200, 200, 200, 200, 200, 200, 200, 403]),
    ("GET", "/api/v1/catalog/trainings/{tid}", Body::None, [401, 200, 200, 200, 200, 200, 200, 200, 403]),
    ("GET", "/api/v1/participants/{id}/recommendations", Body::None, [401, 200, 200, 403, 200, 403, 200, 403, 403]),
    ("GET", "/catalog", Body::None, [303, 200, 200, 200, 200, 200, 200, 403, 403]),
    ("GET", "/catalog/trainings/{tid}", Body::None, [303, 200, 200, 200, 200, 200, 200, 403, 403]),
    ("GET", "/catalog/institutions/{iid}", Body::None, [303, 200, 200, 200, 200, 200, 200, 403, 403]),
    ("GET", "/participants/{id}/recommendations", Body::None, [303, 200, 200, 403, 200, 403, 200, 403, 403]),
    ("POST", "/catalog/trainings/{tid}/status", Body::Form("training_status"), [303, 303, 403, 403, 403, 403, 403, 403, 403]),
    // Counter network and dashboard (issue 4): aggregates and staff, no Purna PMI records.
    ("GET", "/api/v1/counters", Body::None, [401, 200, 200, 200, 200, 200, 200, 403, 403]),
    ("GET", "/api/v1/dashboard", Body::None, [401, 200, 200, 200, 200, 200, 200, 403, 403]),
    ("GET", "/api/v1/officers/{oid}", Body::None, [401, 404, 404, 404, 404, 404, 404, 403, 403]),
    ("POST", "/api/v1/officers", Body::Json("officer"), [401, 200, 403, 403, 403, 403, 403, 403, 403]),
    ("GET", "/api/v1/targets", Body::None, [401, 200, 200, 200, 200, 200, 200, 403, 403]),
    ("PUT", "/api/v1/targets", Body::Json("target"), [401, 204, 403, 403, 403, 403, 403, 403, 403]),
    ("PUT", "/api/v1/settings/{key}", Body::Json("setting"), [401, 204, 403, 403, 403, 403, 403, 403, 403]),
    ("POST", "/api/v1/counters/{cid}/status", Body::Json("counter_status"), [401, 422, 422, 403, 403, 403, 403, 403, 403]),
    ("POST", "/api/v1/tot/batches", Body::Json("tot_batch"), [401, 200, 403, 403, 403, 403, 403, 403, 403]),
    ("POST", "/api/v1/tot/batches/{bid}/results", Body::Json("tot_result"), [401, 422, 403, 403, 403, 403, 403, 403, 403]),
    ("GET", "/counters", Body::None, [303, 200, 200, 200, 200, 200, 200, 403, 403]),
    ("GET", "/counters/{cid}", Body::None, [303, 200, 200, 200, 200, 200, 200, 403, 403]),
    ("POST", "/counters/{cid}", Body::Form("counter_status"), [303, 422, 422, 403, 403, 403, 403, 403, 403]),
    ("GET", "/dashboard", Body::None, [303, 200, 200, 200, 200, 200, 200, 403, 403]),
    ("GET", "/dashboard/download/{chart}", Body::None, [303, 200, 200, 200, 200, 200, 200, 403, 403]),
    ("GET", "/officers", Body::None, [303, 200, 200, 200, 200, 200, 200, 403, 403]),
    // Targets (issue 18): everyone who sees the dashboard sees them; head office sets them.
    ("GET", "/targets", Body::None, [303, 200, 200, 200, 200, 200, 200, 403, 403]),
    ("POST", "/targets", Body::Form("target"), [303, 303, 403, 403, 403, 403, 403, 403, 403]),
    // The Prakerja journey (issue 5): a person's journey follows the person's scope.
    ("GET", "/api/v1/participants/{id}/journey", Body::None, [401, 200, 200, 403, 200, 403, 200, 403, 403]),
    ("GET", "/api/v1/participants/{id}/journey/eligibility?batch=20", Body::None, [401, 422, 422, 403, 422, 403, 422, 403, 403]),
    ("POST", "/api/v1/participants/{id}/journey/events", Body::Json("journey_event"), [401, 201, 201, 403, 201, 403, 403, 403, 403]),
    ("POST", "/api/v1/participants/{id}/journey/events/{eid}/correction", Body::Json("journey_correction"), [401, 422, 422, 403, 422, 403, 403, 403, 403]),
    ("POST", "/api/v1/participants/{id}/journey/sessions", Body::Json("journey_session"), [401, 422, 422, 403, 422, 403, 403, 403, 403]),
    ("POST", "/api/v1/participants/{id}/journey/contacts", Body::Json("journey_contact"), [401, 201, 201, 403, 201, 403, 403, 403, 403]),
    ("GET", "/api/v1/journey/follow-up?counter={cid}", Body::None, [401, 200, 200, 403, 200, 403, 403, 403, 403]),
    ("GET", "/api/v1/journey/funnel", Body::None, [401, 200, 403, 403, 403, 403, 200, 403, 403]),
    ("GET", "/api/v1/journey/schemes", Body::None, [401, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST", "/api/v1/journey/schemes", Body::Json("journey_scheme"), [401, 201, 403, 403, 403, 403, 403, 403, 403]),
    ("POST", "/api/v1/journey/batches", Body::Json("journey_batch"), [401, 201, 403, 403, 403, 403, 403, 403, 403]),
    ("GET", "/participants/{id}/journey", Body::None, [303, 200, 200, 403, 200, 403, 200, 403, 403]),
    ("POST", "/participants/{id}/journey/events", Body::Form("csrf"), [303, 422, 422, 403, 422, 403, 403, 403, 403]),
    ("POST", "/participants/{id}/journey/events/{eid}/correct", Body::Form("csrf"), [303, 422, 422, 403, 422, 403, 403, 403, 403]),
    ("POST", "/participants/{id}/journey/sessions", Body::Form("csrf"), [303, 422, 422, 403, 422, 403, 403, 403, 403]),
    ("POST", "/participants/{id}/journey/contacts", Body::Form("csrf"), [303, 422, 422, 403, 422, 403, 403, 403, 403]),
    ("GET", "/journey/follow-up?counter={cid}", Body::None, [303, 200, 200, 403, 200, 403, 403, 403, 403]),
    // The page opens on the person's own scope; the nation stays head office's and auditors'.
    ("GET", "/journey/funnel", Body::None, [303, 200, 200, 200, 200, 200, 200, 403, 403]),
    ("GET", "/journey/funnel?scope=nation", Body::None, [303, 200, 403, 403, 403, 403, 200, 403, 403]),
    ("GET", "/journey/funnel/download", Body::None, [303, 200, 200, 200, 200, 200, 200, 403, 403]),
    ("GET", "/journey/funnel/download?scope=nation&format=xlsx", Body::None, [303, 200, 403, 403, 403, 403, 200, 403, 403]),
    // Exchange with the programme office (issue 7): head office only; the outreach list is
    // every counter's own (upload 1 is still linking, so reviewing or applying it is refused).
    ("GET", "/exchange", Body::None, [303, 200, 403, 403, 403, 403, 403, 403, 403]),
    ("POST", "/exchange/uploads", Body::Form("csrf"), [303, 400, 403, 403, 403, 403, 403, 403, 403]),
    ("POST", "/exchange/master", Body::Form("csrf"), [303, 400, 403, 403, 403, 403, 403, 403, 403]),
    ("GET", "/exchange/uploads/{uid}", Body::None, [303, 200, 403, 403, 403, 403, 403, 403, 403]),
    ("POST", "/exchange/uploads/{uid}/rows/{rid}", Body::Form("review"), [303, 409, 403, 403, 403, 403, 403, 403, 403]),
    ("POST", "/exchange/uploads/{uid}/apply", Body::Form("csrf"), [303, 409, 403, 403, 403, 403, 403, 403, 403]),
    ("POST", "/exchange/uploads/{uid}/retry", Body::Form("csrf"), [303, 409, 403, 403, 403, 403, 403, 403, 403]),
    ("POST", "/exchange/status-export", Body::Form("export"), [303, 200, 403, 403, 403, 403, 403, 403, 403]),
    ("GET", "/exchange/outreach", Body::None, [303, 200, 200, 200, 200, 200, 403, 403, 403]),
    // Reminders (issue 17): a person's consent and codes follow their scope; the rules are head
    // office's; the status page and the providers' webhooks need no account (a code and birth
    // date, or the provider's signature: none is configured here, so every webhook is refused).
    ("GET", "/api/v1/reminders", Body::None, [401, 200, 200, 200, 200, 200, 403, 403, 403]),
    ("POST", "/api/v1/reminders/run", Body::Json("reminders_run"), [401, 422, 200, 200, 200, 200, 403, 403, 403]),
    ("GET", "/api/v1/participants/{id}/reminder-consent", Body::None, [401, 200, 200, 403, 200, 403, 403, 403, 403]),
    ("PUT", "/api/v1/participants/{id}/reminder-consent", Body::Json("reminder_consent"), [401, 200, 200, 403, 200, 403, 403, 403, 403]),
    ("POST", "/api/v1/participants/{id}/status-link", Body::None, [401, 200, 200, 403, 200, 403, 403, 403, 403]),
    ("POST", "/api/v1/participants/{id}/status-link/revoke", Body::None, [401, 200, 200, 403, 200, 403, 403, 403, 403]),
    ("GET", "/hooks/whatsapp?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1", Body::None, [403, 403, 403, 403, 403, 403, 403, 403, 403]),
    ("POST", "/hooks/whatsapp", Body::Json("reminders_run"), [401, 401, 401, 401, 401, 401, 401, 401, 401]),
    ("POST", "/hooks/sms", Body::Json("sms_hook"), [401, 401, 401, 401, 401, 401, 401, 401, 401]),
    ("GET", "/reminders", Body::None, [303, 200, 200, 200, 200, 200, 403, 403, 403]),
    ("POST", "/reminders/run", Body::Form("csrf"), [303, 422, 200, 200, 200, 200, 403, 403, 403]),
    ("GET", "/reminders/participants/{id}", Body::None, [303, 200, 200, 403, 200, 403, 403, 403, 403]),
    ("POST", "/reminders/participants/{id}/consent", Body::Form("reminder_consent"), [303, 303, 303, 403, 303, 403, 403, 403, 403]),
    ("POST", "/reminders/participants/{id}/link", Body::Form("csrf"), [303, 200, 200, 403, 200, 403, 403, 403, 403]),
    ("POST", "/reminders/participants/{id}/revoke", Body::Form("csrf"), [303, 303, 303, 403, 303, 403, 403, 403, 403]),
    ("GET", "/reminders/rules", Body::None, [303, 200, 403, 403, 403, 403, 403, 403, 403]),
    ("POST", "/reminders/rules", Body::Form("reminder_rule"), [303, 303, 403, 403, 403, 403, 403, 403, 403]),
    // `{lang}` stands for the code here (a code nobody was given: the form, then no match).
    ("GET", "/s/{lang}", Body::None, [200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST", "/s/{lang}", Body::Form("status_birth"), [422, 422, 422, 422, 422, 422, 422, 422, 422]),
    // Permintaan akses (issue 14): the person is at counter A; counter B's people ask, A's
    // answer ({qid} is a fresh request from counter B). Head office has no counter to ask for
    // (409), and whoever already reaches the person needs no request (409).
    ("GET", "/api/v1/access-requests", Body::None, [401, 200, 200, 200, 200, 200, 403, 403, 403]),
    ("GET", "/api/v1/access-requests/holder?nik={nik}", Body::None, [401, 404, 404, 200, 404, 200, 404, 403, 403]),
    ("POST", "/api/v1/access-requests", Body::Json("access_request"), [401, 409, 409, 201, 409, 201, 403, 403, 403]),
    ("POST", "/api/v1/access-requests/{qid}/answer", Body::Json("access_answer"), [401, 200, 200, 403, 200, 403, 403, 403, 403]),
    ("GET", "/access-requests", Body::None, [303, 200, 200, 200, 200, 200, 403, 403, 403]),
    ("POST", "/access-requests", Body::Form("access_request"), [303, 409, 409, 303, 409, 303, 403, 403, 403]),
    ("POST", "/access-requests/{qid}/answer", Body::Form("access_answer"), [303, 303, 303, 403, 303, 403, 403, 403, 403]),
    // The counter floor (issue 16): officers their counter, coordinators their office, head
    // office all; auditors read the figures only. {fid} is a waiting ticket at counter A,
    // {vid} today's appointment there, {sid} a seat there; the kiosk and display need no login.
    ("GET", "/floor", Body::None, [303, 200, 200, 200, 200, 200, 403, 403, 403]),
    ("GET", "/floor?counter={cid}", Body::None, [303, 200, 200, 403, 200, 403, 403, 403, 403]),
    ("POST", "/floor/{cid}/tickets", Body::Form("ticket"), [303, 303, 303, 403, 303, 403, 403, 403, 403]),
    ("POST", "/floor/{cid}/call", Body::Form("csrf"), [303, 303, 303, 403, 303, 403, 403, 403, 403]),
    ("GET", "/floor/tickets/{fid}/slip", Body::None, [303, 200, 200, 403, 200, 403, 403, 403, 403]),
    ("POST", "/floor/tickets/{fid}/{action}", Body::Form("csrf"), [303, 303, 303, 403, 303, 403, 403, 403, 403]),
    ("POST", "/floor/visits/{vid}/arrive", Body::Form("csrf"), [303, 303, 409, 403, 409, 403, 403, 403, 403]),
    ("GET", "/floor/{cid}/setup", Body::None, [303, 200, 200, 403, 403, 403, 403, 403, 403]),
    ("POST", "/floor/{cid}/setup", Body::Form("hours"), [303, 303, 303, 403, 403, 403, 403, 403, 403]),
    ("GET", "/floor/{cid}/seats", Body::None, [303, 200, 200, 403, 200, 403, 403, 403, 403]),
    ("POST", "/floor/{cid}/seats", Body::Form("seat"), [303, 303, 303, 403, 403, 403, 403, 403, 403]),
    ("POST", "/floor/{cid}/seats/book", Body::Form("booking"), [303, 303, 303, 403, 303, 403, 403, 403, 403]),
    ("GET", "/floor/appointments?participant={id}&counter={cid}", Body::None, [303, 200, 200, 403, 200, 403, 403, 403, 403]),
    ("POST", "/floor/appointments", Body::Form("appointment"), [303, 303, 303, 403, 303, 403, 403, 403, 403]),
    ("GET", "/floor/figures", Body::None, [303, 200, 200, 200, 200, 200, 200, 403, 403]),
    ("GET", "/floor/figures.csv", Body::None, [303, 200, 200, 200, 200, 200, 200, 403, 403]),
    ("GET", "/kiosk/{token}", Body::None, [200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST", "/kiosk/{token}", Body::Form("ticket"), [200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET", "/display/{token}", Body::None, [200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET", "/display/{token}/events", Body::None, [200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET", "/static/floor-display.js", Body::None, [200, 200, 200, 200, 200, 200, 200, 200, 200]),
    // Last: a new link ends the old one.
    ("POST", "/floor/{cid}/link", Body::Form("csrf"), [303, 303, 303, 403, 403, 403, 403, 403, 403]),
    // Partner programmes and programme referrals (issue 15). {rfid} is a referral of a person
    // at counter A to the demo agency's programme, sent; the agency accepts it through the API
    // and starts it through the page (the counter side may not: 409), and only the agency (with
    // its token's grant) reaches its own pages and search.
    ("GET", "/api/v1/programmes", Body::None, [401, 200, 200, 200, 200, 200, 200, 403, 403]),
    ("GET", "/api/v1/programmes/caseload?counter={cid}", Body::None, [401, 200, 200, 403, 200, 403, 200, 403, 403]),
    ("GET", "/api/v1/participants/{id}/programmes", Body::None, [401, 200, 200, 403, 200, 403, 200, 403, 403]),
    ("GET", "/api/v1/participants/{id}/programme-referrals", Body::None, [401, 200, 200, 403, 200, 403, 200, 403, 403]),
    ("POST", "/api/v1/participants/{id}/programme-referrals", Body::Json("programme_refer"), [401, 201, 201, 403, 201, 403, 403, 403, 403]),
    ("POST", "/api/v1/programme-referrals/{rfid}/status", Body::Json("referral_accept"), [401, 409, 409, 403, 409, 403, 403, 403, 200]),
    ("POST", "/api/v1/partner/programme-referrals/search", Body::Json("dci_search"), [401, 403, 403, 403, 403, 403, 403, 403, 200]),
    ("GET", "/programmes", Body::None, [303, 200, 200, 200, 200, 200, 200, 403, 403]),
    ("GET", "/programmes/report.csv", Body::None, [303, 200, 200, 200, 200, 200, 200, 403, 403]),
    ("GET", "/participants/{id}/programmes", Body::None, [303, 200, 200, 403, 200, 403, 200, 403, 403]),
    ("POST", "/participants/{id}/programmes", Body::Form("programme_refer"), [303, 303, 303, 403, 303, 403, 403, 403, 403]),
    ("POST", "/programme-referrals/{rfid}", Body::Form("referral_start"), [303, 409, 409, 403, 409, 403, 403, 403, 303]),
    ("GET", "/lembaga", Body::None, [303, 403, 403, 403, 403, 403, 403, 403, 200]),
    ("GET", "/lembaga?status=sent", Body::None, [303, 403, 403, 403, 403, 403, 403, 403, 200]),
    ("GET", "/lembaga/programmes", Body::None, [303, 403, 403, 403, 403, 403, 403, 403, 200]),
    ("GET", "/lembaga/referrals/{rfid}", Body::None, [303, 403, 403, 403, 403, 403, 403, 403, 200]),
];

/// The (METHOD, path) pairs the source code routes, read from every `.route("…", …)` call.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut dirs = vec![std::path::PathBuf::from(src)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for call in text.split(".route(").skip(1) {
                    let Some(route) = call.split('"').nth(1) else {
                        continue;
                    };
                    // The method router ends where the next statement or route begins.
                    let body: String = call
                        .split(['\n'])
                        .take_while(|l| {
                            !l.trim_start().starts_with(".route(") && !l.contains(".merge(")
                        })
                        .take(8)
                        .collect();
                    let body = &body[..body.find(".layer(").unwrap_or(body.len())];
                    for m in ["get", "post", "patch", "put", "delete"] {
                        let needle = format!("{m}(");
                        let hit = body.match_indices(&needle).any(|(i, _)| {
                            i == 0
                                || !body.as_bytes()[i - 1].is_ascii_alphanumeric()
                                    && body.as_bytes()[i - 1] != b'_'
                        });
                        if hit {
                            found.insert((m.to_uppercase(), route.to_string()));
                        }
                    }
                }
            }
        }
    }
    found
}

fn template(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    [
        "{tid}", "{iid}", "{oid}", "{cid}", "{bid}", "{uid}", "{qid}", "{tid}", "{iid}", "{oid}",
        "{cid}", "{bid}", "{uid}", "{fid}", "{vid}", "{rfid}",
    ]
    .iter()
    .fold(
        path.replace("{eid}", "{event_id}")
            .replace("{rid}", "{row_id}"),
        |p, k| p.replace(k, "{id}"),
    )
}

#[test]
fn every_route_has_a_matrix_row() {
    let in_matrix: BTreeSet<(String, String)> = ROWS
        .iter()
        .map(|(m, p, _, _)| (m.to_string(), template(p).replace("{lang}", "{code}")))
        .collect();
    let in_source = routes_in_source();
    assert!(in_source.len() >= 25, "found only {in_source:?}");
    let missing: Vec<_> = in_source.difference(&in_matrix).collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the authorisation matrix: {missing:?}"
    );
    let stale: Vec<_> = in_matrix.difference(&in_source).collect();
    assert!(
        stale.is_empty(),
        "matrix rows for routes that no longer exist: {stale:?}"
    );
}

struct Caller {
    token: Option<String>,
    cookie: Option<String>,
    csrf: String,
}

/// A session of `username` as (cookie, CSRF token), kept by the caller: one client holds many.
async fn session(app: &TestApp, username: &str) -> (String, String) {
    let response = post_login(&app.client, app, username, PASSWORD).await;
    assert_eq!(response.status(), 303, "{username} signs in");
    let cookie = session_cookie(&response);
    let page = app
        .client
        .get(app.url("/participants"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = match csrf_in(&page) {
        Some(csrf) => csrf,
        // Agency staff have no officer page: their own page carries the token.
        None => {
            let page = app
                .client
                .get(app.url("/lembaga"))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            csrf_in(&page).unwrap_or_default()
        }
    };
    (cookie, csrf)
}

async fn caller(app: &TestApp, who: Who) -> Caller {
    let (name, role, counter) = match who {
        Who::Anonymous => {
            return Caller {
                token: None,
                cookie: None,
                csrf: String::new(),
            }
        }
        Who::Admin => ("m.admin", Role::Admin, None),
        Who::KoordinatorIn => ("m.koord.a", Role::Koordinator, Some(app.counter_a)),
        Who::KoordinatorOut => ("m.koord.b", Role::Koordinator, Some(app.counter_b)),
        Who::PetugasIn => ("m.petugas.a", Role::Petugas, Some(app.counter_a)),
        Who::PetugasOut => ("m.petugas.b", Role::Petugas, Some(app.counter_b)),
        Who::Auditor => ("m.auditor", Role::Auditor, None),
        Who::Mitra => ("m.mitra", Role::Mitra, None),
        Who::Lembaga => ("m.lembaga", Role::Lembaga, None),
    };
    let (user_id, _) = app.user(name, role, counter).await;
    let grants = match who {
        Who::Mitra => vec![loket::access::GRANT_EXCHANGE.to_string()],
        Who::Lembaga => {
            loket::programmes::link_user_to_agency(
                &app.state.db,
                user_id,
                loket::programmes::demo::DEMO_AGENCY,
            )
            .await
            .unwrap();
            vec![loket::access::GRANT_REFERRALS.to_string()]
        }
        _ => vec![],
    };
    let token = loket::auth::store::create_token(&app.state.db, user_id, "matrix", &grants, None)
        .await
        .unwrap();
    let (cookie, csrf) = if matches!(who, Who::Mitra) {
        // A partner may hold a password, but the officer pages are not theirs.
        let (cookie, _) = session(app, name).await;
        (cookie, String::new())
    } else {
        session(app, name).await
    };
    Caller {
        token: Some(token),
        cookie: Some(cookie),
        csrf,
    }
}

/// A person at counter A, fresh for each call so calls do not disturb each other.
async fn person_at_a(app: &TestApp, serial: u16) -> (i64, String) {
    let birth = NaiveDate::from_ymd_opt(1988, 3, 14).unwrap();
    let nik = nik::Nik::compose("320101", birth, nik::Sex::Female, serial).unwrap();
    let fields = ParticipantFields {
        nik: Some(nik.as_str().into()),
        full_name: Some("Rina Matriks".into()),
        sex: Some("female".into()),
        birth_date: Some("1988-03-14".into()),
        consent_processing: Some("true".into()),
        consent_sharing: Some("true".into()),
        consent_method: Some("paper_form".into()),
        ..Default::default()
    };
    let data = validate(&fields, loket::clock::today()).unwrap();
    let reg = registration_at(Some(app.counter_a));
    let id = store::insert(
        &app.state.db,
        &app.state.vault,
        &data,
        reg,
        audited_by_test(app),
    )
    .await
    .unwrap();
    (id, nik.as_str().to_string())
}

fn json_body(
    kind: &str,
    serial: u16,
    counter_a2: i64,
    counter_b: i64,
    nik_of_person: &str,
) -> serde_json::Value {
    match kind {
        "register" => {
            let nik = nik::Nik::compose(
                "320101",
                NaiveDate::from_ymd_opt(1990, 1, 2).unwrap(),
                nik::Sex::Male,
                serial,
            )
            .unwrap();
            json!({"nik": nik.as_str(), "full_name": "Budi Matriks", "sex": "male", "birth_date": "1990-01-02", "consent_processing": true, "consent_method": "verbal"})
        }
        "patch" => json!({"email": "rina@gmail.com"}),
        "officer" => {
            json!({"user_id": 1, "full_name": "Petugas Matriks", "cascade_role": "counter_officer"})
        }
        "target" => {
            json!({"metric": "counters_operating", "scope": "national", "period_end": "2021-12-31", "value": 92})
        }
        "setting" => json!({"value": "1"}),
        "journey_event" => json!({"stage": "account_created", "occurred_on": "2021-06-01"}),
        "journey_correction" => json!({"void": true, "detail": "salah catat"}),
        "journey_session" => {
            json!({"started_at": "2021-07-06T03:00:00Z", "channel": "walk_in", "steps": ["choose_training"], "outcome": "done"})
        }
        "journey_contact" => json!({"channel": "phone", "result": "reached"}),
        "journey_scheme" => {
            json!({"code": "2027", "name": "Skema uji", "starts_on": "2027-01-01", "training_balance": 3500000, "incentive_amount": 600000, "incentive_count": 1, "survey_amount": 50000, "survey_count": 2, "purchase_days": 15, "incentive_first_after_days": 5})
        }
        "journey_batch" => json!({"scheme": "2023", "number": 99, "opens_on": "2023-06-01"}),
        "counter_status" => json!({"status": "preparing", "version": 1}),
        "tot_batch" => {
            json!({"code": "TOT-MATRIKS", "level": "central", "mode": "online", "start_date": "2021-05-01", "end_date": "2021-05-02", "trainer_name": "PMO", "topics": "pendampingan"})
        }
        "tot_result" => json!({"officer_id": 1, "attended": true, "score": 80}),
        "reassign" => json!({"counter_id": counter_a2, "reason": "pindah domisili"}),
        "refer" => json!({"counter_id": counter_b, "reason": "dekat rumah baru"}),
        "consent" => {
            json!({"processing": true, "sharing": false, "method": "verbal", "note": "menarik persetujuan"})
        }
        "reminders_run" => json!({"as_of": "2021-07-31"}),
        "reminder_consent" => json!({"channel": "whatsapp", "given": true}),
        "sms_hook" => json!({"from": "081234567890", "text": "STOP"}),
        "access_request" => {
            json!({"nik": nik_of_person, "kind": "access", "reason": "datang ke loket kami"})
        }
        "access_answer" => json!({"accept": true}),
        "programme_refer" => json!({"programme_id": 1, "note": "minat menjahit"}),
        "referral_accept" => json!({"status": "accepted", "version": 2, "note": "diterima"}),
        "dci_search" => json!({
            "header": {"message_id": "m-1", "sender_id": "blk"},
            "message": {"transaction_id": "t-1", "search_request": [{"reference_id": "r-1", "search_criteria": {"query_type": "predicate"}}]}
        }),
        other => panic!("no JSON body {other}"),
    }
}

/// What the floor's rows act on at counter A: (counter A, a seat, the person's id).
#[derive(Clone, Copy)]
struct FloorIds {
    counter: i64,
    seat: i64,
    person: i64,
}

fn form_body(
    kind: &str,
    csrf: &str,
    serial: u16,
    counter_a2: i64,
    nik_of_person: &str,
    floor: FloorIds,
) -> Vec<(String, String)> {
    let today = loket::clock::Zone::Wib.today();
    let later = |days: u16| (today + chrono::Duration::days(i64::from(days))).to_string();
    let pairs: Vec<(&str, String)> = match kind {
        "csrf" => vec![("csrf", csrf.into())],
        "bad_login" => vec![
            ("username", format!("nobody{serial}")),
            ("password", "salah-salah-salah".into()),
        ],
        "register" => {
            let nik = nik::Nik::compose(
                "320101",
                NaiveDate::from_ymd_opt(1991, 2, 3).unwrap(),
                nik::Sex::Male,
                serial,
            )
            .unwrap();
            vec![
                ("csrf", csrf.into()),
                ("nik", nik.as_str().into()),
                ("full_name", "Agus Matriks".into()),
                ("sex", "male".into()),
                ("birth_date", "1991-02-03".into()),
                ("consent_processing", "true".into()),
                ("consent_method", "verbal".into()),
            ]
        }
        "edit" => vec![
            ("csrf", csrf.into()),
            ("version", "1".into()),
            ("nik", nik_of_person.into()),
            ("full_name", "Rina Matriks Baru".into()),
            ("sex", "female".into()),
            ("birth_date", "1988-03-14".into()),
            ("consent_processing", "true".into()),
            ("consent_method", "paper_form".into()),
        ],
        "consent" => vec![("csrf", csrf.into()), ("method", "verbal".into())],
        "counter_status" => vec![
            ("csrf", csrf.into()),
            ("version", "1".into()),
            ("status", "preparing".into()),
            ("effective_on", "2021-06-01".into()),
        ],
        "target" => vec![
            ("csrf", csrf.into()),
            ("metric", "reached".into()),
            ("definition", "accepted".into()),
            ("scope", "national".into()),
            ("period_end", "2022-12-31".into()),
            ("value", "100".into()),
        ],
        "training_status" => vec![
            ("csrf", csrf.into()),
            ("version", "1".into()),
            ("status", "withdrawn".into()),
        ],
        "move" => vec![
            ("csrf", csrf.into()),
            ("version", "1".into()),
            ("counter_id", counter_a2.to_string()),
            ("reason", "pindah domisili".into()),
        ],
        "review" => vec![("csrf", csrf.into()), ("decision", "accept".into())],
        "access_request" => vec![
            ("csrf", csrf.into()),
            ("nik", nik_of_person.into()),
            ("kind", "access".into()),
            ("reason", "datang ke loket kami".into()),
        ],
        "access_answer" => vec![("csrf", csrf.into()), ("decision", "accept".into())],
        "export" => vec![("csrf", csrf.into()), ("reason", "laporan bulanan".into())],
        "reminder_consent" => vec![
            ("csrf", csrf.into()),
            ("channel", "sms".into()),
            ("given", "yes".into()),
        ],
        "reminder_rule" => vec![
            ("csrf", csrf.into()),
            ("reason", "survey_due".into()),
            ("enabled", "1".into()),
            ("lead_days", "3".into()),
            ("sms", "1".into()),
        ],
        "status_birth" => vec![("birth_date", "05-05-1990".into())],
        "ticket" => vec![
            ("csrf", csrf.into()),
            ("purpose", "training".into()),
            ("priority", "none".into()),
        ],
        "hours" => vec![
            ("csrf", csrf.into()),
            ("zone", "wib".into()),
            ("opens_at", "08:00".into()),
            ("closes_at", "16:00".into()),
        ],
        "seat" => vec![("csrf", csrf.into()), ("name", format!("PC-{serial}"))],
        // A day of its own for each call, so no booking meets another.
        "booking" => vec![
            ("csrf", csrf.into()),
            ("seat", floor.seat.to_string()),
            ("day", later(serial % 3000)),
            ("hour", "9".into()),
            ("person_name", "Rina Matriks".into()),
        ],
        "appointment" => vec![
            ("csrf", csrf.into()),
            ("participant", floor.person.to_string()),
            ("counter", floor.counter.to_string()),
            ("day", later(7)),
            ("time", "10:00".into()),
            ("purpose", "incentive".into()),
        ],
        "programme_refer" => vec![("csrf", csrf.into()), ("programme_id", "1".into())],
        "referral_start" => vec![
            ("csrf", csrf.into()),
            ("status", "in_progress".into()),
            ("version", "3".into()),
            ("note", "hadir".into()),
        ],
        other => panic!("no form body {other}"),
    };
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

async fn matrix(app: &TestApp) {
    let counter_a2 = app.add_counter(app.office_a, "A-02", "Loket A2").await;
    // The demo catalogue gives training 1 and institution 1.
    loket::catalog::demo::seed(&app.state.db).await.unwrap();
    // The demo programmes give programme 1 (the demo agency's, open, with places).
    loket::programmes::demo::seed(&app.state.db).await.unwrap();
    let mut callers = Vec::new();
    for who in WHO {
        callers.push(caller(app, who).await);
    }
    let upload = linking_upload(app).await;
    let (floor, fid, vid, token) = floor_setup(app).await;
    let referral = sent_referral(app).await;
    let mut serial: u16 = 100;
    let mut failures = Vec::new();
    for (method, path, body, expected) in ROWS {
        for (i, who) in WHO.iter().enumerate() {
            serial += 1;
            let (id, nik) = person_at_a(app, serial).await;
            let request_id = if path.contains("{qid}") {
                request_from_b(app, id).await
            } else {
                0
            };
            let url = app.url(
                &path
                    .replace("{id}", &id.to_string())
                    .replace("{nik}", &nik)
                    .replace("{lang}", "en")
                    .replace("{tid}", "1")
                    .replace("{iid}", "1")
                    .replace("{oid}", "1")
                    .replace("{bid}", "1")
                    .replace("{cid}", &app.counter_a.to_string())
                    .replace("{key}", "min_certified_officers")
                    .replace("{chart}", "reach")
                    .replace("{eid}", "1")
                    .replace("{uid}", &upload.0.to_string())
                    .replace("{qid}", &request_id.to_string())
                    .replace("{fid}", &fid.to_string())
                    .replace("{vid}", &vid.to_string())
                    .replace("{token}", &token)
                    .replace("{action}", "recall")
                    .replace("{rid}", &upload.1.to_string())
                    .replace("{rfid}", &referral.to_string()),
            );
            let c = &callers[i];
            let api = path.starts_with("/api/");
            let mut request = app
                .client
                .request(Method::from_bytes(method.as_bytes()).unwrap(), &url);
            if api {
                if let Some(token) = &c.token {
                    request = request.bearer_auth(token);
                }
                if *method == "PATCH" || path.ends_with("/reassign") {
                    request = request.header("If-Match", "1");
                }
            } else if let Some(cookie) = &c.cookie {
                // /logout ends the session: use a throwaway one so later rows keep theirs.
                let cookie = if *path == "/logout" && !matches!(who, Who::Mitra) {
                    let name = match who {
                        Who::Admin => "m.admin",
                        Who::KoordinatorIn => "m.koord.a",
                        Who::KoordinatorOut => "m.koord.b",
                        Who::PetugasIn => "m.petugas.a",
                        Who::PetugasOut => "m.petugas.b",
                        Who::Lembaga => "m.lembaga",
                        _ => "m.auditor",
                    };
                    let (cookie, csrf) = session(app, name).await;
                    request = request.form(&[("csrf", csrf)]);
                    cookie
                } else {
                    cookie.clone()
                };
                request = request.header("cookie", cookie);
            }
            match body {
                Body::None => {}
                Body::Json(kind) => {
                    request = request.json(&json_body(
                        kind,
                        serial + 5000,
                        counter_a2,
                        app.counter_b,
                        &nik,
                    ));
                }
                Body::Form(_)
                    if *path == "/logout" && c.cookie.is_some() && !matches!(who, Who::Mitra) => {}
                Body::Form(kind) => {
                    let floor = FloorIds {
                        person: id,
                        ..floor
                    };
                    request = request.form(&form_body(
                        kind,
                        &c.csrf,
                        serial + 5000,
                        counter_a2,
                        &nik,
                        floor,
                    ));
                }
            }
            let status = request.send().await.unwrap().status().as_u16();
            if status != expected[i] {
                failures.push(format!(
                    "{method} {path} as {who:?}: expected {}, got {status}",
                    expected[i]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorisation matrix on {:?}:\n{}",
        app.backend,
        failures.join("\n")
    );
}

/// A request from counter B for access to person `id` (at counter A), still open.
async fn request_from_b(app: &TestApp, id: i64) -> i64 {
    let db = &app.state.db;
    let asker: i64 = loket::with_db!(db, |pool| sqlx::query_scalar(
        "SELECT id FROM users WHERE counter_id = $1 ORDER BY id LIMIT 1"
    )
    .bind(app.counter_b)
    .fetch_one(pool)
    .await
    .unwrap());
    let new = store::NewAccessRequest {
        participant_id: id,
        kind: loket::participants::requests::RequestKind::Access,
        from_counter_id: app.counter_b,
        holder_counter_id: Some(app.counter_a),
        requested_by: asker,
        reason: "datang ke loket kami",
        at: chrono::Utc::now(),
    };
    let audited = |id: i64| {
        let entry = loket::audit::Entry::new("access_request.create", "access_request", id);
        loket::audit::Batch::of(db, None, Some("system/test"), entry).unwrap()
    };
    store::insert_access_request(db, new, audited)
        .await
        .unwrap()
        .unwrap()
}

/// Counter A's floor: a seat, a waiting ticket, today's appointment and the kiosk/display link.
async fn floor_setup(app: &TestApp) -> (FloorIds, i64, i64, String) {
    use loket::audit::Batch;
    use loket::floor::store;
    let db = &app.state.db;
    let c = loket::counters::floor_counter(db, app.counter_a)
        .await
        .unwrap()
        .unwrap();
    let now = chrono::Utc::now();
    let seat = store::add_seat(db, c.id, "PC-matriks", now, |_| Batch::new(db))
        .await
        .unwrap();
    let ticket = store::NewTicket {
        counter_id: c.id,
        day: c.today(),
        purpose: "register",
        prefix: "A",
        priority: "none".into(),
        visit: store::VisitOf::New {
            kind: "walk_in",
            participant_id: None,
            created_by: None,
        },
        now: now - chrono::Duration::minutes(30),
    };
    let fid = store::issue(db, &ticket, |_| Batch::new(db))
        .await
        .unwrap()
        .id;
    let (person, _) = person_at_a(app, 9000).await;
    let admin: i64 = loket::with_db!(db, |pool| sqlx::query_scalar(
        "SELECT id FROM users WHERE role = 'admin' ORDER BY id LIMIT 1"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    let appointment = store::NewAppointment {
        counter_id: c.id,
        participant_id: person,
        purpose: "incentive",
        day: c.today(),
        scheduled_at: now,
        created_by: admin,
        now,
    };
    let vid = store::book_appointment(db, &appointment, |_| Batch::new(db))
        .await
        .unwrap();
    let token = "ab".repeat(24);
    store::set_link(db, c.id, &token, now, Batch::new(db).unwrap())
        .await
        .unwrap();
    let ids = FloorIds {
        counter: c.id,
        seat,
        person,
    };
    (ids, fid, vid, token)
}

/// A referral of a person at counter A to programme 1 (the demo agency's), sent (version 2).
async fn sent_referral(app: &TestApp) -> i64 {
    let (person, _) = person_at_a(app, 9_100).await;
    let (_, token) = app
        .user("m.referrer", Role::Petugas, Some(app.counter_a))
        .await;
    let api = app.api(&token);
    let draft: serde_json::Value = api
        .post(
            &format!("/api/v1/participants/{person}/programme-referrals"),
            &json!({"programme_id": 1}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = draft["id"].as_i64().unwrap();
    let sent = api
        .post(
            &format!("/api/v1/programme-referrals/{id}/status"),
            &json!({"status": "sent", "version": 1, "consent_method": "verbal"}),
        )
        .await;
    assert_eq!(sent.status(), 200);
    id
}

/// An exchange upload of one row, still linking: (upload id, row id).
async fn linking_upload(app: &TestApp) -> (i64, i64) {
    let db = &app.state.db;
    let admin: i64 = loket::with_db!(db, |pool| sqlx::query_scalar(
        "SELECT id FROM users WHERE role = 'admin' ORDER BY id LIMIT 1"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    let nik = "3201014505900001";
    let row = loket::exchange::store::NewUploadRow {
        row_no: 2,
        nik_enc: app.state.vault.seal(loket::vault::IndexKind::Nik, nik),
        nik_index: app
            .state
            .vault
            .blind_index(loket::vault::IndexKind::Nik, nik),
        full_name: "Siti Matriks".into(),
        birth_date: None,
        district_code: "320101".into(),
        facts: "{}".into(),
    };
    let id = loket::exchange::store::insert_upload(db, "m.csv", &[1], admin, 0.9, 0.3, &[row])
        .await
        .unwrap();
    let rows = loket::exchange::store::rows_of(db, id, None, 0, 10)
        .await
        .unwrap();
    (id, rows[0].id)
}

#[tokio::test]
async fn every_route_answers_every_role_in_and_out_of_scope_as_the_policy_says() {
    on_each_backend!(matrix);
}

#[tokio::test]
async fn every_api_route_is_described_in_the_openapi_document() {
    let app = crate::common::spawn_app(crate::common::Backend::Sqlite).await;
    let doc = app.get_json("/api/openapi.json").await;
    let mut missing = Vec::new();
    for (method, path) in routes_in_source() {
        let api = path.starts_with("/api/v1/") || path == "/healthz";
        if api && !doc["paths"][&path][method.to_lowercase()].is_object() {
            missing.push(format!("{method} {path}"));
        }
    }
    assert!(missing.is_empty(), "not in /api/openapi.json: {missing:?}");
    app.cleanup().await;
}
