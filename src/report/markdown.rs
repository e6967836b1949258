//! The tracking issue: a Renovate-style dashboard in Markdown, with the
//! progress, a checklist per owner and links to every pull request.
//!
//! Design: the dashboard is built as a list of blocks (the header, then
//! one heading and one checklist line per repository for each owner) and
//! packed greedily into parts that each stay under [`PART_LIMIT`]
//! characters (GitHub refuses issue bodies and comments over 65,536). Part
//! 1 becomes the issue body, the rest its comments. A block longer than a
//! part on its own is cut, which only a pathological error message does.

use std::fmt::Write;

use super::{RepoRow, Snapshot};
use crate::store::RepoState;

/// The largest part, in characters, leaving room for the hidden marker the
/// publisher adds (GitHub's limit is 65,536).
pub const PART_LIMIT: usize = 60_000 - 200;

const DAY_MS: i64 = 86_400_000;

/// The dashboard of `snapshot`, as parts under `limit` characters each.
pub fn render(snapshot: &Snapshot, limit: usize) -> Vec<String> {
    let mut blocks = vec![header(snapshot)];
    attention(snapshot, &mut blocks);
    for (owner, rows) in snapshot.by_owner() {
        let merged = rows
            .iter()
            .filter(|row| row.record.state == RepoState::Merged)
            .count();
        let done = rows.iter().filter(|row| row.is_done()).count();
        blocks.push(format!(
            "\n### {owner}\n{done} of {} done, {merged} merged\n\n",
            rows.len()
        ));
        for row in rows {
            blocks.push(checklist_line(row, snapshot.now));
        }
    }
    // No timestamp (GitHub shows when the issue was edited) and ages in
    // whole days: publishing again when nothing moved changes nothing.
    blocks.push(format!(
        "\n---\n<sub>Kept up to date by fleetmod from migration `{}`. Edits to this issue are overwritten.</sub>\n",
        snapshot.migration
    ));
    pack(blocks, limit)
}

/// Packs blocks into parts of at most `limit` characters; continuation
/// parts say which part they are.
fn pack(blocks: Vec<String>, limit: usize) -> Vec<String> {
    const CONTINUED: usize = 64;
    let limit = limit.max(CONTINUED * 2);
    let mut parts: Vec<String> = vec![String::new()];
    for block in blocks {
        let mut block = block;
        if block.chars().count() > limit - CONTINUED {
            block = block.chars().take(limit - CONTINUED - 2).collect();
            block.push_str("…\n");
        }
        let current = parts.last_mut().expect("one part at least");
        if current.chars().count() + block.chars().count() > limit - CONTINUED {
            parts.push(block);
        } else {
            current.push_str(&block);
        }
    }
    let count = parts.len();
    parts
        .into_iter()
        .enumerate()
        .map(|(index, part)| {
            if index == 0 {
                part
            } else {
                format!("*(continued: part {} of {count})*\n{part}", index + 1)
            }
        })
        .collect()
}

fn header(snapshot: &Snapshot) -> String {
    let mut out = String::new();
    let title = snapshot.display_title();
    let totals = snapshot.totals();
    let total = snapshot.repos.len();
    let done = totals[&RepoState::Merged] + totals[&RepoState::NoChange];
    let _ = writeln!(out, "## Migration: {title}\n");
    if !snapshot.description.trim().is_empty() {
        let _ = writeln!(out, "{}\n", snapshot.description.trim());
    }
    let filled = (done * 20).checked_div(total).unwrap_or(0);
    let _ = writeln!(
        out,
        "**Progress: {done} of {total} repositories done ({:.1}%)** `{}{}`\n",
        snapshot.done_percent(),
        "█".repeat(filled),
        "░".repeat(20 - filled)
    );
    out.push_str("| state | repositories |\n|---|---:|\n");
    for (state, count) in totals.iter().filter(|(_, count)| **count > 0) {
        let _ = writeln!(out, "| {state} | {count} |");
    }
    out.push('\n');
    out
}

