//! SCF platform log framing and the user line format.

use proptest::prelude::*;
use scf_logs::framing::{
    self, end_line, error_line, init_report_line, report_line, response_line, start_line, tail,
    truncate_line, user_line, InitReport, LogFramer, Report, MAX_LINE_BYTES, TAIL_BYTES,
};
use time::macros::datetime;

const ID: &str = "09c346d3-8417-49c5-8569-000000000000";

#[test]
fn platform_lines_match_scf() {
    assert_eq!(start_line(ID), format!("START RequestId:{ID}"));
    assert_eq!(end_line(ID), format!("END RequestId:{ID}"));
    assert_eq!(
        response_line(ID, "\"Hello World\""),
        format!("Response RequestId:{ID} RetMsg:\"Hello World\"")
    );
    assert_eq!(
        error_line(ID, "{\"errorCode\":-1}"),
        format!("ERROR RequestId:{ID} Result:{{\"errorCode\":-1}}")
    );
}

#[test]
fn report_line_prints_ms_and_memory_in_mb() {
    let r = Report {
        duration_ms: 1.0,
        memory_mb: 128,
        mem_usage_bytes: 31_178_752,
    };
    assert_eq!(
        report_line(ID, &r),
        format!("Report RequestId:{ID} Duration:1ms Memory:128MB MemUsage:29.734375MB")
    );
    let r = Report {
        duration_ms: 0.5321,
        memory_mb: 64,
        mem_usage_bytes: 0,
    };
    assert_eq!(
        report_line(ID, &r),
        format!("Report RequestId:{ID} Duration:0.532ms Memory:64MB MemUsage:0MB")
    );
}

#[test]
fn init_report_line_has_spaces_after_colons() {
    let r = InitReport {
        init_duration_ms: 4598.0,
        duration_ms: 3924.0,
        memory_mb: 640,
        mem_usage_bytes: 1_572_864,
    };
    assert_eq!(
        init_report_line(ID, &r),
        format!("Init Report RequestId: {ID} InitDuration: 4598ms Duration: 3924ms Memory: 640MB MemUsage: 1.5MB")
    );
}

#[test]
fn user_line_is_timestamp_request_id_level_message_tab_separated() {
    let at = datetime!(2026-11-25 12:00:00.123456 UTC);
    assert_eq!(
        user_line(at, "req", "INFO", "hello"),
        "2026-11-25T12:00:00.123Z\treq\t[INFO]\thello"
    );
    let shifted = datetime!(2026-11-25 20:00:00.5 +08:00);
    assert_eq!(
        user_line(shifted, "req", "WARN", "x"),
        "2026-11-25T12:00:00.500Z\treq\t[WARN]\tx"
    );
}

#[test]
fn user_line_is_capped_at_8kb_on_a_char_boundary() {
    let at = datetime!(2026-11-25 12:00:00 UTC);
    let line = user_line(at, "req", "INFO", &"日".repeat(5000));
    assert!(line.len() <= MAX_LINE_BYTES);
    assert!(line.len() > MAX_LINE_BYTES - 3);
    assert!(line.ends_with('日'));
}

#[test]
fn tail_keeps_the_last_4kb_on_a_char_boundary() {
    let log = format!("{}{}", "a".repeat(10), "é".repeat(3000));
    let t = tail(&log, TAIL_BYTES);
    assert!(t.len() <= TAIL_BYTES && t.len() >= TAIL_BYTES - 1);
    assert!(log.ends_with(t));
    assert_eq!(tail("short", TAIL_BYTES), "short");
}

#[test]
fn framer_writes_cold_start_failure_in_scf_order() {
    let mut f = LogFramer::new("id");
    f.init_report(&InitReport {
        init_duration_ms: 12.0,
        duration_ms: 3.0,
        memory_mb: 128,
        mem_usage_bytes: 0,
    });
    f.user_text("u1\nu2\n");
    f.error("{\"errorMessage\":\"boom\"}");
    let log = f.finish(&Report {
        duration_ms: 3.0,
        memory_mb: 128,
        mem_usage_bytes: 1_048_576,
    });
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(
        lines,
        [
            "START RequestId:id",
            "Init Report RequestId: id InitDuration: 12ms Duration: 3ms Memory: 128MB MemUsage: 0MB",
            "u1",
            "u2",
            "ERROR RequestId:id Result:{\"errorMessage\":\"boom\"}",
            "END RequestId:id",
            "Report RequestId:id Duration:3ms Memory:128MB MemUsage:1MB",
        ]
    );
}

#[test]
fn framer_caps_each_user_line() {
    let mut f = LogFramer::new("id");
    f.user_line(&"x".repeat(MAX_LINE_BYTES + 100));
    let log = f.finish(&Report::default());
    assert_eq!(log.lines().nth(1).unwrap().len(), MAX_LINE_BYTES);
}

#[test]
fn format_ms_never_prints_nonsense_for_bad_input() {
    assert_eq!(framing::format_ms(f64::NAN), "0");
    assert_eq!(framing::format_ms(-3.0), "0");
    assert_eq!(framing::format_ms(100.0), "100");
}

proptest! {
    #[test]
    fn truncate_is_a_prefix_within_the_cap(s in "\\PC{0,300}", max in 0usize..400) {
        let out = truncate_line(&s, max);
        prop_assert!(out.len() <= max);
        prop_assert!(s.starts_with(out));
        prop_assert!(max < 4 || s.len() <= max || out.len() + 4 > max);
    }

    #[test]
    fn tail_is_a_suffix_within_the_cap(s in "\\PC{0,300}", max in 0usize..400) {
        let out = tail(&s, max);
        prop_assert!(out.len() <= max);
        prop_assert!(s.ends_with(out));
        prop_assert!(max < 4 || s.len() <= max || out.len() + 4 > max);
    }
}
