//! Which portal and which app client: resolved from flags, then the environment
//! (`PORTAL_AUTH_URL`, `PORTAL_CLIENT_ID`), then the config file, in that order, per setting.
//!
//! Also where portal-login keeps its files: `$XDG_CONFIG_HOME/portal-auth/` (an absolute
//! `XDG_CONFIG_HOME`, as the XDG spec requires), else `$HOME/.config/portal-auth/`. The config
//! file is `config.toml` there unless `--config` names another. Values are parsed into
//! [`BaseUrl`] and [`ClientId`] here, once, so the rest of the crate never re-checks them.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::exit::{Exit, Failure};

pub const ENV_URL: &str = "PORTAL_AUTH_URL";
pub const ENV_CLIENT_ID: &str = "PORTAL_CLIENT_ID";
/// The folder under the user's config directory.
pub const DIR_NAME: &str = "portal-auth";
pub const CONFIG_FILE: &str = "config.toml";

/// The API's base URL (stage included), without a trailing slash: `https://` anywhere, plain
/// `http://` only on a loopback host (the local stack), since tokens travel over it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(String);

impl BaseUrl {
    pub fn parse(input: &str) -> Result<Self, String> {
        let url =
            url::Url::parse(input.trim()).map_err(|e| format!("{input:?} is not a URL: {e}"))?;
        check_transport(&url)?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!("{input:?}: a base URL has no query or fragment"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!(
                "{input:?}: a base URL carries no user name or password"
            ));
        }
        Ok(Self(url.as_str().trim_end_matches('/').to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `<base><path>`, for the well-known metadata path.
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `https`, or `http` to a loopback address: the rule for the base URL and every endpoint the
/// server's metadata names (a token must not cross a network in clear text).
pub fn check_transport(url: &url::Url) -> Result<(), String> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(format!(
            "{url}: plain http is allowed only to 127.0.0.1, [::1] or localhost; use https"
        )),
        other => Err(format!("{url}: unsupported scheme {other:?}; use https")),
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A Cognito app client id: 1–128 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(input: &str) -> Result<Self, String> {
        let id = input.trim();
        if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!(
                "{input:?} is not a client id (1-128 visible ASCII characters)"
            ));
        }
        Ok(Self(id.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Space-separated scope tokens (RFC 6749 §3.3: `%x21 / %x23-5B / %x5D-7E`).
pub fn parse_scope(input: &str) -> Result<String, String> {
    let tokens: Vec<&str> = input.split_whitespace().collect();
    let valid = |t: &&str| {
        t.bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
    };
    if tokens.is_empty() || !tokens.iter().all(valid) {
        return Err(format!("{input:?} is not a list of scopes"));
    }
    Ok(tokens.join(" "))
}

/// The config file. Unknown keys are an error, so a typo does not silently fall back.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub url: Option<String>,
    pub client_id: Option<String>,
    pub scope: Option<String>,
}

/// What the flags said.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub url: Option<String>,
    pub client_id: Option<String>,
    pub scope: Option<String>,
    pub config: Option<PathBuf>,
}

/// Where a setting came from, shown by `status` so precedence surprises are easy to see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag(&'static str),
    Env(&'static str),
    File(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "flag {flag}"),
            Source::Env(var) => write!(f, "environment {var}"),
            Source::File(path) => write!(f, "config file {}", path.display()),
        }
    }
}

/// Everything a command needs to know about where it talks to and where it keeps files.
#[derive(Debug, Clone)]
pub struct Settings {
    pub base_url: BaseUrl,
    pub base_url_source: Source,
    pub client_id: ClientId,
    pub client_id_source: Source,
    pub scope: Option<String>,
    /// `$XDG_CONFIG_HOME/portal-auth` or `$HOME/.config/portal-auth`.
    pub dir: PathBuf,
}

/// Reads the real environment and config file.
pub fn settings(flags: &Overrides) -> Result<Settings, Failure> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let dir = config_dir(&env)?;
    let (path, explicit) = match &flags.config {
        Some(path) => (path.clone(), true),
        None => (dir.join(CONFIG_FILE), false),
    };
    let file = load_file(&path, explicit)?;
    resolve(flags, &env, &file, &path, dir)
}

