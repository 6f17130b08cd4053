//! What the fuzz targets assert, in ordinary stable code.
//!
//! Every parser that reads attacker-controlled bytes has one `check_<target>(data: &[u8])`
//! here that feeds the bytes to the real entry point and panics when a property breaks — not
//! only on a panic of the parser: each module says what must hold. Two callers:
//!
//! - the cargo-fuzz targets under `fuzz/fuzz_targets/` (nightly, `make fuzz`), one line each;
//! - `tests/replay.rs` (stable, `make test`), which replays every committed input of
//!   `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/` through the same function.
//!
//! So an input fuzzing ever found keeps being checked without a nightly toolchain.

pub mod authorizer_event;
pub mod authorizer_header;
pub mod callback_query;
pub mod codes;
pub mod cookies;
pub mod form;
pub mod portal_login;
pub mod rules;
pub mod signing;

use std::future::Future;
use std::sync::LazyLock;

/// One target's check.
pub type Check = fn(&[u8]);

/// Every target: its name (of `fuzz/fuzz_targets/<name>.rs`, `fuzz/corpus/<name>/`) and check.
pub const TARGETS: &[(&str, Check)] = &[
    ("authorizer_event", authorizer_event::check_authorizer_event),
    (
        "authorizer_header",
        authorizer_header::check_authorizer_header,
    ),
    ("callback_query", callback_query::check_callback_query),
    ("codes", codes::check_codes),
    ("cookies", cookies::check_cookies),
    ("form", form::check_form),
    ("portal_login", portal_login::check_portal_login),
    ("rules", rules::check_rules),
];

/// One runtime for the async entry points: current-thread, so a fuzz target stays one process
/// on one core.
static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
});

fn block_on<F: Future>(future: F) -> F::Output {
    RUNTIME.block_on(future)
}
