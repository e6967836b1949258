//! Issue-side endpoints of pull requests (labels, assignees, requested
//! reviewers) and issue comments, on pull requests and plain issues alike.
//!
//! Design: each endpoint mutates the pull request (or, for comments, the
//! pull request or issue) record and answers with the shape GitHub uses for
//! it (label arrays, an issue object, a simple pull request or a comment).
//! Labels are created in the repository on first use; team reviewers must
//! have been declared with `add_team`. Comments are addressed by their
//! repository-wide id for editing and deleting, as on GitHub.

use serde::Deserialize;
use serde_json::{Value, json};

use super::BOT_LOGIN;
use super::handlers::{Ctx, RepoKey, custom_error, missing_field, paginate, refresh};
use super::pulls::pull_reply;
use super::render;
use super::routes::Reply;
use super::state::{CommentRec, World};

/// Names from `{"labels": [...]}` or a bare array, as strings or `{name}`.
pub fn label_names(body: &Value) -> Vec<String> {
    let list = match body {
        Value::Array(items) => items.as_slice(),
        Value::Object(map) => map
            .get("labels")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]),
        _ => &[],
    };
    list.iter()
        .filter_map(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get("name").and_then(Value::as_str).map(str::to_string),
            _ => None,
        })
        .collect()
}

/// `POST` (add) or `PUT` (`replace`) `/repos/{owner}/{repo}/issues/{n}/labels`;
/// answers with all labels of the issue.
pub fn edit_labels(
    world: &mut World,
    ctx: &Ctx<'_>,
    key: RepoKey<'_>,
    number: u64,
    replace: bool,
) -> Reply {
    let body: Value = match ctx.json() {
        Ok(v) => v,
        Err(reply) => return reply,
    };
    if world
        .repo(key.owner, key.name)
        .and_then(|r| r.pull(number))
        .is_none()
    {
        return Reply::not_found();
    }
    let mut names = Vec::new();
    for label in label_names(&body) {
        if let Some(n) = world.ensure_label(key.owner, key.name, &label) {
            names.push(n);
        }
    }
    let Some(repo) = world.repo_mut(key.owner, key.name) else {
        return Reply::not_found();
    };
    let Some(p) = repo.pull_mut(number) else {
        return Reply::not_found();
    };
    if replace {
        p.labels.clear();
    }
    for n in names {
        if !p.labels.iter().any(|l| l.eq_ignore_ascii_case(&n)) {
            p.labels.push(n);
        }
    }
    p.updated_at = ctx.now;
    let repo = &*repo;
    let p = repo.pull(number).expect("pull exists");
    Reply::ok(render::pull_labels(ctx.urls, repo, p))
}

/// `DELETE /repos/{owner}/{repo}/issues/{n}/labels/{name}`: the remaining
/// labels, or 404 when the label is not on the issue.
pub fn remove_label(
    world: &mut World,
    ctx: &Ctx<'_>,
    key: RepoKey<'_>,
    number: u64,
    label: &str,
) -> Reply {
    let Some(repo) = world.repo_mut(key.owner, key.name) else {
        return Reply::not_found();
    };
    let Some(p) = repo.pull_mut(number) else {
        return Reply::not_found();
    };
    let before = p.labels.len();
    p.labels.retain(|l| !l.eq_ignore_ascii_case(label));
    if p.labels.len() == before {
        return Reply::error(404, "Label does not exist");
    }
    p.updated_at = ctx.now;
    let repo = &*repo;
    let p = repo.pull(number).expect("pull exists");
    Reply::ok(render::pull_labels(ctx.urls, repo, p))
}

#[derive(Deserialize)]
struct AssigneesBody {
    #[serde(default)]
    assignees: Vec<String>,
}

/// `POST` (201, `add`) or `DELETE` (200) `/repos/{owner}/{repo}/issues/{n}/assignees`;
/// answers with the issue.
pub fn edit_assignees(
    world: &mut World,
    ctx: &Ctx<'_>,
    key: RepoKey<'_>,
    number: u64,
    add: bool,
) -> Reply {
    let req: AssigneesBody = match ctx.json() {
        Ok(r) => r,
        Err(reply) => return reply,
    };
    let Some(repo) = world.repo_mut(key.owner, key.name) else {
        return Reply::not_found();
    };
    let Some(p) = repo.pull_mut(number) else {
        return Reply::not_found();
    };
    for login in req.assignees {
        let present = p.assignees.iter().any(|a| a.eq_ignore_ascii_case(&login));
        if add && !present && p.assignees.len() < 10 {
            p.assignees.push(login);
        } else if !add {
            p.assignees.retain(|a| !a.eq_ignore_ascii_case(&login));
        }
    }
    p.updated_at = ctx.now;
    let repo = &*repo;
    let p = repo.pull(number).expect("pull exists");
    Reply::json(
        if add { 201 } else { 200 },
        render::issue(ctx.urls, repo, p),
    )
}

#[derive(Deserialize)]
struct ReviewersBody {
    #[serde(default)]
    reviewers: Vec<String>,
    #[serde(default)]
    team_reviewers: Vec<String>,
}

