//! The live revocation set, read from the grants table and kept in memory (issue 13).
//!
//! The broker records revoked sessions (`/device/revoke`) and signed-out users
//! (`portal-signout`) in hour buckets of the one table
//! ([`portal_auth_domain::revocation`]). This module reads them and judges verified tokens
//! against them, with no DynamoDB call on the decision path in steady state:
//!
//! - **One read per refresh**: a `BatchGetItem` of the 25 [`live_buckets`] (a consistent read,
//!   unprocessed keys retried twice), signed by [`crate::sigv4`] with the function's role. A
//!   refresh replaces the whole set; records past their end are pruned.
//! - **At most once per `AUTHORIZER_REVOCATION_REFRESH_SECONDS`** (default 30) per instance,
//!   and **never in front of a decision**: a due refresh is spawned beside the request, which
//!   is judged by the set the instance holds. Concurrent refreshes are merged: whoever gets the
//!   lock after one finds nothing due. The cold start reads the set during init
//!   ([`crate::Authorizer::warm_up`]), so steady-state decisions cost no DynamoDB call.
//!   The price of "never in front": an instance thawed after sitting idle judges the requests
//!   that arrive before its refresh lands by the set it had when it was frozen.
//! - **A failed read keeps the last set** and is logged and counted (`RevocationRefreshes`,
//!   `RevocationRefreshErrors` with its `outcome`); the next attempt is one interval later.
//! - **No set at all** (the cold start's read failed): tokens are refused,
//!   [`Rejection::RevocationsUnavailable`] — fail closed. An instance that cannot tell whether
//!   a token was revoked does not let it through. This is the one case where a read runs in
//!   front of a decision (once per interval, bounded by the HTTP timeout), since the
//!   alternative is a refusal; the cost of the choice is that a DynamoDB outage at an
//!   instance's cold start refuses that instance's requests until a read succeeds, which the
//!   `revocations_unavailable` reason and the error count make visible.
//!
//! Hence the guarantee docs/operations.md states: a revocation recorded at `t` refuses the
//! token at every instance taking traffic from `t + 2 × interval` on (one interval for the
//! next due refresh, one for it to be started by a request), plus the API Gateway authorizer
//! cache's TTL, for as long as the reads succeed.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use crate::claims::VerifiedToken;
use crate::rejection::Rejection;
use crate::sigv4::{self, Credentials};
use portal_auth_domain::Clock;
use portal_auth_domain::revocation::{RevocationSet, live_buckets};
use portal_auth_runtime::https::Trust;
use portal_auth_runtime::metrics::{Dims, Emf, Metric};
use portal_auth_runtime::{ConfigError, Env};

/// The default of `AUTHORIZER_REVOCATION_REFRESH_SECONDS`.
pub const DEFAULT_REFRESH_SECONDS: u64 = 30;
/// The grants table's partition key.
const PK: &str = "pk";
/// Retries of a batch's unprocessed keys before the read counts as failed.
const UNPROCESSED_RETRIES: usize = 2;
/// A response larger than this is refused (25 items of at most 400 KB).
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// Where the records are, and how often to read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationTable {
    pub table: String,
    pub region: String,
    /// `https://dynamodb.<region>.amazonaws.com`, or `AWS_ENDPOINT_URL_DYNAMODB` /
    /// `AWS_ENDPOINT_URL` (as the AWS SDK reads them: the local stack's moto).
    pub endpoint: String,
    pub credentials: Credentials,
    pub refresh_secs: u64,
}

