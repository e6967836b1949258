//! Criterion micro-benchmarks of the matcher: one file, many rules.
//!
//! The starter rules of a language (`rules/<language>/`) scanned over one
//! generated source file of a few thousand lines that holds matches for
//! most of them, and the same file with only the literal prefilter at work
//! (no rule's literals present). Run with `cargo bench --bench matcher`.

use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fleetmod::engine::Scanner;
use fleetmod::lang::Language;
use fleetmod::rule::RuleSet;

/// A Java class with `methods` methods, each using a few starter-rule shapes.
fn java_source(methods: usize) -> String {
    let mut source = String::from(
        "package bench;\n\nimport java.util.*;\nimport org.junit.Assert;\n\npublic class Sample {\n",
    );
    for index in 0..methods {
        source.push_str(&format!(
            "    @Before\n    public void method{index}(List<String> items) {{\n        \
             Integer boxed = new Integer({index});\n        \
             if (items.size() == 0) {{ return; }}\n        \
             Assert.assertEquals(\"size\", {index}, items.size());\n        \
             List<String> empty = Collections.EMPTY_LIST;\n        \
             String joined = String.join(\",\", items) + boxed.toString();\n    }}\n\n"
        ));
    }
    source.push_str("}\n");
    source
}

/// A Python module with `functions` functions, each using starter-rule shapes.
fn python_source(functions: usize) -> String {
    let mut source =
        String::from("import logging\nimport yaml\n\nlogger = logging.getLogger(__name__)\n\n");
    for index in 0..functions {
        source.push_str(&format!(
            "def function_{index}(options, key, stream):\n    \
             if options.has_key(key) and key == None:\n        \
             logger.warn(\"missing %s\", key)\n    \
             data = yaml.load(stream)\n    \
             return [item for item in data if item is not None] + [{index}]\n\n\n"
        ));
    }
    source
}

fn starter_rules(language: &str) -> RuleSet {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("rules")
        .join(language);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .expect("rules folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| {
            path.extension().is_some_and(|extension| extension == "yml")
                && !path.to_string_lossy().ends_with("-test.yml")
        })
        .collect();
    files.sort();
    RuleSet::load(&files, None).expect("starter rules load")
}

fn matcher(criterion: &mut Criterion) {
    for (language, source, file) in [
        ("java", java_source(300), "Sample.java"),
        ("python", python_source(300), "sample.py"),
    ] {
        let rules = starter_rules(language);
        let scanner = Scanner::new(&rules);
        let parsed = Language::from_name(language).expect("language");
        let mut group = criterion.benchmark_group(format!("matcher/{language}"));
        group.throughput(Throughput::Bytes(source.len() as u64));
        let matches = scanner.scan(parsed, Path::new(file), &source).matches.len();
        assert!(matches > 300, "{language}: only {matches} matches");
        group.bench_function(
            format!("{} rules, {matches} matches", rules.rules.len()),
            |bench| bench.iter(|| scanner.scan(parsed, Path::new(file), &source)),
        );
        // The same size of text with no rule's literals: the prefilter alone.
        let unrelated = "x = 1\n".repeat(source.len() / 6);
        group.bench_function("prefilter only (no literal present)", |bench| {
            bench.iter(|| scanner.scan(parsed, Path::new(file), &unrelated))
        });
        group.finish();
    }
}

criterion_group!(benches, matcher);
criterion_main!(benches);
