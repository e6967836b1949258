//! GitHub.com and GitHub Enterprise as a [`Forge`], through octocrab.
//!
//! Bots of this kind fail in three ways, and this module is built against
//! each:
//! - **Rate limits.** Every request goes through one [`Governor`] per
//!   credential, whose budget lives in the state store (see
//!   [`client`]).
//! - **Duplicates.** A pull request is found by `head=owner:branch` before
//!   one is created; a 422 "already exists" adopts the existing one, and a
//!   create whose outcome is unknown (5xx, timeout) looks again before it
//!   retries. Comments are checked the same way, and so is a migration's
//!   tracking issue, which is found by a hidden marker (see [`tracking`]).
//!   Labels, assignees and review requests are additive and idempotent, so
//!   they are simply retried.
//! - **Tokens.** The token is read from the environment, handed to octocrab
//!   (which marks the header sensitive and only sends it to the API root)
//!   and to git through a credential callback. It is never part of a URL,
//!   an error, a log line or anything stored.
//!
//! Every endpoint used is listed in [`ENDPOINTS`].

mod client;
mod convert;
mod governor;
mod tracking;

use std::sync::Arc;

use octocrab::Octocrab;
use serde_json::{Value, json};

use self::client::{Client, Method, Reply, Sent, failure};
use self::governor::Governor;
pub use self::tracking::{PublishedIssue, tracking_marker};
use super::{Forge, ForgeError, NewPullRequest, PullRequest, PullRequestStatus, RepositoryInfo};
use crate::catalog::RepoName;
use crate::git::Credentials;
use crate::spec::{GitHubAuth, GitHubSettings, MergeMethod};
use crate::store::RateLedger;
use crate::store::time::Clock;

/// Every GitHub endpoint fleetmod calls, as `METHOD path`.
pub const ENDPOINTS: &[&str] = &[
    "GET /user",
    "GET /repos/{owner}/{repo}",
    "GET /repos/{owner}/{repo}/pulls?state=all&head={owner}:{branch}",
    "GET /repos/{owner}/{repo}/pulls/{number}",
    "POST /repos/{owner}/{repo}/pulls",
    "PATCH /repos/{owner}/{repo}/pulls/{number}",
    "PUT /repos/{owner}/{repo}/pulls/{number}/merge",
    "POST /repos/{owner}/{repo}/pulls/{number}/requested_reviewers",
    "GET /repos/{owner}/{repo}/pulls/{number}/reviews",
    "POST /repos/{owner}/{repo}/issues/{number}/labels",
    "POST /repos/{owner}/{repo}/issues/{number}/assignees",
    "GET /repos/{owner}/{repo}/issues/{number}/comments",
    "POST /repos/{owner}/{repo}/issues/{number}/comments",
    "GET /repos/{owner}/{repo}/issues?state=all",
    "POST /repos/{owner}/{repo}/issues",
    "PATCH /repos/{owner}/{repo}/issues/{number}",
    "PATCH /repos/{owner}/{repo}/issues/comments/{id}",
    "DELETE /repos/{owner}/{repo}/issues/comments/{id}",
    "GET /repos/{owner}/{repo}/commits/{sha}/check-runs",
    "GET /repos/{owner}/{repo}/commits/{sha}/status",
    "POST /graphql (markPullRequestReadyForReview)",
];

/// What `forge check` learns about the credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenInfo {
    pub login: String,
    /// The classic token's scopes (`x-oauth-scopes`); `None` for
    /// fine-grained tokens, which do not report them.
    pub scopes: Option<Vec<String>>,
}

/// What `forge check` learns about one repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepositoryAccess {
    pub info: RepositoryInfo,
    /// Whether the credential may push.
    pub push: bool,
}

/// A GitHub forge.
pub struct GitHubForge {
    client: Client,
    /// GraphQL's endpoint is beside the REST root (`/api/graphql` on
    /// GitHub Enterprise), so it has a client of its own.
    graphql: Octocrab,
    host: String,
    token: TokenInfo,
    credentials: Credentials,
}

