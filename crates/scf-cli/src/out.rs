//! The one place the `scf` command writes its output lines: [`outln!`](crate::outln)
//! (standard output) and [`errln!`](crate::errln) (standard error), instead of
//! `println!`/`eprintln!`, which panic when the reader has gone (`scf invoke … | head`).
//!
//! A stream whose reader has closed (`EPIPE`) is at its end: nothing more is written to
//! it, quietly, and the command carries on to its usual end and exit status, so that an
//! invocation still stops its function's processes and flushes its log store. Another
//! write error (a full disk) is said once on standard error, and the stream is closed
//! the same way.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_ENDED: AtomicBool = AtomicBool::new(false);
static STDERR_ENDED: AtomicBool = AtomicBool::new(false);

/// Writes `args` and a newline to standard output, unless its reader has gone.
pub fn outln(args: fmt::Arguments<'_>) {
    if let Err(e) = line(&STDOUT_ENDED, io::stdout().lock(), args) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            errln(format_args!("scf: cannot write to standard output: {e}"));
        }
    }
}

/// Writes `args` and a newline to standard error, unless its reader has gone.
pub fn errln(args: fmt::Arguments<'_>) {
    // Nowhere is left to say why standard error failed.
    let _ = line(&STDERR_ENDED, io::stderr().lock(), args);
}

fn line(ended: &AtomicBool, mut w: impl Write, args: fmt::Arguments<'_>) -> io::Result<()> {
    if ended.load(Ordering::Relaxed) {
        return Ok(());
    }
    let written = w
        .write_fmt(args)
        .and_then(|()| w.write_all(b"\n"))
        .and_then(|()| w.flush());
    if written.is_err() {
        ended.store(true, Ordering::Relaxed);
    }
    written
}

/// `println!` for the `scf` command: a line on standard output through [`outln`], which
/// stops writing, without a panic, once the reader has gone.
#[macro_export]
macro_rules! outln {
    () => {
        $crate::out::outln(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::out::outln(format_args!($($arg)*))
    };
}

/// `eprintln!` for the `scf` command: a line on standard error through [`errln`].
#[macro_export]
macro_rules! errln {
    () => {
        $crate::out::errln(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::out::errln(format_args!($($arg)*))
    };
}
