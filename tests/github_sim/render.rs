//! JSON renderings of the simulator's objects, shaped like GitHub's REST
//! API v3 responses.
//!
//! Design: pure functions from `super::state` records (plus a few values
//! computed from git by the caller) to `serde_json::Value`. Every field
//! that octocrab's models require is present with a realistic value: ids,
//! `node_id`s, absolute `url`/`html_url`s rooted at the simulator's own
//! address, RFC 3339 timestamps and complete user objects. List endpoints
//! use the "simple" pull request shape, which (as on GitHub) lacks
//! `merged`, `mergeable` and the change counters. A pull request's issue
//! view carries a `pull_request` key; a plain issue's does not.

use serde_json::{Value, json};

use super::BOT_LOGIN;
use super::git::ChangeStats;
use super::state::{CheckRunRec, CommentRec, Issue, LabelDef, Pull, Repo, ReviewRec, StatusRec};

/// Where the simulator is reachable: `api` includes the route prefix
/// (e.g. `http://127.0.0.1:4000/api/v3`), `web` is the "html" root.
#[derive(Debug, Clone, Default)]
pub struct Urls {
    pub api: String,
    pub web: String,
}

impl Urls {
    pub fn repo_api(&self, owner: &str, name: &str) -> String {
        format!("{}/repos/{owner}/{name}", self.api)
    }

    pub fn repo_web(&self, owner: &str, name: &str) -> String {
        format!("{}/{owner}/{name}", self.web)
    }
}

