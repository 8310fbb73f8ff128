//! SCF timer cron expressions: 7 fields (`second minute hour day month week year`) or the
//! legacy 5 (`minute hour day month week`), with `,` `-` `*` `/`, week 0–6 or SUN–SAT
//! (0 = Sunday), month 1–12 or JAN–DEC, year 1970–2099; day and week are OR-ed when both
//! are restricted, as in classic cron.

use std::fmt;
use std::str::FromStr;

use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// A parsed cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    text: String,
    seconds: u64,
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    years: Vec<bool>,
    day_any: bool,
    week_any: bool,
}

/// Why a cron expression is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cron expression {expr:?}: {reason}")]
pub struct CronError {
    /// The expression given.
    pub expr: String,
    /// What is wrong with it.
    pub reason: String,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    names_from: u32,
}

const SECOND: Field = Field {
    name: "second",
    min: 0,
    max: 59,
    names: &[],
    names_from: 0,
};
const MINUTE: Field = Field {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
    names_from: 0,
};
const HOUR: Field = Field {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
    names_from: 0,
};
const DAY: Field = Field {
    name: "day",
    min: 1,
    max: 31,
    names: &[],
    names_from: 0,
};
const MONTH: Field = Field {
    name: "month",
    min: 1,
    max: 12,
    names: &MONTHS,
    names_from: 1,
};
const WEEK: Field = Field {
    name: "week",
    min: 0,
    max: 6,
    names: &WEEKDAYS,
    names_from: 0,
};
const YEAR: Field = Field {
    name: "year",
    min: 1970,
    max: 2099,
    names: &[],
    names_from: 0,
};

impl Field {
    fn value(&self, s: &str) -> Result<u32, String> {
        let upper = s.to_ascii_uppercase();
        if let Some(i) = self.names.iter().position(|n| *n == upper) {
            return Ok(self.names_from + i as u32);
        }
        let v: u32 = s
            .parse()
            .map_err(|_| format!("{} field: {s:?} is not a number", self.name))?;
        if v < self.min || v > self.max {
            return Err(format!(
                "{} field: {v} is out of range {}-{}",
                self.name, self.min, self.max
            ));
        }
        Ok(v)
    }

    /// The values a field matches, and whether it was `*` (or `?`).
    fn parse(&self, text: &str) -> Result<(Vec<u32>, bool), String> {
        if text == "*" || text == "?" {
            return Ok(((self.min..=self.max).collect(), true));
        }
        let mut out = Vec::new();
        for part in text.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((r, s)) => {
                    let step: u32 = s.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                        format!("{} field: step {s:?} is not a positive number", self.name)
                    })?;
                    (r, step)
                }
                None => (part, 1),
            };
            let (lo, hi) = if range == "*" {
                (self.min, self.max)
            } else if let Some((a, b)) = range.split_once('-') {
                let (a, b) = (self.value(a)?, self.value(b)?);
                if a > b {
                    return Err(format!(
                        "{} field: range {range:?} runs backwards",
                        self.name
                    ));
                }
                (a, b)
            } else if range.is_empty() {
                return Err(format!("{} field: empty list item", self.name));
            } else {
                let a = self.value(range)?;
                (a, if part.contains('/') { self.max } else { a })
            };
            out.extend((lo..=hi).step_by(step as usize));
        }
        out.sort_unstable();
        out.dedup();
        Ok((out, false))
    }
}

fn mask(values: &[u32]) -> u64 {
    values.iter().fold(0, |m, v| m | (1u64 << v))
}

impl Cron {
    /// Parses a 7-field or 5-field expression.
    pub fn parse(expr: &str) -> Result<Self, CronError> {
        let err = |reason: String| CronError {
            expr: expr.to_string(),
            reason,
        };
        let fields: Vec<&str> = expr.split_whitespace().collect();
        let (sec, min, hour, day, month, week, year) = match fields.as_slice() {
            [s, m, h, d, mo, w, y] => (*s, *m, *h, *d, *mo, *w, *y),
            [m, h, d, mo, w] => ("0", *m, *h, *d, *mo, *w, "*"),
            _ => {
                return Err(err(format!(
                    "has {} fields: expected 7 (second minute hour day month week year) or 5 (minute hour day month week)",
                    fields.len()
                )))
            }
        };
        let (seconds, _) = SECOND.parse(sec).map_err(err)?;
        let (minutes, _) = MINUTE.parse(min).map_err(err)?;
        let (hours, _) = HOUR.parse(hour).map_err(err)?;
        let (days, day_any) = DAY.parse(day).map_err(err)?;
        let (months, _) = MONTH.parse(month).map_err(err)?;
        let (weekdays, week_any) = WEEK.parse(week).map_err(err)?;
        let (years_list, _) = YEAR.parse(year).map_err(err)?;
        let mut years = vec![false; 130];
        for y in years_list {
            years[(y - 1970) as usize] = true;
        }
        Ok(Self {
            text: expr.to_string(),
            seconds: mask(&seconds),
            minutes: mask(&minutes),
            hours: mask(&hours),
            days: mask(&days),
            months: mask(&months),
            weekdays: mask(&weekdays),
            years,
            day_any,
            week_any,
        })
    }

    fn year_ok(&self, y: i32) -> bool {
        (1970..=2099).contains(&y) && self.years[(y - 1970) as usize]
    }

    fn date_ok(&self, d: Date) -> bool {
        let dom = self.days & (1 << d.day()) != 0;
        let dow = self.weekdays & (1 << d.weekday().number_days_from_sunday()) != 0;
        match (self.day_any, self.week_any) {
            (true, true) => true,
            (false, true) => dom,
            (true, false) => dow,
            (false, false) => dom || dow,
        }
    }

    /// The first matching second strictly after `after` (in UTC), if there is one before 2100.
    pub fn next_after(&self, after: OffsetDateTime) -> Option<OffsetDateTime> {
        let after = after.to_offset(time::UtcOffset::UTC);
        let mut t = PrimitiveDateTime::new(after.date(), after.time().replace_nanosecond(0).ok()?)
            + Duration::seconds(1);
        // Each step below moves to the start of the next candidate unit, so this terminates.
        for _ in 0..200_000 {
            let year = t.year();
            if year > 2099 {
                return None;
            }
            if !self.year_ok(year) {
                t = PrimitiveDateTime::new(
                    Date::from_calendar_date(year + 1, Month::January, 1).ok()?,
                    Time::MIDNIGHT,
                );
                continue;
            }
            if self.months & (1 << u8::from(t.month())) == 0 {
                let (y, m) = if t.month() == Month::December {
                    (year + 1, Month::January)
                } else {
                    (year, t.month().next())
                };
                t = PrimitiveDateTime::new(Date::from_calendar_date(y, m, 1).ok()?, Time::MIDNIGHT);
                continue;
            }
            if !self.date_ok(t.date()) {
                t = PrimitiveDateTime::new(t.date().next_day()?, Time::MIDNIGHT);
                continue;
            }
            if self.hours & (1 << t.hour()) == 0 {
                t = PrimitiveDateTime::new(t.date(), Time::from_hms(t.hour(), 0, 0).ok()?)
                    + Duration::hours(1);
                continue;
            }
            if self.minutes & (1 << t.minute()) == 0 {
                t = PrimitiveDateTime::new(t.date(), Time::from_hms(t.hour(), t.minute(), 0).ok()?)
                    + Duration::minutes(1);
                continue;
            }
            if self.seconds & (1 << t.second()) == 0 {
                t += Duration::seconds(1);
                continue;
            }
            return Some(t.assume_utc());
        }
        None
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl FromStr for Cron {
    type Err = CronError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
