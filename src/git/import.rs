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

/// Merges branch `head` into branch `base` of the bare repository `bare`:
/// a fast-forward when possible, else a merge commit. Conflicts are an
/// error and change nothing. Returns the new head of `base`.
pub fn merge_branch(
    bare: &Path,
    base: &str,
    head: &str,
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
    let base_ref = format!("refs/heads/{base}");
    let descends = repository
        .graph_descendant_of(head_commit.id(), base_commit.id())
        .map_err(git(|| "compare the branches".to_owned()))?;
    let merged = if descends {
        head_commit.id()
    } else {
        let mut index = repository
            .merge_commits(&base_commit, &head_commit, None)
            .map_err(git(|| format!("merge {head} into {base}")))?;
        if index.has_conflicts() {
            return Err(GitError::Rejected {
                branch: base.to_owned(),
                url: bare.display().to_string(),
                message: format!("{head} conflicts with {base}"),
            });
        }
        let tree = index
            .write_tree_to(&repository)
            .and_then(|tree| repository.find_tree(tree))
            .map_err(git(|| "write the merged tree".to_owned()))?;
        commit_tree(
            &repository,
            &tree,
            &[&base_commit, &head_commit],
            author,
            message,
        )?
    };
    repository
        .reference(&base_ref, merged, true, "fleetmod forge: merge")
        .map_err(git(|| format!("move {base}")))?;
    Ok(merged)
}
