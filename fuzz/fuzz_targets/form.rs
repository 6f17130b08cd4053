//! Fuzz target `form`: what it asserts is `portal_auth_fuzz_props::form`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    portal_auth_fuzz_props::form::check_form(data);
});
