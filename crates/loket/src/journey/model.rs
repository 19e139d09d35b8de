//! The Prakerja journey as data: stages, scheme rules, the replay of events into a state
//! (which refuses transitions that make no sense), deadlines, eligibility advice and the
//! projection row that the follow-up list and the funnel read. Pure: no SQL, no HTTP.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};

use crate::code_enum;
use crate::i18n::Lang;

code_enum! {
    /// The steps of Kartu Prakerja, plus the ledger event `survey_paid`, which moves the stage
    /// to `surveys_done` once the scheme's count is reached.
    pub enum Stage {
        NotRegistered => ("not_registered", "Belum mendaftar", "Not registered"),
        AccountCreated => ("account_created", "Akun dibuat", "Account created"),
        ProfileVerified => ("profile_verified", "Profil terverifikasi (NIK+KK)", "Profile verified (NIK+KK)"),
        TestPassed => ("test_passed", "Lulus tes kemampuan dasar", "Basic test passed"),
        JoinedBatch => ("joined_batch", "Gabung gelombang", "Joined a batch"),
        Accepted => ("accepted", "Diterima (nomor kartu)", "Accepted (card number)"),
        NotAccepted => ("not_accepted", "Belum diterima", "Not accepted"),
        PayoutLinked => ("payout_linked", "Rekening/e-wallet tersambung", "Payout account linked"),
        TrainingBought => ("training_bought", "Pelatihan dibeli", "Training bought"),
        TrainingCompleted => ("training_completed", "Pelatihan selesai (sertifikat)", "Training completed (certificate)"),
        Rated => ("rated", "Ulasan dan rating diberikan", "Rated"),
        IncentivePaid => ("incentive_paid", "Insentif pasca pelatihan diterima", "Post-training incentive paid"),
        SurveyPaid => ("survey_paid", "Insentif survei diterima", "Survey incentive paid"),
        SurveysDone => ("surveys_done", "Semua survei selesai", "All surveys done"),
        Finished => ("finished", "Selesai", "Finished"),
        Revoked => ("revoked", "Kepesertaan dicabut", "Revoked"),
        Withdrawn => ("withdrawn", "Mengundurkan diri", "Withdrawn"),
    }
}

/// The main line of the funnel, in order (side exits and ledger events are counted apart).
pub const FUNNEL: &[Stage] = &[
    Stage::AccountCreated,
    Stage::ProfileVerified,
    Stage::TestPassed,
    Stage::JoinedBatch,
    Stage::Accepted,
    Stage::PayoutLinked,
    Stage::TrainingBought,
    Stage::TrainingCompleted,
    Stage::Rated,
    Stage::IncentivePaid,
    Stage::SurveysDone,
    Stage::Finished,
];

/// Stages whose first day is kept in the projection (`d_<code>` columns).
pub const TRACKED: &[Stage] = &[
    Stage::AccountCreated,
    Stage::ProfileVerified,
    Stage::TestPassed,
    Stage::JoinedBatch,
    Stage::Accepted,
    Stage::NotAccepted,
    Stage::PayoutLinked,
    Stage::TrainingBought,
    Stage::TrainingCompleted,
    Stage::Rated,
    Stage::IncentivePaid,
    Stage::SurveysDone,
    Stage::Finished,
    Stage::Revoked,
    Stage::Withdrawn,
];

impl Stage {
    /// Position on the main line; side exits rank by where they branch off.
    pub fn rank(self) -> u8 {
        match self {
            Stage::NotRegistered => 0,
            Stage::AccountCreated => 1,
            Stage::ProfileVerified => 2,
            Stage::TestPassed => 3,
            Stage::JoinedBatch => 4,
            Stage::Accepted | Stage::NotAccepted => 5,
            Stage::PayoutLinked => 6,
            Stage::TrainingBought => 7,
            Stage::TrainingCompleted => 8,
            Stage::Rated => 9,
            Stage::IncentivePaid | Stage::SurveyPaid => 10,
            Stage::SurveysDone => 11,
            Stage::Finished => 12,
            Stage::Revoked | Stage::Withdrawn => 13,
        }
    }

    pub fn is_closed(self) -> bool {
        matches!(self, Stage::Revoked | Stage::Withdrawn | Stage::Finished)
    }

    /// Someone who started and has not finished or left: the people a counter follows up.
    pub fn is_mid_journey(self) -> bool {
        !self.is_closed() && self != Stage::NotRegistered
    }
}

code_enum! {
    pub enum Source {
        Counter => ("counter", "Loket", "Counter"),
        Import => ("import", "Impor berkas", "File import"),
        Api => ("api", "API mitra", "Partner API"),
    }
}

code_enum! {
    pub enum PayoutChannel {
        Bank => ("bank", "Rekening bank", "Bank account"),
        Ewallet => ("ewallet", "E-wallet", "E-wallet"),
    }
}

