//! The cross-agency empowerment centre: partner agencies and their programmes (eligibility
//! rules as data), screening ("Program lain yang cocok"), programme referrals ("rujukan
//! program") with their state machine, the agency's own pages and API, follow-up of referrals
//! waiting too long, and the counts for the dashboard. Not to be confused with participants'
//! referrals, which give another counter access to a case.
//!
//! Rooms: `model` (vocabulary, rules, states), `screening` (pure), `store` (all SQL),
//! `service` (access, audit), `api`, `pages`, `demo`, `texts`.

use axum::Router;

use crate::error::Result;
use crate::i18n::Lang;
use crate::identity::Actor;
use crate::state::AppState;

pub mod api;
pub mod demo;
pub mod model;
pub mod pages;
pub mod screening;
pub mod service;
/// Public for the benchmark and tests; other modules use the front door below.
pub mod store;
pub mod texts;

pub use model::{Agency, Programme, ProgrammeKind, Referral, ReferralStatus, Rule};
pub use screening::{screen, Facts, Screened, Verdict};
pub use service::{link_user_to_agency, screen_many, CaseloadLine, MoveInput};
pub use texts::TEXTS;

/// The id of the agency with this code.
pub async fn agency_id(db: &crate::db::Db, code: &str) -> Result<Option<i64>> {
    store::agency_by_code(db, code).await
}

/// The feature's JSON API and pages, for `app::router`.
pub fn router() -> Router<AppState> {
    api::router().merge(pages::router())
}

/// The card on a person's page: how many programmes fit, the first few by name, and the link
/// to the screening with its reasons (plugged into the participant page by the app).
pub async fn card_for_person(
    state: &AppState,
    actor: &Actor,
    participant_id: i64,
    lang: Lang,
) -> Result<Option<(String, Vec<String>, String, String)>> {
    if !crate::access::allows(&actor.user, crate::access::Action::ViewProgrammes) {
        return Ok(None);
    }
    let screened = service::screen_person(state, actor, participant_id).await?;
    let fits: Vec<String> = screened
        .iter()
        .filter(|(_, s)| s.verdict == Verdict::Fits)
        .take(5)
        .map(|(p, _)| format!("{} ({})", p.name, p.agency_name))
        .collect();
    let count = screened
        .iter()
        .filter(|(_, s)| s.verdict == Verdict::Fits)
        .count();
    let heading = format!("{} ({count})", lang.t("programmes.person_title"));
    Ok(Some((
        heading,
        fits,
        format!("/participants/{participant_id}/programmes"),
        lang.t("programmes.link").to_string(),
    )))
}
