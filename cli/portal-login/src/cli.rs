//! The command line: subcommands, flags and the `--help` text that documents configuration,
//! files and exit codes. Parsing only; `lib.rs` dispatches.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Overrides;

const ABOUT: &str = "Sign in to the Data Product Portal from a terminal, and hand out its tokens";

const LONG_ABOUT: &str = "\
Sign in to the Data Product Portal from a terminal, and hand out its tokens.

`portal-login login` uses the OAuth 2.0 Device Authorization Grant (RFC 8628): it shows a short
code, a URL and a QR code; you open the URL on any device, check the code, approve and sign in;
the CLI, polling meanwhile, receives the tokens and caches them. `portal-login token` then
prints a valid access token for scripts, refreshing it when needed:

    curl -H \"Authorization: Bearer $(portal-login token)\" https://portal.example.com/api/...";

const AFTER_HELP: &str = concat!(
    "\
Configuration (each setting: flag, else environment, else config file):
  portal URL   --url            PORTAL_AUTH_URL    url = \"https://...\"
  client id    --client-id      PORTAL_CLIENT_ID   client_id = \"...\"
  scopes       --scope (login)  -                  scope = \"openid email\"
The URL is the API's base URL, stage included (https, or http to 127.0.0.1/localhost only).

Files (folder: $XDG_CONFIG_HOME/portal-auth, else $HOME/.config/portal-auth):
  config.toml        the config file (another with --config FILE)
  credentials.json   the token cache, one entry per URL and client id; folder 0700, file
                     0600, written atomically; refused if others can read it or it is not yours

",
    crate::exit_codes_help!()
);

#[derive(Debug, Parser)]
#[command(
    name = "portal-login",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP,
    propagate_version = true
)]
pub struct Cli {
    /// The portal API's base URL, stage included [env: PORTAL_AUTH_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub url: Option<String>,

    /// The app client id this CLI signs in as [env: PORTAL_CLIENT_ID]
    #[arg(long, global = true, value_name = "ID")]
    pub client_id: Option<String>,

    /// Read settings from FILE instead of <config folder>/config.toml
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in with a code shown here and approved in a browser; caches the tokens
    #[command(long_about = "\
Sign in with a code shown here and approved in a browser; caches the tokens.

Shows the code (large), the verification URL and, on a terminal, a QR code of the URL with the
code filled in; opens the page in your browser when there is a graphical session; then waits,
showing the time left, until you approve or deny, the code expires, or Ctrl-C. Polls at the
server's interval, 5 s slower after every `slow_down`, backing off while the server cannot be
reached. A new login replaces the cached tokens for this URL and client id.")]
    Login(LoginArgs),

    /// Print a valid access token on stdout, refreshing it when it expires within 60 s
    #[command(long_about = "\
Print a valid access token on stdout (and nothing else), for scripts:

    curl -H \"Authorization: Bearer $(portal-login token)\" ...

When the cached access token expires within 60 seconds, it is first refreshed with the cached
refresh token (grant_type=refresh_token at the server's token endpoint) and the cache updated.
Exits 3 with a hint to log in when there is no session or the refresh token is no longer valid.")]
    Token,

    /// Show who you are logged in as, which client, scopes, and when the token expires
    #[command(long_about = "\
Show who you are logged in as, which client, the scopes and groups, and when the access token
expires (read from the cached token's claims; nothing is sent to the server). Exits 0 when
logged in (even with an expired access token that a refresh token can renew), 3 when not.")]
    Status(StatusArgs),

    /// Forget the cached tokens; revoke them first when the server offers revocation
    #[command(long_about = "\
Forget the cached tokens for this URL and client id. When the server's metadata names a
revocation endpoint (RFC 7009), the access token and then the refresh token are revoked there
first (portal-auth's authorizer then refuses the access token too); otherwise, or when the
server cannot be reached, they are only forgotten here and stay valid at the server until they
expire (this is said on stderr). Exits 0 once the tokens are forgotten, also when there were none.")]
    Logout,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Do not open a browser; just show the URL and code
    #[arg(long)]
    pub no_browser: bool,

    /// Do not draw the QR code
    #[arg(long)]
    pub no_qr: bool,

    /// Scopes to ask for, space-separated (default: the client's scopes)
    #[arg(long, value_name = "SCOPES")]
    pub scope: Option<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print a JSON object instead of text
    #[arg(long)]
    pub json: bool,
}

impl Cli {
    pub fn overrides(&self) -> Overrides {
        let scope = match &self.command {
            Command::Login(args) => args.scope.clone(),
            _ => None,
        };
        Overrides {
            url: self.url.clone(),
            client_id: self.client_id.clone(),
            scope,
            config: self.config.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_help_states_the_same_exit_codes_as_the_code() {
        assert!(AFTER_HELP.ends_with(crate::exit::EXIT_CODES_HELP));
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "portal-login",
            "login",
            "--url",
            "https://a.example",
            "--no-qr",
            "--scope",
            "openid",
        ])
        .unwrap();
        let o = cli.overrides();
        assert_eq!(o.url.as_deref(), Some("https://a.example"));
        assert_eq!(o.scope.as_deref(), Some("openid"));
    }
}
