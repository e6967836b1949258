//! Endpoint plumbing: the request context, dispatch and shared helpers.
//!
//! Design: each endpoint is a synchronous function over the locked
//! [`World`] and a [`Ctx`] describing the request, returning a [`Reply`];
//! they live in `pulls`, `issues`, `plain_issues`, `commits` and
//! `graphql`, and this module routes to them and holds what they share
//! (error replies, repository lookup, pagination).
//! Branch state is read from the bare repositories at request time (open
//! pull requests refresh their head/base shas before being rendered), and
//! merges and branch deletions write to them. Validation mirrors GitHub's
//! status codes and messages closely enough for a client's error handling
//! to be exercised: 404 for unknown repos/pulls, 422 with an `errors` array
//! for invalid input, 405/409 for merges that cannot happen, 403 for writes
//! to archived repositories.

use std::path::Path;

use serde::Deserialize;
use serde_json::{Value, json};

use super::render::{self, Urls};
use super::routes::{Endpoint, Matched, Reply};
use super::state::{Pull, Repo, World};
use super::{commits, git, graphql, issues, plain_issues, pulls};

/// What an endpoint needs to know about the request.
pub struct Ctx<'a> {
    pub urls: &'a Urls,
    /// Simulator root: `root/<owner>/<name>.git` repos are found lazily.
    pub root: &'a Path,
    pub now: i64,
    /// Raw query string (without `?`).
    pub query: &'a str,
    pub body: &'a [u8],
    pub mutating: bool,
}

impl Ctx<'_> {
    /// The decoded value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (render::decode(k) == name).then(|| render::decode(&v.replace('+', " ")))
        })
    }

    /// The JSON body (`{}` when empty); `Err` is a ready 400 reply.
    pub fn json<T: for<'de> Deserialize<'de>>(&self) -> Result<T, Reply> {
        let body = if self.body.iter().all(u8::is_ascii_whitespace) {
            b"{}".as_slice()
        } else {
            self.body
        };
        serde_json::from_slice(body).map_err(|_| Reply::error(400, "Problems parsing JSON"))
    }
}

/// The 422 GitHub sends when an open pull request already exists for a
/// head (`label` is `owner:branch`).
pub fn already_exists(label: &str) -> Reply {
    custom_error(
        "PullRequest",
        &format!("A pull request already exists for {label}."),
    )
}

/// 422 for a pull request field whose value is unusable (e.g. a missing
/// head branch).
pub fn invalid_field(field: &str) -> Reply {
    Reply::json(
        422,
        render::validation(
            "Validation Failed",
            json!([{"resource": "PullRequest", "field": field, "code": "invalid"}]),
        ),
    )
}

/// 422 `Validation Failed` with one `custom` error.
pub fn custom_error(resource: &str, message: &str) -> Reply {
    Reply::json(
        422,
        render::validation(
            "Validation Failed",
            json!([{"resource": resource, "code": "custom", "message": message}]),
        ),
    )
}

/// 422 for a required body field that was not sent.
pub fn missing_field(field: &str) -> Reply {
    Reply::json(
        422,
        render::validation(
            &format!("Invalid request.\n\n\"{field}\" wasn't supplied."),
            json!([]),
        ),
    )
}