/// RFC 3339 UTC timestamp (second precision) for unix milliseconds.
pub fn timestamp(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn optional_time(ms: Option<i64>) -> Value {
    ms.map_or(Value::Null, |ms| Value::String(timestamp(ms)))
}

/// Stable FNV-1a hash, used to derive ids for logins and teams.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The numeric id of a user login (the bot is always 1).
pub fn user_id(login: &str) -> u64 {
    if login == BOT_LOGIN {
        1
    } else {
        10_000 + fnv(&login.to_ascii_lowercase()) % 90_000_000
    }
}

fn account(u: &Urls, login: &str, kind: &str) -> Value {
    let id = user_id(login);
    let api = format!("{}/users/{login}", u.api);
    json!({
        "login": login,
        "id": id,
        "node_id": format!("U_{id}"),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "gravatar_id": "",
        "url": api,
        "html_url": format!("{}/{login}", u.web),
        "followers_url": format!("{api}/followers"),
        "following_url": format!("{api}/following{{/other_user}}"),
        "gists_url": format!("{api}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/subscriptions"),
        "organizations_url": format!("{api}/orgs"),
        "repos_url": format!("{api}/repos"),
        "events_url": format!("{api}/events{{/privacy}}"),
        "received_events_url": format!("{api}/received_events"),
        "type": kind,
        "user_view_type": "public",
        "site_admin": false,
    })
}

/// A simple-user object.
pub fn user(u: &Urls, login: &str) -> Value {
    account(u, login, "User")
}

/// The authenticated user (`GET /user`): simple user plus profile fields.
pub fn authenticated_user(u: &Urls, now: i64) -> Value {
    let mut v = user(u, BOT_LOGIN);
    let extra = json!({
        "name": "fleetmod bot",
        "company": null,
        "blog": "",
        "location": null,
        "email": null,
        "hireable": null,
        "bio": "Opens pull requests across the fleet.",
        "twitter_username": null,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": timestamp(0),
        "updated_at": timestamp(now),
    });
    merge_into(&mut v, extra);
    v
}

fn merge_into(target: &mut Value, extra: Value) {
    if let (Value::Object(t), Value::Object(e)) = (target, extra) {
        t.extend(e);
    }
}

/// The `*_url` fields of a repository object, as suffixes of its API URL
/// (with GitHub's URI-template placeholders).
const REPO_URL_SUFFIXES: &[(&str, &str)] = &[
    ("forks_url", "/forks"),
    ("keys_url", "/keys{/key_id}"),
    ("collaborators_url", "/collaborators{/collaborator}"),
    ("teams_url", "/teams"),
    ("hooks_url", "/hooks"),
    ("issue_events_url", "/issues/events{/number}"),
    ("events_url", "/events"),
    ("assignees_url", "/assignees{/user}"),
    ("branches_url", "/branches{/branch}"),
    ("tags_url", "/tags"),
    ("blobs_url", "/git/blobs{/sha}"),
    ("git_tags_url", "/git/tags{/sha}"),
    ("git_refs_url", "/git/refs{/sha}"),
    ("trees_url", "/git/trees{/sha}"),
    ("statuses_url", "/statuses/{sha}"),
    ("languages_url", "/languages"),
    ("stargazers_url", "/stargazers"),
    ("contributors_url", "/contributors"),
    ("subscribers_url", "/subscribers"),
    ("subscription_url", "/subscription"),
    ("commits_url", "/commits{/sha}"),
    ("git_commits_url", "/git/commits{/sha}"),
    ("comments_url", "/comments{/number}"),
    ("issue_comment_url", "/issues/comments{/number}"),
    ("contents_url", "/contents/{+path}"),
    ("compare_url", "/compare/{base}...{head}"),
    ("merges_url", "/merges"),
    ("archive_url", "/{archive_format}{/ref}"),
    ("downloads_url", "/downloads"),
    ("issues_url", "/issues{/number}"),
    ("pulls_url", "/pulls{/number}"),
    ("milestones_url", "/milestones{/number}"),
    (
        "notifications_url",
        "/notifications{?since,all,participating}",
    ),
    ("labels_url", "/labels{/name}"),
    ("releases_url", "/releases{/id}"),
    ("deployments_url", "/deployments"),
];

/// A full repository object.
pub fn repo(u: &Urls, r: &Repo, default_branch: &str, now: i64) -> Value {
    let (owner, name) = (r.owner.as_str(), r.name.as_str());
    let api = u.repo_api(owner, name);
    let web = u.repo_web(owner, name);
    let host = u.web.split("://").nth(1).unwrap_or("localhost");
    // GitHub counts open pull requests among the open issues.
    let open_issues =
        r.pulls.iter().filter(|p| p.open).count() + r.issues.iter().filter(|i| i.open).count();
    let clone_url = format!("file://{}", r.path.display());
    let mut v = json!({
        "id": r.id,
        "node_id": format!("R_{}", r.id),
        "name": name,
        "full_name": format!("{owner}/{name}"),
        "private": false,
        "owner": account(u, owner, "Organization"),
        "html_url": web,
        "description": format!("Simulated repository {owner}/{name}"),
        "fork": false,
        "url": api,
    });
    if let Value::Object(map) = &mut v {
        for (key, suffix) in REPO_URL_SUFFIXES {
            map.insert(key.to_string(), Value::String(format!("{api}{suffix}")));
        }
    }
    let rest = json!({
        "created_at": timestamp(r.created_at),
        "updated_at": timestamp(now),
        "pushed_at": timestamp(now),
        "git_url": format!("git://{host}/{owner}/{name}.git"),
        "ssh_url": format!("git@{host}:{owner}/{name}.git"),
        "clone_url": clone_url,
        "svn_url": web,
        "homepage": null,
        "size": 1,
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": null,
        "has_issues": true,
        "has_projects": true,
        "has_downloads": true,
        "has_wiki": true,
        "has_pages": false,
        "has_discussions": false,
        "forks_count": 0,
        "mirror_url": null,
        "archived": r.archived,
        "disabled": false,
        "open_issues_count": open_issues,
        "license": null,
        "allow_forking": true,
        "is_template": false,
        "web_commit_signoff_required": false,
        "topics": [],
        "visibility": "public",
    });
    merge_into(&mut v, rest);
    // `json!` recurses per token: objects this large must come in pieces.
    let settings = json!({
        "forks": 0,
        "open_issues": open_issues,
        "watchers": 0,
        "default_branch": default_branch,
        "permissions": {"admin": false, "maintain": false, "push": true, "triage": true, "pull": true},
        "allow_squash_merge": true,
        "allow_merge_commit": true,
        "allow_rebase_merge": true,
        "allow_auto_merge": false,
        "delete_branch_on_merge": false,
        "allow_update_branch": false,
        "use_squash_pr_title_as_default": false,
        "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
        "squash_merge_commit_message": "COMMIT_MESSAGES",
        "merge_commit_title": "MERGE_MESSAGE",
        "merge_commit_message": "PR_TITLE",
        "network_count": 0,
        "subscribers_count": 0,
    });
    merge_into(&mut v, settings);
    v
}

/// A label object.
pub fn label(u: &Urls, r: &Repo, l: &LabelDef) -> Value {
    json!({
        "id": l.id,
        "node_id": format!("LA_{}", l.id),
        "url": format!("{}/labels/{}", u.repo_api(&r.owner, &r.name), encode_segment(&l.name)),
        "name": l.name,
        "color": l.color,
        "default": false,
        "description": l.description,
    })
}

/// The label objects of a pull request, in the order they were added.
pub fn pull_labels(u: &Urls, r: &Repo, p: &Pull) -> Value {
    Value::Array(
        p.labels
            .iter()
            .filter_map(|name| r.label(name))
            .map(|l| label(u, r, l))
            .collect(),
    )
}

/// A requested team object.
pub fn team(u: &Urls, org: &str, slug: &str) -> Value {
    let id = 1 + fnv(&format!("{org}/{slug}")) % 9_000_000;
    let api = format!("{}/orgs/{org}/teams/{slug}", u.api);
    json!({
        "id": id,
        "node_id": format!("T_{id}"),
        "url": api,
        "html_url": format!("{}/orgs/{org}/teams/{slug}", u.web),
        "name": slug,
        "slug": slug,
        "description": null,
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": "pull",
        "members_url": format!("{api}/members{{/member}}"),
        "repositories_url": format!("{api}/repos"),
        "parent": null,
    })
}

/// Git-derived facts about a pull request that only the single-pull
/// endpoints report.
#[derive(Debug, Clone)]
pub struct PullDetail {
    pub mergeable: Option<bool>,
    pub mergeable_state: String,
    pub stats: ChangeStats,
}

fn users(u: &Urls, logins: &[String]) -> Value {
    Value::Array(logins.iter().map(|l| user(u, l)).collect())
}

/// A pull request: the simple shape when `detail` is `None`, else the full one.
pub fn pull(u: &Urls, r: &Repo, p: &Pull, repo_json: &Value, detail: Option<&PullDetail>) -> Value {
    let api = u.repo_api(&r.owner, &r.name);
    let web = u.repo_web(&r.owner, &r.name);
    let n = p.number;
    let url = format!("{api}/pulls/{n}");
    let html = format!("{web}/pull/{n}");
    let issue = format!("{api}/issues/{n}");
    let owner = account(u, &r.owner, "Organization");
    let state = if p.open { "open" } else { "closed" };
    let branch = |name: &str, sha: &str| {
        json!({
            "label": format!("{}:{name}", r.owner),
            "ref": name,
            "sha": sha,
            "user": owner,
            "repo": repo_json,
        })
    };
    let (head, base) = (
        branch(&p.head_ref, &p.head_sha),
        branch(&p.base_ref, &p.base_sha),
    );
    let links = json!({
        "self": {"href": url},
        "html": {"href": html},
        "issue": {"href": issue},
        "comments": {"href": format!("{issue}/comments")},
        "review_comments": {"href": format!("{url}/comments")},
        "review_comment": {"href": format!("{api}/pulls/comments{{/number}}")},
        "commits": {"href": format!("{url}/commits")},
        "statuses": {"href": format!("{api}/statuses/{}", p.head_sha)},
    });
    let mut v = json!({
        "url": url,
        "id": p.id,
        "node_id": super::state::pull_node_id(r.id, n),
        "html_url": html,
        "diff_url": format!("{html}.diff"),
        "patch_url": format!("{html}.patch"),
        "issue_url": issue,
        "commits_url": format!("{url}/commits"),
        "review_comments_url": format!("{url}/comments"),
        "review_comment_url": format!("{api}/pulls/comments{{/number}}"),
        "comments_url": format!("{issue}/comments"),
        "statuses_url": format!("{api}/statuses/{}", p.head_sha),
        "number": n,
        "state": state,
        "locked": false,
        "title": p.title,
        "user": user(u, &p.user),
        "body": p.body,
        "labels": pull_labels(u, r, p),
        "milestone": null,
        "active_lock_reason": null,
        "created_at": timestamp(p.created_at),
        "updated_at": timestamp(p.updated_at),
        "closed_at": optional_time(p.closed_at),
        "merged_at": optional_time(p.merged_at),
        "merge_commit_sha": p.merge_commit_sha,
        "assignee": p.assignees.first().map(|a| user(u, a)),
        "assignees": users(u, &p.assignees),
        "requested_reviewers": users(u, &p.requested_reviewers),
        "requested_teams": p.requested_teams.iter().map(|t| team(u, &r.owner, t)).collect::<Vec<_>>(),
        "head": head,
        "base": base,
        "_links": links,
        "author_association": "MEMBER",
        "auto_merge": null,
        "draft": p.draft,
    });
    if let Some(d) = detail {
        let extra = json!({
            "merged": p.merged(),
            "mergeable": d.mergeable,
            "rebaseable": d.mergeable,
            "mergeable_state": d.mergeable_state,
            "merged_by": p.merged_by.as_deref().map(|m| user(u, m)),
            "comments": p.comments.len(),
            "review_comments": 0,
            "maintainer_can_modify": p.maintainer_can_modify,
            "commits": d.stats.commits,
            "additions": d.stats.additions,
            "deletions": d.stats.deletions,
            "changed_files": d.stats.changed_files,
        });
        merge_into(&mut v, extra);
    }
    v
}

/// The issue view of a pull request.
pub fn issue(u: &Urls, r: &Repo, p: &Pull) -> Value {
    let api = u.repo_api(&r.owner, &r.name);
    let web = u.repo_web(&r.owner, &r.name);
    let n = p.number;
    let url = format!("{api}/issues/{n}");
    let html = format!("{web}/pull/{n}");
    json!({
        "id": p.id,
        "node_id": super::state::pull_node_id(r.id, n),
        "url": url,
        "repository_url": api,
        "labels_url": format!("{url}/labels{{/name}}"),
        "comments_url": format!("{url}/comments"),
        "events_url": format!("{url}/events"),
        "html_url": html,
        "number": n,
        "state": if p.open { "open" } else { "closed" },
        "state_reason": if p.open { Value::Null } else { json!("completed") },
        "title": p.title,
        "body": p.body,
        "user": user(u, &p.user),
        "labels": pull_labels(u, r, p),
        "assignee": p.assignees.first().map(|a| user(u, a)),
        "assignees": users(u, &p.assignees),
        "milestone": null,
        "locked": false,
        "active_lock_reason": null,
        "comments": p.comments.len(),
        "pull_request": {
            "url": format!("{api}/pulls/{n}"),
            "html_url": html,
            "diff_url": format!("{html}.diff"),
            "patch_url": format!("{html}.patch"),
            "merged_at": optional_time(p.merged_at),
        },
        "closed_at": optional_time(p.closed_at),
        "closed_by": null,
        "created_at": timestamp(p.created_at),
        "updated_at": timestamp(p.updated_at),
        "draft": p.draft,
        "author_association": "MEMBER",
        "performed_via_github_app": null,
    })
}

/// A plain issue.
pub fn plain_issue(u: &Urls, r: &Repo, i: &Issue) -> Value {
    let api = u.repo_api(&r.owner, &r.name);
    let n = i.number;
    let url = format!("{api}/issues/{n}");
    json!({
        "id": i.id,
        "node_id": format!("I_{}", i.id),
        "url": url,
        "repository_url": api,
        "labels_url": format!("{url}/labels{{/name}}"),
        "comments_url": format!("{url}/comments"),
        "events_url": format!("{url}/events"),
        "html_url": format!("{}/issues/{n}", u.repo_web(&r.owner, &r.name)),
        "number": n,
        "state": if i.open { "open" } else { "closed" },
        "state_reason": if i.open { Value::Null } else { json!("completed") },
        "title": i.title,
        "body": i.body,
        "user": user(u, &i.user),
        "labels": [],
        "assignee": null,
        "assignees": [],
        "milestone": null,
        "locked": false,
        "active_lock_reason": null,
        "comments": i.comments.len(),
        "closed_at": optional_time(i.closed_at),
        "closed_by": null,
        "created_at": timestamp(i.created_at),
        "updated_at": timestamp(i.updated_at),
        "author_association": if i.user == BOT_LOGIN { "MEMBER" } else { "CONTRIBUTOR" },
        "performed_via_github_app": null,
    })
}

/// An issue comment on pull request or issue `number`.
pub fn comment(u: &Urls, r: &Repo, number: u64, c: &CommentRec) -> Value {
    let api = u.repo_api(&r.owner, &r.name);
    let kind = if r.pull(number).is_some() {
        "pull"
    } else {
        "issues"
    };
    json!({
        "id": c.id,
        "node_id": format!("IC_{}", c.id),
        "url": format!("{api}/issues/comments/{}", c.id),
        "html_url": format!("{}/{kind}/{number}#issuecomment-{}", u.repo_web(&r.owner, &r.name), c.id),
        "issue_url": format!("{api}/issues/{number}"),
        "body": c.body,
        "user": user(u, &c.user),
        "created_at": timestamp(c.created_at),
        "updated_at": timestamp(c.updated_at),
        "author_association": if c.user == BOT_LOGIN { "MEMBER" } else { "CONTRIBUTOR" },
        "performed_via_github_app": null,
    })
}

/// A pull request review.
pub fn review(u: &Urls, r: &Repo, number: u64, rv: &ReviewRec) -> Value {
    let html = format!(
        "{}/pull/{number}#pullrequestreview-{}",
        u.repo_web(&r.owner, &r.name),
        rv.id
    );
    let pull_url = format!("{}/pulls/{number}", u.repo_api(&r.owner, &r.name));
    json!({
        "id": rv.id,
        "node_id": format!("PRR_{}", rv.id),
        "user": user(u, &rv.user),
        "body": rv.body,
        "state": rv.state,
        "html_url": html,
        "pull_request_url": pull_url,
        "author_association": "MEMBER",
        "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
        "submitted_at": timestamp(rv.submitted_at),
        "commit_id": rv.commit_id,
    })
}

/// A check run.
pub fn check_run(u: &Urls, r: &Repo, c: &CheckRunRec) -> Value {
    let api = u.repo_api(&r.owner, &r.name);
    let html = format!("{}/runs/{}", u.repo_web(&r.owner, &r.name), c.id);
    let status = if c.conclusion.is_some() {
        "completed"
    } else {
        "in_progress"
    };
    let completed = c
        .conclusion
        .as_ref()
        .map(|_| timestamp(c.started_at + 1000));
    json!({
        "id": c.id,
        "head_sha": c.sha,
        "node_id": format!("CR_{}", c.id),
        "external_id": "",
        "url": format!("{api}/check-runs/{}", c.id),
        "html_url": html,
        "details_url": html,
        "status": status,
        "conclusion": c.conclusion,
        "started_at": timestamp(c.started_at),
        "completed_at": completed,
        "output": {
            "title": null,
            "summary": null,
            "text": null,
            "annotations_count": 0,
            "annotations_url": format!("{api}/check-runs/{}/annotations", c.id),
        },
        "name": c.name,
        "check_suite": {"id": c.id + 1_000_000},
        "pull_requests": [],
    })
}

/// A commit status.
pub fn status(u: &Urls, r: &Repo, s: &StatusRec) -> Value {
    json!({
        "url": format!("{}/statuses/{}", u.repo_api(&r.owner, &r.name), s.sha),
        "avatar_url": "https://avatars.githubusercontent.com/u/9919?v=4",
        "id": s.id,
        "node_id": format!("SC_{}", s.id),
        "state": s.state,
        "description": format!("{} is {}", s.context, s.state),
        "target_url": format!("{}/statuses/{}", u.repo_web(&r.owner, &r.name), s.id),
        "context": s.context,
        "created_at": timestamp(s.created_at),
        "updated_at": timestamp(s.created_at),
        "creator": user(u, "ci-bot"),
    })
}

/// A git reference object (`GET /git/ref/...`).
pub fn git_ref(u: &Urls, r: &Repo, full_name: &str, sha: &str) -> Value {
    let api = u.repo_api(&r.owner, &r.name);
    json!({
        "ref": full_name,
        "node_id": format!("REF_{}_{}", r.id, encode_segment(full_name)),
        "url": format!("{api}/git/{full_name}"),
        "object": {"sha": sha, "type": "commit", "url": format!("{api}/git/commits/{sha}")},
    })
}

/// A REST error body.
pub fn error(message: &str) -> Value {
    json!({"message": message, "documentation_url": "https://docs.github.com/rest"})
}

/// A 422 body with an `errors` array.
pub fn validation(message: &str, errors: Value) -> Value {
    json!({
        "message": message,
        "errors": errors,
        "documentation_url": "https://docs.github.com/rest",
        "status": "422",
    })
}

/// Percent-encodes a value for use as one URL path segment.
pub fn encode_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (and leaves everything else as is).
pub fn decode(text: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        char::from(b).to_digit(16).map(|d| d as u8)
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(hi * 16 + lo);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