fn failed(action: impl Into<String>, message: impl Into<String>) -> ForgeError {
    ForgeError::Failed {
        action: action.into(),
        message: message.into(),
    }
}

impl GitHubForge {
    /// Connects with the spec's settings: reads the token, checks it with
    /// `GET /user`, and paces requests through a governor whose ledger is
    /// the state store at `ledger`.
    pub fn connect(
        settings: &GitHubSettings,
        ledger: RateLedger,
        clock: Arc<dyn Clock>,
    ) -> Result<GitHubForge, ForgeError> {
        let token = match &settings.auth {
            GitHubAuth::Token { env } => std::env::var(env)
                .ok()
                .filter(|token| !token.trim().is_empty())
                .ok_or_else(|| {
                    failed(
                        "authenticate to GitHub",
                        format!("the environment variable {env} (forge.token_env) is not set"),
                    )
                })?,
            GitHubAuth::App { .. } => {
                return Err(failed(
                    "authenticate to GitHub",
                    "GitHub App authentication (app_id) is not supported by this build yet; use token_env",
                ));
            }
        };
        Self::with_token(settings, token.trim(), ledger, clock)
    }

    /// Connects with a token.
    pub fn with_token(
        settings: &GitHubSettings,
        token: &str,
        ledger: RateLedger,
        clock: Arc<dyn Clock>,
    ) -> Result<GitHubForge, ForgeError> {
        let api_url = settings.api_url.trim_end_matches('/');
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("fleetmod-github")
            .enable_all()
            .build()
            .map_err(|error| failed("start the GitHub client", error.to_string()))?;
        let build = |base: &str| {
            let _entered = runtime.enter();
            Octocrab::builder()
                .base_uri(base)
                .and_then(|builder| builder.personal_token(token.to_owned()).build())
                .map_err(|error| failed("start the GitHub client", format!("{base}: {error}")))
        };
        let octocrab = build(api_url)?;
        let graphql = build(&graphql_root(api_url))?;
        let host = host_of(api_url);
        // `GET /user` names the credential, so it goes out unnamed, and
        // its rate-limit headers are recorded once the name is known.
        let governor = Governor::unnamed(ledger, settings.requests.clone(), clock);
        let mut client = Client::new(octocrab, runtime, governor, api_url);
        let reply = client.reply(Method::Get, "/user", None, true)?;
        if reply.status == 401 {
            return Err(failed(
                "authenticate to GitHub",
                format!("{api_url} refused the token (401 {})", reply.message()),
            ));
        }
        if !reply.is_success() {
            return Err(failure("GET /user", &reply));
        }
        let user: Value = reply.json("read the authenticated user")?;
        let login = user["login"].as_str().unwrap_or_default().to_owned();
        let scopes = reply.header("x-oauth-scopes").map(|scopes| {
            scopes
                .split(',')
                .map(|scope| scope.trim().to_owned())
                .filter(|scope| !scope.is_empty())
                .collect()
        });
        client.governor.name(format!("{host}:{login}"));
        client.observe(&reply)?;
        Ok(GitHubForge {
            client,
            graphql,
            host,
            credentials: Credentials::new("x-access-token", token),
            token: TokenInfo { login, scopes },
        })
    }

    /// Who the token belongs to and its scopes.
    pub fn token_info(&self) -> &TokenInfo {
        &self.token
    }

    /// The primary rate limit as GitHub last reported it.
    pub fn primary_limit(&self) -> Option<crate::store::rate::PrimaryLimit> {
        self.client.governor.primary()
    }

    /// A repository and whether the token may push to it.
    pub fn access(&self, repo: &RepoName) -> Result<RepositoryAccess, ForgeError> {
        let value = self.repository_value(repo)?;
        Ok(RepositoryAccess {
            push: value["permissions"]["push"].as_bool().unwrap_or(false),
            info: convert::repository_info(repo, &value)?,
        })
    }

