//! Which event may follow which: the journey rules of DESIGN.md, as checks on the replayed
//! state that refuse with a stable code and a message in both languages.

use chrono::NaiveDate;

use super::calendar::local_day;
use super::event::EventRow;
use super::machine::JourneyState;
use super::scheme::Rules;
use super::stage::Stage;
use crate::i18n::Lang;

/// Why the journey rules refuse an event: a stable code and both languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
    pub message_en: String,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>, message_en: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
            message_en: message_en.into(),
        }
    }

    fn order(wanted: Stage, current: Stage) -> Refusal {
        Refusal::new(
            "stage_order",
            format!(
                "Tahap \"{}\" belum bisa dicatat: tahap sekarang \"{}\".",
                wanted.label(Lang::Id),
                current.label(Lang::Id)
            ),
            format!(
                "\"{}\" cannot be recorded now: the current stage is \"{}\".",
                wanted.label(Lang::En),
                current.label(Lang::En)
            ),
        )
    }
}

impl JourneyState {
    fn closed_refusal(&self) -> Option<Refusal> {
        match self.current() {
            Stage::Revoked => Some(Refusal::new(
                "journey_closed",
                "Kepesertaan sudah dicabut. Pencabutan bersifat final dan NIK ini tidak bisa ikut gelombang berikutnya.",
                "The card was revoked. Revocation is final and this NIK cannot join a later batch.",
            )),
            Stage::Withdrawn => Some(Refusal::new(
                "journey_closed",
                "Peserta sudah mengundurkan diri.",
                "The participant has withdrawn.",
            )),
            Stage::Finished => Some(Refusal::new(
                "journey_closed",
                "Perjalanan Prakerja orang ini sudah selesai.",
                "This person's Prakerja journey is finished.",
            )),
            _ => None,
        }
    }

    /// Whether `event` may follow the current state; the rules of DESIGN.md in one place.
    pub fn check(&self, event: &EventRow, rules: &Rules) -> Result<(), Refusal> {
        let stage = event.stage;
        let current = self.current();
        let on = local_day(event.occurred_at);
        if stage == Stage::Withdrawn {
            return match current {
                Stage::Revoked | Stage::Withdrawn | Stage::Finished => Err(self
                    .closed_refusal()
                    .unwrap_or(Refusal::order(stage, current))),
                _ => Ok(()),
            };
        }
        if let Some(refusal) = self.closed_refusal() {
            return Err(refusal);
        }
        match stage {
            Stage::NotRegistered => Err(Refusal::new(
                "stage_not_recordable",
                "\"Belum mendaftar\" adalah keadaan awal, bukan peristiwa.",
                "\"Not registered\" is the starting state, not an event.",
            )),
            Stage::AccountCreated => expect(current, Stage::NotRegistered, stage),
            Stage::ProfileVerified => expect(current, Stage::AccountCreated, stage),
            Stage::TestPassed => expect(current, Stage::ProfileVerified, stage),
            Stage::JoinedBatch => self.check_join(event, rules),
            Stage::Accepted | Stage::NotAccepted => expect(current, Stage::JoinedBatch, stage),
            Stage::PayoutLinked => self.require_accepted(
                "payout_before_acceptance",
                "Rekening atau e-wallet baru bisa disambungkan setelah diterima sebagai penerima Kartu Prakerja.",
                "A payout account can be linked only after acceptance.",
            ),
            Stage::TrainingBought => self.check_purchase(event, on),
            Stage::TrainingCompleted => {
                if self.completions as usize >= self.purchases.len() {
                    return Err(Refusal::new(
                        "completion_before_purchase",
                        "Belum ada pelatihan yang dibeli dan belum selesai.",
                        "There is no bought training left to complete.",
                    ));
                }
                Ok(())
            }
            Stage::Rated => {
                if self.ratings >= self.completions {
                    return Err(Refusal::new(
                        "rating_before_completion",
                        "Ulasan diberikan setelah pelatihan selesai.",
                        "A rating comes after a completed training.",
                    ));
                }
                Ok(())
            }
            Stage::IncentivePaid => self.check_incentive(),
            Stage::SurveyPaid => self.check_survey(),
            Stage::SurveysDone => {
                if self.ratings == 0 {
                    return Err(Refusal::order(stage, current));
                }
                Ok(())
            }
            Stage::Finished => {
                let scheme = self.scheme.as_ref();
                let incentives_done = scheme
                    .is_some_and(|s| self.incentives.len() as i64 >= s.incentive_count);
                if !incentives_done || !self.reached.contains_key(Stage::SurveysDone.code()) {
                    return Err(Refusal::new(
                        "journey_not_complete",
                        "Belum selesai: semua insentif dan survei harus diterima lebih dulu.",
                        "Not finished yet: every incentive and survey must be received first.",
                    ));
                }
                Ok(())
            }
            Stage::Revoked => {
                if !self.accepted() || !self.purchases.is_empty() {
                    return Err(Refusal::new(
                        "revoke_not_allowed",
                        "Pencabutan hanya untuk penerima yang belum membeli pelatihan pertama.",
                        "Only a recipient who has not bought a first training can be revoked.",
                    ));
                }
                Ok(())
            }
            Stage::Withdrawn => Ok(()),
        }
    }

