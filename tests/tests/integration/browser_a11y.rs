//! Accessibility, checked by axe-core (npm `axe-core`, pinned in `infra/local/package.json`)
//! inside the same headless Chromium as the end-to-end tests, on every page of ours a person
//! sees in the device flow: code entry, the confirmation page near and remote, the success
//! and denied pages, and the error pages. No violation of impact `serious` or `critical` may
//! remain; every violation found, of any impact, is printed. Screenshots of each page checked
//! land in `test-output/browser_a11y/`.

use fantoccini::Locator;
use portal_auth_tests::chrome::{AxeResults, Chrome};
use portal_auth_tests::stack::{LocalStack, output_dir};
use serde_json::Value;

/// The impacts that fail the test (axe's scale: minor, moderate, serious, critical).
const BLOCKING: [&str; 2] = ["serious", "critical"];

/// A device somewhere else than Chromium (127.0.0.1): see `browser_e2e`'s remote test for how
/// the address reaches the function.
const REMOTE_DEVICE_IP: &str = "198.51.100.7";

/// What axe found on the pages, page by page.
#[derive(Default)]
struct Audit {
    pages: Vec<(String, AxeResults)>,
}

impl Audit {
    /// Runs axe on the page Chromium shows (once `heading` is its `<h1>`), as `name`.
    async fn check(&mut self, chrome: &Chrome, name: &str, heading: &str) {
        chrome
            .wait_for(Locator::XPath(&format!("//h1[contains(., '{heading}')]")))
            .await
            .unwrap_or_else(|e| panic!("{name}: no <h1> {heading:?}: {e}"));
        chrome.screenshot(name).await;
        let results = chrome.axe_run().await;
        assert!(
            results.passes.len() >= 10,
            "{name}: axe ran only {} rules: {:?}",
            results.passes.len(),
            results.passes
        );
        self.pages.push((name.to_owned(), results));
    }

    /// Every violation, one line each (page, rule, impact, elements, help) and each element
    /// under it; then what axe left for a person to review.
    fn report(&self) -> String {
        let mut lines = Vec::new();
        for (page, results) in &self.pages {
            lines.push(format!(
                "{page}: {} violations, {} to review, {} rules passed (axe-core {})",
                results.violations.len(),
                results.incomplete.len(),
                results.passes.len(),
                results.version
            ));
            for v in &results.violations {
                lines.push(format!("  violation {}", describe(v)));
                for n in nodes(v) {
                    lines.push(format!(
                        "    {} -> {}",
                        n["html"].as_str().unwrap_or(""),
                        n["failureSummary"]
                            .as_str()
                            .unwrap_or("")
                            .replace('\n', " / ")
                    ));
                }
            }
            for v in &results.incomplete {
                lines.push(format!("  to review {}", describe(v)));
            }
            lines.push(format!("  passed: {}", results.passes.join(" ")));
        }
        lines.join("\n")
    }

    fn blocking(&self) -> usize {
        self.pages
            .iter()
            .flat_map(|(_, results)| &results.violations)
            .filter(|v| BLOCKING.contains(&v["impact"].as_str().unwrap_or("")))
            .count()
    }
}

fn nodes(result: &Value) -> impl Iterator<Item = &Value> {
    result["nodes"].as_array().into_iter().flatten()
}

/// `rule [impact] on targets: help (helpUrl)`.
fn describe(result: &Value) -> String {
    let targets: Vec<String> = nodes(result).map(|n| n["target"].to_string()).collect();
    format!(
        "{} [{}] on {}: {} ({})",
        result["id"].as_str().unwrap_or("?"),
        result["impact"].as_str().unwrap_or("?"),
        targets.join(", "),
        result["help"].as_str().unwrap_or(""),
        result["helpUrl"].as_str().unwrap_or(""),
    )
}

async fn request_code(http: &reqwest::Client, stack: &LocalStack) -> Value {
    let response = http
        .post(format!("{}/device/code", stack.base_url))
        .form(&[("client_id", stack.pool.public_client_id.as_str())])
        .send()
        .await
        .expect("device code request");
    assert_eq!(response.status(), 200);
    response.json().await.expect("JSON")
}

