//! The one outbound HTTPS policy of every function: which roots a server certificate must chain
//! to, and the reqwest client builder that carries it. Every client the functions build (the
//! authorizer's JWKS and revocation reads, the device functions' token endpoint client and their
//! AWS SDK transport) starts from [`Trust::client_builder`].
//!
//! **Roots.** The Mozilla set compiled into the binary ([`webpki_roots`]), not the host's
//! `/etc/ssl/certs`: the functions only ever talk to AWS endpoints (Cognito's token endpoint
//! and JWKS, DynamoDB), whose certificates chain to Amazon Trust Services roots in that set.
//! Loading the host's store meant opening and parsing ~290 files in every cold start (issue 16),
//! before the first request; the compiled-in anchors are a static table, copied in
//! microseconds, and the same on every host. The set is as fresh as the `webpki-roots` version
//! in `Cargo.lock`: a root store change reaches the functions with a dependency update and a
//! deploy, not with the host's packages (Amazon's roots are valid into the 2030s).
//!
//! **A private CA** (a TLS-inspecting egress proxy, a VPC endpoint behind a private
//! certificate): put its PEM certificates in a file shipped with the function and name it in
//! `PORTAL_AUTH_EXTRA_CA_CERTS`. They are trusted *in addition* to the Mozilla set, read once
//! at cold start; a file that cannot be read, or holds no certificate or one that is not a
//! usable root, fails the cold start naming the variable. There is no way to trust the host's
//! store instead, and no way to turn verification off.
//!
//! The TLS stack is rustls over aws-lc-rs, the crypto backend the workspace already links once
//! (the authorizer verifies RS256 with it): no second backend, no OpenSSL.

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::{ConfigError, Env};

/// The variable naming a PEM file of extra trusted roots.
pub const EXTRA_CA_CERTS: &str = "PORTAL_AUTH_EXTRA_CA_CERTS";

/// The roots outbound connections trust: the compiled-in Mozilla set, plus the operator's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trust {
    extra_roots: Vec<CertificateDer<'static>>,
}

impl Trust {
    /// The Mozilla set, plus the roots of [`EXTRA_CA_CERTS`] when it is set.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let Some(path) = env.optional(EXTRA_CA_CERTS) else {
            return Ok(Self::default());
        };
        let pem = std::fs::read(path).map_err(|e| {
            ConfigError::invalid(EXTRA_CA_CERTS, format!("cannot read {path}: {e}"))
        })?;
        Self::with_extra_pem(&pem)
            .map_err(|why| ConfigError::invalid(EXTRA_CA_CERTS, format!("{path}: {why}")))
    }

    /// The Mozilla set plus every certificate of `pem`, each of which must be a usable root.
    pub fn with_extra_pem(pem: &[u8]) -> Result<Self, String> {
        let extra_roots = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("not PEM certificates ({e})"))?;
        if extra_roots.is_empty() {
            return Err("holds no PEM certificate".to_owned());
        }
        let mut store = RootCertStore::empty();
        for (i, cert) in extra_roots.iter().enumerate() {
            store
                .add(cert.clone())
                .map_err(|e| format!("certificate {} is not a usable root ({e})", i + 1))?;
        }
        Ok(Self { extra_roots })
    }

    /// How many roots a connection may chain to.
    #[cfg(test)]
    fn root_count(&self) -> usize {
        self.roots().len()
    }

    fn roots(&self) -> RootCertStore {
        let mut store = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        // Checked in `with_extra_pem`.
        store.add_parsable_certificates(self.extra_roots.iter().cloned());
        store
    }

    /// The TLS client configuration: these roots, rustls's safe protocol versions (TLS 1.2 and
    /// 1.3) and cipher suites, over aws-lc-rs.
    pub fn tls_config(&self) -> rustls::ClientConfig {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("aws-lc-rs supports rustls's default protocol versions")
            .with_root_certificates(self.roots())
            .with_no_client_auth()
    }

    /// A reqwest client builder that verifies servers against these roots; callers add their
    /// timeouts, redirect policy and user agent.
    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        reqwest::Client::builder().tls_backend_preconfigured(self.tls_config())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed CA certificate (`openssl req -x509 -newkey ec -pkeyopt
    /// ec_paramgen_curve:P-256 -subj /CN=portal-auth-test-ca -days 36500 -nodes`).
    const TEST_CA: &str = include_str!("../testdata/test-ca.pem");

    #[test]
    fn the_default_is_the_compiled_in_mozilla_set_and_reads_no_file() {
        let trust = Trust::from_env(&Env::from_pairs([("HOME", "/nonexistent")])).unwrap();
        assert_eq!(trust, Trust::default());
        assert_eq!(trust.root_count(), webpki_roots::TLS_SERVER_ROOTS.len());
        assert!(trust.root_count() > 100, "{}", trust.root_count());
    }

    #[test]
    fn an_extra_ca_file_adds_its_roots_to_the_set() {
        let dir = std::env::temp_dir().join(format!("portal-auth-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ca.pem");
        std::fs::write(&path, TEST_CA).unwrap();
        let env = Env::from_pairs([(EXTRA_CA_CERTS, path.to_str().unwrap())]);
        let trust = Trust::from_env(&env).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(trust.root_count(), webpki_roots::TLS_SERVER_ROOTS.len() + 1);
    }

    #[test]
    fn a_bad_extra_ca_file_fails_the_cold_start_naming_the_variable() {
        let missing = Env::from_pairs([(EXTRA_CA_CERTS, "/nonexistent/ca.pem")]);
        let err = Trust::from_env(&missing).unwrap_err().to_string();
        assert!(
            err.contains(EXTRA_CA_CERTS) && err.contains("cannot read"),
            "{err}"
        );

        assert!(Trust::with_extra_pem(b"").unwrap_err().contains("no PEM"));
        assert!(
            Trust::with_extra_pem(
                b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
            )
            .unwrap_err()
            .contains("not a usable root")
        );
    }

    #[test]
    fn every_client_builder_builds() {
        let trust = Trust::with_extra_pem(TEST_CA.as_bytes()).unwrap();
        assert!(trust.client_builder().build().is_ok());
        assert!(Trust::default().client_builder().build().is_ok());
    }
}
