//! Git plumbing for the simulator, on top of git2.
//!
//! Design: the bare repositories on disk are the single source of truth for
//! branch state. Clients push to the `file://` clone URL behind the
//! simulator's back, so nothing here caches: every function opens the bare
//! repository, reads or writes what it needs and returns plain values (hex
//! shas, booleans). Commits the simulator itself makes (merges, squashes)
//! are authored by "GitHub <noreply@github.com>" at the simulator's clock.

use std::collections::BTreeMap;
use std::path::Path;

use git2::{Commit, Oid, Repository, RepositoryInitOptions, Signature, Time};

/// Result type of this module: errors are rendered as strings, the callers
/// turn them into HTTP errors or panics.
pub type GitResult<T> = Result<T, String>;

fn err(e: git2::Error) -> String {
    e.message().to_string()
}

fn open(path: &Path) -> GitResult<Repository> {
    Repository::open_bare(path).map_err(err)
}

fn signature(now_ms: i64) -> GitResult<Signature<'static>> {
    Signature::new(
        "GitHub",
        "noreply@github.com",
        &Time::new(now_ms.div_euclid(1000), 0),
    )
    .map_err(err)
}

/// Creates a bare repository at `path` whose HEAD is `refs/heads/main`, with
/// one commit holding `files` (paths may contain `/`).
pub fn init_bare(path: &Path, files: &[(&str, &str)], now_ms: i64) -> GitResult<String> {
    let mut opts = RepositoryInitOptions::new();
    opts.bare(true).initial_head("main").mkpath(true);
    let repo = Repository::init_opts(path, &opts).map_err(err)?;
    let tree_id = tree_with(&repo, None, files)?;
    let tree = repo.find_tree(tree_id).map_err(err)?;
    let sig = signature(now_ms)?;
    let oid = repo
        .commit(
            Some("refs/heads/main"),
            &sig,
            &sig,
            "Initial commit",
            &tree,
            &[],
        )
        .map_err(err)?;
    Ok(oid.to_string())
}

/// Writes the tree of `base` (or an empty tree) with `files` added or
/// overwritten, and returns its id.
fn tree_with(
    repo: &Repository,
    base: Option<&git2::Tree<'_>>,
    files: &[(&str, &str)],
) -> GitResult<Oid> {
    let mut index = git2::Index::new().map_err(err)?;
    if let Some(tree) = base {
        index.read_tree(tree).map_err(err)?;
    }
    let files: BTreeMap<&str, &str> = files.iter().copied().collect();
    for (file, content) in files {
        let id = repo.blob(content.as_bytes()).map_err(err)?;
        let path = file.trim_start_matches('/').as_bytes().to_vec();
        index
            .add(&git2::IndexEntry {
                ctime: git2::IndexTime::new(0, 0),
                mtime: git2::IndexTime::new(0, 0),
                dev: 0,
                ino: 0,
                mode: 0o100644,
                uid: 0,
                gid: 0,
                file_size: content.len() as u32,
                id,
                flags: path.len().min(0xfff) as u16,
                flags_extended: 0,
                path,
            })
            .map_err(err)?;
    }
    index.write_tree_to(repo).map_err(err)
}

/// Commits `files` on top of branch `branch` (created from `from`, or
/// from the default branch, when missing) and returns the new sha.
pub fn commit_files(
    path: &Path,
    branch: &str,
    from: Option<&str>,
    files: &[(&str, &str)],
    message: &str,
    now_ms: i64,
) -> GitResult<String> {
    let repo = open(path)?;
    let start = match branch_sha(path, branch)? {
        Some(sha) => sha,
        None => {
            let from = match from {
                Some(f) => f.to_string(),
                None => default_branch(path)?,
            };
            resolve_commitish(path, &from)?.ok_or(format!("no such ref: {from}"))?
        }
    };
    let parent = repo
        .find_commit(Oid::from_str(&start).map_err(err)?)
        .map_err(err)?;
    let base_tree = parent.tree().map_err(err)?;
    let tree_id = tree_with(&repo, Some(&base_tree), files)?;
    let tree = repo.find_tree(tree_id).map_err(err)?;
    let sig = Signature::new(
        "Sim Tester",
        "tester@example.com",
        &Time::new(now_ms.div_euclid(1000), 0),
    )
    .map_err(err)?;
    let oid = repo
        .commit(None, &sig, &sig, message, &tree, &[&parent])
        .map_err(err)?;
    repo.reference(&format!("refs/heads/{branch}"), oid, true, message)
        .map_err(err)?;
    Ok(oid.to_string())
}

