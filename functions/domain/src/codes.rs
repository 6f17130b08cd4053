//! The grant's codes and the randomness behind them.
//!
//! - `device_code` (RFC 8628 §3.2, §5.2): 256 bits from the OS CSPRNG, base64url
//!   ([`DeviceCodeFormat::Opaque`]); in the portal dialect a UUIDv4, 122 bits from the same
//!   CSPRNG ([`DeviceCodeFormat::Uuid`]), because the portal's clients check that format. Only
//!   its SHA-256 ([`DeviceCodeHash`]) is stored, so a read of the table yields no redeemable
//!   code. A plain hash is enough: 122 or 256 bits of entropy leave nothing to brute-force.
//! - `user_code` (§6.1): 8 characters of the base-20 alphabet `BCDFGHJKLMNPQRSTVWXZ` (no vowels:
//!   no words; no digits: no look-alikes), ≈34.6 bits, shown `XXXX-XXXX`. Generate, normalize
//!   and format are separate small functions, as in node-oidc-provider.
//!
//! Neither code's `Debug` prints it, so a stray `{:?}` cannot leak one into a log.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use std::fmt;

/// The user-code alphabet of RFC 8628 §6.1.
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Characters in a user code, without the dash.
pub const USER_CODE_LEN: usize = 8;
/// Bytes of CSPRNG output in a device code.
const DEVICE_CODE_BYTES: usize = 32;

/// The OS CSPRNG failed. Nothing sensible can be issued without it: fail closed.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed: {0}")]
pub struct RandomnessUnavailable(String);

/// Fills `dest` from the OS CSPRNG.
pub fn random_bytes(dest: &mut [u8]) -> Result<(), RandomnessUnavailable> {
    getrandom::fill(dest).map_err(|e| RandomnessUnavailable(e.to_string()))
}

/// `n` random bytes as base64url without padding: for `state`, CSRF tokens, cookies, PKCE.
pub fn random_token(n: usize) -> Result<String, RandomnessUnavailable> {
    let mut bytes = vec![0u8; n];
    random_bytes(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// SHA-256 of `secret`, lower-case hex: how secrets are stored and compared by key.
pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The shapes of device code a grant can be issued with; each dialect hands out one and
/// accepts only that one back ([`crate::Dialect::device_code_format`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceCodeFormat {
    /// 43 base64url characters, 256 bits.
    Opaque,
    /// A version 4 UUID, lower-case and hyphenated (RFC 9562 §5.4), 122 random bits.
    Uuid,
}

impl DeviceCodeFormat {
    pub fn generate(self) -> Result<DeviceCode, RandomnessUnavailable> {
        match self {
            DeviceCodeFormat::Opaque => DeviceCode::generate(),
            DeviceCodeFormat::Uuid => DeviceCode::generate_uuid(),
        }
    }

    /// `raw` as a device code of this format; `None` for any other shape.
    pub fn parse(self, raw: &str) -> Option<DeviceCode> {
        match self {
            DeviceCodeFormat::Opaque => DeviceCode::parse(raw),
            DeviceCodeFormat::Uuid => DeviceCode::parse_uuid(raw),
        }
    }
}

/// A device code as handed to the device. Never stored; never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceCode(String);

impl DeviceCode {
    pub fn generate() -> Result<Self, RandomnessUnavailable> {
        random_token(DEVICE_CODE_BYTES).map(Self)
    }

    /// A random (version 4) UUID: 16 bytes from the CSPRNG with the version and variant bits
    /// set (RFC 9562 §5.4), so 122 of its bits are random.
    pub fn generate_uuid() -> Result<Self, RandomnessUnavailable> {
        let mut b = [0u8; 16];
        random_bytes(&mut b)?;
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h = hex::encode(b);
        Ok(Self(format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )))
    }

    /// Accepts only what [`generate_uuid`](Self::generate_uuid) produces: a hyphenated version 4
    /// UUID of the RFC 9562 variant. Upper-case hex is read as its lower-case canonical form
    /// (RFC 9562 §4: case-insensitive on input), which is what is hashed and stored.
    pub fn parse_uuid(raw: &str) -> Option<Self> {
        let canonical = raw.to_ascii_lowercase();
        let b = canonical.as_bytes();
        let shaped = b.len() == 36
            && b.iter().enumerate().all(|(i, c)| match i {
                8 | 13 | 18 | 23 => *c == b'-',
                _ => c.is_ascii_hexdigit(),
            });
        let versioned = shaped && b[14] == b'4' && matches!(b[19], b'8' | b'9' | b'a' | b'b');
        versioned.then_some(Self(canonical))
    }

    /// Accepts only the shape [`generate`](Self::generate) produces (43 base64url characters):
    /// anything else cannot name a grant, and is refused before it reaches storage.
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = raw.len() == 43
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(raw.to_owned()))
    }

    /// The secret itself, to put in the response to the device and nowhere else.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> DeviceCodeHash {
        DeviceCodeHash(sha256_hex(&self.0))
    }

    /// The PKCE verifier (RFC 7636) of this grant's sign-in leg at Cognito: 43 characters,
    /// derived from the device code under its own label, so only the device, presenting its
    /// code at poll time, can produce it. The grant stores only the S256
    /// [`pkce_challenge`](Self::pkce_challenge), and the stored key is a hash under another
    /// label, so nothing in the table yields the verifier (issue 9, item 3).
    pub fn pkce_verifier(&self) -> Secret {
        let mut digest = Sha256::new();
        digest.update(PKCE_VERIFIER_LABEL);
        digest.update(self.0.as_bytes());
        Secret(URL_SAFE_NO_PAD.encode(digest.finalize()))
    }

    /// `BASE64URL(SHA256(verifier))`: the `code_challenge` sent with `code_challenge_method=S256`.
    pub fn pkce_challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(
            self.pkce_verifier().expose_secret().as_bytes(),
        ))
    }
}