/// Routes a matched request to its endpoint.
pub fn dispatch(world: &mut World, ctx: &Ctx<'_>, m: &Matched) -> Reply {
    match &m.endpoint {
        Endpoint::User => return Reply::ok(render::authenticated_user(ctx.urls, ctx.now)),
        Endpoint::Graphql => return graphql::graphql(world, ctx),
        _ => {}
    }
    let Some((owner, name)) = m.repo.as_ref() else {
        return Reply::not_found();
    };
    if !ensure_repo(world, ctx, owner, name) {
        return Reply::not_found();
    }
    if ctx.mutating && world.repo(owner, name).is_some_and(|r| r.archived) {
        return Reply::error(403, "Repository was archived so is read-only.");
    }
    let key = RepoKey { owner, name };
    match &m.endpoint {
        Endpoint::Repo => get_repo(world, ctx, key),
        Endpoint::ListPulls => pulls::list_pulls(world, ctx, key, &m.path),
        Endpoint::CreatePull => pulls::create_pull(world, ctx, key),
        Endpoint::GetPull(n) => pulls::get_pull(world, ctx, key, *n),
        Endpoint::UpdatePull(n) => pulls::update_pull(world, ctx, key, *n),
        Endpoint::MergePull(n) => pulls::merge_pull(world, ctx, key, *n),
        Endpoint::IsMerged(n) => pulls::is_merged(world, key, *n),
        Endpoint::ListIssues => plain_issues::list_issues(world, ctx, key, &m.path),
        Endpoint::CreateIssue => plain_issues::create_issue(world, ctx, key),
        Endpoint::GetIssue(n) => plain_issues::get_issue(world, ctx, key, *n),
        Endpoint::UpdateIssue(n) => plain_issues::update_issue(world, ctx, key, *n),
        Endpoint::ListLabels(n) => with_pull(world, key, *n, |r, p| {
            paginate(ctx, &m.path, array(render::pull_labels(ctx.urls, r, p)))
        }),
        Endpoint::AddLabels(n) => issues::edit_labels(world, ctx, key, *n, false),
        Endpoint::SetLabels(n) => issues::edit_labels(world, ctx, key, *n, true),
        Endpoint::RemoveLabel(n, label) => issues::remove_label(world, ctx, key, *n, label),
        Endpoint::AddAssignees(n) => issues::edit_assignees(world, ctx, key, *n, true),
        Endpoint::RemoveAssignees(n) => issues::edit_assignees(world, ctx, key, *n, false),
        Endpoint::ListRequestedReviewers(n) => with_pull(world, key, *n, |r, p| {
            Reply::ok(json!({
                "users": p.requested_reviewers.iter().map(|u| render::user(ctx.urls, u)).collect::<Vec<_>>(),
                "teams": p.requested_teams.iter().map(|t| render::team(ctx.urls, &r.owner, t)).collect::<Vec<_>>(),
            }))
        }),
        Endpoint::RequestReviewers(n) => issues::edit_reviewers(world, ctx, key, *n, true),
        Endpoint::RemoveRequestedReviewers(n) => issues::edit_reviewers(world, ctx, key, *n, false),
        Endpoint::ListReviews(n) => with_pull(world, key, *n, |r, p| {
            let items = p
                .reviews
                .iter()
                .map(|rv| render::review(ctx.urls, r, p.number, rv))
                .collect();
            paginate(ctx, &m.path, items)
        }),
        Endpoint::ListComments(n) => issues::list_comments(world, ctx, key, *n, &m.path),
        Endpoint::CreateComment(n) => issues::create_comment(world, ctx, key, *n),
        Endpoint::UpdateComment(id) => issues::update_comment(world, ctx, key, *id),
        Endpoint::DeleteComment(id) => issues::delete_comment(world, key, *id),
        Endpoint::CheckRuns(r) => commits::check_runs(world, ctx, key, r, &m.path),
        Endpoint::CombinedStatus(r) => commits::combined_status(world, ctx, key, r),
        Endpoint::GetRef(r) => commits::get_ref(world, ctx, key, r),
        Endpoint::DeleteRef(r) => commits::delete_ref(world, ctx, key, r),
        Endpoint::User | Endpoint::Graphql => Reply::not_found(),
    }
}

/// The `{owner}/{repo}` of a request.
#[derive(Clone, Copy)]
pub struct RepoKey<'a> {
    pub owner: &'a str,
    pub name: &'a str,
}