impl RevocationTable {
    /// `AUTHORIZER_REVOCATION_TABLE` unset: `None`, no revocation is checked (an authorizer
    /// deployed without the broker). The template always sets it.
    pub fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        let Some(table) = env.optional("AUTHORIZER_REVOCATION_TABLE") else {
            return Ok(None);
        };
        let region = env.required("AWS_REGION")?.to_owned();
        let endpoint = portal_auth_runtime::aws::endpoint_override(env, "DYNAMODB")?
            .unwrap_or_else(|| format!("https://dynamodb.{region}.amazonaws.com"));
        let refresh_secs: u64 = env.parse_or(
            "AUTHORIZER_REVOCATION_REFRESH_SECONDS",
            DEFAULT_REFRESH_SECONDS,
        )?;
        if !(1..=300).contains(&refresh_secs) {
            return Err(ConfigError::invalid(
                "AUTHORIZER_REVOCATION_REFRESH_SECONDS",
                "must be 1 to 300",
            ));
        }
        Ok(Some(Self {
            table: table.to_owned(),
            region,
            endpoint,
            credentials: Credentials::from_env(env)?,
            refresh_secs,
        }))
    }
}

/// Why a read of the set failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("DynamoDB request failed: {0}")]
    Transport(String),
    #[error("DynamoDB answered HTTP {0}")]
    Status(u16),
    #[error("DynamoDB's answer is not a BatchGetItem response")]
    Body,
    #[error("DynamoDB left keys unprocessed after retries")]
    Unprocessed,
}

impl FetchError {
    /// The `outcome` dimension of `RevocationRefreshErrors`.
    pub const fn outcome(&self) -> &'static str {
        match self {
            FetchError::Transport(_) => "transport",
            FetchError::Status(_) => "http_status",
            FetchError::Body => "bad_body",
            FetchError::Unprocessed => "unprocessed",
        }
    }
}

/// A DynamoDB attribute value, as far as the records go: a number (`N`), else ignored.
#[derive(Deserialize)]
struct Attribute {
    #[serde(rename = "N")]
    n: Option<String>,
}

type Item = HashMap<String, Attribute>;

#[derive(Deserialize)]
struct BatchGetResponse {
    #[serde(rename = "Responses", default)]
    responses: HashMap<String, Vec<Item>>,
    #[serde(rename = "UnprocessedKeys", default)]
    unprocessed: HashMap<String, serde_json::Value>,
}

/// Reads the live buckets with one signed `BatchGetItem`.
struct Reader {
    http: reqwest::Client,
    table: RevocationTable,
    url: String,
    host: String,
}

impl Reader {
    fn new(
        table: RevocationTable,
        timeout: Duration,
        trust: &Trust,
    ) -> Result<Self, reqwest::Error> {
        let url = format!("{}/", table.endpoint);
        let host = reqwest::Url::parse(&url)
            .ok()
            .and_then(|u| {
                let host = u.host_str()?.to_owned();
                Some(u.port().map_or(host.clone(), |p| format!("{host}:{p}")))
            })
            .unwrap_or_default();
        let http = trust
            .client_builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()?;
        Ok(Self {
            http,
            table,
            url,
            host,
        })
    }

    async fn fetch(&self, now: u64) -> Result<RevocationSet, FetchError> {
        let mut set = RevocationSet::default();
        let keys: Vec<_> = live_buckets(now)
            .into_iter()
            .map(|k| json!({ PK: { "S": k } }))
            .collect();
        let mut request = json!({ "RequestItems": { &self.table.table: {
            "Keys": keys, "ConsistentRead": true
        }}});
        for _ in 0..=UNPROCESSED_RETRIES {
            let mut answer = self.batch_get(&request, now).await?;
            for item in answer
                .responses
                .remove(&self.table.table)
                .unwrap_or_default()
            {
                for (name, value) in item {
                    if let Some(n) = value.n.and_then(|n| n.parse::<u64>().ok()) {
                        set.add_attribute(&name, n);
                    }
                }
            }
            match answer.unprocessed.remove(&self.table.table) {
                Some(left) if !left.is_null() => {
                    request = json!({ "RequestItems": { &self.table.table: left } })
                }
                _ => {
                    set.prune(now);
                    return Ok(set);
                }
            }
        }
        Err(FetchError::Unprocessed)
    }

