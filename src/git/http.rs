//! Git's smart HTTP protocol over ureq and rustls, registered with libgit2
//! for `http://` and `https://` remotes.
//!
//! libgit2 can only speak HTTPS through OpenSSL, and linking OpenSSL costs
//! every run 1.7 MB of resident memory, also runs that never touch a remote.
//! So libgit2 is built without HTTPS and this module carries its requests:
//! libgit2 still does the git protocol, this module only moves its bytes
//! (`GET …/info/refs?service=…` for the advertisement, `POST …/git-upload-pack`
//! or `…/git-receive-pack` for each round). TLS is rustls with the
//! platform's roots (`SSL_CERT_FILE` and `SSL_CERT_DIR` are honored), the
//! same stack the GitHub API client uses.
//!
//! Credentials do not pass through libgit2: the caller opens a
//! [`CredentialScope`] around a fetch, push or listing, and the requests
//! made on that thread send them as HTTP basic authentication. They are
//! never put in a URL, and a redirect drops them.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine;
use git2::transport::{Service, SmartSubtransport, SmartSubtransportStream, Transport};
use ureq::Agent;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

use super::{Credentials, GitError};

/// What the server said when it refused credentials we sent.
const REFUSED: &str =
    "the forge refused the credentials (check the token's access to the repository)";

thread_local! {
    static CREDENTIALS: RefCell<Option<Credentials>> = const { RefCell::new(None) };
}

/// The credentials for the remote operations this thread makes while the
/// scope lives; the previous ones come back when it ends.
pub(super) struct CredentialScope {
    previous: Option<Credentials>,
}

impl CredentialScope {
    /// Registers the transport (once per process) and makes `credentials`
    /// the ones this thread's requests send.
    pub(super) fn enter(credentials: Option<&Credentials>) -> Result<CredentialScope, GitError> {
        register()?;
        let previous = CREDENTIALS.with(|current| current.replace(credentials.cloned()));
        Ok(CredentialScope { previous })
    }
}

impl Drop for CredentialScope {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CREDENTIALS.with(|current| *current.borrow_mut() = previous);
    }
}

/// Registers the transport for `http` and `https`, once; a failure is kept
/// and reported to every caller. libgit2 requires registration to be
/// serialized with the creation of transports, which is why it is unsafe.
#[allow(unsafe_code)]
fn register() -> Result<(), GitError> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    let registered = REGISTERED.get_or_init(|| {
        for scheme in ["http", "https"] {
            // SAFETY: registration runs once, inside the OnceLock, before
            // this process opens any http or https remote.
            unsafe {
                git2::transport::register(scheme, |remote| {
                    Transport::smart(remote, true, HttpTransport)
                })
            }
            .map_err(|error| error.message().to_owned())?;
        }
        Ok(())
    });
    registered.clone().map_err(|message| GitError::Io {
        action: "set up the HTTP transport for git".to_owned(),
        source: io::Error::other(message),
    })
}

/// The one HTTP agent: it keeps connections alive across requests.
fn agent() -> &'static Agent {
    static AGENT: OnceLock<Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(concat!(
                "git/2.0 (fleetmod ",
                env!("CARGO_PKG_VERSION"),
                ")"
            ))
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(300)))
            .tls_config(TlsConfig::builder().root_certs(roots()).build())
            .build()
            .new_agent()
    })
}

/// The platform's certificate authorities (with `SSL_CERT_FILE` and
/// `SSL_CERT_DIR`), or Mozilla's when the platform has none.
fn roots() -> RootCerts {
    let found = rustls_native_certs::load_native_certs();
    if found.certs.is_empty() {
        return RootCerts::WebPki;
    }
    let certificates: Vec<Certificate<'static>> = found
        .certs
        .iter()
        .map(|certificate| Certificate::from_der(certificate.as_ref()).to_owned())
        .collect();
    RootCerts::from(certificates)
}

/// libgit2's handle on the transport: it opens one stream per request.
struct HttpTransport;

impl SmartSubtransport for HttpTransport {
    fn action(
        &self,
        url: &str,
        action: Service,
    ) -> Result<Box<dyn SmartSubtransportStream>, git2::Error> {
        let base = url.trim_end_matches('/');
        let (service, advertisement) = match action {
            Service::UploadPackLs => ("git-upload-pack", true),
            Service::UploadPack => ("git-upload-pack", false),
            Service::ReceivePackLs => ("git-receive-pack", true),
            Service::ReceivePack => ("git-receive-pack", false),
        };
        let url = if advertisement {
            format!("{base}/info/refs?service={service}")
        } else {
            format!("{base}/{service}")
        };
        Ok(Box::new(HttpStream {
            url,
            service,
            advertisement,
            credentials: CREDENTIALS.with(|current| current.borrow().clone()),
            request: Vec::new(),
            response: None,
        }))
    }

    fn close(&self) -> Result<(), git2::Error> {
        Ok(())
    }
}

/// One request: libgit2 writes the body, then reads the response, which is
/// requested on the first read.
struct HttpStream {
    url: String,
    service: &'static str,
    advertisement: bool,
    credentials: Option<Credentials>,
    request: Vec<u8>,
    response: Option<Box<dyn Read + Send>>,
}

impl HttpStream {
    fn send(&mut self) -> io::Result<Box<dyn Read + Send>> {
        let authorization = self.credentials.as_ref().map(|credentials| {
            let pair = format!("{}:{}", credentials.username, credentials.password);
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        });
        let service = self.service;
        let result = if self.advertisement {
            let mut request = agent().get(&self.url);
            if let Some(authorization) = &authorization {
                request = request.header("Authorization", authorization);
            }
            request.call()
        } else {
            let mut request = agent()
                .post(&self.url)
                .header("Content-Type", format!("application/x-{service}-request"))
                .header("Accept", format!("application/x-{service}-result"));
            if let Some(authorization) = &authorization {
                request = request.header("Authorization", authorization);
            }
            request.send(std::mem::take(&mut self.request))
        };
        let shown = self.url.split('?').next().unwrap_or_default();
        let response = result.map_err(|error| io::Error::other(format!("{shown}: {error}")))?;
        let status = response.status().as_u16();
        if status == 401 || status == 403 {
            return Err(io::Error::other(match self.credentials {
                Some(_) => REFUSED.to_owned(),
                None => format!("{shown} asks for credentials (HTTP {status}), and none are set"),
            }));
        }
        if !(200..300).contains(&status) {
            return Err(io::Error::other(format!("{shown} answered HTTP {status}")));
        }
        let expected = if self.advertisement {
            format!("application/x-{service}-advertisement")
        } else {
            format!("application/x-{service}-result")
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
