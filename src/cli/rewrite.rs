//! `fleetmod rewrite`: apply rule fixes and a migration spec's derived
//! rules, as a diff, a check or in place.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use clap::Args;
use serde_json::json;

use super::Failure;
use super::diff;
use super::output;
use super::sources::{self, SourceArguments, load_rules};
use crate::engine::Scanner;
use crate::engine::rewrite::{Failure as RewriteFailure, FileRewrite};
use crate::migrate::Migration;
use crate::rule::Applicability;
use crate::spec::Spec;
use crate::walk::SkipReason;
use crate::write;

#[derive(Debug, Args)]
pub(crate) struct RewriteArguments {
    #[command(flatten)]
    sources: SourceArguments,
    /// A migration spec: apply its derived rules (table and column renames)
    /// and the rule files its `rules:` names, together with any --rules.
    #[arg(long, value_name = "SPEC")]
    spec: Option<PathBuf>,
    /// Write the changes to the files (atomically). Without it, print a diff.
    #[arg(long, conflicts_with = "check")]
    apply: bool,
    /// Print nothing but the summary, and exit with 1 if anything would change.
    #[arg(long)]
    check: bool,
    /// Print one JSON object per changed or failed file instead of a diff.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(
    arguments: RewriteArguments,
    stdout_colors: bool,
    stderr_colors: bool,
) -> Result<(), Failure> {
    let spec = match &arguments.spec {
        Some(path) => Some(Spec::load(path).map_err(|errors| Failure::Input(errors.into()))?),
        None => None,
    };
    let migration = spec.as_ref().map(Migration::new);
    let loaded = load_rules(&arguments.sources.rules, spec.as_ref())?;
    let rules = loaded.rules;
    if migration.is_none() && !rules.rules.iter().any(|rule| rule.fix.is_some()) {
        eprintln!("warning: no loaded rule has a `fix`; nothing can change");
    }
    let mut scanner = Scanner::new(&rules);
    if let Some(migration) = &migration {
        scanner = scanner.with_migration(migration);
    }
    let mut summary = Summary::default();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut replacer = write::Replacer::new();
    if arguments.apply {
        stop_on_interrupt();
    }
    let outcome = sources::process(
        &arguments.sources,
        &scanner,
        &loaded.glob_base,
        "rewriting",
        |file, text| {
            let rewrite = scanner.rewrite(file.language, &file.relative, &text);
            let original = rewrite.output.is_some().then_some(text);
            (rewrite, original)
        },
        |file, result| {
            if INTERRUPT.load(Ordering::SeqCst) {
                return Err(Failure::Interrupted);
            }
            let (rewrite, original) = match result {
                Err(reason) => {
                    *summary.skipped.entry(reason).or_default() += 1;
                    return Ok(());
                }
                Ok(found) => found,
            };
            summary.scanned += 1;
            let path = file.path.to_string_lossy().replace('\\', "/");
            summary.record(&path, &rewrite, &scanner);
            if arguments.json {
                let notable = rewrite.output.is_some()
                    || rewrite.failure.is_some()
                    || !rewrite.dropped.is_empty()
                    || !rewrite.findings.is_empty();
                if notable {
                    write_json(&mut out, &path, &rewrite, &scanner)
                        .context("failed to write output")?;
                }
            } else if !arguments.apply
                && !arguments.check
                && let (Some(new), Some(old)) = (&rewrite.output, &original)
            {
                diff::write_diff(
                    &mut out,
                    &path,
                    old,
                    new,
                    &rewrite.applied,
                    &scanner,
                    stdout_colors,
                )
                .context("failed to write output")?;
            }
            if arguments.apply
                && let Some(new) = &rewrite.output
            {
                let root = root_of(&file.path, &arguments.sources.paths);
                match replacer.stage(&file.path, &root, new) {
                    Ok(true) => summary.write_failed(replacer.commit()),
                    Ok(false) => {}
                    Err(error) => summary.write_failed(vec![error]),
                }
            }
            Ok(())
        },
    );
    // What was rewritten before an interruption (or an error) is written,
    // so that no temporary file is left behind.
    summary.write_failed(replacer.commit());
    out.flush().context("failed to write output")?;
    drop(out);
    match outcome {
        Ok(()) => summary.print(arguments.apply, stderr_colors),
        Err(Failure::Interrupted) => {
            summary.print(arguments.apply, stderr_colors);
            return Err(Failure::Interrupted);
        }
        Err(error) => return Err(error),
    }
    if !summary.write_errors.is_empty() {
        return Err(Failure::Input(anyhow::anyhow!(
            "{} file(s) could not be written",
            summary.write_errors.len()
        )));
    }
    if arguments.check && summary.changed > 0 {
        return Err(Failure::Check);
    }
    Ok(())
}

/// Set by the first Ctrl-C of `rewrite --apply`.
static INTERRUPT: AtomicBool = AtomicBool::new(false);

/// On the first Ctrl-C, stops taking files and writes those already
/// rewritten (at most a batch of them is waiting); on the second, exits at
/// once, which can leave a batch's temporary files behind.
fn stop_on_interrupt() {
    let _ = ctrlc::set_handler(|| {
        if INTERRUPT.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\ninterrupted: writing the files already rewritten (Ctrl-C again to stop now)");
    });
}

/// The argument root a found file came from, which writes must stay inside:
/// the folder argument, or the folder of a file argument.
fn root_of(path: &Path, roots: &[PathBuf]) -> PathBuf {
    let folder = |path: &Path| match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // Found paths lose a leading `./` (see `walk::find`); so do roots here.
    let contains = |root: &Path| {
        let root = root.strip_prefix("./").unwrap_or(root);
        root == Path::new(".") || path.starts_with(root)
    };
    match roots
        .iter()
        .filter(|root| contains(root))
        .max_by_key(|root| root.as_os_str().len())
    {
        Some(root) if root.is_file() => folder(root),
        Some(root) => root.clone(),
        None => folder(path),
    }
}

