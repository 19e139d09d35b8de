//! The journey's former home of all its types, kept so that existing paths such as
//! `journey::model::Stage` still resolve. New code names the items through the front door
//! (`crate::journey::…`); each now lives in the file of its topic.

pub use super::assist::{ContactResult, SessionChannel, SessionOutcome, Step};
pub use super::benefits::{Expected, LedgerLine};
pub use super::calendar::{add_working_days, day_number, from_day_number, local_day};
pub use super::eligibility::{age_on, eligibility, Advice, EligibilityFacts, Occupation};
pub use super::event::{effective, EventRow, NewEvent};
pub use super::follow_up::{follow_up_reasons, FollowUpReason};
pub use super::machine::{replay, JourneyState};
pub use super::next_step::next_step;
pub use super::projection::{project, Context, Progress};
pub use super::scheme::{Batch, Rules, Scheme};
pub use super::stage::{PayoutChannel, Source, Stage, FUNNEL, TRACKED};
pub use super::transitions::Refusal;
