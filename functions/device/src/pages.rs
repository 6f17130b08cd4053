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

use portal_auth_domain::{DeviceCodeHash, Secret, UserCode};

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
    /// Set when the browser is on another network than the device and the client's policy is
    /// not `allow`: the page names both addresses, and Approve needs the confirmation box
    /// (`confirm`) or is not offered (`deny`).
    pub remote: Option<RemoteNotice<'a>>,
}

/// The remote-approval warning of the confirmation page.
pub struct RemoteNotice<'a> {
    pub device_ip: &'a str,
    pub browser_ip: &'a str,
    /// The client's policy refuses remote approvals: no Approve button.
    pub refused: bool,
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
    remote: &'a Option<RemoteNotice<'a>>,
    approvable: bool,
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

/// The confirmation page, whose form carries `csrf`; refreshes the browser's CSRF secret
/// cookie (`browser_secret`) for as long as a code lives.
pub fn confirm(
    config: &DeviceConfig,
    view: &Confirmation<'_>,
    csrf: &str,
    browser_secret: &str,
) -> Response<Body> {
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
        device_user_agent: &claimed(view.device_user_agent),
        remote: &view.remote,
        approvable: !view.remote.as_ref().is_some_and(|r| r.refused),
    };
    let cookie = set_cookie(config, CSRF_COOKIE, browser_secret, 900);
    html(config, 200, page.render(), &[cookie])
}

/// The longest device self-description shown: enough to tell `portal-login/1.4 (linux)` from
/// `python-requests`, too short to hold a paragraph that reads like the service's own words.
const MAX_CLAIMED_CHARS: usize = 48;

/// What the device says it is, cut to [`MAX_CLAIMED_CHARS`]: the page shows it as a quoted,
/// unverified claim (issue 9, item 5), never as a fact.
fn claimed(user_agent: &str) -> String {
    let mut chars = user_agent.chars();
    let shown: String = chars.by_ref().take(MAX_CLAIMED_CHARS).collect();
    if chars.next().is_some() {
        format!("{shown}…")
    } else {
        shown
    }
}

/// Whether a message page links back to code entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// Offer to start again at the code-entry page.
    Retry,
    /// Nothing more to do here (a decision was made, or only the device can start again).
    Done,
}

/// Every message page the person can see: its status, title, sentence and what comes next,
/// named once here so handlers say which, not how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// A method the verification page does not serve.
    VerifyMethodNotAllowed,
    /// A page this service does not serve (the portal dialect's, when it is off).
    NotFound,
    /// A method the callback does not serve.
    CallbackMethodNotAllowed,
    /// A form that could not be read, with the status its parser gave.
    Unreadable(u16),
    /// The CSRF check failed: missing, wrong or another code's token.
    FormExpired,
    /// Neither Approve nor Deny was pressed.
    ChooseDecision,
    /// A cross-site subresource request (an `<img>` on someone else's page).
    CrossSite,
    /// A remote Approve without the confirmation that the person controls the remote machine.
    RemoteNotConfirmed,
    /// A remote Approve for a client whose policy refuses remote approvals.
    RemoteRefused,
    /// The IP's code-entry attempts are spent (RFC 8628 §5.1).
    TooManyAttempts,
    /// The person pressed Deny.
    Denied,
    /// Cognito answered the sign-in with an error.
    SignInCancelled,
    /// The callback bound the sign-in: the device can collect its tokens.
    SignedIn,
    /// A replayed, forged, expired or another browser's callback.
    InvalidCallback,
    /// DynamoDB or Cognito failed while the verification page was served.
    VerifyUnavailable,
    /// DynamoDB failed while the callback was served.
    CallbackUnavailable,
}

