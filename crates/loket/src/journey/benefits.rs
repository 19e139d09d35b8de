//! The benefits ledger: purchases against the training balance, and the expected incentive
//! and survey payments with what was received against each.

use chrono::{Duration, NaiveDate};

use super::calendar::add_working_days;
use super::machine::JourneyState;
use crate::format::Rupiah;
use crate::i18n::Lang;

/// What is left of a training balance. A purchase without a known price is not counted as
/// Rp0: the balance is then shown as "at most" the amount left after the known prices, with
/// how many prices are unknown, until someone records the price (a correction of the event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Remaining {
    /// The scheme's balance less the known prices.
    pub at_most: i64,
    /// Purchases whose price is unknown.
    pub unknown_prices: usize,
}

impl Remaining {
    /// The balance left, when every price is known.
    pub fn known(self) -> Option<i64> {
        (self.unknown_prices == 0).then_some(self.at_most)
    }

    /// "Rp2.500.000", or "paling banyak Rp2.500.000 (harga 1 pelatihan tidak diketahui)".
    pub fn words(self, lang: Lang) -> String {
        let amount = Rupiah(self.at_most);
        match self.known() {
            Some(_) => amount.to_string(),
            None => format!(
                "{} {amount} ({} {} {})",
                lang.t("journey.at_most"),
                lang.t("journey.price_of"),
                self.unknown_prices,
                lang.t("journey.trainings_unknown")
            ),
        }
    }
}

/// A purchase, payment or other ledger line, as replayed from its event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerLine {
    pub event_id: i64,
    pub on: NaiveDate,
    /// `None` when the source did not say (a programme-office file without the price): an
    /// unknown price, never Rp0.
    pub amount: Option<i64>,
    pub title: Option<String>,
    pub platform: Option<String>,
    pub channel: Option<String>,
}

/// One expected payment and what was received against it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    pub k: i64,
    pub expected_on: NaiveDate,
    /// The first day the payment counts as overdue (after the grace in working days).
    pub overdue_from: NaiveDate,
    pub amount: i64,
    pub received: Option<LedgerLine>,
}

impl JourneyState {
    /// The expected payment schedule: (k, expected date, expected amount, received line).
    pub fn schedule(&self, surveys: bool) -> Vec<Expected> {
        let (Some(scheme), Some(rated)) = (self.scheme.as_ref(), self.first_rated_on) else {
            return Vec::new();
        };
        let (count, amount, first, interval, paid) = if surveys {
            (
                scheme.survey_count,
                scheme.survey_amount,
                scheme.survey_first_after_days,
                scheme.survey_interval_days,
                &self.surveys,
            )
        } else {
            (
                scheme.incentive_count,
                scheme.incentive_amount,
                scheme.incentive_first_after_days,
                scheme.incentive_interval_days,
                &self.incentives,
            )
        };
        (0..count.max(0))
            .map(|k| {
                let expected_on = rated + Duration::days(first + k * interval);
                Expected {
                    k: k + 1,
                    expected_on,
                    overdue_from: add_working_days(expected_on, scheme.grace_working_days)
                        + Duration::days(1),
                    amount,
                    received: paid.get(k as usize).cloned(),
                }
            })
            .collect()
    }
}
