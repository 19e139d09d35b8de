//! The OpenAPI 3 document at `/api/openapi.json`, listing every API route.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "loket API", description = "Counter Layanan Prakerja: Purna PMI registry and services. Errors are `{\"error\":{\"code\",\"message\",\"message_en\",\"field\"}}`."),
    paths(
        crate::app::healthz,
        crate::participants::api::create,
        crate::participants::api::read,
        crate::participants::api::update,
        crate::participants::api::search,
        crate::participants::api::reassign,
        crate::participants::api::refer,
        crate::participants::api::consents,
        crate::participants::api::change_consent,
        crate::participants::api::holder,
        crate::participants::api::request_access,
        crate::participants::api::access_requests,
        crate::participants::api::answer_access_request,
        crate::audit_log::list,
        crate::exchange::partner::participants,
        crate::exchange::api::read,
        crate::exchange::api::retry,
        crate::catalog::api::search,
        crate::catalog::api::read,
        crate::catalog::api::recommendations,
        crate::counters::api::dashboard,
        crate::counters::api::list_counters,
        crate::counters::api::change_status,
        crate::counters::api::create_officer,
        crate::counters::api::read_officer,
        crate::counters::api::create_batch,
        crate::counters::api::record_result,
        crate::counters::api::list_targets,
        crate::counters::api::set_target,
        crate::counters::api::set_setting,
        crate::journey::api::read,
        crate::journey::api::record,
        crate::journey::api::correct,
        crate::journey::api::eligibility,
        crate::journey::api::session,
        crate::journey::api::contact,
        crate::journey::api::follow_up,
        crate::journey::api::funnel,
        crate::journey::api::schemes,
        crate::journey::api::add_scheme,
        crate::journey::api::add_batch,
        crate::reminders::api::outbox,
        crate::reminders::api::run,
        crate::reminders::api::consents,
        crate::reminders::api::set_consent,
        crate::reminders::api::issue_link,
        crate::reminders::api::revoke_links,
        crate::programmes::api::list,
        crate::programmes::api::caseload,
        crate::programmes::api::screening,
        crate::programmes::api::referrals,
        crate::programmes::api::refer,
        crate::programmes::api::move_referral,
        crate::programmes::api::partner_search,
    ),
    modifiers(&BearerAuth, &SharedAnswers),
    tags((name = "participants", description = "Purna PMI registry"), (name = "access requests", description = "Permintaan akses: asking the counter that holds a case for access or a move"), (name = "catalog", description = "Training catalogue, search and recommendations"), (name = "network", description = "Counters, officers, ToT, targets, dashboard"), (name = "journey", description = "Prakerja journey, benefits, sessions, follow-up, funnel"), (name = "reminders", description = "WhatsApp/SMS reminders, consent to contact, status-page codes"), (name = "programmes", description = "Partner agencies' programmes, screening and programme referrals; the agencies' API"), (name = "system"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The answers the shared layers give whatever the handler does, added to every operation
/// that can meet them (a handler's own description of a status is kept): sign-in and access
/// (401, 403), a path value that is not a number or names nothing (422, 404), a query value
/// that does not decode (422), and a body that is unreadable or not JSON, too large, or of the
/// wrong shape (400, 413, 422).
struct SharedAnswers;

impl Modify for SharedAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                for (status, codes) in shared_answers(operation) {
                    let response = ResponseBuilder::new()
                        .description(codes)
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("ErrorBody")))
                                .build(),
                        )
                        .build();
                    operation
                        .responses
                        .responses
                        .entry(status.to_string())
                        .or_insert(response.into());
                }
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// (status, the error codes it carries) that `operation` can meet outside its handler.
fn shared_answers(operation: &Operation) -> Vec<(u16, &'static str)> {
    let takes = |place: ParameterIn| {
        operation
            .parameters
            .iter()
            .flatten()
            .any(|p| p.parameter_in == place)
    };
    let mut answers = Vec::new();
    if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
        answers.push((401, "unauthorized"));
        answers.push((403, "forbidden"));
    }
    if takes(ParameterIn::Path) {
        answers.push((404, "not_found"));
        answers.push((422, "validation_failed (path_invalid)"));
    }
    if takes(ParameterIn::Query) {
        answers.push((422, "validation_failed (query_invalid)"));
    }
    if operation.request_body.is_some() {
        answers.push((
            400,
            "bad_request (the body is not JSON, or not sent as application/json)",
        ));
        answers.push((413, "payload_too_large"));
        answers.push((422, "validation_failed (json_shape)"));
    }
    answers
}

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/openapi.json",
        get(|| async { Json(ApiDoc::openapi()) }),
    )
}
