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

    /// On the confirmation page: presses Approve, signs the demo user in at cognito-local's
    /// hosted UI (screenshot `<prefix>-cognito-sign-in`), and waits for our success page
    /// (screenshot `<prefix>-signed-in`).
    pub async fn approve_and_sign_in(&self, prefix: &str) {
        use crate::cognito::{DEMO_PASSWORD, DEMO_USERNAME};
        use fantoccini::Locator;
        let approve = self.wait_for(Locator::Css("button[value=approve]")).await;
        approve
            .expect("Approve")
            .click()
            .await
            .expect("click Approve");
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

    /// Ends the browser session; dropping then stops ChromeDriver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Chrome {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
