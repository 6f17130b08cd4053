//! The person's side of the flow, driven over HTTP without a browser: the verification page
//! (in-process), Cognito's hosted UI (cognito-local, for real) and the callback (in-process).
//! A tiny cookie jar plays the browser's part, so tests can forward a URL to "another browser".

use base64::Engine;
use lambda_http::{Body, Request, Response};

use crate::app::{TestApp, form_post, from_address, request, with_header};
use crate::cognito::{DEMO_PASSWORD, DEMO_USERNAME};
use crate::dynamodb::as_function;

/// One browser: its cookies (name → value), and the address its requests come from.
#[derive(Debug, Default, Clone)]
pub struct Browser {
    cookies: Vec<(String, String)>,
    /// `None`: the device's own address ([`crate::app::DEVICE_IP`]); `Some(None)`: an event
    /// without an address; `Some(Some(ip))`: `ip`.
    address: Option<Option<String>>,
}

/// A page as the browser got it.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub html: String,
    pub location: Option<String>,
}

impl Browser {
    /// A browser whose requests come from `ip` (`None`: no address in the event).
    pub fn at(ip: Option<&str>) -> Self {
        Browser {
            address: Some(ip.map(str::to_owned)),
            ..Browser::default()
        }
    }

    fn keep_cookies(&mut self, response: &Response<Body>) {
        for v in response.headers().get_all(http::header::SET_COOKIE) {
            let Some((pair, _)) = v.to_str().unwrap_or("").split_once(';') else {
                continue;
            };
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            self.cookies.retain(|(n, _)| n != name);
            if !value.is_empty() {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    fn with_cookies(&self, req: Request) -> Request {
        let req = match &self.address {
            Some(ip) => from_address(req, ip.as_deref()),
            None => req,
        };
        if self.cookies.is_empty() {
            return req;
        }
        let header: Vec<String> = self
            .cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        with_header(req, "cookie", &header.join("; "))
    }

    fn page(&mut self, response: Response<Body>) -> Page {
        self.keep_cookies(&response);
        let location = response
            .headers()
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let html = match response.body() {
            Body::Text(t) => t.clone(),
            _ => String::new(),
        };
        Page {
            status: response.status().as_u16(),
            html,
            location,
        }
    }

    /// `GET /device?user_code=…` (or the code-entry page with `None`).
    pub async fn open_verification(&mut self, app: &TestApp, user_code: Option<&str>) -> Page {
        let path = match user_code {
            Some(code) => format!("/prod/device?user_code={}", urlencode(code)),
            None => "/prod/device".to_owned(),
        };
        let req = self.with_cookies(request("GET", &path, None, Body::Empty));
        let response = as_function("device-verify", device_verify::handle(&app.deps, req)).await;
        self.page(response)
    }

    /// `POST /device` with the form's fields.
    pub async fn submit(&mut self, app: &TestApp, fields: &str) -> Page {
        let req = self.with_cookies(form_post("/prod/device", fields));
        let response = as_function("device-verify", device_verify::handle(&app.deps, req)).await;
        self.page(response)
    }

    /// Opens the confirmation page and presses `decision` (approve or deny).
    pub async fn decide(&mut self, app: &TestApp, user_code: &str, decision: &str) -> Page {
        let page = self.open_verification(app, Some(user_code)).await;
        assert_eq!(page.status, 200, "{}", page.html);
        let csrf = hidden_field(&page.html, "csrf").expect("csrf field");
        let fields = format!(
            "csrf={csrf}&user_code={}&decision={decision}",
            urlencode(user_code)
        );
        self.submit(app, &fields).await
    }

    /// Signs the demo user in at cognito-local's hosted UI, from the authorize URL our approve
    /// redirected to; returns the callback URL Cognito redirects back to.
    pub async fn sign_in_at_cognito(&self, authorize_url: &str) -> String {
        let url = reqwest::Url::parse(authorize_url).expect("authorize URL");
        let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        form.push(("username".into(), DEMO_USERNAME.into()));
        form.push(("password".into(), DEMO_PASSWORD.into()));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let endpoint = format!("{}://{}{}", url.scheme(), url.authority(), url.path());
        let response = http
            .post(endpoint)
            .form(&form)
            .send()
            .await
            .expect("cognito-local");
        assert_eq!(
            response.status().as_u16(),
            302,
            "{:?}",
            response.text().await
        );
        response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("redirect to the callback")
            .to_owned()
    }

    /// Follows a callback URL (absolute, on our base URL) into `device-callback`.
    pub async fn follow_callback(&mut self, app: &TestApp, callback_url: &str) -> Page {
        let path = callback_url
            .strip_prefix("https://portal.test")
            .expect("our callback");
        let req = self.with_cookies(request("GET", path, None, Body::Empty));
        let response =
            as_function("device-callback", device_callback::handle(&app.deps, req)).await;
        self.page(response)
    }
}

pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

pub fn urlencode(s: &str) -> String {
    url_encode(s)
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The claims of a JWT, unverified (tests only read what Cognito put there).
pub fn claims(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).expect("three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}
