//! The token cache: `<config dir>/credentials.json`, one entry per (base URL, client id).
//!
//! It holds refresh tokens, which are long-lived credentials, so it is treated like an SSH
//! private key:
//!
//! - the folder is created `0700` and tightened to `0700` when found looser (it is ours);
//! - the file is created `0600` and written atomically (a temp file in the same folder,
//!   `fsync`, `rename`), so a crash or a full disk never leaves half a file;
//! - a file that is not a regular file, is owned by someone else, or is readable or writable by
//!   group or others is **refused**, not read and not silently fixed: its tokens may already
//!   have been read, and the person should decide (`chmod 600`, or delete it and log in again);
//! - every change re-reads the file just before writing it, so two concurrent `portal-login`
//!   runs for different portals do not drop each other's entries.
//!
//! Unix only (Linux, macOS): the guarantees above are Unix file modes.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::exit::{Exit, Failure};

pub const FILE_NAME: &str = "credentials.json";
const VERSION: u32 = 1;
/// Far above any real cache; a bigger file is not ours.
const MAX_BYTES: u64 = 1 << 20;

/// One login: the tokens for one client at one portal.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub base_url: String,
    pub client_id: String,
    pub access_token: String,
    #[serde(default)]
    pub id_token: Option<String>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    pub token_type: String,
    #[serde(default)]
    pub scope: Option<String>,
    /// When the access token expires, Unix seconds.
    pub expires_at: u64,
    /// When these tokens were received, Unix seconds.
    pub obtained_at: u64,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("base_url", &self.base_url)
            .field("client_id", &self.client_id)
            .field("access_token", &"<redacted>")
            .field("id_token", &self.id_token.as_ref().map(|_| "<redacted>"))
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Session {
    fn is(&self, key: &Key<'_>) -> bool {
        self.base_url == key.base_url && self.client_id == key.client_id
    }
}

/// What a cache entry is keyed by.
#[derive(Debug, Clone, Copy)]
pub struct Key<'a> {
    pub base_url: &'a str,
    pub client_id: &'a str,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheFile {
    version: u32,
    sessions: Vec<Session>,
}

pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// Fails unless the cache file is absent or safe to read: `login` checks this before it asks
/// anyone to sign in, so an unsafe cache does not waste a sign-in.
pub fn check(dir: &Path) -> Result<(), Failure> {
    read(&path(dir)).map(|_| ())
}

/// The session for `key`, if any.
pub fn load(dir: &Path, key: Key<'_>) -> Result<Option<Session>, Failure> {
    let file = read(&path(dir))?;
    Ok(file.sessions.into_iter().find(|s| s.is(&key)))
}

/// Adds or replaces `session`'s entry; returns the file's path.
pub fn store(dir: &Path, session: Session) -> Result<PathBuf, Failure> {
    let path = path(dir);
    let mut file = read(&path)?;
    let key = Key {
        base_url: &session.base_url,
        client_id: &session.client_id,
    };
    file.sessions.retain(|s| !s.is(&key));
    file.sessions.push(session);
    write(dir, &file)?;
    Ok(path)
}

/// Removes `key`'s entry (and the file, once it holds none); returns the removed session.
pub fn forget(dir: &Path, key: Key<'_>) -> Result<Option<Session>, Failure> {
    let path = path(dir);
    let mut file = read(&path)?;
    let Some(index) = file.sessions.iter().position(|s| s.is(&key)) else {
        return Ok(None);
    };
    let removed = file.sessions.remove(index);
    if file.sessions.is_empty() {
        fs::remove_file(&path).map_err(|e| io_failure("cannot remove", &path, e))?;
    } else {
        write(dir, &file)?;
    }
    Ok(Some(removed))
}

fn read(path: &Path) -> Result<CacheFile, Failure> {
    // O_NOFOLLOW: a symlink planted at the cache's path is refused, not followed.
    let opened = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path);
    let mut handle = match opened {
        Ok(handle) => handle,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(CacheFile::default()),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(unsafe_cache(path, "it is a symbolic link"));
        }
        Err(e) => return Err(io_failure("cannot open", path, e)),
    };
    let meta = handle
        .metadata()
        .map_err(|e| io_failure("cannot inspect", path, e))?;
    check_private(path, &meta)?;
    let mut text = String::new();
    Read::by_ref(&mut handle)
        .take(MAX_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| io_failure("cannot read", path, e))?;
    parse(path, &text)
}

