//! Git operations the local forge needs: turning a plain folder into a bare
//! repository with one commit, and merging a pull request's branch.

use std::path::Path;

use git2::{Oid, Repository, RepositoryInitOptions, Signature};

use super::{GitError, commit_tree, git, io};

/// Creates the bare repository `bare` whose `branch` (also its default
/// branch) holds one commit with the files of `folder`. Hidden entries
/// (`.git`, `.DS_Store`) are left out.
pub fn import_folder(
    folder: &Path,
    bare: &Path,
    branch: &str,
    author: (&str, &str),
    message: &str,
) -> Result<Oid, GitError> {
    let mut options = RepositoryInitOptions::new();
    options.bare(true).initial_head(branch);
    let repository = Repository::init_opts(bare, &options)
        .map_err(git(|| format!("create {}", bare.display())))?;
    let tree = tree_of_folder(&repository, folder)?;
    let tree = repository
        .find_tree(tree)
        .map_err(git(|| "read the imported tree".to_owned()))?;
    let signature =
        Signature::now(author.0, author.1).map_err(git(|| "make the commit author".to_owned()))?;
    repository
        .commit(
            Some(&format!("refs/heads/{branch}")),
            &signature,
            &signature,
            message,
            &tree,
            &[],
        )
        .map_err(git(|| format!("commit {}", folder.display())))
}

fn tree_of_folder(repository: &Repository, folder: &Path) -> Result<Oid, GitError> {
    let mut builder = repository
        .treebuilder(None)
        .map_err(git(|| "start a tree".to_owned()))?;
    let mut entries: Vec<_> = std::fs::read_dir(folder)
        .map_err(io(|| format!("read {}", folder.display())))?
        .flatten()
        .collect();
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let (id, mode) = if path.is_dir() {
            (tree_of_folder(repository, &path)?, 0o040000)
        } else {
            let contents =
                std::fs::read(&path).map_err(io(|| format!("read {}", path.display())))?;
            let id = repository
                .blob(&contents)
                .map_err(git(|| format!("store {}", path.display())))?;
            (id, 0o100644)
        };
        builder
            .insert(name, id, mode)
            .map_err(git(|| format!("add {}", path.display())))?;
    }
    builder
        .write()
        .map_err(git(|| format!("write the tree of {}", folder.display())))
}

/// How [`merge_branch`] merges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeStyle {
    /// A fast-forward when possible, else a merge commit.
    Merge,
    /// One new commit on `base` with the merged tree.
    Squash,
    /// `head`'s commits replayed on `base`, keeping their authors.
    Rebase,
}

/// Merges branch `head` into branch `base` of the bare repository `bare`,
/// provided `head` is still at `expected_head` (when given). Conflicts are
/// an error and change nothing. Returns the new head of `base`.
pub fn merge_branch(
    bare: &Path,
    base: &str,
    head: &str,
    style: MergeStyle,
    expected_head: Option<Oid>,
    author: (&str, &str),
    message: &str,
) -> Result<Oid, GitError> {
    let repository =
        Repository::open_bare(bare).map_err(git(|| format!("open {}", bare.display())))?;
    let commit_of = |branch: &str| {
        repository
            .revparse_single(&format!("refs/heads/{branch}"))
            .and_then(|object| object.peel_to_commit())
            .map_err(git(|| format!("find branch {branch}")))
    };
    let (base_commit, head_commit) = (commit_of(base)?, commit_of(head)?);
    let rejected = |message: String| GitError::Rejected {
        branch: base.to_owned(),
        url: bare.display().to_string(),
        message,
    };
    if let Some(expected) = expected_head
        && head_commit.id() != expected
    {
        return Err(rejected(format!(
            "{head} is at {}, not the expected {}",
            super::short(Some(head_commit.id())),
            super::short(Some(expected))
        )));
    }
    let descends = repository
        .graph_descendant_of(head_commit.id(), base_commit.id())
        .map_err(git(|| "compare the branches".to_owned()))?;
    let merged_tree = || {
        if descends {
            return head_commit
                .tree()
                .map_err(git(|| format!("read the tree of {head}")));
        }
        let mut index = repository
            .merge_commits(&base_commit, &head_commit, None)
            .map_err(git(|| format!("merge {head} into {base}")))?;
        if index.has_conflicts() {
            return Err(rejected(format!("{head} conflicts with {base}")));
        }
        index
            .write_tree_to(&repository)
            .and_then(|tree| repository.find_tree(tree))
            .map_err(git(|| "write the merged tree".to_owned()))
    };
    let merged = match style {
        MergeStyle::Merge if descends => head_commit.id(),
        MergeStyle::Merge => commit_tree(
            &repository,
            &merged_tree()?,
            &[&base_commit, &head_commit],
            author,
            message,
        )?,
        MergeStyle::Squash => commit_tree(
            &repository,
            &merged_tree()?,
            &[&base_commit],
            author,
            message,
        )?,
        MergeStyle::Rebase => rebase(&repository, &base_commit, &head_commit, &rejected)?,
    };
    repository
        .reference(
            &format!("refs/heads/{base}"),
            merged,
            true,
            "fleetmod forge: merge",
        )
        .map_err(git(|| format!("move {base}")))?;
    Ok(merged)
}

/// Replays the commits of `head` that `base` lacks onto `base`, oldest
/// first, keeping each commit's author and message.
fn rebase(
    repository: &Repository,
    base: &git2::Commit<'_>,
    head: &git2::Commit<'_>,
    rejected: &dyn Fn(String) -> GitError,
) -> Result<Oid, GitError> {
    let mut walk = repository
        .revwalk()
        .map_err(git(|| "list the commits to rebase".to_owned()))?;
    walk.push(head.id())
        .and_then(|()| walk.hide(base.id()))
        .and_then(|()| walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE))
        .map_err(git(|| "list the commits to rebase".to_owned()))?;
    let mut onto = base.clone();
    for id in walk {
        let commit = id
            .and_then(|id| repository.find_commit(id))
            .map_err(git(|| "read a commit to rebase".to_owned()))?;
        if commit.parent_count() > 1 {
            continue;
        }
        let mut index = repository
            .cherrypick_commit(&commit, &onto, 0, None)
            .map_err(git(|| format!("replay {}", commit.id())))?;
        if index.has_conflicts() {
            return Err(rejected(format!("{} conflicts with the base", commit.id())));
        }
        let tree = index
            .write_tree_to(repository)
            .and_then(|tree| repository.find_tree(tree))
            .map_err(git(|| "write a rebased tree".to_owned()))?;
        let committer = repository
            .signature()
            .or_else(|_| Signature::now("Local forge", "forge@localhost"))
            .map_err(git(|| "make the committer".to_owned()))?;
        let id = repository
            .commit(
                None,
                &commit.author(),
                &committer,
                commit.message().unwrap_or_default(),
                &tree,
                &[&onto],
            )
            .map_err(git(|| "write a rebased commit".to_owned()))?;
        onto = repository
            .find_commit(id)
            .map_err(git(|| "read a rebased commit".to_owned()))?;
    }
    Ok(onto.id())
}
