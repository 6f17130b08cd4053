//! Facts about the Cognito user pool that follow from its id.
//!
//! A pool id is `<region>_<suffix>` (`eu-west-1_AbC123`); cognito-local's are `local_<suffix>`,
//! whose prefix is no region. The region comes from `COGNITO_REGION`, else the id's prefix when
//! it looks like a region, else `AWS_REGION`.
//!
//! The issuer Cognito writes into `iss` depends on the pool's issuer type: ORIGINAL
//! `https://cognito-idp.<region>.amazonaws.com/<pool id>`, UPDATED
//! `https://issuer-cognito-idp.<region>.amazonaws.com/<pool id>` (AWS recommends it; a pool can
//! be switched). Both are accepted by default, each compared exactly, so a pool switched either
//! way keeps working. The keys are the pool's, published at
//! `https://cognito-idp.<region>.amazonaws.com/<pool id>/.well-known/jwks.json` whatever the
//! issuer type; they are never fetched from a URL a token names. `COGNITO_ISSUER` (one issuer
//! or a comma-separated list) and `COGNITO_JWKS_URL` override them, for emulators.

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

    /// The accepted issuers: `COGNITO_ISSUER` (comma-separated), or both of this pool's
    /// formats, ORIGINAL first.
    pub fn issuers(&self, env: &Env) -> Result<Vec<String>, ConfigError> {
        const NAME: &str = "COGNITO_ISSUER";
        match env.list(NAME) {
            Some(list) if list.is_empty() => Err(ConfigError::invalid(NAME, "names no issuer")),
            Some(list) => {
                for issuer in &list {
                    check_base_url(NAME, issuer)?;
                }
                Ok(list)
            }
            None => Ok(vec![
                self.original_issuer(),
                format!(
                    "https://issuer-cognito-idp.{}.amazonaws.com/{}",
                    self.region, self.id
                ),
            ]),
        }
    }

    /// `https://cognito-idp.<region>.amazonaws.com/<pool id>`.
    fn original_issuer(&self) -> String {
        format!(
            "https://cognito-idp.{}.amazonaws.com/{}",
            self.region, self.id
        )
    }

    /// `COGNITO_JWKS_URL`, or `<first of COGNITO_ISSUER>/.well-known/jwks.json`, or the pool's
    /// own keys (under its ORIGINAL issuer, whatever its issuer type).
    pub fn jwks_url(&self, env: &Env) -> Result<String, ConfigError> {
        if let Some(raw) = env.optional("COGNITO_JWKS_URL") {
            return check_base_url("COGNITO_JWKS_URL", raw);
        }
        let base = match env.optional("COGNITO_ISSUER") {
            Some(_) => self.issuers(env)?.swap_remove(0),
            None => self.original_issuer(),
        };
        Ok(format!(
            "{}/.well-known/jwks.json",
            base.trim_end_matches('/')
        ))
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
            pool.issuers(&Env::default()).unwrap(),
            [
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123",
                "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
            ]
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
        assert_eq!(pool.issuers(&e).unwrap(), ["http://127.0.0.1:9229/local_x"]);
        assert_eq!(
            pool.jwks_url(&e).unwrap(),
            "http://127.0.0.1:9229/local_x/.well-known/jwks.json"
        );
    }

    #[test]
    fn several_issuers_are_listed_and_each_checked() {
        let pool_id = ("COGNITO_USER_POOL_ID", "eu-west-1_AbC123");
        let e = env(&[
            pool_id,
            ("COGNITO_ISSUER", "https://a.example/p, https://b.example/p"),
        ]);
        let pool = UserPool::from_env(&e).unwrap();
        assert_eq!(
            pool.issuers(&e).unwrap(),
            ["https://a.example/p", "https://b.example/p"]
        );
        assert_eq!(
            pool.jwks_url(&e).unwrap(),
            "https://a.example/p/.well-known/jwks.json"
        );
        for bad in [",", "https://a.example/p,cognito.example"] {
            let e = env(&[pool_id, ("COGNITO_ISSUER", bad)]);
            let err = pool.issuers(&e).unwrap_err();
            assert!(err.to_string().contains("COGNITO_ISSUER"), "{bad}: {err}");
        }
    }
}
