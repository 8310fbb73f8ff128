//! SCF cron expressions: 7 and 5 fields, names, steps, ranges, and the next firing time.

use proptest::prelude::*;
use scf_cli::cron::Cron;
use time::macros::datetime;

#[test]
fn every_five_seconds_fires_on_multiples_of_five() {
    let c = Cron::parse("*/5 * * * * * *").unwrap();
    assert_eq!(
        c.next_after(datetime!(2026-11-25 12:00:01 UTC)),
        Some(datetime!(2026-11-25 12:00:05 UTC))
    );
    assert_eq!(
        c.next_after(datetime!(2026-11-25 12:00:05 UTC)),
        Some(datetime!(2026-11-25 12:00:10 UTC))
    );
}

#[test]
fn five_field_expressions_fire_at_second_zero() {
    let c = Cron::parse("*/10 * * * *").unwrap();
    assert_eq!(
        c.next_after(datetime!(2026-11-25 12:01:30 UTC)),
        Some(datetime!(2026-11-25 12:10:00 UTC))
    );
}

#[test]
fn month_and_week_names_work() {
    let c = Cron::parse("0 30 9 * JAN-MAR MON-FRI *").unwrap();
    // 2026-11-25 is a Wednesday; the next January weekday is Fri 2027-01-01.
    assert_eq!(
        c.next_after(datetime!(2026-11-25 00:00:00 UTC)),
        Some(datetime!(2027-01-01 09:30:00 UTC))
    );
}

#[test]
fn day_and_week_are_ored_when_both_are_restricted() {
    // The 1st of the month OR any Sunday. 2026-11-29 is a Sunday.
    let c = Cron::parse("0 0 0 1 * 0 *").unwrap();
    assert_eq!(
        c.next_after(datetime!(2026-11-25 00:00:00 UTC)),
        Some(datetime!(2026-11-29 00:00:00 UTC))
    );
    assert_eq!(
        c.next_after(datetime!(2026-11-29 00:00:00 UTC)),
        Some(datetime!(2026-12-01 00:00:00 UTC))
    );
}

#[test]
fn a_year_field_limits_firing() {
    let c = Cron::parse("0 0 0 1 1 * 2030").unwrap();
    assert_eq!(
        c.next_after(datetime!(2026-11-25 00:00:00 UTC)),
        Some(datetime!(2030-01-01 00:00:00 UTC))
    );
    assert_eq!(c.next_after(datetime!(2030-01-01 00:00:00 UTC)), None);
}

#[test]
fn lists_and_ranges_with_steps() {
    let c = Cron::parse("0 0,15 8-18/5 * * * *").unwrap();
    assert_eq!(
        c.next_after(datetime!(2026-11-25 08:00:00 UTC)),
        Some(datetime!(2026-11-25 08:15:00 UTC))
    );
    assert_eq!(
        c.next_after(datetime!(2026-11-25 08:15:00 UTC)),
        Some(datetime!(2026-11-25 13:00:00 UTC))
    );
}

#[test]
fn bad_expressions_say_which_field_is_wrong() {
    let cases = [
        (
            "* * *",
            r#"cron expression "* * *": has 3 fields: expected 7 (second minute hour day month week year) or 5 (minute hour day month week)"#,
        ),
        (
            "0 60 * * * * *",
            r#"cron expression "0 60 * * * * *": minute field: 60 is out of range 0-59"#,
        ),
        (
            "0 0 0 0 * * *",
            r#"cron expression "0 0 0 0 * * *": day field: 0 is out of range 1-31"#,
        ),
        (
            "0 0 0 * FOO * *",
            r#"cron expression "0 0 0 * FOO * *": month field: "FOO" is not a number"#,
        ),
        (
            "0 0 0 * * 7 *",
            r#"cron expression "0 0 0 * * 7 *": week field: 7 is out of range 0-6"#,
        ),
        (
            "*/0 * * * * * *",
            r#"cron expression "*/0 * * * * * *": second field: step "0" is not a positive number"#,
        ),
        (
            "0 0 5-1 * * * *",
            r#"cron expression "0 0 5-1 * * * *": hour field: range "5-1" runs backwards"#,
        ),
        (
            "0 0 0 * * * 1969",
            r#"cron expression "0 0 0 * * * 1969": year field: 1969 is out of range 1970-2099"#,
        ),
    ];
    for (expr, msg) in cases {
        assert_eq!(Cron::parse(expr).unwrap_err().to_string(), msg, "{expr}");
    }
}

proptest! {
    #[test]
    fn parsing_never_panics(s in ".{0,40}") {
        let _ = Cron::parse(&s);
    }

    #[test]
    fn next_is_strictly_later_and_matches_the_second_field(step in 1u32..60, secs in 0i64..10_000_000) {
        let c = Cron::parse(&format!("*/{step} * * * * * *")).unwrap();
        let t = datetime!(2026-01-01 00:00:00 UTC) + time::Duration::seconds(secs);
        let n = c.next_after(t).unwrap();
        prop_assert!(n > t);
        prop_assert_eq!(u32::from(n.second()) % step, 0);
    }
}
