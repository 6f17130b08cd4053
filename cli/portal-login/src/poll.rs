//! The device's side of RFC 8628 §3.4–3.5: poll the token endpoint until the person decides.
//!
//! - wait `interval` seconds (the server's, 5 when it names none, §3.2) between polls;
//! - `authorization_pending`: keep polling at the interval;
//! - `slow_down`: add 5 seconds to the interval for this and every later poll (§3.5), or take
//!   the server's raised `interval` when that is larger;
//! - no answer, a 5xx or a 429: back off exponentially (interval × 2ⁿ, at most
//!   [`MAX_BACKOFF`]), and return to the interval after the next real answer (§3.5 asks for
//!   exactly this on connection timeouts);
//! - `access_denied`, `expired_token`, `invalid_grant`, any other error: stop;
//! - the code's lifetime (`expires_in`) is a deadline on the monotonic clock: once it passes,
//!   stop without polling again, since every answer after it is `expired_token`.
//!
//! Sleeping and reading the clock go through [`Pause`], so tests drive the loop against a
//! real HTTP stand-in without waiting for real seconds.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::oauth::{ServerError, TokenResponse};

/// RFC 8628 §3.2: "If no value is provided, clients MUST use 5 as the default."
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// RFC 8628 §3.5: on `slow_down` "the interval MUST be increased by 5 seconds".
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// The longest wait after repeated connection failures (unless the interval is longer).
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The clock and the sleep, real or simulated.
pub trait Pause {
    fn now(&self) -> Instant;
    fn sleep(&mut self, duration: Duration) -> impl Future<Output = ()>;
}

/// Tokio's clock.
#[derive(Debug, Default)]
pub struct RealPause;

impl Pause for RealPause {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&mut self, duration: Duration) -> impl Future<Output = ()> {
        tokio::time::sleep(duration)
    }
}

/// One poll of the token endpoint.
pub trait Poller {
    fn poll(&self) -> impl Future<Output = Result<TokenResponse, ServerError>>;
}

/// Something worth telling the person while waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollEvent {
    /// The server asked us to slow down; this is the new interval.
    SlowDown { interval: Duration },
    /// The server could not be reached (or failed); the next try is after `wait`.
    Retrying { problem: String, wait: Duration },
}

/// How the wait ended.
#[derive(Debug)]
pub enum PollEnd {
    Tokens(TokenResponse),
    /// `access_denied`.
    Denied,
    /// `expired_token`, or the deadline passed here.
    Expired,
    /// `invalid_grant`: the code is unknown, used, or another client's.
    Invalid(Option<String>),
    /// Any other error answer.
    Failed(ServerError),
}

/// The waiting times between polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    interval: Duration,
    failures: u32,
}

impl Schedule {
    /// From the server's `interval` (seconds); none means 5, and never less than 1 s.
    pub fn new(server_interval: Option<u64>) -> Self {
        let interval = server_interval
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_INTERVAL)
            .max(Duration::from_secs(1));
        Self {
            interval,
            failures: 0,
        }
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// After `authorization_pending` (or any real answer): the plain interval.
    pub fn on_pending(&mut self) -> Duration {
        self.failures = 0;
        self.interval
    }

    /// After `slow_down`: +5 s, or the server's raised interval when that is larger.
    pub fn on_slow_down(&mut self, server_interval: Option<u64>) -> Duration {
        self.failures = 0;
        let stepped = self.interval + SLOW_DOWN_STEP;
        let asked = server_interval.map(Duration::from_secs).unwrap_or_default();
        self.interval = stepped.max(asked);
        self.interval
    }

    /// After no answer: interval × 2ⁿ for the n-th failure in a row, capped.
    pub fn on_unreachable(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let factor = 1u32 << self.failures.min(16);
        let cap = MAX_BACKOFF.max(self.interval);
        self.interval.saturating_mul(factor).min(cap)
    }
}

/// Polls until the person decides, the code expires, or the server ends it.
pub async fn poll_until_done<P: Poller, C: Pause>(
    poller: &P,
    pause: &mut C,
    mut schedule: Schedule,
    deadline: Instant,
    observe: &dyn Fn(&PollEvent),
) -> PollEnd {
    let mut wait = schedule.interval();
    loop {
        let now = pause.now();
        if now >= deadline {
            return PollEnd::Expired;
        }
        pause.sleep(wait.min(deadline - now)).await;
        if pause.now() >= deadline {
            return PollEnd::Expired;
        }
        wait = match poller.poll().await {
            Ok(tokens) => return PollEnd::Tokens(tokens),
            Err(e) if e.is_transient() => {
                let wait = schedule.on_unreachable();
                observe(&PollEvent::Retrying {
                    problem: e.to_string(),
                    wait,
                });
                wait
            }
            Err(e) => match answer(e) {
                Next::Pending => schedule.on_pending(),
                Next::SlowDown(server) => {
                    let interval = schedule.on_slow_down(server);
                    observe(&PollEvent::SlowDown { interval });
                    interval
                }
                Next::End(end) => return end,
            },
        };
    }
}

