//! Traffic accounting: request statistics, the primary and secondary rate
//! limits, and deterministic fault injection.
//!
//! Design: every request passes through [`Traffic::admit`] (under the
//! server's mutex) before any endpoint logic runs. It counts the request,
//! authenticates it, charges the primary (hourly) quota, enforces the
//! secondary limit on mutating requests with sliding windows over the
//! injected clock, and finally picks the fault: one scheduled for the
//! request's endpoint ([`Traffic::schedule`]) if any, else whatever the
//! dice say. The dice are a splitmix64 stream seeded by [`Faults::seed`],
//! so a client that issues the same requests in the same order meets the
//! same faults; a scheduled fault hits exactly one chosen request. What happens with
//! an injected fault (answer at once, or run the handler first and lie about
//! the outcome) is up to the caller; this module only decides.

use std::collections::VecDeque;

use serde_json::{Value, json};

use super::{Fault, Faults, Options, Stats};

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;

/// The message GitHub sends with secondary rate limit rejections.
pub const SECONDARY_MESSAGE: &str =
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";

/// Template key of the create-pull-request endpoint.
pub const CREATE_PULL: &str = "POST /repos/{owner}/{repo}/pulls";

/// splitmix64: tiny, fast and good enough to spread faults.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Values for the `x-ratelimit-*` headers of one response.
#[derive(Debug, Clone, Copy)]
pub struct RateInfo {
    pub limit: u32,
    pub remaining: u32,
    pub used: u32,
    /// Unix seconds at which the primary window ends.
    pub reset: i64,
}

/// A response decided without running an endpoint.
#[derive(Debug, Clone)]
pub struct Rejection {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(&'static str, String)>,
}

/// A fault chosen for one request.
#[derive(Debug, Clone, Copy)]
pub struct Injected {
    pub kind: Fault,
    /// Seconds for `retry-after` where the fault sends one (1..=3).
    pub retry_after: u64,
    /// How long `Slow` / `Timeout` sleep, in milliseconds.
    pub sleep_ms: u64,
}

/// What [`Traffic::admit`] decided.
#[derive(Debug, Clone)]
pub enum Verdict {
    Reject(Rejection),
    Proceed(Option<Injected>),
}

/// What the admission step needs to know about a request.
#[derive(Debug, Clone, Copy)]
pub struct RequestInfo<'a> {
    /// `"METHOD /route/{template}"`.
    pub key: &'a str,
    pub mutating: bool,
    pub authorized: bool,
}

/// Counters, windows and the fault stream.
#[derive(Debug)]
pub struct Traffic {
    pub stats: Stats,
    /// Mutating requests received in the last minute (for the max stat).
    received: VecDeque<i64>,
    /// Mutating requests let through the secondary limit in the last hour.
    accepted: VecDeque<i64>,
    primary_start: Option<i64>,
    primary_used: u32,
    faults: Faults,
    rng: Rng,
    sequence: u64,
    /// Faults for the next requests to an endpoint (`"METHOD /template"`),
    /// in the order they were scheduled.
    scheduled: Vec<(String, Fault)>,
}

impl Default for Traffic {
    fn default() -> Traffic {
        Traffic {
            stats: Stats::default(),
            received: VecDeque::new(),
            accepted: VecDeque::new(),
            primary_start: None,
            primary_used: 0,
            faults: Faults::default(),
            rng: Rng::new(0),
            sequence: 0,
            scheduled: Vec::new(),
        }
    }
}

impl Traffic {
    /// Replaces the fault configuration and restarts the fault stream.
    pub fn set_faults(&mut self, faults: Faults) {
        self.rng = Rng::new(faults.seed);
        self.faults = faults;
    }

    /// Gives the next request to `endpoint` (`"METHOD /template"`, the
    /// statistics key) `fault`, whatever the dice say. Scheduled faults
    /// survive [`Traffic::set_faults`].
    pub fn schedule(&mut self, endpoint: &str, fault: Fault) {
        self.scheduled.push((endpoint.to_string(), fault));
    }

    /// A fresh value for `x-github-request-id`.
    pub fn request_id(&mut self) -> String {
        self.sequence += 1;
        format!(
            "5133:{:04X}:{:06X}:{:08X}",
            self.sequence % 0xffff,
            self.sequence,
            self.sequence * 7
        )
    }

    /// The current primary quota, rolling the window over when it ended.
    fn rate_info(&mut self, options: &Options, now: i64) -> RateInfo {
        let start = match self.primary_start {
            Some(start) if now < start + HOUR_MS => start,
            _ => {
                self.primary_start = Some(now);
                self.primary_used = 0;
                now
            }
        };
        RateInfo {
            limit: options.primary_limit,
            remaining: options.primary_limit.saturating_sub(self.primary_used),
            used: self.primary_used,
            reset: (start + HOUR_MS).div_euclid(1000),
        }
    }

