//! The HTTP layer of the GitHub forge: octocrab's client (base URI,
//! authentication, TLS) driven from synchronous code, every request paced
//! by the [`Governor`], and GitHub's failure answers turned into waits,
//! retries or errors.
//!
//! Retry rules, in order:
//! - a rate-limit answer (429, or 403 with `retry-after`, a spent primary
//!   limit or GitHub's secondary-limit message) was not acted on, so it is
//!   always retried: after exactly `retry-after`, at the primary reset, or
//!   else after 60 s doubling up to the configured bound, past which the
//!   request fails;
//! - a 5xx or a transport failure (including a timeout) is retried with a
//!   short backoff only for reads and idempotent writes; for other writes
//!   the outcome is unknown, and the caller must look before trying again
//!   ([`Sent::Unknown`]);
//! - any other answer goes back to the caller.
//!
//! Routes are always relative (`/repos/...`): octocrab then joins them to
//! the API root, path prefix included, and attaches the token only to
//! them. Pagination links are absolute and are followed only when they
//! point below the configured API root, so the token never leaves it.

use std::time::Duration;

use http::HeaderMap;
use octocrab::Octocrab;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::governor::Governor;
use crate::forge::ForgeError;

/// The HTTP methods fleetmod uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Method {
    Get,
    Post,
    Patch,
    Put,
    Delete,
}

impl Method {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// A response.
#[derive(Debug)]
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) headers: HeaderMap,
    pub(super) body: String,
}

impl Reply {
    pub(super) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// GitHub's `message`, with any validation errors' messages.
    pub(super) fn message(&self) -> String {
        let Ok(value) = serde_json::from_str::<Value>(&self.body) else {
            return self.body.chars().take(200).collect();
        };
        let mut message = value["message"].as_str().unwrap_or("").to_owned();
        for error in value["errors"].as_array().into_iter().flatten() {
            if let Some(detail) = error["message"].as_str() {
                message.push_str(&format!(" ({detail})"));
            }
        }
        message
    }

    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The body as `T`.
    pub(super) fn json<T: DeserializeOwned>(&self, action: &str) -> Result<T, ForgeError> {
        serde_json::from_str(&self.body).map_err(|error| ForgeError::Failed {
            action: action.to_owned(),
            message: format!("GitHub sent an unexpected answer: {error}"),
        })
    }

    /// The `rel="next"` link, if any.
    fn next_link(&self) -> Option<String> {
        let links = self.header("link")?;
        links.split(',').find_map(|link| {
            let (url, params) = link.split_once(';')?;
            params
                .split(';')
                .any(|param| param.trim() == "rel=\"next\"")
                .then(|| {
                    url.trim()
                        .trim_start_matches('<')
                        .trim_end_matches('>')
                        .to_owned()
                })
        })
    }
}

/// How a request ended.
pub(super) enum Sent {
    /// GitHub answered (any status but a rate limit or, for retried
    /// requests, a server error).
    Reply(Reply),
    /// A write whose outcome is unknown (a 5xx or no answer).
    Unknown(String),
}

/// Transient failures retried for reads and idempotent writes.
const TRANSIENT_RETRIES: u32 = 4;
/// Rate-limit answers tolerated for one request before giving up.
const RATE_LIMIT_RETRIES: u32 = 12;
/// The first wait after a secondary limit without `retry-after`.
const SECONDARY_FIRST_WAIT_MS: i64 = 60_000;

/// octocrab and its runtime, behind the governor.
pub(super) struct Client {
    octocrab: Octocrab,
    runtime: tokio::runtime::Runtime,
    pub(super) governor: Governor,
    api_url: String,
    timeout: Duration,
}

impl Client {
    pub(super) fn new(
        octocrab: Octocrab,
        runtime: tokio::runtime::Runtime,
        governor: Governor,
        api_url: &str,
    ) -> Client {
        let timeout = Duration::from_millis(governor.limits().timeout_ms.max(1));
        Client {
            octocrab,
            runtime,
            governor,
            api_url: api_url.trim_end_matches('/').to_owned(),
            timeout,
        }
    }

    /// Runs a future of octocrab's on the client's runtime.
    pub(super) fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// One request, no retries. `Err` is a transport failure or a timeout.
    fn attempt(&self, method: Method, route: &str, body: Option<&Value>) -> Result<Reply, String> {
        let octocrab = &self.octocrab;
        let request = async {
            let response = match method {
                Method::Get => octocrab._get(route).await,
                Method::Post => octocrab._post(route, body).await,
                Method::Patch => octocrab._patch(route, body).await,
                Method::Put => octocrab._put(route, body).await,
                Method::Delete => octocrab._delete(route, body).await,
            }
            .map_err(|error| describe(&error))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = octocrab
                .body_to_string(response)
                .await
                .map_err(|error| describe(&error))?;
            Ok(Reply {
                status,
                headers,
                body,
            })
        };
        self.runtime.block_on(async {
            tokio::time::timeout(self.timeout, request)
                .await
                .unwrap_or_else(|_| {
                    Err(format!(
                        "no answer within {:.1}s",
                        self.timeout.as_secs_f64()
                    ))
                })
        })
    }

