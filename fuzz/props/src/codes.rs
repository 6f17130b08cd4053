//! Target `codes`: [`UserCode::parse`], [`DeviceCode::parse`], the UUID form
//! ([`DeviceCode::parse_uuid`], [`DeviceCodeFormat`]) and [`CallbackState::parse`].
//!
//! Property: whatever parses has a canonical form that parses back to the same code, and that
//! form is stable; the user code is exactly the input's letters, upper-cased; the two device
//! code formats never accept each other's codes.

use portal_auth_domain::codes::{USER_CODE_ALPHABET, USER_CODE_LEN};
use portal_auth_domain::{CallbackState, DeviceCode, DeviceCodeFormat, UserCode};

pub fn check_codes(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(code) = UserCode::parse(input) {
        let normalized = code.normalized();
        assert_eq!(normalized.len(), USER_CODE_LEN);
        assert!(normalized.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)));
        let letters: String = input
            .chars()
            .filter(|c| *c != '-' && !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        assert_eq!(letters, normalized, "the code is not the input's letters");
        let formatted = code.formatted();
        assert_eq!(UserCode::parse(&formatted).as_ref(), Some(&code));
        assert_eq!(UserCode::parse(normalized).as_ref(), Some(&code));
        assert_eq!(
            UserCode::parse(&formatted).map(|c| c.formatted()),
            Some(formatted)
        );
    }
    if let Some(code) = DeviceCode::parse(input) {
        assert_eq!(
            code.expose_secret(),
            input,
            "an opaque code is taken as sent"
        );
        assert_eq!(
            DeviceCode::parse(code.expose_secret()).as_ref(),
            Some(&code)
        );
        assert!(
            DeviceCode::parse_uuid(input).is_none(),
            "both formats accepted {input:?}"
        );
    }
    if let Some(code) = DeviceCode::parse_uuid(input) {
        let canonical = code.expose_secret();
        assert_eq!(canonical, input.to_ascii_lowercase());
        assert_eq!(DeviceCode::parse_uuid(canonical).as_ref(), Some(&code));
        assert_eq!(
            code.hash(),
            DeviceCode::parse_uuid(canonical).map(|c| c.hash()).unwrap()
        );
        assert!(
            DeviceCode::parse(canonical).is_none(),
            "both formats accepted {input:?}"
        );
    }
    for format in [DeviceCodeFormat::Opaque, DeviceCodeFormat::Uuid] {
        let direct = match format {
            DeviceCodeFormat::Opaque => DeviceCode::parse(input),
            DeviceCodeFormat::Uuid => DeviceCode::parse_uuid(input),
        };
        assert_eq!(format.parse(input), direct);
    }
    if let Some(state) = CallbackState::parse(input) {
        assert_eq!(state.expose_secret(), input);
        let grant = state.grant();
        assert_eq!(grant.as_str().len(), 64);
        assert!(portal_auth_domain::DeviceCodeHash::from_stored(grant.as_str()).is_some());
    }
}
