//! Rollout schedules: the windows in which fleetmod may open or push
//! anything, in a named timezone.
//!
//! A window is written `[DAYS] HH:MM-HH:MM[,HH:MM-HH:MM...] TIMEZONE`, for
//! example `Mon-Fri 09:00-17:00 Europe/Stockholm`. Days are `Mon`..`Sun`,
//! as ranges (`Mon-Fri`, `Fri-Mon`) or lists (`Mon,Wed,Fri`), and default to
//! every day. A window whose end is not after its start runs overnight into
//! the next day (`Mon-Fri 22:00-06:00 UTC` is open early on Saturday too).
//! Times are local to the timezone, so windows follow daylight saving.

use chrono::{Datelike, TimeZone, Timelike};
use chrono_tz::Tz;

/// A set of windows; open when any window is.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    pub windows: Vec<Window>,
    /// As written, for messages.
    pub text: String,
}

/// One window in one timezone.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// Monday first.
    days: [bool; 7],
    /// Minutes after local midnight.
    ranges: Vec<(u32, u32)>,
    timezone: Tz,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Schedule {
    /// Parses windows, each as one string.
    pub fn parse(windows: &[String]) -> Result<Schedule, String> {
        if windows.is_empty() {
            return Err(
                "a schedule needs at least one window, like `Mon-Fri 09:00-17:00 Europe/Stockholm`"
                    .to_owned(),
            );
        }
        Ok(Schedule {
            windows: windows
                .iter()
                .map(|text| Window::parse(text))
                .collect::<Result<_, _>>()?,
            text: windows.join("; "),
        })
    }

    /// Whether the schedule is open at Unix milliseconds `at`.
    pub fn is_open(&self, at: i64) -> bool {
        self.windows.iter().any(|window| window.is_open(at))
    }

    /// The first minute at or after `at` at which the schedule is open
    /// (within two weeks).
    pub fn next_open(&self, at: i64) -> Option<i64> {
        const MINUTE: i64 = 60_000;
        let first = at.div_euclid(MINUTE) * MINUTE;
        if self.is_open(at) {
            return Some(at);
        }
        (1..=14 * 24 * 60)
            .map(|minutes| first + minutes * MINUTE)
            .find(|&candidate| self.is_open(candidate))
    }
}

impl Window {
    fn parse(text: &str) -> Result<Window, String> {
        let example = "write windows like `Mon-Fri 09:00-17:00 Europe/Stockholm`";
        let words: Vec<&str> = text.split_whitespace().collect();
        let (timezone, rest) = match words.split_last() {
            Some((last, rest)) if !rest.is_empty() => (*last, rest),
            _ => {
                return Err(format!(
                    "`{text}` is not a schedule window: {example} (days, times, timezone)"
                ));
            }
        };
        let timezone: Tz = timezone.parse().map_err(|_| {
            format!(
                "`{timezone}` is not a timezone: use an IANA name like `Europe/Stockholm` or `UTC`"
            )
        })?;
        let (days, times) = match rest {
            [times] => ([true; 7], *times),
            [days, times] => (parse_days(days)?, *times),
            _ => {
                return Err(format!(
                    "`{text}` is not a schedule window: {example} (days, times, timezone)"
                ));
            }
        };
        let ranges = times
            .split(',')
            .map(parse_range)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Window {
            days,
            ranges,
            timezone,
        })
    }

    fn is_open(&self, at: i64) -> bool {
        let Some(local) = self.timezone.timestamp_millis_opt(at).single() else {
            return false;
        };
        let day = local.weekday().num_days_from_monday() as usize;
        let previous = (day + 6) % 7;
        let minute = local.hour() * 60 + local.minute();
        self.ranges.iter().any(|&(start, end)| {
            if start < end {
                self.days[day] && (start..end).contains(&minute)
            } else {
                // Overnight: the evening of a listed day, or the morning after.
                self.days[day] && minute >= start || self.days[previous] && minute < end
            }
        })
    }
}

fn day_index(name: &str) -> Result<usize, String> {
    DAYS.iter()
        .position(|day| name.eq_ignore_ascii_case(day))
        .ok_or_else(|| format!("`{name}` is not a day: use Mon, Tue, Wed, Thu, Fri, Sat or Sun"))
}

