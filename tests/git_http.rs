//! Fetches, pushes and listings over git's smart HTTP protocol, against a
//! real server on 127.0.0.1: a small HTTP/1.1 server (plain or TLS) that
//! checks basic authentication and hands each request to `git upload-pack`
//! or `git receive-pack --stateless-rpc`, as `git http-backend` does.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use base64::Engine;
use fleetmod::git::{Credentials, Mirror, import_folder, remote_heads};

const TOKEN: &str = "ghs_secret-token-0123456789";
const AUTHOR: (&str, &str) = ("Tester", "tester@localhost");

/// What the server saw: each request line and its `Authorization` header.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

struct Server {
    url: String,
    seen: Seen,
}

impl Server {
    /// Serves the bare repositories under `root`; with `token`, every
    /// request must carry it as the password of basic authentication.
    fn start(root: &Path, token: Option<&str>, tls: bool) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "{}://127.0.0.1:{}",
            if tls { "https" } else { "http" },
            listener.local_addr().unwrap().port()
        );
        let seen = Seen::default();
        let expected = token.map(|token| basic(&format!("x-access-token:{token}")));
        let config = tls.then(server_tls);
        let (root, log) = (root.to_path_buf(), seen.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let stream = stream.unwrap();
                let (root, log, expected, config) =
                    (root.clone(), log.clone(), expected.clone(), config.clone());
                std::thread::spawn(move || match config {
                    Some(config) => {
                        let connection = rustls::ServerConnection::new(config).unwrap();
                        let mut stream = rustls::StreamOwned::new(connection, stream);
                        serve(&mut stream, &root, &log, expected.as_deref());
                    }
                    None => {
                        let mut stream = stream;
                        serve(&mut stream, &root, &log, expected.as_deref());
                    }
                });
            }
        });
        Server { url, seen }
    }

    fn seen(&self) -> Vec<(String, Option<String>)> {
        self.seen.lock().unwrap().clone()
    }
}

fn basic(pair: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/tls")
        .join(name)
}

fn server_tls() -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certificate = CertificateDer::from_pem_file(fixture("server.pem")).unwrap();
    let key = PrivateKeyDer::from_pem_file(fixture("server.key")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certificate], key)
        .unwrap();
    Arc::new(config)
}

/// Answers one request and closes the connection.
fn serve(stream: &mut (impl Read + Write), root: &Path, seen: &Seen, expected: Option<&str>) {
    let mut reader = BufReader::new(&mut *stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    let request_line = request_line.trim_end().to_owned();
    let (mut length, mut authorization) = (0, None);
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().unwrap(),
            "authorization" => authorization = Some(value.trim().to_owned()),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    seen.lock()
        .unwrap()
        .push((request_line.clone(), authorization.clone()));

    let target = request_line.split(' ').nth(1).unwrap_or_default();
    let mut location = None;
    let (status, content_type, payload) =
        if expected.is_some() && authorization.as_deref() != expected {
            ("401 Unauthorized", "text/plain".to_owned(), b"no".to_vec())
        } else if let Some(rest) = target.strip_prefix("/moved/") {
            // A renamed repository: a relative redirect to its new path.
            location = Some(format!("/acme/{rest}"));
            ("301 Moved Permanently", "text/plain".to_owned(), Vec::new())
        } else if let Some(rest) = target.strip_prefix("/elsewhere/") {
            location = Some(format!("http://127.0.0.1:9/acme/{rest}"));
            ("301 Moved Permanently", "text/plain".to_owned(), Vec::new())
        } else if target.starts_with("/forbidden/") {
            let reason = b"\nPermission to acme/a.git denied to bot.\n".to_vec();
            ("403 Forbidden", "text/plain".to_owned(), reason)
        } else {
            answer(&request_line, root, &body)
        };
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        payload.len()
    );
    if status.starts_with("401") {
        response.push_str("WWW-Authenticate: Basic realm=\"git\"\r\n");
    }
    if let Some(location) = location {
        response.push_str(&format!("Location: {location}\r\n"));
    }
    response.push_str("\r\n");
    stream.write_all(response.as_bytes()).unwrap();
    stream.write_all(&payload).unwrap();
    stream.flush().unwrap();
}

