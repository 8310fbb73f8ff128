//! The console's files, embedded in the binary: its own HTML, CSS and JavaScript, and
//! uPlot (MIT; `assets/vendor`, copied from npm by `assets/vendor/update.sh`, the version
//! in its `package-lock.json`), with uPlot's licence served beside it.

use http::StatusCode;

use scf_http::ResponseBody;

use crate::respond::{asset as serve, json_error};

/// The one page of the app.
pub(crate) const INDEX_HTML: &str = include_str!("../assets/index.html");
const LOGIN_HTML: &str = include_str!("../assets/login.html");

/// The files under `/console/assets/`: name, bytes, content type.
const FILES: &[(&str, &[u8], &str)] = &[
    (
        "app.js",
        include_bytes!("../assets/app.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "monitoring.js",
        include_bytes!("../assets/monitoring.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "app.css",
        include_bytes!("../assets/app.css"),
        "text/css; charset=utf-8",
    ),
    (
        "uPlot.iife.min.js",
        include_bytes!("../assets/vendor/uPlot.iife.min.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "uPlot.min.css",
        include_bytes!("../assets/vendor/uPlot.min.css"),
        "text/css; charset=utf-8",
    ),
    (
        "uPlot.LICENSE",
        include_bytes!("../assets/vendor/uPlot.LICENSE"),
        "text/plain; charset=utf-8",
    ),
];

/// One embedded file, or 404.
pub(crate) fn asset(name: &str) -> http::Response<ResponseBody> {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, body, kind)) => serve(body, kind),
        None => json_error(StatusCode::NOT_FOUND, &format!("no asset {name:?}")),
    }
}

/// The sign-in page, with an error line when given.
pub(crate) fn login_page(error: Option<&str>) -> String {
    let line = error.map_or(String::new(), |e| {
        format!("<p class=\"error\" id=\"login-error\">{e}</p>")
    });
    LOGIN_HTML.replace("<!--error-->", &line)
}
