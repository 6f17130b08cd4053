//! The command line and its `--help`. Parsing only; [`crate::target`] turns it into what to
//! act on.

use std::path::PathBuf;

use clap::Parser;

use crate::exit::EXIT_CODES_HELP;

const ABOUT: &str = "Sign a user out everywhere: every session, CLI and browser alike";

const LONG_ABOUT: &str = "\
Sign a user out everywhere: every session, CLI and browser alike.

For a compromised account or a leaver. In this order:
  1. AdminGetUser: resolve the user (username or email alias) to their `sub`;
  2. record in the stack's table that the user's tokens authenticated at or before now are
     revoked: the authorizer refuses them from its next refresh on, although Cognito access
     tokens stay valid on their own until they expire;
  3. AdminUserGlobalSignOut: Cognito invalidates the user's refresh tokens, so no session
     gets new tokens.
The record comes first so that a failure at step 3 still leaves the authorizer refusing the
user. Both steps are idempotent: re-run the same command after a partial failure. A sign-in
after the command works as usual: to keep the user out, also disable them
(aws cognito-idp admin-disable-user).

Without --yes nothing is contacted: it prints what it would do and exits 2.";

const AFTER_HELP_BODY: &str = "\
Where (a flag wins over the outputs file):
  --stack-outputs FILE   the stack's outputs, as written by
                           aws cloudformation describe-stacks --stack-name <stack> \\
                             --query 'Stacks[0].Outputs' > outputs.json
                         (FILE `-`: read them from standard input); UserPoolId, TableName
                         and the region are taken from it
  --user-pool-id ID      the stack's UserPoolId output
  --table NAME           the stack's TableName output
  --region REGION        both services' region; else the pool id's prefix (Cognito), the
                         stack's region (DynamoDB), else AWS_REGION or the profile's region

AWS credentials: the SDK's default chain (AWS_* variables, AWS_PROFILE or --profile, SSO,
credential_process, instance roles). Endpoints: AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER,
AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL, as the SDK reads them.
Needs: cognito-idp:AdminGetUser and cognito-idp:AdminUserGlobalSignOut on the pool,
dynamodb:UpdateItem on the table.

Example:
  portal-signout --stack-outputs outputs.json --username jane@example.com --yes

";

#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(
    name = "portal-signout",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = after_help(),
)]
pub struct Cli {
    /// The user: their Cognito username, or an alias the pool signs in with (email)
    #[arg(long, value_name = "NAME")]
    pub username: String,

    /// Read UserPoolId, TableName and the region from the stack's outputs (JSON; `-`: stdin)
    #[arg(long, value_name = "FILE")]
    pub stack_outputs: Option<PathBuf>,

    /// The Cognito user pool id (overrides the outputs' UserPoolId)
    #[arg(long, value_name = "ID")]
    pub user_pool_id: Option<String>,

    /// The stack's DynamoDB table (overrides the outputs' TableName)
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,

    /// The AWS region of the pool and the table
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// The AWS profile to use (else AWS_PROFILE, else the default one)
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Do it. Without this flag nothing is contacted: the command says what it would do
    #[arg(long)]
    pub yes: bool,
}

fn after_help() -> String {
    format!("{AFTER_HELP_BODY}{EXIT_CODES_HELP}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("portal-signout").chain(args.iter().copied()))
    }

    #[test]
    fn every_flag_is_read() {
        let cli = parse(&[
            "--username",
            "jane@example.com",
            "--stack-outputs",
            "out.json",
            "--user-pool-id",
            "eu-west-1_AbC",
            "--table",
            "grants",
            "--region",
            "eu-west-1",
            "--profile",
            "ops",
            "--yes",
        ])
        .expect("parses");
        assert_eq!(
            cli,
            Cli {
                username: "jane@example.com".into(),
                stack_outputs: Some("out.json".into()),
                user_pool_id: Some("eu-west-1_AbC".into()),
                table: Some("grants".into()),
                region: Some("eu-west-1".into()),
                profile: Some("ops".into()),
                yes: true,
            }
        );
    }

    #[test]
    fn only_the_username_is_required_and_yes_defaults_to_no() {
        let cli = parse(&["--username", "jane"]).expect("parses");
        assert!(!cli.yes);
        assert_eq!(cli.stack_outputs, None);
        let error = parse(&["--yes"]).expect_err("no --username");
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("--username"), "{error}");
    }

    #[test]
    fn unknown_flags_and_the_cloudformation_lookup_are_usage_errors() {
        for args in [
            &["--username", "jane", "--force"][..],
            &["--username", "jane", "--stack", "portal-auth"],
        ] {
            let error = parse(args).expect_err("unknown flag");
            assert_eq!(error.exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn the_help_says_how_to_make_the_outputs_file_and_what_it_needs() {
        Cli::command().debug_assert();
        let help = Cli::command().render_long_help().to_string();
        for needle in [
            "aws cloudformation describe-stacks --stack-name <stack>",
            "--query 'Stacks[0].Outputs'",
            "cognito-idp:AdminGetUser",
            "cognito-idp:AdminUserGlobalSignOut",
            "dynamodb:UpdateItem",
            "Exit codes:",
            "--yes",
        ] {
            assert!(help.contains(needle), "--help lacks {needle:?}:\n{help}");
        }
    }
}