/// Domain separation between the stored key (`SHA256(code)`) and the PKCE verifier.
const PKCE_VERIFIER_LABEL: &[u8] = b"portal-auth pkce-verifier v1\0";

impl fmt::Debug for DeviceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeviceCode(<redacted>)")
    }
}

/// SHA-256 of a device code, hex: the grant's storage key. Safe to log in short form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceCodeHash(String);

impl DeviceCodeHash {
    /// Rebuilds a hash read back from storage; `None` unless it is 64 lower-case hex digits.
    pub fn from_stored(hex: &str) -> Option<Self> {
        let ok = hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then(|| Self(hex.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 8 hex digits: enough to correlate log lines, useless to an attacker.
    pub fn short(&self) -> &str {
        &self.0[..8]
    }
}

/// A user code, normalized: exactly 8 characters of [`USER_CODE_ALPHABET`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UserCode(String);

impl UserCode {
    /// Uniformly random over the alphabet: rejection sampling keeps `% 20` unbiased.
    pub fn generate() -> Result<Self, RandomnessUnavailable> {
        let mut code = String::with_capacity(USER_CODE_LEN);
        let mut pool = [0u8; 32];
        while code.len() < USER_CODE_LEN {
            random_bytes(&mut pool)?;
            for b in pool.iter().copied().filter(|b| *b < 240) {
                if code.len() == USER_CODE_LEN {
                    break;
                }
                code.push(USER_CODE_ALPHABET[usize::from(b % 20)] as char);
            }
        }
        Ok(Self(code))
    }

    /// What a person typed: upper-cased, stripped of dashes and white space. Anything else
    /// outside the alphabet (vowels, digits, punctuation) is refused rather than dropped, so a
    /// typo is reported instead of silently matching another code.
    pub fn parse(input: &str) -> Option<Self> {
        if input.len() > 64 {
            return None;
        }
        let mut code = String::with_capacity(USER_CODE_LEN);
        for c in input.chars() {
            if c == '-' || c.is_whitespace() {
                continue;
            }
            let upper = c.to_ascii_uppercase();
            if !upper.is_ascii() || !USER_CODE_ALPHABET.contains(&(upper as u8)) {
                return None;
            }
            code.push(upper);
        }
        (code.len() == USER_CODE_LEN).then_some(Self(code))
    }

    /// The normalized form, as stored: `BDFGHJKL`.
    pub fn normalized(&self) -> &str {
        &self.0
    }

    /// The form shown to people: `BDFG-HJKL`.
    pub fn formatted(&self) -> String {
        format!("{}-{}", &self.0[..4], &self.0[4..])
    }
}

impl fmt::Debug for UserCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserCode(<redacted>)")
    }
}

/// A secret string the service must keep but never print: a PKCE verifier, an
/// authorization code, a cookie value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// SHA-256, hex: what is stored when only a later match is needed.
    pub fn hash(&self) -> String {
        sha256_hex(&self.0)
    }