fn attention(snapshot: &Snapshot, blocks: &mut Vec<String>) {
    let rows: Vec<&RepoRow> = snapshot
        .repos
        .iter()
        .filter(|row| {
            matches!(
                row.record.state,
                RepoState::Failed | RepoState::NeedsAttention
            )
        })
        .collect();
    if rows.is_empty() {
        return;
    }
    blocks.push("### Needs attention\n\n".to_owned());
    for row in rows {
        let record = &row.record;
        blocks.push(format!(
            "- **{}** ({}): {}\n",
            record.repo,
            record.state,
            one_line(record.last_error.as_deref().unwrap_or("no reason recorded"))
        ));
    }
}

/// `- [x] repo — merged [#3](url)`: checked when done.
fn checklist_line(row: &RepoRow, now: i64) -> String {
    let record = &row.record;
    let mut line = format!(
        "- [{}] `{}` — {}",
        if row.is_done() { "x" } else { " " },
        record.repo,
        record.state
    );
    if let Some(number) = record.pull_request {
        match &record.pull_request_url {
            Some(url) if url.starts_with("http") => {
                let _ = write!(line, " [#{number}]({url})");
            }
            _ => {
                let _ = write!(line, " #{number}");
            }
        }
        if record.draft {
            line.push_str(" (draft)");
        }
    }
    if let Some(checks) = record.checks.filter(|_| !record.state.is_final()) {
        let _ = write!(line, ", checks {checks}");
    }
    if record.review_items > 0 {
        let _ = write!(line, ", {} review item(s)", record.review_items);
    }
    if let Some(age) = row
        .age_ms(now)
        .filter(|age| *age >= DAY_MS && !record.state.is_final())
    {
        let _ = write!(line, ", open {}d", age / DAY_MS);
    }
    if let Some(held) = &row.held {
        let _ = write!(line, " — held back: {}", one_line(held));
    }
    line.push('\n');
    line
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_stay_under_the_limit_and_keep_every_block() {
        let blocks: Vec<String> = (0..500).map(|index| format!("- line {index}\n")).collect();
        let parts = pack(blocks, 1_000);
        assert!(parts.len() > 1);
        for part in &parts {
            assert!(part.chars().count() <= 1_000, "{}", part.len());
        }
        let joined = parts.join("");
        for index in 0..500 {
            assert!(joined.contains(&format!("- line {index}\n")));
        }
        assert!(parts[1].starts_with(&format!("*(continued: part 2 of {})*", parts.len())));
    }

    #[test]
    fn the_text_changes_only_when_something_moved() {
        use crate::catalog::RepoName;
        use crate::store::RepoRecord;
        let mut record = RepoRecord::new("m", RepoName::parse("o/a").unwrap(), vec!["t".into()]);
        record.state = RepoState::PrOpen;
        record.pull_request = Some(3);
        let snapshot = |now: i64| Snapshot {
            migration: "m".to_owned(),
            title: "T".to_owned(),
            description: String::new(),
            now,
            repos: vec![RepoRow {
                record: record.clone(),
                held: None,
                opened_at: Some(0),
                finished_at: None,
            }],
            events: Vec::new(),
            last_run: None,
            last_finished_run: None,
            rate_limits: Vec::new(),
        };
        let early = render(&snapshot(1_000), PART_LIMIT);
        assert_eq!(early, render(&snapshot(DAY_MS - 1), PART_LIMIT));
        let later = render(&snapshot(2 * DAY_MS + 5), PART_LIMIT);
        assert!(
            later[0].contains("- [ ] `o/a` — pr-open #3, open 2d"),
            "{later:?}"
        );
    }

    #[test]
    fn an_oversized_block_is_cut_to_fit() {
        let parts = pack(vec!["x".repeat(5_000)], 1_000);
        assert_eq!(parts.len(), 1);
        assert!(parts[0].chars().count() <= 1_000);
        assert!(parts[0].ends_with("…\n"));
    }
}