fn parse_days(text: &str) -> Result<[bool; 7], String> {
    let mut days = [false; 7];
    for part in text.split(',') {
        match part.split_once('-') {
            Some((first, last)) => {
                let (first, last) = (day_index(first)?, day_index(last)?);
                let mut day = first;
                loop {
                    days[day] = true;
                    if day == last {
                        break;
                    }
                    day = (day + 1) % 7;
                }
            }
            None => days[day_index(part)?] = true,
        }
    }
    Ok(days)
}

fn parse_time(text: &str) -> Result<u32, String> {
    let invalid = || format!("`{text}` is not a time: use HH:MM, from 00:00 to 24:00");
    let (hours, minutes) = text.split_once(':').ok_or_else(invalid)?;
    let (hours, minutes): (u32, u32) = (
        hours.parse().map_err(|_| invalid())?,
        minutes.parse().map_err(|_| invalid())?,
    );
    if minutes >= 60 || hours > 24 || hours == 24 && minutes > 0 || text.len() != 5 {
        return Err(invalid());
    }
    Ok(hours * 60 + minutes)
}

fn parse_range(text: &str) -> Result<(u32, u32), String> {
    let (start, end) = text
        .split_once('-')
        .ok_or_else(|| format!("`{text}` is not a time range: use HH:MM-HH:MM"))?;
    let (start, end) = (parse_time(start)?, parse_time(end)?);
    if start == end {
        return Err(format!("`{text}` is an empty time range"));
    }
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unix milliseconds of a UTC time.
    fn utc(text: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn office_hours_follow_the_timezone_and_daylight_saving() {
        let schedule = Schedule::parse(&["Mon-Fri 09:00-17:00 Europe/Stockholm".into()]).unwrap();
        // Friday 2026-11-20: Stockholm is UTC+1 in winter.
        assert!(!schedule.is_open(utc("2026-11-20T07:59:00Z")));
        assert!(schedule.is_open(utc("2026-11-20T08:00:00Z")));
        assert!(schedule.is_open(utc("2026-11-20T15:59:00Z")));
        assert!(!schedule.is_open(utc("2026-11-20T16:00:00Z")));
        // Summer: UTC+2.
        assert!(schedule.is_open(utc("2026-07-01T07:00:00Z")));
        assert!(!schedule.is_open(utc("2026-07-01T15:00:00Z")));
        // Saturday is closed; the next window opens Monday 09:00 local.
        let saturday = utc("2026-11-21T10:00:00Z");
        assert!(!schedule.is_open(saturday));
        assert_eq!(
            schedule.next_open(saturday),
            Some(utc("2026-11-23T08:00:00Z"))
        );
    }

    #[test]
    fn overnight_windows_and_lists() {
        let schedule = Schedule::parse(&[
            "Fri 22:00-06:00 UTC".into(),
            "Sat,Sun 10:00-11:00,14:00-15:00 UTC".into(),
        ])
        .unwrap();
        assert!(schedule.is_open(utc("2026-11-20T23:00:00Z")));
        assert!(schedule.is_open(utc("2026-11-21T05:59:00Z")));
        assert!(!schedule.is_open(utc("2026-11-21T06:00:00Z")));
        assert!(schedule.is_open(utc("2026-11-21T10:30:00Z")));
        assert!(!schedule.is_open(utc("2026-11-21T12:00:00Z")));
        assert!(schedule.is_open(utc("2026-11-22T14:00:00Z")));
        assert!(!schedule.is_open(utc("2026-11-19T23:00:00Z")));
    }

    #[test]
    fn bad_windows_say_why() {
        let error = |text: &str| Schedule::parse(&[text.to_owned()]).unwrap_err();
        assert!(error("Mon-Fri 09:00-17:00").contains("is not a timezone"));
        assert!(error("Mon-Fry 09:00-17:00 UTC").contains("`Fry` is not a day"));
        assert!(error("Mon 9:00-17:00 UTC").contains("`9:00` is not a time"));
        assert!(error("Mon 09:00-09:00 UTC").contains("empty time range"));
        assert!(error("Mon 09:00-17:00 Mars/Olympus").contains("not a timezone"));
        assert!(error("UTC").contains("not a schedule window"));
    }
}