/// The refusal rules: a regular file, owned by us, no access for group or others.
fn check_private(path: &Path, meta: &fs::Metadata) -> Result<(), Failure> {
    if !meta.is_file() {
        return Err(unsafe_cache(path, "it is not a regular file"));
    }
    if meta.uid() != current_uid() {
        return Err(unsafe_cache(
            path,
            &format!("it is owned by uid {}, not by you", meta.uid()),
        ));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(unsafe_cache(
            path,
            &format!("its mode is {mode:04o}: group or others can access the tokens in it"),
        )
        .with_hint(format!(
            "if nobody else can have read it, `chmod 600 {}`; otherwise delete it, log in \
             again, and sign out of other sessions at the portal",
            path.display()
        )));
    }
    if meta.len() > MAX_BYTES {
        return Err(Failure::new(
            Exit::Error,
            format!("{} is too large to be a token cache", path.display()),
        ));
    }
    Ok(())
}

fn current_uid() -> u32 {
    // SAFETY: getuid(2) has no preconditions, cannot fail and touches no memory of ours.
    unsafe { libc::getuid() }
}

fn parse(path: &Path, text: &str) -> Result<CacheFile, Failure> {
    let file: CacheFile = serde_json::from_str(text).map_err(|e| {
        Failure::new(
            Exit::Error,
            format!("{} is not a portal-login token cache: {e}", path.display()),
        )
        .with_hint(format!(
            "delete {} and run `portal-login login`",
            path.display()
        ))
    })?;
    if file.version != VERSION {
        return Err(Failure::new(
            Exit::Error,
            format!(
                "{} is version {} of the token cache; this portal-login reads version {VERSION}",
                path.display(),
                file.version
            ),
        ));
    }
    Ok(file)
}

fn write(dir: &Path, file: &CacheFile) -> Result<(), Failure> {
    ensure_private_dir(dir)?;
    let body = serde_json::to_vec_pretty(&CacheFile {
        version: VERSION,
        sessions: file.sessions.clone(),
    })
    .map_err(|e| Failure::new(Exit::Error, format!("cannot encode the token cache: {e}")))?;
    let target = path(dir);
    let temp = dir.join(format!(
        ".{FILE_NAME}.{}.{}.tmp",
        std::process::id(),
        crate::time::now_unix()
    ));
    let result = write_new_private(&temp, &body).and_then(|()| fs::rename(&temp, &target));
    if let Err(e) = result {
        let _ = fs::remove_file(&temp);
        return Err(io_failure("cannot write", &target, e));
    }
    // Make the rename itself durable; a failure here loses nothing already written.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Creates `path` (which must not exist) with mode 0600 and fills it durably.
fn write_new_private(path: &Path, body: &[u8]) -> io::Result<()> {
    let mut out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    // The umask can only clear bits; set the mode explicitly anyway.
    out.set_permissions(fs::Permissions::from_mode(0o600))?;
    out.write_all(body)?;
    out.sync_all()
}

/// Creates the folder 0700, or tightens an existing one of ours to 0700.
fn ensure_private_dir(dir: &Path) -> Result<(), Failure> {
    if let Some(parent) = dir.parent() {
        fs::create_dir_all(parent).map_err(|e| io_failure("cannot create", parent, e))?;
    }
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io_failure("cannot create", dir, e)),
    }
    let meta = fs::symlink_metadata(dir).map_err(|e| io_failure("cannot inspect", dir, e))?;
    if !meta.is_dir() || meta.uid() != current_uid() {
        return Err(unsafe_cache(
            dir,
            "it is not a folder of yours (a symbolic link, a file, or another user's)",
        ));
    }
    if meta.mode() & 0o777 != 0o700 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| io_failure("cannot restrict the permissions of", dir, e))?;
    }
    Ok(())
}

fn unsafe_cache(path: &Path, why: &str) -> Failure {
    Failure::new(
        Exit::UnsafeCache,
        format!("refusing to use the token cache {}: {why}", path.display()),
    )
    .with_hint(format!(
        "delete {} and run `portal-login login`",
        path.display()
    ))
}

