//! `portal-login login`: discover, ask for a device code, show it, open the browser, wait
//! (polling, with a countdown) and cache the tokens.
//!
//! Every outcome of the wait has its own message and exit code: approved (0), denied (4),
//! expired or no longer valid (5), server gone (6), Ctrl-C (130, handled in `lib.rs`).

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use crate::browser::{self, Opened};
use crate::cache;
use crate::claims::decode_unverified;
use crate::cli::LoginArgs;
use crate::commands::{connect, new_session, server_failure};
use crate::config::{ClientId, Settings};
use crate::exit::{Exit, Failure};
use crate::oauth::{DeviceAuthorization, Endpoints, OAuthClient, ServerError, TokenResponse};
use crate::poll::{PollEnd, PollEvent, Poller, RealPause, Schedule, poll_until_done};
use crate::ui::{self, Progress, bold, printable};

pub async fn run(settings: &Settings, args: &LoginArgs) -> Result<(), Failure> {
    // An unsafe cache would refuse the tokens at the end: say so before anyone signs in.
    cache::check(&settings.dir)?;
    let (client, endpoints) = connect(settings).await?;
    let device = client
        .device_authorization(&endpoints, &settings.client_id, settings.scope.as_deref())
        .await
        .map_err(|e| refused_code(&e, settings))?;
    let deadline = Instant::now() + Duration::from_secs(device.expires_in);
    let tty = std::io::stderr().is_terminal();
    show_instructions(settings, &device, tty, !args.no_qr && tty);
    report_browser(&device, !args.no_browser);
    let tokens = wait_for_approval(&client, &endpoints, settings, &device, tty, deadline).await?;
    save(settings, tokens)
}

fn refused_code(e: &ServerError, settings: &Settings) -> Failure {
    let failure = server_failure(e);
    match e.oauth_code() {
        Some("invalid_client" | "unauthorized_client") => failure.with_hint(format!(
            "check the client id {} (--client-id / PORTAL_CLIENT_ID): the server does not \
             let it use the device flow",
            settings.client_id
        )),
        Some("invalid_scope") => failure.with_hint("ask for fewer scopes (--scope)"),
        _ => failure,
    }
}

fn show_instructions(settings: &Settings, device: &DeviceAuthorization, tty: bool, qr: bool) {
    let code = printable(&device.user_code);
    let uri = printable(&device.verification_uri);
    eprintln!();
    eprintln!("Sign in to {} in a browser:", settings.base_url);
    eprintln!();
    eprintln!("  1. Open      {}", bold(&uri, tty));
    eprintln!("  2. Enter     {}", bold(&code, tty));
    eprintln!();
    if tty {
        for row in ui::large_text(&code).unwrap_or_default() {
            eprintln!("     {row}");
        }
        eprintln!();
    }
    if let Some(complete) = &device.verification_uri_complete {
        eprintln!("Or open this link, with the code filled in:");
        eprintln!("  {}", printable(complete));
        if let Some(art) = qr.then(|| ui::qr_code(complete, tty)).flatten() {
            eprintln!();
            eprintln!("Or scan it with your phone:");
            eprintln!("{art}");
        }
        eprintln!();
    }
    eprintln!("Check that the page shows the code {code} before you approve.");
}

fn report_browser(device: &DeviceAuthorization, asked: bool) {
    let page = device
        .verification_uri_complete
        .as_deref()
        .unwrap_or(&device.verification_uri);
    let env = |name: &str| std::env::var(name).ok();
    match browser::open_page(page, asked, &env) {
        Opened::Yes => eprintln!("Opened the page in your browser."),
        Opened::NotAsked => {}
        Opened::NoBrowserHere => {
            eprintln!("No browser here: open the page on any device (your laptop, your phone).")
        }
        Opened::Failed(why) => {
            eprintln!("Could not open a browser ({why}): open the page yourself.")
        }
    }
    eprintln!();
}

struct DevicePoller<'a> {
    client: &'a OAuthClient,
    endpoints: &'a Endpoints,
    client_id: &'a ClientId,
    device_code: &'a str,
}

impl Poller for DevicePoller<'_> {
    async fn poll(&self) -> Result<TokenResponse, ServerError> {
        self.client
            .poll(self.endpoints, self.client_id, self.device_code)
            .await
    }
}

async fn wait_for_approval(
    client: &OAuthClient,
    endpoints: &Endpoints,
    settings: &Settings,
    device: &DeviceAuthorization,
    tty: bool,
    deadline: Instant,
) -> Result<TokenResponse, Failure> {
    let poller = DevicePoller {
        client,
        endpoints,
        client_id: &settings.client_id,
        device_code: &device.device_code,
    };
    let progress = Progress::new(tty, deadline);
    let observe = |event: &PollEvent| progress.note(&describe(event));
    let schedule = Schedule::new(device.interval);
    let mut pause = RealPause;
    let end = tokio::select! {
        end = poll_until_done(&poller, &mut pause, schedule, deadline, &observe) => end,
        () = progress.spin() => PollEnd::Expired,
    };
    progress.clear();
    outcome(end)
}

fn describe(event: &PollEvent) -> String {
    match event {
        PollEvent::SlowDown { interval } => format!(
            "The server asked to slow down: polling every {} s now.",
            interval.as_secs()
        ),
        PollEvent::Retrying { problem, wait } => {
            format!("{problem}; trying again in {} s.", wait.as_secs())
        }
    }
}

fn outcome(end: PollEnd) -> Result<TokenResponse, Failure> {
    match end {
        PollEnd::Tokens(tokens) => Ok(tokens),
        PollEnd::Denied => Err(Failure::new(
            Exit::Denied,
            "the sign-in request was denied in the browser (access_denied)",
        )
        .with_hint("run `portal-login login` again if that was a mistake")),
        PollEnd::Expired => Err(Failure::new(
            Exit::Expired,
            "the code expired before it was approved (expired_token)",
        )
        .with_hint("run `portal-login login` again and approve within the time shown")),
        PollEnd::Invalid(description) => Err(Failure::new(
            Exit::Expired,
            format!(
                "the code is no longer valid (invalid_grant{})",
                description
                    .map(|d| format!(": {}", printable(&d)))
                    .unwrap_or_default()
            ),
        )
        .with_hint("run `portal-login login` again")),
        PollEnd::Failed(e) => Err(server_failure(&e)),
    }
}

fn save(settings: &Settings, tokens: TokenResponse) -> Result<(), Failure> {
    let session = new_session(settings, tokens, crate::time::now_unix());
    let who = decode_unverified(&session.access_token)
        .and_then(|c| c.user().map(printable))
        .unwrap_or_else(|| "an unnamed user".to_owned());
    let path = cache::store(&settings.dir, session)?;
    eprintln!("✓ Logged in to {} as {who}.", settings.base_url);
    eprintln!("  Tokens saved in {}.", path.display());
    eprintln!(
        "  `portal-login token` prints an access token; `portal-login status` shows the session."
    );
    Ok(())
}
