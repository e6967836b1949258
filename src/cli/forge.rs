//! `fleetmod forge`: the local forge by hand, to import repositories and to
//! act as the reviewer (list, show, merge, close, comment).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

use std::sync::Arc;

use super::Failure;
use super::run::{WorkspaceArguments, open_forge, set_up};
use crate::catalog::RepoName;
use crate::forge::github::GitHubForge;
use crate::forge::local::{self, LocalForge};
use crate::forge::{Forge, PullRequest, PullRequestState};
use crate::spec::MergeMethod;
use crate::store::time;
use crate::store::time::SystemClock;

#[derive(Debug, Args)]
pub(crate) struct ForgeArguments {
    /// The local forge's folder.
    #[arg(
        long,
        value_name = "DIR",
        default_value = ".fleetmod/forge",
        global = true
    )]
    root: PathBuf,
    #[command(subcommand)]
    command: ForgeCommand,
}

/// A pull request: repository and number.
#[derive(Debug, Args)]
struct PullArguments {
    /// The repository, `owner/name`.
    #[arg(value_parser = RepoName::parse)]
    repo: RepoName,
    /// The pull request number.
    number: u64,
}

#[derive(Debug, Subcommand)]
enum ForgeCommand {
    /// Check a spec's forge up front: the token is valid and has the scopes
    /// needed, and every consumer repository can be reached and pushed to.
    Check {
        /// The migration spec (YAML).
        spec: PathBuf,
        #[command(flatten)]
        workspace: WorkspaceArguments,
    },
    /// Turn each folder DIR/<owner>/<name> into a forge repository (with
    /// one commit on main); DIR/forge-import.yaml may add branches.
    Import {
        /// The folder of plain repositories.
        folder: PathBuf,
    },
    /// List pull requests.
    List {
        /// Only pull requests in this state.
        #[arg(long, value_parser = ["open", "closed", "merged"])]
        state: Option<String>,
        /// Only this repository.
        #[arg(long, value_parser = RepoName::parse)]
        repo: Option<RepoName>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one pull request with its body and comments.
    Show {
        #[command(flatten)]
        pull: PullArguments,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Merge a pull request into its base branch.
    Merge {
        #[command(flatten)]
        pull: PullArguments,
        /// How: a merge commit (or fast-forward), one squashed commit, or
        /// the branch's commits rebased onto the base.
        #[arg(long, value_parser = ["merge", "squash", "rebase"], default_value = "merge")]
        method: String,
    },
    /// Set a pull request's combined checks, as CI would (fleetmod's sync
    /// reads them; automerge can wait for `success`).
    Checks {
        #[command(flatten)]
        pull: PullArguments,
        #[arg(value_parser = ["none", "pending", "success", "failure"])]
        checks: String,
    },
    /// Set a pull request's review decision, as reviewers would.
    Review {
        #[command(flatten)]
        pull: PullArguments,
        #[arg(value_parser = ["review-required", "approved", "changes-requested"])]
        review: String,
    },
    /// Close a pull request without merging it.
    Close {
        #[command(flatten)]
        pull: PullArguments,
    },
    /// Comment on a pull request.
    Comment {
        #[command(flatten)]
        pull: PullArguments,
        /// The comment.
        body: String,
        /// Who comments.
        #[arg(long, default_value = "reviewer")]
        author: String,
    },
    /// Mark a repository archived (pre-flight checks then refuse it).
    Archive {
        #[arg(value_parser = RepoName::parse)]
        repo: RepoName,
        /// Unarchive it instead.
        #[arg(long)]
        undo: bool,
    },
}

impl From<crate::forge::ForgeError> for Failure {
    fn from(error: crate::forge::ForgeError) -> Self {
        Failure::Input(error.into())
    }
}

pub(crate) fn run(arguments: ForgeArguments) -> Result<(), Failure> {
    if let ForgeCommand::Check { spec, workspace } = &arguments.command {
        return check(spec, &workspace.workspace);
    }
    let forge = LocalForge::open(&arguments.root).context("failed to open the local forge")?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match arguments.command {
        ForgeCommand::Import { folder } => {
            let imported = local::import(&forge, &folder)
                .with_context(|| format!("failed to import {}", folder.display()))?;
            for repo in &imported {
                let what = if repo.created {
                    "imported"
                } else {
                    "already there"
                };
                writeln!(out, "{}  {what}", repo.repo).context("failed to write output")?;
            }
            if imported.is_empty() {
                return Err(Failure::Input(anyhow::anyhow!(
                    "{} has no <owner>/<name> folders to import",
                    folder.display()
                )));
            }
        }
        ForgeCommand::List { state, repo, json } => {
            let pulls: Vec<PullRequest> = forge
                .pull_requests()?
                .into_iter()
                .filter(|pull| {
                    state
                        .as_deref()
                        .is_none_or(|state| pull.state.as_str() == state)
                })
                .filter(|pull| repo.as_ref().is_none_or(|repo| &pull.repo == repo))
                .collect();
            if json {
                let text = serde_json::to_string_pretty(&pulls).context("failed to write JSON")?;
                writeln!(out, "{text}").context("failed to write output")?;
            } else {
                for pull in &pulls {
                    writeln!(
                        out,
                        "{}#{}  {:6}  {} -> {}  {}",
                        pull.repo,
                        pull.number,
                        pull.state.as_str(),
                        pull.head,
                        pull.base,
                        pull.title
                    )
                    .context("failed to write output")?;
                }
            }
        }
        ForgeCommand::Show { pull, json } => {
            let found = forge.pull_request(&pull.repo, pull.number)?;
            if json {
                let text = serde_json::to_string_pretty(&found).context("failed to write JSON")?;
                writeln!(out, "{text}").context("failed to write output")?;
            } else {
                write_pull(&mut out, &found).context("failed to write output")?;
            }
        }
        ForgeCommand::Merge { pull, method } => {
            let method = match method.as_str() {
                "squash" => MergeMethod::Squash,
                "rebase" => MergeMethod::Rebase,
                _ => MergeMethod::Merge,
            };
            let merged = forge.merge_pull_request(&pull.repo, pull.number, method, None)?;
            writeln!(
                out,
                "merged {}#{} into {}",
                merged.repo, merged.number, merged.base
            )
            .context("failed to write output")?;
        }
        ForgeCommand::Close { pull } => {
            let found = forge.pull_request(&pull.repo, pull.number)?;
            if found.state != PullRequestState::Open {
                return Err(Failure::Input(anyhow::anyhow!(
                    "{}#{} is {}",
                    pull.repo,
                    pull.number,
                    found.state.as_str()
                )));
            }
            forge.close_pull_request(&pull.repo, pull.number)?;
            writeln!(out, "closed {}#{}", pull.repo, pull.number)
                .context("failed to write output")?;
        }
        ForgeCommand::Checks { pull, checks } => {
            let checks = checks.parse().map_err(anyhow::Error::msg)?;
            forge.set_checks(&pull.repo, pull.number, checks)?;
        }
        ForgeCommand::Review { pull, review } => {
            let review = review.parse().map_err(anyhow::Error::msg)?;
            forge.set_review(&pull.repo, pull.number, review)?;
        }
        ForgeCommand::Comment { pull, body, author } => {
            forge.comment_as(&pull.repo, pull.number, &author, &body)?;
        }
        ForgeCommand::Archive { repo, undo } => {
            forge.set_archived(&repo, !undo)?;
        }
        ForgeCommand::Check { .. } => unreachable!("handled above"),
    }
    out.flush().context("failed to write output")?;
    Ok(())
}

/// The scopes a classic token needs to push and open pull requests.
const NEEDED_SCOPES: [&str; 2] = ["repo", "public_repo"];

/// `forge check`: one line per repository, exit 1 when any cannot be used.
fn check(spec: &std::path::Path, workspace: &std::path::Path) -> Result<(), Failure> {
    let setup = set_up(spec, workspace)?;
    let mut problems = 0;
    if let Some(settings) = &setup.spec.forge.github {
        let ledger = crate::store::RateLedger::open(&setup.workspace.state_path())
            .context("failed to open the state store")?;
        let github = GitHubForge::connect(settings, ledger, Arc::new(SystemClock))?;
        let token = github.token_info();
        let left = github
            .primary_limit()
            .map(|limit| format!("; {} requests left until the hourly reset", limit.remaining))
            .unwrap_or_default();
        match &token.scopes {
            Some(scopes)
                if !scopes
                    .iter()
                    .any(|scope| NEEDED_SCOPES.contains(&scope.as_str())) =>
            {
                problems += 1;
                let has = if scopes.is_empty() {
                    "none".to_owned()
                } else {
                    scopes.join(", ")
                };
                println!(
                    "token of {} at {}: missing scope `repo` (has: {has})",
                    token.login, settings.api_url
                );
            }
            Some(scopes) => println!(
                "token of {} at {}: ok (scopes: {}{left})",
                token.login,
                settings.api_url,
                scopes.join(", ")
            ),
            None => println!(
                "token of {} at {}: ok (fine-grained: access is checked per repository{left})",
                token.login, settings.api_url
            ),
        }
        for consumer in &setup.consumers.consumers {
            let repo = &consumer.repo;
            match github.access(repo) {
                Ok(access) if access.info.archived => {
                    problems += 1;
                    println!("{repo}  error: the repository is archived");
                }
                Ok(access) if !access.push => {
                    problems += 1;
                    println!("{repo}  error: the token cannot push to it");
                }
                Ok(access) => {
                    println!("{repo}  ok (default branch {})", access.info.default_branch)
                }
                Err(error) => {
                    problems += 1;
                    println!("{repo}  error: {error}");
                }
            }
        }
    } else {
        let forge = open_forge(&setup)?;
        for consumer in &setup.consumers.consumers {
            let repo = &consumer.repo;
            match forge.repository(repo) {
                Ok(info) if info.archived => {
                    problems += 1;
                    println!("{repo}  error: the repository is archived");
                }
                Ok(info) => println!("{repo}  ok (default branch {})", info.default_branch),
                Err(error) => {
                    problems += 1;
                    println!("{repo}  error: {error}");
                }
            }
        }
    }
    let total = setup.consumers.consumers.len();
    eprintln!(
        "{total} repositories: {} ok, {problems} with problems",
        total.saturating_sub(problems)
    );
    if problems > 0 {
        return Err(Failure::Check);
    }
    Ok(())
}

fn write_pull(out: &mut impl Write, pull: &PullRequest) -> std::io::Result<()> {
    writeln!(out, "{}#{}: {}", pull.repo, pull.number, pull.title)?;
    writeln!(
        out,
        "state: {}{}\nbranch: {} -> {}",
        pull.state.as_str(),
        if pull.draft { " (draft)" } else { "" },
        pull.head,
        pull.base
    )?;
    if !pull.labels.is_empty() {
        writeln!(out, "labels: {}", pull.labels.join(", "))?;
    }
    if !pull.reviewers.is_empty() {
        writeln!(out, "reviewers: {}", pull.reviewers.join(", "))?;
    }
    writeln!(out, "\n{}", pull.body.trim_end())?;
    for comment in &pull.comments {
        writeln!(
            out,
            "\n--- {} at {}\n{}",
            comment.author,
            time::format_utc(comment.created_at),
            comment.body.trim_end()
        )?;
    }
    Ok(())
}
