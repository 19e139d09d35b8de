//! Dates as the counters see them: Western Indonesian Time (WIB, UTC+7) decides "today".

use chrono::{FixedOffset, NaiveDate, Utc};

pub fn wib() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).unwrap_or_else(|| unreachable!("UTC+7 is a valid offset"))
}

pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&wib()).date_naive()
}

/// A time shown to an officer. TODO(merge): callers move to `format::time`.
pub fn show(at: chrono::DateTime<Utc>) -> String {
    at.with_timezone(&wib())
        .format("%d-%m-%Y %H:%M WIB")
        .to_string()
}
