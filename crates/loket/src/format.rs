//! How amounts, dates and times are written for people, in one place: rupiah with Indonesian
//! thousands dots, dates as day-month-year, times in WIB.

use chrono::{DateTime, NaiveDate, Utc};

/// An amount of money in whole rupiah (never a float). Shown the Indonesian way: `Rp3.500.000`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rupiah(pub i64);

impl Rupiah {
    /// Reads what offices write: `Rp3.500.000`, `Rp 350.000`, `350,000`, `99000`. Grouping must
    /// be by thousands and there are no cents, so `35.00` or `1.500.000,50` are refused.
    pub fn parse(text: &str) -> Option<Rupiah> {
        let t = text.trim();
        let t = t
            .strip_prefix("Rp")
            .or_else(|| t.strip_prefix("rp"))
            .unwrap_or(t)
            .trim_start_matches('.')
            .replace([' ', '\u{a0}'], "");
        let groups: Vec<&str> = t.split(['.', ',']).collect();
        let well_grouped = groups.iter().skip(1).all(|g| g.len() == 3)
            && groups
                .first()
                .is_some_and(|g| !g.is_empty() && (groups.len() == 1 || g.len() <= 3));
        let digits: String = groups.concat();
        if !well_grouped || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 12 {
            return None;
        }
        digits.parse().ok().map(Rupiah)
    }
}

impl std::fmt::Display for Rupiah {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = self.0.unsigned_abs().to_string();
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "{sign}Rp")?;
        for (i, c) in digits.chars().enumerate() {
            // `is_multiple_of` needs Rust 1.87; the workspace promises 1.85.
            #[allow(clippy::manual_is_multiple_of)]
            if i > 0 && (digits.len() - i) % 3 == 0 {
                write!(f, ".")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// A date as officers write it: `05-05-1990`.
pub fn date(date: NaiveDate) -> String {
    date.format("%d-%m-%Y").to_string()
}

/// A moment shown to an officer: WIB, minutes precision.
pub fn time(at: DateTime<Utc>) -> String {
    at.with_timezone(&crate::clock::wib())
        .format("%d-%m-%Y %H:%M WIB")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rupiah_is_written_with_dots_and_parsed_back() {
        assert_eq!(Rupiah(3_500_000).to_string(), "Rp3.500.000");
        assert_eq!(Rupiah(99_000).to_string(), "Rp99.000");
        assert_eq!(Rupiah(1_000).to_string(), "Rp1.000");
        assert_eq!(Rupiah(0).to_string(), "Rp0");
        assert_eq!(Rupiah(-600_000).to_string(), "-Rp600.000");
        assert_eq!(Rupiah::parse("Rp3.500.000"), Some(Rupiah(3_500_000)));
        assert_eq!(Rupiah::parse("12a"), None);
        assert_eq!(Rupiah::parse("350,000"), Some(Rupiah(350_000)));
        assert_eq!(Rupiah::parse("Rp 350.000"), Some(Rupiah(350_000)));
        assert_eq!(Rupiah::parse("1.500.000,50"), None);
        assert_eq!(Rupiah::parse("35.00"), None);
    }

    #[test]
    fn dates_are_day_month_year_and_times_in_wib() {
        let d = NaiveDate::from_ymd_opt(1990, 5, 5).unwrap();
        assert_eq!(date(d), "05-05-1990");
        let at = d.and_hms_opt(20, 30, 0).unwrap().and_utc();
        assert_eq!(time(at), "06-05-1990 03:30 WIB");
    }
}
