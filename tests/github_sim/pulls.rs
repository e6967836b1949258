//! Pull request endpoints: list, create, get, update, merge.
//!
//! Design: pull requests are validated and rendered against the live git
//! state: the head/base branches must exist when creating, the reported
//! `mergeable`/`mergeable_state`/change counts are computed from the bare
//! repository, and merging writes a real commit (merge or squash) to the
//! base branch. Only the single-pull endpoints render the full shape.

use serde::Deserialize;
use serde_json::json;

use super::BOT_LOGIN;
use super::commits::checks_state;
use super::git::{self, MergeMethod};
use super::handlers::{
    Ctx, RepoKey, already_exists, custom_error, invalid_field, missing_field, paginate, refresh,
    refresh_pull, repo_json,
};
use super::render::{self, PullDetail};
use super::routes::Reply;
use super::state::{Pull, Repo, World};

/// The git-derived fields of the full pull request shape. Closed pulls are
/// never mergeable; open ones are `dirty` on conflicts, else `draft`,
/// `unstable` while checks/statuses on the head are pending or failing,
/// else `clean`.
pub fn detail(repo: &Repo, p: &Pull) -> PullDetail {
    let stats = git::change_stats(&repo.path, &p.base_sha, &p.head_sha).unwrap_or_default();
    if !p.open {
        return PullDetail {
            mergeable: Some(false),
            mergeable_state: "unknown".to_string(),
            stats,
        };
    }
    let clean = git::can_merge(&repo.path, &p.base_sha, &p.head_sha).unwrap_or(false);
    let state = if !clean {
        "dirty"
    } else if p.draft {
        "draft"
    } else if checks_state(repo, &p.head_sha) != "success" {
        "unstable"
    } else {
        "clean"
    };
    PullDetail {
        mergeable: Some(clean),
        mergeable_state: state.to_string(),
        stats,
    }
}

/// Renders pull `number` in full (`full`) or simple shape.
pub fn pull_reply(
    world: &World,
    ctx: &Ctx<'_>,
    key: RepoKey<'_>,
    number: u64,
    status: u16,
    full: bool,
) -> Reply {
    let Some(repo) = world.repo(key.owner, key.name) else {
        return Reply::not_found();
    };
    let Some(p) = repo.pull(number) else {
        return Reply::not_found();
    };
    let d = full.then(|| detail(repo, p));
    Reply::json(
        status,
        render::pull(ctx.urls, repo, p, &repo_json(ctx, repo), d.as_ref()),
    )
}

/// `GET /repos/{owner}/{repo}/pulls/{pull_number}`.
pub fn get_pull(world: &mut World, ctx: &Ctx<'_>, key: RepoKey<'_>, number: u64) -> Reply {
    refresh(world, key, number);
    pull_reply(world, ctx, key, number, 200, true)
}

/// `GET /repos/{owner}/{repo}/pulls`: `state`, `head` (`owner:branch`),
/// `base`, `sort`, `direction` filters; newest first by default.
pub fn list_pulls(world: &mut World, ctx: &Ctx<'_>, key: RepoKey<'_>, path: &str) -> Reply {
    let Some(repo) = world.repo_mut(key.owner, key.name) else {
        return Reply::not_found();
    };
    let repo_path = repo.path.clone();
    for p in &mut repo.pulls {
        refresh_pull(&repo_path, p);
    }
    let repo = &*repo;
    let state = ctx.param("state").unwrap_or_else(|| "open".to_string());
    // GitHub only honours `head` in the `user:ref-name` form.
    let head = ctx.param("head").and_then(|h| {
        h.split_once(':')
            .map(|(o, b)| (o.to_string(), b.to_string()))
    });
    let base = ctx.param("base");
    let mut pulls: Vec<&Pull> = repo
        .pulls
        .iter()
        .filter(|p| match state.as_str() {
            "all" => true,
            "closed" => !p.open,
            _ => p.open,
        })
        .filter(|p| {
            head.as_ref()
                .is_none_or(|(o, b)| o.eq_ignore_ascii_case(&repo.owner) && *b == p.head_ref)
        })
        .filter(|p| base.as_ref().is_none_or(|b| *b == p.base_ref))
        .collect();
    let by_updated = ctx.param("sort").as_deref() == Some("updated");
    pulls.sort_by_key(|p| {
        if by_updated {
            (p.updated_at, p.number)
        } else {
            (p.created_at, p.number)
        }
    });
    if ctx.param("direction").as_deref() != Some("asc") {
        pulls.reverse();
    }
    let rj = repo_json(ctx, repo);
    let items = pulls
        .iter()
        .map(|p| render::pull(ctx.urls, repo, p, &rj, None))
        .collect();
    paginate(ctx, path, items)
}

