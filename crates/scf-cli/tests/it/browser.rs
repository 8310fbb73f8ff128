//! A headless Chromium driven through chromedriver (WebDriver, with fantoccini), for the
//! console's tests: chromedriver on a free port, Chromium with a fresh profile and no
//! network of its own (no updates, sync or background requests).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::common::free_port;

pub(crate) struct Browser {
    pub(crate) client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// Whether the machine has Chromium and chromedriver (a missing one fails the test, as
/// `scf_testkit::require` does).
pub(crate) fn available() -> bool {
    scf_testkit::require(&scf_testkit::CHROMIUM) && scf_testkit::require(&scf_testkit::CHROMEDRIVER)
}

impl Browser {
    pub(crate) async fn start() -> Browser {
        let chromium = scf_testkit::chromium().expect("chromium");
        let chromedriver = scf_testkit::chromedriver().expect("chromedriver");
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--window-size=1400,1000".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium.to_string_lossy(), "args": args},
        });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let mut client = None;
        for _ in 0..5 {
            match ClientBuilder::new(connector.clone())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => {
                    client = Some(c);
                    break;
                }
                Err(e) => {
                    eprintln!("chromedriver session: {e}; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
        let client = client.expect("a WebDriver session with Chromium");
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    pub(crate) async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigates");
    }

    /// Waits (10 s) for an element matching `css`.
    pub(crate) async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Waits (15 s) until `check` holds of the text of the element matching `css`.
    pub(crate) async fn wait_for_text(&self, css: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Ok(e) = self.client.find(Locator::Css(css)).await {
                if let Ok(t) = e.text().await {
                    if check(&t) {
                        return t;
                    }
                    last = t;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the text of {css} never passed the check; last: {last:?}");
    }

    /// Waits (15 s) until no element matches `css`.
    pub(crate) async fn wait_until_gone(&self, css: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.client.find(Locator::Css(css)).await.is_ok() {
            assert!(Instant::now() < deadline, "{css} is still there");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sets a form control's value and fires its `input` and `change` events.
    pub(crate) async fn set_value(&self, css: &str, value: &str) {
        self.wait_for(css).await;
        self.client
            .execute(
                "const e = document.querySelector(arguments[0]); e.value = arguments[1];\
                 e.dispatchEvent(new Event('input')); e.dispatchEvent(new Event('change'));",
                vec![json!(css), json!(value)],
            )
            .await
            .expect("sets the value");
    }

    /// Scrolls the element matching `css` into view (for a screenshot of it).
    pub(crate) async fn scroll_to(&self, css: &str) {
        self.wait_for(css).await;
        self.client
            .execute(
                "document.querySelector(arguments[0]).scrollIntoView({block: 'center'});",
                vec![json!(css)],
            )
            .await
            .expect("scrolls");
    }

    /// A form control's value.
    pub(crate) async fn value(&self, css: &str) -> String {
        self.wait_for(css).await;
        let v = self
            .client
            .execute(
                "return document.querySelector(arguments[0]).value;",
                vec![json!(css)],
            )
            .await
            .expect("reads the value");
        v.as_str().unwrap_or_default().to_string()
    }

    pub(crate) async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.expect("clicks");
    }

    pub(crate) async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.wait_for(css)
            .await
            .attr(name)
            .await
            .expect("reads the attribute")
    }

    /// Saves a PNG of the page as `name` in the screenshot directory.
    pub(crate) async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("takes a screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), png).unwrap();
    }

    pub(crate) async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// `SCF_CONSOLE_SCREENSHOTS` (the README's pictures are made with
/// `SCF_CONSOLE_SCREENSHOTS=docs/console`), else a directory under the target directory.
pub(crate) fn screenshot_dir() -> PathBuf {
    match std::env::var_os("SCF_CONSOLE_SCREENSHOTS") {
        Some(d) => PathBuf::from(d),
        None => std::env::temp_dir().join("scf-console-screenshots"),
    }
}
