//! The burndown: repositories remaining per day, and pull requests merged
//! per day, from the events table; drawn as a server-side SVG.
//!
//! Design: the events are replayed in order, keeping each repository's
//! state; at the end of every UTC day from the first event to today the
//! number of consumers not done (merged or no change) is the remaining
//! count. Merges are counted on the day they were recorded. The chart is
//! plain SVG (a polyline for remaining, bars for merges, `<title>`
//! tooltips), so the report needs no JavaScript.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use super::{Snapshot, is_done};
use crate::store::RepoState;
use crate::store::time::format_utc;

const DAY_MS: i64 = 86_400_000;
/// The chart shows at most this many days (the latest).
const MAX_DAYS: i64 = 366;

/// One day of the burndown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Day {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    /// Consumers not done at the end of the day.
    pub remaining: usize,
    /// Pull requests merged that day.
    pub merged: usize,
}

/// The burndown of `snapshot`, one entry per day from the day before its
/// first event (when every consumer remained) to its `now`; empty without
/// events.
pub fn series(snapshot: &Snapshot) -> Vec<Day> {
    let Some(first) = snapshot.events.first() else {
        return Vec::new();
    };
    let consumers: HashSet<String> = snapshot
        .repos
        .iter()
        .map(|row| row.record.repo.to_string())
        .collect();
    let today = snapshot.now.div_euclid(DAY_MS);
    let first_day = first.at.div_euclid(DAY_MS) - 1;
    let start = first_day.max(today - MAX_DAYS + 1);
    let mut states: HashMap<&str, RepoState> = HashMap::new();
    let mut done = 0usize;
    let mut events = snapshot
        .events
        .iter()
        .filter(|event| consumers.contains(&event.repo))
        .peekable();
    let mut days = Vec::new();
    for day in first_day..=today.max(first_day + 1) {
        let mut merged = 0;
        while let Some(event) = events.next_if(|event| event.at.div_euclid(DAY_MS) <= day) {
            let before = states.insert(event.repo.as_str(), event.to);
            done = done + usize::from(is_done(event.to)) - usize::from(before.is_some_and(is_done));
            merged += usize::from(event.to == RepoState::Merged);
        }
        if day >= start {
            days.push(Day {
                date: format_utc(day * DAY_MS)[..10].to_owned(),
                remaining: consumers.len() - done,
                merged,
            });
        }
    }
    days
}

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 280.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 40.0;