/// `POST` (201, `add`) or `DELETE` (200)
/// `/repos/{owner}/{repo}/pulls/{n}/requested_reviewers`; answers with the
/// simple pull request. Unknown teams and the author are rejected with 422.
pub fn edit_reviewers(
    world: &mut World,
    ctx: &Ctx<'_>,
    key: RepoKey<'_>,
    number: u64,
    add: bool,
) -> Reply {
    let req: ReviewersBody = match ctx.json() {
        Ok(r) => r,
        Err(reply) => return reply,
    };
    let known_teams: Vec<String> = world
        .teams
        .iter()
        .filter(|(org, _)| org.eq_ignore_ascii_case(key.owner))
        .map(|(_, slug)| slug.clone())
        .collect();
    refresh(world, key, number);
    let Some(repo) = world.repo_mut(key.owner, key.name) else {
        return Reply::not_found();
    };
    let full_name = format!("{}/{}", repo.owner, repo.name);
    let Some(p) = repo.pull_mut(number) else {
        return Reply::not_found();
    };
    if add {
        if req
            .reviewers
            .iter()
            .any(|r| r.eq_ignore_ascii_case(&p.user))
        {
            return custom_error(
                "PullRequest",
                "Review cannot be requested from pull request author.",
            );
        }
        if req
            .team_reviewers
            .iter()
            .any(|t| !known_teams.iter().any(|k| k.eq_ignore_ascii_case(t)))
        {
            return Reply::json(
                422,
                json!({
                    "message": format!("Reviews may only be requested from collaborators. One or more of the teams you specified is not a collaborator of the {full_name} repository."),
                    "documentation_url": "https://docs.github.com/rest/pulls/review-requests#request-reviewers-for-a-pull-request",
                    "status": "422",
                }),
            );
        }
    }
    for login in req.reviewers {
        let present = p
            .requested_reviewers
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&login));
        if add && !present {
            p.requested_reviewers.push(login);
        } else if !add {
            p.requested_reviewers
                .retain(|a| !a.eq_ignore_ascii_case(&login));
        }
    }
    for team in req.team_reviewers {
        let present = p
            .requested_teams
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&team));
        if add && !present {
            p.requested_teams.push(team);
        } else if !add {
            p.requested_teams.retain(|t| !t.eq_ignore_ascii_case(&team));
        }
    }
    p.updated_at = ctx.now;
    pull_reply(world, ctx, key, number, if add { 201 } else { 200 }, false)
}

#[derive(Deserialize)]
struct CommentBody {
    body: Option<String>,
}

/// The non-empty `body` of a comment request; `Err` is a ready reply.
fn comment_body(ctx: &Ctx<'_>) -> Result<String, Reply> {
    let req: CommentBody = ctx.json()?;
    req.body
        .filter(|b| !b.is_empty())
        .ok_or_else(|| missing_field("body"))
}

/// `GET /repos/{owner}/{repo}/issues/{n}/comments`, oldest first, on a pull
/// request or a plain issue.
pub fn list_comments(
    world: &World,
    ctx: &Ctx<'_>,
    key: RepoKey<'_>,
    number: u64,
    path: &str,
) -> Reply {
    let Some(repo) = world.repo(key.owner, key.name) else {
        return Reply::not_found();
    };
    let Some(comments) = repo.comments(number) else {
        return Reply::not_found();
    };
    let items = comments
        .iter()
        .map(|c| render::comment(ctx.urls, repo, number, c))
        .collect();
    paginate(ctx, path, items)
}

/// `POST /repos/{owner}/{repo}/issues/{n}/comments` on a pull request or a
/// plain issue, authored by the bot.
pub fn create_comment(world: &mut World, ctx: &Ctx<'_>, key: RepoKey<'_>, number: u64) -> Reply {
    let body = match comment_body(ctx) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let id = world.next_id();
    let Some(repo) = world.repo_mut(key.owner, key.name) else {
        return Reply::not_found();
    };
    let c = CommentRec {
        id,
        user: BOT_LOGIN.to_string(),
        body,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    if !repo.push_comment(number, c.clone(), ctx.now) {
        return Reply::not_found();
    }
    Reply::json(201, render::comment(ctx.urls, repo, number, &c))
}

/// `PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}`: a new body.
pub fn update_comment(world: &mut World, ctx: &Ctx<'_>, key: RepoKey<'_>, id: u64) -> Reply {
    let body = match comment_body(ctx) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let Some(repo) = world.repo_mut(key.owner, key.name) else {
        return Reply::not_found();
    };
    let Some((number, c)) = repo.comment_mut(id) else {
        return Reply::not_found();
    };
    c.body = body;
    c.updated_at = ctx.now;
    let c = c.clone();
    Reply::ok(render::comment(ctx.urls, repo, number, &c))
}

/// `DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}`: 204, or
/// 404 when there is no such comment (any more).
pub fn delete_comment(world: &mut World, key: RepoKey<'_>, id: u64) -> Reply {
    let removed = world
        .repo_mut(key.owner, key.name)
        .is_some_and(|repo| repo.remove_comment(id));
    if removed {
        Reply::empty(204)
    } else {
        Reply::not_found()
    }
}