/// `$XDG_CONFIG_HOME/portal-auth` when that is absolute, else `$HOME/.config/portal-auth`.
pub fn config_dir(env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf, Failure> {
    if let Some(xdg) = env("XDG_CONFIG_HOME").map(PathBuf::from)
        && xdg.is_absolute()
    {
        return Ok(xdg.join(DIR_NAME));
    }
    match env("HOME").map(PathBuf::from) {
        Some(home) if home.is_absolute() => Ok(home.join(".config").join(DIR_NAME)),
        _ => Err(Failure::new(
            Exit::Usage,
            "cannot find a config directory: neither XDG_CONFIG_HOME nor HOME is an absolute path",
        )),
    }
}

/// The config file; a missing default file is an empty config, a missing `--config` an error.
pub fn load_file(path: &Path, explicit: bool) -> Result<FileConfig, Failure> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
            return Ok(FileConfig::default());
        }
        Err(e) => {
            return Err(Failure::new(
                Exit::Usage,
                format!("cannot read config file {}: {e}", path.display()),
            ));
        }
    };
    toml::from_str(&text).map_err(|e| {
        Failure::new(
            Exit::Usage,
            format!("config file {}: {}", path.display(), e.message()),
        )
        .with_hint(
            "it takes `url = \"https://…\"`, `client_id = \"…\"` and optionally `scope = \"…\"`",
        )
    })
}

/// Flag, then environment, then file, for each of URL, client id and scope.
pub fn resolve(
    flags: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
    file: &FileConfig,
    file_path: &Path,
    dir: PathBuf,
) -> Result<Settings, Failure> {
    let from_file = || Source::File(file_path.to_path_buf());
    let url = pick(
        &flags.url,
        "--url",
        env(ENV_URL),
        ENV_URL,
        &file.url,
        from_file(),
    );
    let client_id = pick(
        &flags.client_id,
        "--client-id",
        env(ENV_CLIENT_ID),
        ENV_CLIENT_ID,
        &file.client_id,
        from_file(),
    );
    let (url, url_source) = url.ok_or_else(|| missing("URL", "--url", ENV_URL, "url"))?;
    let (id, id_source) =
        client_id.ok_or_else(|| missing("client id", "--client-id", ENV_CLIENT_ID, "client_id"))?;
    let base_url = BaseUrl::parse(&url).map_err(|e| invalid(&url_source, e))?;
    let client_id = ClientId::parse(&id).map_err(|e| invalid(&id_source, e))?;
    let scope = match flags.scope.as_ref().or(file.scope.as_ref()) {
        Some(scope) => Some(parse_scope(scope).map_err(|e| Failure::new(Exit::Usage, e))?),
        None => None,
    };
    Ok(Settings {
        base_url,
        base_url_source: url_source,
        client_id,
        client_id_source: id_source,
        scope,
        dir,
    })
}

fn pick(
    flag: &Option<String>,
    flag_name: &'static str,
    env: Option<String>,
    env_name: &'static str,
    file: &Option<String>,
    file_source: Source,
) -> Option<(String, Source)> {
    if let Some(v) = flag {
        return Some((v.clone(), Source::Flag(flag_name)));
    }
    if let Some(v) = env {
        return Some((v, Source::Env(env_name)));
    }
    file.clone().map(|v| (v, file_source))
}

fn missing(what: &str, flag: &str, var: &str, key: &str) -> Failure {
    Failure::new(Exit::Usage, format!("no {what} configured")).with_hint(format!(
        "pass {flag}, set {var}, or put `{key} = \"…\"` in the config file (see --help)"
    ))
}

