//! What the integration tests share: the binary in a plain environment and
//! temporary projects made of files.

#![allow(dead_code)]

use std::path::Path;

use assert_cmd::Command;
use tempfile::TempDir;

/// The fleetmod binary, run in `directory`, with no colour settings or test
/// hooks inherited from the caller's environment.
pub(crate) fn fleetmod(directory: &Path) -> Command {
    let mut command = Command::cargo_bin("fleetmod").expect("binary");
    command
        .current_dir(directory)
        .env("TERM", "dumb")
        .env_remove("NO_COLOR")
        .env_remove("FLEETMOD_TEST_CRASH")
        .env_remove("GITHUB_TOKEN")
        .env_remove("RUST_LOG");
    command
}

/// Writes `text` to `path` under `root`, creating folders.
pub(crate) fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// A temporary folder holding `files` (path, text).
pub(crate) fn project(files: &[(&str, &str)]) -> TempDir {
    let directory = tempfile::tempdir().expect("tempdir");
    for (path, text) in files {
        write(directory.path(), path, text);
    }
    directory
}
