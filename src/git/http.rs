//! Git's smart HTTP protocol over ureq and rustls, registered with libgit2
//! for `http://` and `https://` remotes.
//!
//! The libgit2 that git2 builds on Linux speaks HTTPS only through OpenSSL,
//! and linking OpenSSL costs every run 1.7 MB of resident memory, also runs
//! that never touch a remote. So libgit2 is built without HTTPS and this
//! module carries its requests: libgit2 still does the git protocol, this
//! module only moves its bytes (`GET …/info/refs?service=…` for the
//! advertisement, then one `POST …/git-upload-pack` or `…/git-receive-pack`
//! per round). TLS is rustls with the platform's certificate authorities
//! (`SSL_CERT_FILE` and `SSL_CERT_DIR` are honored; a named file that is
//! missing, or named sources without an authority, are errors), as for the
//! GitHub API client.
//!
//! It behaves as libgit2's own transport does where that matters to a bot:
//! - **Credentials** do not pass through libgit2: the caller opens a
//!   [`CredentialScope`] around a fetch, push or listing, and the transport
//!   made for it sends them as basic authentication only once the server
//!   has asked (a 401), then with every later request of that operation.
//!   They are never put in a URL.
//! - **Redirects** of the first request (a renamed repository) are followed
//!   and the later requests go to the new address. A redirect may move the
//!   path, not the scheme, host or port, so the credentials never go
//!   anywhere else. Requests after the first are not redirected.
//! - **Proxies** come from `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY` and
//!   `NO_PROXY`. A push's pack is held in memory until it is sent. A
//!   connection silent for five minutes fails.
//!
//! git2's per-call `ProxyOptions`, custom headers and certificate check
//! callback do not reach this transport; fleetmod uses none of them.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use base64::Engine;
use git2::transport::{Service, SmartSubtransport, SmartSubtransportStream, Transport};
use ureq::Agent;
use ureq::http::Response;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

use super::{Credentials, GitError};

/// What the server said when it refused credentials we sent.
const REFUSED: &str =
    "the forge refused the credentials (check the token's access to the repository)";

/// Redirects followed for one request, at most.
const MAXIMUM_REDIRECTS: usize = 5;

/// How long a connection may stay silent.
const SILENCE: Duration = Duration::from_secs(300);

thread_local! {
    static CREDENTIALS: RefCell<Option<Credentials>> = const { RefCell::new(None) };
}

/// The credentials for the remote operations this thread starts while the
/// scope lives; the previous ones come back when it ends. It stays on the
/// thread that opened it (it is not `Send`).
pub(super) struct CredentialScope {
    previous: Option<Credentials>,
    _thread: PhantomData<*const ()>,
}

impl CredentialScope {
    /// Registers the transport (once per process) and makes `credentials`
    /// the ones this thread's remote operations may send.
    pub(super) fn enter(credentials: Option<&Credentials>) -> Result<CredentialScope, GitError> {
        register()?;
        let previous = CREDENTIALS.with(|current| current.replace(credentials.cloned()));
        Ok(CredentialScope {
            previous,
            _thread: PhantomData,
        })
    }
}

impl Drop for CredentialScope {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CREDENTIALS.with(|current| *current.borrow_mut() = previous);
    }
}

/// Registers the transport for `http` and `https`, once; a failure is kept
/// and reported to every caller.
#[allow(unsafe_code)]
fn register() -> Result<(), GitError> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    let registered = REGISTERED.get_or_init(|| {
        for scheme in ["http", "https"] {
            // SAFETY: libgit2 requires registration to be serialized with
            // the creation of every transport. It runs once, inside the
            // OnceLock, and every function of this module's parent that
            // creates a remote (of any scheme) enters a `CredentialScope`,
            // and so waits for it, first.
            unsafe {
                git2::transport::register(scheme, |remote| {
                    Transport::smart(remote, true, HttpTransport::for_this_thread())
                })
            }
            .map_err(|error| error.message().to_owned())?;
        }
        Ok(())
    });
    registered.clone().map_err(GitError::Transport)
}

/// The one HTTP agent, which keeps connections alive across requests, or
/// why it could not be made.
fn agent() -> Result<&'static Agent, String> {
    static AGENT: OnceLock<Result<Agent, String>> = OnceLock::new();
    let agent = AGENT.get_or_init(|| {
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .redirect_auth_headers(ureq::config::RedirectAuthHeaders::Never)
            .user_agent(concat!(
                "git/2.0 (fleetmod ",
                env!("CARGO_PKG_VERSION"),
                ")"
            ))
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_per_read(Some(SILENCE))
            .timeout_per_write(Some(SILENCE))
            .tls_config(TlsConfig::builder().root_certs(roots()?).build())
            .build();
        Ok(config.new_agent())
    });
    agent.as_ref().map_err(Clone::clone)
}