    fn repository_value(&self, repo: &RepoName) -> Result<Value, ForgeError> {
        let route = format!("/repos/{repo}");
        let reply = self.client.reply(Method::Get, &route, None, true)?;
        match reply.status {
            200 => reply.json(&format!("read {repo}")),
            404 | 403 => Err(ForgeError::NoRepository { repo: repo.clone() }),
            _ => Err(failure(&format!("read {repo}"), &reply)),
        }
    }

    fn pulls_route(repo: &RepoName, number: u64) -> String {
        format!("/repos/{repo}/pulls/{number}")
    }

    fn pull_value(&self, repo: &RepoName, number: u64) -> Result<Value, ForgeError> {
        let reply = self
            .client
            .reply(Method::Get, &Self::pulls_route(repo, number), None, true)?;
        match reply.status {
            200 => reply.json(&format!("read {repo}#{number}")),
            404 => Err(ForgeError::NoPullRequest {
                repo: repo.clone(),
                number,
            }),
            _ => Err(failure(&format!("read {repo}#{number}"), &reply)),
        }
    }

    fn comments(&self, repo: &RepoName, number: u64) -> Result<Vec<super::Comment>, ForgeError> {
        let comments: Vec<octocrab::models::issues::Comment> = self.client.get_all(&format!(
            "/repos/{repo}/issues/{number}/comments?per_page=100"
        ))?;
        Ok(comments.into_iter().map(convert::comment).collect())
    }

    fn with_comments(&self, repo: &RepoName, value: &Value) -> Result<PullRequest, ForgeError> {
        let mut pull = convert::pull_request(repo, value)?;
        pull.comments = self.comments(repo, pull.number)?;
        Ok(pull)
    }

    /// The pull requests with head `branch`, newest first.
    fn pulls_with_head(&self, repo: &RepoName, branch: &str) -> Result<Vec<Value>, ForgeError> {
        let head = format!("{}:{branch}", repo.owner);
        let route = format!(
            "/repos/{repo}/pulls?state=all&head={}&per_page=100",
            encode(&head)
        );
        let mut pulls: Vec<Value> = self.client.get_all(&route)?;
        // GitHub filters by head already; a forge that ignores the filter
        // must not make fleetmod adopt someone else's pull request.
        pulls.retain(|pull| pull["head"]["ref"].as_str() == Some(branch));
        pulls.sort_by_key(|pull| std::cmp::Reverse(pull["number"].as_u64().unwrap_or(0)));
        Ok(pulls)
    }

    /// Expects a 2xx answer to an idempotent write.
    fn write(
        &self,
        method: Method,
        route: &str,
        body: &Value,
        action: &str,
    ) -> Result<Reply, ForgeError> {
        let reply = self.client.reply(method, route, Some(body), true)?;
        if reply.is_success() {
            Ok(reply)
        } else {
            Err(failure(action, &reply))
        }
    }