    fn require_accepted(&self, code: &'static str, id: &str, en: &str) -> Result<(), Refusal> {
        if self.accepted() && self.current() != Stage::NotAccepted {
            Ok(())
        } else {
            Err(Refusal::new(code, id, en))
        }
    }

    fn check_join(&self, event: &EventRow, rules: &Rules) -> Result<(), Refusal> {
        let current = self.current();
        let Some(batch) = event.batch_id.and_then(|id| rules.batches.get(&id)) else {
            return Err(Refusal::new(
                "batch_required",
                "Pilih gelombang yang diikuti.",
                "Choose the batch joined.",
            ));
        };
        match current {
            Stage::TestPassed => Ok(()),
            Stage::NotAccepted => match self.batch_number {
                Some(last) if batch.number <= last => Err(Refusal::new(
                    "batch_not_later",
                    format!("Setelah tidak diterima di gelombang {last}, hanya bisa ikut gelombang sesudahnya."),
                    format!("After not being accepted in batch {last}, only a later batch can be joined."),
                )),
                _ => Ok(()),
            },
            _ => Err(Refusal::order(Stage::JoinedBatch, current)),
        }
    }

    fn check_purchase(&self, event: &EventRow, on: NaiveDate) -> Result<(), Refusal> {
        self.require_accepted(
            "training_before_acceptance",
            "Pelatihan baru bisa dibeli setelah diterima sebagai penerima Kartu Prakerja.",
            "Training can be bought only after acceptance.",
        )?;
        let price = event.fields.amount.unwrap_or(0);
        if price <= 0 {
            return Err(Refusal::new(
                "price_required",
                "Isi harga pelatihan (rupiah, lebih dari 0).",
                "Give the training price (rupiah, more than 0).",
            ));
        }
        if self.purchases.is_empty() {
            if let Some(deadline) = self.purchase_deadline() {
                if on > deadline {
                    return Err(Refusal::new(
                        "purchase_deadline_passed",
                        format!(
                            "Batas membeli pelatihan pertama sudah lewat ({}).",
                            crate::format::date(deadline)
                        ),
                        format!(
                            "The deadline to buy the first training has passed ({}).",
                            crate::format::date(deadline)
                        ),
                    ));
                }
            }
        }
        // With a price unknown, what is left is at most this; the programme office's platform
        // refuses a purchase beyond the real balance.
        let balance = self.balance().map_or(0, |b| b.at_most);
        if price > balance {
            return Err(Refusal::new(
                "over_balance",
                format!(
                    "Harga {} melebihi sisa saldo pelatihan {}.",
                    crate::format::Rupiah(price),
                    crate::format::Rupiah(balance)
                ),
                format!(
                    "The price {} exceeds the remaining training balance {}.",
                    crate::format::Rupiah(price),
                    crate::format::Rupiah(balance)
                ),
            ));
        }
        Ok(())
    }

    fn check_incentive(&self) -> Result<(), Refusal> {
        if self.completions == 0 {
            return Err(Refusal::new(
                "incentive_before_completion",
                "Insentif baru bisa dicatat setelah pelatihan pertama selesai.",
                "An incentive can be recorded only after the first training is completed.",
            ));
        }
        if self.ratings == 0 {
            return Err(Refusal::new(
                "incentive_before_rating",
                "Insentif cair setelah peserta memberi ulasan dan rating pelatihan.",
                "The incentive is paid after the training has been rated.",
            ));
        }
        if self.payout_channel.is_none() {
            return Err(Refusal::new(
                "payout_not_linked",
                "Sambungkan rekening bank atau e-wallet sebelum mencatat insentif.",
                "Link a bank account or e-wallet before recording an incentive.",
            ));
        }
        let count = self.scheme.as_ref().map_or(0, |s| s.incentive_count);
        if self.incentives.len() as i64 >= count {
            return Err(Refusal::new(
                "incentive_count_exceeded",
                format!("Semua {count} insentif skema ini sudah tercatat."),
                format!("All {count} incentives of this scheme are already recorded."),
            ));
        }
        Ok(())
    }

    fn check_survey(&self) -> Result<(), Refusal> {
        if self.completions == 0 {
            return Err(Refusal::new(
                "survey_before_completion",
                "Insentif survei baru ada setelah pelatihan pertama selesai.",
                "Survey incentives come only after the first training is completed.",
            ));
        }
        let count = self.scheme.as_ref().map_or(0, |s| s.survey_count);
        if self.surveys.len() as i64 >= count {
            return Err(Refusal::new(
                "survey_count_exceeded",
                format!("Semua {count} insentif survei skema ini sudah tercatat."),
                format!("All {count} survey incentives of this scheme are already recorded."),
            ));
        }
        Ok(())
    }
}

