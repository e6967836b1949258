//! What `scan` and `rewrite` share: which rules, which files, how many
//! threads, and running a job over every file with a progress bar.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use super::Failure;
use super::output::ProgressBar;
use crate::engine::Scanner;
use crate::rule::{Project, RuleSet};
use crate::spec::Spec;
use crate::walk::{self, Processed, SkipReason, SourceFile, WalkOptions};

/// Options that select rules and source files.
#[derive(Debug, Args)]
pub(crate) struct SourceArguments {
    /// Files or folders to process.
    #[arg(default_value = ".")]
    pub(crate) paths: Vec<PathBuf>,
    /// A rule file or a folder of rule files (*.yml, *.yaml); repeatable.
    /// Without it, the `ruleDirs` of an sgconfig.yml in the working directory
    /// (or an ancestor) are used.
    #[arg(short, long = "rules", value_name = "PATH")]
    pub(crate) rules: Vec<PathBuf>,
    /// Skip files larger than this many bytes (suffixes K, M and G are binary multiples).
    #[arg(long, value_name = "SIZE", default_value = "5M", value_parser = parse_size)]
    pub(crate) max_filesize: u64,
    /// Worker threads (default: one per CPU).
    #[arg(short, long, value_name = "N")]
    pub(crate) jobs: Option<usize>,
    /// Also process files that .gitignore, .ignore or hidden-file rules exclude.
    #[arg(long)]
    pub(crate) no_ignore: bool,
}

/// Parses `5M`, `512K`, `1G` or a plain number of bytes.
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, multiplier) = match text.chars().last().map(|last| last.to_ascii_uppercase()) {
        Some('K') => (&text[..text.len() - 1], 1u64 << 10),
        Some('M') => (&text[..text.len() - 1], 1 << 20),
        Some('G') => (&text[..text.len() - 1], 1 << 30),
        _ => (text, 1),
    };
    digits
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|value| value.checked_mul(multiplier))
        .ok_or_else(|| format!("`{text}` is not a size; use bytes or a K, M or G suffix"))
}

/// Rules and the folder their `files`/`ignores` globs are relative to.
pub(crate) struct LoadedRules {
    pub(crate) rules: RuleSet,
    pub(crate) project: Option<Project>,
    /// The project folder when an `sgconfig.yml` was found, else the
    /// working directory (as ast-grep does).
    pub(crate) glob_base: PathBuf,
}

/// Loads rules from `--rules` (and a spec's `rules:`), or else from the
/// project file of the working directory. With a spec, no rules at all is
/// fine: the spec's derived rules do the work.
pub(crate) fn load_rules(paths: &[PathBuf], spec: Option<&Spec>) -> Result<LoadedRules, Failure> {
    let working_directory =
        std::env::current_dir().context("failed to read the working directory")?;
    let project =
        Project::discover(&working_directory).map_err(|error| Failure::Input(error.into()))?;
    if let Some(project) = &project {
        for key in &project.ignored_keys {
            eprintln!(
                "warning: {}: `{key}` is an ast-grep feature that fleetmod ignores",
                project.path.display()
            );
        }
        for key in &project.unknown_keys {
            eprintln!(
                "warning: {}: `{key}` is not a key fleetmod knows; it is ignored",
                project.path.display()
            );
        }
    }
    let spec_rules = spec
        .map(|spec| spec.rule_files.as_slice())
        .unwrap_or_default();
    let rule_paths: Vec<PathBuf> = if !paths.is_empty() || spec.is_some() {
        paths.iter().chain(spec_rules).cloned().collect()
    } else if let Some(project) = project
        .as_ref()
        .filter(|project| !project.rule_dirs.is_empty())
    {
        project.rule_dirs.clone()
    } else {
        return Err(Failure::Input(anyhow::anyhow!(
            "no rules given: pass --rules PATH, or run where an sgconfig.yml lists ruleDirs"
        )));
    };
    let rules = RuleSet::load(&rule_paths, project.as_ref())
        .map_err(|errors| Failure::Input(errors.into()))?;
    for warning in &rules.warnings {
        eprintln!("warning: {warning}");
    }
    let glob_base = project
        .as_ref()
        .map_or(working_directory, |project| project.root.clone());
    Ok(LoadedRules {
        rules,
        project,
        glob_base,
    })
}

/// Finds the source files for `scanner`'s languages and runs `job` on each
/// in parallel (with a progress bar); `consume` receives each file's result
/// in path order as soon as it and every earlier file are done.
pub(crate) fn process<T, J, C>(
    arguments: &SourceArguments,
    scanner: &Scanner<'_>,
    glob_base: &Path,
    task: &str,
    job: J,
    consume: C,
) -> Result<(), Failure>
where
    T: Send,
    J: Fn(&SourceFile, String) -> T + Sync,
    C: FnMut(&SourceFile, Processed<T>) -> Result<(), Failure>,
{
    let threads = thread_count(arguments.jobs);
    let options = WalkOptions {
        languages: scanner.languages().collect(),
        respect_ignores: !arguments.no_ignore,
        threads,
        glob_base: Some(glob_base.to_path_buf()),
    };
    let files =
        walk::find(&arguments.paths, &options).map_err(|error| Failure::Input(error.into()))?;
    let progress = ProgressBar::new(task);
    walk::stream(
        &files,
        arguments.max_filesize,
        threads,
        &progress,
        job,
        consume,
    )
}

/// `jobs`, or one per CPU.
fn thread_count(jobs: Option<usize>) -> usize {
    jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |count| count.get()))
        .max(1)
}

/// A pool of `jobs` worker threads (default: one per CPU).
pub(crate) fn thread_pool(jobs: Option<usize>) -> Result<rayon::ThreadPool, Failure> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(thread_count(jobs))
        .build()
        .context("failed to start worker threads")?;
    Ok(pool)
}

/// `skipped 3 (1 too large, 2 binary)`, or nothing when nothing was skipped.
pub(crate) fn skipped_text(skipped: &BTreeMap<SkipReason, usize>) -> String {
    let total: usize = skipped.values().sum();
    if total == 0 {
        return String::new();
    }
    let reasons: Vec<String> = skipped
        .iter()
        .map(|(reason, count)| format!("{count} {}", reason.describe()))
        .collect();
    format!(", skipped {total} ({})", reasons.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_accept_suffixes() {
        assert_eq!(parse_size("5M"), Ok(5 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("-1").is_err());
    }

    #[test]
    fn skipped_files_are_summarized_by_reason() {
        assert_eq!(skipped_text(&BTreeMap::new()), "");
        let skipped = BTreeMap::from([(SkipReason::TooLarge, 1), (SkipReason::Binary, 2)]);
        assert_eq!(
            skipped_text(&skipped),
            ", skipped 3 (1 too large, 2 binary)"
        );
    }
}
