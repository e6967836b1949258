//! Compatibility with ast-grep: every case under `fixtures/compat/` holds
//! rules, source files and `expected.json`, the matches that ast-grep 0.51.1
//! reported for them (recorded with `tests/compat/compare.py
//! --write-expected fixtures/compat`). fleetmod must report the same ranges.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use fleetmod::engine::Scanner;
use fleetmod::lang::Language;
use fleetmod::rule::RuleSet;

type Found = BTreeSet<(String, String, usize, usize)>;

fn expected(case: &Path) -> Found {
    let text = std::fs::read_to_string(case.join("expected.json")).expect("expected.json");
    let records: Vec<serde_json::Value> = serde_json::from_str(&text).expect("valid json");
    records
        .iter()
        .map(|record| {
            (
                record["path"].as_str().expect("path").to_owned(),
                record["rule"].as_str().expect("rule").to_owned(),
                record["start"].as_u64().expect("start") as usize,
                record["end"].as_u64().expect("end") as usize,
            )
        })
        .collect()
}

fn actual(case: &Path) -> Found {
    let rules =
        RuleSet::load(&[case.join("rule.yml")], None).unwrap_or_else(|errors| panic!("{errors}"));
    let scanner = Scanner::new(&rules);
    let mut found = Found::new();
    let mut sources: Vec<PathBuf> = std::fs::read_dir(case)
        .expect("case folder")
        .map(|entry| entry.expect("entry").path())
        .collect();
    sources.sort();
    for source in sources {
        let Some(language) = Language::from_path(&source) else {
            continue;
        };
        let text = std::fs::read_to_string(&source).expect("source");
        let name = source
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        for found_match in scanner.scan(language, Path::new(&name), &text).matches {
            let rule = rules.rules[found_match.rule].id.clone();
            found.insert((
                name.clone(),
                rule,
                found_match.span.bytes.start,
                found_match.span.bytes.end,
            ));
        }
    }
    found
}

#[test]
fn matches_equal_ast_grep_on_every_compat_case() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/compat");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixtures/compat")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.join("rule.yml").is_file())
        .collect();
    cases.sort();
    assert!(cases.len() >= 7, "compat cases are missing");
    let mut failures = Vec::new();
    for case in &cases {
        let (expected, actual) = (expected(case), actual(case));
        assert!(
            !expected.is_empty(),
            "{} records no matches",
            case.display()
        );
        for missing in expected.difference(&actual) {
            failures.push(format!("{}: only ast-grep: {missing:?}", case.display()));
        }
        for extra in actual.difference(&expected) {
            failures.push(format!("{}: only fleetmod: {extra:?}", case.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
