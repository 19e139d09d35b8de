//! The vocabulary of reminders: reasons, channels, statuses, and the messages themselves.

use chrono::NaiveDate;

use crate::code_enum;

code_enum! {
    /// Why a person gets a message (one template each).
    pub enum Reason {
        PurchaseDeadlineSoon => ("purchase_deadline_soon", "Batas beli pelatihan segera", "First-purchase deadline soon"),
        TrainingNotFinished => ("training_not_finished", "Pelatihan belum selesai", "Training not finished"),
        SurveyDue => ("survey_due", "Survei perlu diisi", "Survey due"),
        IncentiveOverdue => ("incentive_overdue", "Insentif terlambat", "Incentive overdue"),
        IncentiveReceived => ("incentive_received", "Insentif diterima", "Incentive received"),
        VisitBooked => ("visit_booked", "Kunjungan terjadwal", "Visit booked"),
        ReferralAnswered => ("referral_answered", "Rujukan dijawab", "Referral answered"),
    }
}

code_enum! {
    pub enum Channel {
        Whatsapp => ("whatsapp", "WhatsApp", "WhatsApp"),
        Sms => ("sms", "SMS", "SMS"),
    }
}

code_enum! {
    /// queued → sending (claimed) → sent → delivered, or failed.
    pub enum Status {
        Queued => ("queued", "Antre", "Queued"),
        Sending => ("sending", "Sedang dikirim", "Sending"),
        Sent => ("sent", "Terkirim", "Sent"),
        Delivered => ("delivered", "Diterima", "Delivered"),
        Failed => ("failed", "Gagal", "Failed"),
    }
}

/// The message for `reason`, in plain Bahasa Indonesia, with the day it is about and the
/// status-page link when there is one. Never a NIK, KK or birth date: only these inputs.
pub fn message(reason: Reason, day: NaiveDate, link: Option<&str>) -> String {
    let d = crate::format::date(day);
    let text = match reason {
        Reason::PurchaseDeadlineSoon => {
            format!("Prakerja: beli pelatihan pertama paling lambat {d} agar kartu tidak dicabut.")
        }
        Reason::TrainingNotFinished => {
            "Prakerja: pelatihan Anda belum selesai. Selesaikan agar insentif cair.".to_string()
        }
        Reason::SurveyDue => {
            "Prakerja: isi survei evaluasi di dasbor Prakerja untuk insentif survei.".to_string()
        }
        Reason::IncentiveOverdue => {
            format!("Prakerja: insentif belum masuk sejak {d}? Datang ke loket, kami bantu cek.")
        }
        Reason::IncentiveReceived => {
            format!("Prakerja: insentif tercatat diterima pada {d}. Terima kasih.")
        }
        Reason::VisitBooked => format!("Loket Layanan Prakerja: kunjungan Anda dijadwalkan {d}."),
        Reason::ReferralAnswered => {
            "Loket Layanan Prakerja: rujukan Anda sudah dijawab. Cek status atau datang ke loket."
                .to_string()
        }
    };
    match link {
        Some(link) => format!("{text} Status: {link} Balas STOP untuk berhenti."),
        None => format!("{text} Balas STOP untuk berhenti."),
    }
}

/// Whether every character is in the GSM 03.38 default alphabet (one SMS is then 160
/// characters; otherwise 70).
pub fn is_gsm7(text: &str) -> bool {
    const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                         ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    const EXTENDED: &str = "^{}\\[~]|€\u{c}";
    text.chars()
        .all(|c| BASIC.contains(c) || EXTENDED.contains(c))
}

/// Characters a message costs in GSM-7 (extended characters take two).
pub fn gsm7_length(text: &str) -> usize {
    text.chars()
        .map(|c| {
            if "^{}\\[~]|€\u{c}".contains(c) {
                2
            } else {
                1
            }
        })
        .sum()
}

/// The person's time zone from their province: WITA and WIT provinces, WIB otherwise.
pub fn utc_offset_hours(province_code: Option<&str>) -> i64 {
    match province_code.unwrap_or("") {
        "51" | "52" | "53" | "63" | "64" | "65" | "71" | "72" | "73" | "74" | "75" | "76" => 8,
        "81" | "82" | "91" | "92" | "93" | "94" | "95" | "96" => 9,
        _ => 7,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_fits_one_sms_and_has_no_digits_run_like_a_nik() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
        for reason in Reason::ALL {
            for link in [None, Some("https://loket.bp2mi.go.id/s/ABCD2345EF")] {
                let text = message(*reason, day, link);
                assert!(is_gsm7(&text), "{reason}: {text}");
                assert!(
                    gsm7_length(&text) <= 160,
                    "{reason}: {} chars",
                    gsm7_length(&text)
                );
                let longest_digits = text
                    .split(|c: char| !c.is_ascii_digit())
                    .map(str::len)
                    .max()
                    .unwrap_or(0);
                assert!(longest_digits < 16, "{text}");
            }
        }
    }

    #[test]
    fn gsm7_knows_what_costs_a_segment() {
        assert!(is_gsm7("Balas STOP untuk berhenti."));
        assert!(!is_gsm7("Terima kasih 🙏"));
        assert_eq!(gsm7_length("a€"), 3);
    }

    #[test]
    fn time_zone_follows_the_province() {
        assert_eq!(utc_offset_hours(Some("32")), 7);
        assert_eq!(utc_offset_hours(Some("51")), 8);
        assert_eq!(utc_offset_hours(Some("94")), 9);
        assert_eq!(utc_offset_hours(None), 7);
    }
}
