//! Fuzz target `authorizer_event`: what it asserts is `portal_auth_fuzz_props::authorizer_event`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    portal_auth_fuzz_props::authorizer_event::check_authorizer_event(data);
});
