//! Fuzz target `callback_query`: what it asserts is `portal_auth_fuzz_props::callback_query`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    portal_auth_fuzz_props::callback_query::check_callback_query(data);
});
