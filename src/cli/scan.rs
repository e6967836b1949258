//! `fleetmod scan`: report what rules match, changing nothing.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Context;
use clap::Args;

use super::Failure;
use super::output;
use super::sources::{self, SourceArguments, load_rules};
use crate::engine::Scanner;
use crate::rule::Severity;
use crate::walk::SkipReason;

#[derive(Debug, Args)]
pub(crate) struct ScanArguments {
    #[command(flatten)]
    sources: SourceArguments,
    /// Print one JSON object per match (JSON Lines) instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(
    arguments: ScanArguments,
    stdout_colors: bool,
    stderr_colors: bool,
) -> Result<(), Failure> {
    let loaded = load_rules(&arguments.sources.rules, None)?;
    let rules = loaded.rules;
    let scanner = Scanner::new(&rules);
    let mut summary = Summary::default();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    sources::process(
        &arguments.sources,
        &scanner,
        &loaded.glob_base,
        "scanning",
        |file, text| {
            let scanned = scanner.scan(file.language, &file.relative, &text);
            let found = (!scanned.matches.is_empty()).then(|| (scanned.matches, text.to_owned()));
            ((scanned.parsed, scanned.partial), found)
        },
        |file, result| {
            let found = match result {
                Err(reason) => {
                    *summary.skipped.entry(reason).or_default() += 1;
                    return Ok(());
                }
                Ok(found) => found,
            };
            summary.scanned += 1;
            let ((parsed, partial), found) = found;
            summary.parsed += usize::from(parsed);
            summary.partial += usize::from(partial);
            let Some((matches, text)) = found else {
                return Ok(());
            };
            summary.matched_files += 1;
            for found in &matches {
                let rule = &rules.rules[found.rule];
                *summary.per_rule.entry(rule.id.clone()).or_default() += 1;
                summary.errors |= rule.severity == Severity::Error;
                if arguments.json {
                    output::write_json_match(&mut out, &file.path, rule, found, &text)
                } else {
                    output::write_human_match(
                        &mut out,
                        &file.path,
                        rule,
                        found,
                        &text,
                        stdout_colors,
                    )
                }
                .context("failed to write output")?;
            }
            Ok(())
        },
    )?;
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
    /// Files the prefilter did not rule out.
    parsed: usize,
    /// Of those, files parsed only in part (the members rules can match in).
    partial: usize,
    skipped: BTreeMap<SkipReason, usize>,
    matched_files: usize,
    per_rule: BTreeMap<String, usize>,
    errors: bool,
}

impl Summary {
    fn print(&self, colors: bool) {
        let matches: usize = self.per_rule.values().sum();
        let mut line = format!(
            "scanned {} file{} ({} parsed",
            self.scanned,
            plural(self.scanned),
            self.parsed
        );
        if self.partial > 0 {
            line.push_str(&format!(", {} of them in part", self.partial));
        }
        line.push(')');
        line.push_str(&sources::skipped_text(&self.skipped));
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
