//! The list of files found, kept small.
//!
//! The list is held for the whole run (so that results come out in path
//! order), so its size per file adds straight to the peak memory. A file is
//! stored as its path within the root it was found under, written end to
//! end with the other files' paths in one buffer, and a 24-byte record: the
//! index of its root, where its path lies in the buffer, its language. Its
//! full path and glob path are built when it is handed out
//! ([`SourceFiles::get`]). On the OpenJDK class library (15,143 files) the
//! list takes 1.22 MB (heaptrack), against 4.85 MB for both paths of every
//! file and 1.34 MB for a separate allocation per path, which also paid
//! malloc's overhead on each of them.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::SourceFile;
use crate::lang::Language;

/// The files found under some roots, in path order.
#[derive(Debug, Default)]
pub struct SourceFiles {
    roots: Vec<FoundRoot>,
    found: Found,
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

/// Files as they are found: each one's path within its root is stored end
/// to end with the others in one buffer, so a file costs its name's bytes
/// and a 24-byte record instead of an allocation of its own.
#[derive(Clone, Debug, Default)]
pub(super) struct Found {
    names: Vec<u8>,
    files: Vec<FoundFile>,
}

/// A file found: its root, and where its path within that root (empty for
/// a root that is itself a file) lies in [`Found::names`].
#[derive(Clone, Debug)]
pub(super) struct FoundFile {
    start: usize,
    length: u32,
    root: u32,
    language: Language,
}

impl Found {
    pub(super) fn push(&mut self, root: u32, within: &Path, language: Language) {
        let name = within.as_os_str().as_encoded_bytes();
        self.files.push(FoundFile {
            start: self.names.len(),
            length: u32::try_from(name.len()).expect("a path is shorter than 4 GiB"),
            root,
            language,
        });
        self.names.extend_from_slice(name);
    }

    /// The path of `file` within its root.
    fn within(&self, file: &FoundFile) -> &Path {
        Path::new(os_str(
            &self.names[file.start..file.start + file.length as usize],
        ))
    }
}

#[cfg(unix)]
fn os_str(bytes: &[u8]) -> &OsStr {
    std::os::unix::ffi::OsStrExt::from_bytes(bytes)
}

#[cfg(not(unix))]
#[allow(unsafe_code)]
fn os_str(bytes: &[u8]) -> &OsStr {
    // SAFETY: `bytes` are exactly what `Found::push` copied from
    // `OsStr::as_encoded_bytes` of one whole path in this process (its
    // length is stored whole), which `from_encoded_bytes_unchecked` requires.
    unsafe { OsStr::from_encoded_bytes_unchecked(bytes) }
}

// The record's size, as the module documentation gives it.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<FoundFile>() == 24);

impl SourceFiles {
    /// Sorts the files found by path, drops the files found twice, and
    /// keeps them.
    pub(super) fn new(roots: Vec<FoundRoot>, mut found: Found) -> SourceFiles {
        let mut files = std::mem::take(&mut found.files);
        if roots.len() == 1 {
            // Under one root, the order of paths is the order within it.
            files.sort_by(|a, b| found.within(a).cmp(found.within(b)));
        } else {
            let mut keyed: Vec<(SourceFile, FoundFile)> = files
                .into_iter()
                .map(|file| (source_file(&roots, &found, &file), file))
                .collect();
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            keyed.dedup_by(|a, b| a.0.path == b.0.path);
            files = keyed.into_iter().map(|(_, file)| file).collect();
        }
        files.shrink_to_fit();
        found.files = files;
        found.names.shrink_to_fit();
        SourceFiles { roots, found }
    }

    pub fn len(&self) -> usize {
        self.found.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.found.files.is_empty()
    }

    /// The file at `index` in path order.
    pub fn get(&self, index: usize) -> SourceFile {
        source_file(&self.roots, &self.found, &self.found.files[index])
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = SourceFile> + '_ {
        (0..self.len()).map(|index| self.get(index))
    }

    /// The files in `range` (of path order) alone.
    #[cfg(test)]
    pub(crate) fn subset(&self, range: std::ops::Range<usize>) -> SourceFiles {
        SourceFiles {
            roots: self.roots.clone(),
            found: Found {
                names: self.found.names.clone(),
                files: self.found.files[range].to_vec(),
            },
        }
    }
}

fn source_file(roots: &[FoundRoot], found: &Found, file: &FoundFile) -> SourceFile {
    let within = found.within(file);
    let (path, relative) = match &roots[file.root as usize] {
        FoundRoot::File { path, glob_path } => (path.clone(), glob_path.clone()),
        FoundRoot::Folder { path, glob_prefix } => {
            let relative = match glob_prefix {
                Some(prefix) => prefix.join(within),
                None => within.to_path_buf(),
            };
            (path.join(within), relative)
        }
    };
    SourceFile {
        path,
        relative,
        language: file.language,
    }
}
