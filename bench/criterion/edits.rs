//! Criterion micro-benchmarks of edit application and the fix loop.
//!
//! - `edit::apply`: many small non-overlapping edits (plus overlapping and
//!   duplicate ones it must skip) on a large text.
//! - `Scanner::rewrite`: the whole safe fix loop on one file: match, edit,
//!   incremental re-parse check, and the second pass that finds nothing.
//!
//! Run with `cargo bench --bench edits`.

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fleetmod::engine::Scanner;
use fleetmod::engine::edit::{self, Edit};
use fleetmod::lang::Language;
use fleetmod::rule::{Applicability, RuleSet};

fn apply(criterion: &mut Criterion) {
    let line = "    value = compute(first_argument, second_argument)\n";
    let text = line.repeat(20_000);
    let mut edits = Vec::new();
    for index in 0..20_000 {
        let start = index * line.len() + 12;
        edits.push(Edit {
            range: start..start + 7,
            replacement: "evaluate".to_owned(),
            rule: 0,
            applicability: Applicability::Safe,
            note: None,
        });
        if index % 10 == 0 {
            // A duplicate and an overlapping edit, which apply skips.
            edits.push(edits[edits.len() - 1].clone());
            edits.push(Edit {
                range: start + 2..start + 9,
                replacement: "x".to_owned(),
                rule: 1,
                applicability: Applicability::Safe,
                note: None,
            });
        }
    }
    let mut group = criterion.benchmark_group("edits");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("apply 20,000 edits to 1 MB", |bench| {
        bench.iter(|| edit::apply(&text, &edits))
    });
    group.finish();
}

fn rewrite(criterion: &mut Criterion) {
    let rule = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/rewrite/rules/python-common.yml");
    let rules = RuleSet::load(&[rule], None).expect("rule loads");
    let scanner = Scanner::new(&rules);
    let python = Language::from_name("python").expect("python");
    let mut source = String::new();
    for index in 0..2_000 {
        source.push_str(&format!(
            "def build_{index}(items):\n    result = []\n    result.append(items[{index}])\n    return result\n\n\n"
        ));
    }
    let outcome = scanner.rewrite(python, Path::new("sample.py"), &source);
    assert_eq!(outcome.applied.len(), 2_000);
    let mut group = criterion.benchmark_group("rewrite");
    group.throughput(Throughput::Bytes(source.len() as u64));
    group.bench_function("fix loop, 2,000 edits in one file", |bench| {
        bench.iter(|| scanner.rewrite(python, Path::new("sample.py"), &source))
    });
    let one = source.replacen("result.append(", "result.insert(0, ", 1999);
    group.bench_function("fix loop, 1 edit in the same file", |bench| {
        bench.iter(|| scanner.rewrite(python, Path::new("sample.py"), &one))
    });
    group.finish();
}

criterion_group!(benches, apply, rewrite);
criterion_main!(benches);