fn io_failure(what: &str, path: &Path, e: io::Error) -> Failure {
    Failure::new(Exit::Error, format!("{what} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or_default();
            let path = std::env::temp_dir().join(format!(
                "portal-login-{name}-{}-{nanos:x}",
                std::process::id()
            ));
            fs::create_dir_all(&path).unwrap();
            Self(path)
        }
        fn cache_dir(&self) -> PathBuf {
            self.0.join("portal-auth")
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn session(base_url: &str, client_id: &str) -> Session {
        Session {
            base_url: base_url.into(),
            client_id: client_id.into(),
            access_token: "access-secret".into(),
            id_token: Some("id-secret".into()),
            refresh_token: Some("refresh-secret".into()),
            token_type: "Bearer".into(),
            scope: Some("openid".into()),
            expires_at: 2_000_000_000,
            obtained_at: 1_999_996_400,
        }
    }

    fn key<'a>(base_url: &'a str, client_id: &'a str) -> Key<'a> {
        Key {
            base_url,
            client_id,
        }
    }

    fn mode(path: &Path) -> u32 {
        fs::symlink_metadata(path).unwrap().mode() & 0o777
    }

    #[test]
    fn creates_a_0700_folder_and_a_0600_file_and_reads_back_by_key() {
        let tmp = TempDir::new("create");
        let dir = tmp.cache_dir();
        let path = store(&dir, session("https://a.example", "c1")).unwrap();
        store(&dir, session("https://b.example", "c1")).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&path), 0o600);
        let a = load(&dir, key("https://a.example", "c1")).unwrap().unwrap();
        assert_eq!(a, session("https://a.example", "c1"));
        assert_eq!(load(&dir, key("https://a.example", "c2")).unwrap(), None);
        // No temp file is left behind.
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [FILE_NAME]);
    }

    #[test]
    fn store_replaces_the_entry_for_the_same_key() {
        let tmp = TempDir::new("replace");
        let dir = tmp.cache_dir();
        store(&dir, session("https://a.example", "c1")).unwrap();
        let mut newer = session("https://a.example", "c1");
        newer.access_token = "newer".into();
        store(&dir, newer.clone()).unwrap();
        let text = fs::read_to_string(path(&dir)).unwrap();
        assert_eq!(text.matches("\"base_url\"").count(), 1, "{text}");
        assert_eq!(
            load(&dir, key("https://a.example", "c1")).unwrap(),
            Some(newer)
        );
    }

    #[test]
    fn forget_removes_the_entry_and_the_file_with_the_last_one() {
        let tmp = TempDir::new("forget");
        let dir = tmp.cache_dir();
        store(&dir, session("https://a.example", "c1")).unwrap();
        store(&dir, session("https://b.example", "c1")).unwrap();
        assert!(
            forget(&dir, key("https://a.example", "c1"))
                .unwrap()
                .is_some()
        );
        assert!(path(&dir).exists());
        assert!(
            forget(&dir, key("https://a.example", "c1"))
                .unwrap()
                .is_none()
        );
        assert!(
            forget(&dir, key("https://b.example", "c1"))
                .unwrap()
                .is_some()
        );
        assert!(!path(&dir).exists());
    }

    #[test]
    fn a_file_readable_by_others_is_refused_not_read() {
        let tmp = TempDir::new("mode");
        let dir = tmp.cache_dir();
        let path = store(&dir, session("https://a.example", "c1")).unwrap();
        for loose in [0o644, 0o640, 0o604, 0o660, 0o606] {
            fs::set_permissions(&path, fs::Permissions::from_mode(loose)).unwrap();
            let err = load(&dir, key("https://a.example", "c1")).unwrap_err();
            assert_eq!(err.exit, Exit::UnsafeCache, "{loose:o}");
            assert!(
                err.message.contains(&format!("{loose:04o}")),
                "{}",
                err.message
            );
            assert!(err.hint.unwrap().contains("chmod 600"));
            // Writing is refused too: the loose file is left for the person to judge.
            let err = store(&dir, session("https://a.example", "c1")).unwrap_err();
            assert_eq!(err.exit, Exit::UnsafeCache);
            assert_eq!(mode(&path), loose);
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(
            load(&dir, key("https://a.example", "c1"))
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn a_symlink_at_the_cache_path_is_refused() {
        let tmp = TempDir::new("symlink");
        let dir = tmp.cache_dir();
        fs::DirBuilder::new().mode(0o700).create(&dir).unwrap();
        let elsewhere = tmp.0.join("elsewhere.json");
        fs::write(&elsewhere, "{}").unwrap();
        std::os::unix::fs::symlink(&elsewhere, path(&dir)).unwrap();
        let err = check(&dir).unwrap_err();
        assert_eq!(err.exit, Exit::UnsafeCache);
        assert!(err.message.contains("symbolic link"), "{}", err.message);
    }

    #[test]
    fn a_loose_folder_of_ours_is_tightened_to_0700_on_write() {
        let tmp = TempDir::new("dir");
        let dir = tmp.cache_dir();
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        store(&dir, session("https://a.example", "c1")).unwrap();
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn a_corrupt_or_future_cache_is_an_error_with_a_way_out() {
        let tmp = TempDir::new("corrupt");
        let dir = tmp.cache_dir();
        let path = store(&dir, session("https://a.example", "c1")).unwrap();
        fs::write(&path, "{ not json").unwrap();
        let err = check(&dir).unwrap_err();
        assert_eq!(err.exit, Exit::Error);
        assert!(err.hint.unwrap().contains("delete"));
        fs::write(&path, r#"{"version": 2, "sessions": []}"#).unwrap();
        assert!(check(&dir).unwrap_err().message.contains("version 2"));
    }

    #[test]
    fn debug_never_prints_a_token() {
        let printed = format!("{:?}", session("https://a.example", "c1"));
        assert!(!printed.contains("secret"), "{printed}");
        assert!(printed.contains("<redacted>"));
    }
}
