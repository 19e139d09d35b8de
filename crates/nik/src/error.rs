//! Errors (the NIK is rejected) and warnings (the NIK is accepted but looks unusual).

use std::fmt;

/// Why a NIK was rejected.
///
/// [`code`](NikError::code) is a stable machine code; [`message_id`](NikError::message_id)
/// (Bahasa Indonesia) and [`message_en`](NikError::message_en) are for people.
/// `Display` is the English message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NikError {
    /// Nothing but spaces, dots and dashes was entered.
    Empty,
    /// The NIK does not have 16 digits (separators not counted).
    WrongLength {
        /// Number of characters found, separators not counted.
        found: usize,
    },
    /// A character other than a digit, space, dot or dash.
    NotDigits {
        /// 1-based position of the first offending character, separators not counted.
        position: usize,
    },
    /// The first two digits are not a province code.
    UnknownProvince {
        /// The two-digit province code found.
        code: String,
    },
    /// Digits 7-12 (DDMMYY, DD + 40 for women) are not a real date with an age of 0 to 100
    /// at the reference date.
    BirthDateInvalid,
    /// The last four digits (serial number) are `0000`.
    SerialZero,
    /// [`Nik::compose`](crate::Nik::compose): the district code is not 6 ASCII digits.
    InvalidDistrictCode,
    /// [`Nik::compose`](crate::Nik::compose): the serial number is above 9999.
    SerialOutOfRange {
        /// The serial number given.
        serial: u16,
    },
}

impl NikError {
    /// Stable machine code, e.g. `"nik_length"`.
    pub fn code(&self) -> &'static str {
        match self {
            NikError::Empty => "nik_empty",
            NikError::WrongLength { .. } => "nik_length",
            NikError::NotDigits { .. } => "nik_not_digits",
            NikError::UnknownProvince { .. } => "nik_province_unknown",
            NikError::BirthDateInvalid => "nik_birth_date_invalid",
            NikError::SerialZero => "nik_serial_zero",
            NikError::InvalidDistrictCode => "nik_district_invalid",
            NikError::SerialOutOfRange { .. } => "nik_serial_out_of_range",
        }
    }

    /// Message in Bahasa Indonesia for a counter officer.
    pub fn message_id(&self) -> String {
        match self {
            NikError::Empty => "NIK belum diisi. Masukkan 16 digit NIK sesuai KTP/KK.".into(),
            NikError::WrongLength { found } => {
                format!("NIK harus 16 digit (ditemukan {found}). Periksa kembali dengan KTP/KK.")
            }
            NikError::NotDigits { position } => format!(
                "NIK hanya boleh berisi angka: karakter ke-{position} bukan angka \
                 (spasi, titik dan tanda hubung diabaikan)."
            ),
            NikError::UnknownProvince { code } => format!(
                "Kode provinsi {code} (2 digit pertama NIK) tidak dikenal. \
                 Periksa kembali NIK dengan KTP/KK."
            ),
            NikError::BirthDateInvalid => "Tanggal lahir dalam NIK (digit ke-7 sampai ke-12, \
                 format TTBBTT; tanggal + 40 untuk perempuan) tidak valid. \
                 Periksa kembali NIK dengan KTP/KK."
                .into(),
            NikError::SerialZero => {
                "Nomor urut NIK (4 digit terakhir) tidak boleh 0000. Periksa kembali NIK dengan KTP/KK."
                    .into()
            }
            NikError::InvalidDistrictCode => "Kode kecamatan harus 6 digit angka.".into(),
            NikError::SerialOutOfRange { serial } => {
                format!("Nomor urut NIK harus antara 1 dan 9999 (diberikan {serial}).")
            }
        }
    }

    /// Message in English.
    pub fn message_en(&self) -> String {
        match self {
            NikError::Empty => "The NIK is empty. Enter the 16-digit NIK from the ID card.".into(),
            NikError::WrongLength { found } => {
                format!("A NIK must have 16 digits (found {found}). Check it against the ID card.")
            }
            NikError::NotDigits { position } => format!(
                "A NIK may contain only digits: character {position} is not a digit \
                 (spaces, dots and dashes are ignored)."
            ),
            NikError::UnknownProvince { code } => format!(
                "Unknown province code {code} (first 2 digits of the NIK). \
                 Check it against the ID card."
            ),
            NikError::BirthDateInvalid => "The birth date in the NIK (digits 7 to 12, DDMMYY; \
                 day + 40 for women) is not valid. Check it against the ID card."
                .into(),
            NikError::SerialZero => "The serial number of the NIK (last 4 digits) cannot be 0000. \
                 Check it against the ID card."
                .into(),
            NikError::InvalidDistrictCode => "The district code must be 6 digits.".into(),
            NikError::SerialOutOfRange { serial } => {
                format!("The serial number must be between 1 and 9999 (got {serial}).")
            }
        }
    }
}

