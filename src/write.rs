//! Writing rewritten files safely.
//!
//! A file is replaced atomically: the new text goes to a temporary file in
//! the same folder (`.fleetmod-XXXXXX`), takes the old file's permissions,
//! is flushed to disk and renamed over the old file, so a crash leaves either
//! the old or the new text, never a mix. A path that resolves (through
//! symlinks) outside the root being rewritten is refused; a symlink inside
//! the root is written through, so the link itself stays a link.
//!
//! Replacements are made in batches ([`Replacer`]): the temporary files of a
//! batch are written first, then flushed to disk together, then renamed.
//! One flush per batch costs far less than one per file (each waits for
//! the disk), and the guarantee is the same: no file is renamed before its
//! new text is on disk. On Linux the flush is one `syncfs` per filesystem;
//! elsewhere each temporary file is fsynced as it is written. A crash
//! mid-batch can leave up to [`Replacer::BATCH`] temporary files behind.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{} resolves to {}, outside {}; not following the symlink", path.display(), target.display(), root.display())]
    OutsideRoot {
        path: PathBuf,
        target: PathBuf,
        root: PathBuf,
    },
    #[error("failed to write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Replaces files atomically, a batch at a time.
///
/// [`Replacer::stage`] writes a file's new text beside it;
/// [`Replacer::commit`] flushes the staged texts and renames them over their
/// files. Staged texts that are never committed are deleted when the
/// replacer is dropped, leaving their files as they were.
#[derive(Default)]
pub struct Replacer {
    /// Each root as given, and where it resolves to.
    roots: HashMap<PathBuf, PathBuf>,
    staged: Vec<Staged>,
}

/// A new text written beside the file it is to replace.
struct Staged {
    temporary: tempfile::TempPath,
    target: PathBuf,
    /// The filesystem the temporary file is on.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    device: u64,
}

impl Staged {
    /// The folder the temporary file is in.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    fn folder(&self) -> &Path {
        self.temporary.parent().unwrap_or(Path::new("."))
    }
}

impl Replacer {
    /// How many files a batch holds before [`Replacer::stage`] asks for a
    /// commit.
    pub const BATCH: usize = 256;

    pub fn new() -> Replacer {
        Replacer::default()
    }

    /// Writes the new `contents` of `path` (which must resolve inside
    /// `root`) to a temporary file beside it. Returns whether the batch is
    /// full, so that the caller should [`commit`](Replacer::commit) it.
    pub fn stage(&mut self, path: &Path, root: &Path, contents: &str) -> Result<bool, WriteError> {
        if !self.roots.contains_key(root) {
            let resolved = root.canonicalize().map_err(io(root))?;
            self.roots.insert(root.to_path_buf(), resolved);
        }
        let root = &self.roots[root];
        let target = path.canonicalize().map_err(io(path))?;
        if !target.starts_with(root) {
            return Err(WriteError::OutsideRoot {
                path: path.to_path_buf(),
                target,
                root: root.clone(),
            });
        }
        let metadata = std::fs::metadata(&target).map_err(io(&target))?;
        let mut temporary = tempfile::Builder::new()
            .prefix(".fleetmod-")
            .tempfile_in(target.parent().unwrap_or(root))
            .map_err(io(&target))?;
        let file = temporary.as_file_mut();
        file.write_all(contents.as_bytes()).map_err(io(&target))?;
        file.set_permissions(metadata.permissions())
            .map_err(io(&target))?;
        if !cfg!(target_os = "linux") {
            file.sync_all().map_err(io(&target))?;
        }
        self.staged.push(Staged {
            temporary: temporary.into_temp_path(),
            target,
            device: device(&metadata),
        });
        Ok(self.staged.len() >= Replacer::BATCH)
    }

    /// Flushes the staged texts to disk and renames each over its file, in
    /// the order they were staged. Returns the files that could not be
    /// replaced; if the flush fails, none is.
    pub fn commit(&mut self) -> Vec<WriteError> {
        let staged = std::mem::take(&mut self.staged);
        if let Err(error) = flush(&staged) {
            return staged
                .into_iter()
                .map(|file| error.to_failure(&file.target))
                .collect();
        }
        staged
            .into_iter()
            .filter_map(|file| {
                let target = file.target;
                file.temporary
                    .persist(&target)
                    .err()
                    .map(|error| io(&target)(error.error))
            })
            .collect()
    }
}

/// A failed flush, which fails every file of its batch.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
struct FlushError {
    folder: PathBuf,
    source: std::io::Error,
}

impl FlushError {
    fn to_failure(&self, target: &Path) -> WriteError {
        WriteError::Io {
            path: target.to_path_buf(),
            source: std::io::Error::new(
                self.source.kind(),
                format!(
                    "failed to flush {} to disk: {}",
                    self.folder.display(),
                    self.source
                ),
            ),
        }
    }
}

