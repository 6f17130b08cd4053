//! The device authorization grant (RFC 8628) as plain data and rules: no HTTP, no AWS.
//!
//! - [`codes`]: the secrets of the grant: `device_code` (only its hash is stored), `user_code`
//!   (§6.1), and the CSPRNG every code comes from.
//! - [`dialect`]: the wire dialects a grant is spoken in (RFC 8628, the portal's), as data.
//! - [`grant`]: the grant's life (design.md, "The grant's life") and the verdict a poll gets.
//! - [`error`]: one OAuth error type, named after the wire codes of RFC 6749 §5.2 / RFC 8628
//!   §3.5, carrying its HTTP status; internal causes are kept for logs, never sent.
//! - [`proximity`]: whether the device and the approving browser share a network, and what a
//!   remote approval needs (the cross-device BCP's proximity check).
//! - [`revocation`]: revoked sessions and signed-out users, as the broker writes them and the
//!   authorizer reads them.
//! - [`scope`], [`client`]: parsed request parameters.
//! - [`clock`]: time as an injectable dependency, so expiry and `slow_down` are testable.

pub mod client;
pub mod clock;
pub mod codes;
pub mod dialect;
pub mod error;
pub mod grant;
pub mod proximity;
pub mod revocation;
pub mod scope;

pub use client::{ClientId, ClientSecret};
pub use clock::{Clock, ManualClock, Millis, SystemClock, UtcDateTime};
pub use codes::{CallbackState, DeviceCode, DeviceCodeFormat, DeviceCodeHash, Secret, UserCode};
pub use dialect::{Dialect, EarlyPoll};
pub use error::{ErrorCode, OAuthError};
pub use grant::{
    Approver, DEVICE_CODE_GRANT_TYPE, DeviceInfo, Grant, GrantRequest, GrantStatus, PollVerdict,
};
pub use proximity::{NetworkPrefixes, Proximity, RemoteApproval};
pub use scope::Scopes;
