//! `portal-signout`: the operator's "sign this user out everywhere" (issue 13), for a
//! compromised account or a leaver.
//!
//! Cognito's `AdminUserGlobalSignOut` invalidates a user's refresh tokens, but every access
//! token already issued stays valid on its own until its `exp` (up to a day). So the command
//! also records, in the stack's table, that the user's tokens authenticated until now are
//! revoked; the authorizer reads those records off its decision path and refuses such tokens
//! ([`portal_auth_domain::revocation`] has the layout; the device store's
//! [`GrantStore::revoke_user`](portal_auth_device::GrantStore::revoke_user) writes it, so this
//! crate is a thin layer over both). The record is written first: see [`signout`].
//!
//! Modules:
//!
//! - [`cli`]: flags and `--help`;
//! - [`outputs`]: the stack's outputs file (`describe-stacks --query 'Stacks[0].Outputs'`);
//! - [`target`]: the user, pool, table and regions a run acts on;
//! - [`aws`]: the SDK clients, from the operator's credentials and endpoint variables;
//! - [`signout`]: the three steps and their report;
//! - [`exit`]: exit codes, and the failure report (what was and was not done).
//!
//! Without `--yes` nothing is contacted: the command prints its plan and exits 2.

pub mod aws;
pub mod cli;
pub mod exit;
pub mod outputs;
pub mod signout;
pub mod target;

use std::io::Write;

use portal_auth_domain::Clock;

use crate::aws::Clients;
use crate::cli::Cli;
use crate::exit::{Exit, Failure};
use crate::target::Target;

/// The IAM actions a run needs (docs/operations.md, "Sign-out everywhere", grants them).
pub const IAM_ACTIONS: &[&str] = &[
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminUserGlobalSignOut",
    "dynamodb:UpdateItem",
];

/// What a run that stops before any request did not do.
pub(crate) const NOTHING_CONTACTED: &str = "any of the three steps (nothing was contacted)";

/// Runs the command, reporting on `out` (stderr in the binary); returns the exit code.
pub async fn run(cli: Cli, clock: &dyn Clock, out: &mut dyn Write) -> Exit {
    match execute(&cli, clock, out).await {
        Ok(()) => Exit::Done,
        Err(failure) => {
            say(out, &failure.to_string());
            failure.exit
        }
    }
}

async fn execute(cli: &Cli, clock: &dyn Clock, out: &mut dyn Write) -> Result<(), Failure> {
    let target = Target::from_cli(cli)
        .map_err(|message| Failure::new(Exit::Usage, message).not_done(NOTHING_CONTACTED))?;
    if !cli.yes {
        return Err(refusal(&target, out));
    }
    let clients = Clients::connect(&target, cli.profile.as_deref()).await?;
    signout::sign_out(&clients, &target, clock, out).await
}

/// Without `--yes`: the plan, and the failure that ends the run with exit 2.
fn refusal(target: &Target, out: &mut dyn Write) -> Failure {
    say(out, "with --yes, this command would:");
    for step in target.plan() {
        say(out, &format!("  {step}"));
    }
    Failure::new(
        Exit::Usage,
        "not confirmed: add --yes to sign this user out everywhere",
    )
    .not_done(NOTHING_CONTACTED)
}

/// One report line, prefixed with the command's name. A closed stderr is not an error.
pub(crate) fn say(out: &mut dyn Write, line: &str) {
    let _ = writeln!(out, "portal-signout: {line}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;
    use portal_auth_domain::ManualClock;

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("portal-signout").chain(args.iter().copied()))
            .expect("parses")
    }

    async fn report(cli: Cli) -> (Exit, String) {
        let mut out = Vec::new();
        let exit = run(cli, &ManualClock::new(0), &mut out).await;
        (exit, String::from_utf8(out).expect("UTF-8"))
    }

    // The refusal comes before any client is built: this run cannot reach AWS.
    #[tokio::test]
    async fn without_yes_it_says_what_it_would_do_and_exits_2() {
        let args = [
            "--username",
            "jane@example.com",
            "--user-pool-id",
            "eu-west-1_AbC123",
            "--table",
            "grants",
        ];
        let (exit, text) = report(cli(&args)).await;
        assert_eq!(exit, Exit::Usage);
        assert_eq!(exit.code(), 2);
        for needle in [
            "would",
            "\"jane@example.com\"",
            "eu-west-1_AbC123",
            "grants",
            "AdminUserGlobalSignOut",
            "--yes",
            "nothing was contacted",
        ] {
            assert!(text.contains(needle), "{needle}:\n{text}");
        }
    }

    #[tokio::test]
    async fn a_missing_table_is_a_usage_error_even_with_yes() {
        let args = [
            "--username",
            "jane",
            "--user-pool-id",
            "eu-west-1_X",
            "--yes",
        ];
        let (exit, text) = report(cli(&args)).await;
        assert_eq!(exit, Exit::Usage);
        assert!(text.contains("--table is required"), "{text}");
    }

    #[test]
    fn the_operators_guide_grants_exactly_these_actions() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/operations.md");
        let guide = std::fs::read_to_string(path).expect("docs/operations.md");
        let section = guide
            .split("\n### Sign-out everywhere\n")
            .nth(1)
            .expect("a section \"Sign-out everywhere\"");
        let section = section.split("\n## ").next().unwrap_or(section);
        let section = section.split("\n### ").next().unwrap_or(section);
        for action in IAM_ACTIONS {
            assert!(
                section.contains(action),
                "the section does not grant {action}"
            );
        }
    }
}