    /// Adds the labels, assignees and review requests the pull request
    /// (GitHub's JSON) lacks.
    fn complete(
        &self,
        repo: &RepoName,
        value: &Value,
        labels: &[String],
        assignees: &[String],
        reviewers: &[String],
    ) -> Result<(), ForgeError> {
        let pull = convert::pull_request(repo, value)?;
        let number = pull.number;
        let missing: Vec<&String> = labels
            .iter()
            .filter(|label| !pull.labels.contains(label))
            .collect();
        if !missing.is_empty() {
            self.write(
                Method::Post,
                &format!("/repos/{repo}/issues/{number}/labels"),
                &json!({ "labels": missing }),
                &format!("label {repo}#{number}"),
            )?;
        }
        let assigned = convert::logins(&value["assignees"]);
        let assignees: Vec<&String> = assignees
            .iter()
            .filter(|login| !assigned.contains(login))
            .collect();
        if !assignees.is_empty() {
            self.write(
                Method::Post,
                &format!("/repos/{repo}/issues/{number}/assignees"),
                &json!({ "assignees": assignees }),
                &format!("assign {repo}#{number}"),
            )?;
        }
        let (users, teams) = split_reviewers(reviewers);
        let users: Vec<&String> = users
            .into_iter()
            .filter(|user| !pull.reviewers.contains(user))
            .collect();
        let teams: Vec<String> = teams
            .into_iter()
            .filter(|(org, slug)| !pull.reviewers.contains(&format!("{org}/{slug}")))
            .map(|(_, slug)| slug)
            .collect();
        if !users.is_empty() || !teams.is_empty() {
            let route = format!("/repos/{repo}/pulls/{number}/requested_reviewers");
            let body = json!({ "reviewers": users, "team_reviewers": teams });
            let reply = self.client.reply(Method::Post, &route, Some(&body), true)?;
            // A reviewer GitHub will not take (not a collaborator, the
            // author) must not stop the pull request; the rest stands.
            if reply.status == 422 {
                tracing::warn!(
                    "{repo}#{number}: GitHub refused the review request: {}",
                    reply.message()
                );
            } else if !reply.is_success() {
                return Err(failure(
                    &format!("request reviews on {repo}#{number}"),
                    &reply,
                ));
            }
        }
        Ok(())
    }
}

impl Forge for GitHubForge {
    fn host(&self) -> &str {
        &self.host
    }

    fn repository(&self, repo: &RepoName) -> Result<RepositoryInfo, ForgeError> {
        convert::repository_info(repo, &self.repository_value(repo)?)
    }

    fn find_pull_request(
        &self,
        repo: &RepoName,
        head: &str,
    ) -> Result<Option<PullRequest>, ForgeError> {
        let pulls = self.pulls_with_head(repo, head)?;
        let chosen = pulls
            .iter()
            .find(|pull| pull["state"].as_str() == Some("open"))
            .or(pulls.first());
        let Some(chosen) = chosen else {
            return Ok(None);
        };
        // The list leaves out `merged`; one pull request has it all.
        let number = chosen["number"].as_u64().unwrap_or_default();
        let value = self.pull_value(repo, number)?;
        self.with_comments(repo, &value).map(Some)
    }

    fn pull_request(&self, repo: &RepoName, number: u64) -> Result<PullRequest, ForgeError> {
        let value = self.pull_value(repo, number)?;
        self.with_comments(repo, &value)
    }

    fn create_pull_request(
        &self,
        repo: &RepoName,
        request: &NewPullRequest<'_>,
    ) -> Result<PullRequest, ForgeError> {
        let action = format!("open a pull request on {repo}");
        let route = format!("/repos/{repo}/pulls");
        let body = json!({
            "title": request.title,
            "head": request.head,
            "base": request.base,
            "body": request.body,
            "draft": request.draft,
            "maintainer_can_modify": true,
        });
        let adopt = |forge: &GitHubForge| -> Result<Option<Value>, ForgeError> {
            let pulls = forge.pulls_with_head(repo, request.head)?;
            Ok(pulls
                .into_iter()
                .find(|pull| pull["state"].as_str() == Some("open")))
        };
        let mut unknown = Vec::new();
        let mut created = None;
        for _ in 0..4 {
            match self.client.send(Method::Post, &route, Some(&body), false)? {
                Sent::Reply(reply) if reply.status == 201 => {
                    created = Some(reply.json::<Value>(&action)?);
                    break;
                }
                Sent::Reply(reply)
                    if reply.status == 422 && reply.message().contains("already exists") =>
                {
                    match adopt(self)? {
                        Some(existing) => {
                            created = Some(existing);
                            break;
                        }
                        None => return Err(failure(&action, &reply)),
                    }
                }
                Sent::Reply(reply) => return Err(failure(&action, &reply)),
                Sent::Unknown(message) => {
                    // It may have been created: look before trying again.
                    tracing::info!("{action}: outcome unknown ({message}); looking for it");
                    if let Some(existing) = adopt(self)? {
                        created = Some(existing);
                        break;
                    }
                    unknown.push(message);
                }
            }
        }
        let Some(listed) = created else {
            return Err(failed(action, unknown.join("; ")));
        };
        let number = listed["number"].as_u64().unwrap_or_default();
        self.complete(
            repo,
            &listed,
            request.labels,
            request.assignees,
            request.reviewers,
        )?;
        let value = self.pull_value(repo, number)?;
        self.with_comments(repo, &value)
    }

