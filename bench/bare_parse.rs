//! The parse floor: read every file under the given folders and parse it
//! with tree-sitter, in parallel, doing nothing else. A rule that cannot
//! skip files (no required literal) cannot be faster than this; the rewrite
//! benchmark reports fleetmod's throughput on such a rule against it.
//!
//! Usage: `cargo run --release --example bare-parse -- [--jobs N]
//! [--containing TEXT]... PATH...` prints the files and bytes parsed and the
//! wall time. With `--containing`, only files that contain every TEXT are
//! parsed (all are still read): the floor for a tool whose literal prefilter
//! is exact, for a rule that needs those literals.

use std::path::PathBuf;
use std::time::Instant;

use fleetmod::lang::{self, Language};
use rayon::prelude::*;

fn main() {
    let mut jobs = std::thread::available_parallelism().map_or(1, |count| count.get());
    let mut roots = Vec::new();
    let mut containing: Vec<String> = Vec::new();
    let mut arguments = std::env::args().skip(1);
    while let Some(argument) = arguments.next() {
        if argument == "--jobs" || argument == "-j" {
            jobs = arguments
                .next()
                .and_then(|value| value.parse().ok())
                .expect("--jobs takes a number");
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
                match std::fs::read_to_string(path) {
                    Ok(source)
                        if containing.iter().all(|text| source.contains(text.as_str()))
                            && lang::parse(language, &source).is_some() =>
                    {
                        (1, source.len())
                    }
                    _ => (0, 0),
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