/// What `git http-backend` would answer to an authorized request.
fn answer(request_line: &str, root: &Path, body: &[u8]) -> (&'static str, String, Vec<u8>) {
    let mut parts = request_line.split(' ');
    let (method, target) = (parts.next().unwrap(), parts.next().unwrap());
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let (repository, service, advertisement) = if method == "GET" {
        let repository = path.strip_suffix("/info/refs").unwrap();
        (repository, query.strip_prefix("service=").unwrap(), true)
    } else {
        let (repository, service) = path.rsplit_once('/').unwrap();
        (repository, service, false)
    };
    if repository.starts_with("/dumb/") {
        return ("200 OK", "text/plain".to_owned(), b"a file\n".to_vec());
    }
    let folder = root.join(repository.trim_start_matches('/'));
    if !folder.exists() {
        return ("404 Not Found", "text/plain".to_owned(), Vec::new());
    }
    let command = service.strip_prefix("git-").unwrap();
    let mut git = Command::new("git");
    git.arg(command).arg("--stateless-rpc");
    if advertisement {
        git.arg("--advertise-refs");
    }
    let mut child = git
        .arg(&folder)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(body).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "git {command} failed");
    let mut payload = Vec::new();
    if advertisement {
        let line = format!("# service={service}\n");
        payload.extend(format!("{:04x}{line}0000", line.len() + 4).bytes());
        payload.extend(output.stdout);
        (
            "200 OK",
            format!("application/x-{service}-advertisement"),
            payload,
        )
    } else {
        (
            "200 OK",
            format!("application/x-{service}-result"),
            output.stdout,
        )
    }
}

/// A bare repository `acme/a.git` under a new folder, with one commit.
fn remote() -> (tempfile::TempDir, git2::Oid) {
    let root = tempfile::tempdir().unwrap();
    let source = tempfile::tempdir().unwrap();
    std::fs::write(source.path().join("a.py"), "a = 1\n").unwrap();
    let first = import_folder(
        source.path(),
        &root.path().join("acme/a.git"),
        "main",
        AUTHOR,
        "Initial",
    )
    .unwrap();
    (root, first)
}

fn token() -> Credentials {
    Credentials::new("x-access-token", TOKEN)
}

/// A listing, a fetch and a leased push over HTTP with a token: all of it
/// reaches the remote, the token travels only in the header, and neither
/// the mirror's config nor any URL holds it.
fn fetch_and_push(tls: bool) {
    let (root, first) = remote();
    let server = Server::start(root.path(), Some(TOKEN), tls);
    let url = format!("{}/acme/a.git", server.url);

    let heads = remote_heads(&url, Some(&token())).unwrap();
    assert_eq!(heads.default_branch.as_deref(), Some("main"));
    assert_eq!(heads.branches.get("main"), Some(&first));

    let work = tempfile::tempdir().unwrap();
    let mirror_path = work.path().join("mirror.git");
    let mirror = Mirror::open_or_create(&mirror_path).unwrap();
    mirror.fetch(&url, Some(&token())).unwrap();
    assert!(mirror.has_commit(first));

    let changed = mirror
        .commit_files(
            first,
            &[("a.py".to_owned(), b"a = 2\n".to_vec())],
            AUTHOR,
            "Change a\n",
        )
        .unwrap();
    mirror
        .push(&url, "fleetmod/demo", Some(changed), None, Some(&token()))
        .unwrap();
    let pushed = git2::Repository::open_bare(root.path().join("acme/a.git")).unwrap();
    assert_eq!(
        pushed
            .find_reference("refs/heads/fleetmod/demo")
            .unwrap()
            .target(),
        Some(changed)
    );

    // The lease holds over HTTP too: the branch is no longer absent.
    let error = mirror
        .push(&url, "fleetmod/demo", Some(first), None, Some(&token()))
        .unwrap_err();
    assert!(error.to_string().contains("moved"), "{error}");

    let seen = server.seen();
    let lines: Vec<&str> = seen.iter().map(|(line, _)| line.as_str()).collect();
    for wanted in [
        "GET /acme/a.git/info/refs?service=git-upload-pack HTTP/1.1",
        "POST /acme/a.git/git-upload-pack HTTP/1.1",
        "GET /acme/a.git/info/refs?service=git-receive-pack HTTP/1.1",
        "POST /acme/a.git/git-receive-pack HTTP/1.1",
    ] {
        assert!(lines.contains(&wanted), "no {wanted} in {lines:#?}");
    }
    // Each operation's first request goes without the token; the server
    // asks for it, and it comes as the header, never in a URL.
    let expected = basic(&format!("x-access-token:{TOKEN}"));
    let unasked: Vec<&str> = seen
        .iter()
        .filter(|(_, authorization)| authorization.is_none())
        .map(|(line, _)| line.as_str())
        .collect();
    assert!(
        !unasked.is_empty() && unasked.iter().all(|line| line.starts_with("GET ")),
        "{seen:#?}"
    );
    assert!(
        seen.iter()
            .all(|(line, authorization)| !line.contains(TOKEN)
                && authorization
                    .as_ref()
                    .is_none_or(|value| *value == expected)),
        "{seen:#?}"
    );
    let config = std::fs::read_to_string(mirror_path.join("config")).unwrap();
    assert!(!config.contains(TOKEN), "{config}");
}

