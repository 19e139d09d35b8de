//! The counter floor: visits (walk-in or booked), the queue of tickets ("B-014"), the kiosk
//! and the TV display (behind a per-counter link, nothing personal on them), computer seats for
//! training at the counter, appointments from the follow-up list, and the floor's figures (wait
//! and service times, no-shows, seat use). Every "today" is the counter's own, in its zone.
//!
//! Rooms: `store` (all SQL), `service` (access, audit, the queue's rules), `figures` (the
//! statistics, pure), `display` (the live feed of queue changes), `pages`, `texts`, `demo`.
//! This file is the front door.

pub mod demo;
pub mod display;
pub mod figures;
pub mod pages;
pub mod service;
/// Public for the tests and the benchmark that check its queries; other modules use the front
/// door (the layer test refuses `floor::store` elsewhere in `src`).
pub mod store;
pub mod texts;

use axum::Router;

use crate::code_enum;
use crate::state::AppState;

pub use figures::{Figures, GroupFigures};
pub use service::{call_next, issue_ticket, ticket_action, IssueInput, TicketAction};
pub use store::TicketRow;

code_enum! {
    /// Why a person came: each purpose has its own ticket letter.
    pub enum Purpose {
        Register => ("register", "Pendaftaran Prakerja", "Prakerja registration"),
        Training => ("training", "Memilih atau membeli pelatihan", "Choose or buy training"),
        DoTraining => ("do_training", "Mengikuti pelatihan di loket", "Do training at the counter"),
        Incentive => ("incentive", "Masalah insentif", "Incentive problem"),
        Referral => ("referral", "Rujukan ke program lain", "Referral to other programmes"),
        Other => ("other", "Lainnya", "Other"),
    }
}

impl Purpose {
    /// The letter of its tickets: "B-014" is the 14th "choose or buy training" of the day.
    pub fn prefix(self) -> &'static str {
        match self {
            Purpose::Register => "A",
            Purpose::Training => "B",
            Purpose::DoTraining => "C",
            Purpose::Incentive => "D",
            Purpose::Referral => "E",
            Purpose::Other => "F",
        }
    }
}

code_enum! {
    pub enum TicketStatus {
        Waiting => ("waiting", "Menunggu", "Waiting"),
        Called => ("called", "Dipanggil", "Called"),
        Serving => ("serving", "Sedang dilayani", "Being served"),
        Done => ("done", "Selesai", "Done"),
        NoShow => ("no_show", "Tidak hadir", "Did not come"),
        Transferred => ("transferred", "Dialihkan", "Transferred"),
    }
}

code_enum! {
    pub enum VisitKind {
        WalkIn => ("walk_in", "Datang langsung", "Walk-in"),
        Appointment => ("appointment", "Janji temu", "Appointment"),
    }
}

/// The label of a ticket: the purpose's letter and the day's number, "B-014".
pub fn ticket_label(purpose: Purpose, number: i64) -> String {
    format!("{}-{number:03}", purpose.prefix())
}

/// The floor's pages, the kiosk and the display.
pub fn router() -> Router<AppState> {
    pages::router().merge(display::router())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_is_its_purposes_letter_and_the_days_number() {
        assert_eq!(ticket_label(Purpose::Training, 14), "B-014");
        assert_eq!(ticket_label(Purpose::Register, 1234), "A-1234");
        let mut letters: Vec<_> = Purpose::ALL.iter().map(|p| p.prefix()).collect();
        letters.dedup();
        assert_eq!(letters.len(), Purpose::ALL.len());
    }
}
