//! The `forge:` section: which forge hosts the repositories, how to reach
//! it, who reviews, and (for GitHub) how the client paces its requests.
//!
//! GitHub's documented secondary limits are the ceiling: a spec may ask for
//! fewer requests per minute or hour, never more. Credentials are only ever
//! named here (an environment variable, a key file), never written.

use std::path::{Path, PathBuf};

use serde_saphyr::Spanned;

use super::raw::{RawForge, RawRequests, RawReviewers};
use super::{Problems, at, duration};
use crate::rule::Point;

/// Which forge hosts the repositories.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForgeKind {
    /// Bare repositories and a SQLite file of pull requests on this machine.
    Local,
    /// GitHub.com or GitHub Enterprise, through its REST API.
    GitHub,
}

/// Who is asked to review each pull request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reviewers {
    /// The repository's catalog owners: a Group with a
    /// `github.com/team-slug` annotation becomes that team, `user:name`
    /// becomes the user.
    FromOwner,
    /// The code owners of the changed files, from the repository's
    /// CODEOWNERS file.
    CodeOwners,
    /// Fixed users (`login`) and teams (`org/slug`).
    List(Vec<String>),
}

/// How a GitHub client authenticates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GitHubAuth {
    /// A token read from this environment variable.
    Token { env: String },
    /// A GitHub App: installation tokens, made with the app's private key.
    App { app_id: u64, private_key: PathBuf },
}

/// How the GitHub client paces itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestLimits {
    /// Content-creating requests per minute (GitHub allows 80).
    pub per_minute: u32,
    /// Content-creating requests per hour (GitHub allows 500).
    pub per_hour: u32,
    /// The least time between two mutating requests.
    pub min_interval_ms: u64,
    /// Requests in flight at once.
    pub concurrency: u32,
    /// How long one request may take.
    pub timeout_ms: u64,
    /// The longest wait after a secondary-limit answer without a
    /// `retry-after`; waits double from 60 s up to this, then the
    /// repository's step fails and the run moves on.
    pub max_backoff_ms: u64,
}

/// GitHub's documented ceilings.
pub const GITHUB_PER_MINUTE: u32 = 80;
pub const GITHUB_PER_HOUR: u32 = 500;

impl Default for RequestLimits {
    fn default() -> RequestLimits {
        RequestLimits {
            per_minute: GITHUB_PER_MINUTE,
            per_hour: GITHUB_PER_HOUR,
            min_interval_ms: 1_000,
            concurrency: 4,
            timeout_ms: 30_000,
            max_backoff_ms: 8 * 60_000,
        }
    }
}

/// The GitHub part of the `forge:` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitHubSettings {
    /// The REST API's root, without a trailing slash
    /// (`https://HOST/api/v3` for GitHub Enterprise).
    pub api_url: String,
    pub auth: GitHubAuth,
    pub requests: RequestLimits,
}

/// The `forge:` section.
#[derive(Clone, Debug)]
pub struct ForgeSettings {
    pub kind: ForgeKind,
    /// The local forge's folder (relative to the working directory); the
    /// default is `forge` inside the workspace.
    pub root: Option<PathBuf>,
    /// A folder of plain repositories the local forge imports when it
    /// lacks them (relative to the spec).
    pub import: Option<PathBuf>,
    /// Set when `kind` is GitHub.
    pub github: Option<GitHubSettings>,
    pub reviewers: Reviewers,
    /// Users assigned to every pull request.
    pub assignees: Vec<String>,
}

/// The default API root.
pub const GITHUB_API_URL: &str = "https://api.github.com";

pub(super) fn forge(
    raw: Option<&Spanned<RawForge>>,
    spec_path: &Path,
    problems: &mut Problems<'_>,
) -> ForgeSettings {
    let mut settings = ForgeSettings {
        kind: ForgeKind::Local,
        root: None,
        import: None,
        github: None,
        reviewers: Reviewers::FromOwner,
        assignees: Vec::new(),
    };
    let Some(raw) = raw else {
        return settings;
    };
    let section = &raw.value;
    let folder = spec_path.parent().unwrap_or(Path::new(""));
    if let Some(kind) = &section.kind {
        match kind.value.as_str() {
            "local" => {}
            "github" => settings.kind = ForgeKind::GitHub,
            other => problems.add(
                at(kind.referenced),
                format!("`{other}` is not a forge kind: use `local` or `github`"),
            ),
        }
    }
    let only = |value: Option<Point>, key: &str, kind: &str, problems: &mut Problems<'_>| {
        if let Some(point) = value {
            problems.add(point, format!("`{key}` is for the {kind} forge only"));
        }
    };
    let local = settings.kind == ForgeKind::Local;
    if local {
        for (point, key) in [
            (
                section.api_url.as_ref().map(|v| at(v.referenced)),
                "api_url",
            ),
            (
                section.token_env.as_ref().map(|v| at(v.referenced)),
                "token_env",
            ),
            (section.app_id.as_ref().map(|v| at(v.referenced)), "app_id"),
            (
                section.private_key_path.as_ref().map(|v| at(v.referenced)),
                "private_key_path",
            ),
            (
                section.requests.as_ref().map(|v| at(v.referenced)),
                "requests",
            ),
        ] {
            only(point, key, "github", problems);
        }
    } else {
        for (point, key) in [
            (section.root.as_ref().map(|v| at(v.referenced)), "root"),
            (section.import.as_ref().map(|v| at(v.referenced)), "import"),
        ] {
            only(point, key, "local", problems);
        }
        settings.github = Some(github(section, folder, problems));
    }
    settings.root = section.root.as_ref().map(|root| PathBuf::from(&root.value));
    if let Some(import) = &section.import {
        let path = folder.join(&import.value);
        if path.is_dir() {
            settings.import = Some(path);
        } else if local {
            problems.add(
                at(import.referenced),
                format!("import folder `{}` does not exist", path.display()),
            );
        }
    }
    if let Some(reviewers) = &section.reviewers {
        settings.reviewers = match &reviewers.value {
            RawReviewers::Mode(mode) if mode == "from-owner" => Reviewers::FromOwner,
            RawReviewers::Mode(mode) if mode == "codeowners" => Reviewers::CodeOwners,
            RawReviewers::Mode(other) => {
                problems.add(
                    at(reviewers.referenced),
                    format!("`{other}` is not a reviewers mode: use `from-owner`, `codeowners` or a list of users and `org/team`s"),
                );
                Reviewers::FromOwner
            }
            RawReviewers::List(list) => {
                for name in list {
                    if !is_login(name) && !is_team(name) {
                        problems.add(
                            at(reviewers.referenced),
                            format!("`{name}` is neither a GitHub login nor an `org/team`"),
                        );
                    }
                }
                Reviewers::List(list.clone())
            }
        };
    }
    for assignee in section.assignees.as_deref().unwrap_or_default() {
        if is_login(&assignee.value) {
            settings.assignees.push(assignee.value.clone());
        } else {
            problems.add(
                at(assignee.referenced),
                format!("`{}` is not a GitHub login", assignee.value),
            );
        }
    }
    settings
}

