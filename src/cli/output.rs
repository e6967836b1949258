//! Rendering matches, summaries, errors and progress.
//!
//! Human output is `path:line:column rule-id message`, then the source line
//! with a caret underline. JSON output is one object per match (JSON Lines);
//! its schema is documented in the README and kept stable.

use std::io::{self, Write};
use std::path::Path;

use anstyle::{AnsiColor, Style};
use serde_json::json;

use crate::engine::{Capture, Match, Span};
use crate::rule::{Rule, Severity};

const PATH: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Magenta)));
const RULE: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Cyan)))
    .bold();
const CARET: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)))
    .bold();
const GUTTER: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Blue)));
const BOLD: Style = Style::new().bold();
const ERROR: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)))
    .bold();

fn paint(text: &str, style: Style, colors: bool) -> String {
    if colors {
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_owned()
    }
}

pub(crate) fn bold(text: &str, colors: bool) -> String {
    paint(text, BOLD, colors)
}

pub(crate) fn failed(text: &str, colors: bool) -> String {
    paint(text, ERROR, colors)
}

/// Prints an error and its causes to stderr.
pub(crate) fn print_error(error: &anyhow::Error, colors: bool) {
    let label = paint("error:", ERROR, colors);
    let mut chain = error.chain();
    if let Some(first) = chain.next() {
        let text = first.to_string();
        let mut lines = text.lines();
        if let Some(line) = lines.next() {
            eprintln!("{label} {line}");
        }
        for line in lines {
            eprintln!("{label} {line}");
        }
    }
    for cause in chain {
        eprintln!("  caused by: {cause}");
    }
}

