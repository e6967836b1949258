//! `fleetmod scan`: report what rules match, changing nothing.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::Failure;
use super::output::{self, ProgressBar};
use crate::engine::Scanner;
use crate::rule::{Project, RuleSet, Severity};
use crate::walk::{self, SkipReason, WalkOptions};

#[derive(Debug, Args)]
pub(crate) struct ScanArguments {
    /// Files or folders to scan.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// A rule file or a folder of rule files (*.yml, *.yaml); repeatable.
    /// Without it, the `ruleDirs` of an sgconfig.yml in the working directory
    /// (or an ancestor) are used.
    #[arg(short, long = "rules", value_name = "PATH")]
    rules: Vec<PathBuf>,
    /// Print one JSON object per match (JSON Lines) instead of text.
    #[arg(long)]
    json: bool,
    /// Skip files larger than this many bytes (suffixes K, M and G are binary multiples).
    #[arg(long, value_name = "SIZE", default_value = "5M", value_parser = parse_size)]
    max_filesize: u64,
    /// Worker threads (default: one per CPU).
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
    /// Also scan files that .gitignore, .ignore or hidden-file rules exclude.
    #[arg(long)]
    no_ignore: bool,
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

/// Loads rules from `--rules` or from the project file of the working directory.
pub(crate) fn load_rules(paths: &[PathBuf]) -> Result<(RuleSet, Option<Project>), Failure> {
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
    }
    let rule_paths: Vec<PathBuf> = if !paths.is_empty() {
        paths.to_vec()
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
    Ok((rules, project))
}

/// Builds the rayon pool for `--jobs`.
pub(crate) fn thread_pool(jobs: Option<usize>) -> Result<rayon::ThreadPool, Failure> {
    let threads =
        jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |count| count.get()));
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .context("failed to start worker threads")
        .map_err(Failure::Input)
}

pub(crate) fn run(
    arguments: ScanArguments,
    stdout_colors: bool,
    stderr_colors: bool,
) -> Result<(), Failure> {
    let (rules, _) = load_rules(&arguments.rules)?;
    let scanner = Scanner::new(&rules);
    let pool = thread_pool(arguments.jobs)?;
    let options = WalkOptions {
        languages: scanner.languages().collect(),
        respect_ignores: !arguments.no_ignore,
        threads: pool.current_num_threads(),
    };
    let files =
        walk::find(&arguments.paths, &options).map_err(|error| Failure::Input(error.into()))?;
    let progress = ProgressBar::new("scanning");
    let results = pool.install(|| {
        walk::process(&files, arguments.max_filesize, &progress, |file, text| {
            let matches = scanner.scan(file.language, &file.relative, text).matches;
            (!matches.is_empty()).then(|| (matches, text.to_owned()))
        })
    });

    let mut summary = Summary::default();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for (file, result) in files.iter().zip(results) {
        let found = match result {
            Err(reason) => {
                *summary.skipped.entry(reason).or_default() += 1;
                continue;
            }
            Ok(found) => found,
        };
        summary.scanned += 1;
        let Some((matches, text)) = found else {
            continue;
        };
        summary.matched_files += 1;
        for found in &matches {
            let rule = &rules.rules[found.rule];
            *summary.per_rule.entry(rule.id.clone()).or_default() += 1;
            summary.errors |= rule.severity == Severity::Error;
            if arguments.json {
                output::write_json_match(&mut out, &file.path, rule, found, &text)
            } else {
                output::write_human_match(&mut out, &file.path, rule, found, &text, stdout_colors)
            }
            .context("failed to write output")?;
        }
    }
    out.flush().context("failed to write output")?;
    drop(out);
    summary.print(stderr_colors);
    if summary.errors {
        Err(Failure::Check)
    } else {
        Ok(())
    }
}

#[derive(Default)]
struct Summary {
    scanned: usize,
    skipped: BTreeMap<SkipReason, usize>,
    matched_files: usize,
    per_rule: BTreeMap<String, usize>,
    errors: bool,
}

impl Summary {
    fn print(&self, colors: bool) {
        let matches: usize = self.per_rule.values().sum();
        let skipped: usize = self.skipped.values().sum();
        let mut line = format!("scanned {} file{}", self.scanned, plural(self.scanned));
        if skipped > 0 {
            let reasons: Vec<String> = self
                .skipped
                .iter()
                .map(|(reason, count)| format!("{count} {}", reason.describe()))
                .collect();
            line.push_str(&format!(", skipped {skipped} ({})", reasons.join(", ")));
        }
        line.push_str(&format!(
            "; {matches} match{} in {} file{}",
            if matches == 1 { "" } else { "es" },
            self.matched_files,
            plural(self.matched_files)
        ));
        eprintln!("{}", output::bold(&line, colors));
        let width = self.per_rule.keys().map(String::len).max().unwrap_or(0);
        for (rule, count) in &self.per_rule {
            eprintln!("  {rule:<width$}  {count}");
        }
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
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
}
