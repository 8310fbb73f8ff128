//! The PHP runtime (`Php5.6`, `Php7.2`, `Php7.4`, `Php8.0`): the bundled bootstrap
//! (`runtimes/php/bootstrap.php`, PHP's standard library only) run by the machine's `php`
//! command-line interpreter, and the variables SCF's PHP runtime sets.
//!
//! The bootstrap speaks the Custom Runtime API like the Python and Node.js ones; what it
//! gives the function and how it reports failures is in `docs/runtimes.md`.

use std::path::Path;

/// The bootstrap, written to each instance's runtime directory.
pub(crate) const BOOTSTRAP: &str = include_str!("../runtimes/php/bootstrap.php");

/// Whether the interpreter's version (`PHP_VERSION`, e.g. `8.2.36`) can run the bootstrap:
/// PHP 7.0 or later (it catches `Throwable`). Php5.6 functions run on it too, as PHP 7
/// and 8 run most PHP 5.6 code.
pub(crate) fn version_ok(version: &str) -> bool {
    version
        .split('.')
        .next()
        .and_then(|major| major.parse::<u32>().ok())
        .is_some_and(|major| major >= 7)
}

/// The variables of SCF's PHP runtime for code in `code`: `PHP_INI_SCAN_DIR` lists the
/// interpreter's own scan directory (the empty first entry: Debian's `conf.d`, which
/// loads its extensions) and then the function's `php_extension` directory, as SCF
/// lists `/var/user/php_extension`.
pub(crate) fn environment(code: &str, interpreter: &Path) -> Vec<(String, String)> {
    vec![
        (
            "PHP_INI_SCAN_DIR".into(),
            format!(":{}/php_extension", code.trim_end_matches('/')),
        ),
        ("_".into(), interpreter.to_string_lossy().into_owned()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_7_and_later_run_the_bootstrap_and_php_5_does_not() {
        assert!(version_ok("7.0.33"));
        assert!(version_ok("8.2.36"));
        assert!(!version_ok("5.6.40"));
        assert!(!version_ok(""));
    }

    #[test]
    fn the_scan_directory_keeps_the_interpreter_s_own_first() {
        let env = environment("/code/", Path::new("/usr/bin/php"));
        assert_eq!(env[0].1, ":/code/php_extension");
    }
}