    async fn batch_get(
        &self,
        request: &serde_json::Value,
        now: u64,
    ) -> Result<BatchGetResponse, FetchError> {
        let body = serde_json::to_vec(request).map_err(|_| FetchError::Body)?;
        let headers = [
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", "DynamoDB_20120810.BatchGetItem"),
        ];
        let signing = sigv4::sign(
            &sigv4::Request {
                host: &self.host,
                path: "/",
                headers: &headers,
                body: &body,
            },
            &self.table.credentials,
            &self.table.region,
            "dynamodb",
            now,
        );
        let mut builder = self.http.post(&self.url).header("host", &self.host);
        for (name, value) in headers.iter().copied() {
            builder = builder.header(name, value);
        }
        for (name, value) in signing {
            builder = builder.header(name, value);
        }
        let response = builder
            .body(body)
            .send()
            .await
            .map_err(|e| FetchError::Transport(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
        {
            return Err(FetchError::Body);
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| FetchError::Transport(e.without_url().to_string()))?;
        if bytes.len() > MAX_RESPONSE_BYTES {
            return Err(FetchError::Body);
        }
        serde_json::from_slice(&bytes).map_err(|_| FetchError::Body)
    }
}

#[derive(Default)]
struct State {
    set: Arc<RevocationSet>,
    /// When the set was read; `None` until a read succeeds.
    fetched_at: Option<i64>,
    /// When the last read began.
    attempted_at: Option<i64>,
}

/// The instance's revocation set and its refreshes.
pub struct Revocations {
    reader: Reader,
    interval: i64,
    clock: Arc<dyn Clock>,
    state: RwLock<State>,
    refreshing: Arc<tokio::sync::Mutex<()>>,
    metrics: Option<Emf>,
}

impl Revocations {
    pub fn new(
        table: RevocationTable,
        timeout: Duration,
        trust: &Trust,
        clock: Arc<dyn Clock>,
        metrics: Option<Emf>,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            interval: i64::try_from(table.refresh_secs).unwrap_or(DEFAULT_REFRESH_SECONDS as i64),
            reader: Reader::new(table, timeout, trust)?,
            clock,
            state: RwLock::new(State::default()),
            refreshing: Arc::new(tokio::sync::Mutex::new(())),
            metrics,
        })
    }

    /// Whether `token` may pass: not revoked by the set this instance holds. A due refresh
    /// runs beside the request; only an instance with no set at all waits for one.
    pub async fn check(self: &Arc<Self>, token: &VerifiedToken) -> Result<(), Rejection> {
        let now = self.clock.unix_seconds();
        if self.due(now) {
            if self.has_set() {
                // Taken here, so that a refresh in flight is not started twice and
                // `settled` waits for this one.
                if let Ok(guard) = Arc::clone(&self.refreshing).try_lock_owned() {
                    let this = Arc::clone(self);
                    tokio::spawn(async move {
                        let _ = this.refresh_locked(now).await;
                        drop(guard);
                    });
                }
            } else {
                let _ = self.refresh().await;
            }
        }
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        if state.fetched_at.is_none() {
            return Err(Rejection::RevocationsUnavailable);
        }
        if state.set.revokes(&token.revocation_facts()) {
            return Err(Rejection::Revoked);
        }
        Ok(())
    }

    /// Whether a read is due: none began within the interval.
    fn due(&self, now: i64) -> bool {
        self.state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .attempted_at
            .is_none_or(|t| now.saturating_sub(t) >= self.interval)
    }

    fn has_set(&self) -> bool {
        self.state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .fetched_at
            .is_some()
    }

    /// Reads the set if a read is due, merging with one in flight; returns the set's size.
    pub async fn refresh(&self) -> Result<usize, FetchError> {
        let _one_at_a_time = self.refreshing.lock().await;
        self.refresh_locked(self.clock.unix_seconds()).await
    }

