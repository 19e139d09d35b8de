//! Dates as the counters see them: Western Indonesian Time (WIB, UTC+7) decides "today".

use chrono::{FixedOffset, NaiveDate, Utc};

pub fn wib() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).unwrap_or_else(|| unreachable!("UTC+7 is a valid offset"))
}

pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&wib()).date_naive()
}

/// The first instant of a counter's calendar day: a date typed at a counter means that day in
/// WIB, so "since 30-11" right after midnight WIB still includes what happened since then.
pub fn day_start(day: NaiveDate) -> chrono::DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN)
        .and_local_timezone(wib())
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| unreachable!("a fixed offset has exactly one local time"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_day_starts_at_midnight_wib_which_is_17_00_utc_the_day_before() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(day_start(d).to_rfc3339(), "2026-11-29T17:00:00+00:00");
    }
}
