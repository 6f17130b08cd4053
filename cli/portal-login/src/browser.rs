//! Opening the verification page in the person's browser, when there is one to open.
//!
//! On Linux and the BSDs a browser is only tried with a graphical session (`DISPLAY` or
//! `WAYLAND_DISPLAY`): over SSH, in a container or in CI there is none, and a launcher such as
//! `xdg-open` could otherwise start a text-mode browser that takes over this terminal. On
//! macOS `open` is always there. Launching uses the `open` crate (`xdg-open`, `gio`, … on
//! Unix desktops), detached, with its output discarded. Failing to open is never an error:
//! the URL and the QR code are on screen either way.

/// What happened when we tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    Yes,
    /// `--no-browser`.
    NotAsked,
    /// No graphical session here.
    NoBrowserHere,
    /// A launcher was tried and failed.
    Failed(String),
}

/// Whether this machine has a browser we can show a page in.
pub fn has_graphical_session(env: &dyn Fn(&str) -> Option<String>) -> bool {
    if cfg!(target_os = "macos") {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|var| env(var).is_some_and(|v| !v.is_empty()))
}

/// Opens `url` (an http(s) URL, checked by the caller) unless told not to.
pub fn open_page(url: &str, asked: bool, env: &dyn Fn(&str) -> Option<String>) -> Opened {
    if !asked {
        return Opened::NotAsked;
    }
    if !has_graphical_session(env) {
        return Opened::NoBrowserHere;
    }
    match open::that_detached(url) {
        Ok(()) => Opened::Yes,
        Err(e) => Opened::Failed(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_browser_is_tried_without_a_graphical_session_or_when_not_asked() {
        let none = |_: &str| None;
        if !cfg!(target_os = "macos") {
            assert_eq!(open_page("https://x", true, &none), Opened::NoBrowserHere);
        }
        let display = |v: &str| (v == "DISPLAY").then(|| ":0".to_owned());
        assert_eq!(open_page("https://x", false, &display), Opened::NotAsked);
        assert!(has_graphical_session(&display));
        let wayland = |v: &str| (v == "WAYLAND_DISPLAY").then(|| "wayland-0".to_owned());
        assert!(has_graphical_session(&wayland));
    }
}