fn expect(current: Stage, wanted_current: Stage, stage: Stage) -> Result<(), Refusal> {
    if current == wanted_current {
        Ok(())
    } else {
        Err(Refusal::order(stage, current))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journey::event::NewEvent;
    use crate::journey::machine::replay;
    use crate::journey::scheme::{scheme_2021, Batch};
    use crate::journey::stage::Source;
    use chrono::{NaiveDate, Utc};

    fn rules() -> Rules {
        let batch = |id, number, m| Batch {
            id,
            scheme_id: 1,
            number,
            opens_on: NaiveDate::from_ymd_opt(2021, m, 1).unwrap(),
        };
        Rules::new(vec![scheme_2021()], vec![batch(1, 17, 5), batch(2, 18, 7)])
    }

    fn ev(id: i64, stage: Stage, day: u32) -> EventRow {
        let at = NaiveDate::from_ymd_opt(2021, 6, day)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap()
            .and_utc();
        let mut event = NewEvent::new(1, stage, Source::Counter, at, Utc::now());
        event.actor_id = Some(7);
        event.counter_id = Some(1);
        event.stored(id)
    }

    fn accepted_state() -> Vec<EventRow> {
        let mut join = ev(4, Stage::JoinedBatch, 4);
        join.batch_id = Some(1);
        vec![
            ev(1, Stage::AccountCreated, 1),
            ev(2, Stage::ProfileVerified, 2),
            ev(3, Stage::TestPassed, 3),
            join,
            ev(5, Stage::Accepted, 5),
        ]
    }

    #[test]
    fn training_before_acceptance_is_refused() {
        let mut events = accepted_state();
        events.truncate(4);
        let mut buy = ev(9, Stage::TrainingBought, 6);
        buy.fields.amount = Some(100_000);
        events.push(buy);
        let (id, refusal) = replay(&events, &rules()).unwrap_err();
        assert_eq!((id, refusal.code), (9, "training_before_acceptance"));
    }

    #[test]
    fn an_admin_override_lets_an_event_through() {
        let mut skip = ev(2, Stage::TestPassed, 2);
        skip.fields.override_reason = Some("data dari Manajemen Pelaksana".into());
        let state = replay(&[ev(1, Stage::AccountCreated, 1), skip], &rules()).unwrap();
        assert_eq!(state.current(), Stage::TestPassed);
    }

    #[test]
    fn purchases_over_the_balance_are_refused() {
        let mut events = accepted_state();
        let mut buy = ev(6, Stage::TrainingBought, 6);
        buy.fields.amount = Some(700_000);
        let mut again = ev(7, Stage::TrainingBought, 7);
        again.fields.amount = Some(400_000);
        events.extend([buy, again]);
        let (_, refusal) = replay(&events, &rules()).unwrap_err();
        assert_eq!(refusal.code, "over_balance");
        assert!(refusal.message.contains("Rp300.000"), "{}", refusal.message);
    }

    #[test]
    fn a_correction_replaces_the_event_it_names() {
        let mut events = accepted_state();
        let mut fix = ev(6, Stage::Accepted, 6);
        fix.correction_of = Some(5);
        events.push(fix);
        let state = replay(&events, &rules()).unwrap();
        assert_eq!(state.accepted_on, NaiveDate::from_ymd_opt(2021, 6, 6));
        assert_eq!(
            state.purchase_deadline(),
            NaiveDate::from_ymd_opt(2021, 7, 6)
        );
    }

    #[test]
    fn not_accepted_may_rejoin_only_a_later_batch() {
        let mut events = accepted_state();
        events[4] = ev(5, Stage::NotAccepted, 5);
        let mut same = ev(6, Stage::JoinedBatch, 6);
        same.batch_id = Some(1);
        let mut with_same = events.clone();
        with_same.push(same);
        assert_eq!(
            replay(&with_same, &rules()).unwrap_err().1.code,
            "batch_not_later"
        );
        let mut later = ev(6, Stage::JoinedBatch, 6);
        later.batch_id = Some(2);
        events.push(later);
        let state = replay(&events, &rules()).unwrap();
        assert_eq!(state.current(), Stage::JoinedBatch);
        assert_eq!(state.batch_number, Some(18));
    }

    #[test]
    fn revoked_is_final() {
        let mut events = accepted_state();
        events.push(ev(6, Stage::Revoked, 20));
        events.push(ev(7, Stage::PayoutLinked, 21));
        assert_eq!(
            replay(&events, &rules()).unwrap_err().1.code,
            "journey_closed"
        );
    }
}