/// The platform's certificate authorities (with `SSL_CERT_FILE` and
/// `SSL_CERT_DIR`), or Mozilla's when the platform has none and neither
/// variable is set. A named file that cannot be read, or named sources
/// with no authority in them, are errors: trust never silently widens.
fn roots() -> Result<RootCerts, String> {
    if let Some(file) = std::env::var_os("SSL_CERT_FILE") {
        std::fs::metadata(&file)
            .map_err(|error| format!("SSL_CERT_FILE {}: {error}", file.to_string_lossy()))?;
    }
    let found = rustls_native_certs::load_native_certs();
    if found.certs.is_empty() {
        let named = ["SSL_CERT_FILE", "SSL_CERT_DIR"]
            .into_iter()
            .any(|variable| std::env::var_os(variable).is_some());
        if named {
            let reasons: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
            return Err(format!(
                "no certificate authority could be read from SSL_CERT_FILE or SSL_CERT_DIR ({})",
                reasons.join("; ")
            ));
        }
        return Ok(RootCerts::WebPki);
    }
    let certificates: Vec<Certificate<'static>> = found
        .certs
        .iter()
        .map(|certificate| Certificate::from_der(certificate.as_ref()).to_owned())
        .collect();
    Ok(RootCerts::from(certificates))
}

/// What the requests of one remote operation share.
#[derive(Debug, Default)]
struct Session {
    /// The repository's address after a redirect of the first request.
    base: Option<String>,
    /// Whether the server asked for the credentials (then every request
    /// sends them).
    authenticate: bool,
}

/// libgit2's handle on the transport for one remote operation: it opens
/// one stream per request.
struct HttpTransport {
    credentials: Option<Credentials>,
    session: Arc<Mutex<Session>>,
}

impl HttpTransport {
    /// A transport with the credentials of the current thread's scope.
    fn for_this_thread() -> HttpTransport {
        HttpTransport {
            credentials: CREDENTIALS.with(|current| current.borrow().clone()),
            session: Arc::default(),
        }
    }
}

impl SmartSubtransport for HttpTransport {
    fn action(
        &self,
        url: &str,
        action: Service,
    ) -> Result<Box<dyn SmartSubtransportStream>, git2::Error> {
        let base = lock(&self.session)
            .base
            .clone()
            .unwrap_or_else(|| url.trim_end_matches('/').to_owned());
        let (service, advertisement) = match action {
            Service::UploadPackLs => ("git-upload-pack", true),
            Service::UploadPack => ("git-upload-pack", false),
            Service::ReceivePackLs => ("git-receive-pack", true),
            Service::ReceivePack => ("git-receive-pack", false),
        };
        Ok(Box::new(HttpStream {
            base,
            service,
            advertisement,
            credentials: self.credentials.clone(),
            session: self.session.clone(),
            request: Vec::new(),
            response: None,
        }))
    }

    fn close(&self) -> Result<(), git2::Error> {
        Ok(())
    }
}

fn lock(session: &Mutex<Session>) -> std::sync::MutexGuard<'_, Session> {
    session.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One request: libgit2 writes the body, then reads the response, which is
/// requested on the first read.
struct HttpStream {
    base: String,
    service: &'static str,
    advertisement: bool,
    credentials: Option<Credentials>,
    session: Arc<Mutex<Session>>,
    request: Vec<u8>,
    response: Option<Box<dyn Read + Send>>,
}

impl HttpStream {
    /// The request's path below the repository's address.
    fn suffix(&self) -> String {
        match self.advertisement {
            true => format!("/info/refs?service={}", self.service),
            false => format!("/{}", self.service),
        }
    }

    /// Makes the request, following the first request's redirects and
    /// answering one authentication challenge, and returns the body.
    fn send(&mut self) -> io::Result<Box<dyn Read + Send>> {
        let agent = agent().map_err(io::Error::other)?;
        let suffix = self.suffix();
        let mut url = format!("{}{suffix}", self.base);
        let mut redirects = 0;
        loop {
            let shown = url.split('?').next().unwrap_or_default().to_owned();
            let authenticate = lock(&self.session).authenticate;
            let authorization = self
                .credentials
                .as_ref()
                .filter(|_| authenticate)
                .map(basic_authorization);
            let response = self
                .request(agent, &url, authorization.as_deref())
                .map_err(|error| io::Error::other(format!("{shown}: {error}")))?;
            let status = response.status().as_u16();
            match status {
                200..=299 => return self.body(response, &shown),
                301 | 302 | 303 | 307 | 308 if self.advertisement => {
                    redirects += 1;
                    let target = redirect_target(&url, &response, &suffix, redirects)
                        .map_err(|reason| io::Error::other(format!("{shown}: {reason}")))?;
                    lock(&self.session).base = Some(target.clone());
                    url = format!("{target}{suffix}");
                }
                401 if self.credentials.is_some() && !authenticate => {
                    lock(&self.session).authenticate = true;
                }
                401 if self.credentials.is_some() => return Err(io::Error::other(REFUSED)),
                401 => {
                    return Err(io::Error::other(format!(
                        "{shown} asks for credentials (HTTP 401), and none are set"
                    )));
                }
                _ => {
                    let said = first_line(response);
                    return Err(io::Error::other(format!(
                        "{shown} answered HTTP {status}{said}"
                    )));
                }
            }
        }
    }

