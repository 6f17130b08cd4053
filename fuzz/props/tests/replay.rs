//! `make test`'s half of fuzzing, on stable: every committed input of each target —
//! `fuzz/corpus/<target>/` (kept small with `cargo fuzz cmin`) and
//! `fuzz/regressions/<target>/` (what fuzzing found, one file per finding) — goes through the
//! target's own check ([`portal_auth_fuzz_props::TARGETS`]). A property broken by any of them
//! fails the test, naming the file; an empty corpus fails it too, so it cannot pass on nothing.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use portal_auth_fuzz_props::{Check, TARGETS};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(target: &str) {
    let check: Check = TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, check)| *check)
        .unwrap_or_else(|| panic!("no target {target}"));
    let corpus = inputs(&fuzz_dir().join("corpus").join(target));
    let regressions = inputs(&fuzz_dir().join("regressions").join(target));
    assert!(
        !corpus.is_empty(),
        "fuzz/corpus/{target} is empty: nothing would be replayed"
    );
    let mut failures = Vec::new();
    for file in corpus.iter().chain(&regressions) {
        let data = std::fs::read(file).expect("a corpus file");
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&data))) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{}: {message}", file.display()));
        }
    }
    println!(
        "{target}: replayed {} corpus inputs and {} regressions",
        corpus.len(),
        regressions.len()
    );
    assert!(
        failures.is_empty(),
        "{target}: {} of {} inputs break a property:\n{}",
        failures.len(),
        corpus.len() + regressions.len(),
        failures.join("\n")
    );
}

macro_rules! replay_tests {
    ($($target:ident),* $(,)?) => {
        $(#[test]
        fn $target() {
            replay(stringify!($target));
        })*

        /// Every fuzz target has a check and a replay test here, and nothing else does.
        #[test]
        fn every_fuzz_target_is_replayed() {
            let mut on_disk: Vec<String> = inputs(&fuzz_dir().join("fuzz_targets"))
                .iter()
                .filter_map(|p| Some(p.file_stem()?.to_str()?.to_owned()))
                .collect();
            on_disk.sort();
            let mut replayed = vec![$(stringify!($target).to_owned()),*];
            replayed.sort();
            let mut checked: Vec<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
            checked.sort();
            assert_eq!(on_disk, replayed);
            assert_eq!(checked, replayed);
        }
    };
}

replay_tests!(
    authorizer_event,
    authorizer_header,
    callback_query,
    codes,
    cookies,
    form,
    portal_login,
    rules,
);
