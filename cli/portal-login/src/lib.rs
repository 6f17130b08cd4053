//! `portal-login`: the device-flow CLI of the Data Product Portal's auth service.
//!
//! `login` runs the OAuth 2.0 Device Authorization Grant (RFC 8628) against the portal's
//! `/device/code` and `/device/token` (found through RFC 8414 metadata); `token` prints a
//! valid access token, refreshing it (RFC 6749 §6) when it expires within 60 s; `status`
//! shows the session; `logout` forgets it, revoking the access and refresh tokens (RFC 7009)
//! when the server offers that. Modules:
//!
//! - [`cli`]: flags, subcommands and `--help`;
//! - [`config`]: URL / client id / scope from flags, environment, config file; the config dir;
//! - [`cache`]: the private, atomically written token cache;
//! - [`oauth`]: every HTTP exchange with the server;
//! - [`poll`]: the polling loop (interval, `slow_down`, back-off, deadline);
//! - [`ui`], [`browser`]: the terminal display and opening the browser;
//! - [`claims`], [`time`]: unverified JWT claims for `status`; time formatting;
//! - [`commands`]: one module per subcommand;
//! - [`exit`]: exit codes and the error every command ends with.

#[cfg(not(unix))]
compile_error!(
    "portal-login supports Unix (Linux, macOS): the token cache relies on Unix file modes"
);

pub mod browser;
pub mod cache;
pub mod claims;
pub mod cli;
pub mod commands;
pub mod config;
pub mod exit;
pub mod oauth;
pub mod poll;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod time;
pub mod ui;

use cli::{Cli, Command};
use exit::{Exit, Failure};

/// Runs one invocation.
pub async fn run(cli: Cli) -> Result<(), Failure> {
    let settings = config::settings(&cli.overrides())?;
    match &cli.command {
        Command::Login(args) => interruptible(commands::login::run(&settings, args)).await,
        Command::Token => commands::token::run(&settings).await,
        Command::Status(args) => commands::status::run(&settings, args.json),
        Command::Logout => commands::logout::run(&settings).await,
    }
}

/// Ends `login` with exit 130 on Ctrl-C: nothing has been cached until the very end, and the
/// spinner line is cleared by `main` before the message.
async fn interruptible(command: impl Future<Output = Result<(), Failure>>) -> Result<(), Failure> {
    let ctrl_c = async {
        // Without a handler (should not happen) keep the default: Ctrl-C kills the process.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = command => result,
        () = ctrl_c => Err(Failure::new(Exit::Interrupted, "interrupted: no tokens were stored")),
    }
}
