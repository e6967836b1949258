//! Rule tests: ast-grep test cases and fix fixtures.
//!
//! Two kinds of tests, both found on disk:
//!
//! - **Test cases**, in ast-grep's format: YAML documents with `id`, `valid`
//!   (snippets the rule must not match) and `invalid` (snippets it must
//!   match). They live in the `testDir` folders of an `sgconfig.yml`, or next
//!   to the rules as `<name>-test.yml`.
//! - **Fix fixtures**: `<fixtures>/<rule-id>/<case>.input.<ext>` and
//!   `<case>.expected.<ext>`. The rule's rewrite of the input must equal the
//!   expected file byte for byte, must not parse worse than the input, and a
//!   second application must change nothing (the fix converges).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::engine::Scanner;
use crate::engine::rewrite::{regression, syntax_profile};
use crate::lang::Language;
use crate::rule::error::RuleError;
use crate::rule::project::Project;
use crate::rule::{RuleErrors, RuleSet};

/// An ast-grep rule test file document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTestCase {
    id: String,
    #[serde(default)]
    valid: Vec<String>,
    #[serde(default)]
    invalid: Vec<String>,
}

/// The result of one test case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    pub rule_id: String,
    /// What was tested: `valid 2`, `invalid 1`, or a fixture path.
    pub name: String,
    /// `None` when the case passed; otherwise why it failed and details
    /// (the snippet or a diff).
    pub failure: Option<(String, String)>,
}

/// Whether a file holds test cases rather than rules: its name ends in
/// `-test.yml` (or `.test.yml`, or `.yaml`) and it has top-level `valid:`
/// or `invalid:` but no `rule:`. A rule that happens to be named
/// `py-assert-test.yml` is a rule, as in ast-grep.
pub fn is_test_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    let named = ["-test.yml", "-test.yaml", ".test.yml", ".test.yaml"]
        .iter()
        .any(|suffix| name.ends_with(suffix));
    named && std::fs::read_to_string(path).is_ok_and(|text| holds_test_cases(&text))
}

/// Whether YAML text has top-level `valid:`/`invalid:` keys and no `rule:`.
fn holds_test_cases(text: &str) -> bool {
    let keys: Vec<&str> = text
        .lines()
        .filter(|line| !line.starts_with([' ', '\t', '#', '-']))
        .filter_map(|line| line.split_once(':').map(|(key, _)| key.trim()))
        .collect();
    keys.iter().any(|key| matches!(*key, "valid" | "invalid")) && !keys.contains(&"rule")
}

/// The test case files for some rule paths and a project.
pub fn case_files(rule_paths: &[PathBuf], project: Option<&Project>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let yaml = |path: &Path| {
        path.extension()
            .is_some_and(|extension| extension == "yml" || extension == "yaml")
    };
    for directory in project.into_iter().flat_map(|project| &project.test_dirs) {
        let snapshots = directory.test_dir.join(
            directory
                .snapshot_dir
                .as_deref()
                .unwrap_or(Path::new("__snapshots__")),
        );
        for entry in ignore::WalkBuilder::new(&directory.test_dir)
            .parents(false)
            .build()
            .flatten()
        {
            let path = entry.path();
            if entry.file_type().is_some_and(|kind| kind.is_file())
                && yaml(path)
                && !path.starts_with(&snapshots)
            {
                files.push(path.to_path_buf());
            }
        }
    }
    for path in rule_paths {
        if path.is_file() {
            let stem = path
                .file_stem()
                .and_then(|stem| stem.to_str())
                .unwrap_or_default();
            for suffix in ["-test.yml", "-test.yaml"] {
                let sibling = path.with_file_name(format!("{stem}{suffix}"));
                if sibling.is_file() {
                    files.push(sibling);
                }
            }
            continue;
        }
        for entry in ignore::WalkBuilder::new(path)
            .parents(false)
            .build()
            .flatten()
        {
            if entry.file_type().is_some_and(|kind| kind.is_file()) && is_test_file(entry.path()) {
                files.push(entry.path().to_path_buf());
            }
        }
    }
    files.sort();
    files.dedup();
    files
}