code_enum! {
    /// Self-declared occupation, asked before joining a batch (Permenko 11/2020).
    pub enum Occupation {
        None => ("none", "Tidak termasuk yang dikecualikan", "None of the excluded"),
        Student => ("student", "Pelajar/mahasiswa aktif", "Student in formal education"),
        CivilServant => ("civil_servant", "ASN (PNS/PPPK)", "Civil servant"),
        TniPolri => ("tni_polri", "Anggota TNI/Polri", "Armed forces or police"),
        VillageOfficial => ("village_official", "Kepala desa/perangkat desa", "Village head or official"),
        BumnDirector => ("bumn_director", "Direksi/komisaris BUMN/BUMD", "SOE director or commissioner"),
    }
}

/// One scheme's rules (2020–2021, 2023–, or one an admin adds). Amounts in rupiah.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Scheme {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub starts_on: NaiveDate,
    pub training_balance: i64,
    pub incentive_amount: i64,
    pub incentive_count: i64,
    pub survey_amount: i64,
    pub survey_count: i64,
    /// Days after acceptance to buy the first training, or the card is revoked.
    pub purchase_days: i64,
    /// Days after the first rating when the first incentive is expected.
    pub incentive_first_after_days: i64,
    pub incentive_interval_days: i64,
    pub survey_first_after_days: i64,
    pub survey_interval_days: i64,
    /// Working days a payment may be late before the follow-up list flags it.
    pub grace_working_days: i64,
    pub min_age: i64,
    pub max_age: Option<i64>,
    /// From which batch number `max_age` applies (batch 18 in the 2020–2021 scheme).
    pub max_age_from_batch: Option<i64>,
}

/// A batch (gelombang): its number and scheme.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Batch {
    pub id: i64,
    pub scheme_id: i64,
    pub number: i64,
    pub opens_on: NaiveDate,
}

/// The scheme and batch tables, loaded once per request (they are small).
#[derive(Clone, Debug, Default)]
pub struct Rules {
    pub schemes: HashMap<i64, Scheme>,
    pub batches: HashMap<i64, Batch>,
}

impl Rules {
    pub fn new(schemes: Vec<Scheme>, batches: Vec<Batch>) -> Rules {
        Rules {
            schemes: schemes.into_iter().map(|s| (s.id, s)).collect(),
            batches: batches.into_iter().map(|b| (b.id, b)).collect(),
        }
    }

    pub fn batch_by_number(&self, number: i64) -> Option<&Batch> {
        self.batches.values().find(|b| b.number == number)
    }

    pub fn scheme_of(&self, batch_id: i64) -> Option<&Scheme> {
        self.batches
            .get(&batch_id)
            .and_then(|b| self.schemes.get(&b.scheme_id))
    }
}

/// One stored event.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub participant_id: i64,
    pub stage: String,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub source: String,
    pub actor_id: Option<i64>,
    pub counter_id: Option<i64>,
    pub batch_id: Option<i64>,
    pub card_number: Option<String>,
    pub training_title: Option<String>,
    pub training_platform: Option<String>,
    pub amount: Option<i64>,
    pub channel: Option<String>,
    pub detail: Option<String>,
    pub correction_of: Option<i64>,
    pub voids: bool,
    pub override_reason: Option<String>,
    pub eligibility_reason: Option<String>,
    pub correction_reason: Option<String>,
}

/// An event before it is stored (the id comes from the database).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewEvent {
    pub participant_id: i64,
    pub stage: String,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub source: String,
    pub actor_id: Option<i64>,
    pub counter_id: Option<i64>,
    pub batch_id: Option<i64>,
    pub card_number: Option<String>,
    pub training_title: Option<String>,
    pub training_platform: Option<String>,
    pub amount: Option<i64>,
    pub channel: Option<String>,
    pub detail: Option<String>,
    pub correction_of: Option<i64>,
    pub voids: bool,
    pub override_reason: Option<String>,
    pub eligibility_reason: Option<String>,
    pub correction_reason: Option<String>,
}

impl NewEvent {
    /// The row this event becomes once stored with `id`.
    pub fn stored(&self, id: i64) -> EventRow {
        EventRow {
            id,
            participant_id: self.participant_id,
            stage: self.stage.clone(),
            occurred_at: self.occurred_at,
            recorded_at: self.recorded_at,
            source: self.source.clone(),
            actor_id: self.actor_id,
            counter_id: self.counter_id,
            batch_id: self.batch_id,
            card_number: self.card_number.clone(),
            training_title: self.training_title.clone(),
            training_platform: self.training_platform.clone(),
            amount: self.amount,
            channel: self.channel.clone(),
            detail: self.detail.clone(),
            correction_of: self.correction_of,
            voids: self.voids,
            override_reason: self.override_reason.clone(),
            eligibility_reason: self.eligibility_reason.clone(),
            correction_reason: self.correction_reason.clone(),
        }
    }
}

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

/// A purchase, payment or other ledger line, as replayed from its event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerLine {
    pub event_id: i64,
    pub on: NaiveDate,
    pub amount: i64,
    pub title: Option<String>,
    pub platform: Option<String>,
    pub channel: Option<String>,
}

