//! `format_ms` and `format_mb` print exactly what the `{:.3}` / `Display` formatting of
//! the same f64 prints (their fast paths must never change the text).

use proptest::prelude::*;
use scf_logs::framing::{format_mb, format_ms, report_line, Report};

fn ms_reference(ms: f64) -> String {
    // (`-0.0` prints `0`, like every other non-positive or non-finite input.)
    if !ms.is_finite() || ms <= 0.0 {
        return "0".to_owned();
    }
    let s = format!("{ms:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn mb_reference(bytes: u64) -> String {
    format!("{}", bytes as f64 / (1024.0 * 1024.0))
}

#[test]
fn known_values() {
    for (bytes, text) in [
        (0, "0"),
        (1_048_576, "1"),
        (31_178_752, "29.734375"),
        (1_572_864, "1.5"),
        (1, "0.00000095367431640625"),
    ] {
        assert_eq!(format_mb(bytes), text, "{bytes} bytes");
        assert_eq!(format_mb(bytes), mb_reference(bytes), "{bytes} bytes");
    }
    for (ms, text) in [
        (0.0, "0"),
        (1.0, "1"),
        (0.532, "0.532"),
        (0.0005, ms_reference(0.0005).as_str()),
        (0.0015, ms_reference(0.0015).as_str()),
        (2.5e-4, "0"),
        (1e20, ms_reference(1e20).as_str()),
        (123.4, "123.4"),
        (0.826, "0.826"),
        (f64::INFINITY, "0"),
        (-0.0, "0"),
    ] {
        assert_eq!(format_ms(ms), text, "{ms} ms");
    }
}

#[test]
fn every_small_byte_count_and_microsecond_duration_matches() {
    for bytes in (0..5_000_000u64).step_by(97) {
        assert_eq!(format_mb(bytes), mb_reference(bytes), "{bytes} bytes");
    }
    for us in 0..200_000u64 {
        let ms = us as f64 / 1000.0;
        assert_eq!(format_ms(ms), ms_reference(ms), "{ms} ms");
    }
}

#[test]
fn report_line_uses_the_same_figures() {
    let report = Report {
        duration_ms: 0.826,
        memory_mb: 128,
        mem_usage_bytes: 31_178_752,
    };
    assert_eq!(
        report_line("id", &report),
        "Report RequestId:id Duration:0.826ms Memory:128MB MemUsage:29.734375MB"
    );
}

proptest! {
    #[test]
    fn format_mb_matches_display(bytes in any::<u64>()) {
        prop_assert_eq!(format_mb(bytes), mb_reference(bytes));
    }

    #[test]
    fn format_mb_matches_display_for_realistic_sizes(bytes in 0u64..(64u64 << 30)) {
        prop_assert_eq!(format_mb(bytes), mb_reference(bytes));
    }

    #[test]
    fn format_ms_matches_fixed_3(ms in any::<f64>()) {
        prop_assert_eq!(format_ms(ms), ms_reference(ms));
    }

    #[test]
    fn format_ms_matches_fixed_3_for_realistic_durations(ms in 0.0f64..1e7) {
        prop_assert_eq!(format_ms(ms), ms_reference(ms));
    }
}