#[tokio::test]
async fn axe_finds_no_serious_or_critical_violation_on_any_page() {
    let shots = output_dir("browser_a11y");
    let stack = LocalStack::start("browser_a11y").await;
    let http = reqwest::Client::new();
    let base = stack.base_url.as_str();
    let chrome = Chrome::start(&shots).await;
    let mut audit = Audit::default();

    // Code entry. The page forbids every script (`default-src 'none'`): a script the page
    // itself adds does not run, yet axe, injected over WebDriver, does.
    let served = http.get(format!("{base}/device")).send().await.unwrap();
    let csp = served
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(csp.starts_with("default-src 'none';"), "{csp}");
    assert!(!csp.contains("script-src"), "{csp}");
    chrome.client.goto(&format!("{base}/device")).await.unwrap();
    let page_script_ran = chrome
        .client
        .execute(
            "const s = document.createElement('script'); \
             s.textContent = 'window.__pageScriptRan = true;'; \
             document.head.appendChild(s); \
             return window.__pageScriptRan === true;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        page_script_ran,
        Value::Bool(false),
        "the CSP blocks the page's own scripts"
    );
    audit
        .check(&chrome, "1-code-entry", "Sign in a device")
        .await;

    // An unknown code: the code-entry page again, with the problem.
    chrome
        .client
        .goto(&format!("{base}/device?user_code=BCDF-GHJK"))
        .await
        .unwrap();
    audit
        .check(&chrome, "2-code-entry-unknown-code", "Sign in a device")
        .await;
    let text = chrome.page_text().await;
    assert!(text.contains("That code is not valid"), "{text}");

    // The confirmation page, near: device and browser both at 127.0.0.1. Approved, the
    // success page.
    let near = request_code(&http, &stack).await;
    chrome
        .client
        .goto(near["verification_uri_complete"].as_str().unwrap())
        .await
        .unwrap();
    audit
        .check(&chrome, "3-confirm-near", "Approve this device?")
        .await;
    let text = chrome.page_text().await;
    assert!(!text.contains("another network"), "near: {text}");
    chrome.approve_and_sign_in("4").await;
    audit
        .check(&chrome, "4-signed-in", "Device signed in")
        .await;

    // The confirmation page, remote: the device at 198.51.100.7 (through the Invoke API).
    let remote = stack
        .request_code_from(REMOTE_DEVICE_IP, "portal-login/0.1 (a11y test)")
        .await;
    let remote_uri = remote["verification_uri_complete"].as_str().unwrap();
    chrome.client.goto(remote_uri).await.unwrap();
    audit
        .check(&chrome, "5-confirm-remote", "Approve this device?")
        .await;
    let text = chrome.page_text().await;
    assert!(
        text.contains("This device is on another network than you"),
        "remote: {text}"
    );

    // The server's own check, past the browser's: `required` taken away, Approve unticked
    // is refused with a page that says why.
    chrome
        .client
        .execute(
            "document.getElementById('remote_confirmed').required = false;",
            vec![],
        )
        .await
        .unwrap();
    chrome.click("button[value=approve]").await;
    audit
        .check(
            &chrome,
            "6-remote-not-confirmed",
            "Confirm the remote machine",
        )
        .await;

    // Denied (Deny needs no tick: `formnovalidate`).
    chrome.client.goto(remote_uri).await.unwrap();
    chrome.click("button[value=deny]").await;
    audit.check(&chrome, "7-denied", "Device denied").await;

    // A message page: a callback whose state is not ours.
    chrome
        .client
        .goto(&format!("{base}/device/callback?state=not-a-state&code=x"))
        .await
        .unwrap();
    audit
        .check(
            &chrome,
            "8-invalid-callback",
            "This sign-in link is not valid",
        )
        .await;

    // The harness finds what it should: an unlabelled field and an image without a text
    // alternative, added to the page, are reported as critical.
    chrome
        .client
        .execute(
            "const main = document.querySelector('main'); \
             main.insertAdjacentHTML('beforeend', '<input type=\"text\" name=\"probe\"><img src=\"data:,\">');",
            vec![],
        )
        .await
        .unwrap();
    let probe = chrome.axe_run().await;
    let found: Vec<(&str, &str)> = probe
        .violations
        .iter()
        .map(|v| {
            (
                v["id"].as_str().unwrap_or(""),
                v["impact"].as_str().unwrap_or(""),
            )
        })
        .collect();
    for rule in ["label", "image-alt"] {
        assert!(
            found.contains(&(rule, "critical")),
            "axe reports {rule} as critical on a broken page: {found:?}"
        );
    }
    chrome.close().await;

    let report = audit.report();
    println!("axe-core violations (every impact):\n{report}");
    let checked: Vec<&str> = audit.pages.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(checked.len(), 8, "{checked:?}");
    assert_eq!(
        audit.blocking(),
        0,
        "axe-core found serious or critical violations:\n{report}"
    );
}