impl Message {
    fn content(self) -> (u16, &'static str, &'static str, Next) {
        use Message::*;
        use Next::*;
        match self {
            VerifyMethodNotAllowed => (405, "Not allowed", "Use the page's buttons.", Retry),
            NotFound => (
                404,
                "Page not found",
                "There is no page here. Enter the code from your device instead.",
                Retry,
            ),
            CallbackMethodNotAllowed => (405, "Not allowed", "Start again from your device.", Done),
            Unreadable(status) => (
                status,
                "Something is off",
                "That request could not be read. Start again from the code on your device.",
                Retry,
            ),
            FormExpired => (
                403,
                "Please try again",
                "This form expired or did not come from this page. Open the link or enter the code again.",
                Retry,
            ),
            ChooseDecision => (
                400,
                "Choose Approve or Deny",
                "Open the link or enter the code again.",
                Retry,
            ),
            CrossSite => (
                403,
                "Open this page directly",
                "This page cannot be loaded from another site. Open the link or enter the code yourself.",
                Retry,
            ),
            RemoteNotConfirmed => (
                400,
                "Confirm the remote machine",
                "The device is on another network than you. Approve only if you started this sign-in on a remote machine that you control, and tick the box that says so. If you did not start it, choose Deny.",
                Retry,
            ),
            RemoteRefused => (
                403,
                "Approval from another network is not allowed",
                "This application only accepts approvals from the network the device is on: someone far away may have sent you this code. Nothing was approved. Approve from the device's network, or ignore the code.",
                Done,
            ),
            TooManyAttempts => (
                429,
                "Too many attempts",
                "Too many codes were tried from your network. Wait a few minutes, then try again.",
                Done,
            ),
            Denied => (
                200,
                "Device denied",
                "The device was not signed in. You can close this page.",
                Done,
            ),
            SignInCancelled => (
                200,
                "Sign-in cancelled",
                "The device was not signed in. You can close this page.",
                Done,
            ),
            SignedIn => (
                200,
                "Device signed in",
                "You are signed in on your device. Return to it; you can close this page.",
                Done,
            ),
            InvalidCallback => (
                400,
                "This sign-in link is not valid",
                "It was used already, has expired, or was opened in a different browser from the one that approved. Start again from your device.",
                Done,
            ),
            VerifyUnavailable => (
                503,
                "Please try again",
                "The service is busy. Try again in a moment.",
                Retry,
            ),
            CallbackUnavailable => (
                503,
                "Please try again",
                "The service is busy. Reload this page in a moment.",
                Done,
            ),
        }
    }
}

