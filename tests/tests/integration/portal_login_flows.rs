//! The real `portal-login` binary against a scripted stand-in of the portal's OAuth endpoints
//! (`portal_login::testkit`) on 127.0.0.1: every ending of a login and its exit code, the
//! `slow_down` rule, refresh, revocation, the cache's permissions, a server that is down,
//! Ctrl-C, configuration precedence and `--help`. Intervals are 1 s; nothing asserts that
//! something happened *within* a time, only (for `slow_down`) that a wait was at least as long
//! as the RFC requires.

use std::time::Duration;

use crate::portal_login_support::{Home, Terminal, assert_no_crash, run};
use portal_login::testkit::{
    DEVICE_GRANT, REFRESH_TOKEN, Reply, StandIn, USER_CODE, device_code_reply,
};
use serde_json::Value;

const CLIENT: &str = "stand-in-client";
const LIMIT: Duration = Duration::from_secs(60);

fn login_args(stand_in: &StandIn) -> Vec<String> {
    [
        "--url",
        &stand_in.base_url,
        "--client-id",
        CLIENT,
        "login",
        "--no-browser",
    ]
    .map(str::to_owned)
    .to_vec()
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// A stand-in that approves at the first poll, and a home logged in through it.
fn logged_in(name: &str, expires_in: u64) -> (StandIn, Home) {
    let stand_in = StandIn::start();
    stand_in.push_poll(Reply::tokens("demo", expires_in, Some(REFRESH_TOKEN)));
    let home = Home::new(name);
    run(&home, &args(&login_args(&stand_in)), &[]).assert_code(0);
    (stand_in, home)
}

fn cli<'a>(stand_in: &'a StandIn, command: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--url", stand_in.base_url.as_str(), "--client-id", CLIENT];
    v.extend_from_slice(command);
    v
}

