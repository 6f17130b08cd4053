//! CloudWatch metrics of every function, as embedded metric format (EMF) lines on stdout.
//!
//! This module owns the metric vocabulary of the workspace and the shape of its EMF lines:
//! the namespace ([`NAMESPACE`]), the closed set of metric names ([`Metric`]), the closed set
//! of functions ([`Function`]) and the only dimensions a line may carry ([`Dims`]: `function`,
//! and optionally `client_id` and `outcome`). What to count, and when, is the callers'
//! business. Lambda ships every stdout line to CloudWatch Logs, which extracts the metrics from
//! lines that follow the [specification]; nothing here makes a network call.
//!
//! # A line
//!
//! One JSON object per line, built by `serde_json` and written with a single `write_all`
//! (with its `\n`) under the stdout lock, so it never interleaves with the JSON log lines
//! `tracing` writes to the same stdout:
//!
//! ```json
//! {"_aws":{"Timestamp":1767225600000,"CloudWatchMetrics":[{"Namespace":"PortalAuth",
//!   "Dimensions":[["function","client_id"]],"Metrics":[{"Name":"Approvals","Unit":"Count"}]}]},
//!  "function":"device-verify","client_id":"abc","Approvals":1}
//! ```
//!
//! (shown wrapped; the real line has no newline inside). Each line declares one DimensionSet
//! naming exactly the dimensions present on it, and holds one or more metrics (unit `Count`)
//! whose values sit at the root under their names, as EMF requires.
//!
//! # Cardinality and secrets
//!
//! Every dimension value comes from a closed type or is checked: `function` is a [`Function`],
//! `outcome` a `&'static str` (the callers' fixed enum strings), and `client_id` must look like
//! a Cognito app client id (1 to 128 of `[A-Za-z0-9_+]`). A value that fails its check is
//! replaced by [`INVALID`], which no real value can equal, so a hostile string can neither
//! break the line nor mint new metrics; `serde_json` escapes whatever is written all the same.
//! No device code, user code, token or secret can be a dimension: there is no free-form one.
//!
//! # Use
//!
//! - [`Emf::new`] is a `const fn`: a function crate keeps `const EMF: Emf =
//!   Emf::new(Function::DeviceCode);` and calls `EMF.count(Metric::DeviceAuthorizations, 1,
//!   Dims::client(id))`; code shared by several functions takes the `Emf` as a parameter. This
//!   is the form to prefer: tests run the four device-flow handlers in one process, where one
//!   process-wide name could not tell them apart.
//! - [`init`] once at cold start, then the free [`count`] / [`count_many`], for code that only
//!   ever runs in one function (the authorizer). They emit nothing before `init`. The function
//!   is given as a [`Function`], not read from `AWS_LAMBDA_FUNCTION_NAME`, which is the deployed
//!   `${StackName}-device-code`; [`Function::from_name`] maps a binary name
//!   (`env!("CARGO_BIN_NAME")`) or a stack-prefixed deployed name to it.
//! - [`capture`] (tests): while its guard lives, this thread's lines are kept instead of
//!   written, so a test can assert "this request emitted `Approvals`=1 for client X"
//!   ([`Capture::total_for`]). [`validate_emf`] checks a line against the specification.
//!
//! # Why no crate
//!
//! Looked at (the newest versions on crates.io when this was written):
//! - `metrics` 0.24 with `metrics_cloudwatch_embedded` 0.10 (maintained: releases through
//!   January 2026). Its EMF code is small and right (one DimensionSet of a metric's labels), but
//!   even without its default `lambda` feature (which adds `lambda_http`, which the authorizer
//!   does not link, plus `tower` and `pin-project`) it brings `metrics`, `futures`, `bytes` and
//!   a `tokio` dependency; it aggregates in one global recorder per process and writes only
//!   when flushed (by its own `run` wrapper after each invocation, or a background task), so a
//!   test cannot capture one request's lines; metric names and label values are free-form
//!   strings, so nothing stops a token from becoming a dimension.
//! - `metrique` / `metrique-writer-format-emf` 0.1 (awslabs): a wide-event framework
//!   (`metrique-writer`, `hashbrown`, `itertools`, `rand`, `smallvec`, ...) whose
//!   `rust-version` (1.91) is above the workspace's 1.88.
//!
//! Neither gives a closed vocabulary, a line written when the event happens, per-thread capture
//! and no new dependency. This module is some 400 lines of code (plus 140 for
//! [`validate_emf`]) over `serde` and `serde_json`, which the workspace already links (the
//! authorizer included), and needs no async runtime.
//!
//! [specification]: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html

use std::cell::RefCell;
use std::fmt;
use std::io::Write;
use std::marker::PhantomData;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

/// The CloudWatch namespace of every metric of the workspace.
pub const NAMESPACE: &str = "PortalAuth";
/// The unit of every metric: they are all counts.
pub const UNIT: &str = "Count";
/// The longest client id kept as a dimension (Cognito's limit).
pub const MAX_CLIENT_ID_LEN: usize = 128;
/// The longest outcome kept as a dimension.
pub const MAX_OUTCOME_LEN: usize = 64;
/// What a dimension value that fails its check becomes; no client id or outcome can equal it.
pub const INVALID: &str = "(invalid)";

