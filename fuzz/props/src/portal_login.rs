//! Target `portal_login`: what `portal-login` reads from a server it is pointed at — the
//! RFC 8414 metadata ([`oauth::read_metadata`]), the device authorization response
//! ([`oauth::read_device_authorization`]), the token response and OAuth error bodies
//! ([`oauth::read_body`]) — and its terminal-text sanitizer ([`ui::printable`]).
//!
//! Properties: never a panic; only a 2xx is a success; the endpoints and verification URIs a
//! success yields are URLs held to the transport rule; the text an error puts on the terminal
//! (its `Display`, the OAuth `error` code) carries no control character, bidi control or
//! invisible format character ([`hidden`]); and [`ui::printable`] removes those, keeping
//! letters, digits, ASCII punctuation and spaces in order, and adds nothing.

use portal_login::config::{BaseUrl, check_transport};
use portal_login::oauth::{self, ServerError, TokenResponse};
use portal_login::ui;

const BASE: &str = "https://portal.test/prod";
const STATUSES: [u16; 12] = [200, 201, 204, 302, 400, 401, 403, 404, 429, 500, 502, 503];

/// Characters that must never reach the terminal from a server: C0, DEL and C1 controls; the
/// bidi embeddings, overrides, isolates and marks (the Trojan Source set, CVE-2021-42574);
/// zero-width and tag characters, which hide text; the line and paragraph separators.
pub fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{061C}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'
                | '\u{FEFF}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{E0001}'
                | '\u{E0020}'..='\u{E007F}'
        )
}

/// The first byte picks the document, the second the HTTP status; the rest is the body (or,
/// for the sanitizer, the text).
pub fn check_portal_login(data: &[u8]) {
    let [which, status, body @ ..] = data else {
        return;
    };
    let status = STATUSES[usize::from(*status) % STATUSES.len()];
    let url = format!("{BASE}/device/code");
    match which % 4 {
        0 => {
            let base = BaseUrl::parse(BASE).expect("the fixed base URL");
            let url = format!("{BASE}{}", oauth::WELL_KNOWN);
            match oauth::read_metadata(&base, &url, status, body) {
                Ok(endpoints) => {
                    assert!((200..300).contains(&status));
                    let mut all = vec![&endpoints.device_authorization, &endpoints.token];
                    all.extend(endpoints.revocation.as_ref());
                    for endpoint in all {
                        let parsed = url::Url::parse(endpoint).expect("an endpoint is a URL");
                        assert!(check_transport(&parsed).is_ok(), "{endpoint:?}");
                    }
                }
                Err(e) => check_error(&e),
            }
        }
        1 => match oauth::read_device_authorization(&url, status, body) {
            Ok(answer) => {
                assert!((200..300).contains(&status));
                let mut uris = vec![&answer.verification_uri];
                uris.extend(answer.verification_uri_complete.as_ref());
                for uri in uris {
                    let parsed = url::Url::parse(uri).expect("a verification URI is a URL");
                    assert!(matches!(parsed.scheme(), "http" | "https"), "{uri:?}");
                }
            }
            Err(e) => check_error(&e),
        },
        2 => match oauth::read_body::<TokenResponse>(&url, status, body) {
            Ok(_) => assert!((200..300).contains(&status)),
            Err(e) => check_error(&e),
        },
        _ => {
            let text = String::from_utf8_lossy(body);
            let shown = ui::printable(&text);
            assert!(
                !shown.chars().any(hidden),
                "printable let through {:?}",
                shown.chars().filter(|c| hidden(*c)).collect::<String>()
            );
            // Letters, digits, ASCII punctuation and spaces all survive, in order (other
            // characters it may drop: it removes all of Unicode's format characters).
            let visible = |c: &char| c.is_alphanumeric() || c.is_ascii_graphic() || *c == ' ';
            let kept: String = text.chars().filter(visible).collect();
            let shown_visible: String = shown.chars().filter(visible).collect();
            assert_eq!(shown_visible, kept, "printable dropped visible text");
            let mut rest = text.chars();
            assert!(
                shown.chars().all(|c| rest.any(|t| t == c)),
                "printable added or reordered text"
            );
            assert_eq!(ui::printable(&shown), shown, "printable is not idempotent");
        }
    }
}

fn check_error(e: &ServerError) {
    let shown = e.to_string();
    assert!(
        !shown.chars().any(hidden),
        "an error puts {:?} on the terminal: {shown:?}",
        shown.chars().filter(|c| hidden(*c)).collect::<String>()
    );
    if let ServerError::OAuth { status, error, .. } = e {
        assert!((400..500).contains(status));
        assert!(!error.chars().any(hidden));
    }
}
