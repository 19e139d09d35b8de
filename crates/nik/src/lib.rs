//! Parse and validate Indonesian NIK numbers (Nomor Induk Kependudukan).
//!
//! A NIK has 16 digits: `PPRRDD DDMMYY SSSS`
//!
//! * digits 1-6: the Kemendagri district (kecamatan) code where the person was first
//!   registered; digits 1-4 are the regency/city code and digits 1-2 the province code;
//! * digits 7-12: the birth date `DDMMYY`, with 40 added to `DD` for women;
//! * digits 13-16: a serial number from `0001`.
//!
//! A NIK never changes, even when its date is wrong or its region has since been renumbered.
//! So an unknown province is an error, but an unknown or retired regency/district code is
//! only a [`NikWarning`].
//!
//! ```
//! use chrono::NaiveDate;
//! use nik::{Nik, Sex};
//!
//! let today = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
//! let nik = Nik::parse_at("3201.01 520790 0001", today).unwrap();
//! assert_eq!(nik.sex(), Sex::Female);
//! assert_eq!(nik.birth_date(), NaiveDate::from_ymd_opt(1990, 7, 12).unwrap());
//! assert_eq!(nik.regency_name(), Some("Kabupaten Bogor"));
//! assert_eq!(format!("{nik:?}"), "Nik(3201**********01)");
//! ```

#![warn(missing_docs)]

mod error;
pub mod regions;

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};

pub use error::{NikError, NikWarning};

/// Sex encoded in the NIK (day of birth + 40 for women).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    /// Laki-laki: day of birth 01-31.
    Male,
    /// Perempuan: day of birth 41-71.
    Female,
}

impl Sex {
    /// Stable code: `"male"` or `"female"`.
    pub fn code(&self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }

