//! Days at the counters: the local (WIB) day of a moment, day numbers as the projection
//! stores them, working days, and the date as officers write it.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};

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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn day_numbers_round_trip() {
        let d = NaiveDate::from_ymd_opt(2021, 6, 30).unwrap();
        assert_eq!(from_day_number(day_number(d)), d);
        assert_eq!(day_number(NaiveDate::from_ymd_opt(1970, 1, 2).unwrap()), 1);
    }
}