    /// Counts the request and decides whether it reaches an endpoint.
    pub fn admit(
        &mut self,
        options: &Options,
        req: RequestInfo<'_>,
        now: i64,
    ) -> (Verdict, RateInfo) {
        self.stats.requests += 1;
        *self
            .stats
            .by_endpoint
            .entry(req.key.to_string())
            .or_default() += 1;
        if req.mutating {
            self.stats.mutating += 1;
            *self
                .stats
                .mutating_by_endpoint
                .entry(req.key.to_string())
                .or_default() += 1;
            self.received.push_back(now);
            while self.received.front().is_some_and(|&t| t <= now - MINUTE_MS) {
                self.received.pop_front();
            }
            self.stats.max_mutating_per_minute =
                self.stats.max_mutating_per_minute.max(self.received.len());
        }

        let mut rate = self.rate_info(options, now);
        if !req.authorized {
            return (Verdict::Reject(bad_credentials()), rate);
        }

        self.primary_used += 1;
        rate = self.rate_info(options, now);
        if self.primary_used > options.primary_limit {
            rate.remaining = 0;
            let body = json!({
                "message": "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
            });
            let rejection = Rejection {
                status: 403,
                body,
                headers: Vec::new(),
            };
            return (Verdict::Reject(rejection), rate);
        }

        if req.mutating {
            while self.accepted.front().is_some_and(|&t| t <= now - HOUR_MS) {
                self.accepted.pop_front();
            }
            let last_minute = self
                .accepted
                .iter()
                .rev()
                .take_while(|&&t| t > now - MINUTE_MS)
                .count();
            if last_minute >= options.per_minute || self.accepted.len() >= options.per_hour {
                self.stats.limited += 1;
                return (Verdict::Reject(secondary_limit(Some(60))), rate);
            }
            self.accepted.push_back(now);
        }

        (Verdict::Proceed(self.roll(req)), rate)
    }

    /// Decides whether this request gets a fault, and which one.
    fn roll(&mut self, req: RequestInfo<'_>) -> Option<Injected> {
        if let Some(index) = self.scheduled.iter().position(|(key, _)| key == req.key) {
            let (_, kind) = self.scheduled.remove(index);
            return Some(self.inject(kind, 1));
        }
        if self.faults.rate <= 0.0 || self.faults.kinds.is_empty() {
            return None;
        }
        if self.rng.unit() >= self.faults.rate {
            return None;
        }
        let applicable: Vec<Fault> = self
            .faults
            .kinds
            .iter()
            .copied()
            .filter(|k| *k != Fault::AlreadyExists || req.key == CREATE_PULL)
            .collect();
        let pick = self.rng.next_u64();
        let retry_after = 1 + self.rng.next_u64() % 3;
        if applicable.is_empty() {
            return None;
        }
        let kind = applicable[(pick % applicable.len() as u64) as usize];
        Some(self.inject(kind, retry_after))
    }

    /// Counts and describes one injected fault.
    fn inject(&mut self, kind: Fault, retry_after: u64) -> Injected {
        self.stats.faults_injected += 1;
        let sleep_ms = match kind {
            Fault::Slow => self.faults.slow_ms,
            Fault::Timeout => self.faults.timeout_ms,
            _ => 0,
        };
        Injected {
            kind,
            retry_after,
            sleep_ms,
        }
    }
}

/// 401 for a missing or wrong token.
pub fn bad_credentials() -> Rejection {
    Rejection {
        status: 401,
        body: json!({
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest",
            "status": "401",
        }),
        headers: Vec::new(),
    }
}

/// 403 secondary rate limit, with or without `retry-after`.
pub fn secondary_limit(retry_after: Option<u64>) -> Rejection {
    Rejection {
        status: 403,
        body: json!({
            "message": SECONDARY_MESSAGE,
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
        }),
        headers: retry_after
            .map(|s| vec![("retry-after", s.to_string())])
            .unwrap_or_default(),
    }
}

/// The response an injected fault answers with instead of (or after) the
/// endpoint. `None` for faults that answer normally (`Slow`, `Timeout`).
pub fn fault_response(injected: Injected) -> Option<Rejection> {
    let plain = |status: u16, message: &str| Rejection {
        status,
        body: json!({"message": message, "documentation_url": "https://docs.github.com/rest"}),
        headers: Vec::new(),
    };
    match injected.kind {
        Fault::ServerError => Some(plain(500, "Server Error")),
        Fault::BadGateway | Fault::CreatedThenServerError => Some(plain(502, "Server Error")),
        Fault::SecondaryWithRetryAfter => Some(secondary_limit(Some(injected.retry_after))),
        Fault::SecondaryNoHeaders => Some(secondary_limit(None)),
        Fault::TooManyRequests => {
            let mut r = secondary_limit(Some(injected.retry_after));
            r.status = 429;
            Some(r)
        }
        Fault::AlreadyExists | Fault::Slow | Fault::Timeout => None,
    }
}
