//! Source files on disk: finding them and reading them safely.
//!
//! Folders are walked in parallel with the `ignore` crate, so `.gitignore`,
//! `.ignore` and hidden files are honoured as in ripgrep; files named
//! explicitly are always taken. Only files whose extension maps to a wanted
//! language are kept, sorted by path so every later stage is deterministic.
//! Reading refuses files that are too large, look binary or are not UTF-8,
//! and says which, so callers can count what they skipped.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::lang::Language;
use crate::progress::Reporter;

mod found;
mod memory;
mod stream;

pub use found::SourceFiles;
use found::{Found, FoundRoot};
pub use stream::stream;

/// A source file to process.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourceFile {
    /// The path as found (relative paths stay relative).
    pub path: PathBuf,
    /// The path that rule `files`/`ignores` globs are matched against:
    /// relative to [`WalkOptions::glob_base`] when the file lies under it,
    /// else relative to the root it was found under.
    pub relative: PathBuf,
    pub language: Language,
}

/// Options for finding files.
#[derive(Clone, Debug)]
pub struct WalkOptions {
    /// Keep only files of these languages.
    pub languages: Vec<Language>,
    /// Honour `.gitignore`, `.ignore` and hidden-file rules.
    pub respect_ignores: bool,
    pub threads: usize,
    /// The folder rule globs are relative to (as ast-grep: the project
    /// folder, or the working directory); `None` means each walked root.
    pub glob_base: Option<PathBuf>,
}

/// Where the glob paths of the files under `root` start: the root
/// relative to `base`, when both resolve and the root lies under the base.
fn glob_prefix(root: &Path, base: Option<&Path>) -> Option<PathBuf> {
    let base = base?.canonicalize().ok()?;
    let root = root.canonicalize().ok()?;
    root.strip_prefix(&base).ok().map(Path::to_path_buf)
}

/// Why a file could not be found or read.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("{}: no such file or folder", path.display())]
    Missing { path: PathBuf },
    #[error("failed to walk {}: {message}", path.display())]
    Walk { path: PathBuf, message: String },
}

/// Finds the source files under `roots`.
pub fn find(roots: &[PathBuf], options: &WalkOptions) -> Result<SourceFiles, WalkError> {
    let mut found_roots = Vec::new();
    let found = Mutex::new(Found::default());
    let failure: Mutex<Option<WalkError>> = Mutex::new(None);
    let wanted = |language: &Language| options.languages.contains(language);
    for root in roots {
        let metadata =
            std::fs::metadata(root).map_err(|_| WalkError::Missing { path: root.clone() })?;
        let index = u32::try_from(found_roots.len()).unwrap_or(u32::MAX);
        let glob_prefix = glob_prefix(root, options.glob_base.as_deref());
        if metadata.is_file() {
            if let Some(language) = Language::from_path(root).filter(wanted) {
                let glob_path = glob_prefix.unwrap_or_else(|| {
                    root.file_name()
                        .map(PathBuf::from)
                        .unwrap_or_else(|| root.clone())
                });
                found_roots.push(FoundRoot::File {
                    path: root.clone(),
                    glob_path,
                });
                lock(&found).push(index, Path::new(""), language);
            }
            continue;
        }
        found_roots.push(FoundRoot::Folder {
            // `./a.py` reads as `a.py`, as ast-grep prints it.
            path: root.strip_prefix("./").unwrap_or(root).to_path_buf(),
            glob_prefix,
        });
        let walker = ignore::WalkBuilder::new(root)
            .standard_filters(options.respect_ignores)
            .require_git(false)
            .threads(options.threads.max(1))
            .build_parallel();
        walker.run(|| {
            Box::new(|entry| {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(error) => {
                        lock(&failure).get_or_insert(WalkError::Walk {
                            path: root.clone(),
                            message: error.to_string(),
                        });
                        return ignore::WalkState::Continue;
                    }
                };
                if !entry.file_type().is_some_and(|kind| kind.is_file()) {
                    return ignore::WalkState::Continue;
                }
                let Some(language) = Language::from_path(entry.path()).filter(wanted) else {
                    return ignore::WalkState::Continue;
                };
                let within = entry.path().strip_prefix(root).unwrap_or(entry.path());
                lock(&found).push(index, within, language);
                ignore::WalkState::Continue
            })
        });
    }
    if let Some(error) = failure
        .into_inner()
        .unwrap_or_else(|poison| poison.into_inner())
    {
        return Err(error);
    }
    let found = found
        .into_inner()
        .unwrap_or_else(|poison| poison.into_inner());
    Ok(SourceFiles::new(found_roots, found))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// Why a file was not processed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    TooLarge,
    Binary,
    NotUtf8,
    Unreadable,
}

impl SkipReason {
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::TooLarge => "too large",
            SkipReason::Binary => "binary",
            SkipReason::NotUtf8 => "not UTF-8",
            SkipReason::Unreadable => "unreadable",
        }
    }
}

/// Reads a source file, refusing files larger than `max_bytes`, files with a
/// NUL byte (binary) and files that are not UTF-8.
pub fn read(path: &Path, max_bytes: u64) -> Result<String, SkipReason> {
    let metadata = std::fs::metadata(path).map_err(|_| SkipReason::Unreadable)?;
    if metadata.len() > max_bytes {
        return Err(SkipReason::TooLarge);
    }
    let bytes = std::fs::read(path).map_err(|_| SkipReason::Unreadable)?;
    if bytes.len() as u64 > max_bytes {
        return Err(SkipReason::TooLarge);
    }
    if bytes.contains(&0) {
        return Err(SkipReason::Binary);
    }
    String::from_utf8(bytes).map_err(|_| SkipReason::NotUtf8)
}

