//! Property tests and public-API tests for the `nik` crate.

// Test code: the helpers outside `#[test]` functions may unwrap too (see clippy.toml).
#![allow(clippy::unwrap_used)]

use chrono::{Datelike, Days, Months, NaiveDate};
use nik::{regions, Nik, NikError, Sex};
use proptest::prelude::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A reference date between 1950 and 2150.
fn reference() -> impl Strategy<Value = NaiveDate> {
    let start = date(1950, 1, 1);
    let span = (date(2150, 12, 31) - start).num_days() as u64;
    (0..=span).prop_map(move |o| start + Days::new(o))
}

/// A valid NIK's parts: (district code, reference date, birth date, sex, serial), with the
/// birth date in (reference - 100 years, reference], i.e. an age of 0 to 99 (a date exactly
/// 100 years back has the same DDMMYY as the reference date itself and resolves to it).
fn valid_parts() -> impl Strategy<Value = (&'static str, NaiveDate, NaiveDate, Sex, u16)> {
    let n = regions::districts().len();
    (
        0..n,
        reference(),
        any::<u64>(),
        prop_oneof![Just(Sex::Male), Just(Sex::Female)],
        1..=9999u16,
    )
        .prop_map(|(i, reference, r, sex, serial)| {
            let lower = reference.checked_sub_months(Months::new(1200)).unwrap();
            let span = (reference - lower).num_days() as u64; // birth in (lower, reference]
            let birth = reference - Days::new(r % span);
            (regions::districts()[i].code, reference, birth, sex, serial)
        })
}

/// Checks that every accessor of `nik` agrees with its 16 digits.
fn assert_consistent(nik: &Nik, reference: NaiveDate) -> Result<(), TestCaseError> {
    let s = nik.as_str();
    prop_assert_eq!(s.len(), 16);
    prop_assert!(s.bytes().all(|b| b.is_ascii_digit()));
    prop_assert_eq!(nik.to_string(), s);
    prop_assert_eq!(nik.province_code(), &s[..2]);
    prop_assert_eq!(nik.regency_code(), &s[..4]);
    prop_assert_eq!(nik.district_code(), &s[..6]);
    prop_assert!(nik.province_name().is_some());
    let dd: u32 = s[6..8].parse().unwrap();
    let mm: u32 = s[8..10].parse().unwrap();
    let yy: i32 = s[10..12].parse().unwrap();
    let sex = if dd > 40 { Sex::Female } else { Sex::Male };
    prop_assert_eq!(nik.sex(), sex);
    let b = nik.birth_date();
    prop_assert_eq!(b.day() + if sex == Sex::Female { 40 } else { 0 }, dd);
    prop_assert_eq!(b.month(), mm);
    prop_assert_eq!(b.year().rem_euclid(100), yy);
    prop_assert!(b <= reference);
    prop_assert!(reference.years_since(b).is_some_and(|age| age <= 100));
    let serial: u16 = s[12..].parse().unwrap();
    prop_assert_eq!(nik.serial(), serial);
    prop_assert!(serial >= 1);
    prop_assert_eq!(nik.masked(), format!("{}**********{}", &s[..4], &s[14..]));
    prop_assert_eq!(format!("{nik:?}"), format!("Nik({})", nik.masked()));
    // Parsing the digits again gives the same NIK and date.
    let again = Nik::parse_at(s, reference).unwrap();
    prop_assert_eq!(again, *nik);
    prop_assert_eq!(again.birth_date(), b);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn composed_niks_round_trip((district, reference, birth, sex, serial) in valid_parts()) {
        let nik = Nik::compose(district, birth, sex, serial).unwrap();
        let parsed = Nik::parse_at(nik.as_str(), reference).unwrap();
        prop_assert_eq!(parsed, nik);
        prop_assert_eq!(parsed.as_str(), nik.as_str());
        prop_assert_eq!(parsed.sex(), sex);
        prop_assert_eq!(parsed.birth_date(), birth);
        prop_assert_eq!(parsed.district_code(), district);
        prop_assert_eq!(parsed.regency_code(), &district[..4]);
        prop_assert_eq!(parsed.province_code(), &district[..2]);
        prop_assert_eq!(parsed.serial(), serial);
        prop_assert!(parsed.district_name().is_some());
        prop_assert!(parsed.regency_name().is_some());
        // Known district: at most "retired" warnings, never "unknown".
        prop_assert!(parsed.warnings().iter().all(|w| w.code().ends_with("_retired")));
        assert_consistent(&parsed, reference)?;
        // Separators are ignored.
        let s = parsed.as_str();
        let spaced = format!("{}.{}.{} {}-{}", &s[..2], &s[2..4], &s[4..6], &s[6..12], &s[12..]);
        prop_assert_eq!(Nik::parse_at(&spaced, reference), Ok(parsed));
    }

    #[test]
    fn single_digit_corruptions_are_rejected_or_consistent(
        (district, reference, birth, sex, serial) in valid_parts()
    ) {
        let nik = Nik::compose(district, birth, sex, serial).unwrap();
        let original = nik.as_str().as_bytes().to_vec();
        for pos in 0..16 {
            for digit in b'0'..=b'9' {
                if digit == original[pos] {
                    continue;
                }
                let mut bytes = original.clone();
                bytes[pos] = digit;
                let corrupted = String::from_utf8(bytes).unwrap();
                match Nik::parse_at(&corrupted, reference) {
                    Ok(c) => {
                        prop_assert_ne!(c.as_str(), nik.as_str());
                        prop_assert_ne!(c, nik);
                        prop_assert_eq!(c.as_str(), corrupted.as_str());
                        assert_consistent(&c, reference)?;
                    }
                    Err(e) => {
                        prop_assert!(!e.message_id().is_empty() && !e.message_en().is_empty());
                        let expected = matches!(
                            e,
                            NikError::UnknownProvince { .. }
                                | NikError::BirthDateInvalid
                                | NikError::SerialZero
                        );
                        prop_assert!(expected, "unexpected error {:?} for a digit change", e);
                    }
                }
            }
        }
    }

    #[test]
    fn arbitrary_input_never_panics(input in "\\PC{0,40}", reference in reference()) {
        if let Ok(nik) = Nik::parse_at(&input, reference) {
            assert_consistent(&nik, reference)?;
        }
    }

    #[test]
    fn digit_strings_never_panic(input in "[0-9 .-]{0,24}", reference in reference()) {
        match Nik::parse_at(&input, reference) {
            Ok(nik) => assert_consistent(&nik, reference)?,
            Err(e) => prop_assert!(e.code().starts_with("nik_")),
        }
    }
}