    fn update_pull_request(
        &self,
        repo: &RepoName,
        number: u64,
        title: &str,
        body: &str,
        labels: &[String],
    ) -> Result<(), ForgeError> {
        let reply = self.write(
            Method::Patch,
            &Self::pulls_route(repo, number),
            &json!({ "title": title, "body": body }),
            &format!("update {repo}#{number}"),
        )?;
        let value: Value = reply.json(&format!("update {repo}#{number}"))?;
        self.complete(repo, &value, labels, &[], &[])
    }

    fn comment(&self, repo: &RepoName, number: u64, body: &str) -> Result<(), ForgeError> {
        let action = format!("comment on {repo}#{number}");
        let route = format!("/repos/{repo}/issues/{number}/comments");
        let payload = json!({ "body": body });
        let mut unknown = Vec::new();
        for _ in 0..4 {
            match self
                .client
                .send(Method::Post, &route, Some(&payload), false)?
            {
                Sent::Reply(reply) if reply.is_success() => return Ok(()),
                Sent::Reply(reply) => return Err(failure(&action, &reply)),
                Sent::Unknown(message) => {
                    let login = &self.token.login;
                    let posted = self
                        .comments(repo, number)?
                        .iter()
                        .any(|comment| comment.body == body && &comment.author == login);
                    if posted {
                        return Ok(());
                    }
                    unknown.push(message);
                }
            }
        }
        Err(failed(action, unknown.join("; ")))
    }

    fn close_pull_request(&self, repo: &RepoName, number: u64) -> Result<(), ForgeError> {
        self.write(
            Method::Patch,
            &Self::pulls_route(repo, number),
            &json!({ "state": "closed" }),
            &format!("close {repo}#{number}"),
        )
        .map(drop)
    }

    fn mark_ready(&self, repo: &RepoName, number: u64) -> Result<(), ForgeError> {
        let value = self.pull_value(repo, number)?;
        if value["draft"].as_bool() != Some(true) {
            return Ok(());
        }
        let node = value["node_id"].as_str().unwrap_or_default();
        let query = json!({
            "query": "mutation($id: ID!) { markPullRequestReadyForReview(input: {pullRequestId: $id}) { pullRequest { isDraft number } } }",
            "variables": { "id": node },
        });
        let action = format!("mark {repo}#{number} ready for review");
        let _permit = self.client.governor.admit(true, "POST /graphql")?;
        let answer: Value = self
            .client
            .block_on(self.graphql.graphql(&query))
            .map_err(|error| failed(&action, error.to_string()))?;
        match answer["errors"].as_array() {
            Some(errors) if !errors.is_empty() => {
                Err(failed(action, errors[0]["message"].to_string()))
            }
            _ => Ok(()),
        }
    }

    /// `PUT /pulls/{number}/merge` with the `sha` guard: GitHub refuses
    /// (409) when the head moved.
    fn merge(
        &self,
        repo: &RepoName,
        number: u64,
        method: MergeMethod,
        expected_head: &str,
    ) -> Result<(), ForgeError> {
        self.write(
            Method::Put,
            &format!("/repos/{repo}/pulls/{number}/merge"),
            &json!({ "merge_method": method.as_str(), "sha": expected_head }),
            &format!("merge {repo}#{number}"),
        )
        .map(drop)
    }

