//! `fleetmod report`: the HTML report or the Markdown tracking issue of a
//! migration, written to a file or stdout, or published as a GitHub issue.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::Failure;
use super::run::{WorkspaceArguments, set_up};
use super::status::snapshot;
use crate::catalog::RepoName;
use crate::report::{html, markdown};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One self-contained HTML page (inline CSS, SVG charts, no scripts).
    Html,
    /// The tracking issue's Markdown, in parts under 60,000 characters.
    Markdown,
}

#[derive(Debug, Args)]
pub(crate) struct ReportArguments {
    /// The migration spec (YAML).
    spec: PathBuf,
    /// What to write.
    #[arg(long, value_enum, default_value_t = Format::Html)]
    format: Format,
    /// Write to this file instead of stdout (written whole or not at all).
    /// A Markdown report in several parts writes part N to
    /// `STEM-partN.EXT` beside it.
    #[arg(short, long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Create or update the migration's tracking issue in this GitHub
    /// repository (`owner/name`; the spec's forge must be GitHub). The
    /// issue is found again by a hidden marker, so it is never duplicated.
    #[arg(long, value_name = "OWNER/REPO", value_parser = RepoName::parse)]
    publish: Option<RepoName>,
    #[command(flatten)]
    workspace: WorkspaceArguments,
}

pub(crate) fn run(arguments: ReportArguments) -> Result<(), Failure> {
    let setup = set_up(&arguments.spec, &arguments.workspace.workspace)?;
    let snapshot = snapshot(&setup)?;
    if let Some(repo) = &arguments.publish {
        let parts = markdown::render(&snapshot, markdown::PART_LIMIT);
        return publish::publish(&setup, repo, &snapshot, &parts);
    }
    match arguments.format {
        Format::Html => {
            let page = html::render(&snapshot);
            match &arguments.out {
                Some(path) => {
                    write_file(path, &page)?;
                    eprintln!(
                        "wrote {} ({} repositories, {:.1}% done)",
                        path.display(),
                        snapshot.repos.len(),
                        snapshot.done_percent()
                    );
                }
                None => print!("{page}"),
            }
        }
        Format::Markdown => {
            let parts = markdown::render(&snapshot, markdown::PART_LIMIT);
            match &arguments.out {
                Some(path) => {
                    for (index, part) in parts.iter().enumerate() {
                        let path = part_path(path, index + 1);
                        write_file(&path, part)?;
                        eprintln!(
                            "wrote {} ({} characters)",
                            path.display(),
                            part.chars().count()
                        );
                    }
                }
                None => {
                    for (index, part) in parts.iter().enumerate() {
                        if index > 0 {
                            println!("\n<!-- part {} of {} -->\n", index + 1, parts.len());
                        }
                        print!("{part}");
                    }
                }
            }
        }
    }
    Ok(())
}

/// `report.md` for part 1, `report-part2.md` for part 2.
fn part_path(path: &Path, part: usize) -> PathBuf {
    if part == 1 {
        return path.to_path_buf();
    }
    let stem = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(extension) => format!("{stem}-part{part}.{}", extension.to_string_lossy()),
        None => format!("{stem}-part{part}"),
    };
    path.with_file_name(name)
}

/// Writes `text` to `path` through a temporary file and a rename, so a
/// reader (a web server, a textfile collector) never sees half of it.
pub(crate) fn write_file(path: &Path, text: &str) -> Result<(), Failure> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(folder)
        .with_context(|| format!("failed to write {}", path.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .with_context(|| format!("failed to write {}", path.display()))?;
    file.persist(path)
        .with_context(|| format!("failed to write {}", path.display()))?;
    Ok(())
}

mod publish {
    //! `--publish`: the tracking issue on GitHub.

    use super::*;
    use crate::forge::github::GitHubForge;
    use crate::report::Snapshot;
    use crate::spec::ForgeKind;
    use crate::store::RateLedger;
    use crate::store::time::SystemClock;

    pub(super) fn publish(
        setup: &super::super::run::Setup,
        repo: &RepoName,
        snapshot: &Snapshot,
        parts: &[String],
    ) -> Result<(), Failure> {
        let settings = match &setup.spec.forge.github {
            Some(settings) if setup.spec.forge.kind == ForgeKind::GitHub => settings,
            _ => {
                return Err(Failure::Input(anyhow::anyhow!(
                    "--publish needs the GitHub forge: set `forge.kind: github` in {}",
                    setup.spec.path.display()
                )));
            }
        };
        let result = (|| {
            let ledger = RateLedger::open(&setup.workspace.state_path())
                .context("failed to open the state store")?;
            let forge = GitHubForge::connect(settings, ledger, std::sync::Arc::new(SystemClock))?;
            let title = format!("Migration dashboard: {}", snapshot.display_title());
            let published =
                forge.publish_tracking_issue(repo, &snapshot.migration, &title, parts)?;
            eprintln!(
                "{} tracking issue #{} in {repo} ({} part(s); comments: {} created, {} updated, {} deleted): {}",
                if published.created {
                    "created"
                } else if published.updated {
                    "updated"
                } else {
                    "unchanged"
                },
                published.number,
                parts.len(),
                published.comments_created,
                published.comments_updated,
                published.comments_deleted,
                published.url
            );
            anyhow::Ok(())
        })();
        result.map_err(|error| {
            eprintln!("error: {error:#}");
            Failure::Check
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_parts_go_beside_the_first() {
        assert_eq!(part_path(Path::new("out/r.md"), 1), Path::new("out/r.md"));
        assert_eq!(
            part_path(Path::new("out/r.md"), 3),
            Path::new("out/r-part3.md")
        );
        assert_eq!(part_path(Path::new("r"), 2), Path::new("r-part2"));
    }
}
