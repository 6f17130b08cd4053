//! Fuzz target `authorizer_header`: what it asserts is `portal_auth_fuzz_props::authorizer_header`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    portal_auth_fuzz_props::authorizer_header::check_authorizer_header(data);
});