fn write_json(
    out: &mut impl Write,
    path: &str,
    rewrite: &FileRewrite,
    scanner: &Scanner<'_>,
) -> std::io::Result<()> {
    let edits: Vec<serde_json::Value> = rewrite
        .applied
        .iter()
        .map(|edit| {
            json!({
                "rule_id": scanner.rule_id(edit.rule),
                "applicability": applicability(edit.applicability),
                "line": edit.position.line,
                "column": edit.position.column,
                "original": edit.original,
                "replacement": edit.replacement,
                "note": edit.note,
            })
        })
        .collect();
    let dropped: Vec<serde_json::Value> = rewrite
        .dropped
        .iter()
        .map(|edit| {
            json!({
                "rule_id": scanner.rule_id(edit.rule),
                "line": edit.position.line,
                "column": edit.position.column,
                "reason": edit.reason,
            })
        })
        .collect();
    let findings: Vec<serde_json::Value> = rewrite
        .findings
        .iter()
        .map(|finding| {
            json!({
                "rule_id": scanner.rule_id(finding.rule),
                "line": finding.position.line,
                "column": finding.position.column,
                "message": finding.message,
            })
        })
        .collect();
    let failure = rewrite
        .failure
        .as_ref()
        .map(|failure| failure_text(failure, scanner));
    let object = json!({
        "path": path,
        "changed": rewrite.output.is_some(),
        "passes": rewrite.passes,
        "edits": edits,
        "dropped": dropped,
        "findings": findings,
        "failure": failure,
    });
    serde_json::to_writer(&mut *out, &object)?;
    writeln!(out)
}

fn applicability(applicability: Applicability) -> &'static str {
    match applicability {
        Applicability::Safe => "safe",
        Applicability::Review => "review",
    }
}

fn failure_text(failure: &RewriteFailure, scanner: &Scanner<'_>) -> String {
    let (what, indices) = match failure {
        RewriteFailure::Oscillation { rules } => ("the rules undo each other's changes", rules),
        RewriteFailure::NoConvergence { rules } => {
            ("the rules keep changing the file after 10 passes", rules)
        }
    };
    let ids: Vec<&str> = indices
        .iter()
        .map(|&index| scanner.rule_id(index))
        .collect();
    let kept = if scanner.migration().is_some() {
        "rule fixes not applied"
    } else {
        "left unchanged"
    };
    format!("{kept}: {what} ({})", ids.join(", "))
}

#[derive(Default)]
struct Summary {
    scanned: usize,
    changed: usize,
    skipped: BTreeMap<SkipReason, usize>,
    per_rule: BTreeMap<String, usize>,
    review: Vec<String>,
    findings: Vec<String>,
    dropped: Vec<String>,
    failures: Vec<String>,
    write_errors: Vec<String>,
}

impl Summary {
    fn write_failed(&mut self, errors: Vec<write::WriteError>) {
        self.write_errors
            .extend(errors.iter().map(ToString::to_string));
    }

    fn record(&mut self, path: &str, rewrite: &FileRewrite, scanner: &Scanner<'_>) {
        if rewrite.output.is_some() {
            self.changed += 1;
        }
        for edit in &rewrite.applied {
            let id = scanner.rule_id(edit.rule);
            *self.per_rule.entry(id.to_owned()).or_default() += 1;
            if edit.applicability == Applicability::Review {
                let note = edit
                    .note
                    .as_deref()
                    .map(|note| format!(": {note}"))
                    .unwrap_or_default();
                self.review.push(format!(
                    "{path}:{}:{} {id}{note}",
                    edit.position.line, edit.position.column
                ));
            }
        }
        for finding in &rewrite.findings {
            self.findings.push(format!(
                "{path}:{}:{} {}: {}",
                finding.position.line,
                finding.position.column,
                scanner.rule_id(finding.rule),
                finding.message
            ));
        }
        for edit in &rewrite.dropped {
            let id = scanner.rule_id(edit.rule);
            self.dropped.push(format!(
                "{path}:{}:{} {id}: {}",
                edit.position.line, edit.position.column, edit.reason
            ));
        }
        if let Some(failure) = &rewrite.failure {
            self.failures
                .push(format!("{path}: {}", failure_text(failure, scanner)));
        }
    }

    fn print(&self, applied: bool, colors: bool) {
        let edits: usize = self.per_rule.values().sum();
        let verb = if applied { "changed" } else { "would change" };
        let mut line = format!("scanned {} files, {verb} {}", self.scanned, self.changed);
        line.push_str(&sources::skipped_text(&self.skipped));
        line.push_str(&format!(
            "; {edits} edits, {} for review, {} dropped, {} findings",
            self.review.len(),
            self.dropped.len(),
            self.findings.len()
        ));
        eprintln!("{}", output::bold(&line, colors));
        let width = self.per_rule.keys().map(String::len).max().unwrap_or(0);
        for (rule, count) in &self.per_rule {
            eprintln!("  {rule:<width$}  {count}");
        }
        let sections = [
            ("review (applied, needs a human look)", &self.review),
            (
                "findings (not rewritten, needs a human look)",
                &self.findings,
            ),
            ("dropped (would have broken the file)", &self.dropped),
            ("not converged", &self.failures),
            ("not written", &self.write_errors),
        ];
        for (title, items) in sections {
            if items.is_empty() {
                continue;
            }
            eprintln!("{}", output::bold(&format!("{title}:"), colors));
            for item in items {
                eprintln!("  {item}");
            }
        }
    }
}