    /// Inverse of [`Sex::code`]. Case-insensitive, surrounding whitespace ignored; also accepts
    /// `m`/`f` and the Indonesian `l`/`p`, `laki-laki`/`perempuan`, `pria`/`wanita`.
    pub fn parse_code(s: &str) -> Option<Sex> {
        let s = s.trim();
        const MALE: [&str; 5] = ["male", "m", "l", "laki-laki", "pria"];
        const FEMALE: [&str; 5] = ["female", "f", "p", "perempuan", "wanita"];
        if MALE.iter().any(|c| c.eq_ignore_ascii_case(s)) {
            Some(Sex::Male)
        } else if FEMALE.iter().any(|c| c.eq_ignore_ascii_case(s)) {
            Some(Sex::Female)
        } else {
            None
        }
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A valid NIK: 16 ASCII digits plus the birth date resolved when it was parsed.
///
/// Equality, hashing and ordering use the 16 digits only (the identity of a person's NIK).
/// `Display` prints the 16 digits; `Debug` prints the [masked](Nik::masked) form so that a NIK
/// does not leak into logs by accident.
#[derive(Clone, Copy)]
pub struct Nik {
    digits: [u8; 16],
    birth_date: NaiveDate,
}

impl Nik {
    /// Parses a NIK, ignoring spaces (any whitespace), dots and dashes, with today
    /// (`chrono::Local::now().date_naive()`) as the reference date for the two-digit year.
    pub fn parse(input: &str) -> Result<Nik, NikError> {
        Nik::parse_at(input, chrono::Local::now().date_naive())
    }

    /// Parses a NIK with an explicit reference date.
    ///
    /// The two-digit year is resolved to the latest year that does not put the birth date
    /// after `reference` (a date in the future goes to the previous century), so the age at
    /// `reference` is between 0 and 99; an age above 100 is rejected. 29 February is valid
    /// only if the resolved year is a leap year.
    ///
    /// Checks, in order: empty, non-digit character, length, province, birth date, serial.
    pub fn parse_at(input: &str, reference: NaiveDate) -> Result<Nik, NikError> {
        let digits = clean(input)?;
        let province = &digits[..2];
        if province_known(province).is_none() {
            return Err(NikError::UnknownProvince {
                code: String::from_utf8_lossy(province).into_owned(),
            });
        }
        let birth_date = resolve_birth_date(&digits, reference)?;
        if digits[12..] == *b"0000" {
            return Err(NikError::SerialZero);
        }
        Ok(Nik { digits, birth_date })
    }

    /// Builds a NIK from its parts (for demo and test data).
    ///
    /// `district_code` must be 6 ASCII digits ([`NikError::InvalidDistrictCode`]) of a known
    /// province ([`NikError::UnknownProvince`]); the regency and district themselves need not be
    /// listed (see [`Nik::warnings`]). `serial` must be 1..=9999 ([`NikError::SerialZero`],
    /// [`NikError::SerialOutOfRange`]). Only the last two digits of the year are encoded; the
    /// given `birth_date` is stored as is, so [`Nik::parse_at`] gives the same date back only
    /// if the age at its reference date is 0 to 99.
    pub fn compose(
        district_code: &str,
        birth_date: NaiveDate,
        sex: Sex,
        serial: u16,
    ) -> Result<Nik, NikError> {
        let dc = district_code.as_bytes();
        let Ok(dc) = <[u8; 6]>::try_from(dc) else {
            return Err(NikError::InvalidDistrictCode);
        };
        if !dc.iter().all(u8::is_ascii_digit) {
            return Err(NikError::InvalidDistrictCode);
        }
        if province_known(&dc[..2]).is_none() {
            return Err(NikError::UnknownProvince {
                code: String::from_utf8_lossy(&dc[..2]).into_owned(),
            });
        }
        if serial == 0 {
            return Err(NikError::SerialZero);
        }
        if serial > 9999 {
            return Err(NikError::SerialOutOfRange { serial });
        }
        let day = birth_date.day()
            + match sex {
                Sex::Male => 0,
                Sex::Female => 40,
            };
        let mut digits = [b'0'; 16];
        digits[..6].copy_from_slice(&dc);
        write_two(&mut digits[6..8], day);
        write_two(&mut digits[8..10], birth_date.month());
        write_two(
            &mut digits[10..12],
            birth_date.year().rem_euclid(100).unsigned_abs(),
        );
        write_two(&mut digits[12..14], u32::from(serial / 100));
        write_two(&mut digits[14..16], u32::from(serial % 100));
        Ok(Nik { digits, birth_date })
    }

    /// The 16 digits.
    pub fn as_str(&self) -> &str {
        // Always ASCII digits by construction.
        std::str::from_utf8(&self.digits).unwrap_or_default()
    }

    /// Sex: female when the day of birth is 41-71.
    pub fn sex(&self) -> Sex {
        if self.digits[6] >= b'4' {
            Sex::Female
        } else {
            Sex::Male
        }
    }

    /// Birth date, with the century resolved when the NIK was parsed (or as given to
    /// [`Nik::compose`]).
    pub fn birth_date(&self) -> NaiveDate {
        self.birth_date
    }

    /// Digits 1-2.
    pub fn province_code(&self) -> &str {
        self.as_str().get(..2).unwrap_or_default()
    }

    /// Digits 1-4.
    pub fn regency_code(&self) -> &str {
        self.as_str().get(..4).unwrap_or_default()
    }

    /// Digits 1-6.
    pub fn district_code(&self) -> &str {
        self.as_str().get(..6).unwrap_or_default()
    }

    /// Digits 13-16 (1..=9999).
    pub fn serial(&self) -> u16 {
        self.digits[12..]
            .iter()
            .fold(0u16, |acc, &d| acc * 10 + u16::from(d - b'0'))
    }

    /// Province name, e.g. `"Jawa Barat"`.
    pub fn province_name(&self) -> Option<&'static str> {
        regions::province(self.province_code()).map(|r| r.name)
    }

    /// Regency/city name (retired codes included), e.g. `"Kabupaten Bogor"`.
    pub fn regency_name(&self) -> Option<&'static str> {
        regions::regency(self.regency_code()).map(|r| r.name)
    }

    /// District name (retired codes included), e.g. `"Cibinong"`.
    pub fn district_name(&self) -> Option<&'static str> {
        regions::district(self.district_code()).map(|r| r.name)
    }

    /// Regency then district warnings: unknown or retired codes. Empty for a NIK of a
    /// district in the current list.
    pub fn warnings(&self) -> Vec<NikWarning> {
        let mut out = Vec::new();
        let regency = self.regency_code();
        match regions::regency(regency) {
            None => out.push(NikWarning::RegencyUnknown {
                code: regency.to_owned(),
            }),
            Some(r) if r.is_retired() => out.push(NikWarning::RegencyRetired {
                code: regency.to_owned(),
                last_seen: r.last_seen,
            }),
            Some(_) => {}
        }
        let district = self.district_code();
        match regions::district(district) {
            None => out.push(NikWarning::DistrictUnknown {
                code: district.to_owned(),
            }),
            Some(r) if r.is_retired() => out.push(NikWarning::DistrictRetired {
                code: district.to_owned(),
                last_seen: r.last_seen,
            }),
            Some(_) => {}
        }
        out
    }

    /// The regency code and the last two digits, the rest replaced by `*`:
    /// `"3201**********01"`. For logs.
    pub fn masked(&self) -> String {
        let mut m = self.digits;
        m[4..14].fill(b'*');
        String::from_utf8_lossy(&m).into_owned()
    }
}

