//! Lambda entry point of `device-callback`: wiring only (see `portal_auth_device::lambda_main`).

portal_auth_device::lambda_main!(
    device_callback::handle,
    portal_auth_device::portal_auth_runtime::metrics::Function::DeviceCallback
);
