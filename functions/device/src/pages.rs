//! The person's pages: one small, accessible look, no JavaScript, every value escaped by the
//! template engine (askama escapes HTML by default), and headers that keep them out of frames,
//! caches and referrers.
//!
//! The only inline code is the style sheet, allowed by its hash in `Content-Security-Policy`.
//! `form-action` names Cognito's domain too: Chromium applies it to the redirect that follows
//! the Approve form.

use std::sync::LazyLock;

use askama::Template;
use base64::Engine;
use lambda_http::{Body, Request, Response};

use crate::config::DeviceConfig;

const CSS: &str = include_str!("../templates/style.css");

static CSS_HASH: LazyLock<String> = LazyLock::new(|| {
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(CSS.as_bytes()))
});

#[derive(Template)]
#[template(path = "code_entry.html")]
struct CodeEntryPage<'a> {
    title: &'a str,
    css: &'a str,
    action: &'a str,
    problem: Option<&'a str>,
}

/// What the confirmation page shows about the grant (RFC 8628 §5.4 and §5.6).
pub struct Confirmation<'a> {
    pub user_code: String,
    pub client_name: &'a str,
    pub scopes: Vec<&'a str>,
    pub requested_at: String,
    pub device_ip: &'a str,
    pub device_user_agent: &'a str,
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage<'a> {
    title: &'a str,
    css: &'a str,
    action: &'a str,
    csrf: &'a str,
    user_code: &'a str,
    client_name: &'a str,
    scopes: &'a [&'a str],
    requested_at: &'a str,
    device_ip: &'a str,
    device_user_agent: &'a str,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    title: &'a str,
    css: &'a str,
    text: &'a str,
    link: Option<&'a str>,
}

/// The code-entry page, with an optional problem to show.
pub fn code_entry(config: &DeviceConfig, status: u16, problem: Option<&str>) -> Response<Body> {
    let action = config.verification_uri();
    let page = CodeEntryPage {
        title: "Sign in a device",
        css: CSS,
        action: &action,
        problem,
    };
    html(config, status, page.render(), &[])
}

/// The confirmation page; sets the CSRF cookie whose value the form carries back.
pub fn confirm(config: &DeviceConfig, view: &Confirmation<'_>, csrf: &str) -> Response<Body> {
    let action = config.verification_uri();
    let page = ConfirmPage {
        title: "Approve this device?",
        css: CSS,
        action: &action,
        csrf,
        user_code: &view.user_code,
        client_name: view.client_name,
        scopes: &view.scopes,
        requested_at: &view.requested_at,
        device_ip: view.device_ip,
        device_user_agent: view.device_user_agent,
    };
    let cookie = set_cookie(config, CSRF_COOKIE, csrf, 600);
    html(config, 200, page.render(), &[cookie])
}

/// A page with a title and a sentence, and a link back to code entry when `retry`.
pub fn message(
    config: &DeviceConfig,
    status: u16,
    title: &str,
    text: &str,
    retry: bool,
    cookies: &[String],
) -> Response<Body> {
    let link = config.verification_uri();
    let page = MessagePage {
        title,
        css: CSS,
        text,
        link: retry.then_some(link.as_str()),
    };
    html(config, status, page.render(), cookies)
}

fn html(
    config: &DeviceConfig,
    status: u16,
    rendered: askama::Result<String>,
    cookies: &[String],
) -> Response<Body> {
    let (status, body) = match rendered {
        Ok(body) => (status, body),
        Err(e) => {
            tracing::error!(error = %e, "page did not render");
            (
                500,
                "<!doctype html><title>Error</title><p>Something went wrong.</p>".to_owned(),
            )
        }
    };
    let csp = format!(
        "default-src 'none'; style-src 'sha256-{}'; form-action 'self' {}; \
         frame-ancestors 'none'; base-uri 'none'",
        *CSS_HASH,
        origin(&config.cognito_domain)
    );
    let mut builder = Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(http::header::CACHE_CONTROL, "no-store")
        .header(http::header::PRAGMA, "no-cache")
        .header(http::header::CONTENT_SECURITY_POLICY, csp)
        .header(http::header::REFERRER_POLICY, "no-referrer")
        .header(http::header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(http::header::X_FRAME_OPTIONS, "DENY");
    for cookie in cookies {
        builder = builder.header(http::header::SET_COOKIE, cookie);
    }
    builder
        .body(Body::Text(body))
        .unwrap_or_else(|_| Response::new(Body::Empty))
}

/// A 302 to `location`, setting `cookies`, with the pages' headers.
pub fn redirect(location: &str, cookies: &[String]) -> Response<Body> {
    let mut builder = Response::builder()
        .status(302)
        .header(http::header::LOCATION, location)
        .header(http::header::CACHE_CONTROL, "no-store")
        .header(http::header::REFERRER_POLICY, "no-referrer");
    for cookie in cookies {
        builder = builder.header(http::header::SET_COOKIE, cookie);
    }
    builder
        .body(Body::Empty)
        .unwrap_or_else(|_| Response::new(Body::Empty))
}

fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// The double-submit CSRF cookie of the confirmation form.
pub const CSRF_COOKIE: &str = "device_csrf";
/// The cookie that binds the Cognito sign-in to the browser that approved (RFC 6749 §10.12).
pub const BINDING_COOKIE: &str = "device_binding";

/// `Set-Cookie` for `name`: `HttpOnly`, `SameSite=Lax` (it must ride along on Cognito's
/// top-level redirect back to the callback), and `Secure` with the `__Host-` prefix on https.
pub fn set_cookie(config: &DeviceConfig, name: &str, value: &str, max_age: u64) -> String {
    let (prefix, secure) = if config.secure_cookies() {
        ("__Host-", "; Secure")
    } else {
        ("", "")
    };
    format!("{prefix}{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
}

/// The value of cookie `name` (with the prefix [`set_cookie`] uses), if the request has one.
pub fn cookie(config: &DeviceConfig, req: &Request, name: &str) -> Option<String> {
    let full = if config.secure_cookies() {
        format!("__Host-{name}")
    } else {
        name.to_owned()
    };
    req.headers()
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == full)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// `2026-11-28 23:59 UTC`, from epoch milliseconds.
pub fn utc_time(ms: u64) -> String {
    let t = portal_auth_domain::UtcDateTime::from_unix(ms / 1000);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year, t.month, t.day, t.hour, t.minute
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_time_formats_known_instants() {
        assert_eq!(utc_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_time(1_795_910_400_000), "2026-11-29 00:00 UTC");
        assert_eq!(
            utc_time(951_782_400_000 + 3_660_000),
            "2000-02-29 01:01 UTC"
        );
    }

    #[test]
    fn origin_strips_the_path() {
        assert_eq!(
            origin("https://x.auth.eu-west-1.amazoncognito.com"),
            "https://x.auth.eu-west-1.amazoncognito.com"
        );
        assert_eq!(
            origin("http://127.0.0.1:9229/path"),
            "http://127.0.0.1:9229"
        );
    }
}
