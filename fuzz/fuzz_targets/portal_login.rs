//! Fuzz target `portal_login`: what it asserts is `portal_auth_fuzz_props::portal_login`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    portal_auth_fuzz_props::portal_login::check_portal_login(data);
});
