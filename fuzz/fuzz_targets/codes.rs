//! Fuzz target `codes`: what it asserts is `portal_auth_fuzz_props::codes`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    portal_auth_fuzz_props::codes::check_codes(data);
});