    /// Sends a request through the governor, waiting out rate limits and
    /// retrying what is safe to retry (see the module documentation).
    pub(super) fn send(
        &self,
        method: Method,
        route: &str,
        body: Option<&Value>,
        idempotent: bool,
    ) -> Result<Sent, ForgeError> {
        let what = format!("{} {route}", method.as_str());
        let mutating = method != Method::Get;
        let retry_transient = !mutating || idempotent;
        let mut transient = 0;
        let mut limited = 0;
        let mut secondary = 0;
        loop {
            let result = {
                let _permit = self.governor.admit(mutating, &what)?;
                self.attempt(method, route, body)
            };
            let failure = match result {
                Ok(reply) => {
                    self.observe(&reply)?;
                    if let Some(wait) = self.rate_limit_wait(&reply, &mut secondary) {
                        limited += 1;
                        let Some(wait) = wait.filter(|_| limited <= RATE_LIMIT_RETRIES) else {
                            return Err(ForgeError::Failed {
                                action: what,
                                message: format!(
                                    "GitHub kept answering {} (rate limited) after {limited} waits: {}",
                                    reply.status,
                                    reply.message()
                                ),
                            });
                        };
                        let reason = format!(
                            "GitHub answered {} to {what}: {}",
                            reply.status,
                            reply.message()
                        );
                        self.governor.block(wait, &reason)?;
                        continue;
                    }
                    if reply.status < 500 {
                        return Ok(Sent::Reply(reply));
                    }
                    format!("GitHub answered {}: {}", reply.status, reply.message())
                }
                Err(message) => message,
            };
            if !retry_transient {
                return Ok(Sent::Unknown(failure));
            }
            transient += 1;
            if transient >= TRANSIENT_RETRIES {
                return Err(ForgeError::Failed {
                    action: what,
                    message: format!("{failure} (after {transient} attempts)"),
                });
            }
            let wait = 1_000_i64 << (transient - 1);
            tracing::info!("{what} failed ({failure}); retrying in {}s", wait / 1000);
            self.governor.clock().sleep_ms(wait);
        }
    }

    /// Sends and requires an answer: an unknown outcome is an error.
    pub(super) fn reply(
        &self,
        method: Method,
        route: &str,
        body: Option<&Value>,
        idempotent: bool,
    ) -> Result<Reply, ForgeError> {
        match self.send(method, route, body, idempotent)? {
            Sent::Reply(reply) => Ok(reply),
            Sent::Unknown(message) => Err(ForgeError::Failed {
                action: format!("{} {route}", method.as_str()),
                message,
            }),
        }
    }

    /// GETs every page of a list.
    pub(super) fn get_all<T: DeserializeOwned>(&self, route: &str) -> Result<Vec<T>, ForgeError> {
        let mut items = Vec::new();
        let mut next = Some(route.to_owned());
        let mut pages = 0;
        while let Some(route) = next.take() {
            let reply = self.reply(Method::Get, &route, None, true)?;
            if !reply.is_success() {
                return Err(failure(&route, &reply));
            }
            let page: Vec<T> = reply.json(&format!("read {route}"))?;
            items.extend(page);
            pages += 1;
            if pages > 1_000 {
                break;
            }
            if let Some(link) = reply.next_link() {
                next = Some(self.relative(&link).ok_or_else(|| ForgeError::Failed {
                    action: format!("read {route}"),
                    message: format!("GitHub's next page {link} is not below {}", self.api_url),
                })?);
            }
        }
        Ok(items)
    }

    /// `url` as a route below the API root.
    fn relative(&self, url: &str) -> Option<String> {
        let rest = url.strip_prefix(&self.api_url)?;
        rest.starts_with('/').then(|| rest.to_owned())
    }

    /// Records the primary limit an answer reports.
    pub(super) fn observe(&self, reply: &Reply) -> Result<(), ForgeError> {
        let remaining = reply
            .header("x-ratelimit-remaining")
            .and_then(|value| value.parse::<i64>().ok());
        let reset = reply
            .header("x-ratelimit-reset")
            .and_then(|value| value.parse::<i64>().ok());
        if let (Some(remaining), Some(reset)) = (remaining, reset) {
            self.governor.observe(remaining, reset * 1000)?;
        }
        Ok(())
    }

    /// How long to wait before retrying a rate-limited answer: `None` when
    /// the answer is not a rate limit, `Some(None)` when the waits ran out.
    fn rate_limit_wait(&self, reply: &Reply, secondary: &mut u32) -> Option<Option<i64>> {
        if reply.status != 403 && reply.status != 429 {
            return None;
        }
        if let Some(seconds) = reply
            .header("retry-after")
            .and_then(|value| value.trim().parse::<i64>().ok())
        {
            return Some(Some(seconds.max(0) * 1000));
        }
        let now = self.governor.clock().now_ms();
        if reply.header("x-ratelimit-remaining") == Some("0")
            && let Some(reset) = reply
                .header("x-ratelimit-reset")
                .and_then(|value| value.parse::<i64>().ok())
        {
            return Some(Some((reset * 1000 - now).max(1_000)));
        }
        let message = reply.message().to_ascii_lowercase();
        if reply.status == 403 && !message.contains("rate limit") {
            return None;
        }
        *secondary += 1;
        let wait = SECONDARY_FIRST_WAIT_MS << (*secondary - 1).min(20);
        let bound = self.governor.limits().max_backoff_ms as i64;
        Some((wait <= bound.max(SECONDARY_FIRST_WAIT_MS)).then_some(wait))
    }
}

/// A failed answer as an error.
pub(super) fn failure(what: &str, reply: &Reply) -> ForgeError {
    ForgeError::Failed {
        action: what.to_owned(),
        message: format!("GitHub answered {}: {}", reply.status, reply.message()),
    }
}

/// An octocrab error with its causes, which carry the useful part.
fn describe(error: &octocrab::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
