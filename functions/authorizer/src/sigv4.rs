//! AWS Signature Version 4 for the one kind of request the authorizer sends to AWS: a `POST`
//! of a JSON body to a service's root path (DynamoDB's `BatchGetItem`, [`crate::revocations`]).
//!
//! Why not the AWS SDK: the authorizer sits in front of every portal request, and its cold
//! start and size count (the README's footprint table). `aws-sdk-dynamodb` with `aws-config`
//! would add the SDK's runtime, its credential chain (profile files, IMDS, SSO, STS) and a
//! second HTTP client for one request every 30 seconds; this module is ~150 lines over the
//! aws-lc-rs HMAC/SHA-256 and the reqwest client the crate already links for the JWKS. It
//! signs what the [specification] says, no more (no query string, no S3 quirks, no presigning);
//! its output is checked against the `aws-sigv4` crate, the SDK's own signer, in the tests.
//!
//! Credentials are the environment's ([`portal_auth_runtime::aws`]): what Lambda gives a
//! function of its execution role, for the life of the instance. They are never logged
//! ([`Credentials`]'s `Debug` shows the key id only).
//!
//! [specification]: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html

use std::fmt::Write as _;

use aws_lc_rs::{digest, hmac};

use portal_auth_domain::UtcDateTime;

pub use portal_auth_runtime::aws::Credentials;

/// One request to sign: `POST <path>` to `host` with these extra headers and body.
pub struct Request<'a> {
    /// As the `Host` header says it: `dynamodb.eu-west-1.amazonaws.com`, or `127.0.0.1:5000`.
    pub host: &'a str,
    pub path: &'a str,
    /// Lower-case names, besides `host` and the `x-amz-*` signing headers.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// What to add to the request: `(name, value)`, lower-case names.
pub type SigningHeaders = Vec<(&'static str, String)>;

/// Signs `request` for `service` in `region` at `unix_seconds`.
pub fn sign(
    request: &Request<'_>,
    credentials: &Credentials,
    region: &str,
    service: &str,
    unix_seconds: u64,
) -> SigningHeaders {
    let amz_date = amz_date(unix_seconds);
    let date = &amz_date[..8];
    let mut headers: Vec<(&str, &str)> = request.headers.to_vec();
    headers.push(("host", request.host));
    headers.push(("x-amz-date", &amz_date));
    if let Some(token) = &credentials.session_token {
        headers.push(("x-amz-security-token", token));
    }
    headers.sort_unstable_by_key(|(name, _)| *name);
    let signed_headers = headers
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(";");
    let mut canonical = format!("POST\n{}\n\n", request.path);
    for (name, value) in &headers {
        let _ = writeln!(canonical, "{name}:{}", value.trim());
    }
    let _ = write!(
        canonical,
        "\n{signed_headers}\n{}",
        hex_sha256(request.body)
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex_sha256(canonical.as_bytes())
    );
    let key = signing_key(&credentials.secret_access_key, date, region, service);
    let signature = hex::encode(hmac::sign(&key, string_to_sign.as_bytes()));
    let mut out = vec![
        (
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
                credentials.access_key_id
            ),
        ),
        ("x-amz-date", amz_date.clone()),
    ];
    if let Some(token) = &credentials.session_token {
        out.push(("x-amz-security-token", token.clone()));
    }
    out
}

fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> hmac::Key {
    let step = |key: &[u8], data: &str| {
        hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes())
    };
    let k_date = step(format!("AWS4{secret}").as_bytes(), date);
    let k_region = step(k_date.as_ref(), region);
    let k_service = step(k_region.as_ref(), service);
    let k_signing = step(k_service.as_ref(), "aws4_request");
    hmac::Key::new(hmac::HMAC_SHA256, k_signing.as_ref())
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, bytes))
}

/// `YYYYMMDDTHHMMSSZ` in UTC.
pub fn amz_date(unix_seconds: u64) -> String {
    let t = UtcDateTime::from_unix(unix_seconds);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4;

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(amz_date(1_440_938_160), "20150830T123600Z");
        assert_eq!(amz_date(951_782_400), "20000229T000000Z");
        assert_eq!(amz_date(1_796_083_199), "20261130T235959Z");
        assert_eq!(amz_date(4_102_444_800), "21000101T000000Z");
    }

    /// The AWS SDK's signer on the same request.
    fn reference(request: &Request<'_>, credentials: &Credentials, at: u64) -> String {
        let identity = aws_credential_types::Credentials::new(
            &credentials.access_key_id,
            &credentials.secret_access_key,
            credentials.session_token.clone(),
            None,
            "test",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("eu-west-1")
            .name("dynamodb")
            .time(UNIX_EPOCH + Duration::from_secs(at))
            .settings(SigningSettings::default())
            .build()
            .expect("params")
            .into();
        let mut headers: Vec<(&str, &str)> = request.headers.to_vec();
        headers.push(("host", request.host));
        let url = format!("http://{}{}", request.host, request.path);
        let signable = SignableRequest::new(
            "POST",
            &url,
            headers.into_iter(),
            SignableBody::Bytes(request.body),
        )
        .expect("signable");
        let (_, signature) = aws_sigv4::http_request::sign(signable, &params)
            .expect("signed")
            .into_parts();
        signature
    }

    fn signature_of(headers: &SigningHeaders) -> String {
        let auth = &headers
            .iter()
            .find(|(n, _)| *n == "authorization")
            .unwrap()
            .1;
        auth.rsplit_once("Signature=").unwrap().1.to_owned()
    }

    #[test]
    fn signatures_match_the_aws_sdks_signer() {
        let body = br#"{"RequestItems":{"grants":{"Keys":[{"pk":{"S":"revoked#498912"}}]}}}"#;
        let headers = [
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", "DynamoDB_20120810.BatchGetItem"),
        ];
        let mut credentials = Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        };
        for host in ["dynamodb.eu-west-1.amazonaws.com", "127.0.0.1:5000"] {
            for token in [None, Some("IQoJb3JpZ2luX2VjE//token+with/slashes==")] {
                credentials.session_token = token.map(str::to_owned);
                for at in [1_440_938_160, 1_796_083_199] {
                    let request = Request {
                        host,
                        path: "/",
                        headers: &headers,
                        body,
                    };
                    let ours = sign(&request, &credentials, "eu-west-1", "dynamodb", at);
                    assert_eq!(
                        signature_of(&ours),
                        reference(&request, &credentials, at),
                        "{host} {token:?} {at}"
                    );
                    assert_eq!(
                        ours.iter().any(|(n, _)| *n == "x-amz-security-token"),
                        token.is_some()
                    );
                }
            }
        }
    }

    #[test]
    fn the_secret_never_shows_in_debug_output() {
        let credentials = Credentials {
            access_key_id: "AKID".into(),
            secret_access_key: "s3cr3t".into(),
            session_token: Some("t0k3n".into()),
        };
        let shown = format!("{credentials:?}");
        assert!(shown.contains("AKID"));
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("t0k3n"),
            "{shown}"
        );
    }
}
