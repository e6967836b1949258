//! Issue endpoints: create, list, get and update issues.
//!
//! Design: plain issues are [`Issue`] records beside the pull requests and
//! numbered in the same sequence. As on GitHub, the issue endpoints also
//! see pull requests: the list holds both (pull requests with a
//! `pull_request` key), and `GET`/`PATCH /issues/{n}` answer for a pull
//! request with its issue view. Issues carry no labels or assignees here;
//! nothing that uses the simulator needs them yet.

use serde::Deserialize;
use serde_json::Value;

use super::BOT_LOGIN;
use super::handlers::{Ctx, RepoKey, invalid_field, missing_field, paginate, with_pull};
use super::pulls;
use super::render;
use super::routes::Reply;
use super::state::{Issue, Repo, World};

#[derive(Deserialize)]
struct CreateIssueBody {
    title: Option<String>,
    body: Option<String>,
}

/// `POST /repos/{owner}/{repo}/issues`, authored by the bot.
pub fn create_issue(world: &mut World, ctx: &Ctx<'_>, key: RepoKey<'_>) -> Reply {
    let req: CreateIssueBody = match ctx.json() {
        Ok(r) => r,
        Err(reply) => return reply,
    };
    let Some(title) = req.title.filter(|t| !t.trim().is_empty()) else {
        return missing_field("title");
    };
    let id = world.next_id();
    let Some(repo) = world.repo_mut(key.owner, key.name) else {
        return Reply::not_found();
    };
    let issue = Issue {
        number: repo.next_number(),
        id,
        user: BOT_LOGIN.to_string(),
        title,
        body: req.body,
        open: true,
        closed_at: None,
        created_at: ctx.now,
        updated_at: ctx.now,
        comments: Vec::new(),
    };
    let reply = Reply::json(201, render::plain_issue(ctx.urls, repo, &issue));
    repo.issues.push(issue);
    reply
}

/// One entry of the issue list: a plain issue or a pull request.
struct Listed {
    created_at: i64,
    updated_at: i64,
    number: u64,
    open: bool,
    json: Value,
}

/// Every issue and pull request of `repo`, as the issue list shows them.
fn listed(ctx: &Ctx<'_>, repo: &Repo) -> Vec<Listed> {
    let pulls = repo.pulls.iter().map(|p| Listed {
        created_at: p.created_at,
        updated_at: p.updated_at,
        number: p.number,
        open: p.open,
        json: render::issue(ctx.urls, repo, p),
    });
    let issues = repo.issues.iter().map(|i| Listed {
        created_at: i.created_at,
        updated_at: i.updated_at,
        number: i.number,
        open: i.open,
        json: render::plain_issue(ctx.urls, repo, i),
    });
    pulls.chain(issues).collect()
}

/// `GET /repos/{owner}/{repo}/issues`: `state` (`open` by default,
/// `closed`, `all`), `sort` (`created` or `updated`) and `direction`
/// (`desc` by default), paginated; pull requests included.
pub fn list_issues(world: &World, ctx: &Ctx<'_>, key: RepoKey<'_>, path: &str) -> Reply {
    let Some(repo) = world.repo(key.owner, key.name) else {
        return Reply::not_found();
    };
    let state = ctx.param("state").unwrap_or_else(|| "open".to_string());
    let mut items: Vec<Listed> = listed(ctx, repo)
        .into_iter()
        .filter(|item| match state.as_str() {
            "all" => true,
            "closed" => !item.open,
            _ => item.open,
        })
        .collect();
    let by_updated = ctx.param("sort").as_deref() == Some("updated");
    items.sort_by_key(|item| {
        let time = if by_updated {
            item.updated_at
        } else {
            item.created_at
        };
        (time, item.number)
    });
    if ctx.param("direction").as_deref() != Some("asc") {
        items.reverse();
    }
    paginate(ctx, path, items.into_iter().map(|item| item.json).collect())
}

/// `GET /repos/{owner}/{repo}/issues/{issue_number}`: a plain issue, or a
/// pull request's issue view.
pub fn get_issue(world: &mut World, ctx: &Ctx<'_>, key: RepoKey<'_>, number: u64) -> Reply {
    let plain = world
        .repo(key.owner, key.name)
        .and_then(|repo| Some(render::plain_issue(ctx.urls, repo, repo.issue(number)?)));
    match plain {
        Some(json) => Reply::ok(json),
        None => with_pull(world, key, number, |r, p| {
            Reply::ok(render::issue(ctx.urls, r, p))
        }),
    }
}

#[derive(Deserialize)]
struct UpdateIssueBody {
    title: Option<String>,
    body: Option<String>,
    state: Option<String>,
}

/// `PATCH /repos/{owner}/{repo}/issues/{issue_number}`: title, body and
/// state of a plain issue; a pull request is edited as by `PATCH /pulls`
/// and answered with its issue view.
pub fn update_issue(world: &mut World, ctx: &Ctx<'_>, key: RepoKey<'_>, number: u64) -> Reply {
    if world
        .repo(key.owner, key.name)
        .is_some_and(|repo| repo.pull(number).is_some())
    {
        return update_pull_as_issue(world, ctx, key, number);
    }
    let req: UpdateIssueBody = match ctx.json() {
        Ok(r) => r,
        Err(reply) => return reply,
    };
    let open = match req.state.as_deref() {
        None => None,
        Some("open") => Some(true),
        Some("closed") => Some(false),
        Some(_) => return invalid_field("state"),
    };
    let Some(repo) = world.repo_mut(key.owner, key.name) else {
        return Reply::not_found();
    };
    let Some(issue) = repo.issue_mut(number) else {
        return Reply::not_found();
    };
    if let Some(title) = req.title {
        issue.title = title;
    }
    if let Some(body) = req.body {
        issue.body = Some(body);
    }
    if let Some(open) = open.filter(|open| *open != issue.open) {
        issue.open = open;
        issue.closed_at = (!open).then_some(ctx.now);
    }
    issue.updated_at = ctx.now;
    let issue = issue.clone();
    Reply::ok(render::plain_issue(ctx.urls, repo, &issue))
}

/// `PATCH /issues/{n}` on a pull request.
fn update_pull_as_issue(world: &mut World, ctx: &Ctx<'_>, key: RepoKey<'_>, number: u64) -> Reply {
    let reply = pulls::update_pull(world, ctx, key, number);
    if !reply.is_success() {
        return reply;
    }
    with_pull(world, key, number, |r, p| {
        Reply::ok(render::issue(ctx.urls, r, p))
    })
}
