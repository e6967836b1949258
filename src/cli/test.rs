//! `fleetmod test`: run rule test cases and fix fixtures.

use std::path::PathBuf;

use clap::Args;

use super::Failure;
use super::output;
use super::sources::{LoadedRules, load_rules};
use crate::engine::Scanner;
use crate::ruletest::{self, CaseResult};

#[derive(Debug, Args)]
pub(crate) struct TestArguments {
    /// Rule files or folders to test (default: the `ruleDirs` of an
    /// sgconfig.yml, or `rules/`). Test cases named `<name>-test.yml` next
    /// to the rules, and the `testConfigs` folders of sgconfig.yml, are run.
    paths: Vec<PathBuf>,
    /// Folder of fix fixtures: `<folder>/<rule-id>/<case>.input.<ext>` and
    /// `<case>.expected.<ext>` (default: `fixtures/`, if it exists).
    #[arg(long, value_name = "FOLDER")]
    fixtures: Option<PathBuf>,
    /// Write each fixture's current rewrite to its `.expected.` file instead
    /// of comparing (review the result before committing it).
    #[arg(long)]
    update: bool,
}

pub(crate) fn run(arguments: TestArguments, colors: bool) -> Result<(), Failure> {
    let mut paths = arguments.paths.clone();
    if paths.is_empty()
        && !PathBuf::from("sgconfig.yml").is_file()
        && PathBuf::from("rules").is_dir()
    {
        paths.push(PathBuf::from("rules"));
    }
    let LoadedRules { rules, project, .. } = load_rules(&paths, None)?;
    let rule_paths = if paths.is_empty() {
        project
            .as_ref()
            .map(|project| project.rule_dirs.clone())
            .unwrap_or_default()
    } else {
        paths
    };
    let scanner = Scanner::new(&rules);
    let case_files = ruletest::case_files(&rule_paths, project.as_ref());
    let mut results = ruletest::run_cases(&rules, &scanner, &case_files)
        .map_err(|errors| Failure::Input(errors.into()))?;
    let fixtures = arguments.fixtures.clone().or_else(|| {
        let default = PathBuf::from("fixtures");
        default.is_dir().then_some(default)
    });
    if let Some(fixtures) = &fixtures {
        if !fixtures.is_dir() {
            return Err(Failure::Input(anyhow::anyhow!(
                "{}: no such folder",
                fixtures.display()
            )));
        }
        results.extend(ruletest::run_fixtures(
            &rules,
            &scanner,
            fixtures,
            arguments.update,
        ));
    }
    report(&results, colors);
    if results.iter().any(|result| result.failure.is_some()) {
        return Err(Failure::Check);
    }
    Ok(())
}

fn report(results: &[CaseResult], colors: bool) {
    for result in results {
        let Some((reason, detail)) = &result.failure else {
            continue;
        };
        println!(
            "{} {} {}: {reason}",
            output::failed("FAIL", colors),
            result.rule_id,
            result.name
        );
        for line in detail.lines() {
            println!("    {line}");
        }
    }
    let failed = results
        .iter()
        .filter(|result| result.failure.is_some())
        .count();
    println!("{} passed, {failed} failed", results.len() - failed);
}