    /// [`Self::refresh`], for the holder of the `refreshing` lock.
    async fn refresh_locked(&self, now: i64) -> Result<usize, FetchError> {
        if !self.due(now) {
            return Ok(self.len());
        }
        self.write().attempted_at = Some(now);
        let result = self.reader.fetch(u64::try_from(now).unwrap_or(0)).await;
        self.count(&result);
        match result {
            Ok(set) => {
                let len = set.len();
                let mut state = self.write();
                state.set = Arc::new(set);
                state.fetched_at = Some(now);
                Ok(len)
            }
            Err(error) => {
                let age = self
                    .state
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .fetched_at;
                tracing::warn!(
                    %error,
                    set_read_at = age,
                    "revocation set refresh failed; the last set keeps serving"
                );
                Err(error)
            }
        }
    }

    /// Waits for a refresh in flight (tests).
    pub async fn settled(&self) {
        drop(self.refreshing.lock().await);
    }

    /// Installs a set as if read now (benchmarks, tests).
    pub fn preload(&self, set: RevocationSet) {
        let now = self.clock.unix_seconds();
        let mut state = self.write();
        state.set = Arc::new(set);
        state.fetched_at = Some(now);
        state.attempted_at = Some(now);
    }

    /// Records in the set held.
    pub fn len(&self) -> usize {
        self.state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .set
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn count(&self, result: &Result<RevocationSet, FetchError>) {
        let Some(emf) = self.metrics else { return };
        match result {
            Ok(_) => emf.count(Metric::RevocationRefreshes, 1, Dims::NONE),
            Err(error) => emf.count_many(
                &[
                    (Metric::RevocationRefreshes, 1),
                    (Metric::RevocationRefreshErrors, 1),
                ],
                Dims::outcome(error.outcome()),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::claims::Claims;
    use portal_auth_domain::ManualClock;

    const START_MS: u64 = 1_800_000_000_000;
    const START: u64 = 1_800_000_000;

    /// A DynamoDB stand-in on 127.0.0.1: counts requests, answers with what the test set.
    struct Stub {
        url: String,
        requests: Arc<AtomicUsize>,
        answer: Arc<Mutex<(u16, String)>>,
        last_request: Arc<Mutex<String>>,
    }

    impl Stub {
        fn start() -> Self {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            let requests = Arc::new(AtomicUsize::new(0));
            let answer = Arc::new(Mutex::new((200, buckets(&[]))));
            let last_request = Arc::new(Mutex::new(String::new()));
            let (count, body, last) = (requests.clone(), answer.clone(), last_request.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(mut stream) = stream else { return };
                    *last.lock().unwrap() = read_request(&mut stream);
                    count.fetch_add(1, Ordering::SeqCst);
                    let (status, body) = body.lock().unwrap().clone();
                    let head = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/x-amz-json-1.0\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(head.as_bytes());
                    let _ = stream.write_all(body.as_bytes());
                }
            });
            Self {
                url,
                requests,
                answer,
                last_request,
            }
        }

        fn answer(&self, status: u16, body: String) {
            *self.answer.lock().unwrap() = (status, body);
        }

        fn requests(&self) -> usize {
            self.requests.load(Ordering::SeqCst)
        }
    }

    fn read_request(stream: &mut std::net::TcpStream) -> String {
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).unwrap_or(0);
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                    })
                    .unwrap_or(0);
                if request.len() >= end + 4 + length {
                    return text;
                }
            }
        }
        String::from_utf8_lossy(&request).to_string()
    }

    /// A BatchGetItem answer holding one bucket with these attributes.
    fn buckets(records: &[(&str, u64)]) -> String {
        let mut item = serde_json::Map::new();
        item.insert("pk".into(), json!({ "S": "revoked#500000" }));
        item.insert("expires_at".into(), json!({ "N": "1900000000" }));
        for (name, value) in records {
            item.insert((*name).into(), json!({ "N": value.to_string() }));
        }
        json!({ "Responses": { "grants": [item] }, "UnprocessedKeys": {} }).to_string()
    }

    fn revocations(stub: &Stub, clock: &Arc<ManualClock>) -> Arc<Revocations> {
        let table = RevocationTable {
            table: "grants".into(),
            region: "eu-west-1".into(),
            endpoint: stub.url.clone(),
            credentials: Credentials {
                access_key_id: "AKIDEXAMPLE".into(),
                secret_access_key: "secret".into(),
                session_token: None,
            },
            refresh_secs: 30,
        };
        let clock: Arc<dyn Clock> = clock.clone();
        Arc::new(
            Revocations::new(
                table,
                Duration::from_secs(5),
                &Trust::default(),
                clock,
                None,
            )
            .unwrap(),
        )
    }

    fn token(jti: &str, origin_jti: Option<&str>, sub: &str, auth_time: u64) -> VerifiedToken {
        let mut claims = json!({
            "iss": "https://issuer", "sub": sub, "token_use": "access", "client_id": "c",
            "exp": START + 3600, "iat": auth_time, "auth_time": auth_time, "jti": jti,
        });
        if let Some(origin) = origin_jti {
            claims["origin_jti"] = json!(origin);
        }
        Claims::parse(claims.to_string().as_bytes())
            .unwrap()
            .verify(&["https://issuer".to_owned()], START as i64)
            .unwrap()
    }

    #[tokio::test]
    async fn a_decision_reads_nothing_while_the_set_is_fresh_and_refreshes_beside_it_when_due() {
        let stub = Stub::start();
        let clock = Arc::new(ManualClock::new(START_MS));
        let revocations = revocations(&stub, &clock);
        stub.answer(200, buckets(&[("session#s-1", START + 600)]));
        assert_eq!(revocations.refresh().await.unwrap(), 1);
        assert_eq!(stub.requests(), 1);
        let signed = stub.last_request.lock().unwrap().clone();
        assert!(
            signed.contains("x-amz-target: DynamoDB_20120810.BatchGetItem"),
            "{signed}"
        );
        assert!(
            signed.contains("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
            "{signed}"
        );
        assert!(signed.contains("\"ConsistentRead\":true"), "{signed}");

        let revoked = token("j-2", Some("s-1"), "alice", START - 10);
        let other = token("j-3", Some("s-2"), "alice", START - 10);
        for _ in 0..100 {
            assert_eq!(revocations.check(&revoked).await, Err(Rejection::Revoked));
            assert_eq!(revocations.check(&other).await, Ok(()));
        }
        revocations.settled().await;
        assert_eq!(
            stub.requests(),
            1,
            "no read on the decision path while fresh"
        );

        // A new record, then the interval passes: the first decision is judged by the old set
        // while the refresh runs beside it; the next one by the new set.
        stub.answer(
            200,
            buckets(&[("session#s-1", START + 600), ("session#s-2", START + 600)]),
        );
        clock.advance(Duration::from_secs(30));
        assert_eq!(revocations.check(&other).await, Ok(()));
        revocations.settled().await;
        assert_eq!(stub.requests(), 2);
        assert_eq!(revocations.check(&other).await, Err(Rejection::Revoked));
        revocations.settled().await;
        assert_eq!(stub.requests(), 2, "one read per interval");
    }

    #[tokio::test]
    async fn a_failed_read_keeps_the_last_set_and_the_next_attempt_waits_an_interval() {
        let stub = Stub::start();
        let clock = Arc::new(ManualClock::new(START_MS));
        let revocations = revocations(&stub, &clock);
        stub.answer(200, buckets(&[("user#bob", START - 5)]));
        revocations.refresh().await.unwrap();
        let bob_before = token("j-1", None, "bob", START - 60);
        let bob_after = token("j-2", None, "bob", START - 1);

        for (status, body) in [(500, "{}".to_string()), (200, "<html>".to_string())] {
            stub.answer(status, body);
            clock.advance(Duration::from_secs(31));
            assert_eq!(
                revocations.check(&bob_before).await,
                Err(Rejection::Revoked)
            );
            revocations.settled().await;
            assert_eq!(
                revocations.check(&bob_before).await,
                Err(Rejection::Revoked)
            );
            assert_eq!(revocations.check(&bob_after).await, Ok(()));
            assert_eq!(revocations.len(), 1, "the last set keeps serving");
        }
        revocations.settled().await;
        assert_eq!(
            stub.requests(),
            3,
            "one attempt per interval, failed ones included"
        );
    }

    #[tokio::test]
    async fn with_no_set_at_all_tokens_are_refused_until_a_read_succeeds() {
        let stub = Stub::start();
        stub.answer(503, "{}".into());
        let clock = Arc::new(ManualClock::new(START_MS));
        let revocations = revocations(&stub, &clock);
        assert!(revocations.refresh().await.is_err());
        let alice = token("j-1", Some("s-1"), "alice", START - 10);
        assert_eq!(
            revocations.check(&alice).await,
            Err(Rejection::RevocationsUnavailable)
        );
        assert_eq!(stub.requests(), 1, "no second read within the interval");

        stub.answer(200, buckets(&[]));
        clock.advance(Duration::from_secs(30));
        assert_eq!(
            revocations.check(&alice).await,
            Ok(()),
            "read in front: no set to judge by"
        );
        assert_eq!(stub.requests(), 2);
    }

    #[tokio::test]
    async fn records_past_their_end_are_pruned_and_unprocessed_keys_are_retried() {
        let stub = Stub::start();
        let clock = Arc::new(ManualClock::new(START_MS));
        let revocations = revocations(&stub, &clock);
        stub.answer(
            200,
            buckets(&[
                ("session#gone", START - 1),
                ("user#old", START - 86_400),
                ("session#live", START + 1),
                ("pk", 7),
            ]),
        );
        assert_eq!(revocations.refresh().await.unwrap(), 1);

        let unprocessed = json!({
            "Responses": { "grants": [] },
            "UnprocessedKeys": { "grants": { "Keys": [{ "pk": { "S": "revoked#1" } }] } },
        });
        stub.answer(200, unprocessed.to_string());
        clock.advance(Duration::from_secs(30));
        assert!(matches!(
            revocations.refresh().await,
            Err(FetchError::Unprocessed)
        ));
        assert_eq!(stub.requests(), 2 + UNPROCESSED_RETRIES);
        assert_eq!(revocations.len(), 1);
    }

    #[test]
    fn the_table_comes_from_the_environment_and_a_bad_interval_names_its_variable() {
        let base = [
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ];
        let env = |extra: &[(&str, &str)]| {
            Env::from_pairs(
                base.iter()
                    .chain(extra)
                    .map(|(k, v)| (k.to_string(), v.to_string())),
            )
        };
        assert_eq!(RevocationTable::from_env(&env(&[])).unwrap(), None);
        let table = RevocationTable::from_env(&env(&[("AUTHORIZER_REVOCATION_TABLE", "grants")]))
            .unwrap()
            .unwrap();
        assert_eq!(table.endpoint, "https://dynamodb.eu-west-1.amazonaws.com");
        assert_eq!(table.refresh_secs, DEFAULT_REFRESH_SECONDS);
        let local = RevocationTable::from_env(&env(&[
            ("AUTHORIZER_REVOCATION_TABLE", "grants"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:5000"),
            ("AUTHORIZER_REVOCATION_REFRESH_SECONDS", "5"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            (local.endpoint.as_str(), local.refresh_secs),
            ("http://127.0.0.1:5000", 5)
        );
        for bad in ["0", "301", "soon"] {
            let error = RevocationTable::from_env(&env(&[
                ("AUTHORIZER_REVOCATION_TABLE", "grants"),
                ("AUTHORIZER_REVOCATION_REFRESH_SECONDS", bad),
            ]))
            .unwrap_err();
            assert!(
                error
                    .to_string()
                    .contains("AUTHORIZER_REVOCATION_REFRESH_SECONDS"),
                "{error}"
            );
        }
    }
}
