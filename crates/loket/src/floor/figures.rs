//! The floor's figures, computed from the tickets themselves: wait (issued → first called)
//! and service (started → finished) times as median and 90th percentile (nearest rank), the
//! no-show rate (no-shows of the tickets called) and seat use (hours booked of hours open).

use std::collections::BTreeMap;

use super::store::TicketRow;
use crate::clock::Zone;

/// The `p`th percentile (nearest rank) of `values`, in seconds; `None` when there are none.
pub fn percentile(values: &mut [i64], p: u32) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    let rank = (p as usize * n).div_ceil(100).max(1);
    values.get(rank - 1).copied()
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct GroupFigures {
    pub tickets: i64,
    /// Tickets called at least once (their wait is known).
    pub called: i64,
    pub wait_median_s: Option<i64>,
    pub wait_p90_s: Option<i64>,
    /// Tickets served to the end (done or transferred).
    pub served: i64,
    pub service_median_s: Option<i64>,
    pub service_p90_s: Option<i64>,
    pub no_shows: i64,
}

impl GroupFigures {
    fn of(tickets: &[&TicketRow]) -> GroupFigures {
        let mut waits: Vec<i64> = tickets
            .iter()
            .filter_map(|t| Some((t.called_at? - t.issued_at).num_seconds()))
            .collect();
        let mut services: Vec<i64> = tickets
            .iter()
            .filter(|t| t.status == "done" || t.status == "transferred")
            .filter_map(|t| Some((t.finished_at? - t.started_at?).num_seconds()))
            .collect();
        GroupFigures {
            tickets: tickets.len() as i64,
            called: waits.len() as i64,
            served: services.len() as i64,
            no_shows: tickets.iter().filter(|t| t.status == "no_show").count() as i64,
            wait_median_s: percentile(&mut waits, 50),
            wait_p90_s: percentile(&mut waits, 90),
            service_median_s: percentile(&mut services, 50),
            service_p90_s: percentile(&mut services, 90),
        }
    }

    /// No-shows per thousand tickets called.
    pub fn no_show_per_mille(&self) -> Option<i64> {
        (self.called > 0).then(|| self.no_shows * 1000 / self.called)
    }
}

/// Seat use of one counter: hours booked of the hours its seats were open.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SeatUse {
    pub counter_id: i64,
    pub seats: i64,
    pub hours_open: i64,
    pub hours_booked: i64,
}

impl SeatUse {
    pub fn per_mille(&self) -> Option<i64> {
        (self.hours_open > 0).then(|| self.hours_booked * 1000 / self.hours_open)
    }
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Figures {
    pub total: GroupFigures,
    pub by_counter: Vec<(i64, GroupFigures)>,
    pub by_purpose: Vec<(String, GroupFigures)>,
    /// By the counter's clock hour the ticket was issued.
    pub by_hour: Vec<(u32, GroupFigures)>,
    pub seat_use: Vec<SeatUse>,
}

/// The figures of `tickets`; `zone_of` gives each counter's zone (its clock hours).
pub fn compute(tickets: &[TicketRow], zone_of: impl Fn(i64) -> Zone) -> Figures {
    let all: Vec<&TicketRow> = tickets.iter().collect();
    let mut by_counter: BTreeMap<i64, Vec<&TicketRow>> = BTreeMap::new();
    let mut by_purpose: BTreeMap<String, Vec<&TicketRow>> = BTreeMap::new();
    let mut by_hour: BTreeMap<u32, Vec<&TicketRow>> = BTreeMap::new();
    for t in tickets {
        by_counter.entry(t.counter_id).or_default().push(t);
        by_purpose.entry(t.purpose.clone()).or_default().push(t);
        by_hour
            .entry(zone_of(t.counter_id).hour_of(t.issued_at))
            .or_default()
            .push(t);
    }
    Figures {
        total: GroupFigures::of(&all),
        by_counter: by_counter
            .into_iter()
            .map(|(k, v)| (k, GroupFigures::of(&v)))
            .collect(),
        by_purpose: by_purpose
            .into_iter()
            .map(|(k, v)| (k, GroupFigures::of(&v)))
            .collect(),
        by_hour: by_hour
            .into_iter()
            .map(|(k, v)| (k, GroupFigures::of(&v)))
            .collect(),
        seat_use: Vec::new(),
    }
}

/// Minutes and seconds as people read a duration: "4:05".
pub fn duration(seconds: Option<i64>) -> String {
    match seconds {
        Some(s) => format!("{}:{:02}", s / 60, s % 60),
        None => "—".into(),
    }
}

/// A per-mille figure as a percentage with one decimal, Indonesian style ("12,5%").
pub fn percent(per_mille: Option<i64>) -> String {
    match per_mille {
        Some(v) => format!("{},{}%", v / 10, v % 10),
        None => "—".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut v = vec![5, 1, 4, 2, 3];
        assert_eq!(percentile(&mut v, 50), Some(3));
        assert_eq!(percentile(&mut v, 90), Some(5));
        let mut ten: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&mut ten, 90), Some(9));
        assert_eq!(percentile(&mut ten, 50), Some(5));
        assert_eq!(percentile(&mut [], 50), None);
        assert_eq!(duration(Some(245)), "4:05");
        assert_eq!(percent(Some(125)), "12,5%");
    }
}
