//! The `portal-signout` binary: parse the command line, run it on a single-threaded Tokio
//! runtime with the system clock, report on stderr and exit with the run's code.

use std::process::ExitCode;

use clap::Parser as _;
use portal_auth_domain::SystemClock;
use portal_signout::cli::Cli;
use portal_signout::exit::Exit;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("portal-signout: error: cannot start: {e}");
            return ExitCode::from(Exit::Failed.code());
        }
    };
    let exit = runtime.block_on(portal_signout::run(
        cli,
        &SystemClock,
        &mut std::io::stderr(),
    ));
    ExitCode::from(exit.code())
}
