//! Running the real `portal-login` binary from the target directory (`make test` builds it
//! with `cargo build --workspace --all-targets`), with a private config folder per test:
//!
//! - [`run`]: stdin, stdout and stderr are pipes (no terminal), for scripts' view;
//! - [`Terminal`]: the binary in a pseudo-terminal (portable-pty), as a person runs it:
//!   read the screen as it is drawn, type Ctrl-C, wait for the exit code.
//!
//! The environment is cleared except `PATH`, `HOME` and `XDG_CONFIG_HOME` (both pointing into
//! the test's folder), so nothing from the developer's shell (a `PORTAL_AUTH_URL`, a
//! `DISPLAY` that would open a browser) leaks into a test.

// Each test file uses its own part of this module.
#![allow(dead_code)]

use std::io::{Read as _, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use portal_auth_tests::stack::bin_dir;

/// A fresh folder that stands in for `$XDG_CONFIG_HOME` (and `$HOME`); removed on drop.
pub struct Home {
    pub root: PathBuf,
}

impl Home {
    pub fn new(name: &str) -> Home {
        let root = std::env::temp_dir().join(portal_auth_tests::unique_name(name));
        std::fs::create_dir_all(&root).expect("temp folder");
        Home { root }
    }

    /// `$XDG_CONFIG_HOME/portal-auth`.
    pub fn dir(&self) -> PathBuf {
        self.root.join("portal-auth")
    }

    pub fn cache(&self) -> PathBuf {
        self.dir().join("credentials.json")
    }

    pub fn cache_json(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.cache()).expect("the token cache");
        serde_json::from_str(&text).expect("JSON cache")
    }

    /// Rewrites the cache (keeping its mode), e.g. to bring an expiry closer.
    pub fn edit_cache(&self, edit: impl FnOnce(&mut serde_json::Value)) {
        let mut cache = self.cache_json();
        edit(&mut cache);
        std::fs::write(self.cache(), cache.to_string()).expect("write the cache");
    }

    pub fn mode(&self, path: &Path) -> u32 {
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    }

    pub fn chmod(&self, path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

pub fn binary() -> PathBuf {
    let binary = bin_dir().join("portal-login");
    assert!(
        binary.exists(),
        "{} is missing: build it first (`cargo build --workspace --all-targets`; make test does)",
        binary.display()
    );
    binary
}

fn environment(home: &Home) -> Vec<(String, String)> {
    vec![
        ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
        ("HOME".into(), home.root.display().to_string()),
        ("XDG_CONFIG_HOME".into(), home.root.display().to_string()),
        ("LANG".into(), "C.UTF-8".into()),
    ]
}

/// What a non-interactive run left.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Asserts the exit code and that nothing looks like a crash.
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "{self:#?}");
        assert_no_crash(&self.stderr);
        self
    }
}

pub fn assert_no_crash(text: &str) {
    for sign in [
        "panicked",
        "RUST_BACKTRACE",
        "stack backtrace",
        "Error {",
        "Os {",
    ] {
        assert!(!text.contains(sign), "looks like a crash ({sign}):\n{text}");
    }
}

/// Runs `portal-login args…` with pipes, extra environment `env`, and waits (at most 60 s).
pub fn run(home: &Home, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = std::process::Command::new(binary());
    command
        .args(args)
        .env_clear()
        .envs(environment(home))
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null());
    let child = command.output().expect("run portal-login");
    Output {
        code: child.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&child.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&child.stderr).into_owned(),
    }
}

/// `portal-login` in a pseudo-terminal.
pub struct Terminal {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn std::io::Write + Send>,
    screen: Arc<Mutex<Vec<u8>>>,
    /// Set by the reader thread at end of output (the child and its pty side are gone).
    drained: Arc<std::sync::atomic::AtomicBool>,
    // Kept open until the child is gone, so the reader sees its last output.
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Terminal {
    pub fn spawn(home: &Home, args: &[&str]) -> Terminal {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 60,
                cols: 120,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let mut command = CommandBuilder::new(binary());
        command.args(args);
        command.env_clear();
        for (k, v) in environment(home) {
            command.env(k, v);
        }
        command.env("TERM", "xterm-256color");
        let child = pair.slave.spawn_command(command).expect("spawn in the pty");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let writer = pair.master.take_writer().expect("pty writer");
        let screen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&screen);
        let drained = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let done = Arc::clone(&drained);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().expect("screen").extend_from_slice(&buf[..n]);
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        Terminal {
            child,
            writer,
            screen,
            drained,
            _master: pair.master,
        }
    }

    /// Everything written so far, raw (escape sequences included).
    pub fn raw(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().expect("screen")).into_owned()
    }

    /// Everything written so far, without escape sequences.
    pub fn text(&self) -> String {
        strip_ansi(&self.raw())
    }

    /// Waits until the output contains `needle` (at most `limit`), returning the text.
    pub async fn wait_for(&self, needle: &str, limit: Duration) -> String {
        let start = Instant::now();
        loop {
            let text = self.text();
            if text.contains(needle) {
                return text;
            }
            assert!(
                start.elapsed() < limit,
                "no {needle:?} after {limit:?}; the terminal shows:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Types `bytes` (e.g. `b"\x03"` for Ctrl-C).
    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write to the pty");
        self.writer.flush().expect("flush the pty");
    }

    /// Waits for the exit (at most `limit`; killed after that) and returns its code and text.
    pub async fn exit(mut self, limit: Duration) -> (u32, String) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // Let the reader drain what the child wrote last (EOF or EIO once it is gone).
                let drain_start = Instant::now();
                while !self.drained.load(std::sync::atomic::Ordering::SeqCst)
                    && drain_start.elapsed() < Duration::from_secs(10)
                {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                return (status.exit_code(), self.text());
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                panic!(
                    "portal-login did not exit within {limit:?}:\n{}",
                    self.text()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The text as a terminal would leave it: CSI escape sequences (`ESC [ … letter`) removed,
/// and a carriage return not followed by a newline (the spinner redrawing its line) starting
/// the line over.
pub fn strip_ansi(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' if chars.peek() == Some(&'[') => {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' => out.truncate(out.rfind('\n').map_or(0, |i| i + 1)),
            _ => out.push(c),
        }
    }
    out
}

/// The user code `login` printed ("2. Enter     BCDF-GHJK").
pub fn printed_user_code(text: &str) -> String {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("2. Enter"))
        .map(|rest| rest.trim().to_owned())
        .unwrap_or_else(|| panic!("no user code in:\n{text}"))
}

/// The URL with the code filled in, printed on the line after its label.
pub fn printed_complete_uri(text: &str) -> String {
    let mut lines = text.lines();
    lines
        .find(|l| l.contains("Or open this link, with the code filled in:"))
        .and_then(|_| lines.next())
        .map(|l| l.trim().to_owned())
        .unwrap_or_else(|| panic!("no verification_uri_complete in:\n{text}"))
}