    fn request(
        &self,
        agent: &Agent,
        url: &str,
        authorization: Option<&str>,
    ) -> Result<Response<ureq::Body>, ureq::Error> {
        let service = self.service;
        if self.advertisement {
            return authorized(agent.get(url), authorization).call();
        }
        let request = agent
            .post(url)
            .header("Content-Type", format!("application/x-{service}-request"))
            .header("Accept", format!("application/x-{service}-result"));
        authorized(request, authorization).send(self.request.as_slice())
    }

    /// The body of a successful response, if it is what git expects.
    fn body(
        &self,
        response: Response<ureq::Body>,
        shown: &str,
    ) -> io::Result<Box<dyn Read + Send>> {
        let service = self.service;
        let expected = match self.advertisement {
            true => format!("application/x-{service}-advertisement"),
            false => format!("application/x-{service}-result"),
        };
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if content_type != expected {
            return Err(io::Error::other(format!(
                "{shown} is not a smart git server (content type {content_type:?}, expected {expected})"
            )));
        }
        Ok(Box::new(response.into_body().into_reader()))
    }
}

/// `request` with an `Authorization` header, if there is one.
fn authorized<Body>(
    request: ureq::RequestBuilder<Body>,
    authorization: Option<&str>,
) -> ureq::RequestBuilder<Body> {
    match authorization {
        Some(authorization) => request.header("Authorization", authorization),
        None => request,
    }
}

/// `Basic` authorization with `credentials`.
fn basic_authorization(credentials: &Credentials) -> String {
    let pair = format!("{}:{}", credentials.username, credentials.password);
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// The repository address a redirect of `url` leads to: its `Location`
/// without `suffix`, on the same scheme, host and port.
fn redirect_target(
    url: &str,
    response: &Response<ureq::Body>,
    suffix: &str,
    redirects: usize,
) -> Result<String, String> {
    if redirects > MAXIMUM_REDIRECTS {
        return Err(format!("more than {MAXIMUM_REDIRECTS} redirects"));
    }
    let location = response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .ok_or("a redirect without a location")?;
    let here = origin(url).unwrap_or_default();
    let target = match origin(location) {
        Some(there) if there != here => {
            return Err(format!(
                "redirected to {there}, another host or scheme; not followed"
            ));
        }
        Some(_) => location.to_owned(),
        None if location.starts_with('/') => format!("{here}{location}"),
        None => return Err(format!("a redirect to {location:?}, not a full path")),
    };
    target
        .strip_suffix(suffix)
        .map(str::to_owned)
        .ok_or_else(|| format!("redirected to {target}, which is not a git repository address"))
}

/// `scheme://host:port` of an absolute URL.
fn origin(url: &str) -> Option<&str> {
    let scheme_end = url.find("://")? + 3;
    let authority_end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |end| scheme_end + end);
    Some(&url[..authority_end])
}

/// The first line of a refusal's body (GitHub says why), as `: line`.
fn first_line(response: Response<ureq::Body>) -> String {
    let mut text = String::new();
    let _ = response
        .into_body()
        .into_with_config()
        .limit(4096)
        .reader()
        .read_to_string(&mut text);
    match text.lines().map(str::trim).find(|line| !line.is_empty()) {
        Some(line) => format!(": {line}"),
        None => String::new(),
    }
}

impl Read for HttpStream {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if self.response.is_none() {
            self.response = Some(self.send()?);
        }
        self.response
            .as_mut()
            .expect("the response was just requested")
            .read(buffer)
    }
}

impl Write for HttpStream {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.response.is_some() {
            return Err(io::Error::other("the request was already sent"));
        }
        self.request.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::origin;

    #[test]
    fn an_origin_is_scheme_host_and_port() {
        assert_eq!(
            origin("https://github.com:443/acme/a.git"),
            Some("https://github.com:443")
        );
        assert_eq!(
            origin("http://127.0.0.1:8080"),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(origin("https://host?x"), Some("https://host"));
        assert_eq!(origin("/acme/a.git"), None);
    }
}
