//! The next step for a person, in plain words for the officer and the person.

use chrono::NaiveDate;

use super::machine::JourneyState;
use super::stage::Stage;

/// The next step for a person, in plain words for the officer and the person.
pub fn next_step(state: &JourneyState, today: NaiveDate) -> (String, String) {
    let deadline = state
        .purchase_deadline()
        .map(crate::format::date)
        .unwrap_or_else(|| "-".into());
    let balance = |lang: crate::i18n::Lang| {
        state
            .balance()
            .map_or_else(|| crate::format::Rupiah(0).to_string(), |b| b.words(lang))
    };
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
            format!(
                "Pilih dan beli pelatihan pertama paling lambat {deadline} (saldo {}).",
                balance(crate::i18n::Lang::Id)
            ),
            format!(
                "Choose and buy the first training by {deadline} (balance {}).",
                balance(crate::i18n::Lang::En)
            ),
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
                    format!("Pembayaran yang diharapkan {} belum masuk: cek rekening/e-wallet dan survei.", crate::format::date(e.expected_on)),
                    format!("A payment expected on {} has not arrived: check the account and the surveys.", crate::format::date(e.expected_on)),
                ),
                Some(e) => (
                    format!("Isi survei dan pantau pembayaran berikutnya (perkiraan {}).", crate::format::date(e.expected_on)),
                    format!("Fill in the surveys and watch for the next payment (expected {}).", crate::format::date(e.expected_on)),
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
