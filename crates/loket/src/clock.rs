//! Dates as the counters see them: Western Indonesian Time (WIB, UTC+7) decides "today".

use chrono::{FixedOffset, NaiveDate, Utc};

pub fn wib() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).unwrap_or_else(|| unreachable!("UTC+7 is a valid offset"))
}

pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&wib()).date_naive()
}