/// Replaces `$NAME` and `$$$NAME` in a rule message with captured or
/// transformed text.
pub(crate) fn interpolate(message: &str, found: &Match, source: &str) -> String {
    let captures = &found.captures;
    let mut result = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(position) = rest.find('$') {
        result.push_str(&rest[..position]);
        let after = &rest[position..];
        let dollars = after.chars().take_while(|c| *c == '$').count().min(3);
        let name: String = after[dollars..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        let capture = captures
            .iter()
            .find(|capture| capture.name == name && !name.is_empty());
        let transformed = found
            .transformed
            .iter()
            .find(|(known, _)| *known == name && !name.is_empty());
        match (capture, transformed) {
            (Some(capture), _) => {
                result.push_str(&capture_text(capture, source));
                rest = &after[dollars + name.len()..];
            }
            (None, Some((_, text))) => {
                result.push_str(text);
                rest = &after[dollars + name.len()..];
            }
            (None, None) => {
                result.push('$');
                rest = &after[1..];
            }
        }
    }
    result.push_str(rest);
    result
}

fn capture_text(capture: &Capture, source: &str) -> String {
    match (capture.spans.first(), capture.spans.last()) {
        (Some(first), Some(last)) => source
            .get(first.bytes.start..last.bytes.end)
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    }
}

/// `path:line:column rule-id message`, the source line and a caret underline.
pub(crate) fn write_human_match(
    out: &mut impl Write,
    path: &Path,
    rule: &Rule,
    found: &Match,
    source: &str,
    colors: bool,
) -> io::Result<()> {
    let start = found.span.start;
    let location = format!("{}:{}:{}", path.display(), start.line, start.column);
    let message = interpolate(&rule.message, found, source);
    let severity = match rule.severity {
        Severity::Error | Severity::Warning => format!("{} ", rule.severity.as_str()),
        _ => String::new(),
    };
    write!(
        out,
        "{} {}{}",
        paint(&location, PATH, colors),
        severity,
        paint(&rule.id, RULE, colors)
    )?;
    if !message.is_empty() {
        write!(out, " {message}")?;
    }
    writeln!(out)?;
    let line_start = found.span.bytes.start
        - source[..found.span.bytes.start]
            .rfind('\n')
            .map_or(found.span.bytes.start, |newline| {
                found.span.bytes.start - newline - 1
            });
    let line_end = source[line_start..]
        .find('\n')
        .map_or(source.len(), |offset| line_start + offset);
    let line_text = source[line_start..line_end].trim_end_matches('\r');
    let number = start.line.to_string();
    let gutter = " ".repeat(number.len());
    writeln!(
        out,
        "{} {}",
        paint(&format!("{number} |"), GUTTER, colors),
        line_text.replace('\t', " ")
    )?;
    let underline_end = if found.span.end.line == start.line {
        found.span.end.column
    } else {
        line_text.chars().count() + 1
    };
    let width = underline_end.saturating_sub(start.column).max(1);
    writeln!(
        out,
        "{} {}{}",
        paint(&format!("{gutter} |"), GUTTER, colors),
        " ".repeat(start.column - 1),
        paint(&"^".repeat(width), CARET, colors)
    )
}

fn span_json(span: &Span) -> serde_json::Value {
    json!({
        "bytes": {"start": span.bytes.start, "end": span.bytes.end},
        "start": {"line": span.start.line, "column": span.start.column},
        "end": {"line": span.end.line, "column": span.end.column},
    })
}

/// One match as a JSON object on one line.
pub(crate) fn write_json_match(
    out: &mut impl Write,
    path: &Path,
    rule: &Rule,
    found: &Match,
    source: &str,
) -> io::Result<()> {
    let text = |span: &Span| {
        source
            .get(span.bytes.clone())
            .unwrap_or_default()
            .to_owned()
    };
    let mut metavariables = serde_json::Map::new();
    for capture in &found.captures {
        let value = if capture.list {
            serde_json::Value::Array(
                capture
                    .spans
                    .iter()
                    .map(|span| json!({"text": text(span), "range": span_json(span)}))
                    .collect(),
            )
        } else {
            let span = &capture.spans[0];
            json!({"text": text(span), "range": span_json(span)})
        };
        metavariables.insert(capture.name.clone(), value);
    }
    let object = json!({
        "path": path.to_string_lossy(),
        "rule_id": rule.id,
        "language": rule.language.name(),
        "severity": rule.severity.as_str(),
        "message": interpolate(&rule.message, found, source),
        "text": text(&found.span),
        "range": span_json(&found.span),
        "metavariables": metavariables,
        "transformed": found
            .transformed
            .iter()
            .map(|(name, text)| (name.clone(), serde_json::Value::String(text.clone())))
            .collect::<serde_json::Map<String, serde_json::Value>>(),
    });
    serde_json::to_writer(&mut *out, &object)?;
    writeln!(out)
}

/// A progress bar on stderr, shown only on a terminal and for long work.
pub(crate) struct ProgressBar {
    bar: indicatif::ProgressBar,
}

impl ProgressBar {
    pub(crate) fn new(task: &str) -> ProgressBar {
        ProgressBar::with_unit(task, "files")
    }

    /// A bar that counts `unit` (`files`, `steps`).
    pub(crate) fn with_unit(task: &str, unit: &str) -> ProgressBar {
        let bar =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        let template = format!("{{msg}} {{bar:40}} {{pos}}/{{len}} {unit} ({{elapsed}})");
        let style = indicatif::ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message(task.to_owned());
        ProgressBar { bar }
    }
}

impl crate::progress::Reporter for ProgressBar {
    fn begin(&self, total: u64) {
        self.bar.set_length(total);
        // Short work finishes before a bar would be useful; indicatif draws
        // nothing when stderr is not a terminal.
        self.bar
            .enable_steady_tick(std::time::Duration::from_millis(200));
    }

    fn advance(&self, count: u64) {
        self.bar.inc(count);
    }

    fn end(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LineColumn;

    fn capture(name: &str, range: std::ops::Range<usize>, list: bool) -> Capture {
        let point = LineColumn { line: 1, column: 1 };
        Capture {
            name: name.to_owned(),
            list,
            spans: vec![Span {
                bytes: range,
                start: point,
                end: point,
            }],
        }
    }

    #[test]
    fn messages_interpolate_captures_and_transforms() {
        let source = "foo(bar, baz)";
        let found = Match {
            rule: 0,
            span: capture("M", 0..13, false).spans.remove(0),
            captures: vec![capture("F", 0..3, false), capture("ARGS", 4..12, true)],
            transformed: vec![("NEW".to_owned(), "qux".to_owned())],
        };
        assert_eq!(
            interpolate("call $F with $$$ARGS", &found, source),
            "call foo with bar, baz"
        );
        assert_eq!(interpolate("use $NEW", &found, source), "use qux");
        assert_eq!(
            interpolate("costs $5 and $UNKNOWN", &found, source),
            "costs $5 and $UNKNOWN"
        );
    }
}
