//! What the person sees in the terminal during `login` (all on stderr: stdout is kept for
//! `token`): the code in large letters, the URLs, a QR code, and a spinner with the time left.
//!
//! Everything the server sends is passed through [`printable`] before it reaches the terminal,
//! so a hostile or broken server cannot move the cursor, rewrite earlier lines, or hide text
//! with escape sequences or bidirectional overrides. Without a terminal (CI logs, a pipe) there
//! is no QR code, no large letters, no spinner and no colour: plain lines, one per event.

use std::cell::Cell;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use qrcode::render::unicode::Dense1x2;
use qrcode::{EcLevel, QrCode};

const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME: Duration = Duration::from_millis(120);
const CLEAR_LINE: &str = "\r\x1b[2K";

/// `s` without control characters (C0, DEL, C1), invisible format characters and the line
/// and paragraph separators.
pub fn printable(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() && !is_format(*c) && !matches!(c, '\u{2028}' | '\u{2029}'))
        .collect()
}

/// Unicode's format characters (general category Cf, Unicode 15.1): the bidirectional
/// embeddings, overrides, isolates and marks (which reorder what the terminal shows: Trojan
/// Source, CVE-2021-42574), the zero-width characters and the tags (which hide text), and the
/// rest of the category, none of which a server has a reason to send to a terminal.
fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{600}'..='\u{605}'
            | '\u{61C}'
            | '\u{6DD}'
            | '\u{70F}'
            | '\u{890}'..='\u{891}'
            | '\u{8E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// Bold, when writing to a terminal.
pub fn bold(s: &str, tty: bool) -> String {
    if tty {
        format!("\x1b[1m{s}\x1b[0m")
    } else {
        s.to_owned()
    }
}

/// A QR code of `data` in Unicode half blocks (two modules per character cell), with its
/// quiet zone. On a terminal it is drawn black on white whatever the colour scheme, since
/// phone scanners expect dark modules on a light background.
pub fn qr_code(data: &str, colour: bool) -> Option<String> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::L).ok()?;
    let art = code.render::<Dense1x2>().quiet_zone(true).build();
    if !colour {
        return Some(art);
    }
    let lines: Vec<String> = art
        .lines()
        .map(|line| format!("\x1b[30;107m{line}\x1b[0m"))
        .collect();
    Some(lines.join("\n"))
}

/// 5×5 glyphs for the characters a user code can contain (RFC 8628 §6.1 suggests letters or
/// digits; this server uses 20 consonants and a dash).
fn glyph(c: char) -> Option<[&'static str; 5]> {
    Some(match c {
        'A' => [" ### ", "#   #", "#####", "#   #", "#   #"],
        'B' => ["#### ", "#   #", "#### ", "#   #", "#### "],
        'C' => [" ####", "#    ", "#    ", "#    ", " ####"],
        'D' => ["#### ", "#   #", "#   #", "#   #", "#### "],
        'E' => ["#####", "#    ", "#### ", "#    ", "#####"],
        'F' => ["#####", "#    ", "#### ", "#    ", "#    "],
        'G' => [" ####", "#    ", "#  ##", "#   #", " ####"],
        'H' => ["#   #", "#   #", "#####", "#   #", "#   #"],
        'I' => ["#####", "  #  ", "  #  ", "  #  ", "#####"],
        'J' => ["#####", "   # ", "   # ", "#  # ", " ##  "],
        'K' => ["#   #", "#  # ", "###  ", "#  # ", "#   #"],
        'L' => ["#    ", "#    ", "#    ", "#    ", "#####"],
        'M' => ["#   #", "## ##", "# # #", "#   #", "#   #"],
        'N' => ["#   #", "##  #", "# # #", "#  ##", "#   #"],
        'O' => [" ### ", "#   #", "#   #", "#   #", " ### "],
        'P' => ["#### ", "#   #", "#### ", "#    ", "#    "],
        'Q' => [" ### ", "#   #", "# # #", "#  # ", " ## #"],
        'R' => ["#### ", "#   #", "#### ", "#  # ", "#   #"],
        'S' => [" ####", "#    ", " ### ", "    #", "#### "],
        'T' => ["#####", "  #  ", "  #  ", "  #  ", "  #  "],
        'U' => ["#   #", "#   #", "#   #", "#   #", " ### "],
        'V' => ["#   #", "#   #", "#   #", " # # ", "  #  "],
        'W' => ["#   #", "#   #", "# # #", "## ##", "#   #"],
        'X' => ["#   #", " # # ", "  #  ", " # # ", "#   #"],
        'Y' => ["#   #", " # # ", "  #  ", "  #  ", "  #  "],
        'Z' => ["#####", "   # ", "  #  ", " #   ", "#####"],
        '0' => [" ### ", "#  ##", "# # #", "##  #", " ### "],
        '1' => ["  #  ", " ##  ", "  #  ", "  #  ", " ### "],
        '2' => [" ### ", "#   #", "  ## ", " #   ", "#####"],
        '3' => ["#### ", "    #", " ### ", "    #", "#### "],
        '4' => ["#   #", "#   #", "#####", "    #", "    #"],
        '5' => ["#####", "#    ", "#### ", "    #", "#### "],
        '6' => [" ### ", "#    ", "#### ", "#   #", " ### "],
        '7' => ["#####", "    #", "   # ", "  #  ", "  #  "],
        '8' => [" ### ", "#   #", " ### ", "#   #", " ### "],
        '9' => [" ### ", "#   #", " ####", "    #", " ### "],
        '-' => ["     ", "     ", " ### ", "     ", "     "],
        _ => return None,
    })
}