#[test]
fn fetch_and_push_over_http_send_the_token_only_as_a_header() {
    fetch_and_push(false);
}

/// Runs `over_https_in_a_child` in a child process of this test binary
/// with `SSL_CERT_FILE` set to `certificates`, so that the transport loads
/// its roots from it and no other test sees it; returns what it printed.
fn https_child(certificates: &Path, expect: &str) -> String {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "over_https_in_a_child", "--ignored"])
        .env("SSL_CERT_FILE", certificates)
        .env_remove("SSL_CERT_DIR")
        .env(CHILD, expect)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{printed}");
    assert!(printed.contains("1 passed"), "{printed}");
    printed
}

/// Set for the child process: what it should expect.
const CHILD: &str = "FLEETMOD_HTTPS_TEST_CHILD";

#[test]
fn fetch_and_push_over_https_trust_the_roots_of_ssl_cert_file() {
    https_child(&fixture("ca.pem"), "trusted");
}

#[test]
fn an_unreadable_ssl_cert_file_is_an_error_not_other_roots() {
    https_child(&fixture("missing.pem"), "unreadable");
}

#[test]
#[ignore = "run by the two tests that call https_child"]
fn over_https_in_a_child() {
    // Run on its own (`--include-ignored`), it has no SSL_CERT_FILE.
    match std::env::var(CHILD).as_deref() {
        Ok("trusted") => fetch_and_push(true),
        Ok("unreadable") => {
            let (root, _) = remote();
            let server = Server::start(root.path(), None, true);
            let url = format!("{}/acme/a.git", server.url);
            let error = remote_heads(&url, None).unwrap_err().to_string();
            assert!(error.contains("SSL_CERT_FILE"), "{error}");
            assert!(error.contains("missing.pem"), "{error}");
            assert!(server.seen().is_empty());
        }
        _ => {}
    }
}

#[test]
fn https_with_an_untrusted_certificate_fails_and_names_the_url() {
    let (root, _) = remote();
    let server = Server::start(root.path(), None, true);
    let url = format!("{}/acme/a.git", server.url);
    let error = remote_heads(&url, None).unwrap_err().to_string();
    assert!(error.contains(&server.url), "{error}");
    assert!(error.to_lowercase().contains("certificate"), "{error}");
}

#[test]
fn a_refused_token_and_a_missing_one_get_their_own_errors() {
    let (root, _) = remote();
    let server = Server::start(root.path(), Some(TOKEN), false);
    let url = format!("{}/acme/a.git", server.url);

    let wrong = Credentials::new("x-access-token", "ghs_wrong");
    let error = remote_heads(&url, Some(&wrong)).unwrap_err().to_string();
    assert!(error.contains("refused the credentials"), "{error}");
    assert!(!error.contains("ghs_wrong"), "{error}");

    let work = tempfile::tempdir().unwrap();
    let mirror = Mirror::open_or_create(&work.path().join("mirror.git")).unwrap();
    let error = mirror.fetch(&url, None).unwrap_err().to_string();
    assert!(error.contains("asks for credentials"), "{error}");
    assert!(error.contains(&format!("fetch {url}")), "{error}");
}

#[test]
fn a_missing_repository_a_refusal_and_a_dumb_server_are_errors() {
    let (root, _) = remote();
    let server = Server::start(root.path(), None, false);
    let error = remote_heads(&format!("{}/acme/missing.git", server.url), None)
        .unwrap_err()
        .to_string();
    assert!(error.contains("HTTP 404"), "{error}");
    let error = remote_heads(&format!("{}/dumb/a.git", server.url), None)
        .unwrap_err()
        .to_string();
    assert!(error.contains("not a smart git server"), "{error}");
    let error = remote_heads(&format!("{}/forbidden/a.git", server.url), None)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("HTTP 403: Permission to acme/a.git denied to bot."),
        "{error}"
    );
}