/// Declares the closed enum and its names once, so the two cannot drift apart.
macro_rules! closed_names {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            /// The name as it appears in the EMF line.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

closed_names! {
    /// Every metric the workspace emits. Names are CloudWatch metric names, unit [`UNIT`].
    Metric {
        /// `/device/code` issued a device code.
        DeviceAuthorizations => "DeviceAuthorizations",
        /// A user approved a grant.
        Approvals => "Approvals",
        /// An approval came from another network than the device's.
        RemoteApprovals => "RemoteApprovals",
        /// A user denied a grant.
        Denials => "Denials",
        /// `/device/token` issued tokens.
        TokensIssued => "TokensIssued",
        /// A poll found its grant expired.
        ExpiredPolls => "ExpiredPolls",
        /// A request was refused by an issuance or polling limit.
        RateLimited => "RateLimited",
        /// Code entry was blocked after too many wrong user codes.
        CodeEntryBlocked => "CodeEntryBlocked",
        /// Cognito refused or failed an authorization-code exchange.
        CognitoExchangeFailures => "CognitoExchangeFailures",
        /// A refresh token was exchanged.
        Refreshes => "Refreshes",
        /// The authorizer allowed a request.
        Allowed => "Allowed",
        /// The authorizer answered 401 (dimension `outcome`: its fixed reason).
        Unauthorized => "Unauthorized",
        /// The authorizer answered 403.
        Forbidden => "Forbidden",
        /// A token's verification came from the authorizer's cache.
        TokenCacheHits => "TokenCacheHits",
        /// The authorizer fetched the JWKS.
        JwksFetches => "JwksFetches",
        /// A JWKS fetch failed.
        JwksFetchErrors => "JwksFetchErrors",
        /// `/device/revoke` recorded a revoked session or revoked a refresh token at Cognito
        /// (the audit events `device.access_token_revoked`, `device.refresh_token_revoked`).
        Revocations => "Revocations",
        /// The authorizer read the revocation set.
        RevocationRefreshes => "RevocationRefreshes",
        /// A read of the revocation set failed (the last set keeps serving).
        RevocationRefreshErrors => "RevocationRefreshErrors",
    }
}

closed_names! {
    /// The workspace's Lambda functions, named as their binaries (the `function` dimension).
    Function {
        DeviceCode => "device-code",
        DeviceToken => "device-token",
        DeviceVerify => "device-verify",
        DeviceCallback => "device-callback",
        Authorizer => "authorizer",
    }
}

impl Function {
    /// The function of a binary name (`device-code`) or of a deployed name that ends in one
    /// after a hyphen (`${StackName}-device-code`); `None` for anything else.
    pub fn from_name(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| {
            let own = f.as_str();
            name == own
                || name
                    .strip_suffix(own)
                    .is_some_and(|prefix| prefix.ends_with('-'))
        })
    }
}

/// The optional dimensions of one line; `function` is always present.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dims<'a> {
    /// The Cognito app client id; anything else becomes [`INVALID`].
    pub client_id: Option<&'a str>,
    /// A fixed enum string (`[A-Za-z0-9_.-]`, at most 64); anything else becomes [`INVALID`].
    pub outcome: Option<&'static str>,
}

impl<'a> Dims<'a> {
    /// No dimension but `function`.
    pub const NONE: Dims<'static> = Dims {
        client_id: None,
        outcome: None,
    };

    /// The `client_id` dimension.
    pub const fn client(client_id: &'a str) -> Dims<'a> {
        Dims {
            client_id: Some(client_id),
            outcome: None,
        }
    }

    /// The `outcome` dimension.
    pub const fn outcome(outcome: &'static str) -> Dims<'a> {
        Dims {
            client_id: None,
            outcome: Some(outcome),
        }
    }

    /// These dimensions and `outcome`.
    pub const fn with_outcome(self, outcome: &'static str) -> Dims<'a> {
        Dims {
            outcome: Some(outcome),
            ..self
        }
    }

    /// The dimensions as written: each value checked, [`INVALID`] where it fails.
    fn checked(self) -> Dims<'a> {
        Dims {
            client_id: self.client_id.map(client_dimension),
            outcome: self.outcome.map(outcome_dimension),
        }
    }
}

fn client_dimension(id: &str) -> &str {
    let valid = !id.is_empty()
        && id.len() <= MAX_CLIENT_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'+');
    if valid { id } else { INVALID }
}

fn outcome_dimension(outcome: &'static str) -> &'static str {
    let valid = !outcome.is_empty()
        && outcome.len() <= MAX_OUTCOME_LEN
        && outcome
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if valid { outcome } else { INVALID }
}

/// The EMF writer of one function. `Copy` and `const`-constructible: keep one as a constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Emf {
    function: Function,
}

impl Emf {
    /// The writer of `function`'s lines.
    pub const fn new(function: Function) -> Emf {
        Emf { function }
    }

    /// The `function` dimension of its lines.
    pub const fn function(self) -> Function {
        self.function
    }

    /// Emits one line with one metric.
    pub fn count(self, metric: Metric, value: u64, dims: Dims<'_>) {
        self.count_many(&[(metric, value)], dims);
    }

    /// Emits one line with several metrics (a metric named twice is summed); nothing for `[]`.
    pub fn count_many(self, metrics: &[(Metric, u64)], dims: Dims<'_>) {
        if let Some(line) = self.render(metrics, dims, now_ms()) {
            emit(line);
        }
    }

    /// The line [`Emf::count_many`] would write at `timestamp_ms`, without its `\n` but with
    /// room for it: the one allocation of an emission. `None` for `[]`.
    pub fn render(
        self,
        metrics: &[(Metric, u64)],
        dims: Dims<'_>,
        timestamp_ms: u64,
    ) -> Option<String> {
        let values = Values::sum(metrics)?;
        let dims = dims.checked();
        let line = Line {
            timestamp_ms,
            function: self.function.as_str(),
            client_id: dims.client_id,
            outcome: dims.outcome,
            values: &values,
        };
        let mut buf = Vec::with_capacity(line.capacity());
        serde_json::to_writer(&mut buf, &line).ok()?;
        String::from_utf8(buf).ok()
    }
}

