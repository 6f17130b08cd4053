//! Exit codes, and [`Failure`]: what a run that did not finish prints and exits with.
//!
//! Each code says how far the run got, so a script (or an operator reading a CI log) knows
//! whether to re-run: 1 and 3 changed nothing, 4 changed half, 0 changed everything. Re-running
//! after any of them is safe: both steps are idempotent.

use std::fmt;

/// The process exit codes, documented in `--help` ([`EXIT_CODES_HELP`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Both steps done.
    Done = 0,
    /// Failed before anything was recorded: configuration, credentials, the look-up, or the
    /// revocation write. Nothing changed.
    Failed = 1,
    /// Bad flags, or `--yes` missing: nothing was contacted (clap uses 2 for usage too).
    Usage = 2,
    /// No such user in the pool: nothing changed.
    NoSuchUser = 3,
    /// The revocation is recorded (the authorizer refuses the user's access tokens), but
    /// Cognito's global sign-out failed: refresh tokens still work at Cognito.
    Partial = 4,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// The exit-code table `--help` shows.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  done: the revocation is recorded and Cognito signed the user out
  1  failed before anything was recorded (credentials, look-up, table): nothing changed
  2  usage: bad flags, or no --yes (nothing was contacted)
  3  no such user in the pool: nothing changed
  4  half done: the revocation is recorded, Cognito's sign-out failed; re-run to finish";

/// Why a run stopped: one `error:` line, then what was and was not done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
    /// Steps completed before the failure, as sentences.
    pub done: Vec<String>,
    /// Steps not done, as sentences.
    pub not_done: Vec<String>,
}

impl Failure {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Self {
            exit,
            message: message.into(),
            done: Vec::new(),
            not_done: Vec::new(),
        }
    }

    pub fn done(mut self, step: impl Into<String>) -> Self {
        self.done.push(step.into());
        self
    }

    pub fn not_done(mut self, step: impl Into<String>) -> Self {
        self.not_done.push(step.into());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        for step in &self.done {
            write!(f, "\n  done:     {step}")?;
        }
        for step in &self.not_done {
            write!(f, "\n  NOT done: {step}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_lists_what_was_and_was_not_done() {
        let failure = Failure::new(Exit::Partial, "Cognito said no")
            .done("recorded")
            .not_done("signed out");
        assert_eq!(
            failure.to_string(),
            "error: Cognito said no\n  done:     recorded\n  NOT done: signed out"
        );
        assert_eq!(failure.exit.code(), 4);
    }

    #[test]
    fn the_help_table_lists_every_code() {
        for exit in [
            Exit::Done,
            Exit::Failed,
            Exit::Usage,
            Exit::NoSuchUser,
            Exit::Partial,
        ] {
            let line = format!("\n  {}  ", exit.code());
            assert!(EXIT_CODES_HELP.contains(&line), "{exit:?}");
        }
    }
}