/// `code` in large letters, three terminal rows tall (half blocks), or `None` when a
/// character has no glyph (then only the plain code is shown).
pub fn large_text(code: &str) -> Option<Vec<String>> {
    let glyphs: Vec<[&str; 5]> = code.chars().map(glyph).collect::<Option<_>>()?;
    let mut pixels: Vec<Vec<bool>> = vec![Vec::new(); 6];
    for g in &glyphs {
        for (row, line) in g.iter().enumerate() {
            pixels[row].extend(line.chars().map(|c| c == '#'));
            pixels[row].push(false);
        }
    }
    pixels[5] = vec![false; pixels[0].len()];
    let rows = pixels
        .chunks(2)
        .map(|pair| {
            pair[0]
                .iter()
                .zip(&pair[1])
                .map(|(top, bottom)| match (top, bottom) {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                })
                .collect::<String>()
                .trim_end()
                .to_owned()
        })
        .collect();
    Some(rows)
}

/// The spinner line while `login` waits, or plain lines without a terminal.
pub struct Progress {
    tty: bool,
    deadline: Instant,
    /// Whether a spinner line is on screen (to clear before printing anything else).
    drawn: Cell<bool>,
}

impl Progress {
    pub fn new(tty: bool, deadline: Instant) -> Self {
        if !tty {
            let left = deadline.saturating_duration_since(Instant::now());
            eprintln!(
                "Waiting for approval (the code expires in {})…",
                crate::time::countdown(left)
            );
        }
        Self {
            tty,
            deadline,
            drawn: Cell::new(false),
        }
    }

    /// Prints `line` on its own, above the spinner.
    pub fn note(&self, line: &str) {
        self.clear();
        eprintln!("{line}");
    }

    /// Redraws the spinner until dropped (the caller races it against the poll); without a
    /// terminal it never completes and draws nothing.
    pub async fn spin(&self) {
        if !self.tty {
            return std::future::pending().await;
        }
        for frame in SPINNER.iter().cycle() {
            let left = self.deadline.saturating_duration_since(Instant::now());
            let mut err = io::stderr().lock();
            let _ = write!(
                err,
                "{CLEAR_LINE}{frame} Waiting for approval · the code expires in {} · Ctrl-C to cancel",
                crate::time::countdown(left)
            );
            let _ = err.flush();
            drop(err);
            self.drawn.set(true);
            tokio::time::sleep(FRAME).await;
        }
    }

    /// Removes the spinner line.
    pub fn clear(&self) {
        if self.drawn.replace(false) {
            let mut err = io::stderr().lock();
            let _ = write!(err, "{CLEAR_LINE}");
            let _ = err.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_drops_escapes_controls_and_bidi_overrides() {
        assert_eq!(printable("BCDF-GHJK"), "BCDF-GHJK");
        assert_eq!(printable("a\x1b[2Jb\r\nc\u{7}"), "a[2Jbc");
        assert_eq!(printable("x\u{202E}y\u{2066}z"), "xyz");
        assert_eq!(printable("résumé ✓"), "résumé ✓");
    }

    #[test]
    fn printable_drops_bidi_marks_and_invisible_format_characters() {
        // Found by the `portal_login` fuzz property (fuzz/regressions/portal_login): the bidi marks (LRM, RLM, ALM)
        // reorder what a terminal shows as well as the overrides do, and zero-width and tag
        // characters hide text; all of them went through.
        assert_eq!(printable("a\u{200E}b\u{200F}c\u{61C}d"), "abcd");
        assert_eq!(printable("x\u{200B}y\u{FEFF}z\u{E0041}\u{AD}"), "xyz");
        assert_eq!(printable("a\u{2028}b\u{2029}c"), "abc");
    }

    #[test]
    fn large_text_is_three_rows_of_half_blocks() {
        let rows = large_text("BC-D").unwrap();
        assert_eq!(rows.len(), 3);
        // B's first two pixel rows ("#### " over "#   #") give "█▀▀▀▄".
        assert!(rows[0].starts_with("█▀▀▀▄"), "{rows:?}");
        // The dash sits in the middle row only.
        assert!(rows[1].contains("▀▀▀"), "{rows:?}");
        assert_eq!(large_text("ab"), None);
    }

    #[test]
    fn every_user_code_character_has_a_glyph() {
        // The server's alphabet (design.md) and digits.
        for c in "BCDFGHJKLMNPQRSTVWXZ0123456789-AEIOUY".chars() {
            assert!(glyph(c).is_some(), "{c}");
        }
    }

    #[test]
    fn the_qr_code_is_half_blocks_and_coloured_only_on_request() {
        let plain = qr_code("http://127.0.0.1:9000/device?user_code=BCDF-GHJK", false).unwrap();
        assert!(plain.contains('█') && !plain.contains('\x1b'));
        let lines: Vec<&str> = plain.lines().collect();
        // A version-3 code (29 modules) plus 4-module quiet zones: 37 wide, 19 rows.
        assert_eq!(lines[0].chars().count(), 37);
        assert_eq!(lines.len(), 19);
        let coloured = qr_code("x", true).unwrap();
        assert!(coloured.starts_with("\x1b[30;107m"));
    }
}
