//! Lambda entry point of `device-code`: wiring only (see `portal_auth_device::lambda_main`).

portal_auth_device::lambda_main!(
    device_code::handle,
    portal_auth_device::portal_auth_runtime::metrics::Function::DeviceCode
);