/// The branch HEAD points at (`main` for repositories made by `init_bare`).
pub fn default_branch(path: &Path) -> GitResult<String> {
    let repo = open(path)?;
    let head = repo.find_reference("HEAD").map_err(err)?;
    let target = head
        .symbolic_target()
        .map_err(err)?
        .unwrap_or("refs/heads/main");
    Ok(target.trim_start_matches("refs/heads/").to_string())
}

/// The commit sha a full reference name (`refs/heads/x`, `refs/tags/y`)
/// points at, or `None` when it does not exist.
pub fn resolve_ref(path: &Path, full_name: &str) -> GitResult<Option<String>> {
    let repo = open(path)?;
    match repo.find_reference(full_name) {
        Ok(r) => {
            let commit = r.peel_to_commit().map_err(err)?;
            Ok(Some(commit.id().to_string()))
        }
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) if e.code() == git2::ErrorCode::InvalidSpec => Ok(None),
        Err(e) => Err(err(e)),
    }
}

/// The sha of branch `name`, or `None` when the branch does not exist.
pub fn branch_sha(path: &Path, name: &str) -> GitResult<Option<String>> {
    resolve_ref(path, &format!("refs/heads/{name}"))
}

/// Resolves what the commits endpoints call a `ref`: a branch name, a tag
/// name or a (possibly abbreviated) commit sha.
pub fn resolve_commitish(path: &Path, spec: &str) -> GitResult<Option<String>> {
    if let Some(sha) = branch_sha(path, spec)? {
        return Ok(Some(sha));
    }
    if let Some(sha) = resolve_ref(path, &format!("refs/tags/{spec}"))? {
        return Ok(Some(sha));
    }
    if spec.len() >= 4 && spec.chars().all(|c| c.is_ascii_hexdigit()) {
        let repo = open(path)?;
        if let Ok(obj) = repo.revparse_single(spec)
            && let Ok(commit) = obj.peel_to_commit()
        {
            return Ok(Some(commit.id().to_string()));
        }
    }
    Ok(None)
}

/// Deletes branch `name`; `Ok(false)` when it did not exist.
pub fn delete_branch(path: &Path, name: &str) -> GitResult<bool> {
    let repo = open(path)?;
    match repo.find_reference(&format!("refs/heads/{name}")) {
        Ok(mut r) => {
            r.delete().map_err(err)?;
            Ok(true)
        }
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(false),
        Err(e) if e.code() == git2::ErrorCode::InvalidSpec => Ok(false),
        Err(e) => Err(err(e)),
    }
}

/// True when `ancestor` is reachable from (or equal to) `descendant`.
pub fn is_ancestor(path: &Path, ancestor: &str, descendant: &str) -> GitResult<bool> {
    let repo = open(path)?;
    let a = Oid::from_str(ancestor).map_err(err)?;
    let d = Oid::from_str(descendant).map_err(err)?;
    if a == d {
        return Ok(true);
    }
    repo.graph_descendant_of(d, a).map_err(err)
}

/// Size of the change a pull request would bring: commits on head not on
/// base, and the diff stats between their merge base and head.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChangeStats {
    pub commits: usize,
    pub additions: usize,
    pub deletions: usize,
    pub changed_files: usize,
}