static GLOBAL: OnceLock<Emf> = OnceLock::new();

/// Sets the process-wide function for [`count`] and [`count_many`], once (at cold start);
/// returns the `Emf` in force, which is the first call's.
pub fn init(function: Function) -> Emf {
    *GLOBAL.get_or_init(|| Emf::new(function))
}

/// The process-wide `Emf`, once [`init`] was called.
pub fn global() -> Option<Emf> {
    GLOBAL.get().copied()
}

/// [`Emf::count`] with the process-wide function; nothing before [`init`].
pub fn count(metric: Metric, value: u64, dims: Dims<'_>) {
    if let Some(emf) = global() {
        emf.count(metric, value, dims);
    }
}

/// [`Emf::count_many`] with the process-wide function; nothing before [`init`].
pub fn count_many(metrics: &[(Metric, u64)], dims: Dims<'_>) {
    if let Some(emf) = global() {
        emf.count_many(metrics, dims);
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The value of each metric of a line, indexed by `Metric as usize`.
struct Values([Option<u64>; Metric::ALL.len()]);

impl Values {
    fn sum(metrics: &[(Metric, u64)]) -> Option<Values> {
        if metrics.is_empty() {
            return None;
        }
        let mut values = [None; Metric::ALL.len()];
        for &(metric, value) in metrics {
            let slot: &mut Option<u64> = &mut values[metric as usize];
            *slot = Some(slot.unwrap_or(0).saturating_add(value));
        }
        Some(Values(values))
    }

    fn iter(&self) -> impl Iterator<Item = (Metric, u64)> + '_ {
        Metric::ALL
            .into_iter()
            .zip(self.0)
            .filter_map(|(metric, value)| Some((metric, value?)))
    }
}

/// The root object of a line: `_aws`, then the dimensions, then each metric's value.
struct Line<'a> {
    timestamp_ms: u64,
    function: &'static str,
    client_id: Option<&'a str>,
    outcome: Option<&'static str>,
    values: &'a Values,
}

impl Line<'_> {
    /// Enough bytes for the line and its `\n`, so the buffer never grows: the fixed parts
    /// take about 210 bytes, each metric at most 2 × 23 (its name) + 51 (a `u64` included).
    /// Checked dimension values need no escaping.
    fn capacity(&self) -> usize {
        let text = |s: Option<&str>| s.map_or(0, str::len);
        256 + text(self.client_id) + text(self.outcome) + 100 * self.values.iter().count()
    }
}

impl Serialize for Line<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut names = ["function", "", ""];
        let mut len = 1;
        for (name, present) in [
            ("client_id", self.client_id.is_some()),
            ("outcome", self.outcome.is_some()),
        ] {
            if present {
                names[len] = name;
                len += 1;
            }
        }
        let aws = Aws {
            timestamp: self.timestamp_ms,
            cloud_watch_metrics: [Directive {
                namespace: NAMESPACE,
                dimensions: [&names[..len]],
                metrics: Definitions(self.values),
            }],
        };
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("_aws", &aws)?;
        map.serialize_entry("function", self.function)?;
        if let Some(client_id) = self.client_id {
            map.serialize_entry("client_id", client_id)?;
        }
        if let Some(outcome) = self.outcome {
            map.serialize_entry("outcome", outcome)?;
        }
        for (metric, value) in self.values.iter() {
            map.serialize_entry(metric.as_str(), &value)?;
        }
        map.end()
    }
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct Aws<'a> {
    timestamp: u64,
    cloud_watch_metrics: [Directive<'a>; 1],
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct Directive<'a> {
    namespace: &'static str,
    dimensions: [&'a [&'static str]; 1],
    metrics: Definitions<'a>,
}

struct Definitions<'a>(&'a Values);

impl Serialize for Definitions<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|(metric, _)| Definition {
            name: metric.as_str(),
            unit: UNIT,
        }))
    }
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct Definition {
    name: &'static str,
    unit: &'static str,
}