fn github(section: &RawForge, folder: &Path, problems: &mut Problems<'_>) -> GitHubSettings {
    let api_url = match &section.api_url {
        Some(url) => {
            let trimmed = url.value.trim().trim_end_matches('/');
            if !(trimmed.starts_with("https://") || trimmed.starts_with("http://"))
                || trimmed.contains(char::is_whitespace)
            {
                problems.add(
                    at(url.referenced),
                    format!(
                        "`{}` is not an API URL: use `{GITHUB_API_URL}`, or `https://HOST/api/v3` for GitHub Enterprise",
                        url.value
                    ),
                );
            }
            trimmed.to_owned()
        }
        None => GITHUB_API_URL.to_owned(),
    };
    let auth = match (
        &section.token_env,
        &section.app_id,
        &section.private_key_path,
    ) {
        (Some(token), None, None) => {
            let valid = !token.value.is_empty()
                && token
                    .value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                problems.add(
                    at(token.referenced),
                    format!("`{}` is not an environment variable name", token.value),
                );
            }
            GitHubAuth::Token {
                env: token.value.clone(),
            }
        }
        (None, None, None) => GitHubAuth::Token {
            env: "GITHUB_TOKEN".to_owned(),
        },
        (None, Some(app_id), Some(key)) => {
            let path = folder.join(&key.value);
            if !path.is_file() {
                problems.add(
                    at(key.referenced),
                    format!("private key `{}` does not exist", path.display()),
                );
            }
            GitHubAuth::App {
                app_id: app_id.value,
                private_key: path,
            }
        }
        (Some(token), Some(_), _) | (Some(token), _, Some(_)) => {
            problems.add(
                at(token.referenced),
                "use either `token_env` or a GitHub App (`app_id` and `private_key_path`), not both",
            );
            GitHubAuth::Token {
                env: token.value.clone(),
            }
        }
        (None, Some(app_id), None) => {
            problems.add(
                at(app_id.referenced),
                "`app_id` needs `private_key_path`, the app's PEM key",
            );
            GitHubAuth::Token {
                env: "GITHUB_TOKEN".to_owned(),
            }
        }
        (None, None, Some(key)) => {
            problems.add(at(key.referenced), "`private_key_path` needs `app_id`");
            GitHubAuth::Token {
                env: "GITHUB_TOKEN".to_owned(),
            }
        }
    };
    let requests = section
        .requests
        .as_ref()
        .map_or_else(RequestLimits::default, |requests| {
            request_limits(&requests.value, problems)
        });
    GitHubSettings {
        api_url,
        auth,
        requests,
    }
}

fn request_limits(raw: &RawRequests, problems: &mut Problems<'_>) -> RequestLimits {
    let mut limits = RequestLimits::default();
    let mut count = |value: &Option<Spanned<u32>>, ceiling: u32, what: &str| -> Option<u32> {
        let value = value.as_ref()?;
        if value.value == 0 || value.value > ceiling {
            problems.add(
                at(value.referenced),
                format!("`{what}` must be between 1 and {ceiling}"),
            );
            return None;
        }
        Some(value.value)
    };
    if let Some(value) = count(&raw.per_minute, GITHUB_PER_MINUTE, "per_minute") {
        limits.per_minute = value;
    }
    if let Some(value) = count(&raw.per_hour, GITHUB_PER_HOUR, "per_hour") {
        limits.per_hour = value;
    }
    if let Some(value) = count(&raw.concurrency, 32, "concurrency") {
        limits.concurrency = value;
    }
    let mut time = |value: &Option<Spanned<String>>, target: &mut u64| {
        if let Some(value) = value {
            match duration::parse(&value.value) {
                Ok(milliseconds) => *target = milliseconds,
                Err(message) => problems.add(at(value.referenced), message),
            }
        }
    };
    time(&raw.min_interval, &mut limits.min_interval_ms);
    time(&raw.timeout, &mut limits.timeout_ms);
    time(&raw.max_backoff, &mut limits.max_backoff_ms);
    limits
}

/// Whether `name` can be a GitHub login.
pub fn is_login(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 39
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Whether `name` is a team as `org/slug`.
pub fn is_team(name: &str) -> bool {
    name.split_once('/').is_some_and(|(org, slug)| {
        is_login(org)
            && !slug.is_empty()
            && slug
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    })
}