/// Registers `root/<owner>/<name>.git` on first use if it exists on disk.
pub fn ensure_repo(world: &mut World, ctx: &Ctx<'_>, owner: &str, name: &str) -> bool {
    if world.repo(owner, name).is_some() {
        return true;
    }
    let path = ctx.root.join(owner).join(format!("{name}.git"));
    let unsafe_name = |s: &str| s.is_empty() || s.contains("..") || s.contains(['/', '\\']);
    if unsafe_name(owner) || unsafe_name(name) || !path.join("HEAD").is_file() {
        return false;
    }
    world.insert_repo(owner, name, path, ctx.now);
    true
}

/// The items of a JSON array (a non-array becomes a one-item list).
pub fn array(v: Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items,
        other => vec![other],
    }
}

/// Runs `f` on a refreshed pull request, or answers 404.
pub fn with_pull(
    world: &mut World,
    key: RepoKey<'_>,
    number: u64,
    f: impl FnOnce(&Repo, &Pull) -> Reply,
) -> Reply {
    refresh(world, key, number);
    let Some(repo) = world.repo(key.owner, key.name) else {
        return Reply::not_found();
    };
    match repo.pull(number) {
        Some(p) => f(repo, p),
        None => Reply::not_found(),
    }
}

/// Re-reads the head/base shas of an open pull request from git.
pub fn refresh(world: &mut World, key: RepoKey<'_>, number: u64) {
    let Some(repo) = world.repo_mut(key.owner, key.name) else {
        return;
    };
    let path = repo.path.clone();
    if let Some(p) = repo.pull_mut(number) {
        refresh_pull(&path, p);
    }
}

/// Re-reads the head/base shas of `p` (when open) from the bare repo.
pub fn refresh_pull(path: &Path, p: &mut Pull) {
    if !p.open {
        return;
    }
    if let Ok(Some(sha)) = git::branch_sha(path, &p.head_ref) {
        p.head_sha = sha;
    }
    if let Ok(Some(sha)) = git::branch_sha(path, &p.base_ref) {
        p.base_sha = sha;
    }
}

/// The full repository object, with the default branch read from git.
pub fn repo_json(ctx: &Ctx<'_>, repo: &Repo) -> Value {
    let default_branch = git::default_branch(&repo.path).unwrap_or_else(|_| "main".to_string());
    render::repo(ctx.urls, repo, &default_branch, ctx.now)
}

/// `GET /repos/{owner}/{repo}`.
pub fn get_repo(world: &mut World, ctx: &Ctx<'_>, key: RepoKey<'_>) -> Reply {
    match world.repo(key.owner, key.name) {
        Some(repo) => Reply::ok(repo_json(ctx, repo)),
        None => Reply::not_found(),
    }
}

/// Slices `items` by `per_page`/`page` and adds GitHub's `Link` header.
pub fn paginate(ctx: &Ctx<'_>, path: &str, items: Vec<Value>) -> Reply {
    let (page_items, link) = page_of(ctx, path, items);
    let mut reply = Reply::ok(Value::Array(page_items));
    if let Some(link) = link {
        reply.headers.push(("link", link));
    }
    reply
}

/// One page of `items` (`per_page` default 30, max 100) and the `Link`
/// header value (absolute URLs under the prefix) when there are others.
pub fn page_of(ctx: &Ctx<'_>, path: &str, items: Vec<Value>) -> (Vec<Value>, Option<String>) {
    let per_page = ctx
        .param("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = ctx
        .param("page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let total = items.len();
    let last = total.div_ceil(per_page).max(1);
    let page_items: Vec<Value> = items
        .into_iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .collect();
    let link_to = |n: usize| {
        let mut pairs: Vec<String> = ctx
            .query
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("page="))
            .map(str::to_string)
            .collect();
        pairs.push(format!("page={n}"));
        format!("<{}{}?{}>", ctx.urls.api, path, pairs.join("&"))
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", link_to((page - 1).min(last))));
    }
    if page < last {
        links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
        links.push(format!("{}; rel=\"last\"", link_to(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", link_to(1)));
    }
    (page_items, (!links.is_empty()).then(|| links.join(", ")))
}
