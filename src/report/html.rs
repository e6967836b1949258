//! The HTML report: one self-contained file (inline CSS, SVG charts, no
//! scripts, no network assets) that a person can open from disk, attach to
//! a ticket or get from `fleetmod serve`.
//!
//! Sections: overall progress, the burndown, a per-owner table and a
//! per-repository list. The migration's title and description come from
//! the spec; the description is Markdown with raw HTML shown as text. Every
//! value is escaped; links are only made for `http(s)` pull request URLs
//! (the local forge's `local:` addresses are shown as numbers).

use std::fmt::Write;

use pulldown_cmark::{Event, Options, Parser};

use super::{RepoRow, Snapshot, burndown, format_age};
use crate::store::RepoState;
use crate::store::time::format_utc;

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{margin:0 0 4px;font-size:26px}h2{font-size:19px;margin:28px 0 10px}
.meta{color:#57606a;font-size:13px;margin-bottom:12px}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px;margin-bottom:16px}
.description p:first-child{margin-top:0}.description p:last-child{margin-bottom:0}
.stats{display:flex;flex-wrap:wrap;gap:10px}
.stat{flex:1 1 110px;border:1px solid #d0d7de;border-radius:6px;padding:8px 10px;background:#fff}
.stat .value{font-size:22px;font-weight:600}.stat .label{font-size:12px;color:#57606a}
.bar{height:14px;background:#eaeef2;border-radius:7px;overflow:hidden;margin:12px 0 4px;display:flex}
.bar span{display:block;height:100%}
.done{background:#1a7f37}.open{background:#0969da}.bad{background:#cf222e}.warn{background:#bf8700}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border-bottom:1px solid #d0d7de;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
td.number{text-align:right;white-space:nowrap}
.state{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;color:#fff;white-space:nowrap}
.state.merged,.state.no-change{background:#1a7f37}.state.pr-open,.state.pushed,.state.changed{background:#0969da}
.state.failed{background:#cf222e}.state.needs-attention{background:#bf8700}
.state.closed{background:#6e7781}.state.pending,.state.cloned{background:#8c959f}
ul.review{margin:0;padding-left:16px}code{font-size:12px}
.error{color:#cf222e}.held{color:#57606a}
svg.burndown{max-width:100%;height:auto}
";

/// The report of `snapshot` as a complete HTML document.
pub fn render(snapshot: &Snapshot) -> String {
    let mut out = String::with_capacity(16 * 1024 + snapshot.repos.len() * 512);
    let title = snapshot.display_title();
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} — fleetmod</title><style>{STYLE}</style></head><body><main>",
        escape(title)
    );
    let _ = writeln!(
        out,
        "<h1>{}</h1><div class=\"meta\">Migration <code>{}</code> · generated {}{}</div>",
        escape(title),
        escape(&snapshot.migration),
        format_utc(snapshot.now),
        last_run(snapshot)
    );
    if !snapshot.description.trim().is_empty() {
        let _ = writeln!(
            out,
            "<div class=\"card description\">{}</div>",
            markdown(&snapshot.description)
        );
    }
    progress(&mut out, snapshot);
    let days = burndown::series(snapshot);
    let _ = writeln!(
        out,
        "<h2>Burndown</h2><div class=\"card\" id=\"burndown\">{}</div>",
        burndown::svg(&days, snapshot.repos.len())
    );
    owners(&mut out, snapshot);
    repositories(&mut out, snapshot);
    out.push_str("</main></body></html>\n");
    out
}

fn last_run(snapshot: &Snapshot) -> String {
    match &snapshot.last_run {
        Some(run) if run.finished_at.is_none() => format!(
            " · run in progress since {} (alive {})",
            format_utc(run.started_at),
            format_utc(run.heartbeat_at)
        ),
        Some(run) => format!(
            " · last run {} ({:.1}s, {})",
            format_utc(run.started_at),
            run.duration_seconds(),
            escape(run.outcome.as_deref().unwrap_or("?"))
        ),
        None => " · no run recorded".to_owned(),
    }
}

/// The headline counts and a stacked progress bar.
fn progress(out: &mut String, snapshot: &Snapshot) {
    let totals = snapshot.totals();
    let count = |states: &[RepoState]| -> usize { states.iter().map(|state| totals[state]).sum() };
    let total = snapshot.repos.len();
    let open = count(&[RepoState::PrOpen, RepoState::Pushed, RepoState::Changed]);
    let pending = count(&[RepoState::Pending, RepoState::Cloned]);
    let stats = [
        ("total", "repositories", total),
        ("merged", "merged", totals[&RepoState::Merged]),
        ("no-change", "no change", totals[&RepoState::NoChange]),
        ("pr-open", "PR open", open),
        ("closed", "closed", totals[&RepoState::Closed]),
        ("failed", "failed", totals[&RepoState::Failed]),
        (
            "needs-attention",
            "needs attention",
            totals[&RepoState::NeedsAttention],
        ),
        ("pending", "not started", pending),
    ];
    let _ = write!(
        out,
        "<h2>Progress</h2><div class=\"card\" id=\"progress\"><div class=\"stats\">"
    );
    for (class, label, value) in stats {
        let _ = write!(
            out,
            "<div class=\"stat {class}\"><div class=\"value\">{value}</div><div class=\"label\">{label}</div></div>"
        );
    }
    let share = |value: usize| {
        if total == 0 {
            0.0
        } else {
            100.0 * value as f64 / total as f64
        }
    };
    let done = count(&[RepoState::Merged, RepoState::NoChange]);
    let attention = count(&[RepoState::Failed, RepoState::NeedsAttention]);
    let _ = writeln!(
        out,
        "</div><div class=\"bar\" title=\"done, open, failing\"><span class=\"done\" style=\"width:{:.2}%\"></span><span class=\"open\" style=\"width:{:.2}%\"></span><span class=\"bad\" style=\"width:{:.2}%\"></span></div>\
         <div id=\"done-percent\"><strong>{:.1}% done</strong> ({done} of {total}: merged or no change needed)</div></div>",
        share(done),
        share(open),
        share(attention),
        snapshot.done_percent()
    );
}

fn owners(out: &mut String, snapshot: &Snapshot) {
    out.push_str(
        "<h2>By owner</h2><table id=\"owners\"><thead><tr><th>Team</th><th>Repositories</th>\
         <th>Merged</th><th>Open pull requests</th><th>Review items</th></tr></thead><tbody>\n",
    );
    for (owner, rows) in snapshot.by_owner() {
        let merged = rows
            .iter()
            .filter(|row| row.record.state == RepoState::Merged)
            .count();
        let with_change = rows
            .iter()
            .filter(|row| row.record.state != RepoState::NoChange)
            .count();
        let open: Vec<String> = rows
            .iter()
            .filter(|row| row.has_open_pull_request())
            .map(|row| pull_link(row, true))
            .collect();
        let review: u32 = rows
            .iter()
            .filter(|row| row.has_open_pull_request())
            .map(|row| row.record.review_items)
            .sum();
        let merged_text = if with_change == 0 {
            "no change needed".to_owned()
        } else {
            format!(
                "{:.0}% ({merged} of {with_change})",
                100.0 * merged as f64 / with_change as f64
            )
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"number\">{}</td><td class=\"number\">{merged_text}</td><td>{}</td><td class=\"number\">{review}</td></tr>",
            escape(owner),
            rows.len(),
            if open.is_empty() {
                "—".to_owned()
            } else {
                open.join(", ")
            },
        );
    }
    out.push_str("</tbody></table>\n");
}

fn repositories(out: &mut String, snapshot: &Snapshot) {
    out.push_str(
        "<h2>Repositories</h2><table id=\"repos\"><thead><tr><th>Repository</th><th>Owners</th>\
         <th>State</th><th>Pull request</th><th>Checks</th><th>Review items</th><th>Age</th>\
         <th>Last error</th></tr></thead><tbody>\n",
    );
    for row in &snapshot.repos {
        let record = &row.record;
        let review = if record.review_locations.is_empty() {
            if record.review_items == 0 {
                "—".to_owned()
            } else {
                record.review_items.to_string()
            }
        } else {
            let items: String = record
                .review_locations
                .iter()
                .map(|item| {
                    format!(
                        "<li><code>{}:{}</code> {}</li>",
                        escape(&item.path),
                        item.line,
                        escape(&item.message)
                    )
                })
                .collect();
            format!("<ul class=\"review\">{items}</ul>")
        };
        let error = match (&record.last_error, &row.held) {
            (Some(error), _) => format!(
                "<span class=\"error\">{}{}</span>",
                record
                    .failed_stage
                    .as_deref()
                    .map(|stage| format!("{}: ", escape(stage)))
                    .unwrap_or_default(),
                escape(error)
            ),
            (None, Some(held)) => {
                format!("<span class=\"held\">held back: {}</span>", escape(held))
            }
            (None, None) => String::new(),
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td><span class=\"state {state}\">{state}</span></td><td>{}</td><td>{}</td><td>{review}</td><td class=\"number\">{}</td><td>{error}</td></tr>",
            escape(&record.repo.to_string()),
            escape(&record.owners.join(", ")),
            if record.pull_request.is_some() {
                pull_link(row, false)
            } else {
                "—".to_owned()
            },
            record.checks.map_or("—", |checks| checks.as_str()),
            row.age_ms(snapshot.now)
                .map_or_else(|| "—".to_owned(), format_age),
            state = record.state.as_str(),
        );
    }
    out.push_str("</tbody></table>\n");
}

/// `#12` linked to the pull request (with the repository name when
/// `with_repo`); a link only for web addresses.
fn pull_link(row: &RepoRow, with_repo: bool) -> String {
    let record = &row.record;
    let number = record.pull_request.unwrap_or_default();
    let text = if with_repo {
        format!("{}#{number}", record.repo)
    } else {
        format!("#{number}")
    };
    let draft = if record.draft { " (draft)" } else { "" };
    match &record.pull_request_url {
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
            format!("<a href=\"{}\">{}</a>{draft}", escape(url), escape(&text))
        }
        _ => format!("{}{draft}", escape(&text)),
    }
}

/// Markdown to HTML; raw HTML in the Markdown is shown as text.
pub fn markdown(text: &str) -> String {
    let parser = Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(
        |event| match event {
            Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
            other => other,
        },
    );
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, parser);
    html
}

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_and_raw_html_is_text() {
        let html = markdown("**Orders** move to `orders_v2`.\n\n<script>alert(1)</script>");
        assert!(html.contains("<strong>Orders</strong>"), "{html}");
        assert!(html.contains("<code>orders_v2</code>"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn escaping_covers_attributes() {
        assert_eq!(
            escape(r#"<a href="x">'&"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
    }
}