fn invalid(source: &Source, message: String) -> Failure {
    Failure::new(Exit::Usage, format!("{message} (from {source})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    fn file(url: Option<&str>, client_id: Option<&str>) -> FileConfig {
        FileConfig {
            url: url.map(str::to_owned),
            client_id: client_id.map(str::to_owned),
            scope: None,
        }
    }

    fn run(
        flags: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
        file: &FileConfig,
    ) -> Result<Settings, Failure> {
        resolve(
            flags,
            env,
            file,
            Path::new("/c/config.toml"),
            PathBuf::from("/c"),
        )
    }

    #[test]
    fn a_flag_beats_the_environment_which_beats_the_file() {
        let env = env_of(&[
            (ENV_URL, "https://env.example"),
            (ENV_CLIENT_ID, "env-client"),
        ]);
        let file = file(Some("https://file.example"), Some("file-client"));
        let flags = Overrides {
            url: Some("https://flag.example".into()),
            ..Overrides::default()
        };
        let s = run(&flags, &env, &file).unwrap();
        assert_eq!(s.base_url.as_str(), "https://flag.example");
        assert_eq!(s.base_url_source, Source::Flag("--url"));
        assert_eq!(s.client_id.as_str(), "env-client");
        assert_eq!(s.client_id_source, Source::Env(ENV_CLIENT_ID));

        let s = run(&Overrides::default(), &env_of(&[]), &file).unwrap();
        assert_eq!(s.base_url.as_str(), "https://file.example");
        assert_eq!(s.client_id.as_str(), "file-client");
        assert_eq!(
            s.client_id_source,
            Source::File(PathBuf::from("/c/config.toml"))
        );
    }

    #[test]
    fn a_missing_setting_is_a_usage_error_naming_every_way_to_set_it() {
        let err = run(
            &Overrides::default(),
            &env_of(&[(ENV_URL, "https://x.example")]),
            &FileConfig::default(),
        )
        .unwrap_err();
        assert_eq!(err.exit, Exit::Usage);
        assert_eq!(err.message, "no client id configured");
        let hint = err.hint.unwrap();
        for way in ["--client-id", ENV_CLIENT_ID, "client_id = "] {
            assert!(hint.contains(way), "{hint}");
        }
    }

    #[test]
    fn a_malformed_value_names_its_source() {
        let err = run(
            &Overrides::default(),
            &env_of(&[(ENV_URL, "http://portal.example.com"), (ENV_CLIENT_ID, "c")]),
            &FileConfig::default(),
        )
        .unwrap_err();
        assert_eq!(err.exit, Exit::Usage);
        assert!(
            err.message.contains("environment PORTAL_AUTH_URL"),
            "{}",
            err.message
        );
        assert!(err.message.contains("plain http"), "{}", err.message);
    }

    #[test]
    fn base_urls_need_https_except_on_loopback() {
        let ok = [
            (
                "https://api.example.com/prod/",
                "https://api.example.com/prod",
            ),
            ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
            ("http://localhost:9000/", "http://localhost:9000"),
            ("http://[::1]:9000", "http://[::1]:9000"),
            ("HTTPS://API.example.com", "https://api.example.com"),
        ];
        for (input, normalized) in ok {
            assert_eq!(
                BaseUrl::parse(input).unwrap().as_str(),
                normalized,
                "{input}"
            );
        }
        let bad = [
            "http://api.example.com",
            "http://10.0.0.1",
            "ftp://127.0.0.1",
            "https://api.example.com/?x=1",
            "https://api.example.com/#f",
            "https://user:pw@api.example.com",
            "api.example.com",
            "",
        ];
        for input in bad {
            assert!(BaseUrl::parse(input).is_err(), "{input} accepted");
        }
    }

    #[test]
    fn client_ids_and_scopes_are_checked() {
        assert!(ClientId::parse("6hd7v2lq0uf8n4v7o0r2s3f1k9").is_ok());
        for bad in ["", "has space", &"x".repeat(129), "tab\there"] {
            assert!(ClientId::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_scope(" openid  email ").unwrap(), "openid email");
        for bad in ["", "   ", "open\"id", "a\\b"] {
            assert!(parse_scope(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_config_dir_follows_xdg_then_home() {
        let dir = config_dir(&env_of(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])).unwrap();
        assert_eq!(dir, PathBuf::from("/x/portal-auth"));
        // A relative XDG_CONFIG_HOME is invalid per the spec and ignored.
        let dir = config_dir(&env_of(&[("XDG_CONFIG_HOME", "rel"), ("HOME", "/h")])).unwrap();
        assert_eq!(dir, PathBuf::from("/h/.config/portal-auth"));
        assert_eq!(config_dir(&env_of(&[])).unwrap_err().exit, Exit::Usage);
    }

    #[test]
    fn the_config_file_is_toml_and_refuses_unknown_keys() {
        let dir = std::env::temp_dir().join(format!("portal-login-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.toml");
        std::fs::write(
            &path,
            "url = \"https://a.example\"\nclient_id = \"c\"\nscope = \"openid\"\n",
        )
        .unwrap();
        let parsed = load_file(&path, true).unwrap();
        assert_eq!(parsed.url.as_deref(), Some("https://a.example"));
        assert_eq!(parsed.scope.as_deref(), Some("openid"));

        std::fs::write(&path, "uri = \"https://a.example\"\n").unwrap();
        let err = load_file(&path, true).unwrap_err();
        assert_eq!(err.exit, Exit::Usage);
        assert!(err.message.contains("uri"), "{}", err.message);

        let absent = dir.join("absent.toml");
        assert_eq!(load_file(&absent, false).unwrap(), FileConfig::default());
        assert_eq!(load_file(&absent, true).unwrap_err().exit, Exit::Usage);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