#[test]
fn a_server_that_does_not_ask_never_gets_the_token() {
    let (root, first) = remote();
    let server = Server::start(root.path(), None, false);
    let url = format!("{}/acme/a.git", server.url);
    remote_heads(&url, Some(&token())).unwrap();
    let work = tempfile::tempdir().unwrap();
    let mirror = Mirror::open_or_create(&work.path().join("mirror.git")).unwrap();
    mirror.fetch(&url, Some(&token())).unwrap();
    assert!(mirror.has_commit(first));
    let seen = server.seen();
    assert!(seen.len() >= 3, "{seen:#?}");
    assert!(
        seen.iter()
            .all(|(_, authorization)| authorization.is_none()),
        "{seen:#?}"
    );
}

#[test]
fn a_renamed_repository_is_followed_on_its_host_only() {
    let (root, first) = remote();
    let server = Server::start(root.path(), Some(TOKEN), false);
    let work = tempfile::tempdir().unwrap();
    let mirror = Mirror::open_or_create(&work.path().join("mirror.git")).unwrap();
    mirror
        .fetch(&format!("{}/moved/a.git", server.url), Some(&token()))
        .unwrap();
    assert!(mirror.has_commit(first));
    let lines: Vec<String> = server.seen().into_iter().map(|(line, _)| line).collect();
    for wanted in [
        "GET /moved/a.git/info/refs?service=git-upload-pack HTTP/1.1",
        "GET /acme/a.git/info/refs?service=git-upload-pack HTTP/1.1",
        "POST /acme/a.git/git-upload-pack HTTP/1.1",
    ] {
        assert!(
            lines.iter().any(|line| line == wanted),
            "no {wanted} in {lines:#?}"
        );
    }
    assert!(
        !lines.iter().any(|line| line.starts_with("POST /moved/")),
        "{lines:#?}"
    );

    let error = mirror
        .fetch(&format!("{}/elsewhere/a.git", server.url), Some(&token()))
        .unwrap_err()
        .to_string();
    assert!(error.contains("another host"), "{error}");
}

/// A fetch into a mirror with many commits the server lacks negotiates in
/// several rounds, each its own POST.
#[test]
fn a_fetch_negotiates_over_several_requests() {
    let (root, first) = remote();
    let server = Server::start(root.path(), Some(TOKEN), false);
    let url = format!("{}/acme/a.git", server.url);
    let work = tempfile::tempdir().unwrap();
    let mirror_path = work.path().join("mirror.git");
    let mirror = Mirror::open_or_create(&mirror_path).unwrap();
    mirror.fetch(&url, Some(&token())).unwrap();

    // 30 commits of the mirror's own, which the server has never seen.
    let local = git2::Repository::open_bare(&mirror_path).unwrap();
    let signature = git2::Signature::now(AUTHOR.0, AUTHOR.1).unwrap();
    let mut parent = local.find_commit(first).unwrap();
    for number in 0..30 {
        let tree = parent.tree().unwrap();
        let message = format!("local {number}");
        let id = local
            .commit(None, &signature, &signature, &message, &tree, &[&parent])
            .unwrap();
        parent = local.find_commit(id).unwrap();
    }
    local
        .reference("refs/other/local", parent.id(), true, "test")
        .unwrap();
    // And one new commit on the server.
    let served = git2::Repository::open_bare(root.path().join("acme/a.git")).unwrap();
    let base = served.find_commit(first).unwrap();
    let tree = base.tree().unwrap();
    let added = served
        .commit(
            Some("refs/heads/main"),
            &signature,
            &signature,
            "Added",
            &tree,
            &[&base],
        )
        .unwrap();

    let before = server.seen().len();
    mirror.fetch(&url, Some(&token())).unwrap();
    assert!(mirror.has_commit(added));
    let posts = server.seen()[before..]
        .iter()
        .filter(|(line, _)| line.starts_with("POST /acme/a.git/git-upload-pack"))
        .count();
    assert!(posts >= 2, "{posts} POST");
}
