//! The HTTP front: route matching, the request pipeline and the axum server.
//!
//! Design: axum only carries bytes. One fallback handler receives every
//! request; [`match_route`] strips the configured prefix, percent-decodes
//! the path segments and maps them to an [`Endpoint`] plus the GitHub
//! route template used as the statistics key (branch names may contain
//! `/`, so refs are matched as "the rest of the path"). The pipeline is:
//! admission (`super::faults`: stats, auth, rate limits, fault dice) →
//! faults that answer instead of the endpoint → the endpoint itself
//! (`super::handlers`, synchronously under the state mutex) → faults that
//! lie about or delay the endpoint's answer → common headers.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::Value;

use super::faults::{Injected, RateInfo, RequestInfo, Traffic, Verdict, fault_response};
use super::render::{self, Urls};
use super::state::World;
use super::{Fault, Options, handlers};

/// Everything the server threads share with the `Simulator` handle.
pub struct Shared {
    pub options: Options,
    pub urls: Urls,
    pub root: PathBuf,
    pub inner: Mutex<Inner>,
}

/// The mutable part of [`Shared`].
#[derive(Default)]
pub struct Inner {
    pub world: World,
    pub traffic: Traffic,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn now(&self) -> i64 {
        (self.options.clock)()
    }
}

/// An endpoint's answer before the common headers are added.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Option<Value>,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            body: Some(body),
            headers: Vec::new(),
        }
    }

    pub fn ok(body: Value) -> Reply {
        Reply::json(200, body)
    }

    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            body: None,
            headers: Vec::new(),
        }
    }

    pub fn error(status: u16, message: &str) -> Reply {
        Reply::json(status, render::error(message))
    }

    pub fn not_found() -> Reply {
        Reply::error(404, "Not Found")
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The endpoints the simulator implements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    User,
    Graphql,
    Repo,
    ListPulls,
    CreatePull,
    GetPull(u64),
    UpdatePull(u64),
    MergePull(u64),
    IsMerged(u64),
    ListIssues,
    CreateIssue,
    GetIssue(u64),
    UpdateIssue(u64),
    ListLabels(u64),
    AddLabels(u64),
    SetLabels(u64),
    RemoveLabel(u64, String),
    AddAssignees(u64),
    RemoveAssignees(u64),
    ListRequestedReviewers(u64),
    RequestReviewers(u64),
    RemoveRequestedReviewers(u64),
    ListReviews(u64),
    ListComments(u64),
    CreateComment(u64),
    UpdateComment(u64),
    DeleteComment(u64),
    CheckRuns(String),
    CombinedStatus(String),
    GetRef(String),
    DeleteRef(String),
}

/// A matched request.
#[derive(Debug, Clone)]
pub struct Matched {
    pub endpoint: Endpoint,
    /// `(owner, repo)` for `/repos/...` routes.
    pub repo: Option<(String, String)>,
    pub template: &'static str,
    /// The path after the prefix, as received (for pagination links).
    pub path: String,
}

/// Maps a request to an endpoint; `None` for unknown routes, wrong methods
/// and paths outside the prefix.
pub fn match_route(prefix: &str, method: &Method, path: &str) -> Option<Matched> {
    // GraphQL sits beside the REST root: `/graphql` on github.com,
    // `/api/graphql` beside GitHub Enterprise's `/api/v3`.
    let prefix = prefix.trim_end_matches('/');
    let graphql = format!("{}/graphql", prefix.strip_suffix("/v3").unwrap_or(prefix));
    if method == Method::POST && path == graphql {
        return Some(Matched {
            endpoint: Endpoint::Graphql,
            repo: None,
            template: "/graphql",
            path: "/graphql".to_owned(),
        });
    }
    let rest = path.strip_prefix(prefix)?;
    if !rest.starts_with('/') {
        return None;
    }
    let segs: Vec<String> = rest
        .trim_matches('/')
        .split('/')
        .map(render::decode)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let (endpoint, repo, template) = match segs.as_slice() {
        ["user"] if method == Method::GET => (Endpoint::User, None, "/user"),
        ["graphql"] if method == Method::POST => (Endpoint::Graphql, None, "/graphql"),
        ["repos", owner, repo, tail @ ..] => {
            let (endpoint, template) = repo_route(method, tail)?;
            (
                endpoint,
                Some((owner.to_string(), repo.to_string())),
                template,
            )
        }
        _ => return None,
    };
    Some(Matched {
        endpoint,
        repo,
        template,
        path: rest.to_string(),
    })
}

