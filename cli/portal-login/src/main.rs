//! The `portal-login` binary: parse the command line, run it on a single-threaded Tokio
//! runtime, print a failure as `error:`/`hint:` lines on stderr and exit with its code.

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::Parser as _;
use portal_login::cli::Cli;
use portal_login::exit::Exit;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("portal-login: error: cannot start: {e}");
            return ExitCode::from(Exit::Error.code());
        }
    };
    match runtime.block_on(portal_login::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if failure.exit == Exit::Interrupted && std::io::stderr().is_terminal() {
                // Clear the spinner line the interrupted wait left behind.
                eprint!("\r\x1b[2K");
            }
            eprintln!("portal-login: {failure}");
            ExitCode::from(failure.exit.code())
        }
    }
}
