//! `fleetmod tree`: print the syntax tree of a file or snippet, with node
//! kinds and field names, to help write `kind`, `field` and `query` rules.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, anyhow};
use clap::Args;
use tree_sitter::TreeCursor;

use super::Failure;
use crate::lang::{self, Language};

#[derive(Debug, Args)]
pub(crate) struct TreeArguments {
    /// The file to parse.
    #[arg(required_unless_present = "code")]
    file: Option<PathBuf>,
    /// Parse this code instead of a file (needs --language).
    #[arg(long, short = 'c', requires = "language")]
    code: Option<String>,
    /// The language (default: from the file extension).
    #[arg(long, short = 'l')]
    language: Option<String>,
    /// Also show unnamed nodes (punctuation and keywords).
    #[arg(long)]
    all: bool,
}

pub(crate) fn run(arguments: TreeArguments) -> Result<(), Failure> {
    let language = match (&arguments.language, &arguments.file) {
        (Some(name), _) => Language::from_name(name).ok_or_else(|| {
            anyhow!(
                "unknown language `{name}`; fleetmod supports {}",
                Language::known_names()
            )
        })?,
        (None, Some(file)) => Language::from_path(file)
            .ok_or_else(|| anyhow!("{}: unknown language; pass --language", file.display()))?,
        (None, None) => {
            return Err(Failure::Input(anyhow!(
                "pass a file, or --code with --language"
            )));
        }
    };
    let source = match (&arguments.code, &arguments.file) {
        (Some(code), _) => code.clone(),
        (None, Some(file)) => std::fs::read_to_string(file)
            .with_context(|| format!("failed to read {}", file.display()))?,
        (None, None) => {
            return Err(Failure::Input(anyhow!(
                "pass a file, or --code with --language"
            )));
        }
    };
    let tree = lang::parse(language, &source).ok_or_else(|| anyhow!("the parser gave up"))?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut cursor = tree.walk();
    print_node(&mut out, &mut cursor, &source, 0, arguments.all)
        .context("failed to write output")?;
    out.flush().context("failed to write output")?;
    Ok(())
}

fn print_node(
    out: &mut impl Write,
    cursor: &mut TreeCursor<'_>,
    source: &str,
    depth: usize,
    all: bool,
) -> std::io::Result<()> {
    let node = cursor.node();
    let shown = all || node.is_named() || node.is_missing();
    let mut child_depth = depth;
    if shown {
        let (start, end) = (node.start_position(), node.end_position());
        let field = cursor
            .field_name()
            .map(|field| format!("{field}: "))
            .unwrap_or_default();
        let kind = if node.is_missing() {
            format!("MISSING {}", node.kind())
        } else if node.is_named() {
            node.kind().to_owned()
        } else {
            format!("{:?}", node.kind())
        };
        let (indent, line, column) = ("  ".repeat(depth), start.row + 1, start.column + 1);
        write!(
            out,
            "{indent}{field}{kind} {line}:{column}-{}:{}",
            end.row + 1,
            end.column + 1
        )?;
        if node.child_count() == 0 && node.is_named() {
            let text: String = source
                .get(node.byte_range())
                .unwrap_or_default()
                .chars()
                .take(60)
                .collect();
            write!(out, " {text:?}")?;
        }
        writeln!(out)?;
        child_depth += 1;
    }
    if cursor.goto_first_child() {
        loop {
            print_node(out, cursor, source, child_depth, all)?;
            if !cursor.goto_next_sibling() {
                break;
            }
        }
        cursor.goto_parent();
    }
    Ok(())
}