/// Where a person stands, replayed from their effective events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JourneyState {
    pub stage: Option<Stage>,
    pub stage_since: Option<NaiveDate>,
    pub reached: HashMap<&'static str, NaiveDate>,
    pub batch_id: Option<i64>,
    pub batch_number: Option<i64>,
    pub scheme: Option<Scheme>,
    pub accepted_on: Option<NaiveDate>,
    pub card_number: Option<String>,
    pub payout_channel: Option<String>,
    pub purchases: Vec<LedgerLine>,
    pub completions: u32,
    pub ratings: u32,
    pub first_rated_on: Option<NaiveDate>,
    pub incentives: Vec<LedgerLine>,
    pub surveys: Vec<LedgerLine>,
    pub first_day: Option<NaiveDate>,
    pub last_counter_day: Option<NaiveDate>,
    pub last_counter_actor: Option<i64>,
}

impl JourneyState {
    pub fn current(&self) -> Stage {
        self.stage.unwrap_or(Stage::NotRegistered)
    }

    pub fn spent(&self) -> i64 {
        self.purchases.iter().map(|p| p.amount).sum()
    }

    pub fn balance(&self) -> Option<i64> {
        self.scheme
            .as_ref()
            .map(|s| s.training_balance - self.spent())
    }

    pub fn accepted(&self) -> bool {
        self.accepted_on.is_some()
    }

    /// The last day to buy the first training, while none is bought.
    pub fn purchase_deadline(&self) -> Option<NaiveDate> {
        let scheme = self.scheme.as_ref()?;
        let accepted = self.accepted_on?;
        Some(accepted + Duration::days(scheme.purchase_days))
    }