impl PartialEq for Nik {
    fn eq(&self, other: &Self) -> bool {
        self.digits == other.digits
    }
}

impl Eq for Nik {}

impl Hash for Nik {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.digits.hash(state);
    }
}

impl PartialOrd for Nik {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Nik {
    fn cmp(&self, other: &Self) -> Ordering {
        self.digits.cmp(&other.digits)
    }
}

impl fmt::Display for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nik({})", self.masked())
    }
}

impl FromStr for Nik {
    type Err = NikError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Nik::parse(s)
    }
}

/// Separators ignored in input: whitespace, dots and dashes (ASCII and Unicode dashes).
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '.' | '-' | '\u{2010}'..='\u{2015}' | '\u{2212}')
}

/// Removes separators and checks for digits and the length, without allocating.
fn clean(input: &str) -> Result<[u8; 16], NikError> {
    let mut digits = [0u8; 16];
    let mut n = 0usize;
    for c in input.chars() {
        if is_separator(c) {
            continue;
        }
        n += 1;
        if !c.is_ascii_digit() {
            return Err(NikError::NotDigits { position: n });
        }
        if let Some(slot) = digits.get_mut(n - 1) {
            *slot = c as u8;
        }
    }
    match n {
        0 => Err(NikError::Empty),
        16 => Ok(digits),
        found => Err(NikError::WrongLength { found }),
    }
}

fn province_known(code: &[u8]) -> Option<&'static regions::Region> {
    std::str::from_utf8(code).ok().and_then(regions::province)
}

fn two(d: &[u8]) -> u32 {
    d.iter()
        .fold(0u32, |acc, &b| acc * 10 + u32::from(b.wrapping_sub(b'0')))
}

fn write_two(out: &mut [u8], value: u32) {
    for (slot, digit) in out.iter_mut().zip([value / 10 % 10, value % 10]) {
        // digit < 10, so the cast is lossless.
        *slot = b'0' + digit as u8;
    }
}