fn repo_route(method: &Method, tail: &[&str]) -> Option<(Endpoint, &'static str)> {
    use Endpoint as E;
    let m = method.clone();
    let number = |s: &str| s.parse::<u64>().ok();
    let joined = |parts: &[&str]| (!parts.is_empty()).then(|| parts.join("/"));
    Some(match tail {
        [] if m == Method::GET => (E::Repo, "/repos/{owner}/{repo}"),
        ["pulls"] => match m {
            Method::GET => (E::ListPulls, "/repos/{owner}/{repo}/pulls"),
            Method::POST => (E::CreatePull, "/repos/{owner}/{repo}/pulls"),
            _ => return None,
        },
        ["pulls", n] => {
            let n = number(n)?;
            match m {
                Method::GET => (E::GetPull(n), "/repos/{owner}/{repo}/pulls/{pull_number}"),
                Method::PATCH => (
                    E::UpdatePull(n),
                    "/repos/{owner}/{repo}/pulls/{pull_number}",
                ),
                _ => return None,
            }
        }
        ["pulls", n, "merge"] => {
            let n = number(n)?;
            let t = "/repos/{owner}/{repo}/pulls/{pull_number}/merge";
            match m {
                Method::PUT => (E::MergePull(n), t),
                Method::GET => (E::IsMerged(n), t),
                _ => return None,
            }
        }
        ["pulls", n, "requested_reviewers"] => {
            let n = number(n)?;
            let t = "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers";
            match m {
                Method::GET => (E::ListRequestedReviewers(n), t),
                Method::POST => (E::RequestReviewers(n), t),
                Method::DELETE => (E::RemoveRequestedReviewers(n), t),
                _ => return None,
            }
        }
        ["pulls", n, "reviews"] if m == Method::GET => (
            E::ListReviews(number(n)?),
            "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
        ),
        ["issues"] => match m {
            Method::GET => (E::ListIssues, "/repos/{owner}/{repo}/issues"),
            Method::POST => (E::CreateIssue, "/repos/{owner}/{repo}/issues"),
            _ => return None,
        },
        ["issues", "comments", id] => {
            let id = number(id)?;
            let t = "/repos/{owner}/{repo}/issues/comments/{comment_id}";
            match m {
                Method::PATCH => (E::UpdateComment(id), t),
                Method::DELETE => (E::DeleteComment(id), t),
                _ => return None,
            }
        }
        ["issues", n] => {
            let n = number(n)?;
            let t = "/repos/{owner}/{repo}/issues/{issue_number}";
            match m {
                Method::GET => (E::GetIssue(n), t),
                Method::PATCH => (E::UpdateIssue(n), t),
                _ => return None,
            }
        }
        ["issues", n, "labels"] => {
            let n = number(n)?;
            let t = "/repos/{owner}/{repo}/issues/{issue_number}/labels";
            match m {
                Method::GET => (E::ListLabels(n), t),
                Method::POST => (E::AddLabels(n), t),
                Method::PUT => (E::SetLabels(n), t),
                _ => return None,
            }
        }
        ["issues", n, "labels", name] if m == Method::DELETE => (
            E::RemoveLabel(number(n)?, name.to_string()),
            "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
        ),
        ["issues", n, "assignees"] => {
            let n = number(n)?;
            let t = "/repos/{owner}/{repo}/issues/{issue_number}/assignees";
            match m {
                Method::POST => (E::AddAssignees(n), t),
                Method::DELETE => (E::RemoveAssignees(n), t),
                _ => return None,
            }
        }
        ["issues", n, "comments"] => {
            let n = number(n)?;
            let t = "/repos/{owner}/{repo}/issues/{issue_number}/comments";
            match m {
                Method::GET => (E::ListComments(n), t),
                Method::POST => (E::CreateComment(n), t),
                _ => return None,
            }
        }
        ["commits", r @ .., "check-runs"] if m == Method::GET => (
            E::CheckRuns(joined(r)?),
            "/repos/{owner}/{repo}/commits/{ref}/check-runs",
        ),
        ["commits", r @ .., "status"] if m == Method::GET => (
            E::CombinedStatus(joined(r)?),
            "/repos/{owner}/{repo}/commits/{ref}/status",
        ),
        ["git", "ref", r @ ..] if m == Method::GET => {
            (E::GetRef(joined(r)?), "/repos/{owner}/{repo}/git/ref/{ref}")
        }
        ["git", "refs", r @ ..] if m == Method::DELETE => (
            E::DeleteRef(joined(r)?),
            "/repos/{owner}/{repo}/git/refs/{ref}",
        ),
        _ => return None,
    })
}

/// True when the request carries `Authorization: Bearer <token>` or
/// `Authorization: token <token>`.
fn authorized(headers: &HeaderMap, token: &str) -> bool {
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some((scheme, given)) = value.trim().split_once(' ') else {
        return false;
    };
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token"))
        && given.trim() == token
}