enum Next {
    Pending,
    SlowDown(Option<u64>),
    End(PollEnd),
}

fn answer(e: ServerError) -> Next {
    let ServerError::OAuth {
        error,
        description,
        interval,
        ..
    } = &e
    else {
        return Next::End(PollEnd::Failed(e));
    };
    match error.as_str() {
        "authorization_pending" => Next::Pending,
        "slow_down" => Next::SlowDown(*interval),
        "access_denied" => Next::End(PollEnd::Denied),
        "expired_token" => Next::End(PollEnd::Expired),
        "invalid_grant" => Next::End(PollEnd::Invalid(description.clone())),
        _ => Next::End(PollEnd::Failed(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_defaults_to_five_seconds_and_is_at_least_one() {
        assert_eq!(Schedule::new(None).interval(), Duration::from_secs(5));
        assert_eq!(Schedule::new(Some(0)).interval(), Duration::from_secs(1));
        assert_eq!(Schedule::new(Some(7)).interval(), Duration::from_secs(7));
    }

    #[test]
    fn every_slow_down_adds_five_seconds_for_good() {
        let mut s = Schedule::new(Some(5));
        assert_eq!(s.on_slow_down(None), Duration::from_secs(10));
        assert_eq!(s.on_pending(), Duration::from_secs(10));
        assert_eq!(s.on_slow_down(None), Duration::from_secs(15));
        // The server's raised interval wins when larger, never when smaller.
        assert_eq!(s.on_slow_down(Some(30)), Duration::from_secs(30));
        assert_eq!(s.on_slow_down(Some(10)), Duration::from_secs(35));
    }

    #[test]
    fn connection_failures_back_off_exponentially_and_reset_on_an_answer() {
        let mut s = Schedule::new(Some(5));
        let waits: Vec<u64> = (0..5).map(|_| s.on_unreachable().as_secs()).collect();
        assert_eq!(waits, [10, 20, 40, 60, 60]);
        assert_eq!(s.on_pending(), Duration::from_secs(5));
        assert_eq!(s.on_unreachable(), Duration::from_secs(10));
        // Many failures in a row neither overflow nor exceed the cap.
        for _ in 0..100 {
            assert!(s.on_unreachable() <= MAX_BACKOFF);
        }
        // An interval above the cap is still respected.
        let mut slow = Schedule::new(Some(90));
        assert_eq!(slow.on_unreachable(), Duration::from_secs(90));
    }
}

/// The loop driven against the stand-in server over real HTTP, on a simulated clock.
#[cfg(test)]
mod against_a_stand_in {
    use std::cell::RefCell;

    use super::*;
    use crate::config::{BaseUrl, ClientId};
    use crate::oauth::{Endpoints, OAuthClient};
    use crate::testkit::{DEVICE_CODE, DEVICE_GRANT, Reply, StandIn};

    /// Sleeping advances a simulated clock and records the duration.
    struct FakePause {
        start: Instant,
        elapsed: Duration,
        slept: Vec<u64>,
    }

    impl FakePause {
        fn new() -> Self {
            Self {
                start: Instant::now(),
                elapsed: Duration::ZERO,
                slept: Vec::new(),
            }
        }
        fn deadline_in(&self, seconds: u64) -> Instant {
            self.start + Duration::from_secs(seconds)
        }
    }

    impl Pause for FakePause {
        fn now(&self) -> Instant {
            self.start + self.elapsed
        }
        fn sleep(&mut self, duration: Duration) -> impl Future<Output = ()> {
            self.elapsed += duration;
            self.slept.push(duration.as_secs());
            std::future::ready(())
        }
    }

    struct TestPoller {
        client: OAuthClient,
        endpoints: Endpoints,
        client_id: ClientId,
    }

    impl Poller for TestPoller {
        async fn poll(&self) -> Result<TokenResponse, ServerError> {
            self.client
                .poll(&self.endpoints, &self.client_id, DEVICE_CODE)
                .await
        }
    }

    async fn poller(stand_in: &StandIn) -> TestPoller {
        let client = OAuthClient::new().unwrap();
        let base = BaseUrl::parse(&stand_in.base_url).unwrap();
        let endpoints = client.discover(&base).await.unwrap();
        TestPoller {
            client,
            endpoints,
            client_id: ClientId::parse("cli-client").unwrap(),
        }
    }

    async fn run(
        poller: &TestPoller,
        pause: &mut FakePause,
        interval: u64,
        lifetime: u64,
    ) -> (PollEnd, Vec<PollEvent>) {
        let events = RefCell::new(Vec::new());
        let deadline = pause.deadline_in(lifetime);
        let end = poll_until_done(
            poller,
            pause,
            Schedule::new(Some(interval)),
            deadline,
            &|e| events.borrow_mut().push(e.clone()),
        )
        .await;
        (end, events.into_inner())
    }

    #[tokio::test]
    async fn polls_at_the_interval_until_approved_sending_the_rfc_parameters() {
        let stand_in = StandIn::start();
        stand_in.push_poll(Reply::pending());
        stand_in.push_poll(Reply::pending());
        stand_in.push_poll(Reply::tokens("demo", 3600, Some("r")));
        let poller = poller(&stand_in).await;
        let mut pause = FakePause::new();
        let (end, events) = run(&poller, &mut pause, 5, 600).await;
        assert!(matches!(end, PollEnd::Tokens(_)), "{end:?}");
        assert_eq!(pause.slept, [5, 5, 5]);
        assert!(events.is_empty());
        let polls = stand_in.token_requests(DEVICE_GRANT);
        assert_eq!(polls.len(), 3);
        for poll in polls {
            assert_eq!(poll.method, "POST");
            assert_eq!(poll.param("device_code"), Some(DEVICE_CODE));
            assert_eq!(poll.param("client_id"), Some("cli-client"));
        }
    }

    #[tokio::test]
    async fn every_slow_down_adds_five_seconds_to_all_later_waits() {
        let stand_in = StandIn::start();
        stand_in.push_poll(Reply::pending());
        stand_in.push_poll(Reply::slow_down(None));
        stand_in.push_poll(Reply::pending());
        stand_in.push_poll(Reply::slow_down(Some(20)));
        stand_in.push_poll(Reply::slow_down(Some(7)));
        stand_in.push_poll(Reply::tokens("demo", 3600, None));
        let poller = poller(&stand_in).await;
        let mut pause = FakePause::new();
        let (end, events) = run(&poller, &mut pause, 5, 600).await;
        assert!(matches!(end, PollEnd::Tokens(_)), "{end:?}");
        // 5, 5, then +5 → 10 for good, the server's 20 (larger than 15), then +5 → 25
        // (the server's 7 is smaller and ignored).
        assert_eq!(pause.slept, [5, 5, 10, 10, 20, 25]);
        let secs = |s| PollEvent::SlowDown {
            interval: Duration::from_secs(s),
        };
        assert_eq!(events, [secs(10), secs(20), secs(25)]);
    }

    #[tokio::test]
    async fn denied_expired_and_invalid_grant_each_end_the_wait() {
        for (reply, expected) in [
            ("access_denied", "Denied"),
            ("expired_token", "Expired"),
            ("invalid_grant", "Invalid"),
            ("invalid_client", "Failed"),
        ] {
            let stand_in = StandIn::start();
            stand_in.push_poll(Reply::pending());
            stand_in.push_poll(Reply::error(400, reply));
            let poller = poller(&stand_in).await;
            let mut pause = FakePause::new();
            let (end, _) = run(&poller, &mut pause, 2, 600).await;
            assert!(format!("{end:?}").starts_with(expected), "{reply}: {end:?}");
            assert_eq!(stand_in.token_requests(DEVICE_GRANT).len(), 2, "{reply}");
        }
    }

    #[tokio::test]
    async fn server_errors_back_off_exponentially_then_polling_resumes_at_the_interval() {
        let stand_in = StandIn::start();
        stand_in.push_poll(Reply::error(503, "temporarily_unavailable"));
        stand_in.push_poll(Reply::error(502, "bad_gateway"));
        stand_in.push_poll(Reply::pending());
        stand_in.push_poll(Reply::tokens("demo", 3600, None));
        let poller = poller(&stand_in).await;
        let mut pause = FakePause::new();
        let (end, events) = run(&poller, &mut pause, 5, 600).await;
        assert!(matches!(end, PollEnd::Tokens(_)), "{end:?}");
        assert_eq!(pause.slept, [5, 10, 20, 5]);
        let waits: Vec<u64> = events
            .iter()
            .map(|e| match e {
                PollEvent::Retrying { wait, problem } => {
                    assert!(problem.contains("HTTP 50"), "{problem}");
                    wait.as_secs()
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(waits, [10, 20]);
    }

    #[tokio::test]
    async fn an_unreachable_server_is_retried_with_back_off_until_the_code_expires() {
        let stand_in = StandIn::start();
        let mut poller = poller(&stand_in).await;
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        poller.endpoints.token = format!("http://127.0.0.1:{port}/device/token");
        let mut pause = FakePause::new();
        let (end, events) = run(&poller, &mut pause, 5, 100).await;
        assert!(matches!(end, PollEnd::Expired), "{end:?}");
        // 5 + 10 + 20 + 40 = 75 s; the next wait (60) is cut to the 25 s left.
        assert_eq!(pause.slept, [5, 10, 20, 40, 25]);
        assert_eq!(events.len(), 4);
        let PollEvent::Retrying { problem, .. } = &events[0] else {
            panic!("{events:?}")
        };
        assert!(problem.contains("cannot reach"), "{problem}");
    }

    #[tokio::test]
    async fn the_deadline_ends_the_wait_without_another_poll() {
        let stand_in = StandIn::start();
        let poller = poller(&stand_in).await;
        let mut pause = FakePause::new();
        let (end, _) = run(&poller, &mut pause, 5, 12).await;
        assert!(matches!(end, PollEnd::Expired), "{end:?}");
        assert_eq!(pause.slept, [5, 5, 2]);
        assert_eq!(stand_in.token_requests(DEVICE_GRANT).len(), 2);
    }
}
