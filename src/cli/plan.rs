//! `fleetmod plan`: what a migration spec derives, for its author to check
//! before anything is rewritten.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde_json::json;

use super::Failure;
use crate::rule::{Applicability, RuleSet};
use crate::spec::Spec;
use crate::spec::plan::{PlannedRule, planned_rules, review_policy};

#[derive(Debug, Args)]
pub(crate) struct PlanArguments {
    /// The migration spec (YAML).
    spec: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn applicability_name(rule: &PlannedRule) -> &'static str {
    match rule.rule.applicability() {
        Some(Applicability::Safe) => "safe",
        Some(Applicability::Review) => "review",
        None => "report",
    }
}

pub(crate) fn run(arguments: PlanArguments) -> Result<(), Failure> {
    let spec = Spec::load(&arguments.spec).map_err(|errors| Failure::Input(errors.into()))?;
    let extra =
        RuleSet::load(&spec.rule_files, None).map_err(|errors| Failure::Input(errors.into()))?;
    let derived = planned_rules(&spec);
    let policy = review_policy(&spec);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if arguments.json {
        let object = json!({
            "id": spec.id,
            "title": spec.title,
            "description": spec.description,
            "path": spec.path,
            "from": spec.dataset.from.to_string(),
            "to": spec.dataset.to.to_string(),
            "columns": spec.dataset.columns.iter().map(|rename| json!({"old": rename.old, "new": rename.new})).collect::<Vec<_>>(),
            "removed": spec.dataset.removed,
            "derived_rules": derived.iter().map(|rule| json!({
                "id": rule.id,
                "applicability": applicability_name(rule),
                "description": rule.description,
                "changes": rule.changes,
            })).collect::<Vec<_>>(),
            "rules": extra.rules.iter().map(|rule| json!({
                "id": rule.id,
                "language": rule.language.name(),
                "file": rule.origin.0,
                "fix": rule.fix.is_some(),
            })).collect::<Vec<_>>(),
            "review_policy": policy,
        });
        serde_json::to_writer_pretty(&mut out, &object).context("failed to write output")?;
        writeln!(out).context("failed to write output")?;
    } else {
        write_text(&mut out, &spec, &derived, &extra, &policy).context("failed to write output")?;
    }
    out.flush().context("failed to write output")?;
    Ok(())
}

fn write_text(
    out: &mut impl Write,
    spec: &Spec,
    derived: &[PlannedRule],
    extra: &RuleSet,
    policy: &[String],
) -> std::io::Result<()> {
    let dataset = &spec.dataset;
    writeln!(out, "{}: {}", spec.id, spec.title)?;
    writeln!(out, "spec: {}", spec.path.display())?;
    writeln!(out)?;
    writeln!(out, "table    {} → {}", dataset.from, dataset.to)?;
    for (index, rename) in dataset.columns.iter().enumerate() {
        let label = if index == 0 { "columns" } else { "" };
        writeln!(out, "{label:<8} {} → {}", rename.old, rename.new)?;
    }
    if !dataset.removed.is_empty() {
        writeln!(out, "removed  {}", dataset.removed.join(", "))?;
    }
    writeln!(out)?;
    writeln!(out, "derived rules:")?;
    let width = derived.iter().map(|rule| rule.id.len()).max().unwrap_or(0);
    for rule in derived {
        writeln!(
            out,
            "  {:<width$}  {:<6}  {}",
            rule.id,
            applicability_name(rule),
            rule.description
        )?;
        if !rule.changes.is_empty() {
            writeln!(out, "  {:<width$}          {}", "", rule.changes.join(", "))?;
        }
    }
    if !extra.rules.is_empty() {
        writeln!(out)?;
        writeln!(out, "rules from `rules:`:")?;
        for rule in &extra.rules {
            let fix = if rule.fix.is_some() {
                "fix"
            } else {
                "scan only"
            };
            writeln!(
                out,
                "  {} ({}, {fix}) {}",
                rule.id,
                rule.language.name(),
                rule.origin.0.display()
            )?;
        }
    }
    writeln!(out)?;
    writeln!(out, "review policy:")?;
    for item in policy {
        writeln!(out, "  - {item}")?;
    }
    Ok(())
}
