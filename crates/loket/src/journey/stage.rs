//! The vocabulary of a journey event: the stages of Kartu Prakerja (which also name the event
//! kinds), where an event came from, and the payout channels. Codes are stable (stored and
//! exchanged); labels come in both languages.

use crate::code_enum;

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

/// Everyone starts not registered: the state before any event.
impl Default for Stage {
    fn default() -> Self {
        Stage::NotRegistered
    }
}

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

    /// The stage an officer most likely records next: the next step of the main line (a
    /// person not accepted joins a later batch; after the post-training incentive come the
    /// survey incentives). `None` once the journey is closed.
    pub fn next(self) -> Option<Stage> {
        match self {
            Stage::NotAccepted => Some(Stage::JoinedBatch),
            Stage::IncentivePaid | Stage::SurveyPaid => Some(Stage::SurveyPaid),
            s if s.is_closed() => None,
            s => FUNNEL.iter().copied().find(|f| f.rank() > s.rank()),
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

#[cfg(test)]
mod tests {
    use super::Stage;

    #[test]
    fn the_next_stage_is_the_next_step_of_the_main_line() {
        assert_eq!(Stage::NotRegistered.next(), Some(Stage::AccountCreated));
        assert_eq!(Stage::JoinedBatch.next(), Some(Stage::Accepted));
        assert_eq!(Stage::NotAccepted.next(), Some(Stage::JoinedBatch));
        assert_eq!(Stage::Accepted.next(), Some(Stage::PayoutLinked));
        assert_eq!(Stage::IncentivePaid.next(), Some(Stage::SurveyPaid));
        assert_eq!(Stage::SurveysDone.next(), Some(Stage::Finished));
        assert_eq!(Stage::Revoked.next(), None);
    }
}