    fn set_stage(&mut self, stage: Stage, on: NaiveDate) {
        self.reached.entry(stage.code()).or_insert(on);
        let current = self.current();
        // The stage is the furthest one reached; side exits and a rejoin replace it.
        let replaces = stage.rank() >= current.rank()
            || stage == Stage::JoinedBatch
            || matches!(stage, Stage::Revoked | Stage::Withdrawn);
        if replaces && stage != Stage::SurveyPaid {
            if current != stage {
                self.stage_since = Some(on);
            }
            self.stage = Some(stage);
        }
    }

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
        let Some(stage) = Stage::parse(&event.stage) else {
            return Err(Refusal::new(
                "stage_unknown",
                format!("Tahap tidak dikenal. Pilih salah satu: {}.", Stage::codes()),
                format!("Unknown stage. Use one of: {}.", Stage::codes()),
            ));
        };
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
        let price = event.amount.unwrap_or(0);
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
                            show_date(deadline)
                        ),
                        format!(
                            "The deadline to buy the first training has passed ({}).",
                            show_date(deadline)
                        ),
                    ));
                }
            }
        }
        let balance = self.balance().unwrap_or(0);
        if price > balance {
            return Err(Refusal::new(
                "over_balance",
                format!(
                    "Harga {} melebihi sisa saldo pelatihan {}.",
                    rupiah(price),
                    rupiah(balance)
                ),
                format!(
                    "The price {} exceeds the remaining training balance {}.",
                    rupiah(price),
                    rupiah(balance)
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

    /// Applies an event already known to be allowed (or overridden by an admin).
    pub fn apply(&mut self, event: &EventRow, rules: &Rules) {
        let Some(stage) = Stage::parse(&event.stage) else {
            return;
        };
        let on = local_day(event.occurred_at);
        self.first_day = Some(self.first_day.map_or(on, |d| d.min(on)));
        if event.source == Source::Counter.code() {
            if self.last_counter_day.is_none_or(|d| d <= on) {
                self.last_counter_day = Some(on);
            }
            self.last_counter_actor = event.actor_id.or(self.last_counter_actor);
        }
        let line = || LedgerLine {
            event_id: event.id,
            on,
            amount: event.amount.unwrap_or(0),
            title: event.training_title.clone(),
            platform: event.training_platform.clone(),
            channel: event.channel.clone(),
        };
        match stage {
            Stage::JoinedBatch => {
                if let Some(batch) = event.batch_id.and_then(|id| rules.batches.get(&id)) {
                    self.batch_id = Some(batch.id);
                    self.batch_number = Some(batch.number);
                    self.scheme = rules.schemes.get(&batch.scheme_id).cloned();
                }
            }
            Stage::Accepted => {
                self.accepted_on = Some(on);
                self.card_number = event.card_number.clone().or(self.card_number.take());
            }
            Stage::PayoutLinked => self.payout_channel = event.channel.clone(),
            Stage::TrainingBought => self.purchases.push(line()),
            Stage::TrainingCompleted => self.completions += 1,
            Stage::Rated => {
                self.ratings += 1;
                self.first_rated_on.get_or_insert(on);
            }
            Stage::IncentivePaid => self.incentives.push(line()),
            Stage::SurveyPaid => self.surveys.push(line()),
            _ => {}
        }
        self.set_stage(stage, on);
        // The counts reached turn into stages of their own.
        if stage == Stage::SurveyPaid
            && self
                .scheme
                .as_ref()
                .is_some_and(|s| self.surveys.len() as i64 >= s.survey_count)
        {
            self.set_stage(Stage::SurveysDone, on);
        }
        if matches!(
            stage,
            Stage::SurveyPaid | Stage::IncentivePaid | Stage::SurveysDone
        ) && self.reached.contains_key(Stage::SurveysDone.code())
            && self
                .scheme
                .as_ref()
                .is_some_and(|s| self.incentives.len() as i64 >= s.incentive_count)
        {
            self.set_stage(Stage::Finished, on);
        }
    }

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

fn expect(current: Stage, wanted_current: Stage, stage: Stage) -> Result<(), Refusal> {
    if current == wanted_current {
        Ok(())
    } else {
        Err(Refusal::order(stage, current))
    }
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

/// The events that still count: not voided and not replaced by a correction.
pub fn effective(events: &[EventRow]) -> Vec<EventRow> {
    let replaced: std::collections::HashSet<i64> =
        events.iter().filter_map(|e| e.correction_of).collect();
    let mut list: Vec<EventRow> = events
        .iter()
        .filter(|e| !e.voids && !replaced.contains(&e.id))
        .cloned()
        .collect();
    // A backdated event takes its place in time; ties keep the order of recording.
    list.sort_by_key(|e| (e.occurred_at, e.id));
    list
}

/// Replays the effective events; each must pass the rules unless it carries an override.
/// Returns the state and the first refusal with the id of the event refused.
pub fn replay(events: &[EventRow], rules: &Rules) -> Result<JourneyState, (i64, Refusal)> {
    let mut state = JourneyState::default();
    for event in effective(events) {
        if event.override_reason.is_none() {
            state.check(&event, rules).map_err(|r| (event.id, r))?;
        }
        state.apply(&event, rules);
    }
    Ok(state)
}

/// The calendar day of a moment at the counters (WIB).
pub fn local_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&crate::clock::wib()).date_naive()
}

/// Days since 1970-01-01: the unit the projection stores so both engines subtract alike.
pub fn day_number(date: NaiveDate) -> i64 {
    (date - NaiveDate::default()).num_days()
}

pub fn from_day_number(day: i64) -> NaiveDate {
    NaiveDate::default() + Duration::days(day)
}

/// Adds working days (Monday–Friday; public holidays are not modelled yet).
pub fn add_working_days(from: NaiveDate, days: i64) -> NaiveDate {
    let mut date = from;
    let mut left = days;
    while left > 0 {
        date += Duration::days(1);
        if !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    date
}

/// Facts about a participant the projection needs besides the events.
#[derive(Clone, Debug, Default)]
pub struct Context {
    pub counter_id: Option<i64>,
    pub office_id: Option<i64>,
    pub province_code: Option<String>,
    /// Days of assistance sessions and successful contacts, with the officer.
    pub contacts: Vec<(NaiveDate, i64)>,
    /// The latest session's next follow-up date, and the day that session was recorded.
    pub next_follow_up: Option<(NaiveDate, NaiveDate)>,
}

/// The projection row: what the follow-up list and the funnel read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub participant_id: i64,
    pub counter_id: Option<i64>,
    pub office_id: Option<i64>,
    pub province_code: Option<String>,
    pub owner_id: Option<i64>,
    pub scheme_id: Option<i64>,
    pub batch_number: Option<i64>,
    pub stage: String,
    pub stage_day: Option<i64>,
    pub started_day: Option<i64>,
    /// First day of each stage in `TRACKED` order.
    pub days: Vec<Option<i64>>,
    pub spent: i64,
    pub incentives_paid: i64,
    pub surveys_paid: i64,
    pub purchase_deadline_day: Option<i64>,
    pub incentive_overdue_day: Option<i64>,
    pub survey_overdue_day: Option<i64>,
    pub last_contact_day: Option<i64>,
    pub next_follow_up_day: Option<i64>,
}

/// The projection of one participant: a pure function of their events and contacts.
pub fn project(participant_id: i64, state: &JourneyState, ctx: &Context) -> Progress {
    let closed = state.current().is_closed() || state.current() == Stage::NotAccepted;
    let first_unpaid = |surveys: bool| {
        state
            .schedule(surveys)
            .into_iter()
            .find(|e| e.received.is_none())
            .map(|e| day_number(e.overdue_from))
    };
    let last_contact = ctx
        .contacts
        .iter()
        .map(|(d, _)| *d)
        .chain(state.last_counter_day)
        .max();
    let owner = ctx
        .contacts
        .iter()
        .max_by_key(|(d, _)| *d)
        .map(|(_, o)| *o)
        .or(state.last_counter_actor);
    // A follow-up date is done once someone was reached on or after it.
    let follow_up = ctx.next_follow_up.and_then(|(due, set_on)| {
        let reached_after = ctx.contacts.iter().any(|(d, _)| *d > set_on && *d >= due);
        (!reached_after).then_some(due)
    });
    Progress {
        participant_id,
        counter_id: ctx.counter_id,
        office_id: ctx.office_id,
        province_code: ctx.province_code.clone(),
        owner_id: owner,
        scheme_id: state.scheme.as_ref().map(|s| s.id),
        batch_number: state.batch_number,
        stage: state.current().code().to_string(),
        stage_day: state.stage_since.map(day_number),
        started_day: state.first_day.map(day_number),
        days: TRACKED
            .iter()
            .map(|s| state.reached.get(s.code()).copied().map(day_number))
            .collect(),
        spent: state.spent(),
        incentives_paid: state.incentives.len() as i64,
        surveys_paid: state.surveys.len() as i64,
        purchase_deadline_day: (state.purchases.is_empty() && !closed)
            .then(|| state.purchase_deadline().map(day_number))
            .flatten(),
        incentive_overdue_day: (!closed).then(|| first_unpaid(false)).flatten(),
        survey_overdue_day: (!closed).then(|| first_unpaid(true)).flatten(),
        last_contact_day: last_contact.map(day_number),
        next_follow_up_day: (!closed).then_some(follow_up.map(day_number)).flatten(),
    }
}

/// Eligibility facts that come from the database.
#[derive(Clone, Debug, Default)]
pub struct EligibilityFacts {
    pub birth_date: NaiveDate,
    pub occupation: Option<Occupation>,
    /// Other participants on the same family card (KK) who received a card.
    pub kk_recipients: i64,
    /// This NIK received a card before, or was barred by a revocation.
    pub previous_recipient: bool,
}

/// One reason against joining, with a stable code.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Advice {
    pub code: String,
    pub message: String,
    pub message_en: String,
}

fn advice(code: &str, message: String, message_en: String) -> Advice {
    Advice {
        code: code.to_string(),
        message,
        message_en,
    }
}

pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i64 {
    let mut age = i64::from(on.year() - birth.year());
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// Advice before joining `batch` (Permenko 11/2020 and later): empty when nothing speaks against.
pub fn eligibility(facts: &EligibilityFacts, batch: &Batch, scheme: &Scheme) -> Vec<Advice> {
    let mut out = Vec::new();
    let age = age_on(facts.birth_date, batch.opens_on);
    if age < scheme.min_age {
        out.push(advice(
            "age_below_minimum",
            format!(
                "Usia {age} tahun saat gelombang {} dibuka; minimal {} tahun.",
                batch.number, scheme.min_age
            ),
            format!(
                "Aged {age} when batch {} opens; the minimum is {}.",
                batch.number, scheme.min_age
            ),
        ));
    }
    let max_applies = scheme
        .max_age_from_batch
        .is_some_and(|from| batch.number >= from);
    if let (true, Some(max)) = (max_applies, scheme.max_age) {
        if age > max {
            out.push(advice(
                "age_above_maximum",
                format!(
                    "Usia {age} tahun; sejak gelombang {} batas usia {max} tahun.",
                    scheme.max_age_from_batch.unwrap_or(1)
                ),
                format!(
                    "Aged {age}; from batch {} the age limit is {max}.",
                    scheme.max_age_from_batch.unwrap_or(1)
                ),
            ));
        }
    }
    if let Some(occupation) = facts.occupation.filter(|o| *o != Occupation::None) {
        out.push(advice(
            "excluded_occupation",
            format!(
                "Menyatakan diri {}: tidak termasuk sasaran Kartu Prakerja.",
                occupation.label(Lang::Id)
            ),
            format!(
                "Declared as {}: not a Kartu Prakerja target group.",
                occupation.label(Lang::En)
            ),
        ));
    }
    if facts.kk_recipients >= 2 {
        out.push(advice(
            "kk_limit_reached",
            format!(
                "Sudah {} penerima Kartu Prakerja dalam satu KK yang dikenal loket; batasnya 2.",
                facts.kk_recipients
            ),
            format!(
                "{} known card recipients already share this family card; the limit is 2.",
                facts.kk_recipients
            ),
        ));
    }
    if facts.previous_recipient {
        out.push(advice(
            "previous_recipient",
            "NIK ini pernah menerima kartu atau dicabut kepesertaannya: satu orang satu kartu."
                .into(),
            "This NIK received a card before or was revoked: one card per person.".into(),
        ));
    }
    out
}

/// Rupiah with Indonesian thousands dots: Rp1.000.000.
pub fn rupiah(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        // `is_multiple_of` needs Rust 1.87; the workspace promises 1.85.
        #[allow(clippy::manual_is_multiple_of)]
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    format!("{}Rp{out}", if amount < 0 { "-" } else { "" })
}

pub fn show_date(date: NaiveDate) -> String {
    date.format("%d-%m-%Y").to_string()
}

code_enum! {
    pub enum SessionChannel {
        WalkIn => ("walk_in", "Datang ke loket", "Walk-in"),
        Phone => ("phone", "Telepon", "Phone"),
        Whatsapp => ("whatsapp", "WhatsApp", "WhatsApp"),
        HomeVisit => ("home_visit", "Kunjungan rumah", "Home visit"),
        Outreach => ("outreach", "Kegiatan jemput bola (debarkasi, karantina)", "Outreach event (arrival, quarantine site)"),
    }
}

code_enum! {
    /// The checklist of steps an officer helps with in a session.
    pub enum Step {
        EmailAccount => ("email_account", "Membuat email", "Email account"),
        PrakerjaAccount => ("prakerja_account", "Akun Prakerja", "Prakerja account"),
        KtpKkData => ("ktp_kk_data", "Data KTP/KK", "ID and family card data"),
        Otp => ("otp", "Kode OTP", "OTP code"),
        BasicTest => ("basic_test", "Tes kemampuan dasar", "Basic test"),
        JoinBatch => ("join_batch", "Gabung gelombang", "Joining a batch"),
        LinkPayout => ("link_payout", "Sambung rekening/e-wallet", "Linking bank/e-wallet"),
        ChooseTraining => ("choose_training", "Memilih pelatihan", "Choosing training"),
        RedeemVoucher => ("redeem_voucher", "Menukar voucher", "Redeeming the voucher"),
        FinishTraining => ("finish_training", "Menyelesaikan pelatihan", "Finishing training"),
        Rating => ("rating", "Ulasan dan rating", "Rating"),
        CheckIncentive => ("check_incentive", "Cek insentif", "Checking incentives"),
    }
}

code_enum! {
    pub enum SessionOutcome {
        Done => ("done", "Langkah selesai", "Step done"),
        Partly => ("partly", "Sebagian selesai", "Partly done"),
        Blocked => ("blocked", "Terkendala", "Blocked"),
        Referred => ("referred", "Dirujuk ke pihak lain", "Referred elsewhere"),
    }
}

code_enum! {
    pub enum ContactResult {
        Reached => ("reached", "Terhubung", "Reached"),
        WillCome => ("will_come", "Akan datang ke loket", "Will come to the counter"),
        NoAnswer => ("no_answer", "Tidak diangkat/dibalas", "No answer"),
        WrongNumber => ("wrong_number", "Nomor salah/tidak aktif", "Wrong or inactive number"),
    }
}

impl ContactResult {
    /// Whether the person was actually reached (resets "no contact for 30 days").
    pub fn reached(self) -> bool {
        matches!(self, ContactResult::Reached | ContactResult::WillCome)
    }
}

/// One reason a person is on the follow-up list, with what to do about it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FollowUpReason {
    pub code: String,
    pub why: String,
    pub why_en: String,
    pub todo: String,
    pub todo_en: String,
    /// The day that makes it urgent (deadline, expected payment, follow-up date, last contact).
    pub day: NaiveDate,
}

fn reason(code: &str, day: NaiveDate, why: (String, String), todo: (&str, &str)) -> FollowUpReason {
    FollowUpReason {
        code: code.to_string(),
        why: why.0,
        why_en: why.1,
        todo: todo.0.to_string(),
        todo_en: todo.1.to_string(),
        day,
    }
}

/// What the projection fields say about a person on `today` (the same tests as the query).
#[allow(clippy::too_many_arguments)]
pub fn follow_up_reasons(
    today: NaiveDate,
    horizon: i64,
    quiet_days: i64,
    incentives_paid: i64,
    surveys_paid: i64,
    purchase_deadline: Option<NaiveDate>,
    incentive_overdue: Option<NaiveDate>,
    survey_overdue: Option<NaiveDate>,
    next_follow_up: Option<NaiveDate>,
    last_contact: Option<NaiveDate>,
) -> Vec<FollowUpReason> {
    let mut out = Vec::new();
    if let Some(deadline) = purchase_deadline {
        let left = (deadline - today).num_days();
        if left < 0 {
            out.push(reason(
                "purchase_deadline_passed",
                deadline,
                (
                    format!("Batas beli pelatihan pertama lewat pada {}.", show_date(deadline)),
                    format!("The first-training deadline passed on {}.", show_date(deadline)),
                ),
                (
                    "Pastikan: jika sudah membeli, catat pembeliannya; jika belum, catat pencabutan.",
                    "Check: if bought, record the purchase; if not, record the revocation.",
                ),
            ));
        } else if left <= horizon {
            out.push(reason(
                "purchase_deadline_soon",
                deadline,
                (
                    format!(
                        "Batas beli pelatihan pertama {} ({left} hari lagi).",
                        show_date(deadline)
                    ),
                    format!(
                        "First training must be bought by {} ({left} days left).",
                        show_date(deadline)
                    ),
                ),
                (
                    "Hubungi dan bantu memilih serta membeli pelatihan sebelum kartu dicabut.",
                    "Call and help choose and buy a training before the card is revoked.",
                ),
            ));
        }
    }
    if let Some(from) = incentive_overdue.filter(|d| *d <= today) {
        let k = incentives_paid + 1;
        out.push(reason(
            "incentive_overdue",
            from,
            (
                format!("Insentif ke-{k} belum diterima (terlambat sejak {}).", show_date(from)),
                format!("Incentive {k} not received (overdue since {}).", show_date(from)),
            ),
            (
                "Cek status di dasbor Prakerja, rekening/e-wallet atas NIK sendiri, lalu catat bila sudah cair.",
                "Check the Prakerja dashboard and that the account is in their own NIK; record it once paid.",
            ),
        ));
    }
    if let Some(from) = survey_overdue.filter(|d| *d <= today) {
        let k = surveys_paid + 1;
        out.push(reason(
            "survey_overdue",
            from,
            (
                format!(
                    "Insentif survei ke-{k} belum diterima (terlambat sejak {}).",
                    show_date(from)
                ),
                format!(
                    "Survey incentive {k} not received (overdue since {}).",
                    show_date(from)
                ),
            ),
            (
                "Pastikan survei evaluasi sudah diisi di dasbor Prakerja.",
                "Make sure the evaluation survey was filled in on the Prakerja dashboard.",
            ),
        ));
    }
    if let Some(due) = next_follow_up.filter(|d| *d <= today) {
        out.push(reason(
            "follow_up_due",
            due,
            (
                format!("Jadwal tindak lanjut {}.", show_date(due)),
                format!("Follow-up scheduled for {}.", show_date(due)),
            ),
            (
                "Hubungi sesuai rencana pada sesi pendampingan terakhir.",
                "Get in touch as planned in the last assistance session.",
            ),
        ));
    }
    if let Some(last) = last_contact.filter(|d| (today - *d).num_days() >= quiet_days) {
        out.push(reason(
            "no_contact",
            last,
            (
                format!("Tidak ada kontak sejak {}.", show_date(last)),
                format!("No contact since {}.", show_date(last)),
            ),
            (
                "Tanyakan kemajuan dan kendala; tawarkan datang ke loket.",
                "Ask about progress and problems; offer a visit to the counter.",
            ),
        ));
    }
    out
}

/// The next step for a person, in plain words for the officer and the person.
pub fn next_step(state: &JourneyState, today: NaiveDate) -> (String, String) {
    let deadline = state
        .purchase_deadline()
        .map(show_date)
        .unwrap_or_else(|| "-".into());
    let balance = rupiah(state.balance().unwrap_or(0));
    let pair = |id: &str, en: &str| (id.to_string(), en.to_string());
    match state.current() {
        Stage::NotRegistered => pair(
            "Bantu membuat akun di prakerja.go.id dengan email aktif dan nomor HP sendiri.",
            "Help create an account at prakerja.go.id with an active email and their own phone number.",
        ),
        Stage::AccountCreated => pair(
            "Lengkapi profil lalu verifikasi NIK dan nomor KK.",
            "Complete the profile, then verify the NIK and family card number.",
        ),
        Stage::ProfileVerified => pair(
            "Kerjakan tes kemampuan dasar di dasbor Prakerja.",
            "Take the basic test on the Prakerja dashboard.",
        ),
        Stage::TestPassed => pair(
            "Periksa kelayakan, lalu gabung gelombang yang sedang dibuka.",
            "Check eligibility, then join the batch that is open.",
        ),
        Stage::JoinedBatch => pair(
            "Tunggu pengumuman gelombang; cek email dan SMS dari Prakerja.",
            "Wait for the batch announcement; check email and SMS from Prakerja.",
        ),
        Stage::NotAccepted => pair(
            "Belum diterima: gabung lagi di gelombang berikutnya.",
            "Not accepted: join again in the next batch.",
        ),
        Stage::Accepted => (
            format!("Sambungkan rekening bank atau e-wallet atas NIK sendiri, lalu beli pelatihan pertama paling lambat {deadline}."),
            format!("Link a bank account or e-wallet in their own NIK, then buy the first training by {deadline}."),
        ),
        Stage::PayoutLinked => (
            format!("Pilih dan beli pelatihan pertama paling lambat {deadline} (saldo {balance})."),
            format!("Choose and buy the first training by {deadline} (balance {balance})."),
        ),
        Stage::TrainingBought => pair(
            "Ikuti pelatihan sampai selesai dan unduh sertifikatnya.",
            "Follow the training to the end and download the certificate.",
        ),
        Stage::TrainingCompleted => pair(
            "Beri ulasan dan rating pelatihan di dasbor Prakerja agar insentif cair.",
            "Rate the training on the Prakerja dashboard so the incentive is paid.",
        ),
        Stage::Rated | Stage::IncentivePaid | Stage::SurveyPaid | Stage::SurveysDone => {
            let due = state
                .schedule(false)
                .into_iter()
                .chain(state.schedule(true))
                .filter(|e| e.received.is_none())
                .min_by_key(|e| e.expected_on);
            match due {
                Some(e) if e.overdue_from <= today => (
                    format!("Pembayaran yang diharapkan {} belum masuk: cek rekening/e-wallet dan survei.", show_date(e.expected_on)),
                    format!("A payment expected on {} has not arrived: check the account and the surveys.", show_date(e.expected_on)),
                ),
                Some(e) => (
                    format!("Isi survei dan pantau pembayaran berikutnya (perkiraan {}).", show_date(e.expected_on)),
                    format!("Fill in the surveys and watch for the next payment (expected {}).", show_date(e.expected_on)),
                ),
                None => pair("Semua pembayaran sudah diterima.", "Every payment has been received."),
            }
        }
        Stage::Finished => pair(
            "Selesai. Tawarkan program lanjutan (pelatihan lain, modal usaha, penempatan).",
            "Finished. Offer follow-on programmes (more training, business capital, jobs).",
        ),
        Stage::Revoked => pair(
            "Kepesertaan dicabut dan NIK tidak bisa ikut lagi. Tawarkan program lain.",
            "The card was revoked and the NIK cannot take part again. Offer other programmes.",
        ),
        Stage::Withdrawn => pair(
            "Sudah mengundurkan diri; tidak ada langkah lagi.",
            "Withdrawn; no further step.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheme_2021() -> Scheme {
        Scheme {
            id: 1,
            code: "2020".into(),
            name: "2020".into(),
            starts_on: NaiveDate::from_ymd_opt(2020, 4, 1).unwrap(),
            training_balance: 1_000_000,
            incentive_amount: 600_000,
            incentive_count: 4,
            survey_amount: 50_000,
            survey_count: 3,
            purchase_days: 30,
            incentive_first_after_days: 5,
            incentive_interval_days: 30,
            survey_first_after_days: 5,
            survey_interval_days: 30,
            grace_working_days: 5,
            min_age: 18,
            max_age: Some(64),
            max_age_from_batch: Some(18),
        }
    }

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
        EventRow {
            id,
            participant_id: 1,
            stage: stage.code().into(),
            occurred_at: NaiveDate::from_ymd_opt(2021, 6, day)
                .unwrap()
                .and_hms_opt(9, 0, 0)
                .unwrap()
                .and_utc(),
            recorded_at: Utc::now(),
            source: "counter".into(),
            actor_id: Some(7),
            counter_id: Some(1),
            batch_id: None,
            card_number: None,
            training_title: None,
            training_platform: None,
            amount: None,
            channel: None,
            detail: None,
            correction_of: None,
            voids: false,
            override_reason: None,
            eligibility_reason: None,
            correction_reason: None,
        }
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
        buy.amount = Some(100_000);
        events.push(buy);
        let (id, refusal) = replay(&events, &rules()).unwrap_err();
        assert_eq!((id, refusal.code), (9, "training_before_acceptance"));
    }

    #[test]
    fn an_admin_override_lets_an_event_through() {
        let mut skip = ev(2, Stage::TestPassed, 2);
        skip.override_reason = Some("data dari Manajemen Pelaksana".into());
        let state = replay(&[ev(1, Stage::AccountCreated, 1), skip], &rules()).unwrap();
        assert_eq!(state.current(), Stage::TestPassed);
    }

    #[test]
    fn purchases_over_the_balance_are_refused() {
        let mut events = accepted_state();
        let mut buy = ev(6, Stage::TrainingBought, 6);
        buy.amount = Some(700_000);
        let mut again = ev(7, Stage::TrainingBought, 7);
        again.amount = Some(400_000);
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

    #[test]
    fn working_days_skip_weekends() {
        // Friday 4 June 2021 + 5 working days = Friday 11 June.
        let friday = NaiveDate::from_ymd_opt(2021, 6, 4).unwrap();
        assert_eq!(
            add_working_days(friday, 5),
            NaiveDate::from_ymd_opt(2021, 6, 11).unwrap()
        );
        assert_eq!(add_working_days(friday, 1).weekday(), Weekday::Mon);
    }

    #[test]
    fn eligibility_gives_reasons() {
        let scheme = scheme_2021();
        let batch18 = Batch {
            id: 2,
            scheme_id: 1,
            number: 18,
            opens_on: NaiveDate::from_ymd_opt(2021, 7, 1).unwrap(),
        };
        let facts = EligibilityFacts {
            birth_date: NaiveDate::from_ymd_opt(1955, 1, 1).unwrap(),
            occupation: Some(Occupation::VillageOfficial),
            kk_recipients: 2,
            previous_recipient: false,
        };
        let codes: Vec<String> = eligibility(&facts, &batch18, &scheme)
            .into_iter()
            .map(|a| a.code)
            .collect();
        assert_eq!(
            codes,
            [
                "age_above_maximum",
                "excluded_occupation",
                "kk_limit_reached"
            ]
        );
        let batch17 = Batch {
            number: 17,
            ..batch18
        };
        let older_ok = EligibilityFacts {
            occupation: Some(Occupation::None),
            kk_recipients: 1,
            ..facts
        };
        assert!(eligibility(&older_ok, &batch17, &scheme).is_empty());
    }

    #[test]
    fn rupiah_uses_dots() {
        assert_eq!(rupiah(1_000_000), "Rp1.000.000");
        assert_eq!(rupiah(50_000), "Rp50.000");
        assert_eq!(rupiah(600), "Rp600");
    }

    #[test]
    fn day_numbers_round_trip() {
        let d = NaiveDate::from_ymd_opt(2021, 6, 30).unwrap();
        assert_eq!(from_day_number(day_number(d)), d);
        assert_eq!(day_number(NaiveDate::from_ymd_opt(1970, 1, 2).unwrap()), 1);
    }
}
