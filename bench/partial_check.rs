//! Checks partial parses against full parses on a corpus: for every file
//! that contains TEXT, the members around its occurrences are parsed alone
//! (as fleetmod does for a rule whose matches contain TEXT) and compared,
//! node for node, with the parse of the whole file
//! (`fleetmod::lang::outline::compare_with_full_parse`).
//!
//! Usage: `cargo run --release --example partial-check -- TEXT PATH...`
//! prints the files compared, the nodes that agreed, the files skipped and
//! why, and the share of their bytes the partial parses covered. Exits 1
//! if any node differs.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use fleetmod::lang::Language;
use fleetmod::lang::outline::{Agreement, Outline, compare_with_full_parse};

fn main() {
    let mut arguments = std::env::args().skip(1);
    let text = arguments.next().expect("usage: partial-check TEXT PATH...");
    let mut files = Vec::new();
    for root in arguments {
        for entry in ignore::WalkBuilder::new(root).build().flatten() {
            if entry.file_type().is_some_and(|kind| kind.is_file())
                && Language::from_path(entry.path()).is_some()
            {
                files.push(PathBuf::from(entry.path()));
            }
        }
    }
    files.sort();
    let (mut compared, mut nodes, mut differ) = (0usize, 0usize, 0usize);
    let (mut bytes, mut covered) = (0usize, 0usize);
    let mut skipped: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = std::io::stdout().lock();
    for path in files {
        let language = Language::from_path(&path).expect("filtered above");
        let Ok(source) = std::fs::read_to_string(&path) else {
            continue;
        };
        if !source.contains(&text) {
            continue;
        }
        let hits: Vec<_> = source
            .match_indices(&text)
            .map(|(at, found)| at..at + found.len())
            .collect();
        match compare_with_full_parse(language, &source, &hits) {
            Agreement::Same(count) => {
                compared += 1;
                nodes += count;
                let outline = language
                    .outline()
                    .and_then(|spec| Outline::new(spec, &source));
                if let Some(regions) =
                    outline.and_then(|outline| outline.regions(&hits, usize::MAX))
                {
                    bytes += source.len();
                    covered += regions
                        .ranges
                        .iter()
                        .map(|range| range.len())
                        .sum::<usize>();
                }
            }
            Agreement::Skipped(reason) => *skipped.entry(reason).or_default() += 1,
            Agreement::Differs(difference) => {
                differ += 1;
                writeln!(out, "{}: {difference}", path.display()).expect("stdout");
            }
        }
    }
    writeln!(
        out,
        "{text:?}: {compared} files agree ({nodes} nodes), {differ} differ; skipped {skipped:?}; \
         the partial parses cover {:.1}% of their files' bytes",
        100.0 * covered as f64 / bytes.max(1) as f64
    )
    .expect("stdout");
    if differ > 0 {
        std::process::exit(1);
    }
}