#[test]
fn public_api_example() {
    let reference = date(2025, 6, 15);
    let nik = Nik::parse_at("3201-01-520790-0001", reference).unwrap();
    assert_eq!(nik.as_str(), "3201015207900001");
    assert_eq!(nik.sex(), Sex::Female);
    assert_eq!(nik.birth_date(), date(1990, 7, 12));
    assert_eq!(nik.regency_name(), Some("Kabupaten Bogor"));
    assert_eq!(format!("{nik:?}"), "Nik(3201**********01)");
    assert_eq!(nik.to_string(), "3201015207900001");
    let err = Nik::parse_at("320101520790000", reference).unwrap_err();
    assert_eq!(err.code(), "nik_length");
    assert_eq!(
        err.message_id(),
        "NIK harus 16 digit (ditemukan 15). Periksa kembali dengan KTP/KK."
    );
}

#[test]
fn regions_api() {
    assert_eq!(regions::provinces().len(), 38);
    assert_eq!(regions::province("32").unwrap().name, "Jawa Barat");
    assert_eq!(regions::regency("3201").unwrap().name, "Kabupaten Bogor");
    assert_eq!(regions::district("320101").unwrap().name, "Cibinong");
    assert!(regions::regencies_of("32").len() > 20);
    let papua_old = regions::districts_of("9101");
    assert!(!papua_old.is_empty());
    assert!(papua_old.iter().all(|r| r.last_seen == 2022));
    // Every province's regencies and every regency's districts are found by the helpers.
    let total: usize = regions::provinces()
        .iter()
        .flat_map(|p| regions::regencies_of(p.code))
        .map(|r| regions::districts_of(r.code).len())
        .sum();
    assert_eq!(total, regions::districts().len());
}