/// The request pipeline (see the module docs).
async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = shared.now();
    let matched = match_route(&shared.options.prefix, &method, uri.path());
    let key = match &matched {
        Some(m) => format!("{method} {}", m.template),
        None => format!("{method} <unmatched> {}", uri.path()),
    };
    let mutating = matches!(
        method,
        Method::POST | Method::PATCH | Method::PUT | Method::DELETE
    );
    let request = RequestInfo {
        key: &key,
        mutating,
        authorized: authorized(&headers, &shared.options.token),
    };
    let (verdict, rate, request_id) = {
        let mut inner = shared.lock();
        let (verdict, rate) = inner.traffic.admit(&shared.options, request, now);
        (verdict, rate, inner.traffic.request_id())
    };
    let reply = match verdict {
        Verdict::Reject(r) => Reply {
            status: r.status,
            body: Some(r.body),
            headers: r.headers,
        },
        Verdict::Proceed(fault) => {
            let query = uri.query().unwrap_or("");
            run(&shared, matched, mutating, query, &body, fault, now).await
        }
    };
    finish(reply, rate, &request_id, &shared.options.scopes)
}

/// Runs the endpoint, wrapped by the injected fault if any.
async fn run(
    shared: &Shared,
    matched: Option<Matched>,
    mutating: bool,
    query: &str,
    body: &[u8],
    fault: Option<Injected>,
    now: i64,
) -> Reply {
    if let Some(f) = fault {
        match f.kind {
            Fault::CreatedThenServerError | Fault::AlreadyExists | Fault::Timeout => {}
            Fault::Slow => tokio::time::sleep(Duration::from_millis(f.sleep_ms)).await,
            _ => {
                if let Some(r) = fault_response(f) {
                    return Reply {
                        status: r.status,
                        body: Some(r.body),
                        headers: r.headers,
                    };
                }
            }
        }
    }
    let reply = match matched {
        None => Reply::not_found(),
        Some(m) => {
            let ctx = handlers::Ctx {
                urls: &shared.urls,
                root: &shared.root,
                now,
                query,
                body,
                mutating,
            };
            let mut inner = shared.lock();
            handlers::dispatch(&mut inner.world, &ctx, &m)
        }
    };
    let Some(f) = fault else {
        return reply;
    };
    match f.kind {
        Fault::CreatedThenServerError => match fault_response(f) {
            Some(r) => Reply {
                status: r.status,
                body: Some(r.body),
                headers: r.headers,
            },
            None => reply,
        },
        Fault::AlreadyExists if reply.is_success() => {
            let label = reply
                .body
                .as_ref()
                .and_then(|b| b["head"]["label"].as_str())
                .unwrap_or("unknown")
                .to_string();
            handlers::already_exists(&label)
        }
        Fault::Timeout => {
            tokio::time::sleep(Duration::from_millis(f.sleep_ms)).await;
            reply
        }
        _ => reply,
    }
}

/// Adds the headers every GitHub response carries.
fn finish(reply: Reply, rate: RateInfo, request_id: &str, scopes: &str) -> Response {
    let bytes = reply
        .body
        .as_ref()
        .map(|b| serde_json::to_vec_pretty(b).unwrap_or_default())
        .unwrap_or_default();
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    let mut put = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.append(name, v);
        }
    };
    put("content-type", "application/json; charset=utf-8");
    put("x-ratelimit-limit", &rate.limit.to_string());
    put("x-ratelimit-remaining", &rate.remaining.to_string());
    put("x-ratelimit-reset", &rate.reset.to_string());
    put("x-ratelimit-used", &rate.used.to_string());
    put("x-ratelimit-resource", "core");
    put("x-oauth-scopes", scopes);
    put("x-accepted-oauth-scopes", "repo");
    put("x-github-api-version-selected", "2022-11-28");
    put("x-github-media-type", "github.v3; format=json");
    put("x-github-request-id", request_id);
    for (name, value) in &reply.headers {
        put(name, value);
    }
    response
}

/// Serves `shared` on `listener` until `shutdown` fires.
pub async fn serve(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let app = Router::new().fallback(handle).with_state(shared);
    tokio::select! {
        _ = axum::serve(listener, app) => {}
        _ = shutdown => {}
    }
}

/// The "html" root and API root for a server bound at `addr`.
pub fn urls_for(addr: SocketAddr, prefix: &str) -> Urls {
    let web = format!("http://{addr}");
    Urls {
        api: format!("{web}{}", prefix.trim_end_matches('/')),
        web,
    }
}