#[derive(Deserialize)]
struct CreatePullBody {
    title: Option<String>,
    head: Option<String>,
    base: Option<String>,
    body: Option<String>,
    draft: Option<bool>,
    maintainer_can_modify: Option<bool>,
}

/// `POST /repos/{owner}/{repo}/pulls` (`head` as `branch` or `owner:branch`).
pub fn create_pull(world: &mut World, ctx: &Ctx<'_>, key: RepoKey<'_>) -> Reply {
    let req: CreatePullBody = match ctx.json() {
        Ok(r) => r,
        Err(reply) => return reply,
    };
    let Some(head) = req.head.filter(|h| !h.is_empty()) else {
        return missing_field("head");
    };
    let Some(base) = req.base.filter(|b| !b.is_empty()) else {
        return missing_field("base");
    };
    let Some(title) = req.title.filter(|t| !t.trim().is_empty()) else {
        return missing_field("title");
    };
    let id = world.next_id();
    let Some(repo) = world.repo_mut(key.owner, key.name) else {
        return Reply::not_found();
    };
    let head_ref = match head.split_once(':') {
        Some((owner, _)) if !owner.eq_ignore_ascii_case(&repo.owner) => {
            return invalid_field("head");
        }
        Some((_, branch)) => branch.to_string(),
        None => head.clone(),
    };
    let Ok(Some(head_sha)) = git::branch_sha(&repo.path, &head_ref) else {
        return invalid_field("head");
    };
    let Ok(Some(base_sha)) = git::branch_sha(&repo.path, &base) else {
        return invalid_field("base");
    };
    let label = format!("{}:{head_ref}", repo.owner);
    if repo
        .pulls
        .iter()
        .any(|p| p.open && p.head_ref == head_ref && p.base_ref == base)
    {
        return already_exists(&label);
    }
    if git::is_ancestor(&repo.path, &head_sha, &base_sha).unwrap_or(false) {
        return custom_error(
            "PullRequest",
            &format!("No commits between {base} and {head_ref}"),
        );
    }
    let number = repo.next_number();
    repo.pulls.push(Pull {
        number,
        id,
        user: BOT_LOGIN.to_string(),
        title,
        body: req.body,
        head_ref,
        base_ref: base,
        head_sha,
        base_sha,
        open: true,
        draft: req.draft.unwrap_or(false),
        maintainer_can_modify: req.maintainer_can_modify.unwrap_or(true),
        merged_at: None,
        merged_by: None,
        merge_commit_sha: None,
        closed_at: None,
        created_at: ctx.now,
        updated_at: ctx.now,
        labels: Vec::new(),
        assignees: Vec::new(),
        requested_reviewers: Vec::new(),
        requested_teams: Vec::new(),
        comments: Vec::new(),
        reviews: Vec::new(),
    });
    pull_reply(world, ctx, key, number, 201, true)
}

#[derive(Deserialize)]
struct UpdatePullBody {
    title: Option<String>,
    body: Option<String>,
    state: Option<String>,
    base: Option<String>,
    maintainer_can_modify: Option<bool>,
}

