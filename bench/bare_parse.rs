//! The parse floor: read every file under the given folders and parse it
//! with tree-sitter, in parallel, doing nothing else. A rule that cannot
//! skip files (no required literal) cannot be faster than this; the rewrite
//! benchmark reports fleetmod's throughput on such a rule against it.
//!
//! Usage: `cargo run --release --example bare-parse -- [--jobs N] [--walk]
//! [--containing TEXT]... PATH...` prints the files and bytes parsed and the
//! wall time. With `--containing`, only files that contain every TEXT are
//! parsed (all are still read): the floor for a tool whose literal prefilter
//! is exact, for a rule that needs those literals. With `--walk`, each
//! tree is also walked node by node with a tree cursor, as a rule that
//! names only a node kind must at least do: the floor for such a rule.

use std::path::PathBuf;
use std::time::Instant;

use fleetmod::lang::{self, Language};
use rayon::prelude::*;

fn main() {
    let mut jobs = std::thread::available_parallelism().map_or(1, |count| count.get());
    let mut roots = Vec::new();
    let mut containing: Vec<String> = Vec::new();
    let mut walk = false;
    let mut arguments = std::env::args().skip(1);
    while let Some(argument) = arguments.next() {
        if argument == "--jobs" || argument == "-j" {
            jobs = arguments
                .next()
                .and_then(|value| value.parse().ok())
                .expect("--jobs takes a number");
        } else if argument == "--walk" {
            walk = true;
        } else if argument == "--containing" {
            containing.push(arguments.next().expect("--containing takes a text"));
        } else {
            roots.push(PathBuf::from(argument));
        }
    }
    let started = Instant::now();
    let mut files = Vec::new();
    for root in &roots {
        for entry in ignore::WalkBuilder::new(root).build().flatten() {
            if entry.file_type().is_some_and(|kind| kind.is_file())
                && Language::from_path(entry.path()).is_some()
            {
                files.push(entry.into_path());
            }
        }
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .expect("thread pool");
    let (parsed, bytes) = pool.install(|| {
        files
            .par_iter()
            .map(|path| {
                let language = Language::from_path(path).expect("filtered above");
                let Ok(source) = std::fs::read_to_string(path) else {
                    return (0, 0);
                };
                if !containing.iter().all(|text| source.contains(text.as_str())) {
                    return (0, 0);
                }
                match lang::parse(language, &source) {
                    Some(tree) => {
                        if walk {
                            std::hint::black_box(visit_every_node(&tree));
                        }
                        (1, source.len())
                    }
                    None => (0, 0),
                }
            })
            .reduce(
                || (0, 0),
                |left, right| (left.0 + right.0, left.1 + right.1),
            )
    });
    let seconds = started.elapsed().as_secs_f64();
    let mut out = std::io::stdout().lock();
    use std::io::Write;
    writeln!(
        out,
        "parsed {parsed} files, {bytes} bytes, {jobs} threads, {seconds:.3} s, {:.1} MB/s",
        bytes as f64 / seconds / 1e6
    )
    .expect("stdout");
}

/// Visits every node in pre-order with a tree cursor; returns how many.
fn visit_every_node(tree: &tree_sitter::Tree) -> usize {
    let mut cursor = tree.walk();
    let mut visited = 0;
    loop {
        visited += usize::from(cursor.node().kind_id() != u16::MAX);
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return visited;
            }
        }
    }
}
