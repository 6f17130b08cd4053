//! Fuzz target `cookies`: what it asserts is `portal_auth_fuzz_props::cookies`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    portal_auth_fuzz_props::cookies::check_cookies(data);
});
