//! The OpenAPI 3 document at `/api/openapi.json`, listing every API route.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
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
    ),
    modifiers(&BearerAuth),
    tags((name = "participants", description = "Purna PMI registry"), (name = "catalog", description = "Training catalogue, search and recommendations"), (name = "network", description = "Counters, officers, ToT, targets, dashboard"), (name = "journey", description = "Prakerja journey, benefits, sessions, follow-up, funnel"), (name = "system"))
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

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/openapi.json",
        get(|| async { Json(ApiDoc::openapi()) }),
    )
}
