//! Dates as the counters see them: Western Indonesian Time (WIB, UTC+7) decides "today" for
//! the network; a counter's own zone ([`Zone`]: WIB, WITA or WIT) decides its floor's "today".

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Timelike, Utc};

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

/// Indonesia's three time zones; a counter keeps its own (stored as the lowercase code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    /// UTC+7: Sumatra, Java, West and Central Kalimantan.
    Wib,
    /// UTC+8: Bali, Nusa Tenggara, South/East/North Kalimantan, Sulawesi.
    Wita,
    /// UTC+9: Maluku and Papua.
    Wit,
}

impl Zone {
    pub const ALL: [Zone; 3] = [Zone::Wib, Zone::Wita, Zone::Wit];

    pub fn code(self) -> &'static str {
        match self {
            Zone::Wib => "wib",
            Zone::Wita => "wita",
            Zone::Wit => "wit",
        }
    }

    /// The name people read (the same in both languages).
    pub fn label(self) -> &'static str {
        match self {
            Zone::Wib => "WIB",
            Zone::Wita => "WITA",
            Zone::Wit => "WIT",
        }
    }

    pub fn from_code(code: &str) -> Option<Zone> {
        Zone::ALL
            .into_iter()
            .find(|z| z.code().eq_ignore_ascii_case(code.trim()))
    }

    pub fn offset(self) -> FixedOffset {
        let hours = match self {
            Zone::Wib => 7,
            Zone::Wita => 8,
            Zone::Wit => 9,
        };
        FixedOffset::east_opt(hours * 3600).unwrap_or_else(|| unreachable!("UTC+7..9 are valid"))
    }

    /// The provinces (two-digit Kemendagri codes) in WITA and WIT; every other is WIB.
    pub const WITA_PROVINCES: &'static [&'static str] = &[
        "51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76",
    ];
    pub const WIT_PROVINCES: &'static [&'static str] =
        &["81", "82", "91", "92", "93", "94", "95", "96", "97"];

    /// The zone of a province (two-digit Kemendagri code); unknown codes keep WIB.
    pub fn of_province(code: &str) -> Zone {
        if Zone::WITA_PROVINCES.contains(&code) {
            Zone::Wita
        } else if Zone::WIT_PROVINCES.contains(&code) {
            Zone::Wit
        } else {
            Zone::Wib
        }
    }

    /// SQL that gives the zone code of the province in the expression `province`.
    pub fn sql_of_province(province: &str) -> String {
        let list = |codes: &[&str]| {
            codes
                .iter()
                .map(|c| format!("'{c}'"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "(CASE WHEN {province} IN ({}) THEN 'wita' WHEN {province} IN ({}) THEN 'wit' ELSE 'wib' END)",
            list(Zone::WITA_PROVINCES),
            list(Zone::WIT_PROVINCES)
        )
    }

    /// "Today" at a counter in this zone.
    pub fn today(self) -> NaiveDate {
        self.day_of(Utc::now())
    }

    /// The counter's calendar day of an instant.
    pub fn day_of(self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.offset()).date_naive()
    }

    /// The counter's clock hour (0..24) of an instant.
    pub fn hour_of(self, at: DateTime<Utc>) -> u32 {
        at.with_timezone(&self.offset()).hour()
    }

    /// The instant of `day` at `time` on the counter's clock.
    pub fn instant(self, day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        day.and_time(time)
            .and_local_timezone(self.offset())
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| unreachable!("a fixed offset has exactly one local time"))
    }

    /// `HH:MM` on the counter's clock.
    pub fn clock_time(self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.offset()).format("%H:%M").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_in_makassar_starts_its_day_an_hour_before_jakarta() {
        assert_eq!(Zone::of_province("73"), Zone::Wita);
        assert_eq!(Zone::of_province("94"), Zone::Wit);
        assert_eq!(Zone::of_province("31"), Zone::Wib);
        // 16:30 UTC is 23:30 WIB on the 29th, 00:30 WITA and 01:30 WIT on the 30th.
        let at = DateTime::parse_from_rfc3339("2026-11-29T16:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(Zone::Wib.day_of(at).to_string(), "2026-11-29");
        assert_eq!(Zone::Wita.day_of(at).to_string(), "2026-11-30");
        assert_eq!(Zone::Wit.hour_of(at), 1);
        let day = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(
            Zone::Wita.instant(day, NaiveTime::MIN).to_rfc3339(),
            "2026-11-29T16:00:00+00:00"
        );
        assert_eq!(Zone::from_code("WITA"), Some(Zone::Wita));
    }

    #[test]
    fn a_counter_day_starts_at_midnight_wib_which_is_17_00_utc_the_day_before() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(day_start(d).to_rfc3339(), "2026-11-29T17:00:00+00:00");
    }
}
