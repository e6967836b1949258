//! Git through git2: cached mirrors, checkouts, commits and pushes.
//!
//! Every repository is cached as a bare mirror (all branches, fetched with
//! `+refs/heads/*:refs/heads/*`). A checkout writes the files of one commit
//! into a plain folder; commits are built from the base commit's tree plus
//! the changed files, so the folder is never staged. Pushes are guarded by a
//! lease: the remote branch must still be where the caller expects, else
//! nothing is pushed. This module never prints.

mod http;
mod import;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use git2::{
    Direction, FetchOptions, ObjectType, Oid, PushOptions, RemoteCallbacks, Repository,
    RepositoryInitOptions, Signature, TreeWalkMode, TreeWalkResult,
};

pub use self::import::{MergeStyle, import_folder, merge_branch};

/// The trailer that marks fleetmod's commits: `Fleetmod-Migration: <id>`.
pub const TRAILER: &str = "Fleetmod-Migration";

/// A failed git operation, with what was being done.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("failed to {action}: {}", source.message())]
    Git {
        action: String,
        #[source]
        source: git2::Error,
    },
    #[error("failed to {action}: {source}")]
    Io {
        action: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "branch {branch} on {url} moved (expected {}, found {}); not pushing over it",
        short(*expected), short(*found)
    )]
    LeaseBroken {
        branch: String,
        url: String,
        expected: Option<Oid>,
        found: Option<Oid>,
    },
    #[error("push of branch {branch} to {url} was rejected: {message}")]
    Rejected {
        branch: String,
        url: String,
        message: String,
    },
    #[error("failed to set up git's HTTP transport: {0}")]
    Transport(String),
}

/// A short sha, or `nothing` for a missing branch.
pub fn short(oid: Option<Oid>) -> String {
    oid.map_or_else(
        || "nothing".to_owned(),
        |oid| oid.to_string()[..10].to_owned(),
    )
}

fn git(action: impl FnOnce() -> String) -> impl FnOnce(git2::Error) -> GitError {
    move |source| GitError::Git {
        action: action(),
        source,
    }
}

fn io(action: impl FnOnce() -> String) -> impl FnOnce(std::io::Error) -> GitError {
    move |source| GitError::Io {
        action: action(),
        source,
    }
}

/// A username and password (for a forge: a token) for HTTPS remotes. The
/// secret is only ever sent as an HTTP `Authorization` header, to a server
/// that asks for it (see the `http` module), so it never becomes part of a
/// URL or `.git/config`, and it is never shown.
#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    password: String,
}

impl Credentials {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "Credentials({}, <redacted>)", self.username)
    }
}

/// What a remote has: its default branch and every branch head.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemoteHeads {
    pub default_branch: Option<String>,
    pub branches: BTreeMap<String, Oid>,
}

/// Lists a remote's branches without fetching (`git ls-remote`).
pub fn remote_heads(url: &str, credentials: Option<&Credentials>) -> Result<RemoteHeads, GitError> {
    let _credentials = http::CredentialScope::enter(credentials)?;
    let mut remote =
        git2::Remote::create_detached(url).map_err(git(|| format!("read remote {url}")))?;
    let mut connection = remote
        .connect_auth(Direction::Fetch, None, None)
        .map_err(git(|| format!("connect to {url}")))?;
    let remote = connection.remote();
    let mut heads = RemoteHeads::default();
    for head in remote
        .list()
        .map_err(git(|| format!("list the branches of {url}")))?
    {
        if head.name() == "HEAD" {
            heads.default_branch = head
                .symref_target()
                .and_then(|target| target.strip_prefix("refs/heads/"))
                .map(str::to_owned);
        } else if let Some(branch) = head.name().strip_prefix("refs/heads/") {
            heads.branches.insert(branch.to_owned(), head.oid());
        }
    }
    Ok(heads)
}

