//! Lambda entry point of `device-verify`: wiring only (see `portal_auth_device::lambda_main`).

portal_auth_device::lambda_main!(
    device_verify::handle,
    portal_auth_device::portal_auth_runtime::metrics::Function::DeviceVerify
);
