//! Unified diffs of rewritten files, with the rules behind each hunk.

use std::io::{self, Write};

use anstyle::{AnsiColor, Color, Style};
use similar::TextDiff;

use crate::engine::Scanner;
use crate::engine::rewrite::AppliedEdit;

const HEADER: Style = Style::new().bold();
const HUNK: Style = Style::new().fg_color(Some(Color::Ansi(AnsiColor::Cyan)));
const ADDED: Style = Style::new().fg_color(Some(Color::Ansi(AnsiColor::Green)));
const REMOVED: Style = Style::new().fg_color(Some(Color::Ansi(AnsiColor::Red)));

fn line(out: &mut impl Write, style: Style, text: &str, colors: bool) -> io::Result<()> {
    if colors {
        writeln!(out, "{}{text}{}", style.render(), style.render_reset())
    } else {
        writeln!(out, "{text}")
    }
}

/// Writes a unified diff from `old` to `new` for `path`. Each hunk header
/// names the rules whose edits land in it.
pub(crate) fn write_diff(
    out: &mut impl Write,
    path: &str,
    old: &str,
    new: &str,
    applied: &[AppliedEdit],
    scanner: &Scanner<'_>,
    colors: bool,
) -> io::Result<()> {
    let diff = TextDiff::from_lines(old, new);
    line(out, HEADER, &format!("--- a/{path}"), colors)?;
    line(out, HEADER, &format!("+++ b/{path}"), colors)?;
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        let ops = hunk.ops();
        let (Some(first), Some(last)) = (ops.first(), ops.last()) else {
            continue;
        };
        let new_lines =
            first.new_range().start..last.new_range().end.max(first.new_range().start + 1);
        let mut ids: Vec<&str> = applied
            .iter()
            .filter(|edit| new_lines.contains(&(edit.position.line - 1)))
            .map(|edit| scanner.rule_id(edit.rule))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut header = hunk.header().to_string();
        if !ids.is_empty() {
            header.push(' ');
            header.push_str(&ids.join(", "));
        }
        line(out, HUNK, &header, colors)?;
        for change in hunk.iter_changes() {
            let text = change.value().trim_end_matches('\n').trim_end_matches('\r');
            let (sign, style) = match change.tag() {
                similar::ChangeTag::Delete => ('-', REMOVED),
                similar::ChangeTag::Insert => ('+', ADDED),
                similar::ChangeTag::Equal => (' ', Style::new()),
            };
            line(out, style, &format!("{sign}{text}"), colors && sign != ' ')?;
            if change.missing_newline() {
                writeln!(out, "\\ No newline at end of file")?;
            }
        }
    }
    Ok(())
}