/// Writes a commit of `tree` with `parents` (moving no branch); the author
/// is also the committer.
pub(crate) fn commit_tree(
    repository: &Repository,
    tree: &git2::Tree<'_>,
    parents: &[&git2::Commit<'_>],
    author: (&str, &str),
    message: &str,
) -> Result<Oid, GitError> {
    let signature = Signature::now(author.0, author.1).map_err(git(|| {
        format!("make the commit author {} <{}>", author.0, author.1)
    }))?;
    repository
        .commit(None, &signature, &signature, message, tree, parents)
        .map_err(git(|| format!("write a commit of tree {}", tree.id())))
}

/// A commit's facts that fleetmod decides on.
#[derive(Clone, Debug)]
pub struct CommitInfo {
    pub id: Oid,
    pub tree: Oid,
    pub parents: Vec<Oid>,
    pub message: String,
    pub author: String,
}

impl CommitInfo {
    /// Whether fleetmod made this commit for `migration` (its trailer says so).
    pub fn is_fleetmod(&self, migration: &str) -> bool {
        self.message
            .lines()
            .any(|line| line.trim() == format!("{TRAILER}: {migration}"))
    }
}

/// A bare mirror of one remote repository.
pub struct Mirror {
    repository: Repository,
    path: PathBuf,
}

impl Mirror {
    /// Opens the mirror at `path`, creating it (empty) when missing.
    pub fn open_or_create(path: &Path) -> Result<Mirror, GitError> {
        let repository = if path.join("HEAD").exists() {
            Repository::open_bare(path)
                .map_err(git(|| format!("open mirror {}", path.display())))?
        } else {
            std::fs::create_dir_all(path)
                .map_err(io(|| format!("create mirror folder {}", path.display())))?;
            let mut options = RepositoryInitOptions::new();
            options.bare(true);
            Repository::init_opts(path, &options)
                .map_err(git(|| format!("create mirror {}", path.display())))?
        };
        Ok(Mirror {
            repository,
            path: path.to_path_buf(),
        })
    }

    /// Fetches every branch of `url` (pruning deleted ones).
    pub fn fetch(&self, url: &str, credentials: Option<&Credentials>) -> Result<(), GitError> {
        let _credentials = http::CredentialScope::enter(credentials)?;
        let mut remote = self
            .repository
            .remote_anonymous(url)
            .map_err(git(|| format!("read remote {url}")))?;
        let mut options = FetchOptions::new();
        options.prune(git2::FetchPrune::On);
        remote
            .fetch(
                &["+refs/heads/*:refs/heads/*"],
                Some(&mut options),
                Some("fleetmod: fetch"),
            )
            .map_err(git(|| format!("fetch {url} into {}", self.path.display())))
    }

    /// The commit `branch` points at, if the branch exists.
    pub fn branch_head(&self, branch: &str) -> Option<Oid> {
        self.repository
            .refname_to_id(&format!("refs/heads/{branch}"))
            .ok()
    }

    /// Points `branch` at `commit`, creating or moving it.
    pub fn set_branch(&self, branch: &str, commit: Oid) -> Result<(), GitError> {
        self.repository
            .reference(&format!("refs/heads/{branch}"), commit, true, "fleetmod")
            .map(drop)
            .map_err(git(|| format!("point branch {branch} at {commit}")))
    }

    /// Whether the mirror has commit `id`.
    pub fn has_commit(&self, id: Oid) -> bool {
        self.repository.find_commit(id).is_ok()
    }

    /// The facts of commit `id`.
    pub fn commit_info(&self, id: Oid) -> Result<CommitInfo, GitError> {
        let commit = self
            .repository
            .find_commit(id)
            .map_err(git(|| format!("read commit {id}")))?;
        let author = commit.author();
        Ok(CommitInfo {
            id,
            tree: commit.tree_id(),
            parents: commit.parent_ids().collect(),
            message: commit.message().unwrap_or_default().to_owned(),
            author: format!(
                "{} <{}>",
                author.name().unwrap_or_default(),
                author.email().unwrap_or_default()
            ),
        })
    }

    /// Writes the files of commit `id` into `folder`, replacing whatever
    /// the folder held. Symbolic links and submodules are left out.
    pub fn checkout(&self, id: Oid, folder: &Path) -> Result<(), GitError> {
        if folder.exists() {
            std::fs::remove_dir_all(folder)
                .map_err(io(|| format!("clear checkout {}", folder.display())))?;
        }
        std::fs::create_dir_all(folder)
            .map_err(io(|| format!("create checkout {}", folder.display())))?;
        let tree = self
            .repository
            .find_commit(id)
            .and_then(|commit| commit.tree())
            .map_err(git(|| format!("read the tree of {id}")))?;
        let mut failure = None;
        tree.walk(TreeWalkMode::PreOrder, |parent, entry| {
            let Ok(name) = entry.name() else {
                return TreeWalkResult::Skip;
            };
            let path = folder.join(parent).join(name);
            let result = match entry.kind() {
                Some(ObjectType::Tree) => std::fs::create_dir_all(&path)
                    .map_err(io(|| format!("create {}", path.display()))),
                Some(ObjectType::Blob) if entry.filemode() != 0o120000 => self
                    .repository
                    .find_blob(entry.id())
                    .map_err(git(|| format!("read {}", path.display())))
                    .and_then(|blob| {
                        std::fs::write(&path, blob.content())
                            .map_err(io(|| format!("write {}", path.display())))
                    }),
                _ => Ok(()),
            };
            match result {
                Ok(()) => TreeWalkResult::Ok,
                Err(error) => {
                    failure = Some(error);
                    TreeWalkResult::Abort
                }
            }
        })
        .ok();
        match failure {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// A new commit on top of `parent` whose tree is the parent's with the
    /// given files (paths relative to the repository root, `/`-separated)
    /// replaced. Does not move any branch.
    pub fn commit_files(
        &self,
        parent: Oid,
        files: &[(String, Vec<u8>)],
        author: (&str, &str),
        message: &str,
    ) -> Result<Oid, GitError> {
        let repository = &self.repository;
        let parent_commit = repository
            .find_commit(parent)
            .map_err(git(|| format!("read commit {parent}")))?;
        let base_tree = parent_commit
            .tree()
            .map_err(git(|| format!("read the tree of {parent}")))?;
        let mut update = git2::build::TreeUpdateBuilder::new();
        for (path, contents) in files {
            let blob = repository
                .blob(contents)
                .map_err(git(|| format!("store {path}")))?;
            let mode = base_tree
                .get_path(Path::new(path))
                .map_or(git2::FileMode::Blob, |entry| {
                    if entry.filemode() == 0o100755 {
                        git2::FileMode::BlobExecutable
                    } else {
                        git2::FileMode::Blob
                    }
                });
            update.upsert(path, blob, mode);
        }
        let tree_id = update
            .create_updated(repository, &base_tree)
            .map_err(git(|| "build the changed tree".to_owned()))?;
        let tree = repository
            .find_tree(tree_id)
            .map_err(git(|| "read the changed tree".to_owned()))?;
        commit_tree(repository, &tree, &[&parent_commit], author, message)
    }

    /// Points `branch` of `url` at `commit` (or deletes it, for `None`),
    /// if the remote branch is still at `expected` (`None`: absent). The
    /// lease is checked against what the remote advertises on the push's
    /// own connection, and the remote applies the update only if the branch
    /// is still there, so nothing pushed in between is overwritten.
    pub fn push(
        &self,
        url: &str,
        branch: &str,
        commit: Option<Oid>,
        expected: Option<Oid>,
        credentials: Option<&Credentials>,
    ) -> Result<(), GitError> {
        let remote_ref = format!("refs/heads/{branch}");
        let local = format!("refs/fleetmod/heads/{branch}");
        let refspec = match commit {
            Some(commit) => {
                self.repository
                    .reference(&local, commit, true, "fleetmod: push")
                    .map_err(git(|| format!("point {local} at {commit}")))?;
                format!("+{local}:{remote_ref}")
            }
            None => format!(":{remote_ref}"),
        };
        let _credentials = http::CredentialScope::enter(credentials)?;
        let mut rejected: Option<String> = None;
        let mut moved: Option<Option<Oid>> = None;
        let mut remote = self
            .repository
            .remote_anonymous(url)
            .map_err(git(|| format!("read remote {url}")))?;
        let pushed = {
            let mut callbacks = RemoteCallbacks::new();
            callbacks.push_negotiation(|updates| {
                for update in updates {
                    if update.dst_refname().ok() == Some(remote_ref.as_str()) {
                        let found = Some(update.src()).filter(|oid| !oid.is_zero());
                        if found != expected {
                            moved = Some(found);
                            return Err(git2::Error::from_str("the branch moved"));
                        }
                    }
                }
                Ok(())
            });
            callbacks.push_update_reference(|_, status| {
                if let Some(message) = status {
                    rejected = Some(message.to_owned());
                }
                Ok(())
            });
            let mut options = PushOptions::new();
            options.remote_callbacks(callbacks);
            remote.push(&[refspec.as_str()], Some(&mut options))
        };
        if let Some(found) = moved {
            return Err(GitError::LeaseBroken {
                branch: branch.to_owned(),
                url: url.to_owned(),
                expected,
                found,
            });
        }
        pushed.map_err(git(|| format!("push branch {branch} to {url}")))?;
        match rejected {
            Some(message) => Err(GitError::Rejected {
                branch: branch.to_owned(),
                url: url.to_owned(),
                message,
            }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
