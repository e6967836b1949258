//! Pull request titles, bodies and commit messages, rendered from the
//! spec's templates for one repository's change.

use super::change::RepoChange;
use super::consumers::Consumer;
use crate::git::TRAILER;
use crate::spec::Spec;
use crate::spec::template::{Field, Template};

/// The texts of one repository's change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Texts {
    pub title: String,
    pub body: String,
    pub commit_message: String,
}

/// Renders the title, body and commit message (with fleetmod's trailer).
pub fn render(spec: &Spec, consumer: &Consumer, change: &RepoChange) -> Texts {
    let value = |field: Field| value(spec, consumer, change, field);
    let one_line = |template: &Template| {
        template
            .render(value)
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty())
            .unwrap_or(&spec.title)
            .to_owned()
    };
    let title = one_line(&spec.pull_request.title);
    let message = spec.commit.message.render(value);
    let message = message.trim_end();
    let message = if message.is_empty() { &title } else { message };
    Texts {
        body: spec.pull_request.body.render(value).trim_end().to_owned() + "\n",
        commit_message: format!("{message}\n\n{TRAILER}: {}\n", spec.id),
        title,
    }
}

fn value(spec: &Spec, consumer: &Consumer, change: &RepoChange, field: Field) -> String {
    let list = |items: Vec<String>, empty: &str| {
        if items.is_empty() {
            empty.to_owned()
        } else {
            items
                .iter()
                .map(|item| format!("- {item}"))
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    match field {
        Field::Id => spec.id.clone(),
        Field::Title => spec.title.clone(),
        Field::Description => spec.description.trim_end().to_owned(),
        Field::From => spec.dataset.from.to_string(),
        Field::To => spec.dataset.to.to_string(),
        Field::Columns => list(
            spec.dataset
                .columns
                .iter()
                .map(|rename| format!("`{}` → `{}`", rename.old, rename.new))
                .collect(),
            "(none)",
        ),
        Field::Repo => consumer.repo.to_string(),
        Field::Owners => {
            if consumer.owners.is_empty() {
                "(unknown)".to_owned()
            } else {
                consumer.owners.join(", ")
            }
        }
        Field::Branch => spec.pull_request.branch.clone(),
        Field::Changes => list(
            change
                .files
                .iter()
                .map(|file| {
                    let plural = if file.edits == 1 { "" } else { "s" };
                    format!("`{}`: {} edit{plural}", file.path, file.edits)
                })
                .collect(),
            "(no files changed)",
        ),
        Field::ReviewItems => list(
            change
                .review
                .iter()
                .map(|item| format!("`{}:{}`: {}", item.path, item.line, item.message))
                .collect(),
            "Nothing: every change is safe.",
        ),
        Field::Rules => list(
            change
                .rules
                .iter()
                .map(|rule| format!("`{rule}`"))
                .collect(),
            "(none)",
        ),
    }
}
