//! The list of files found, kept small.
//!
//! The list is held for the whole run (so that results come out in path
//! order), so its size per file adds straight to the peak memory. A file is
//! stored as its path within the root it was found under and the index of
//! that root; its full path and glob path are built when it is handed out
//! ([`SourceFiles::get`]). On the OpenJDK class library that takes 28% of
//! the memory of keeping both paths of every file (1.35 against 4.85 MB).

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
#[derive(Clone, Debug)]
pub(super) enum FoundRoot {
    Folder {
        /// The folder as given, without a leading `./`.
        path: PathBuf,
        /// What glob paths of files within it start with: the folder
        /// relative to the glob base when it lies under it, else nothing
        /// (the glob path is the path within the folder).
        glob_prefix: Option<PathBuf>,
    },
    /// A file named as a root: its path as given, and its glob path.
    File { path: PathBuf, glob_path: PathBuf },
}

/// A file found: its root and its path within it (empty for a root that
/// is itself a file).
#[derive(Clone, Debug)]
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
            let mut keyed: Vec<(SourceFile, FoundFile)> = files
                .into_iter()
                .map(|file| (source_file(&roots, &file), file))
                .collect();
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            keyed.dedup_by(|a, b| a.0.path == b.0.path);
            files = keyed.into_iter().map(|(_, file)| file).collect();
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
        SourceFiles {
            roots: self.roots.clone(),
            files: self.files[range].to_vec(),
        }
    }
}

fn source_file(roots: &[FoundRoot], file: &FoundFile) -> SourceFile {
    let (path, relative) = match &roots[file.root as usize] {
        FoundRoot::File { path, glob_path } => (path.clone(), glob_path.clone()),
        FoundRoot::Folder { path, glob_prefix } => {
            let relative = match glob_prefix {
                Some(prefix) => prefix.join(&file.within),
                None => file.within.to_path_buf(),
            };
            (path.join(&file.within), relative)
        }
    };
    SourceFile {
        path,
        relative,
        language: file.language,
    }
}