thread_local! {
    /// This thread's captured lines while a [`Capture`] lives.
    static CAPTURED: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Hands a rendered line to this thread's capture, else writes it to stdout.
fn emit(line: String) {
    let uncaptured = CAPTURED
        .try_with(|captured| match captured.borrow_mut().as_mut() {
            Some(lines) => {
                lines.push(line);
                None
            }
            None => Some(line),
        })
        .unwrap_or(None);
    if let Some(mut line) = uncaptured {
        line.push('\n');
        write_line(&mut std::io::stdout().lock(), &line);
    }
}

/// One `write_all` of the whole line, under the writer's lock the caller holds. A failed
/// write is dropped: a metric never fails a request.
fn write_line(out: &mut impl Write, line: &str) {
    let _ = out.write_all(line.as_bytes());
}

/// Keeps this thread's lines instead of writing them, until dropped (then the previous
/// capture, if any, is back). Not `Send`: it belongs to the thread that made it, which is
/// where a `#[tokio::test]` (current-thread runtime) runs the handlers it awaits.
pub struct Capture {
    previous: Option<Vec<String>>,
    _thread: PhantomData<*const ()>,
}

/// Starts capturing this thread's lines (tests). Lines are kept without their `\n`.
pub fn capture() -> Capture {
    let previous = CAPTURED.with_borrow_mut(|captured| captured.replace(Vec::new()));
    Capture {
        previous,
        _thread: PhantomData,
    }
}

impl Capture {
    /// The lines captured so far.
    pub fn lines(&self) -> Vec<String> {
        CAPTURED.with_borrow(|captured| captured.clone().unwrap_or_default())
    }

    /// The lines captured so far, leaving none.
    pub fn take(&self) -> Vec<String> {
        CAPTURED
            .with_borrow_mut(|captured| captured.as_mut().map(std::mem::take))
            .unwrap_or_default()
    }

    /// The sum of `metric` over the captured lines, whatever their dimensions.
    ///
    /// # Panics
    /// If a captured line is not valid EMF.
    pub fn total(&self, metric: Metric) -> u64 {
        self.sum(metric, |_| true)
    }

    /// The sum of `metric` over the captured lines whose `client_id` and `outcome` are exactly
    /// those of `dims` (absent where `None`), compared after the same checks as when written.
    ///
    /// # Panics
    /// If a captured line is not valid EMF.
    pub fn total_for(&self, metric: Metric, dims: Dims<'_>) -> u64 {
        let dims = dims.checked();
        self.sum(metric, |line| {
            line.get("client_id").and_then(Value::as_str) == dims.client_id
                && line.get("outcome").and_then(Value::as_str) == dims.outcome
        })
    }

    fn sum(&self, metric: Metric, keep: impl Fn(&Value) -> bool) -> u64 {
        self.lines()
            .iter()
            .map(|line| validate_emf(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .filter(|line| keep(line))
            .filter_map(|line| line.get(metric.as_str()).and_then(Value::as_u64))
            .sum()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = CAPTURED.try_with(|captured| *captured.borrow_mut() = previous);
    }
}

/// Checks one log line against the EMF specification and returns it parsed.
///
/// Checked: one JSON object on one line (a trailing `\n` allowed); `_aws.Timestamp` a
/// non-negative integer; `_aws.CloudWatchMetrics` a non-empty array of directives, each with
/// a `Namespace` (1 to 1024 characters), `Dimensions` (at least one DimensionSet, each at
/// most 30 names of 1 to 250 characters, each a root member whose value is a string of 1 to
/// 1024 ASCII characters, not blank, no control character) and `Metrics` (1 to 100
/// definitions, each a `Name` of 1 to 1024 characters whose root member is a number or 1 to
/// 100 numbers, an optional valid CloudWatch `Unit`, an optional `StorageResolution` of 1 or
/// 60, and no other member). Stricter than the specification, which allows them, it refuses
/// an empty `CloudWatchMetrics` or `Metrics` (a line that publishes nothing).
pub fn validate_emf(line: &str) -> Result<Value, String> {
    let text = line.strip_suffix('\n').unwrap_or(line);
    if text.contains(['\n', '\r']) {
        return Err("an EMF document must be one line".into());
    }
    let root: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let aws = root
        .as_object()
        .ok_or("the root is not an object")?
        .get("_aws")
        .and_then(Value::as_object)
        .ok_or("no `_aws` object at the root")?;
    aws.get("Timestamp")
        .and_then(Value::as_u64)
        .ok_or("`_aws.Timestamp` is not a non-negative integer")?;
    let directives = aws
        .get("CloudWatchMetrics")
        .and_then(Value::as_array)
        .filter(|d| !d.is_empty())
        .ok_or("`_aws.CloudWatchMetrics` is not a non-empty array")?;
    for directive in directives {
        check_directive(&root, directive)?;
    }
    Ok(root)
}

fn check_directive(root: &Value, directive: &Value) -> Result<(), String> {
    let namespace = directive
        .get("Namespace")
        .and_then(Value::as_str)
        .ok_or("a directive has no `Namespace` string")?;
    check_len("Namespace", namespace, 1024)?;
    let sets = directive
        .get("Dimensions")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
        .ok_or("a directive has no non-empty `Dimensions` array")?;
    for set in sets {
        check_dimension_set(root, set)?;
    }
    let metrics = directive
        .get("Metrics")
        .and_then(Value::as_array)
        .ok_or("a directive has no `Metrics` array")?;
    if metrics.is_empty() || metrics.len() > 100 {
        return Err(format!(
            "`Metrics` has {} definitions (1 to 100)",
            metrics.len()
        ));
    }
    metrics.iter().try_for_each(|m| check_definition(root, m))
}

fn check_dimension_set(root: &Value, set: &Value) -> Result<(), String> {
    let names = set.as_array().ok_or("a DimensionSet is not an array")?;
    if names.len() > 30 {
        return Err(format!(
            "a DimensionSet has {} keys (at most 30)",
            names.len()
        ));
    }
    for name in names {
        let name = name.as_str().ok_or("a dimension key is not a string")?;
        check_len("dimension key", name, 250)?;
        let value = root
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("dimension `{name}` is not a string member of the root"))?;
        check_len("dimension value", value, 1024)?;
        let printable = value.bytes().all(|b| b.is_ascii() && !b.is_ascii_control());
        if !printable || value.trim().is_empty() {
            return Err(format!("dimension `{name}` is not printable ASCII"));
        }
    }
    Ok(())
}

/// The units a `MetricDefinition` may name (CloudWatch's `MetricDatum` units).
const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

fn check_definition(root: &Value, definition: &Value) -> Result<(), String> {
    let members = definition
        .as_object()
        .ok_or("a metric definition is not an object")?;
    let name = members
        .get("Name")
        .and_then(Value::as_str)
        .ok_or("a metric definition has no `Name` string")?;
    check_len("metric name", name, 1024)?;
    for (key, value) in members {
        let valid = match key.as_str() {
            "Name" => true,
            "Unit" => value.as_str().is_some_and(|u| UNITS.contains(&u)),
            "StorageResolution" => matches!(value.as_u64(), Some(1 | 60)),
            _ => false,
        };
        if !valid {
            return Err(format!("metric `{name}`: invalid member `{key}`: {value}"));
        }
    }
    match root.get(name) {
        Some(Value::Number(_)) => Ok(()),
        Some(Value::Array(values))
            if (1..=100).contains(&values.len()) && values.iter().all(Value::is_number) =>
        {
            Ok(())
        }
        _ => Err(format!("metric `{name}` has no numeric value at the root")),
    }
}

fn check_len(what: &str, text: &str, max: usize) -> Result<(), String> {
    let chars = text.chars().count();
    if chars == 0 || chars > max {
        return Err(format!(
            "{what} `{text}` has {chars} characters (1 to {max})"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;
    use std::collections::BTreeSet;
    use std::process::Command;

    use serde_json::json;

    use super::*;

    const T: u64 = 1_767_225_600_000;
    const VERIFY: Emf = Emf::new(Function::DeviceVerify);

    /// Counts this thread's allocations, to check that a line costs one.
    struct Counting;

    thread_local! {
        static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    }

    fn bump() {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
    }

    // SAFETY: every call is forwarded unchanged to `System`; counting touches no memory it
    // hands out.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            bump();
            // SAFETY: the caller's contract, passed on.
            unsafe { System.alloc(layout) }
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            bump();
            // SAFETY: the caller's contract, passed on.
            unsafe { System.alloc_zeroed(layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            bump();
            // SAFETY: the caller's contract, passed on.
            unsafe { System.realloc(ptr, layout, new_size) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: the caller's contract, passed on.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[global_allocator]
    static ALLOCATOR: Counting = Counting;

    fn render(metrics: &[(Metric, u64)], dims: Dims<'_>) -> Value {
        let line = VERIFY.render(metrics, dims, T).expect("a line");
        validate_emf(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }

    fn keys(line: &Value) -> BTreeSet<&str> {
        line.as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect()
    }

    fn dimension_sets(line: &Value) -> &Value {
        &line["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    }

    fn every_metric() -> Vec<(Metric, u64)> {
        Metric::ALL.iter().map(|&m| (m, u64::MAX)).collect()
    }

    #[test]
    fn metric_names_are_the_closed_set() {
        let names: Vec<&str> = Metric::ALL.iter().map(|m| m.as_str()).collect();
        assert_eq!(
            names,
            [
                "DeviceAuthorizations",
                "Approvals",
                "RemoteApprovals",
                "Denials",
                "TokensIssued",
                "ExpiredPolls",
                "RateLimited",
                "CodeEntryBlocked",
                "CognitoExchangeFailures",
                "Refreshes",
                "Allowed",
                "Unauthorized",
                "Forbidden",
                "TokenCacheHits",
                "JwksFetches",
                "JwksFetchErrors",
                "Revocations",
                "RevocationRefreshes",
                "RevocationRefreshErrors",
            ]
        );
        for (i, metric) in Metric::ALL.into_iter().enumerate() {
            assert_eq!(metric as usize, i, "ALL is in declaration order");
            assert_eq!(metric.to_string(), metric.as_str());
            assert!(!["_aws", "function", "client_id", "outcome"].contains(&metric.as_str()));
        }
    }

    #[test]
    fn each_metric_renders_a_valid_line_with_its_value() {
        for metric in Metric::ALL {
            let line = render(&[(metric, 7)], Dims::client("abc"));
            assert_eq!(line[metric.as_str()], 7, "{metric}");
            assert_eq!(
                line["_aws"]["CloudWatchMetrics"][0]["Metrics"],
                json!([{ "Name": metric.as_str(), "Unit": "Count" }])
            );
            assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], NAMESPACE);
            assert_eq!(line["function"], "device-verify");
        }
    }

    #[test]
    fn the_line_has_the_documented_shape() {
        let line = VERIFY.render(&[(Metric::Approvals, 1)], Dims::client("abc"), T);
        assert_eq!(
            line.as_deref(),
            Some(concat!(
                r#"{"_aws":{"Timestamp":1767225600000,"CloudWatchMetrics":[{"Namespace":"PortalAuth","#,
                r#""Dimensions":[["function","client_id"]],"Metrics":[{"Name":"Approvals","Unit":"Count"}]}]},"#,
                r#""function":"device-verify","client_id":"abc","Approvals":1}"#
            ))
        );
    }

    #[test]
    fn the_dimension_set_names_exactly_the_present_dimensions() {
        let cases = [
            (Dims::NONE, json!([["function"]])),
            (Dims::client("abc"), json!([["function", "client_id"]])),
            (Dims::outcome("expired"), json!([["function", "outcome"]])),
            (
                Dims::client("abc").with_outcome("expired"),
                json!([["function", "client_id", "outcome"]]),
            ),
        ];
        for (dims, expected) in cases {
            let line = render(&[(Metric::Unauthorized, 1)], dims);
            assert_eq!(dimension_sets(&line), &expected, "{dims:?}");
            let mut present: BTreeSet<&str> = ["_aws", "function", "Unauthorized"].into();
            present.extend(dims.client_id.map(|_| "client_id"));
            present.extend(dims.outcome.map(|_| "outcome"));
            assert_eq!(keys(&line), present, "{dims:?}");
        }
    }

    #[test]
    fn a_hostile_client_id_cannot_break_the_line_or_add_members() {
        let huge = "x".repeat(10 * 1024);
        let too_long = "a".repeat(MAX_CLIENT_ID_LEN + 1);
        let hostile = [
            r#"abc","Approvals":1000,"function":"authorizer","x":"y"#,
            "abc\"}\n{\"_aws\":{}}",
            "line\nbreak",
            "cr\rlf",
            "nul\u{0}",
            "tab\tbed",
            "été",
            "back\\slash",
            "</script>",
            "",
            " ",
            "dash-ed",
            huge.as_str(),
            too_long.as_str(),
        ];
        for id in hostile {
            let raw = VERIFY
                .render(&[(Metric::Approvals, 1)], Dims::client(id), T)
                .unwrap();
            assert!(!raw.contains(['\n', '\r']), "{raw}");
            assert!(raw.len() < 400, "{} bytes", raw.len());
            let line = validate_emf(&raw).unwrap();
            assert_eq!(line["client_id"], INVALID);
            assert_eq!(line["Approvals"], 1);
            assert_eq!(line["function"], "device-verify");
            assert_eq!(
                keys(&line),
                ["_aws", "function", "client_id", "Approvals"].into()
            );
        }
    }

    #[test]
    fn a_cognito_client_id_is_kept() {
        let longest = "a".repeat(MAX_CLIENT_ID_LEN);
        for id in ["1h57kf5cpq17m0eml12EXAMPLE", "a_b+C9", longest.as_str()] {
            assert_eq!(
                render(&[(Metric::Approvals, 1)], Dims::client(id))["client_id"],
                id
            );
        }
    }

    #[test]
    fn a_hostile_outcome_becomes_invalid() {
        const LONG: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        assert_eq!(LONG.len(), MAX_OUTCOME_LEN + 1);
        for outcome in ["bad outcome", "q\"uote", "", LONG, "new\nline"] {
            let line = render(&[(Metric::Unauthorized, 1)], Dims::outcome(outcome));
            assert_eq!(line["outcome"], INVALID, "{outcome:?}");
        }
        for outcome in ["expired", "bad_signature", "jwks.unavailable", "no-token"] {
            let line = render(&[(Metric::Unauthorized, 1)], Dims::outcome(outcome));
            assert_eq!(line["outcome"], outcome);
        }
    }

    #[test]
    fn serialization_escapes_even_unchecked_values() {
        let hostile = "q\"uote\n\\\u{0}\",\"Approvals\":9,\"é";
        let values = Values::sum(&[(Metric::Approvals, 1)]).unwrap();
        let line = Line {
            timestamp_ms: T,
            function: "device-code",
            client_id: Some(hostile),
            outcome: Some("x\"}"),
            values: &values,
        };
        let raw = serde_json::to_string(&line).unwrap();
        assert!(!raw.contains('\n'));
        let parsed: Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(parsed["client_id"], hostile);
        assert_eq!(parsed["outcome"], "x\"}");
        assert_eq!(parsed["Approvals"], 1);
        assert_eq!(
            keys(&parsed),
            ["_aws", "function", "client_id", "outcome", "Approvals"].into()
        );
    }

    #[test]
    fn count_many_puts_several_metrics_in_one_line_and_sums_repeats() {
        let line = render(
            &[
                (Metric::Approvals, 1),
                (Metric::RemoteApprovals, 1),
                (Metric::Approvals, 2),
            ],
            Dims::client("abc"),
        );
        assert_eq!(line["Approvals"], 3);
        assert_eq!(line["RemoteApprovals"], 1);
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Metrics"],
            json!([
                { "Name": "Approvals", "Unit": "Count" },
                { "Name": "RemoteApprovals", "Unit": "Count" },
            ])
        );
        let saturated = render(
            &[(Metric::Denials, u64::MAX), (Metric::Denials, 1)],
            Dims::NONE,
        );
        assert_eq!(saturated["Denials"], u64::MAX);
        let all = render(&every_metric(), Dims::client("abc").with_outcome("ok"));
        assert_eq!(keys(&all).len(), 4 + Metric::ALL.len());
        assert_eq!(VERIFY.render(&[], Dims::NONE, T), None);
        let capture = capture();
        VERIFY.count_many(&[], Dims::NONE);
        assert!(capture.lines().is_empty());
    }

    #[test]
    fn one_allocation_per_line() {
        let longest = "a".repeat(MAX_CLIENT_ID_LEN);
        let metrics = every_metric();
        let cases = [
            (&metrics[..1], Dims::NONE),
            (&metrics[..1], Dims::client(&longest)),
            (
                &metrics[..],
                Dims::client(&longest).with_outcome("jwks.unavailable"),
            ),
            (&metrics[8..9], Dims::client("x\"".repeat(5000).leak())),
        ];
        for (metrics, dims) in cases {
            let before = ALLOCATIONS.with(Cell::get);
            let mut line = VERIFY.render(metrics, dims, u64::MAX).unwrap();
            line.push('\n');
            let after = ALLOCATIONS.with(Cell::get);
            assert_eq!(after - before, 1, "{} bytes", line.len());
        }
    }

    #[test]
    fn capture_keeps_this_threads_lines_and_restores_the_previous_one() {
        let outer = capture();
        VERIFY.count(Metric::Approvals, 1, Dims::client("abc"));
        {
            let inner = capture();
            VERIFY.count(Metric::Denials, 1, Dims::client("abc"));
            assert_eq!(inner.total(Metric::Denials), 1);
            assert_eq!(inner.total(Metric::Approvals), 0);
        }
        VERIFY.count(Metric::Approvals, 2, Dims::client("xyz"));
        VERIFY.count(
            Metric::Approvals,
            4,
            Dims::client("abc").with_outcome("remote"),
        );
        let lines = outer.lines();
        assert_eq!(lines.len(), 3);
        assert!(lines.iter().all(|l| !l.ends_with('\n')));
        assert_eq!(outer.total(Metric::Approvals), 7);
        assert_eq!(outer.total(Metric::Denials), 0);
        assert_eq!(outer.total_for(Metric::Approvals, Dims::client("abc")), 1);
        assert_eq!(outer.total_for(Metric::Approvals, Dims::client("xyz")), 2);
        assert_eq!(
            outer.total_for(
                Metric::Approvals,
                Dims::client("abc").with_outcome("remote")
            ),
            4
        );
        assert_eq!(outer.total_for(Metric::Approvals, Dims::NONE), 0);
        assert_eq!(outer.take().len(), 3);
        assert!(outer.lines().is_empty());
        drop(outer);
        assert!(!CAPTURED.with_borrow(Option::is_some));
    }

    #[test]
    fn captures_are_per_thread() {
        std::thread::scope(|scope| {
            for i in 0..8u64 {
                scope.spawn(move || {
                    let capture = capture();
                    let id = format!("client{i}");
                    for _ in 0..100 {
                        VERIFY.count(Metric::TokensIssued, i, Dims::client(&id));
                    }
                    let lines = capture.lines();
                    assert_eq!(lines.len(), 100);
                    assert_eq!(
                        capture.total_for(Metric::TokensIssued, Dims::client(&id)),
                        100 * i
                    );
                });
            }
        });
    }

    #[test]
    fn the_timestamp_is_now_in_milliseconds() {
        let capture = capture();
        VERIFY.count(Metric::Approvals, 1, Dims::NONE);
        let line = validate_emf(&capture.lines()[0]).unwrap();
        let at = line["_aws"]["Timestamp"].as_u64().unwrap();
        assert!(now_ms().abs_diff(at) < 5_000, "{at}");
    }

    #[test]
    fn init_sets_the_function_once_for_the_free_functions() {
        assert_eq!(init(Function::Authorizer).function(), Function::Authorizer);
        assert_eq!(init(Function::DeviceCode).function(), Function::Authorizer);
        assert_eq!(global(), Some(Emf::new(Function::Authorizer)));
        let capture = capture();
        count(Metric::Unauthorized, 1, Dims::outcome("expired"));
        count_many(
            &[(Metric::JwksFetches, 1), (Metric::JwksFetchErrors, 1)],
            Dims::NONE,
        );
        let lines = capture.lines();
        assert_eq!(lines.len(), 2);
        for line in &lines {
            assert_eq!(validate_emf(line).unwrap()["function"], "authorizer");
        }
        assert_eq!(
            capture.total_for(Metric::Unauthorized, Dims::outcome("expired")),
            1
        );
    }

    #[test]
    fn function_names_are_binary_names() {
        let names: Vec<&str> = Function::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(
            names,
            [
                "device-code",
                "device-token",
                "device-verify",
                "device-callback",
                "authorizer"
            ]
        );
        for function in Function::ALL {
            let name = function.as_str();
            assert_eq!(Function::from_name(name), Some(function));
            assert_eq!(
                Function::from_name(&format!("portal-auth-prod-{name}")),
                Some(function)
            );
            assert_eq!(Function::from_name(&format!("x{name}")), None);
            assert_eq!(Function::from_name(&format!("{name}s")), None);
        }
        assert_eq!(Function::from_name(""), None);
        assert_eq!(Function::from_name("device"), None);
    }

    /// Writes through a lock, seven bytes a `write`, as a slow pipe would take them.
    struct Trickle(Vec<u8>);

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let n = buf.len().min(7);
            self.0.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn concurrent_lines_written_under_the_lock_never_interleave() {
        let sink = std::sync::Mutex::new(Trickle(Vec::new()));
        let metrics = every_metric();
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for _ in 0..250 {
                        let mut line = VERIFY.render(&metrics, Dims::client("abc"), T).unwrap();
                        line.push('\n');
                        write_line(&mut *sink.lock().unwrap(), &line);
                    }
                });
            }
        });
        let out = String::from_utf8(sink.into_inner().unwrap().0).unwrap();
        assert_eq!(out.lines().count(), 2000);
        for line in out.lines() {
            validate_emf(line).unwrap();
        }
    }

    const CHILD: &str = "PORTAL_AUTH_METRICS_STDOUT_CHILD";

    /// The child of `stdout_lines_never_interleave_with_other_writers`: does nothing unless
    /// its parent runs it. Emitters and JSON "log" writers share the real stdout.
    #[test]
    fn stdout_child() {
        if std::env::var_os(CHILD).is_none() {
            return;
        }
        // libtest's "test stdout_child ... " has no newline yet.
        std::io::stdout().write_all(b"\n").unwrap();
        let metrics = every_metric();
        let log = format!(
            "{{\"level\":\"INFO\",\"message\":\"{}\"}}\n",
            "m".repeat(2000)
        );
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..200 {
                        VERIFY.count_many(&metrics, Dims::client(&"c".repeat(128)));
                        VERIFY.count(Metric::Approvals, 1, Dims::NONE);
                    }
                });
            }
            for _ in 0..2 {
                scope.spawn(|| {
                    for _ in 0..200 {
                        // As `tracing`'s fmt layer writes an event: one `write_all`.
                        std::io::stdout().write_all(log.as_bytes()).unwrap();
                    }
                });
            }
        });
    }

    #[test]
    fn stdout_lines_never_interleave_with_other_writers() {
        let output = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "metrics::tests::stdout_child", "--nocapture"])
            .args(["--test-threads", "1"])
            .env(CHILD, "1")
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        let (mut emf, mut logs) = (0, 0);
        for line in stdout.lines().filter(|l| l.contains(['{', '}'])) {
            if line.starts_with(r#"{"_aws""#) {
                validate_emf(line).unwrap_or_else(|e| panic!("{e}: {line}"));
                emf += 1;
            } else {
                let log: Value =
                    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
                assert_eq!(log["level"], "INFO");
                logs += 1;
            }
        }
        assert_eq!((emf, logs), (1600, 400));
    }

    fn valid() -> Value {
        render(
            &[(Metric::Approvals, 1), (Metric::Denials, 2)],
            Dims::client("abc"),
        )
    }

    fn refused(line: &Value, why: &str) {
        let err = validate_emf(&line.to_string()).expect_err(why);
        assert!(err.contains(why), "{err:?} should say {why:?}");
    }

    #[test]
    fn the_validator_accepts_the_specifications_example() {
        let example = json!({
            "_aws": {
                "Timestamp": 1574109732004u64,
                "CloudWatchMetrics": [{
                    "Namespace": "lambda-function-metrics",
                    "Dimensions": [["functionVersion"]],
                    "Metrics": [{ "Name": "time", "Unit": "Milliseconds", "StorageResolution": 60 }]
                }]
            },
            "functionVersion": "$LATEST",
            "time": 100,
            "requestId": "989ffbf8-9ace-4817-a57c-e4dd734019ee"
        });
        validate_emf(&example.to_string()).unwrap();
        validate_emf(&format!("{example}\n")).unwrap();
        let mut arrays = example.clone();
        arrays["time"] = json!([1, 2.5, 3]);
        arrays["_aws"]["CloudWatchMetrics"][0]["Dimensions"] = json!([[], ["functionVersion"]]);
        validate_emf(&arrays.to_string()).unwrap();
    }

    #[test]
    fn the_validator_refuses_what_the_specification_forbids() {
        assert!(validate_emf("not json").unwrap_err().contains("not JSON"));
        assert!(validate_emf("[]").unwrap_err().contains("not an object"));
        let pretty = serde_json::to_string_pretty(&valid()).unwrap();
        assert!(validate_emf(&pretty).unwrap_err().contains("one line"));

        let directive = "/_aws/CloudWatchMetrics/0";
        let set = |pointer: &str, value: Value| {
            let mut line = valid();
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            match line.pointer_mut(parent).unwrap() {
                Value::Object(members) => {
                    members.insert(key.to_owned(), value);
                }
                array => array[key.parse::<usize>().unwrap()] = value,
            }
            line
        };
        let without = |key: &str| {
            let mut line = valid();
            line.as_object_mut().unwrap().remove(key);
            line
        };
        refused(&without("_aws"), "`_aws`");
        refused(&set("/_aws/Timestamp", json!(1.5)), "Timestamp");
        refused(&set("/_aws/Timestamp", json!(-1)), "Timestamp");
        refused(&set("/_aws/Timestamp", json!("1")), "Timestamp");
        refused(
            &set("/_aws/CloudWatchMetrics", json!([])),
            "CloudWatchMetrics",
        );
        refused(
            &set("/_aws/CloudWatchMetrics", json!({})),
            "CloudWatchMetrics",
        );
        refused(
            &set(&format!("{directive}/Namespace"), json!("")),
            "Namespace",
        );
        refused(
            &set(&format!("{directive}/Namespace"), json!(1)),
            "Namespace",
        );
        refused(
            &set(&format!("{directive}/Dimensions"), json!([])),
            "Dimensions",
        );
        refused(
            &set(&format!("{directive}/Dimensions"), json!(["function"])),
            "DimensionSet",
        );
        refused(
            &set(&format!("{directive}/Dimensions/0/0"), json!(1)),
            "key",
        );
        refused(
            &set(&format!("{directive}/Dimensions/0/0"), json!("absent")),
            "`absent`",
        );
        let names: Vec<String> = (0..31).map(|i| format!("d{i}")).collect();
        let mut wide = set(&format!("{directive}/Dimensions/0"), json!(names));
        for name in &names {
            wide[name] = json!("v");
        }
        refused(&wide, "31 keys");
        refused(&set("/client_id", json!(7)), "`client_id`");
        refused(&set("/client_id", json!("é")), "ASCII");
        refused(&set("/client_id", json!("  ")), "ASCII");
        refused(
            &set("/client_id", json!("x".repeat(1025))),
            "1025 characters",
        );
        refused(
            &set(&format!("{directive}/Metrics"), json!([])),
            "0 definitions",
        );
        let many: Vec<Value> = (0..101).map(|_| json!({ "Name": "Approvals" })).collect();
        refused(
            &set(&format!("{directive}/Metrics"), json!(many)),
            "101 definitions",
        );
        refused(&set(&format!("{directive}/Metrics/0"), json!({})), "`Name`");
        refused(
            &set(&format!("{directive}/Metrics/0/Unit"), json!("Things")),
            "`Unit`",
        );
        refused(
            &set(&format!("{directive}/Metrics/0/Unit"), json!(1)),
            "`Unit`",
        );
        refused(
            &set(
                &format!("{directive}/Metrics/0/StorageResolution"),
                json!(5),
            ),
            "`StorageResolution`",
        );
        refused(
            &set(&format!("{directive}/Metrics/0/Other"), json!(1)),
            "`Other`",
        );
        refused(&without("Approvals"), "no numeric value");
        refused(&set("/Approvals", json!("1")), "no numeric value");
        refused(&set("/Approvals", json!([])), "no numeric value");
        refused(&set("/Approvals", json!(vec![1; 101])), "no numeric value");
    }
}