impl fmt::Display for NikError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_en())
    }
}

/// Something unusual about an accepted NIK. A NIK is never renumbered, so old or unlisted
/// region codes are not errors: they only deserve a second look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NikWarning {
    /// Digits 1-6 are not in the district list (possibly a code older than 2016).
    DistrictUnknown {
        /// The six-digit district code.
        code: String,
    },
    /// Digits 1-6 are a district code that is no longer in the newest list.
    DistrictRetired {
        /// The six-digit district code.
        code: String,
        /// Last edition (year) of the code list that contains it.
        last_seen: u16,
    },
    /// Digits 1-4 are not in the regency/city list (possibly a code older than 2016).
    RegencyUnknown {
        /// The four-digit regency/city code.
        code: String,
    },
    /// Digits 1-4 are a regency/city code that is no longer in the newest list.
    RegencyRetired {
        /// The four-digit regency/city code.
        code: String,
        /// Last edition (year) of the code list that contains it.
        last_seen: u16,
    },
}

impl NikWarning {
    /// Stable machine code: `"district_unknown"`, `"district_retired"`, `"regency_unknown"`
    /// or `"regency_retired"`.
    pub fn code(&self) -> &'static str {
        match self {
            NikWarning::DistrictUnknown { .. } => "district_unknown",
            NikWarning::DistrictRetired { .. } => "district_retired",
            NikWarning::RegencyUnknown { .. } => "regency_unknown",
            NikWarning::RegencyRetired { .. } => "regency_retired",
        }
    }

    /// Message in Bahasa Indonesia for a counter officer.
    pub fn message_id(&self) -> String {
        match self {
            NikWarning::DistrictUnknown { code } => format!(
                "Kode kecamatan {code} (6 digit pertama NIK) tidak ada dalam daftar kode wilayah \
                 Kemendagri; mungkin kode lama. NIK tetap diterima, tetapi cocokkan dengan KTP/KK."
            ),
            NikWarning::DistrictRetired { code, last_seen } => format!(
                "Kode kecamatan {code} sudah tidak berlaku (terakhir tercantum pada daftar \
                 {last_seen}). NIK tetap sah karena NIK tidak pernah diganti."
            ),
            NikWarning::RegencyUnknown { code } => format!(
                "Kode kabupaten/kota {code} (4 digit pertama NIK) tidak ada dalam daftar kode \
                 wilayah Kemendagri; mungkin kode lama. NIK tetap diterima, tetapi cocokkan \
                 dengan KTP/KK."
            ),
            NikWarning::RegencyRetired { code, last_seen } => format!(
                "Kode kabupaten/kota {code} sudah tidak berlaku (terakhir tercantum pada daftar \
                 {last_seen}). NIK tetap sah karena NIK tidak pernah diganti."
            ),
        }
    }

    /// Message in English.
    pub fn message_en(&self) -> String {
        match self {
            NikWarning::DistrictUnknown { code } => format!(
                "District code {code} (first 6 digits of the NIK) is not in the Kemendagri \
                 region list; it may be an old code. The NIK is accepted, but check it against \
                 the ID card."
            ),
            NikWarning::DistrictRetired { code, last_seen } => format!(
                "District code {code} has been retired (last listed in {last_seen}). The NIK is \
                 still valid: a NIK is never renumbered."
            ),
            NikWarning::RegencyUnknown { code } => format!(
                "Regency/city code {code} (first 4 digits of the NIK) is not in the Kemendagri \
                 region list; it may be an old code. The NIK is accepted, but check it against \
                 the ID card."
            ),
            NikWarning::RegencyRetired { code, last_seen } => format!(
                "Regency/city code {code} has been retired (last listed in {last_seen}). The \
                 NIK is still valid: a NIK is never renumbered."
            ),
        }
    }
}

impl fmt::Display for NikWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_en())
    }
}
