//! The list of files found, kept small.
//!
//! The list is held for the whole run (so that results come out in path
//! order), so its size per file adds straight to the peak memory. A file is
//! stored as its path within the root it was found under and the index of
//! that root; its full path and glob path are built when it is handed out
//! ([`SourceFiles::get`]). On the OpenJDK class library that takes a third
//! of the memory of keeping both paths of every file.

use std::path::{Path, PathBuf};

use super::SourceFile;
use crate::lang::Language;

/// The files found under some roots, in path order.
#[derive(Debug, Default)]
pub struct SourceFiles {
    roots: Vec<FoundRoot>,
    files: Vec<FoundFile>,
}

/// A root files were found under.
#[derive(Debug)]
pub(super) struct FoundRoot {
    /// The root as given, without a leading `./`.
    pub(super) path: PathBuf,
    /// What glob paths of files within it start with: the root relative to
    /// the glob base when it lies under it, else nothing (the root itself).
    pub(super) glob_prefix: Option<PathBuf>,
    /// For a root that is a file: its glob path.
    pub(super) file_glob_path: Option<PathBuf>,
}

/// A file found: its root and its path within it (empty for a root that
/// is itself a file).
#[derive(Debug)]
pub(super) struct FoundFile {
    pub(super) root: u32,
    pub(super) within: Box<Path>,
    pub(super) language: Language,
}

impl SourceFiles {
    /// Sorts `files` by path, drops the files found twice, and keeps them.
    pub(super) fn new(roots: Vec<FoundRoot>, mut files: Vec<FoundFile>) -> SourceFiles {
        if roots.len() == 1 {
            // Under one root, the order of paths is the order within it.
            files.sort_by(|a, b| a.within.cmp(&b.within));
        } else {
            let key = |file: &FoundFile| {
                let found = source_file(&roots, file);
                (found.path, found.relative)
            };
            files.sort_by_cached_key(key);
            files.dedup_by(|a, b| source_file(&roots, a).path == source_file(&roots, b).path);
        }
        files.shrink_to_fit();
        SourceFiles { roots, files }
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The file at `index` in path order.
    pub fn get(&self, index: usize) -> SourceFile {
        source_file(&self.roots, &self.files[index])
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = SourceFile> + '_ {
        (0..self.len()).map(|index| self.get(index))
    }

    /// The files in `range` (of path order) alone.
    #[cfg(test)]
    pub(crate) fn subset(&self, range: std::ops::Range<usize>) -> SourceFiles {
        let roots = self
            .roots
            .iter()
            .map(|root| FoundRoot {
                path: root.path.clone(),
                glob_prefix: root.glob_prefix.clone(),
                file_glob_path: root.file_glob_path.clone(),
            })
            .collect();
        let files = self.files[range]
            .iter()
            .map(|file| FoundFile {
                root: file.root,
                within: file.within.clone(),
                language: file.language,
            })
            .collect();
        SourceFiles { roots, files }
    }
}

fn source_file(roots: &[FoundRoot], file: &FoundFile) -> SourceFile {
    let root = &roots[file.root as usize];
    if let Some(glob_path) = &root.file_glob_path {
        return SourceFile {
            path: root.path.clone(),
            relative: glob_path.clone(),
            language: file.language,
        };
    }
    let path = root.path.join(&file.within);
    let relative = match &root.glob_prefix {
        Some(prefix) => prefix.join(&file.within),
        None => file.within.to_path_buf(),
    };
    SourceFile {
        path,
        relative,
        language: file.language,
    }
}
