//! Writing rewritten files safely.
//!
//! A file is replaced atomically: the new text goes to a temporary file in
//! the same folder, takes the old file's permissions, is flushed to disk and
//! renamed over the old file, so a crash leaves either the old or the new
//! text, never a mix. A path that resolves (through symlinks) outside the
//! root being rewritten is refused; a symlink inside the root is written
//! through, so the link itself stays a link.

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

/// Replaces the contents of `path` (which must resolve inside `root`).
pub fn replace_file(path: &Path, root: &Path, contents: &str) -> Result<(), WriteError> {
    let root = root.canonicalize().map_err(io(root))?;
    let target = path.canonicalize().map_err(io(path))?;
    if !target.starts_with(&root) {
        return Err(WriteError::OutsideRoot {
            path: path.to_path_buf(),
            target,
            root,
        });
    }
    let permissions = std::fs::metadata(&target)
        .map_err(io(&target))?
        .permissions();
    let folder = target.parent().unwrap_or(&root);
    let mut temporary = tempfile::Builder::new()
        .prefix(".fleetmod-")
        .tempfile_in(folder)
        .map_err(io(&target))?;
    temporary
        .write_all(contents.as_bytes())
        .map_err(io(&target))?;
    temporary.as_file().sync_all().map_err(io(&target))?;
    std::fs::set_permissions(temporary.path(), permissions).map_err(io(&target))?;
    temporary
        .persist(&target)
        .map_err(|error| io(&target)(error.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
