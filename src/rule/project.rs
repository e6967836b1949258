//! ast-grep project files (`sgconfig.yml`), so an ast-grep rule repository
//! works unchanged: `ruleDirs`, `utilDirs` and `testConfigs` are honoured.
//!
//! The file is looked for in the working directory and then its ancestors,
//! as ast-grep does. Keys for ast-grep features fleetmod does not have
//! (custom languages, language globs, injections) are accepted and reported
//! as warnings rather than rejected, so the same file serves both tools.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::{Located, RuleError};

/// A discovered `sgconfig.yml`.
#[derive(Debug, Clone)]
pub struct Project {
    /// The file itself.
    pub path: PathBuf,
    /// The folder holding it; the other paths are relative to it.
    pub root: PathBuf,
    pub rule_dirs: Vec<PathBuf>,
    pub util_dirs: Vec<PathBuf>,
    pub test_dirs: Vec<TestDirectory>,
    /// ast-grep features that fleetmod accepts but ignores.
    pub ignored_keys: Vec<String>,
    /// Keys fleetmod does not know (a newer ast-grep's, or a typo).
    pub unknown_keys: Vec<String>,
}

/// A `testConfigs` entry.
#[derive(Debug, Clone)]
pub struct TestDirectory {
    pub test_dir: PathBuf,
    pub snapshot_dir: Option<PathBuf>,
}

/// Unlike rule files, a project file is ast-grep's: keys fleetmod does not
/// know (ast-grep's own or from a newer ast-grep) are reported, not fatal.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProject {
    #[serde(default)]
    rule_dirs: Vec<PathBuf>,
    #[serde(default)]
    util_dirs: Vec<PathBuf>,
    #[serde(default)]
    test_configs: Vec<RawTestConfig>,
    custom_languages: Option<serde_json::Value>,
    language_globs: Option<serde_json::Value>,
    language_injections: Option<serde_json::Value>,
    no_ignore: Option<serde_json::Value>,
    #[serde(flatten)]
    unknown: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawTestConfig {
    test_dir: PathBuf,
    snapshot_dir: Option<PathBuf>,
}

const FILE_NAMES: [&str; 2] = ["sgconfig.yml", "sgconfig.yaml"];

impl Project {
    /// Finds and reads the project file for `directory`, if there is one.
    pub fn discover(directory: &Path) -> Result<Option<Project>, RuleError> {
        for folder in directory.ancestors() {
            for name in FILE_NAMES {
                let path = folder.join(name);
                if path.is_file() {
                    return Project::read(&path).map(Some);
                }
            }
        }
        Ok(None)
    }

    /// Reads a project file.
    pub fn read(path: &Path) -> Result<Project, RuleError> {
        let text = std::fs::read_to_string(path).map_err(|source| RuleError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let raw: RawProject = serde_saphyr::from_str(&text).map_err(|error| {
            let located = super::load::yaml_error(&error);
            RuleError::invalid(path, None, Located::new(located.point, located.message))
        })?;
        let ignored_keys = [
            ("customLanguages", raw.custom_languages.is_some()),
            ("languageGlobs", raw.language_globs.is_some()),
            ("languageInjections", raw.language_injections.is_some()),
            ("noIgnore", raw.no_ignore.is_some()),
        ]
        .into_iter()
        .filter(|(_, present)| *present)
        .map(|(key, _)| key.to_owned())
        .collect();
        let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(Project {
            path: path.to_path_buf(),
            rule_dirs: raw.rule_dirs.iter().map(|dir| root.join(dir)).collect(),
            util_dirs: raw.util_dirs.iter().map(|dir| root.join(dir)).collect(),
            test_dirs: raw
                .test_configs
                .into_iter()
                .map(|config| TestDirectory {
                    test_dir: root.join(config.test_dir),
                    snapshot_dir: config.snapshot_dir,
                })
                .collect(),
            ignored_keys,
            unknown_keys: raw.unknown.into_keys().collect(),
            root,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_files_are_found_upwards_and_resolved() {
        let temporary = tempfile::tempdir().expect("tempdir");
        let root = temporary.path();
        std::fs::write(
            root.join("sgconfig.yml"),
            "ruleDirs: [rules]\nutilDirs: [utils]\ntestConfigs:\n  - testDir: rule-tests\ncustomLanguages: {}\n",
        )
        .expect("write");
        let nested = root.join("a/b");
        std::fs::create_dir_all(&nested).expect("mkdir");
        let project = Project::discover(&nested).expect("reads").expect("found");
        assert_eq!(project.rule_dirs, vec![root.join("rules")]);
        assert_eq!(project.util_dirs, vec![root.join("utils")]);
        assert_eq!(project.test_dirs[0].test_dir, root.join("rule-tests"));
        assert_eq!(project.ignored_keys, vec!["customLanguages".to_owned()]);
    }

    #[test]
    fn unknown_project_keys_are_reported_not_fatal() {
        let temporary = tempfile::tempdir().expect("tempdir");
        let path = temporary.path().join("sgconfig.yml");
        std::fs::write(&path, "ruleDirs: [rules]\nignoreFiles: [a]\n").expect("write");
        let project = Project::read(&path).expect("reads");
        assert_eq!(project.unknown_keys, vec!["ignoreFiles".to_owned()]);
        std::fs::write(&path, "ruleDirs: rules\n").expect("write");
        let error = Project::read(&path).unwrap_err().to_string();
        assert!(error.contains("sgconfig.yml:1:"), "{error}");
    }
}
