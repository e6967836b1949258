//! `fleetmod forge import DIR`: plain folders become forge repositories.
//!
//! `DIR/<owner>/<name>/` becomes `owner/name`, with one commit on `main`
//! holding the folder's files. An optional `DIR/forge-import.yaml` adds
//! commits on other branches, so an example can show a branch a person has
//! already pushed to:
//!
//! ```yaml
//! branches:
//!   - repo: acme/churn-model
//!     branch: fleetmod/orders-v2
//!     author: {name: Priya Shah, email: priya@acme.example}
//!     message: Start moving to sales_v2 by hand
//!     files:
//!       notes.md: "WIP\n"
//! ```
//!
//! Repositories the forge already has are left alone, so importing twice
//! changes nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::LocalForge;
use crate::catalog::RepoName;
use crate::git::{GitError, Mirror, import_folder};
use crate::rule::Point;
use crate::rule::load::yaml_error;

/// The manifest file name inside an import folder.
pub const MANIFEST: &str = "forge-import.yaml";

/// One repository of an import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Imported {
    pub repo: RepoName,
    /// `false` when the forge already had it.
    pub created: bool,
}

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("failed to read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{point}: {message}", path.display())]
    Manifest {
        path: PathBuf,
        point: Point,
        message: String,
    },
    #[error("failed to import {repo}: {source}")]
    Git {
        repo: RepoName,
        #[source]
        source: Box<GitError>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    #[serde(default)]
    branches: Vec<RawBranch>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBranch {
    repo: Spanned<String>,
    branch: Spanned<String>,
    author: RawAuthor,
    message: String,
    files: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuthor {
    name: String,
    email: String,
}

/// Imports every `<owner>/<name>` folder of `folder` the forge lacks.
pub fn import(forge: &LocalForge, folder: &Path) -> Result<Vec<Imported>, ImportError> {
    let manifest = read_manifest(folder)?;
    let read = |path: &Path| {
        std::fs::read_dir(path).map_err(|source| ImportError::Read {
            path: path.to_path_buf(),
            source,
        })
    };
    let mut found = Vec::new();
    for owner in read(folder)?.flatten() {
        let owner_name = owner.file_name().to_string_lossy().into_owned();
        if !owner.path().is_dir() || owner_name.starts_with('.') {
            continue;
        }
        for entry in read(&owner.path())?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !entry.path().is_dir() || name.starts_with('.') {
                continue;
            }
            if let Ok(repo) = RepoName::parse(&format!("{owner_name}/{name}")) {
                found.push((repo, entry.path()));
            }
        }
    }
    found.sort();
    let mut imported = Vec::new();
    for (repo, path) in found {
        let created = !forge.has_repository(&repo);
        if created {
            let bare = forge.repository_path(&repo);
            let git_error = |source| ImportError::Git {
                repo: repo.clone(),
                source: Box::new(source),
            };
            // Build next to the final place, then move it in: an
            // interrupted import leaves no half-made repository.
            let staging = bare.with_extension("git.importing");
            let _ = std::fs::remove_dir_all(&staging);
            import_folder(
                &path,
                &staging,
                "main",
                ("fleetmod import", "import@localhost"),
                "Initial import",
            )
            .map_err(git_error)?;
            for branch in manifest.iter().filter(|branch| branch.0 == repo) {
                add_branch(&staging, &branch.1).map_err(git_error)?;
            }
            std::fs::rename(&staging, &bare).map_err(|source| ImportError::Read {
                path: bare.clone(),
                source,
            })?;
        }
        imported.push(Imported { repo, created });
    }
    Ok(imported)
}

fn add_branch(bare: &Path, branch: &RawBranch) -> Result<(), GitError> {
    let repository = Mirror::open_or_create(bare)?;
    let base = repository
        .branch_head("main")
        .expect("an imported repository has main");
    let files: Vec<(String, Vec<u8>)> = branch
        .files
        .iter()
        .map(|(path, contents)| (path.clone(), contents.clone().into_bytes()))
        .collect();
    let commit = repository.commit_files(
        base,
        &files,
        (&branch.author.name, &branch.author.email),
        &branch.message,
    )?;
    repository.set_branch(&branch.branch.value, commit)
}

fn read_manifest(folder: &Path) -> Result<Vec<(RepoName, RawBranch)>, ImportError> {
    let path = folder.join(MANIFEST);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(&path).map_err(|source| ImportError::Read {
        path: path.clone(),
        source,
    })?;
    let manifest_error = |point: Point, message: String| ImportError::Manifest {
        path: path.clone(),
        point,
        message,
    };
    let raw: RawManifest = serde_saphyr::from_str(&text).map_err(|error| {
        let located = yaml_error(&error);
        manifest_error(located.point, located.message)
    })?;
    let mut branches = Vec::new();
    for branch in raw.branches {
        let repo = RepoName::parse(&branch.repo.value)
            .map_err(|message| manifest_error(branch.repo.referenced.into(), message))?;
        if !folder.join(repo.as_path()).is_dir() {
            return Err(manifest_error(
                branch.repo.referenced.into(),
                format!("there is no folder {repo} to import"),
            ));
        }
        let branch_ref = format!("refs/heads/{}", branch.branch.value);
        if !git2::Reference::is_valid_name(&branch_ref) || branch.branch.value == "main" {
            return Err(manifest_error(
                branch.branch.referenced.into(),
                format!(
                    "`{}` is not a branch name other than main",
                    branch.branch.value
                ),
            ));
        }
        branches.push((repo, branch));
    }
    Ok(branches)
}
