//! Fuzz target `rules`: what it asserts is `portal_auth_fuzz_props::rules`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    portal_auth_fuzz_props::rules::check_rules(data);
});