/// `PATCH /repos/{owner}/{repo}/pulls/{pull_number}`: title, body, state,
/// base, maintainer_can_modify.
pub fn update_pull(world: &mut World, ctx: &Ctx<'_>, key: RepoKey<'_>, number: u64) -> Reply {
    let req: UpdatePullBody = match ctx.json() {
        Ok(r) => r,
        Err(reply) => return reply,
    };
    refresh(world, key, number);
    let Some(repo) = world.repo_mut(key.owner, key.name) else {
        return Reply::not_found();
    };
    let path = repo.path.clone();
    let owner = repo.owner.clone();
    let Some(current) = repo.pull(number).cloned() else {
        return Reply::not_found();
    };
    let reopen = req.state.as_deref() == Some("open") && !current.open;
    let close = req.state.as_deref() == Some("closed") && current.open;
    if let Some(state) = req.state.as_deref()
        && state != "open"
        && state != "closed"
    {
        return invalid_field("state");
    }
    if reopen {
        if current.merged() {
            return custom_error(
                "PullRequest",
                "state cannot be changed. The pull request cannot be reopened.",
            );
        }
        if !matches!(git::branch_sha(&path, &current.head_ref), Ok(Some(_))) {
            return custom_error(
                "PullRequest",
                "state cannot be changed. The head branch was deleted.",
            );
        }
        let base = req.base.as_deref().unwrap_or(&current.base_ref);
        if repo
            .pulls
            .iter()
            .any(|p| p.open && p.head_ref == current.head_ref && p.base_ref == base)
        {
            return already_exists(&format!("{owner}:{}", current.head_ref));
        }
    }
    let mut new_base_sha = None;
    if let Some(base) = req.base.as_deref().filter(|b| *b != current.base_ref) {
        if !current.open && !reopen {
            return custom_error(
                "PullRequest",
                "Cannot change the base branch of a closed pull request.",
            );
        }
        match git::branch_sha(&path, base) {
            Ok(Some(sha)) => new_base_sha = Some(sha),
            _ => return invalid_field("base"),
        }
    }
    let Some(p) = repo.pull_mut(number) else {
        return Reply::not_found();
    };
    if let Some(title) = req.title {
        p.title = title;
    }
    if let Some(body) = req.body {
        p.body = Some(body);
    }
    if let Some(m) = req.maintainer_can_modify {
        p.maintainer_can_modify = m;
    }
    if let (Some(base), Some(sha)) = (req.base, new_base_sha) {
        p.base_ref = base;
        p.base_sha = sha;
    }
    if close {
        p.open = false;
        p.closed_at = Some(ctx.now);
    }
    if reopen {
        p.open = true;
        p.closed_at = None;
        refresh_pull(&path, p);
    }
    p.updated_at = ctx.now;
    pull_reply(world, ctx, key, number, 200, true)
}

#[derive(Deserialize)]
struct MergeBody {
    merge_method: Option<String>,
    sha: Option<String>,
    commit_title: Option<String>,
    commit_message: Option<String>,
}

/// `PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge` (`rebase` lands
/// like `squash`).
pub fn merge_pull(world: &mut World, ctx: &Ctx<'_>, key: RepoKey<'_>, number: u64) -> Reply {
    let req: MergeBody = match ctx.json() {
        Ok(r) => r,
        Err(reply) => return reply,
    };
    refresh(world, key, number);
    let Some(repo) = world.repo_mut(key.owner, key.name) else {
        return Reply::not_found();
    };
    let path = repo.path.clone();
    let owner = repo.owner.clone();
    let Some(p) = repo.pull_mut(number) else {
        return Reply::not_found();
    };
    let method = match req.merge_method.as_deref().unwrap_or("merge") {
        "merge" => MergeMethod::Merge,
        "squash" | "rebase" => MergeMethod::Squash,
        _ => return invalid_field("merge_method"),
    };
    if !p.open {
        return Reply::error(405, "Pull Request is not mergeable");
    }
    if p.draft {
        return Reply::error(405, "Pull Request is still a draft");
    }
    if req.sha.as_deref().is_some_and(|sha| sha != p.head_sha) {
        return Reply::error(
            409,
            "Head branch was modified. Review and try the merge again.",
        );
    }
    let title = req.commit_title.unwrap_or_else(|| match method {
        MergeMethod::Merge => format!("Merge pull request #{number} from {owner}/{}", p.head_ref),
        _ => format!("{} (#{number})", p.title),
    });
    let body = req.commit_message.unwrap_or_else(|| match method {
        MergeMethod::Merge => p.title.clone(),
        _ => p.body.clone().unwrap_or_default(),
    });
    let message = if body.is_empty() {
        title
    } else {
        format!("{title}\n\n{body}")
    };
    match git::merge_into(&path, &p.base_ref, &p.head_sha, method, &message, ctx.now) {
        Ok(Some(sha)) => {
            mark_merged(p, &sha, ctx.now);
            Reply::ok(
                json!({"sha": sha, "merged": true, "message": "Pull Request successfully merged"}),
            )
        }
        Ok(None) => Reply::error(405, "Pull Request is not mergeable"),
        Err(e) => Reply::error(500, &format!("merge failed: {e}")),
    }
}

/// Records a successful merge whose result is `sha` on the base branch.
pub fn mark_merged(p: &mut Pull, sha: &str, now: i64) {
    p.open = false;
    p.merged_at = Some(now);
    p.closed_at = Some(now);
    p.merged_by = Some(BOT_LOGIN.to_string());
    p.merge_commit_sha = Some(sha.to_string());
    p.updated_at = now;
}

/// `GET /repos/{owner}/{repo}/pulls/{pull_number}/merge`: 204 or 404.
pub fn is_merged(world: &mut World, key: RepoKey<'_>, number: u64) -> Reply {
    match world.repo(key.owner, key.name).and_then(|r| r.pull(number)) {
        Some(p) if p.merged() => Reply::empty(204),
        _ => Reply::not_found(),
    }
}