/// Puts the staged files' texts on disk: one `syncfs` per filesystem.
#[cfg(target_os = "linux")]
fn flush(staged: &[Staged]) -> Result<(), FlushError> {
    let mut synced = Vec::new();
    for file in staged {
        if synced.contains(&file.device) {
            continue;
        }
        let failed = |source| FlushError {
            folder: file.folder().to_path_buf(),
            source,
        };
        let folder = std::fs::File::open(file.folder()).map_err(failed)?;
        rustix::fs::syncfs(&folder).map_err(|error| failed(error.into()))?;
        synced.push(file.device);
    }
    Ok(())
}

/// Each staged file was fsynced as it was written.
#[cfg(not(target_os = "linux"))]
fn flush(_staged: &[Staged]) -> Result<(), FlushError> {
    Ok(())
}

#[cfg(unix)]
fn device(metadata: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::dev(metadata)
}

#[cfg(not(unix))]
fn device(_metadata: &std::fs::Metadata) -> u64 {
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replace_file(path: &Path, root: &Path, contents: &str) -> Result<(), WriteError> {
        let mut replacer = Replacer::new();
        replacer.stage(path, root, contents)?;
        match replacer.commit().pop() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    #[test]
    fn a_batch_changes_nothing_until_it_is_committed() {
        let directory = tempfile::tempdir().expect("tempdir");
        let names = ["a.py", "b.py"];
        for name in names {
            std::fs::write(directory.path().join(name), "old").expect("write");
        }
        let entries = || std::fs::read_dir(directory.path()).expect("list").count();
        let read = |name| std::fs::read_to_string(directory.path().join(name)).expect("read");
        let mut replacer = Replacer::new();
        for name in names {
            let full = replacer
                .stage(&directory.path().join(name), directory.path(), "new")
                .expect("staged");
            assert!(!full);
        }
        assert_eq!((read("a.py"), read("b.py")), ("old".into(), "old".into()));
        assert_eq!(entries(), 4, "two files and two staged texts");
        assert!(replacer.commit().is_empty());
        assert_eq!((read("a.py"), read("b.py")), ("new".into(), "new".into()));
        assert_eq!(entries(), 2);

        replacer
            .stage(&directory.path().join("a.py"), directory.path(), "newer")
            .expect("staged");
        drop(replacer);
        assert_eq!(read("a.py"), "new", "an uncommitted text is dropped");
        assert_eq!(entries(), 2, "and its temporary file deleted");
    }

    #[test]
    fn a_full_batch_asks_for_a_commit() {
        let directory = tempfile::tempdir().expect("tempdir");
        let mut replacer = Replacer::new();
        let mut full = Vec::new();
        for index in 0..Replacer::BATCH {
            let path = directory.path().join(format!("f{index}.py"));
            std::fs::write(&path, "old").expect("write");
            full.push(
                replacer
                    .stage(&path, directory.path(), "new")
                    .expect("staged"),
            );
        }
        assert_eq!(full.iter().filter(|full| **full).count(), 1);
        assert_eq!(full.last(), Some(&true));
        assert!(replacer.commit().is_empty());
    }

    #[test]
    fn files_are_replaced_with_their_permissions() {
        let directory = tempfile::tempdir().expect("tempdir");
        let path = directory.path().join("a.py");
        std::fs::write(&path, "old").expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o751)).expect("chmod");
        }
        replace_file(&path, directory.path(), "new").expect("replaced");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o751);
        }
        let leftovers: Vec<_> = std::fs::read_dir(directory.path()).expect("list").collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_of_the_root_are_refused_and_inside_are_kept() {
        let outside = tempfile::tempdir().expect("tempdir");
        let root = tempfile::tempdir().expect("tempdir");
        let secret = outside.path().join("secret.py");
        std::fs::write(&secret, "keep").expect("write");
        let link = root.path().join("link.py");
        std::os::unix::fs::symlink(&secret, &link).expect("symlink");
        let error = replace_file(&link, root.path(), "changed").unwrap_err();
        assert!(matches!(error, WriteError::OutsideRoot { .. }), "{error}");
        assert_eq!(std::fs::read_to_string(&secret).expect("read"), "keep");

        let real = root.path().join("real.py");
        std::fs::write(&real, "old").expect("write");
        let inner_link = root.path().join("inner.py");
        std::os::unix::fs::symlink(&real, &inner_link).expect("symlink");
        replace_file(&inner_link, root.path(), "new").expect("written through");
        assert_eq!(std::fs::read_to_string(&real).expect("read"), "new");
        assert!(
            std::fs::symlink_metadata(&inner_link)
                .expect("metadata")
                .file_type()
                .is_symlink()
        );
    }
}
