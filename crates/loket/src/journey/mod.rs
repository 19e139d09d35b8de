//! The Prakerja journey: stages as events, scheme rules as data, eligibility advice, the
//! benefits ledger, assistance sessions, the follow-up list, the timeline and the funnel.
//!
//! Rooms: `stage` (the vocabulary), `event` (one event, written and stored), `scheme` (rules
//! as data), `machine` (the replayed state) and `transitions` (which event may follow which),
//! `benefits` (ledger and payment schedule), `calendar` (days), `eligibility`, `next_step`,
//! `projection` (the per-person row), `follow_up`, `funnel`, `assist` (sessions and contacts),
//! `record` (recording and correcting events), `service` (what the actions share), `store`
//! (all SQL), `api`, `pages`, `texts`, `demo`. This file is the front door: callers outside the
//! feature name items as `crate::journey::X`.

use axum::Router;

use crate::state::AppState;

pub mod api;
pub mod assist;
pub mod benefits;
pub mod calendar;
pub mod demo;
pub mod eligibility;
pub mod event;
pub mod follow_up;
pub mod funnel;
pub mod machine;
pub mod next_step;
pub mod pages;
mod picker;
pub mod projection;
pub mod reach;
pub mod record;
pub mod scheme;
pub mod service;
pub mod stage;
/// Public for the benchmarks and tests that measure its queries; other features use the
/// front door below (the layer test refuses `journey::store` elsewhere in `src`).
pub mod store;
pub mod texts;
pub mod transitions;

pub use assist::{
    log_contact, may_record_session, record_session, ContactInput, ContactResult, SessionChannel,
    SessionInput, SessionOutcome, Step,
};
pub use benefits::{Expected, LedgerLine, Remaining};
pub use calendar::{add_working_days, day_number, from_day_number, local_day};
pub use demo::{projection as demo_projection, seed, seed_batches, synthesize, Seat};
pub use eligibility::{
    age_on, eligibility, eligibility_advice, Advice, EligibilityFacts, Occupation,
};
pub use event::{effective, EventFields, EventRow, NewEvent};
pub use follow_up::{
    follow_up, follow_up_items, follow_up_reasons, FollowUpItem, FollowUpList, FollowUpReason,
    QUIET_DAYS,
};
pub use funnel::{
    funnel, funnel_figures, funnel_figures_direct, histogram_median, Funnel, FunnelStep,
};
pub use machine::{replay, JourneyState};
pub use next_step::next_step;
pub use projection::{context_of, project, rebuild, Context, Progress};
pub use reach::reach_by_day;
pub use record::{correct_event, record_event, CorrectionInput, EventInput};
pub use scheme::{add_batch, add_scheme, Batch, Rules, Scheme};
pub use service::{own_status, planning_balance, view, Loaded, OwnStatus};
pub use stage::{PayoutChannel, Source, Stage, FUNNEL, TRACKED};
pub use store::{batches, events_of, progress_version, rules, session_visit, FunnelScope};
pub use texts::TEXTS;
pub use transitions::Refusal;

/// The journey's JSON API and pages together, for `app::router`.
pub fn router() -> Router<AppState> {
    api::router().merge(pages::router())
}

/// Makes the assistance sessions recorded for a person at a counter during a counter-floor
/// visit part of that visit (the floor calls it when the visit ends).
pub async fn link_sessions_to_visit(
    db: &crate::db::Db,
    participant_id: i64,
    counter_id: i64,
    from: chrono::DateTime<chrono::Utc>,
    until: chrono::DateTime<chrono::Utc>,
    visit_id: i64,
) -> crate::error::Result<()> {
    store::link_sessions_to_visit(db, participant_id, counter_id, from, until, visit_id).await?;
    Ok(())
}

/// The page that books a person's next visit at a counter: (participant id, counter id) →
/// link. The app plugs the counter floor in here; without it the follow-up list has no link.
pub type BookingLink = fn(i64, i64) -> String;

static BOOKING_LINK: std::sync::OnceLock<BookingLink> = std::sync::OnceLock::new();

pub fn set_booking_link(link: BookingLink) {
    let _ = BOOKING_LINK.set(link);
}

pub fn booking_link(participant_id: i64, counter_id: i64) -> Option<String> {
    BOOKING_LINK.get().map(|f| f(participant_id, counter_id))
}