    /// Constant-time equality with `presented`, by digest (length does not show either).
    pub fn matches(&self, presented: &str) -> bool {
        use subtle::ConstantTimeEq;
        let a = Sha256::digest(self.0.as_bytes());
        let b = Sha256::digest(presented.as_bytes());
        a.as_slice().ct_eq(b.as_slice()).into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The OAuth `state` sent to Cognito on approve: base64url of the grant's key (32 bytes) and
/// 128 random bits. The callback finds the grant from it without a lookup, and the grant
/// stores only its hash, so a `state` cannot be forged from the key alone. base64url because
/// it travels through Cognito's (and cognito-local's) login page.
#[derive(Clone, PartialEq, Eq)]
pub struct CallbackState(String);

impl CallbackState {
    pub fn new(grant: &DeviceCodeHash) -> Result<Self, RandomnessUnavailable> {
        let mut bytes = hex::decode(grant.as_str()).unwrap_or_default();
        let mut nonce = [0u8; 16];
        random_bytes(&mut nonce)?;
        bytes.extend_from_slice(&nonce);
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Accepts only the shape [`new`](Self::new) produces.
    pub fn parse(raw: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
        (bytes.len() == 48).then(|| Self(raw.to_owned()))
    }

    /// The grant this state was issued for (not proof of anything: compare [`hash`](Self::hash)).
    pub fn grant(&self) -> DeviceCodeHash {
        let bytes = URL_SAFE_NO_PAD.decode(&self.0).unwrap_or_default();
        DeviceCodeHash(hex::encode(&bytes[..32.min(bytes.len())]))
    }

    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> String {
        sha256_hex(&self.0)
    }
}

impl fmt::Debug for CallbackState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallbackState(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn pkce_verifiers_are_43_unreserved_characters_with_an_s256_challenge() {
        let code = DeviceCode::generate().unwrap();
        let (verifier, challenge) = (code.pkce_verifier(), code.pkce_challenge());
        assert_eq!(verifier.expose_secret().len(), 43);
        assert!(
            verifier
                .expose_secret()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.expose_secret().as_bytes()));
        assert_eq!(challenge, expected);
        assert_eq!(format!("{verifier:?}"), "Secret(<redacted>)");
        // Derived again from the same code, never from what is stored.
        assert_eq!(code.pkce_verifier(), verifier);
        assert_ne!(verifier.expose_secret(), code.expose_secret());
        assert_ne!(verifier.hash(), code.hash().as_str());
        let other = DeviceCode::generate().unwrap();
        assert_ne!(other.pkce_verifier(), verifier);
    }

    #[test]
    fn callback_state_names_its_grant_and_nothing_else_parses() {
        let grant = DeviceCode::generate().unwrap().hash();
        let state = CallbackState::new(&grant).unwrap();
        assert_eq!(state.expose_secret().len(), 64);
        let parsed = CallbackState::parse(state.expose_secret()).unwrap();
        assert_eq!(parsed.grant(), grant);
        assert_ne!(CallbackState::new(&grant).unwrap(), state);
        for bad in ["", "abc", &"A".repeat(65), "<script>"] {
            assert!(CallbackState::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn device_codes_carry_256_bits_and_never_print() {
        let code = DeviceCode::generate().unwrap();
        assert_eq!(code.expose_secret().len(), 43);
        assert_eq!(DeviceCode::parse(code.expose_secret()), Some(code.clone()));
        assert_eq!(format!("{code:?}"), "DeviceCode(<redacted>)");
        assert_ne!(DeviceCode::generate().unwrap(), code);
        assert_eq!(code.hash().as_str().len(), 64);
        assert!(DeviceCodeHash::from_stored(code.hash().as_str()).is_some());
    }

    #[test]
    fn uuid_device_codes_are_version_4_and_round_trip() {
        let mut seen = HashSet::new();
        for _ in 0..100 {
            let code = DeviceCode::generate_uuid().unwrap();
            let raw = code.expose_secret();
            assert_eq!(raw.len(), 36);
            assert_eq!(&raw[14..15], "4", "{raw}");
            assert!(matches!(&raw[19..20], "8" | "9" | "a" | "b"), "{raw}");
            assert_eq!(DeviceCode::parse_uuid(raw), Some(code.clone()));
            assert_eq!(
                DeviceCode::parse_uuid(&raw.to_ascii_uppercase()),
                Some(code.clone()),
                "upper case reads as the canonical form"
            );
            // One format is never accepted as the other.
            assert!(DeviceCode::parse(raw).is_none());
            assert!(DeviceCodeFormat::Uuid.parse(raw).is_some());
            assert!(DeviceCodeFormat::Opaque.parse(raw).is_none());
            seen.insert(raw.to_owned());
        }
        assert_eq!(seen.len(), 100);
        let opaque = DeviceCode::generate().unwrap();
        assert!(DeviceCode::parse_uuid(opaque.expose_secret()).is_none());
    }

    #[test]
    fn uuid_parse_refuses_other_shapes() {
        for bad in [
            "",
            "not-a-uuid",
            "00000000-0000-0000-0000-000000000000",
            "0f8fad5b-d9cb-169d-a8d3-1a2b3c4d5e6f",
            "0f8fad5b-d9cb-469d-c8d3-1a2b3c4d5e6f",
            "0f8fad5bd9cb469da8d31a2b3c4d5e6f",
            "{0f8fad5b-d9cb-469d-a8d3-1a2b3c4d5e6f}",
            "0f8fad5b-d9cb-469d-a8d3-1a2b3c4d5e6g",
            "0f8fad5b-d9cb-469d-a8d3-1a2b3c4d5e6f ",
            "0f8fad5b-d9cb-469d-a8d3-1a2b3c4d5e6\u{e9}",
        ] {
            assert!(DeviceCode::parse_uuid(bad).is_none(), "{bad:?}");
        }
        assert!(DeviceCode::parse_uuid("0f8fad5b-d9cb-469d-a8d3-1a2b3c4d5e6f").is_some());
    }

    #[test]
    fn device_code_parse_refuses_other_shapes() {
        for bad in [
            "",
            "short",
            &"a".repeat(44),
            &format!("{}=", "a".repeat(42)),
        ] {
            assert!(DeviceCode::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn user_codes_use_only_the_alphabet_and_spread_over_it() {
        let mut seen = HashSet::new();
        for _ in 0..200 {
            let code = UserCode::generate().unwrap();
            assert_eq!(code.normalized().len(), 8);
            assert!(
                code.normalized()
                    .bytes()
                    .all(|b| USER_CODE_ALPHABET.contains(&b))
            );
            seen.extend(code.normalized().chars());
        }
        // 1,600 draws from 20 letters: missing one by chance has odds below 1e-30.
        assert_eq!(seen.len(), 20);
    }

    #[test]
    fn parse_normalizes_case_dashes_and_spaces() {
        let code = UserCode::parse(" bdfg-hjkl ").unwrap();
        assert_eq!(code.normalized(), "BDFGHJKL");
        assert_eq!(code.formatted(), "BDFG-HJKL");
        assert_eq!(UserCode::parse("BD FG HJ KL"), Some(code.clone()));
        assert_eq!(UserCode::parse("bdfghjkl"), Some(code));
    }

    #[test]
    fn parse_refuses_anything_outside_the_alphabet_or_of_the_wrong_length() {
        for bad in [
            "BDFG-HJKA",
            "BDFG-HJK1",
            "BDFG-HJK",
            "BDFG-HJKLM",
            "",
            "BDFG_HJKL",
            "ßDFGHJKL",
        ] {
            assert!(UserCode::parse(bad).is_none(), "{bad:?}");
        }
        assert!(UserCode::parse(&"-".repeat(100)).is_none());
    }

    #[test]
    fn user_codes_never_print() {
        let code = UserCode::parse("BDFGHJKL").unwrap();
        assert_eq!(format!("{code:?}"), "UserCode(<redacted>)");
    }
}
