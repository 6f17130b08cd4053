//! Facts about the Cognito user pool that follow from its id.
//!
//! A pool id is `<region>_<suffix>` (`eu-west-1_AbC123`); cognito-local's are `local_<suffix>`,
//! whose prefix is no region. The region comes from `COGNITO_REGION`, else the id's prefix when
//! it looks like a region, else `AWS_REGION`. The issuer Cognito writes into `iss` is
//! `https://cognito-idp.<region>.amazonaws.com/<pool id>`, and its keys are published at
//! `<issuer>/.well-known/jwks.json`; both can be overridden (`COGNITO_ISSUER`,
//! `COGNITO_JWKS_URL`) for emulators.

use crate::env::{ConfigError, Env, check_base_url};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPool {
    pub id: String,
    pub region: String,
}

impl UserPool {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        const NAME: &str = "COGNITO_USER_POOL_ID";
        let id = env.required(NAME)?;
        let (prefix, suffix) = id
            .split_once('_')
            .ok_or_else(|| ConfigError::invalid(NAME, "expected <region>_<id>"))?;
        let well_formed =
            |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !well_formed(prefix) || !well_formed(suffix) || id.len() > 55 {
            return Err(ConfigError::invalid(NAME, "expected <region>_<id>"));
        }
        let region = env
            .optional("COGNITO_REGION")
            .or_else(|| looks_like_region(prefix).then_some(prefix))
            .or_else(|| env.optional("AWS_REGION"))
            .ok_or_else(|| ConfigError::Missing("COGNITO_REGION".into()))?;
        Ok(Self {
            id: id.to_owned(),
            region: region.to_owned(),
        })
    }

    /// `COGNITO_ISSUER`, or the issuer Cognito uses for this pool.
    pub fn issuer(&self, env: &Env) -> Result<String, ConfigError> {
        match env.optional("COGNITO_ISSUER") {
            Some(raw) => check_base_url("COGNITO_ISSUER", raw).map(|_| raw.to_owned()),
            None => Ok(format!(
                "https://cognito-idp.{}.amazonaws.com/{}",
                self.region, self.id
            )),
        }
    }

    /// `COGNITO_JWKS_URL`, or `<issuer>/.well-known/jwks.json`.
    pub fn jwks_url(&self, env: &Env) -> Result<String, ConfigError> {
        match env.optional("COGNITO_JWKS_URL") {
            Some(raw) => check_base_url("COGNITO_JWKS_URL", raw),
            None => Ok(format!(
                "{}/.well-known/jwks.json",
                self.issuer(env)?.trim_end_matches('/')
            )),
        }
    }
}

/// `eu-west-1`, `us-gov-west-1`, `ap-southeast-3`: lower-case words and a trailing number.
fn looks_like_region(prefix: &str) -> bool {
    let mut parts = prefix.split('-');
    let last = parts.next_back().unwrap_or_default();
    prefix.split('-').count() >= 3
        && !last.is_empty()
        && last.chars().all(|c| c.is_ascii_digit())
        && parts.all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn region_comes_from_the_pool_id_when_it_is_one() {
        let pool =
            UserPool::from_env(&env(&[("COGNITO_USER_POOL_ID", "eu-west-1_AbC123")])).unwrap();
        assert_eq!(pool.region, "eu-west-1");
        assert_eq!(
            pool.issuer(&Env::default()).unwrap(),
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
        );
        assert_eq!(
            pool.jwks_url(&Env::default()).unwrap(),
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json"
        );
    }

    #[test]
    fn cognito_local_ids_take_the_region_from_aws_region() {
        let e = env(&[
            ("COGNITO_USER_POOL_ID", "local_5pTb7Yqy"),
            ("AWS_REGION", "us-east-1"),
        ]);
        assert_eq!(UserPool::from_env(&e).unwrap().region, "us-east-1");
        let e = env(&[("COGNITO_USER_POOL_ID", "local_5pTb7Yqy")]);
        assert_eq!(
            UserPool::from_env(&e),
            Err(ConfigError::Missing("COGNITO_REGION".into()))
        );
    }

    #[test]
    fn malformed_pool_ids_name_the_variable() {
        for bad in ["nounderscore", "_x", "eu-west-1_", "eu west_1", "a_b/c"] {
            let err = UserPool::from_env(&env(&[("COGNITO_USER_POOL_ID", bad)])).unwrap_err();
            assert!(
                err.to_string().contains("COGNITO_USER_POOL_ID"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn overrides_win() {
        let e = env(&[
            ("COGNITO_USER_POOL_ID", "local_x"),
            ("COGNITO_REGION", "eu-west-1"),
            ("COGNITO_ISSUER", "http://127.0.0.1:9229/local_x"),
        ]);
        let pool = UserPool::from_env(&e).unwrap();
        assert_eq!(pool.issuer(&e).unwrap(), "http://127.0.0.1:9229/local_x");
        assert_eq!(
            pool.jwks_url(&e).unwrap(),
            "http://127.0.0.1:9229/local_x/.well-known/jwks.json"
        );
    }
}
