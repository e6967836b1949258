//! Pushing metrics to a Prometheus Pushgateway, the way batch jobs report.
//!
//! Design: a run replaces its group (`PUT`) with the full exposition on
//! every heartbeat and once at its end, so the Pushgateway always holds
//! the latest complete figures and Prometheus sees the heartbeat advance
//! while the run is alive. The grouping key is `job="fleetmod"` and the
//! migration id (base64url-encoded, so any id is a valid path segment).
//! The client is a small HTTP/1.1 `PUT` over a TCP stream: Pushgateways
//! are reached over plain HTTP inside a cluster; `https://` is refused
//! with a clear error rather than sent in the clear.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use base64::Engine;

const TIMEOUT: Duration = Duration::from_secs(10);

/// A failed push.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("the Pushgateway address {url} is not valid: {reason}")]
    Address { url: String, reason: String },
    #[error("failed to push metrics to the Pushgateway {url}: {message}")]
    Push { url: String, message: String },
}

/// A Pushgateway and the group fleetmod pushes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pushgateway {
    /// `host:port`.
    authority: String,
    /// The path of the group, from the root.
    path: String,
    url: String,
}

impl Pushgateway {
    /// The group of `migration` at the Pushgateway `url`
    /// (`http://host:port`, optionally with a path prefix).
    pub fn new(url: &str, migration: &str) -> Result<Pushgateway, PushError> {
        let invalid = |reason: &str| PushError::Address {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let rest = match url.split_once("://") {
            Some(("http", rest)) => rest,
            Some(("https", _)) => {
                return Err(invalid(
                    "https is not supported; use the Pushgateway's plain http address",
                ));
            }
            _ => return Err(invalid("it must start with http://")),
        };
        let (authority, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if authority.is_empty() || authority.contains('@') {
            return Err(invalid("it needs a host (and no credentials)"));
        }
        let authority = if authority.contains(':') {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        let prefix = prefix.trim_end_matches('/');
        let group = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(migration);
        let path = if prefix.is_empty() {
            format!("/metrics/job/fleetmod/migration@base64/{group}")
        } else {
            format!("/{prefix}/metrics/job/fleetmod/migration@base64/{group}")
        };
        Ok(Pushgateway {
            authority,
            path,
            url: url.to_owned(),
        })
    }

    /// Replaces the group's metrics with `exposition` (text format).
    pub fn push(&self, exposition: &str) -> Result<(), PushError> {
        let failed = |message: String| PushError::Push {
            url: self.url.clone(),
            message,
        };
        let address = self
            .authority
            .to_socket_addrs()
            .map_err(|error| failed(format!("cannot resolve {}: {error}", self.authority)))?
            .next()
            .ok_or_else(|| failed(format!("{} has no address", self.authority)))?;
        let mut stream = TcpStream::connect_timeout(&address, TIMEOUT)
            .map_err(|error| failed(format!("cannot connect: {error}")))?;
        let _ = stream.set_read_timeout(Some(TIMEOUT));
        let _ = stream.set_write_timeout(Some(TIMEOUT));
        let request = format!(
            "PUT {} HTTP/1.1\r\nHost: {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.path,
            self.authority,
            super::metrics::CONTENT_TYPE,
            exposition.len()
        );
        stream
            .write_all(request.as_bytes())
            .and_then(|()| stream.write_all(exposition.as_bytes()))
            .map_err(|error| failed(format!("cannot send: {error}")))?;
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .map_err(|error| failed(format!("no answer: {error}")))?;
        let response = String::from_utf8_lossy(&response);
        let status_line = response.lines().next().unwrap_or_default();
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        if (200..300).contains(&status) {
            Ok(())
        } else {
            let body = response
                .split_once("\r\n\r\n")
                .map(|(_, body)| body.trim())
                .unwrap_or_default();
            Err(failed(format!("{status_line}: {body}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_become_group_paths() {
        let gateway = Pushgateway::new("http://127.0.0.1:9091", "orders/v2").unwrap();
        assert_eq!(gateway.authority, "127.0.0.1:9091");
        assert_eq!(
            gateway.path,
            "/metrics/job/fleetmod/migration@base64/b3JkZXJzL3Yy"
        );
        let prefixed = Pushgateway::new("http://push.internal/gw/", "m").unwrap();
        assert_eq!(prefixed.authority, "push.internal:80");
        assert_eq!(
            prefixed.path,
            "/gw/metrics/job/fleetmod/migration@base64/bQ"
        );
        for bad in ["https://x:1", "x:1", "http://", "http://user:pw@x:1"] {
            assert!(Pushgateway::new(bad, "m").is_err(), "{bad}");
        }
    }
}
