//! Commit-level endpoints: check runs, combined status and git refs.
//!
//! Design: refs are resolved against the bare repository at request time
//! (branch names may contain `/`); check runs and statuses are the records
//! the test reported with the simulator's helpers, filtered by sha and
//! reduced to the latest per name/context like GitHub does.

use serde_json::json;

use super::git;
use super::handlers::{Ctx, RepoKey, custom_error, page_of, repo_json};
use super::render;
use super::routes::Reply;
use super::state::{CheckRunRec, Repo, StatusRec, World};

/// Overall state of the checks and statuses reported for `sha`:
/// `"failure"`, `"pending"` or `"success"` (also when nothing is reported).
pub fn checks_state(repo: &Repo, sha: &str) -> &'static str {
    let mut state = "success";
    for c in latest_check_runs(repo, sha) {
        match c.conclusion.as_deref() {
            None => state = "pending",
            Some("success" | "neutral" | "skipped") => {}
            Some(_) => return "failure",
        }
    }
    for s in latest_statuses(repo, sha) {
        match s.state.as_str() {
            "success" => {}
            "pending" => state = "pending",
            _ => return "failure",
        }
    }
    state
}

/// The newest check run of each name for `sha`, newest first.
fn latest_check_runs<'a>(repo: &'a Repo, sha: &str) -> Vec<&'a CheckRunRec> {
    let mut runs: Vec<_> = repo.check_runs.iter().filter(|c| c.sha == sha).collect();
    runs.sort_by_key(|c| std::cmp::Reverse(c.id));
    let mut seen = std::collections::BTreeSet::new();
    runs.retain(|c| seen.insert(c.name.clone()));
    runs
}

/// Resolves a commits-endpoint ref; `Err` is a ready 422 reply.
pub fn commit_sha(repo: &Repo, spec: &str) -> Result<String, Reply> {
    match git::resolve_commitish(&repo.path, spec) {
        Ok(Some(sha)) => Ok(sha),
        _ if spec.len() == 40 && spec.chars().all(|c| c.is_ascii_hexdigit()) => {
            Ok(spec.to_string())
        }
        _ => Err(Reply::json(
            422,
            json!({
                "message": format!("No commit found for SHA: {spec}"),
                "documentation_url": "https://docs.github.com/rest/commits/commits#get-a-commit",
                "status": "422",
            }),
        )),
    }
}

/// `GET /repos/{owner}/{repo}/commits/{ref}/check-runs`: `check_name`,
/// `status` and `filter` (`latest` by default, or `all`), paginated.
pub fn check_runs(
    world: &mut World,
    ctx: &Ctx<'_>,
    key: RepoKey<'_>,
    spec: &str,
    path: &str,
) -> Reply {
    let Some(repo) = world.repo(key.owner, key.name) else {
        return Reply::not_found();
    };
    let sha = match commit_sha(repo, spec) {
        Ok(sha) => sha,
        Err(reply) => return reply,
    };
    let name = ctx.param("check_name");
    let status = ctx.param("status");
    let latest_only = ctx.param("filter").as_deref() != Some("all");
    let mut runs = if latest_only {
        latest_check_runs(repo, &sha)
    } else {
        let mut all: Vec<_> = repo.check_runs.iter().filter(|c| c.sha == sha).collect();
        all.sort_by_key(|c| std::cmp::Reverse(c.id));
        all
    };
    runs.retain(|c| {
        name.as_ref().is_none_or(|n| *n == c.name)
            && status.as_deref().is_none_or(|s| match s {
                "completed" => c.conclusion.is_some(),
                "in_progress" => c.conclusion.is_none(),
                _ => false,
            })
    });
    let total = runs.len();
    let items = runs
        .iter()
        .map(|c| render::check_run(ctx.urls, repo, c))
        .collect();
    let (page, link) = page_of(ctx, path, items);
    let mut reply = Reply::ok(json!({"total_count": total, "check_runs": page}));
    if let Some(link) = link {
        reply.headers.push(("link", link));
    }
    reply
}

/// The latest status of each context for `sha`, newest first.
pub fn latest_statuses<'a>(repo: &'a Repo, sha: &str) -> Vec<&'a StatusRec> {
    let mut all: Vec<_> = repo.statuses.iter().filter(|s| s.sha == sha).collect();
    all.sort_by_key(|s| std::cmp::Reverse(s.id));
    let mut seen = std::collections::BTreeSet::new();
    all.retain(|s| seen.insert(s.context.clone()));
    all
}

/// `GET /repos/{owner}/{repo}/commits/{ref}/status`: the latest status per
/// context; `pending` when there are none, like GitHub.
pub fn combined_status(world: &mut World, ctx: &Ctx<'_>, key: RepoKey<'_>, spec: &str) -> Reply {
    let Some(repo) = world.repo(key.owner, key.name) else {
        return Reply::not_found();
    };
    let sha = match commit_sha(repo, spec) {
        Ok(sha) => sha,
        Err(reply) => return reply,
    };
    let statuses = latest_statuses(repo, &sha);
    let state = if statuses
        .iter()
        .any(|s| s.state == "failure" || s.state == "error")
    {
        "failure"
    } else if statuses.is_empty() || statuses.iter().any(|s| s.state == "pending") {
        "pending"
    } else {
        "success"
    };
    let api = ctx.urls.repo_api(&repo.owner, &repo.name);
    Reply::ok(json!({
        "state": state,
        "statuses": statuses.iter().map(|s| render::status(ctx.urls, repo, s)).collect::<Vec<_>>(),
        "sha": sha,
        "total_count": statuses.len(),
        "repository": repo_json(ctx, repo),
        "commit_url": format!("{api}/commits/{sha}"),
        "url": format!("{api}/commits/{sha}/status"),
    }))
}

/// `GET /repos/{owner}/{repo}/git/ref/{ref}` (e.g. `heads/a/b`).
pub fn get_ref(world: &mut World, ctx: &Ctx<'_>, key: RepoKey<'_>, spec: &str) -> Reply {
    let Some(repo) = world.repo(key.owner, key.name) else {
        return Reply::not_found();
    };
    let full = format!("refs/{spec}");
    match git::resolve_ref(&repo.path, &full) {
        Ok(Some(sha)) => Reply::ok(render::git_ref(ctx.urls, repo, &full, &sha)),
        _ => Reply::not_found(),
    }
}

/// `DELETE /repos/{owner}/{repo}/git/refs/heads/{branch}`: 204, or 422 when
/// the branch does not exist.
pub fn delete_ref(world: &mut World, ctx: &Ctx<'_>, key: RepoKey<'_>, spec: &str) -> Reply {
    let Some(repo) = world.repo_mut(key.owner, key.name) else {
        return Reply::not_found();
    };
    let deleted = match spec.strip_prefix("heads/") {
        Some(branch) => git::delete_branch(&repo.path, branch),
        None => Ok(false),
    };
    match deleted {
        Ok(true) => {}
        Ok(false) => return custom_error("Reference", "Reference does not exist"),
        Err(e) => return Reply::error(500, &e),
    }
    // Like GitHub, deleting the head branch closes its open pull requests.
    let branch = spec.trim_start_matches("heads/");
    for p in repo
        .pulls
        .iter_mut()
        .filter(|p| p.open && p.head_ref == branch)
    {
        p.open = false;
        p.closed_at = Some(ctx.now);
        p.updated_at = ctx.now;
    }
    Reply::empty(204)
}
