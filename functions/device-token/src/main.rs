//! Lambda entry point of `device-token`: wiring only (see `portal_auth_device::lambda_main`).

portal_auth_device::lambda_main!(
    device_token::handle,
    portal_auth_device::portal_auth_runtime::metrics::Function::DeviceToken
);