/// The burndown as an SVG element; `total` is the number of consumers.
pub fn svg(days: &[Day], total: usize) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="burndown" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="Burndown: repositories remaining and pull requests merged per day">"#
    );
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let top_value = total.max(1) as f64;
    let y = |value: usize| TOP + plot_height * (1.0 - value as f64 / top_value);
    let slot = plot_width / days.len().max(1) as f64;
    let x = |index: usize| LEFT + slot * (index as f64 + 0.5);
    // Axes and horizontal grid lines at 0, half and all.
    for value in [0, total / 2, total] {
        let _ = write!(
            out,
            r##"<line class="grid" x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#d0d7de" stroke-width="1"/><text x="{}" y="{:.1}" text-anchor="end" font-size="11" fill="#57606a">{value}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y(value) + 4.0,
            y = y(value),
        );
    }
    if days.is_empty() {
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" text-anchor="middle" font-size="13" fill="#57606a">No runs yet</text>"##,
            WIDTH / 2.0,
            HEIGHT / 2.0
        );
        out.push_str("</svg>");
        return out;
    }
    let bar_width = (slot * 0.6).clamp(1.0, 28.0);
    for (index, day) in days.iter().enumerate().filter(|(_, day)| day.merged > 0) {
        let top = y(day.merged);
        let _ = write!(
            out,
            r##"<rect class="merged" x="{:.1}" y="{top:.1}" width="{bar_width:.1}" height="{:.1}" fill="#8250df" opacity="0.75"><title>{}: {} merged</title></rect>"##,
            x(index) - bar_width / 2.0,
            y(0) - top,
            day.date,
            day.merged
        );
    }
    let points: Vec<String> = days
        .iter()
        .enumerate()
        .map(|(index, day)| format!("{:.1},{:.1}", x(index), y(day.remaining)))
        .collect();
    let _ = write!(
        out,
        r##"<polyline class="remaining" points="{}" fill="none" stroke="#0969da" stroke-width="2.5"/>"##,
        points.join(" ")
    );
    for (index, day) in days.iter().enumerate() {
        let _ = write!(
            out,
            r##"<circle class="remaining-point" cx="{:.1}" cy="{:.1}" r="3.5" fill="#0969da"><title>{}: {} remaining</title></circle>"##,
            x(index),
            y(day.remaining),
            day.date,
            day.remaining
        );
    }
    // Up to eight date labels, always the first and the last.
    let step = days.len().div_ceil(8).max(1);
    for (index, day) in days.iter().enumerate() {
        if index % step == 0 || index + 1 == days.len() {
            let _ = write!(
                out,
                r##"<text class="date" x="{:.1}" y="{}" text-anchor="middle" font-size="11" fill="#57606a">{}</text>"##,
                x(index),
                HEIGHT - BOTTOM + 16.0,
                &day.date[5..]
            );
        }
    }
    let _ = write!(
        out,
        r##"<g font-size="12"><rect x="{LEFT}" y="8" width="12" height="12" fill="#0969da"/><text x="{}" y="18">remaining</text><rect x="{}" y="8" width="12" height="12" fill="#8250df" opacity="0.75"/><text x="{}" y="18">merged per day</text></g>"##,
        LEFT + 16.0,
        LEFT + 100.0,
        LEFT + 116.0
    );
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::RepoName;
    use crate::report::RepoRow;
    use crate::store::{Event, RepoRecord};

    fn snapshot(repos: &[&str], events: &[(&str, i64, RepoState)], now: i64) -> Snapshot {
        Snapshot {
            migration: "m".to_owned(),
            title: String::new(),
            description: String::new(),
            now,
            repos: repos
                .iter()
                .map(|repo| RepoRow {
                    record: RepoRecord::new("m", RepoName::parse(repo).unwrap(), Vec::new()),
                    held: None,
                    opened_at: None,
                    finished_at: None,
                })
                .collect(),
            events: events
                .iter()
                .map(|(repo, at, to)| Event {
                    migration: "m".to_owned(),
                    repo: (*repo).to_owned(),
                    at: *at,
                    from: None,
                    to: *to,
                    detail: String::new(),
                })
                .collect(),
            last_run: None,
            last_finished_run: None,
            rate_limits: Vec::new(),
        }
    }

    #[test]
    fn remaining_and_merged_are_counted_per_day() {
        let day = |n: i64| 1_795_219_200_000 + n * DAY_MS; // 2026-11-21
        let snapshot = snapshot(
            &["o/a", "o/b", "o/c", "o/d"],
            &[
                ("o/a", day(0) + 10, RepoState::PrOpen),
                ("o/b", day(0) + 20, RepoState::NoChange),
                ("o/c", day(0) + 30, RepoState::PrOpen),
                ("o/a", day(2) + 5, RepoState::Merged),
                ("o/c", day(2) + 9, RepoState::Merged),
                // A merge that is reverted to open again (a new change) is
                // remaining again.
                ("o/c", day(3) + 1, RepoState::PrOpen),
                // Not a consumer any more: ignored.
                ("o/gone", day(1), RepoState::Merged),
            ],
            day(4) + 100,
        );
        let days = series(&snapshot);
        let summary: Vec<(&str, usize, usize)> = days
            .iter()
            .map(|day| (day.date.as_str(), day.remaining, day.merged))
            .collect();
        assert_eq!(
            summary,
            [
                ("2026-11-20", 4, 0),
                ("2026-11-21", 3, 0),
                ("2026-11-22", 3, 0),
                ("2026-11-23", 1, 2),
                ("2026-11-24", 2, 0),
                ("2026-11-25", 2, 0),
            ]
        );
        let chart = svg(&days, 4);
        assert_eq!(chart.matches("<rect class=\"merged\"").count(), 1);
        assert_eq!(
            chart.matches("<circle class=\"remaining-point\"").count(),
            6
        );
        assert!(chart.contains("2026-11-23: 2 merged"));
    }

    #[test]
    fn without_events_the_chart_says_so() {
        let snapshot = snapshot(&["o/a"], &[], 0);
        assert!(series(&snapshot).is_empty());
        assert!(svg(&[], 1).contains("No runs yet"));
    }
}