    fn status(&self, repo: &RepoName, number: u64) -> Result<PullRequestStatus, ForgeError> {
        let value = self.pull_value(repo, number)?;
        let pull = convert::pull_request(repo, &value)?;
        let sha = value["head"]["sha"].as_str().unwrap_or_default().to_owned();
        let reply = self.client.reply(
            Method::Get,
            &format!("/repos/{repo}/commits/{sha}/check-runs?per_page=100"),
            None,
            true,
        )?;
        let runs: octocrab::models::checks::ListCheckRuns = if reply.is_success() {
            reply.json("read check runs")?
        } else {
            return Err(failure(
                &format!("read the checks of {repo}#{number}"),
                &reply,
            ));
        };
        let reply = self.client.reply(
            Method::Get,
            &format!("/repos/{repo}/commits/{sha}/status"),
            None,
            true,
        )?;
        let combined: octocrab::models::CombinedStatus = if reply.is_success() {
            reply.json("read commit statuses")?
        } else {
            return Err(failure(
                &format!("read the statuses of {repo}#{number}"),
                &reply,
            ));
        };
        let reviews: Vec<octocrab::models::pulls::Review> = self.client.get_all(&format!(
            "/repos/{repo}/pulls/{number}/reviews?per_page=100"
        ))?;
        Ok(PullRequestStatus {
            state: pull.state,
            mergeable: value["mergeable"].as_bool(),
            checks: convert::checks(&runs, &combined),
            review: convert::review_decision(&reviews),
            draft: pull.draft,
            head_sha: (!sha.is_empty()).then_some(sha),
        })
    }

    fn git_credentials(&self) -> Option<&Credentials> {
        Some(&self.credentials)
    }
}

/// Users and `(org, slug)` teams.
fn split_reviewers(reviewers: &[String]) -> (Vec<&String>, Vec<(String, String)>) {
    let mut users = Vec::new();
    let mut teams = Vec::new();
    for reviewer in reviewers {
        if let Some((org, slug)) = reviewer.split_once('/') {
            teams.push((org.to_owned(), slug.to_owned()));
        } else if crate::spec::forge::is_login(reviewer) {
            users.push(reviewer);
        }
    }
    (users, teams)
}

/// The GraphQL root beside a REST root: `https://api.github.com` keeps
/// `/graphql` at its root, GitHub Enterprise's `/api/v3` has it at
/// `/api/graphql`.
fn graphql_root(api_url: &str) -> String {
    api_url.strip_suffix("/v3").unwrap_or(api_url).to_owned()
}

/// The host of a URL, for mirror paths (`api.github.com` → `github.com`).
fn host_of(api_url: &str) -> String {
    let rest = api_url.split_once("://").map_or(api_url, |(_, rest)| rest);
    let host = rest.split('/').next().unwrap_or(rest);
    let host = host.strip_prefix("api.").unwrap_or(host);
    host.replace(':', "_")
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    let mut encoded = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~:".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_and_hosts() {
        assert_eq!(
            graphql_root("https://api.github.com"),
            "https://api.github.com"
        );
        assert_eq!(
            graphql_root("https://ghe.example/api/v3"),
            "https://ghe.example/api"
        );
        assert_eq!(host_of("https://api.github.com"), "github.com");
        assert_eq!(host_of("https://ghe.example/api/v3"), "ghe.example");
        assert_eq!(host_of("http://127.0.0.1:8080/api/v3"), "127.0.0.1_8080");
        assert_eq!(
            encode("acme:fleetmod/orders v2"),
            "acme:fleetmod%2Forders%20v2"
        );
    }

    #[test]
    fn reviewers_split_into_users_and_teams() {
        let reviewers = [
            "alice".to_owned(),
            "acme/data".to_owned(),
            "group:x y".to_owned(),
        ];
        let (users, teams) = split_reviewers(&reviewers);
        assert_eq!(users, vec!["alice"]);
        assert_eq!(teams, vec![("acme".to_owned(), "data".to_owned())]);
    }
}
