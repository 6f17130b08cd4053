//! Exit codes and [`Failure`], the one error every command ends with.
//!
//! Each way a command can fail has its own documented exit code, so scripts can tell "log in
//! again" (3) from "the person said no" (4) from "the server is down" (6). `main` prints a
//! `Failure` as one `error:` line and an optional `hint:` line, never a backtrace, and exits
//! with its code. Messages never contain a token.

use std::fmt;

/// The process exit codes, documented in `--help` ([`EXIT_CODES_HELP`]) and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Anything not covered below: an unexpected answer from the server, a corrupt cache, I/O.
    Error = 1,
    /// Bad flags, or the URL / client id missing or malformed (clap uses 2 for usage too).
    Usage = 2,
    /// No usable session: never logged in, refresh token missing, expired or revoked.
    NotLoggedIn = 3,
    /// The person denied the request in the browser (`access_denied`).
    Denied = 4,
    /// The code expired before approval (`expired_token`) or is no longer valid (`invalid_grant`).
    Expired = 5,
    /// The server could not be reached, timed out, or answered with a server error.
    Unreachable = 6,
    /// The token cache is not private (mode, owner or file type): refused, not read.
    UnsafeCache = 7,
    /// Ctrl-C during `login`.
    Interrupted = 130,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// The exit-code table shown by `--help`, as a literal so `cli.rs` can `concat!` it.
#[macro_export]
#[doc(hidden)]
macro_rules! exit_codes_help {
    () => {
        "\
Exit codes:
  0    success
  1    unexpected error (the server's answer, a corrupt cache, I/O)
  2    usage: bad flags, URL or client id missing or malformed, bad config file
  3    not logged in, or the session expired or was revoked: run `portal-login login`
  4    login: the request was denied in the browser
  5    login: the code expired, or is no longer valid, before it was approved
  6    the server could not be reached or answered with a server error
  7    the token cache is readable by others or not yours: refused
  130  login: interrupted (Ctrl-C)"
    };
}

/// The exit-code table shown by `--help`.
pub const EXIT_CODES_HELP: &str = exit_codes_help!();

/// Why a command failed: what to print and which code to exit with.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
    pub hint: Option<String>,
}

impl Failure {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Self {
            exit,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_in_the_help_table_matches_the_enum() {
        for exit in [
            Exit::Error,
            Exit::Usage,
            Exit::NotLoggedIn,
            Exit::Denied,
            Exit::Expired,
            Exit::Unreachable,
            Exit::UnsafeCache,
            Exit::Interrupted,
        ] {
            let row = format!("\n  {:<4} ", exit.code());
            assert!(EXIT_CODES_HELP.contains(&row), "{exit:?} missing");
        }
    }

    #[test]
    fn a_failure_prints_its_message_and_hint() {
        let failure = Failure::new(Exit::NotLoggedIn, "not logged in").with_hint("log in");
        assert_eq!(failure.to_string(), "error: not logged in\nhint: log in");
    }
}
