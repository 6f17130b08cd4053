//! Headless Chromium (Debian's `chromium` and `chromium-driver`) driven over WebDriver with
//! fantoccini. ChromeDriver runs on a free port and is stopped, by PID, on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use fantoccini::{Client, ClientBuilder};
use serde_json::json;

use crate::stack::{free_port, wait_for_port};

pub struct Chrome {
    driver: Child,
    profile: PathBuf,
    pub client: Client,
    shots: PathBuf,
}

impl Chrome {
    /// Starts ChromeDriver and a headless Chromium session; screenshots go to `shots`.
    pub async fn start(shots: &Path) -> Chrome {
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            assert!(
                Path::new(tool).exists(),
                "{tool} is missing: `make test` installs Debian's chromium and chromium-driver"
            );
        }
        let port = free_port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver");
        wait_for_port(port, "chromedriver");
        let profile = std::env::temp_dir().join(crate::unique_name("chromium-profile"));
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=900,1100",
            &format!("--user-data-dir={}", profile.display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": "/usr/bin/chromium", "args": args }),
        );
        let client = ClientBuilder::rustls()
            .expect("rustls")
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session");
        Chrome {
            driver,
            profile,
            client,
            shots: shots.to_path_buf(),
        }
    }

    /// Saves a PNG of the current page as `<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(self.shots.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// The element, once the page shows it (at most 30 s: a cold function may still be starting).
    pub async fn wait_for(
        &self,
        locator: fantoccini::Locator<'_>,
    ) -> Result<fantoccini::elements::Element, fantoccini::error::CmdError> {
        self.client
            .wait()
            .at_most(std::time::Duration::from_secs(30))
            .for_element(locator)
            .await
    }

    /// The visible text of the page.
    pub async fn page_text(&self) -> String {
        let body = self
            .client
            .find(fantoccini::Locator::Css("body"))
            .await
            .expect("body");
        body.text().await.expect("text")
    }

    /// Where [`Chrome::screenshot`] saves `<name>.png`.
    pub fn screenshot_path(&self, name: &str) -> PathBuf {
        self.shots.join(format!("{name}.png"))
    }

    /// Waits for the element `css` names and clicks it, as a person would.
    pub async fn click(&self, css: &str) {
        let element = self
            .wait_for(fantoccini::Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// On the confirmation page: presses Approve, signs the demo user in at cognito-local's
    /// hosted UI (screenshot `<prefix>-cognito-sign-in`), and waits for our success page
    /// (screenshot `<prefix>-signed-in`).
    pub async fn approve_and_sign_in(&self, prefix: &str) {
        self.click("button[value=approve]").await;
        self.sign_in_at_cognito(prefix).await;
    }

    /// On the confirmation page of a remote approval: ticks "I started this on a remote machine
    /// that I control", then as [`Chrome::approve_and_sign_in`].
    pub async fn confirm_remote_approve_and_sign_in(&self, prefix: &str) {
        self.tick_remote_confirmation().await;
        self.approve_and_sign_in(prefix).await;
    }

    /// Ticks the remote-approval checkbox (`remote_confirmed`), as a person would, by a click.
    pub async fn tick_remote_confirmation(&self) {
        use fantoccini::Locator;
        let checkbox = self
            .wait_for(Locator::Id("remote_confirmed"))
            .await
            .expect("the remote-approval checkbox");
        checkbox.click().await.expect("tick the checkbox");
        assert!(
            checkbox.is_selected().await.expect("checkbox state"),
            "the remote-approval checkbox is ticked"
        );
    }

    /// At cognito-local's hosted UI (after Approve redirected there): signs the demo user in
    /// (screenshot `<prefix>-cognito-sign-in`) and waits for our success page (screenshot
    /// `<prefix>-signed-in`).
    pub async fn sign_in_at_cognito(&self, prefix: &str) {
        use crate::cognito::{DEMO_PASSWORD, DEMO_USERNAME};
        use fantoccini::Locator;
        let username = self.wait_for(Locator::Css("input[name=username]")).await;
        self.screenshot(&format!("{prefix}-cognito-sign-in")).await;
        username
            .expect("username")
            .send_keys(DEMO_USERNAME)
            .await
            .expect("type");
        let password = self.client.find(Locator::Css("input[name=password]")).await;
        password
            .expect("password")
            .send_keys(DEMO_PASSWORD)
            .await
            .expect("type");
        let submit = self.client.find(Locator::Css("button[type=submit]")).await;
        submit
            .expect("Sign in")
            .click()
            .await
            .expect("click Sign in");
        self.wait_for(Locator::XPath("//h1[contains(., 'Device signed in')]"))
            .await
            .expect("the success page");
        self.screenshot(&format!("{prefix}-signed-in")).await;
    }

    /// Runs axe-core ([`axe_script`]: `infra/local/node_modules/axe-core/axe.min.js`, pinned in
    /// `infra/local/package.json`) on the current page with its default rules (WCAG 2.x A and
    /// AA, and best practices) and returns what it found.
    ///
    /// The script goes in over WebDriver (`execute`): ChromeDriver evaluates it through the
    /// DevTools protocol, which the page's `Content-Security-Policy` (`default-src 'none'`, no
    /// script allowed) does not govern, so the page is checked exactly as it is served.
    pub async fn axe_run(&self) -> AxeResults {
        let source = std::fs::read_to_string(axe_script())
            .expect("axe-core: run `make install` (npm ci in infra/local)");
        let loaded = self
            .client
            .execute(
                &format!("{source}\n;return typeof axe === 'object' ? axe.version : null;"),
                vec![],
            )
            .await
            .expect("inject axe-core");
        let version = loaded
            .as_str()
            .unwrap_or_else(|| panic!("axe-core did not load: {loaded}"))
            .to_owned();
        let script = r#"
            const done = arguments[arguments.length - 1];
            axe.run(document, { resultTypes: ['violations', 'incomplete'] })
                .then(r => done(JSON.stringify({
                    violations: r.violations,
                    incomplete: r.incomplete,
                    passes: r.passes.map(p => p.id),
                })))
                .catch(e => done(JSON.stringify({ error: String(e) })));
        "#;
        let answer = self
            .client
            .execute_async(script, vec![])
            .await
            .expect("axe.run");
        let text = answer.as_str().expect("axe's JSON");
        let mut results: serde_json::Value = serde_json::from_str(text).expect("axe's JSON");
        assert!(results.get("error").is_none(), "axe.run failed: {results}");
        let mut take = |key: &str| match results[key].take() {
            serde_json::Value::Array(items) => items,
            other => panic!("axe's {key}: {other}"),
        };
        AxeResults {
            version,
            violations: take("violations"),
            incomplete: take("incomplete"),
            passes: take("passes")
                .into_iter()
                .filter_map(|id| id.as_str().map(str::to_owned))
                .collect(),
        }
    }

    /// Ends the browser session; dropping then stops ChromeDriver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

/// What [`Chrome::axe_run`] found on a page, as axe-core reports it.
#[derive(Debug)]
pub struct AxeResults {
    /// axe-core's version (`axe.version`).
    pub version: String,
    /// Rules the page fails: `id`, `impact` (minor, moderate, serious, critical), `help`,
    /// `helpUrl`, and `nodes[]` with each element's `target` (CSS selectors), `html` and
    /// `failureSummary`.
    pub violations: Vec<serde_json::Value>,
    /// Rules axe could not decide alone ("needs review"), in the same shape.
    pub incomplete: Vec<serde_json::Value>,
    /// The ids of the rules the page passes.
    pub passes: Vec<String>,
}

/// axe-core's browser bundle, installed by `npm ci` in `infra/local` (`make install`), in the
/// `node_modules` that `infra/local/test-stack.sh` exports as `PORTAL_TEST_NODE_MODULES`.
pub fn axe_script() -> PathBuf {
    PathBuf::from(crate::emulator_endpoint("PORTAL_TEST_NODE_MODULES")).join("axe-core/axe.min.js")
}

impl Drop for Chrome {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
