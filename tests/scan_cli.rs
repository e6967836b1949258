//! `fleetmod scan` end to end: the real binary on real files.

mod common;

use std::path::Path;

use common::{fleetmod, project, write};
use predicates::prelude::*;

const HAS_KEY: &str =
    "id: has-key\nlanguage: python\nmessage: use `$K in $D`\nrule:\n  pattern: $D.has_key($K)\n";

#[test]
fn the_bundled_example_scans_with_the_starter_rules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = fleetmod(root)
        .args([
            "scan",
            "--rules",
            "rules/",
            "examples/orders-v2/repos",
            "--color",
            "never",
        ])
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    insta::assert_snapshot!("example_stdout", String::from_utf8_lossy(&output.stdout));
    insta::assert_snapshot!("example_stderr", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn human_output_shows_location_rule_message_and_caret() {
    let directory = project(&[
        ("rules.yml", HAS_KEY),
        ("src/a.py", "x = 1\nif d.has_key(k):\n    pass\n"),
        // The word is there, but not after a `.`: the prefilter skips it.
        ("src/b.py", "has_key = 1\n"),
    ]);
    fleetmod(directory.path())
        .args(["scan", "-r", "rules.yml", "src"])
        .assert()
        .success()
        .stdout("src/a.py:2:4 has-key use `k in d`\n2 | if d.has_key(k):\n  |    ^^^^^^^^^^^^\n")
        .stderr(predicate::str::contains(
            "scanned 2 files (1 parsed); 1 match in 1 file",
        ))
        .stderr(predicate::str::contains("has-key  1"));
}

#[test]
fn json_output_has_ranges_and_metavariables() {
    let directory = project(&[
        (
            "rules.yml",
            "id: call\nlanguage: python\nrule:\n  pattern: $F($$$ARGS)\n",
        ),
        ("a.py", "é = f(a, b)\n"),
    ]);
    let output = fleetmod(directory.path())
        .args(["scan", "-r", "rules.yml", "--json", "a.py"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let lines: Vec<&str> = std::str::from_utf8(&output.stdout)
        .expect("utf-8")
        .lines()
        .collect();
    assert_eq!(lines.len(), 1);
    let record: serde_json::Value = serde_json::from_str(lines[0]).expect("json");
    assert_eq!(record["path"], "a.py");
    assert_eq!(record["rule_id"], "call");
    assert_eq!(record["text"], "f(a, b)");
    assert_eq!(
        record["range"]["bytes"],
        serde_json::json!({"start": 5, "end": 12})
    );
    assert_eq!(
        record["range"]["start"],
        serde_json::json!({"line": 1, "column": 5})
    );
    assert_eq!(
        record["range"]["end"],
        serde_json::json!({"line": 1, "column": 12})
    );
    assert_eq!(record["metavariables"]["F"]["text"], "f");
    let arguments: Vec<&str> = record["metavariables"]["ARGS"]
        .as_array()
        .expect("list")
        .iter()
        .map(|argument| argument["text"].as_str().expect("text"))
        .collect();
    assert_eq!(arguments, vec!["a", ",", "b"]);
}

#[test]
fn error_severity_matches_exit_with_one() {
    let directory = project(&[
        (
            "rules.yml",
            "id: no-eval\nlanguage: python\nseverity: error\nrule:\n  pattern: eval($X)\n",
        ),
        ("a.py", "eval(code)\n"),
        ("b.py", "print(code)\n"),
    ]);
    fleetmod(directory.path())
        .args(["scan", "-r", "rules.yml", "a.py"])
        .assert()
        .code(1);
    fleetmod(directory.path())
        .args(["scan", "-r", "rules.yml", "b.py"])
        .assert()
        .code(0);
}

#[test]
fn unreadable_binary_and_large_files_are_skipped_and_counted() {
    let directory = project(&[("rules.yml", HAS_KEY), ("ok.py", "d.has_key(k)\n")]);
    std::fs::write(directory.path().join("binary.py"), b"d.has_key(k)\0\n").expect("write");
    std::fs::write(directory.path().join("latin1.py"), b"d.has_key('\xe9')\n").expect("write");
    write(
        directory.path(),
        "large.py",
        &format!("d.has_key(k)\n{}", "# padding\n".repeat(200)),
    );
    fleetmod(directory.path())
        .args(["scan", "-r", "rules.yml", "--max-filesize", "1K", "."])
        .assert()
        .success()
        .stdout(predicate::str::contains("ok.py:1:1"))
        .stdout(predicate::str::contains("binary.py").not())
        .stderr(predicate::str::contains(
            "scanned 1 file (1 parsed), skipped 3 (1 too large, 1 binary, 1 not UTF-8)",
        ));
}

#[test]
fn files_with_syntax_errors_are_still_scanned() {
    let directory = project(&[
        ("rules.yml", HAS_KEY),
        ("broken.py", "def broken(:\n    d.has_key(k)\n"),
    ]);
    fleetmod(directory.path())
        .args(["scan", "-r", "rules.yml", "broken.py"])
        .assert()
        .success()
        .stdout(predicate::str::contains("broken.py:2:5 has-key"));
}

#[test]
fn gitignore_is_honoured_unless_told_otherwise() {
    let directory = project(&[
        ("rules.yml", HAS_KEY),
        (".gitignore", "generated/\n"),
        ("generated/a.py", "d.has_key(k)\n"),
        ("src/b.py", "d.has_key(k)\n"),
    ]);
    fleetmod(directory.path())
        .args(["scan", "-r", "rules.yml"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("src/b.py").and(predicate::str::contains("generated").not()),
        );
    fleetmod(directory.path())
        .args(["scan", "-r", "rules.yml", "--no-ignore"])
        .assert()
        .success()
        .stdout(predicate::str::contains("generated/a.py"));
}

#[test]
fn output_is_sorted_and_identical_across_thread_counts() {
    let mut files = vec![("rules.yml".to_owned(), HAS_KEY.to_owned())];
    for index in 0..40 {
        files.push((
            format!("src/m{index:02}.py"),
            "a.has_key(1)\nb.has_key(2)\n".repeat(index % 3 + 1),
        ));
    }
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let directory = project(&borrowed);
    let run = |jobs: &str| {
        fleetmod(directory.path())
            .args(["scan", "-r", "rules.yml", "--json", "--jobs", jobs])
            .output()
            .expect("runs")
            .stdout
    };
    let single = run("1");
    assert_eq!(single, run("2"));
    assert_eq!(single, run("4"));
    let paths: Vec<String> = String::from_utf8(single)
        .expect("utf-8")
        .lines()
        .map(|line| {
            let record: serde_json::Value = serde_json::from_str(line).expect("json");
            format!(
                "{}:{:05}",
                record["path"].as_str().expect("path"),
                record["range"]["bytes"]["start"]
            )
        })
        .collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    assert_eq!(
        paths.len(),
        (0..40).map(|index| 2 * (index % 3 + 1)).sum::<usize>()
    );
}

#[test]
fn colours_follow_the_flag_and_no_color() {
    let directory = project(&[("rules.yml", HAS_KEY), ("a.py", "d.has_key(k)\n")]);
    fleetmod(directory.path())
        .args(["scan", "-r", "rules.yml", "--color", "always", "a.py"])
        .assert()
        .stdout(predicate::str::contains("\u{1b}["));
    fleetmod(directory.path())
        .args(["scan", "-r", "rules.yml", "a.py"])
        .assert()
        .stdout(predicate::str::contains("\u{1b}[").not());
}

#[test]
fn rule_file_globs_select_files() {
    let rules = "id: only-src\nlanguage: python\nfiles: [\"src/**\"]\nignores: [\"src/vendor/**\"]\nrule:\n  pattern: $D.has_key($K)\n";
    let directory = project(&[
        ("rules.yml", rules),
        ("src/a.py", "d.has_key(k)\n"),
        ("src/vendor/b.py", "d.has_key(k)\n"),
        ("tools/c.py", "d.has_key(k)\n"),
    ]);
    fleetmod(directory.path())
        .args(["scan", "-r", "rules.yml", "."])
        .assert()
        .success()
        .stdout(predicate::str::contains("src/a.py"))
        .stdout(predicate::str::contains("vendor").not())
        .stdout(predicate::str::contains("tools").not());
    // Globs are relative to the working directory, not to the path scanned.
    fleetmod(directory.path())
        .args(["scan", "-r", "rules.yml", "src"])
        .assert()
        .success()
        .stdout(predicate::str::contains("src/a.py"))
        .stdout(predicate::str::contains("vendor").not());
}

#[test]
fn suppression_comments_silence_matches() {
    let rules = "id: no-has-key\nlanguage: python\nrule:\n  pattern: $D.has_key($K)\n";
    let directory = project(&[
        ("rules.yml", rules),
        (
            "a.py",
            "d.has_key(1)\n# ast-grep-ignore\nd.has_key(2)\nd.has_key(3)  # fleetmod-ignore: no-has-key\nd.has_key(4)  # ast-grep-ignore: other-rule\n",
        ),
        ("b.py", "# ast-grep-ignore\n\nd.has_key(5)\n"),
        ("empty.py", ""),
    ]);
    fleetmod(directory.path())
        .args(["scan", "--json", "-r", "rules.yml", "."])
        .assert()
        .success()
        .stdout(predicate::function(|out: &str| {
            let lines: Vec<&str> = out.lines().collect();
            lines.len() == 2 && lines[0].contains("has_key(1)") && lines[1].contains("has_key(4)")
        }));
}

#[test]
fn sgconfig_projects_supply_rules_and_shared_utilities() {
    let directory = project(&[
        ("sgconfig.yml", "ruleDirs: [rules]\nutilDirs: [utils]\n"),
        (
            "utils/is-logger.yml",
            "id: is-logger\nlanguage: python\nrule:\n  regex: ^(log|logger)$\n  kind: identifier\n",
        ),
        (
            "rules/warn.yml",
            "id: logger-warn\nlanguage: python\nrule:\n  pattern: $L.warn($$$)\n  has:\n    field: function\n    has: {field: object, matches: is-logger}\n",
        ),
        (
            "src/a.py",
            "log.warn('x')\nprinter.warn('y')\nlogger.warn('z')\n",
        ),
    ]);
    fleetmod(directory.path())
        .args(["scan", "--json", "src"])
        .assert()
        .success()
        .stdout(predicate::function(|out: &str| out.lines().count() == 2))
        .stdout(predicate::str::contains("printer").not());
}

#[test]
fn query_rules_capture_metavariables() {
    let rules = "id: print-call\nlanguage: python\nrule:\n  query: |\n    (call function: (identifier) @name (#eq? @name \"print\") arguments: (argument_list (_)* @args))\n";
    let directory = project(&[
        ("rules.yml", rules),
        ("a.py", "print(1, 2)\nprinted(3)\nprint()\n"),
    ]);
    let output = fleetmod(directory.path())
        .args(["scan", "-r", "rules.yml", "--json", "a.py"])
        .output()
        .expect("runs");
    let records: Vec<serde_json::Value> = std::str::from_utf8(&output.stdout)
        .expect("utf-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("json"))
        .collect();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["text"], "print(1, 2)");
    assert_eq!(records[0]["metavariables"]["name"]["text"], "print");
    assert_eq!(
        records[0]["metavariables"]["args"]
            .as_array()
            .expect("list")
            .len(),
        2
    );
    assert_eq!(records[1]["text"], "print()");
}

#[test]
fn missing_rules_and_paths_are_input_errors() {
    let directory = project(&[("rules.yml", HAS_KEY)]);
    fleetmod(directory.path())
        .args(["scan", "."])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no rules given"));
    fleetmod(directory.path())
        .args(["scan", "-r", "rules.yml", "nowhere"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nowhere: no such file or folder"));
    fleetmod(directory.path())
        .args(["scan", "-r", "missing-rules"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("missing-rules"));
}

#[test]
fn sql_files_and_sql_patterns_with_metavariables() {
    let rules = "id: orders-select\nlanguage: sql\nrule:\n  pattern: SELECT $$$COLUMNS FROM sales.orders WHERE $CONDITION\n---\nid: orders-table\nlanguage: sql\nrule:\n  kind: object_reference\n  regex: ^sales\\.orders$\n";
    let directory = project(&[
        ("rules.yml", rules),
        (
            "models/orders.sql",
            "SELECT cust_id, amt FROM sales.orders WHERE amt > 10;\nSELECT 1 FROM sales.orders_archive;\n",
        ),
    ]);
    let output = fleetmod(directory.path())
        .args(["scan", "-r", "rules.yml", "--json", "models"])
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let records: Vec<serde_json::Value> = std::str::from_utf8(&output.stdout)
        .expect("utf-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("json"))
        .collect();
    let summary: Vec<(String, String)> = records
        .iter()
        .map(|record| {
            (
                record["rule_id"].as_str().unwrap().to_owned(),
                record["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "orders-select".to_owned(),
                "SELECT cust_id, amt FROM sales.orders WHERE amt > 10".to_owned()
            ),
            ("orders-table".to_owned(), "sales.orders".to_owned()),
        ]
    );
    assert_eq!(records[0]["metavariables"]["CONDITION"]["text"], "amt > 10");
}

#[test]
fn ast_grep_projects_run_as_they_are() {
    // From real ast-grep rule repositories: a rule whose file name ends in
    // `-test.yml`, a rewriter that names its language, rules for languages
    // fleetmod lacks, and a project key fleetmod does not know.
    let directory = project(&[
        ("sgconfig.yml", "ruleDirs: [rules]\nignoreFiles: [vendor]\n"),
        (
            "rules/py-assert-string-literal-test.yml",
            "id: py-assert-string-literal-test\nlanguage: python\nrule:\n  pattern: assert $TEST, $MSG\nconstraints:\n  TEST: {kind: string}\n",
        ),
        (
            "rules/mixed.yml",
            "id: ts-await\nlanguage: TypeScript\nrule: {pattern: await $X}\n---\nid: optional\nlanguage: python\nrewriters:\n- id: opt\n  language: Python\n  rule: {pattern: 'Optional[$T]'}\n  fix: $T | None\nrule: {pattern: 'Optional[$T]'}\ntransform:\n  NEW:\n    rewrite: {rewriters: [opt], source: $T}\nfix: $NEW\n",
        ),
        (
            "rules/cases-test.yml",
            "id: optional\nvalid: ['x = 1']\ninvalid: ['x = Optional[int]']\n",
        ),
        ("a.py", "assert 'never', result\nx = Optional[int]\n"),
    ]);
    fleetmod(directory.path())
        .args(["scan", "--json", "."])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"path\":\"a.py\""))
        .stdout(predicate::str::contains("py-assert-string-literal-test"))
        .stdout(predicate::str::contains("\"rule_id\":\"optional\""))
        .stderr(predicate::str::contains(
            "rule `ts-await` skipped: fleetmod does not support TypeScript",
        ))
        .stderr(predicate::str::contains(
            "`ignoreFiles` is not a key fleetmod knows; it is ignored",
        ));
    fleetmod(directory.path())
        .args(["test"])
        .assert()
        .success()
        .stdout(predicate::str::contains("2 passed, 0 failed"));
}