/// Runs the valid/invalid cases of test case files.
pub fn run_cases(
    rules: &RuleSet,
    scanner: &Scanner<'_>,
    files: &[PathBuf],
) -> Result<Vec<CaseResult>, RuleErrors> {
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(source) => {
                errors.push(RuleError::Read {
                    path: file.clone(),
                    source,
                });
                continue;
            }
        };
        let cases: Vec<RawTestCase> = match serde_saphyr::from_multiple(&text) {
            Ok(cases) => cases,
            Err(error) => {
                let located = crate::rule::load::yaml_error(&error);
                errors.push(RuleError::invalid(file, None, located));
                continue;
            }
        };
        for case in cases {
            let Some(rule) = rules.rules.iter().position(|rule| rule.id == case.id) else {
                results.push(CaseResult {
                    rule_id: case.id.clone(),
                    name: file.display().to_string(),
                    failure: Some((
                        format!("no loaded rule has the id `{}`", case.id),
                        String::new(),
                    )),
                });
                continue;
            };
            for (expect_match, snippets) in [(false, &case.valid), (true, &case.invalid)] {
                for (number, snippet) in snippets.iter().enumerate() {
                    let matched = !scanner.scan_rule(rule, snippet).matches.is_empty();
                    let label = if expect_match { "invalid" } else { "valid" };
                    let failure = (matched != expect_match).then(|| {
                        let reason = if expect_match {
                            "the rule does not match this invalid snippet"
                        } else {
                            "the rule matches this valid snippet"
                        };
                        (reason.to_owned(), snippet.clone())
                    });
                    results.push(CaseResult {
                        rule_id: case.id.clone(),
                        name: format!("{label} {}", number + 1),
                        failure,
                    });
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(results)
    } else {
        Err(RuleErrors(errors))
    }
}

/// Runs the fix fixtures under `root` (one folder per rule id). With
/// `update`, a missing or different expected file is (re)written from the
/// rewrite instead of failing, for an author to review.
pub fn run_fixtures(
    rules: &RuleSet,
    scanner: &Scanner<'_>,
    root: &Path,
    update: bool,
) -> Vec<CaseResult> {
    let mut inputs: Vec<PathBuf> = ignore::WalkBuilder::new(root)
        .parents(false)
        .max_depth(Some(2))
        .build()
        .flatten()
        .filter(|entry| entry.file_type().is_some_and(|kind| kind.is_file()))
        .map(|entry| entry.path().to_path_buf())
        .filter(|path| fixture_case(path).is_some())
        .collect();
    inputs.sort();
    inputs
        .iter()
        .map(|input| {
            let (case, extension) = fixture_case(input).unwrap_or_default();
            let rule_id = input
                .parent()
                .and_then(Path::file_name)
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            let name = input.with_file_name(&case).display().to_string();
            let expected = input.with_file_name(format!("{case}.expected.{extension}"));
            let failure = check_fixture(rules, scanner, &rule_id, input, &expected, update);
            CaseResult {
                rule_id,
                name,
                failure,
            }
        })
        .collect()
}

/// `basic.input.py` → (`basic`, `py`).
fn fixture_case(path: &Path) -> Option<(String, String)> {
    let name = path.file_name()?.to_str()?;
    let (case, extension) = name.split_once(".input.")?;
    Some((case.to_owned(), extension.to_owned()))
}

fn check_fixture(
    rules: &RuleSet,
    scanner: &Scanner<'_>,
    rule_id: &str,
    input_path: &Path,
    expected_path: &Path,
    update: bool,
) -> Option<(String, String)> {
    let fail = |reason: String, detail: String| Some((reason, detail));
    let Some(rule) = rules.rules.iter().position(|rule| rule.id == rule_id) else {
        return fail(
            format!("no loaded rule has the id `{rule_id}` (the fixture folder's name)"),
            String::new(),
        );
    };
    let language = rules.rules[rule].language;
    if Language::from_path(input_path) != Some(language) {
        return fail(format!("the input is not a {language} file"), String::new());
    }
    let Ok(input) = std::fs::read_to_string(input_path) else {
        return fail(
            format!("cannot read {}", input_path.display()),
            String::new(),
        );
    };
    let first = scanner.rewrite_rule(rule, &input);
    if let Some(failure) = &first.failure {
        return fail(
            format!("the fix does not converge: {failure:?}"),
            String::new(),
        );
    }
    let output = first.output.unwrap_or_else(|| input.clone());
    let expected = std::fs::read_to_string(expected_path).ok();
    if update && expected.as_deref() != Some(output.as_str()) {
        if let Err(error) = std::fs::write(expected_path, &output) {
            return fail(
                format!("cannot write {}: {error}", expected_path.display()),
                String::new(),
            );
        }
    } else if let Some(expected) = expected {
        if output != expected {
            return fail(
                "the rewrite differs from the expected file".to_owned(),
                unified_diff(&expected, &output),
            );
        }
    } else {
        return fail(
            format!(
                "missing {} (run with --update to create it)",
                expected_path.display()
            ),
            String::new(),
        );
    }
    if let (Some(before), Some(after)) = (
        syntax_profile(language, &input),
        syntax_profile(language, &output),
    ) && let Some(reason) = regression(&before, &after)
    {
        return fail(
            format!("the output parses worse than the input: {reason}"),
            String::new(),
        );
    }
    let second = scanner.rewrite_rule(rule, &output);
    if let Some(again) = second.output {
        return fail(
            "a second application changes the output again".to_owned(),
            unified_diff(&output, &again),
        );
    }
    None
}

/// A unified diff from `expected` to `actual`.
pub fn unified_diff(expected: &str, actual: &str) -> String {
    similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(3)
        .header("expected", "actual")
        .to_string()
}