/// The page of `message`, setting `cookies`.
pub fn message(config: &DeviceConfig, message: Message, cookies: &[String]) -> Response<Body> {
    let (status, title, text, next) = message.content();
    let link = config.verification_uri();
    let page = MessagePage {
        title,
        css: CSS,
        text,
        link: (next == Next::Retry).then_some(link.as_str()),
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
    let mut builder = with_transport_security(config, Response::builder())
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

/// `Strict-Transport-Security` on every page served over https (a year; no
/// `includeSubDomains`: the API's host may share a parent domain with other services).
fn with_transport_security(
    config: &DeviceConfig,
    builder: http::response::Builder,
) -> http::response::Builder {
    if config.secure_cookies() {
        builder.header(http::header::STRICT_TRANSPORT_SECURITY, "max-age=31536000")
    } else {
        builder
    }
}

/// A 302 to `location`, setting `cookies`, with the pages' headers.
pub fn redirect(config: &DeviceConfig, location: &str, cookies: &[String]) -> Response<Body> {
    let mut builder = with_transport_security(config, Response::builder())
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

/// The browser's CSRF secret: one per browser, reused across tabs, so confirmation pages
/// for two codes open side by side both stay valid. The form carries [`csrf_token`], the
/// secret bound to one user code, so a token of one grant cannot decide another.
pub const CSRF_COOKIE: &str = "device_csrf";
/// The prefix of the cookies that bind a Cognito sign-in to the browser that approved it
/// (RFC 6749 §10.12): one cookie per grant, named by its short reference, so approving two
/// codes in one browser keeps both sign-ins bound.
const BINDING_COOKIE_PREFIX: &str = "device_binding_";
/// At most this many binding cookies are kept in one browser; an approve beyond it expires
/// the oldest (each is ~90 bytes: the request's Cookie header stays small).
pub const MAX_BINDING_COOKIES: usize = 4;
/// Longest cookie value read back: every value set here is 43 characters.
const MAX_COOKIE_VALUE: usize = 128;

/// The name of `grant`'s binding cookie.
pub fn binding_cookie(grant: &DeviceCodeHash) -> String {
    format!("{BINDING_COOKIE_PREFIX}{}", grant.short())
}

/// The confirmation form's CSRF field for `user_code`: the browser secret bound to that code
/// (SHA-256 over both, base64url). Checked with [`csrf_matches`].
pub fn csrf_token(browser_secret: &str, user_code: &UserCode) -> String {
    use sha2::Digest;
    let mut digest = sha2::Sha256::new();
    digest.update(b"portal-auth csrf v1\0");
    digest.update(browser_secret.as_bytes());
    digest.update(b"\0");
    digest.update(user_code.normalized().as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.finalize())
}

/// Whether `field` is the CSRF token of `user_code` for this browser's secret (constant time).
pub fn csrf_matches(browser_secret: &str, user_code: &UserCode, field: &str) -> bool {
    Secret::new(csrf_token(browser_secret, user_code)).matches(field)
}

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

/// The request's cookies as (name without the `__Host-` prefix on https, value), in the
/// order the browser sent them (oldest first, RFC 6265 §5.4). Values that are empty or
/// longer than any value set here are dropped.
fn cookies<'r>(
    config: &DeviceConfig,
    req: &'r Request,
) -> impl Iterator<Item = (&'r str, &'r str)> {
    pairs(config, req).filter(|(_, v)| usable(v))
}

/// Whether a cookie value could be one set here: not empty, not longer than any set.
fn usable(value: &str) -> bool {
    !value.is_empty() && value.len() <= MAX_COOKIE_VALUE
}

/// Every cookie of the request, as [`cookies`] names them, whatever its value.
fn pairs<'r>(config: &DeviceConfig, req: &'r Request) -> impl Iterator<Item = (&'r str, &'r str)> {
    let secure = config.secure_cookies();
    req.headers()
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter_map(move |(k, v)| {
            let k = if secure {
                k.strip_prefix("__Host-")?
            } else {
                k
            };
            Some((k, v))
        })
}

/// The value of cookie `name` (with the prefix [`set_cookie`] uses), if the request has it
/// exactly once. Twice (any values) reads as absent: this service sets each name once, for
/// `Path=/` on its own host, so a second one was set elsewhere (another path, a parent domain:
/// cookie tossing) and neither is trusted — as a query parameter given twice is not.
pub fn cookie(config: &DeviceConfig, req: &Request, name: &str) -> Option<String> {
    let mut named = pairs(config, req).filter(|(k, _)| *k == name);
    let (_, value) = named.next()?;
    if named.next().is_some() || !usable(value) {
        return None;
    }
    Some(value.to_owned())
}

/// `Set-Cookie` lines that expire the oldest binding cookies the request carries, so that
/// with one more set there are at most [`MAX_BINDING_COOKIES`].
pub fn expire_old_bindings(config: &DeviceConfig, req: &Request) -> Vec<String> {
    let held: Vec<&str> = cookies(config, req)
        .map(|(k, _)| k)
        .filter(|k| k.starts_with(BINDING_COOKIE_PREFIX))
        .collect();
    let excess = (held.len() + 1).saturating_sub(MAX_BINDING_COOKIES);
    held.iter()
        .take(excess)
        .map(|name| set_cookie(config, name, "", 0))
        .collect()
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
    fn claimed_software_is_cut_and_marked() {
        assert_eq!(claimed("portal-login/1.0"), "portal-login/1.0");
        let long = "portal-login/1.0 (Verified by IT Security - safe to approve, really)";
        let shown = claimed(long);
        assert_eq!(shown.chars().count(), MAX_CLAIMED_CHARS + 1);
        assert!(shown.ends_with('…'));
    }

    #[test]
    fn csrf_tokens_are_bound_to_the_code_and_the_browser() {
        let a = UserCode::parse("BCDF-GHJK").unwrap();
        let b = UserCode::parse("BCDF-GHJL").unwrap();
        let token = csrf_token("secret", &a);
        assert!(csrf_matches("secret", &a, &token));
        assert!(!csrf_matches("secret", &b, &token));
        assert!(!csrf_matches("other", &a, &token));
    }

    fn config(base: &str) -> DeviceConfig {
        let env = portal_auth_runtime::Env::from_pairs([
            ("TABLE_NAME", "grants"),
            ("PUBLIC_BASE_URL", base),
            ("COGNITO_USER_POOL_ID", "eu-west-1_AbC123"),
            (
                "COGNITO_DOMAIN",
                "https://x.auth.eu-west-1.amazoncognito.com",
            ),
            ("DEVICE_CLIENT_IDS", "client1"),
        ]);
        DeviceConfig::from_env(&env).unwrap()
    }

    fn with_cookies(headers: &[&str]) -> Request {
        let mut builder = http::Request::builder().uri("https://x/device");
        for h in headers {
            builder = builder.header(http::header::COOKIE, *h);
        }
        builder.body(Body::Empty).unwrap()
    }

    #[test]
    fn a_cookie_sent_twice_is_not_resolved_to_one() {
        // Found by the `cookies` fuzz property (fuzz/regressions/cookies): the first of two same-named cookies
        // was taken. Two can only come from a cookie set for another path or a parent
        // domain (cookie tossing), so neither is trusted.
        for base in ["http://127.0.0.1:9000", "https://api.example/prod"] {
            let c = config(base);
            let name = if c.secure_cookies() {
                "__Host-device_csrf"
            } else {
                "device_csrf"
            };
            let one = with_cookies(&[&format!("{name}=a; other=b")]);
            assert_eq!(cookie(&c, &one, CSRF_COOKIE).as_deref(), Some("a"));
            for twice in [
                with_cookies(&[&format!("{name}=a; {name}=b")]),
                with_cookies(&[&format!("{name}=a"), &format!("{name}=b")]),
                with_cookies(&[&format!("{name}=; {name}=b")]),
            ] {
                assert_eq!(cookie(&c, &twice, CSRF_COOKIE), None, "{base}");
            }
        }
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