fn username_of(jwt: &str) -> String {
    portal_auth_tests::browser::claims(jwt.trim())["username"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn an_approved_login_without_a_terminal_prints_plain_lines_and_caches_privately() {
    let stand_in = StandIn::start();
    stand_in.push_poll(Reply::pending());
    stand_in.push_poll(Reply::tokens("demo", 3600, Some(REFRESH_TOKEN)));
    let home = Home::new("pl-plain");
    let out = run(&home, &args(&login_args(&stand_in)), &[]);
    out.assert_code(0);
    assert!(
        out.stdout.is_empty(),
        "stdout is for `token` only: {out:#?}"
    );
    for expected in [
        &format!("1. Open      {}/device", stand_in.base_url),
        &format!("2. Enter     {USER_CODE}"),
        &format!("{}/device?user_code={USER_CODE}", stand_in.base_url),
        "Waiting for approval (the code expires in ",
        &format!("Logged in to {} as demo.", stand_in.base_url),
    ] {
        assert!(
            out.stderr.contains(expected),
            "{expected:?} missing:\n{}",
            out.stderr
        );
    }
    // No terminal: no QR code, no large letters, no escape sequences.
    assert!(
        !out.stderr.contains('█') && !out.stderr.contains('\x1b'),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(REFRESH_TOKEN), "a token was printed");
    // What it sent: the client id at /device/code, the RFC parameters at /device/token.
    let requests = stand_in.requests();
    let code = requests.iter().find(|r| r.path == "/device/code").unwrap();
    assert_eq!(code.param("client_id"), Some(CLIENT));
    assert_eq!(stand_in.token_requests(DEVICE_GRANT).len(), 2);
    assert_eq!(home.mode(&home.dir()), 0o700);
    assert_eq!(home.mode(&home.cache()), 0o600);
    let session = &home.cache_json()["sessions"][0];
    assert_eq!(session["base_url"], stand_in.base_url.as_str());
    assert_eq!(session["client_id"], CLIENT);
    assert_eq!(session["refresh_token"], REFRESH_TOKEN);
}

#[test]
fn slow_down_makes_every_later_wait_five_seconds_longer() {
    let stand_in = StandIn::start();
    // interval 1 s; the first poll is told slow_down (no interval in the body), so the next
    // wait is 1 + 5 = 6 s, and so is every wait after it.
    stand_in.push_poll(Reply::slow_down(None));
    stand_in.push_poll(Reply::pending());
    stand_in.push_poll(Reply::tokens("demo", 3600, Some(REFRESH_TOKEN)));
    let home = Home::new("pl-slow-down");
    let out = run(&home, &args(&login_args(&stand_in)), &[]);
    out.assert_code(0);
    assert!(
        out.stderr
            .contains("The server asked to slow down: polling every 6 s now."),
        "{}",
        out.stderr
    );
    let polls = stand_in.token_requests(DEVICE_GRANT);
    assert_eq!(polls.len(), 3);
    // Lower bounds only: a slow machine makes gaps longer, never shorter.
    for pair in polls.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(gap >= Duration::from_secs(6), "polled again after {gap:?}");
    }
}

#[test]
fn access_denied_exits_4_with_a_clear_message_and_caches_nothing() {
    let stand_in = StandIn::start();
    stand_in.push_poll(Reply::error(400, "access_denied"));
    let home = Home::new("pl-denied");
    let out = run(&home, &args(&login_args(&stand_in)), &[]);
    out.assert_code(4);
    assert!(
        out.stderr
            .contains("error: the sign-in request was denied in the browser (access_denied)"),
        "{}",
        out.stderr
    );
    assert!(!home.cache().exists());
}

#[test]
fn expired_token_exits_5_with_a_clear_message() {
    let stand_in = StandIn::start();
    stand_in.push_poll(Reply::pending());
    stand_in.push_poll(Reply::error(400, "expired_token"));
    let home = Home::new("pl-expired");
    let out = run(&home, &args(&login_args(&stand_in)), &[]);
    out.assert_code(5);
    assert!(
        out.stderr
            .contains("error: the code expired before it was approved (expired_token)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("hint: run `portal-login login` again"));
    assert!(!home.cache().exists());
}

#[test]
fn a_code_that_runs_out_here_ends_the_wait_without_polling_again() {
    let stand_in = StandIn::start();
    stand_in.set_device_code(device_code_reply(&stand_in.base_url, Some(5), 1));
    let home = Home::new("pl-runs-out");
    let out = run(&home, &args(&login_args(&stand_in)), &[]);
    out.assert_code(5);
    assert!(out.stderr.contains("(expired_token)"), "{}", out.stderr);
    assert_eq!(stand_in.token_requests(DEVICE_GRANT).len(), 0);
}

#[test]
fn invalid_grant_exits_5_and_names_it() {
    let stand_in = StandIn::start();
    stand_in.push_poll(Reply::error(400, "invalid_grant"));
    let home = Home::new("pl-invalid");
    let out = run(&home, &args(&login_args(&stand_in)), &[]);
    out.assert_code(5);
    assert!(
        out.stderr
            .contains("the code is no longer valid (invalid_grant: stand-in says invalid_grant)"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_refused_client_id_exits_1_with_a_hint_about_the_client_id() {
    let stand_in = StandIn::start();
    stand_in.set_device_code(Reply::error(401, "invalid_client"));
    let home = Home::new("pl-client");
    let out = run(&home, &args(&login_args(&stand_in)), &[]);
    out.assert_code(1);
    assert!(
        out.stderr.contains("the server answered invalid_client"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("hint: check the client id"),
        "{}",
        out.stderr
    );
}

#[test]
fn metadata_naming_another_issuer_is_refused() {
    let stand_in = StandIn::start();
    stand_in.claim_issuer("https://elsewhere.example");
    let home = Home::new("pl-issuer");
    let out = run(&home, &args(&login_args(&stand_in)), &[]);
    out.assert_code(1);
    assert!(
        out.stderr
            .contains("its issuer is \"https://elsewhere.example\""),
        "{}",
        out.stderr
    );
    assert!(stand_in.requests().iter().all(|r| r.path != "/device/code"));
}

#[test]
fn a_server_that_is_down_gives_a_clear_message_and_exit_6_without_a_stack_trace() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let home = Home::new("pl-down");
    let out = run(&home, &["--url", &url, "--client-id", CLIENT, "login"], &[]);
    out.assert_code(6);
    let expected = format!(
        "portal-login: error: cannot reach {url}/.well-known/oauth-authorization-server: connection failed"
    );
    assert!(out.stderr.starts_with(&expected), "{}", out.stderr);
    assert!(out.stderr.contains("hint: check the URL"), "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 2, "{}", out.stderr);
}

#[test]
fn token_refreshes_when_the_access_token_expires_within_60_seconds() {
    let (stand_in, home) = logged_in("pl-refresh", 30);
    stand_in.push_refresh(Reply::tokens("demo-refreshed", 3600, None));
    let out = run(&home, &cli(&stand_in, &["token"]), &[]);
    out.assert_code(0);
    assert_eq!(username_of(&out.stdout), "demo-refreshed");
    assert_eq!(out.stdout.lines().count(), 1, "stdout is the token only");
    let refreshes = stand_in.token_requests("refresh_token");
    assert_eq!(refreshes.len(), 1);
    assert_eq!(refreshes[0].param("refresh_token"), Some(REFRESH_TOKEN));
    assert_eq!(refreshes[0].param("client_id"), Some(CLIENT));
    // Cognito sends no new refresh token: the old one is kept.
    let session = &home.cache_json()["sessions"][0];
    assert_eq!(session["refresh_token"], REFRESH_TOKEN);
    assert_eq!(home.mode(&home.cache()), 0o600);

    // Now valid for an hour: printed from the cache, no second refresh.
    let again = run(&home, &cli(&stand_in, &["token"]), &[]);
    again.assert_code(0);
    assert_eq!(again.stdout, out.stdout);
    assert_eq!(stand_in.token_requests("refresh_token").len(), 1);
}

#[test]
fn a_token_valid_for_more_than_60_seconds_is_printed_without_a_request() {
    let (stand_in, home) = logged_in("pl-fresh", 120);
    let before = stand_in.requests().len();
    let out = run(&home, &cli(&stand_in, &["token"]), &[]);
    out.assert_code(0);
    assert_eq!(username_of(&out.stdout), "demo");
    assert_eq!(stand_in.requests().len(), before);
}

#[test]
fn a_refused_refresh_exits_3_forgets_the_session_and_says_to_log_in() {
    let (stand_in, home) = logged_in("pl-refresh-refused", 10);
    stand_in.push_refresh(Reply::error(400, "invalid_grant"));
    let out = run(&home, &cli(&stand_in, &["token"]), &[]);
    out.assert_code(3);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr
            .contains("the session has expired or was revoked"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("hint: run `portal-login login`"));
    assert!(!home.cache().exists());
}

#[test]
fn a_refresh_while_the_server_is_down_exits_6_and_keeps_the_session() {
    let (stand_in, home) = logged_in("pl-refresh-down", 10);
    let url = stand_in.base_url.clone();
    drop(stand_in);
    let out = run(&home, &["--url", &url, "--client-id", CLIENT, "token"], &[]);
    out.assert_code(6);
    assert!(
        out.stderr
            .contains("cannot refresh the access token: cannot reach"),
        "{}",
        out.stderr
    );
    assert!(home.cache().exists());
}

#[test]
fn token_and_status_without_a_session_exit_3() {
    let stand_in = StandIn::start();
    let home = Home::new("pl-none");
    let out = run(&home, &cli(&stand_in, &["token"]), &[]);
    out.assert_code(3);
    assert!(out.stderr.contains("not logged in"), "{}", out.stderr);
    let out = run(&home, &cli(&stand_in, &["status", "--json"]), &[]);
    out.assert_code(3);
    let status: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(status["logged_in"], false);
}

#[test]
fn status_json_names_the_user_and_never_prints_a_token() {
    let (stand_in, home) = logged_in("pl-status", 3600);
    let out = run(&home, &cli(&stand_in, &["status", "--json"]), &[]);
    out.assert_code(0);
    let status: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(status["logged_in"], true);
    assert_eq!(status["client_id"], CLIENT);
    assert_eq!(status["session"]["username"], "demo");
    assert_eq!(status["session"]["email"], "demo@example.com");
    assert_eq!(status["session"]["groups"][0], "portal-users");
    assert_eq!(status["session"]["refresh_token"], true);
    assert!(!out.stdout.contains(REFRESH_TOKEN) && !out.stdout.contains("eyJ"));
    let text = run(&home, &cli(&stand_in, &["status"]), &[]);
    text.assert_code(0);
    assert!(
        text.stdout.contains("user           demo"),
        "{}",
        text.stdout
    );
}

#[test]
fn a_cache_readable_by_others_is_refused_by_every_command_until_fixed() {
    let (stand_in, home) = logged_in("pl-mode", 3600);
    home.chmod(&home.cache(), 0o644);
    for command in [&["token"][..], &["status"], &["logout"]] {
        let out = run(&home, &cli(&stand_in, command), &[]);
        out.assert_code(7);
        assert!(out.stdout.is_empty(), "{command:?}: {out:#?}");
        assert!(out.stderr.contains("its mode is 0644"), "{}", out.stderr);
        assert!(out.stderr.contains("chmod 600"), "{}", out.stderr);
    }
    // login refuses before anyone is asked to sign in.
    let codes_before = stand_in
        .requests()
        .iter()
        .filter(|r| r.path == "/device/code")
        .count();
    run(&home, &args(&login_args(&stand_in)), &[]).assert_code(7);
    let codes_after = stand_in
        .requests()
        .iter()
        .filter(|r| r.path == "/device/code")
        .count();
    assert_eq!(codes_before, codes_after);
    assert_eq!(
        home.mode(&home.cache()),
        0o644,
        "left for the person to judge"
    );
    home.chmod(&home.cache(), 0o600);
    run(&home, &cli(&stand_in, &["token"]), &[]).assert_code(0);
}

#[test]
fn a_loose_config_folder_is_tightened_to_0700() {
    let stand_in = StandIn::start();
    stand_in.push_poll(Reply::tokens("demo", 3600, Some(REFRESH_TOKEN)));
    let home = Home::new("pl-dir");
    std::fs::create_dir_all(home.dir()).unwrap();
    home.chmod(&home.dir(), 0o755);
    run(&home, &args(&login_args(&stand_in)), &[]).assert_code(0);
    assert_eq!(home.mode(&home.dir()), 0o700);
}

#[test]
fn logout_revokes_the_access_then_the_refresh_token_when_the_server_offers_revocation() {
    let (stand_in, home) = logged_in("pl-revoke", 3600);
    let access_token = home.cache_json()["sessions"][0]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    stand_in.offer_revocation();
    let out = run(&home, &cli(&stand_in, &["logout"]), &[]);
    out.assert_code(0);
    for said in [
        "Revoked the access token at the server.",
        "Revoked the refresh token at the server.",
    ] {
        assert!(out.stderr.contains(said), "{}", out.stderr);
    }
    let revocations: Vec<_> = stand_in
        .requests()
        .into_iter()
        .filter(|r| r.path == "/revoke")
        .collect();
    assert_eq!(revocations.len(), 2);
    let sent: Vec<_> = revocations
        .iter()
        .map(|r| {
            (
                r.param("token"),
                r.param("token_type_hint"),
                r.param("client_id"),
            )
        })
        .collect();
    assert_eq!(
        sent,
        [
            (
                Some(access_token.as_str()),
                Some("access_token"),
                Some(CLIENT)
            ),
            (Some(REFRESH_TOKEN), Some("refresh_token"), Some(CLIENT)),
        ],
        "the access token first"
    );
    assert!(!home.cache().exists());
}

#[test]
fn logout_without_revocation_forgets_locally_and_says_the_tokens_stay_valid() {
    let (stand_in, home) = logged_in("pl-logout", 3600);
    let out = run(&home, &cli(&stand_in, &["logout"]), &[]);
    out.assert_code(0);
    assert!(
        out.stderr
            .contains("stay valid at the server until they expire"),
        "{}",
        out.stderr
    );
    assert!(!home.cache().exists());
    // Idempotent.
    let again = run(&home, &cli(&stand_in, &["logout"]), &[]);
    again.assert_code(0);
    assert!(
        again.stderr.contains("nothing to forget"),
        "{}",
        again.stderr
    );
}

#[test]
fn logout_while_the_server_is_down_still_forgets_the_tokens() {
    let (stand_in, home) = logged_in("pl-logout-down", 3600);
    let url = stand_in.base_url.clone();
    drop(stand_in);
    let out = run(
        &home,
        &["--url", &url, "--client-id", CLIENT, "logout"],
        &[],
    );
    out.assert_code(0);
    assert!(
        out.stderr
            .contains("Could not ask the server about revocation"),
        "{}",
        out.stderr
    );
    assert!(!home.cache().exists());
}

#[test]
fn sessions_are_kept_per_url_and_client_id() {
    let (first, home) = logged_in("pl-keys", 3600);
    let second = StandIn::start();
    second.push_poll(Reply::tokens("other", 3600, Some(REFRESH_TOKEN)));
    run(&home, &args(&login_args(&second)), &[]).assert_code(0);
    let a = run(&home, &cli(&first, &["token"]), &[]);
    let b = run(&home, &cli(&second, &["token"]), &[]);
    assert_eq!(username_of(&a.stdout), "demo");
    assert_eq!(username_of(&b.stdout), "other");
    run(&home, &cli(&first, &["logout"]), &[]).assert_code(0);
    assert!(home.cache().exists(), "the other session remains");
    run(&home, &cli(&second, &["token"]), &[]).assert_code(0);
    run(
        &home,
        &[
            "--url",
            &first.base_url,
            "--client-id",
            "another-client",
            "token",
        ],
        &[],
    )
    .assert_code(3);
}

#[test]
fn flags_beat_the_environment_which_beats_the_config_file() {
    let home = Home::new("pl-precedence");
    std::fs::create_dir_all(home.dir()).unwrap();
    std::fs::write(
        home.dir().join("config.toml"),
        "url = \"http://127.0.0.1:7001\"\nclient_id = \"file-client\"\n",
    )
    .unwrap();
    let status = |args: &[&str], env: &[(&str, &str)]| {
        let out = run(&home, args, env);
        out.assert_code(3); // not logged in; the text still shows what was resolved
        out.stdout
    };
    let file_only = status(&["status"], &[]);
    assert!(
        file_only.contains("Not logged in to http://127.0.0.1:7001 (client file-client)"),
        "{file_only}"
    );
    assert!(
        file_only.contains("url from       config file"),
        "{file_only}"
    );

    let env = [
        ("PORTAL_AUTH_URL", "http://127.0.0.1:7002"),
        ("PORTAL_CLIENT_ID", "env-client"),
    ];
    let from_env = status(&["status"], &env);
    assert!(
        from_env.contains("to http://127.0.0.1:7002 (client env-client)"),
        "{from_env}"
    );
    assert!(
        from_env.contains("url from       environment PORTAL_AUTH_URL"),
        "{from_env}"
    );

    let from_flag = status(&["--url", "http://127.0.0.1:7003", "status"], &env);
    assert!(
        from_flag.contains("to http://127.0.0.1:7003 (client env-client)"),
        "{from_flag}"
    );
    assert!(
        from_flag.contains("url from       flag --url"),
        "{from_flag}"
    );

    // --config replaces the default file; a missing one is a usage error.
    let other = home.root.join("other.toml");
    std::fs::write(
        &other,
        "url = \"http://127.0.0.1:7004\"\nclient_id = \"other\"\n",
    )
    .unwrap();
    let explicit = status(&["--config", other.to_str().unwrap(), "status"], &[]);
    assert!(
        explicit.contains("to http://127.0.0.1:7004 (client other)"),
        "{explicit}"
    );
    let missing = run(
        &home,
        &["--config", "/nonexistent/portal.toml", "status"],
        &[],
    );
    missing.assert_code(2);
    assert!(
        missing.stderr.contains("cannot read config file"),
        "{}",
        missing.stderr
    );
}

#[test]
fn usage_errors_exit_2_and_help_documents_configuration_and_exit_codes() {
    let home = Home::new("pl-help");
    let help = run(&home, &["--help"], &[]);
    help.assert_code(0);
    for topic in [
        "PORTAL_AUTH_URL",
        "PORTAL_CLIENT_ID",
        "config.toml",
        "credentials.json",
        "0600",
        "Exit codes:",
        "130  login: interrupted (Ctrl-C)",
        "login",
        "token",
        "status",
        "logout",
    ] {
        assert!(help.stdout.contains(topic), "{topic} missing from --help");
    }
    run(&home, &["frobnicate"], &[]).assert_code(2);
    let no_url = run(&home, &["token"], &[]);
    no_url.assert_code(2);
    assert!(
        no_url.stderr.contains("no URL configured"),
        "{}",
        no_url.stderr
    );
    let plain_http = run(
        &home,
        &[
            "--url",
            "http://portal.example.com",
            "--client-id",
            "c",
            "token",
        ],
        &[],
    );
    plain_http.assert_code(2);
    assert!(
        plain_http.stderr.contains("use https"),
        "{}",
        plain_http.stderr
    );
}

#[tokio::test]
async fn in_a_terminal_login_draws_the_qr_code_and_large_code_and_ctrl_c_exits_130() {
    let stand_in = StandIn::start();
    let home = Home::new("pl-tty");
    let mut terminal = Terminal::spawn(&home, &args(&login_args(&stand_in)));
    let text = terminal.wait_for("Ctrl-C to cancel", LIMIT).await;
    assert!(text.contains("Or scan it with your phone:"), "{text}");
    assert!(text.contains("▀") && text.contains("█"), "{text}");
    // B, C, D, F… in large letters: the first row of "BCDF" starts with B's "█▀▀▀▄".
    assert!(text.contains("█▀▀▀▄"), "{text}");
    assert!(
        terminal.raw().contains("\x1b[1m"),
        "the code is bold on a terminal"
    );
    terminal.send(b"\x03");
    let (code, text) = terminal.exit(LIMIT).await;
    assert_eq!(code, 130, "{text}");
    assert!(
        text.contains("error: interrupted: no tokens were stored"),
        "{text}"
    );
    assert_no_crash(&text);
    assert!(!home.cache().exists());
}

#[tokio::test]
async fn no_qr_hides_the_qr_code_but_not_the_code() {
    let stand_in = StandIn::start();
    stand_in.push_poll(Reply::tokens("demo", 3600, Some(REFRESH_TOKEN)));
    let home = Home::new("pl-no-qr");
    let mut argv = login_args(&stand_in);
    argv.push("--no-qr".into());
    let terminal = Terminal::spawn(&home, &args(&argv));
    let (code, text) = terminal.exit(LIMIT).await;
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("Or scan it"), "{text}");
    assert!(
        text.contains(&format!("2. Enter     {USER_CODE}")),
        "{text}"
    );
}

#[test]
fn escape_sequences_from_the_server_never_reach_the_terminal() {
    let stand_in = StandIn::start();
    let mut reply = device_code_reply(&stand_in.base_url, Some(1), 600);
    reply.body["user_code"] = "BCDF\u{1b}[2J-GHJK\u{202e}".into();
    stand_in.set_device_code(reply);
    stand_in.push_poll(Reply::error(400, "access_denied"));
    let home = Home::new("pl-escapes");
    let out = run(&home, &args(&login_args(&stand_in)), &[]);
    out.assert_code(4);
    assert!(!out.stderr.contains('\u{1b}') && !out.stderr.contains('\u{202e}'));
    assert!(
        out.stderr.contains("2. Enter     BCDF[2J-GHJK"),
        "{}",
        out.stderr
    );
}