/// Counts for the pull request of `head` into `base`.
pub fn change_stats(path: &Path, base: &str, head: &str) -> GitResult<ChangeStats> {
    let repo = open(path)?;
    let b = Oid::from_str(base).map_err(err)?;
    let h = Oid::from_str(head).map_err(err)?;
    let (ahead, _) = repo.graph_ahead_behind(h, b).map_err(err)?;
    let merge_base = repo.merge_base(b, h).map_err(err)?;
    let old = repo
        .find_commit(merge_base)
        .and_then(|c| c.tree())
        .map_err(err)?;
    let new = repo.find_commit(h).and_then(|c| c.tree()).map_err(err)?;
    let stats = repo
        .diff_tree_to_tree(Some(&old), Some(&new), None)
        .and_then(|d| d.stats())
        .map_err(err)?;
    Ok(ChangeStats {
        commits: ahead,
        additions: stats.insertions(),
        deletions: stats.deletions(),
        changed_files: stats.files_changed(),
    })
}

/// The tree `head` merged into `base` would produce, or `None` on conflicts.
fn merged_tree(repo: &Repository, base: &Commit<'_>, head: &Commit<'_>) -> GitResult<Option<Oid>> {
    if base.id() == head.id()
        || repo
            .graph_descendant_of(head.id(), base.id())
            .map_err(err)?
    {
        return Ok(Some(head.tree_id()));
    }
    let mut index = repo.merge_commits(base, head, None).map_err(err)?;
    if index.has_conflicts() {
        return Ok(None);
    }
    index.write_tree_to(repo).map(Some).map_err(err)
}

/// True when `head` can be merged into `base` without conflicts.
pub fn can_merge(path: &Path, base: &str, head: &str) -> GitResult<bool> {
    let repo = open(path)?;
    let b = repo
        .find_commit(Oid::from_str(base).map_err(err)?)
        .map_err(err)?;
    let h = repo
        .find_commit(Oid::from_str(head).map_err(err)?)
        .map_err(err)?;
    Ok(merged_tree(&repo, &b, &h)?.is_some())
}

/// How a pull request lands on its base branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeMethod {
    /// Always a two-parent merge commit (GitHub's "Create a merge commit").
    Merge,
    /// One new commit on base with the merged tree (also used for rebase).
    Squash,
    /// Fast-forward when base is an ancestor of head, else a merge commit
    /// (what `git merge` does; used by the test helper `Simulator::merge`).
    FastForwardOrMerge,
}

/// Lands `head_sha` on branch `base`. Returns the new tip of base, or
/// `Ok(None)` when the merge has conflicts.
pub fn merge_into(
    path: &Path,
    base: &str,
    head_sha: &str,
    method: MergeMethod,
    message: &str,
    now_ms: i64,
) -> GitResult<Option<String>> {
    let repo = open(path)?;
    let base_ref = format!("refs/heads/{base}");
    let base_commit = repo
        .find_reference(&base_ref)
        .and_then(|r| r.peel_to_commit())
        .map_err(err)?;
    let head_commit = repo
        .find_commit(Oid::from_str(head_sha).map_err(err)?)
        .map_err(err)?;
    let Some(tree_id) = merged_tree(&repo, &base_commit, &head_commit)? else {
        return Ok(None);
    };
    let fast_forward = repo
        .graph_descendant_of(head_commit.id(), base_commit.id())
        .map_err(err)?;
    if method == MergeMethod::FastForwardOrMerge && fast_forward {
        repo.reference(&base_ref, head_commit.id(), true, "fast-forward")
            .map_err(err)?;
        return Ok(Some(head_commit.id().to_string()));
    }
    let tree = repo.find_tree(tree_id).map_err(err)?;
    let sig = signature(now_ms)?;
    let parents: Vec<&Commit<'_>> = match method {
        MergeMethod::Squash => vec![&base_commit],
        _ => vec![&base_commit, &head_commit],
    };
    let oid = repo
        .commit(Some(&base_ref), &sig, &sig, message, &tree, &parents)
        .map_err(err)?;
    Ok(Some(oid.to_string()))
}