/// Digits 7-12 -> birth date, century resolved against `reference`.
fn resolve_birth_date(digits: &[u8; 16], reference: NaiveDate) -> Result<NaiveDate, NikError> {
    let dd = two(&digits[6..8]);
    let month = two(&digits[8..10]);
    let yy = two(&digits[10..12]);
    let day = match dd {
        1..=31 => dd,
        41..=71 => dd - 40,
        _ => return Err(NikError::BirthDateInvalid),
    };
    if !(1..=12).contains(&month) {
        return Err(NikError::BirthDateInvalid);
    }
    let ref_year = reference.year();
    // yy < 100, so the cast is lossless.
    let mut year = ref_year - ref_year.rem_euclid(100) + yy as i32;
    if year > ref_year || (year == ref_year && (month, day) > (reference.month(), reference.day()))
    {
        year -= 100;
    }
    let date = NaiveDate::from_ymd_opt(year, month, day).ok_or(NikError::BirthDateInvalid)?;
    match reference.years_since(date) {
        Some(age) if age <= 100 => Ok(date),
        _ => Err(NikError::BirthDateInvalid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    const REF: fn() -> NaiveDate = || d(2025, 6, 15);

    #[test]
    fn parses_female_nik_of_kabupaten_bogor() {
        let nik = Nik::parse_at("3201015207900001", REF()).unwrap();
        assert_eq!(nik.as_str(), "3201015207900001");
        assert_eq!(nik.sex(), Sex::Female);
        assert_eq!(nik.birth_date(), d(1990, 7, 12));
        assert_eq!(nik.province_code(), "32");
        assert_eq!(nik.regency_code(), "3201");
        assert_eq!(nik.district_code(), "320101");
        assert_eq!(nik.serial(), 1);
        assert_eq!(nik.province_name(), Some("Jawa Barat"));
        assert_eq!(nik.regency_name(), Some("Kabupaten Bogor"));
        assert_eq!(nik.district_name(), Some("Cibinong"));
        assert!(nik.warnings().is_empty());
    }

    #[test]
    fn parses_male_nik_with_separators() {
        let nik = Nik::parse_at(" 31.71.01-150585-0003\t", REF()).unwrap();
        assert_eq!(nik.as_str(), "3171011505850003");
        assert_eq!(nik.sex(), Sex::Male);
        assert_eq!(nik.birth_date(), d(1985, 5, 15));
        assert_eq!(nik.serial(), 3);
        assert_eq!(nik.district_name(), Some("Gambir"));
        assert_eq!(Nik::parse_at("3171 0115 0585 0003", REF()), Ok(nik));
        assert_eq!(
            Nik::parse_at("3171\u{a0}0115\u{2013}0585 0003", REF()),
            Ok(nik)
        );
    }

    #[test]
    fn female_day_bounds() {
        assert_eq!(
            Nik::parse_at("3201014101000001", REF())
                .unwrap()
                .birth_date(),
            d(2000, 1, 1)
        );
        assert_eq!(
            Nik::parse_at("3201017101000001", REF())
                .unwrap()
                .birth_date(),
            d(2000, 1, 31)
        );
        for dd in ["00", "32", "39", "40", "72", "99"] {
            let s = format!("320101{dd}0100 0001");
            assert_eq!(
                Nik::parse_at(&s, REF()),
                Err(NikError::BirthDateInvalid),
                "{s}"
            );
        }
    }

    #[test]
    fn error_empty() {
        for s in ["", "   ", " .-. ", "\n"] {
            let e = Nik::parse_at(s, REF()).unwrap_err();
            assert_eq!(e, NikError::Empty);
            assert_eq!(e.code(), "nik_empty");
        }
    }

    #[test]
    fn error_wrong_length() {
        let e = Nik::parse_at("320101520790000", REF()).unwrap_err();
        assert_eq!(e, NikError::WrongLength { found: 15 });
        assert_eq!(e.code(), "nik_length");
        assert_eq!(
            e.message_id(),
            "NIK harus 16 digit (ditemukan 15). Periksa kembali dengan KTP/KK."
        );
        assert_eq!(
            Nik::parse_at("32010152079000011", REF()),
            Err(NikError::WrongLength { found: 17 })
        );
        assert_eq!(
            Nik::parse_at("3201 0152 0790 0001 0000 0000", REF()),
            Err(NikError::WrongLength { found: 24 })
        );
    }

    #[test]
    fn error_not_digits() {
        let e = Nik::parse_at("3201O15207900001", REF()).unwrap_err();
        assert_eq!(e, NikError::NotDigits { position: 5 });
        assert_eq!(e.code(), "nik_not_digits");
        // Separators are not counted in the position.
        assert_eq!(
            Nik::parse_at("32.01.0x", REF()),
            Err(NikError::NotDigits { position: 6 })
        );
        assert_eq!(
            Nik::parse_at("NIK 3201015207900001", REF()),
            Err(NikError::NotDigits { position: 1 })
        );
        assert_eq!(
            Nik::parse_at("٣٢٠١٠١٥٢٠٧٩٠٠٠٠١", REF()),
            Err(NikError::NotDigits { position: 1 })
        );
    }

    #[test]
    fn error_unknown_province() {
        let e = Nik::parse_at("9901015207900001", REF()).unwrap_err();
        assert_eq!(e, NikError::UnknownProvince { code: "99".into() });
        assert_eq!(e.code(), "nik_province_unknown");
        assert!(e.message_id().contains("99"));
        assert_eq!(
            Nik::parse_at("0001015207900001", REF()),
            Err(NikError::UnknownProvince { code: "00".into() })
        );
    }

    #[test]
    fn error_birth_date_invalid() {
        for s in [
            "3201013102900001", // 31 February
            "3201017102900001", // 31 February, female
            "3201011513900001", // month 13
            "3201011500900001", // month 00
            "3201012902010001", // 29 February 2001
        ] {
            let e = Nik::parse_at(s, REF()).unwrap_err();
            assert_eq!(e, NikError::BirthDateInvalid, "{s}");
            assert_eq!(e.code(), "nik_birth_date_invalid");
        }
        // 29 February 2000 and 1996 are fine.
        assert_eq!(
            Nik::parse_at("3201012902000001", REF())
                .unwrap()
                .birth_date(),
            d(2000, 2, 29)
        );
        assert_eq!(
            Nik::parse_at("3201016902960001", REF())
                .unwrap()
                .birth_date(),
            d(1996, 2, 29)
        );
        // Year 00 resolved to 1900 (not a leap year) at a 1999 reference.
        assert_eq!(
            Nik::parse_at("3201012902000001", d(1999, 12, 31)),
            Err(NikError::BirthDateInvalid)
        );
    }

    #[test]
    fn century_resolution() {
        let r = REF(); // 2025-06-15
        let at = |s: &str| Nik::parse_at(s, r).unwrap().birth_date();
        assert_eq!(at("3201011506250001"), d(2025, 6, 15)); // born today: age 0
        assert_eq!(at("3201011606250001"), d(1925, 6, 16)); // tomorrow -> 1925, age 98
        assert_eq!(at("3201011406250001"), d(2025, 6, 14));
        assert_eq!(at("3201010101260001"), d(1926, 1, 1));
        assert_eq!(at("3201010101990001"), d(1999, 1, 1));
        assert_eq!(at("3201010101000001"), d(2000, 1, 1));
        // Reference at the turn of a century.
        assert_eq!(
            Nik::parse_at("3201010101000001", d(2000, 1, 1))
                .unwrap()
                .birth_date(),
            d(2000, 1, 1)
        );
        assert_eq!(
            Nik::parse_at("3201010201000001", d(2000, 1, 1))
                .unwrap()
                .birth_date(),
            d(1900, 1, 2)
        );
    }

    #[test]
    fn error_serial_zero() {
        let e = Nik::parse_at("3201015207900000", REF()).unwrap_err();
        assert_eq!(e, NikError::SerialZero);
        assert_eq!(e.code(), "nik_serial_zero");
        assert_eq!(
            Nik::parse_at("3201015207909999", REF()).unwrap().serial(),
            9999
        );
    }

    #[test]
    fn compose_builds_and_validates() {
        let nik = Nik::compose("320101", d(1990, 7, 12), Sex::Female, 1).unwrap();
        assert_eq!(nik.as_str(), "3201015207900001");
        assert_eq!(nik.birth_date(), d(1990, 7, 12));
        let nik = Nik::compose("317101", d(2005, 1, 9), Sex::Male, 9876).unwrap();
        assert_eq!(nik.as_str(), "3171010901059876");
        for bad in ["32010", "3201011", "32010a", "", "٣٢٠١٠١"] {
            let e = Nik::compose(bad, d(1990, 1, 1), Sex::Male, 1).unwrap_err();
            assert_eq!(e, NikError::InvalidDistrictCode, "{bad}");
            assert_eq!(e.code(), "nik_district_invalid");
        }
        assert_eq!(
            Nik::compose("990101", d(1990, 1, 1), Sex::Male, 1),
            Err(NikError::UnknownProvince { code: "99".into() })
        );
        assert_eq!(
            Nik::compose("320101", d(1990, 1, 1), Sex::Male, 0),
            Err(NikError::SerialZero)
        );
        let e = Nik::compose("320101", d(1990, 1, 1), Sex::Male, 10_000).unwrap_err();
        assert_eq!(e, NikError::SerialOutOfRange { serial: 10_000 });
        assert_eq!(e.code(), "nik_serial_out_of_range");
        // Unknown district of a known province: allowed, with warnings.
        let nik = Nik::compose("329901", d(1990, 1, 1), Sex::Male, 1).unwrap();
        assert_eq!(nik.warnings().len(), 2);
    }

    #[test]
    fn warning_district_unknown() {
        let nik = Nik::parse_at("3201991505850001", REF()).unwrap();
        assert_eq!(
            nik.warnings(),
            [NikWarning::DistrictUnknown {
                code: "320199".into()
            }]
        );
        assert_eq!(nik.warnings()[0].code(), "district_unknown");
        assert_eq!(nik.regency_name(), Some("Kabupaten Bogor"));
        assert_eq!(nik.district_name(), None);
    }

    #[test]
    fn warning_regency_unknown() {
        let nik = Nik::parse_at("3299011505850001", REF()).unwrap();
        let w = nik.warnings();
        assert_eq!(
            w,
            [
                NikWarning::RegencyUnknown {
                    code: "3299".into()
                },
                NikWarning::DistrictUnknown {
                    code: "329901".into()
                }
            ]
        );
        assert_eq!(w[0].code(), "regency_unknown");
        assert_eq!(nik.province_name(), Some("Jawa Barat"));
        assert_eq!(nik.regency_name(), None);
    }

    #[test]
    fn warning_retired_papua_codes() {
        // 910101 Merauke: Kabupaten Merauke moved to Papua Selatan (93) in 2022.
        let nik = Nik::parse_at("9101010101800001", REF()).unwrap();
        let w = nik.warnings();
        assert_eq!(
            w,
            [
                NikWarning::RegencyRetired {
                    code: "9101".into(),
                    last_seen: 2022
                },
                NikWarning::DistrictRetired {
                    code: "910101".into(),
                    last_seen: 2022
                }
            ]
        );
        assert_eq!(w[0].code(), "regency_retired");
        assert_eq!(w[1].code(), "district_retired");
        assert_eq!(nik.district_name(), Some("Merauke"));
        assert_eq!(nik.province_name(), Some("Papua"));
    }

    #[test]
    fn all_messages_non_empty_and_display_is_english() {
        let errors = [
            NikError::Empty,
            NikError::WrongLength { found: 15 },
            NikError::NotDigits { position: 3 },
            NikError::UnknownProvince { code: "99".into() },
            NikError::BirthDateInvalid,
            NikError::SerialZero,
            NikError::InvalidDistrictCode,
            NikError::SerialOutOfRange { serial: 10_000 },
        ];
        let mut codes = std::collections::HashSet::new();
        for e in &errors {
            assert!(!e.message_id().is_empty());
            assert!(!e.message_en().is_empty());
            assert_ne!(e.message_id(), e.message_en());
            assert_eq!(e.to_string(), e.message_en());
            assert!(e.code().starts_with("nik_"));
            assert!(codes.insert(e.code()));
        }
        let warnings = [
            NikWarning::DistrictUnknown {
                code: "320199".into(),
            },
            NikWarning::DistrictRetired {
                code: "910101".into(),
                last_seen: 2022,
            },
            NikWarning::RegencyUnknown {
                code: "3299".into(),
            },
            NikWarning::RegencyRetired {
                code: "9101".into(),
                last_seen: 2022,
            },
        ];
        for w in &warnings {
            assert!(!w.message_id().is_empty());
            assert!(!w.message_en().is_empty());
            assert_eq!(w.to_string(), w.message_en());
            assert!(codes.insert(w.code()));
        }
    }

    #[test]
    fn debug_is_masked_display_is_full() {
        let nik = Nik::parse_at("3201015207900001", REF()).unwrap();
        assert_eq!(nik.masked(), "3201**********01");
        assert_eq!(format!("{nik:?}"), "Nik(3201**********01)");
        assert_eq!(format!("{nik:#?}"), "Nik(3201**********01)");
        assert!(!format!("{:?}", Some(nik)).contains("520790"));
        assert_eq!(nik.to_string(), "3201015207900001");
    }

    #[test]
    fn from_str_and_equality() {
        let a: Nik = "3201015207900001".parse().unwrap();
        assert_eq!(a.as_str(), "3201015207900001");
        assert_eq!("x".parse::<Nik>(), Err(NikError::NotDigits { position: 1 }));
        // Same digits resolved against different references: still the same NIK.
        let b = Nik::parse_at("3201011506250001", d(2025, 6, 15)).unwrap();
        let c = Nik::parse_at("3201011506250001", d(2025, 6, 14)).unwrap();
        assert_ne!(b.birth_date(), c.birth_date());
        assert_eq!(b, c);
        assert!(b < a);
        let set: std::collections::HashSet<Nik> = [b, c].into_iter().collect();
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn parse_uses_today() {
        let today = chrono::Local::now().date_naive();
        let born = today.with_day(1).unwrap();
        let nik = Nik::compose("320101", born, Sex::Male, 7).unwrap();
        let parsed = Nik::parse(nik.as_str()).unwrap();
        assert_eq!(parsed.birth_date(), born);
    }

    #[test]
    fn sex_codes() {
        assert_eq!(Sex::Male.code(), "male");
        assert_eq!(Sex::Female.code(), "female");
        for s in [Sex::Male, Sex::Female] {
            assert_eq!(Sex::parse_code(s.code()), Some(s));
        }
        assert_eq!(Sex::parse_code(" Perempuan "), Some(Sex::Female));
        assert_eq!(Sex::parse_code("L"), Some(Sex::Male));
        assert_eq!(Sex::parse_code("x"), None);
        assert_eq!(Sex::parse_code(""), None);
    }
}