/// The outcome of processing one file.
pub type Processed<T> = Result<T, SkipReason>;

/// Reads every file and runs `job` on its text, in parallel on the current
/// rayon pool. Results come back in the order of `files`.
pub fn process<T, J>(
    files: &SourceFiles,
    max_bytes: u64,
    reporter: &dyn Reporter,
    job: J,
) -> Vec<Processed<T>>
where
    T: Send,
    J: Fn(&SourceFile, &str) -> T + Sync,
{
    use rayon::prelude::*;
    reporter.begin(files.len() as u64);
    let results = (0..files.len())
        .into_par_iter()
        .map(|index| {
            let file = files.get(index);
            let result = read(&file.path, max_bytes).map(|text| job(&file, &text));
            reporter.advance(1);
            result
        })
        .collect();
    reporter.end();
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> WalkOptions {
        WalkOptions {
            languages: Language::all().collect(),
            respect_ignores: true,
            threads: 2,
            glob_base: None,
        }
    }

    #[test]
    fn walks_honour_ignore_files_and_sort() {
        let temporary = tempfile::tempdir().expect("tempdir");
        let root = temporary.path();
        std::fs::create_dir_all(root.join("src/gen")).expect("mkdir");
        std::fs::write(root.join(".gitignore"), "gen/\n").expect("write");
        std::fs::write(root.join(".ignore"), "skip.py\n").expect("write");
        for file in [
            "src/b.py",
            "src/a.java",
            "src/gen/c.py",
            "skip.py",
            "q.sql",
            "notes.txt",
        ] {
            std::fs::write(root.join(file), "x").expect("write");
        }
        let files = find(&[root.to_path_buf()], &options()).expect("walks");
        let relative: Vec<_> = files
            .iter()
            .map(|file| file.relative.to_string_lossy().into_owned())
            .collect();
        assert_eq!(relative, vec!["q.sql", "src/a.java", "src/b.py"]);
    }

    #[test]
    fn files_of_several_roots_come_out_once_in_one_path_order() {
        let temporary = tempfile::tempdir().expect("tempdir");
        let root = temporary.path();
        for file in ["a/x.py", "a/z.py", "a/m.py", "a.b/c.py", "b/c.py"] {
            std::fs::create_dir_all(root.join(file).parent().expect("folder")).expect("mkdir");
            std::fs::write(root.join(file), "x").expect("write");
        }
        let roots = ["b", "a/m.py", "a", "a.b", "a"].map(|path| root.join(path));
        let files = find(&roots, &options()).expect("walks");
        let paths: Vec<_> = files
            .iter()
            .map(|file| {
                let path = file.path.strip_prefix(root).expect("under the root");
                path.to_string_lossy().into_owned()
            })
            .collect();
        // Paths sort by component: `a/…` before `a.b/…`.
        assert_eq!(paths, ["a/m.py", "a/x.py", "a/z.py", "a.b/c.py", "b/c.py"]);
    }

    #[test]
    fn explicit_files_are_taken_even_if_ignored() {
        let temporary = tempfile::tempdir().expect("tempdir");
        let file = temporary.path().join("x.py");
        std::fs::write(&file, "x").expect("write");
        let files = find(std::slice::from_ref(&file), &options()).expect("walks");
        assert_eq!(files.len(), 1);
        assert!(matches!(
            find(&[temporary.path().join("missing")], &options()),
            Err(WalkError::Missing { .. })
        ));
    }

    #[test]
    fn glob_paths_are_relative_to_the_glob_base() {
        let temporary = tempfile::tempdir().expect("tempdir");
        let root = temporary.path();
        std::fs::create_dir_all(root.join("src/pkg")).expect("mkdir");
        std::fs::write(root.join("src/pkg/a.py"), "x").expect("write");
        let outside = tempfile::tempdir().expect("tempdir");
        std::fs::write(outside.path().join("b.py"), "x").expect("write");
        let options = WalkOptions {
            glob_base: Some(root.to_path_buf()),
            ..options()
        };
        let roots = [
            root.join("src"),
            root.join("src/pkg/a.py"),
            outside.path().to_path_buf(),
        ];
        let mut relative: Vec<_> = find(&roots, &options)
            .expect("walks")
            .iter()
            .map(|file| file.relative.to_string_lossy().into_owned())
            .collect();
        relative.sort();
        // Under the base: relative to it. Outside: relative to the root.
        assert_eq!(relative, vec!["b.py", "src/pkg/a.py"]);
    }

    #[test]
    fn reading_skips_large_binary_and_non_utf8_files() {
        let temporary = tempfile::tempdir().expect("tempdir");
        let path = temporary.path().join("f.py");
        std::fs::write(&path, "x = 1\n").expect("write");
        assert_eq!(read(&path, 100).as_deref(), Ok("x = 1\n"));
        assert_eq!(read(&path, 3), Err(SkipReason::TooLarge));
        std::fs::write(&path, b"x\0y").expect("write");
        assert_eq!(read(&path, 100), Err(SkipReason::Binary));
        std::fs::write(&path, b"x = '\xff'").expect("write");
        assert_eq!(read(&path, 100), Err(SkipReason::NotUtf8));
    }
}
