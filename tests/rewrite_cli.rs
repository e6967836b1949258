//! `fleetmod rewrite` and `fleetmod test` end to end, on real files.

mod common;

use std::path::Path;

use common::{fleetmod, project};
use predicates::prelude::*;
use tempfile::TempDir;

fn read(directory: &TempDir, path: &str) -> String {
    std::fs::read_to_string(directory.path().join(path)).expect("read")
}

const HAS_KEY: &str =
    "id: has-key\nlanguage: python\nrule:\n  pattern: $D.has_key($K)\nfix: $K in $D\n";

#[test]
fn dry_run_prints_a_diff_with_rule_ids_and_changes_nothing() {
    let directory = project(&[
        ("rules.yml", HAS_KEY),
        ("a.py", "x = 1\nif d.has_key(k):\n    pass\n"),
    ]);
    fleetmod(directory.path())
        .args(["rewrite", "-r", "rules.yml", "a.py"])
        .assert()
        .success()
        .stdout("--- a/a.py\n+++ b/a.py\n@@ -1,3 +1,3 @@ has-key\n x = 1\n-if d.has_key(k):\n+if k in d:\n     pass\n")
        .stderr(predicate::str::contains("scanned 1 files, would change 1; 1 edits, 0 for review, 0 dropped"));
    assert_eq!(
        read(&directory, "a.py"),
        "x = 1\nif d.has_key(k):\n    pass\n"
    );
}

#[test]
fn apply_writes_and_a_second_run_changes_nothing() {
    let directory = project(&[
        ("rules.yml", HAS_KEY),
        ("src/a.py", "if d.has_key(k) or e.has_key(j):\n    pass\n"),
    ]);
    fleetmod(directory.path())
        .args(["rewrite", "-r", "rules.yml", "--apply", "src"])
        .assert()
        .success();
    assert_eq!(
        read(&directory, "src/a.py"),
        "if k in d or j in e:\n    pass\n"
    );
    fleetmod(directory.path())
        .args(["rewrite", "-r", "rules.yml", "--check", "src"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("would change 0"));
}

/// More files than one write batch holds, and one that may not be written
/// (a symlink out of the folder, named on the command line, since walks do
/// not follow symlinks): every other file is replaced, no temporary file is left behind, and the
/// refused one is named.
#[cfg(unix)]
#[test]
fn apply_writes_every_batch_and_names_the_files_it_refused() {
    let directory = project(&[("rules.yml", HAS_KEY)]);
    let outside = tempfile::tempdir().expect("tempdir");
    let secret = outside.path().join("secret.py");
    std::fs::write(&secret, "d.has_key(k)\n").expect("write");
    let source = directory.path().join("src");
    std::fs::create_dir_all(&source).expect("mkdir");
    std::os::unix::fs::symlink(&secret, source.join("link.py")).expect("symlink");
    let count = fleetmod::write::Replacer::BATCH * 2 + 7;
    for index in 0..count {
        std::fs::write(source.join(format!("f{index:03}.py")), "d.has_key(k)\n").expect("write");
    }
    fleetmod(directory.path())
        .args([
            "rewrite",
            "-r",
            "rules.yml",
            "--apply",
            "src",
            "src/link.py",
        ])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("not written:")
                .and(predicate::str::contains("link.py resolves to"))
                .and(predicate::str::contains("1 file(s) could not be written")),
        );
    assert_eq!(
        std::fs::read_to_string(&secret).expect("read"),
        "d.has_key(k)\n"
    );
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&source).expect("list") {
        let path = entry.expect("entry").path();
        names.push(
            path.file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned(),
        );
        if path.file_name() != Some("link.py".as_ref()) {
            assert_eq!(std::fs::read_to_string(&path).expect("read"), "k in d\n");
        }
    }
    assert_eq!(names.len(), count + 1, "no temporary files: {names:?}");
}

/// Ctrl-C during `--apply` stops the run, but the files already rewritten
/// are written whole and no temporary file is left behind.
#[cfg(unix)]
#[test]
fn an_interrupted_apply_writes_what_it_rewrote_and_leaves_no_temporary_files() {
    let directory = project(&[("rules.yml", HAS_KEY)]);
    let source = directory.path().join("src");
    std::fs::create_dir_all(&source).expect("mkdir");
    let (old, new) = ("d.has_key(k)\n".repeat(40), "k in d\n".repeat(40));
    let count = 4000;
    for index in 0..count {
        std::fs::write(source.join(format!("f{index:04}.py")), &old).expect("write");
    }
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_fleetmod"))
        .current_dir(directory.path())
        .args(["rewrite", "-r", "rules.yml", "--apply", "src"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("started");
    // The first file changes when the first batch is written.
    let first = source.join("f0000.py");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while std::fs::read_to_string(&first).expect("read") == old {
        assert!(std::time::Instant::now() < deadline, "no batch was written");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let output = child.wait_with_output().expect("finished");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted: writing the files already rewritten"),
        "{stderr}"
    );
    let mut changed = 0;
    for entry in std::fs::read_dir(&source).expect("list") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(
            text == old || text == new,
            "{} is neither old nor new",
            path.display()
        );
        changed += usize::from(text == new);
    }
    assert!(
        changed >= fleetmod::write::Replacer::BATCH,
        "{changed} changed"
    );
    assert!(changed < count, "the run stopped early: {changed} changed");
    let names = std::fs::read_dir(&source).expect("list").count();
    assert_eq!(names, count, "no temporary files are left");
}

#[test]
fn check_exits_one_when_something_would_change() {
    let directory = project(&[("rules.yml", HAS_KEY), ("a.py", "d.has_key(k)\n")]);
    fleetmod(directory.path())
        .args(["rewrite", "-r", "rules.yml", "--check", "a.py"])
        .assert()
        .code(1)
        .stdout("");
    assert_eq!(read(&directory, "a.py"), "d.has_key(k)\n");
}

#[test]
fn edits_that_break_the_syntax_are_dropped_and_the_rest_kept() {
    let rules = format!(
        "{HAS_KEY}---\nid: breaks-calls\nlanguage: python\nrule:\n  pattern: print($X)\nfix: print($X\n"
    );
    let directory = project(&[
        ("rules.yml", &rules),
        ("a.py", "print(1)\nif d.has_key(k):\n    print(2)\n"),
    ]);
    fleetmod(directory.path())
        .args(["rewrite", "-r", "rules.yml", "--apply", "a.py"])
        .assert()
        .success()
        .stderr(predicate::str::contains("2 dropped"))
        .stderr(predicate::str::contains(
            "a.py:1:1 breaks-calls: the result would not parse",
        ))
        .stderr(predicate::str::contains("a.py:3:5 breaks-calls"));
    assert_eq!(
        read(&directory, "a.py"),
        "print(1)\nif k in d:\n    print(2)\n"
    );
}

/// Python rules that rewrite the call `from()` to `to()`, one per pair.
fn call_rules(pairs: &[(&str, &str)]) -> String {
    let rules: Vec<String> = pairs
        .iter()
        .map(|(from, to)| {
            format!(
                "id: {from}-to-{to}\nlanguage: python\nrule: {{pattern: {from}()}}\nfix: {to}()\n"
            )
        })
        .collect();
    rules.join("---\n")
}

#[test]
fn oscillating_rules_leave_the_file_unchanged() {
    // a() -> b() -> a(): back to the original text.
    let back_to_the_start = call_rules(&[("a", "b"), ("b", "a")]);
    // a() -> b() -> c() -> b(): the cycle starts after the first pass, and
    // only its rules are named.
    let back_to_a_later_text = call_rules(&[("a", "b"), ("b", "c"), ("c", "b")]);
    for (rules, named) in [
        (back_to_the_start, "(a-to-b, b-to-a)"),
        (back_to_a_later_text, "(b-to-c, c-to-b)"),
    ] {
        let directory = project(&[("rules.yml", &rules), ("a.py", "a()\n")]);
        fleetmod(directory.path())
            .args(["rewrite", "-r", "rules.yml", "--apply", "a.py"])
            .assert()
            .success()
            .stderr(predicate::str::contains(format!(
                "a.py: left unchanged: the rules undo each other's changes {named}"
            )));
        assert_eq!(read(&directory, "a.py"), "a()\n");
    }
}

#[test]
fn rules_that_never_converge_leave_the_file_unchanged() {
    let rules = "id: grows\nlanguage: python\nrule: {pattern: f($X)}\nfix: f(f($X))\n";
    let directory = project(&[("rules.yml", rules), ("a.py", "f(1)\n")]);
    fleetmod(directory.path())
        .args(["rewrite", "-r", "rules.yml", "--apply", "--json", "a.py"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"changed\":false"))
        .stdout(predicate::str::contains(
            "the rules keep changing the file after 10 passes (grows)",
        ));
    assert_eq!(read(&directory, "a.py"), "f(1)\n");
}

#[test]
fn deleting_a_commented_node_is_downgraded_to_review() {
    let rules = "id: drop-debug\nlanguage: python\nrule:\n  pattern: |\n    if DEBUG:\n        $$$BODY\nfix: pass\n";
    let directory = project(&[
        ("rules.yml", rules),
        (
            "a.py",
            "if DEBUG:\n    # why we trace\n    trace()\nif DEBUG:\n    trace()\n",
        ),
    ]);
    let output = fleetmod(directory.path())
        .args(["rewrite", "-r", "rules.yml", "--json", "a.py"])
        .output()
        .expect("runs");
    let record: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let edits = record["edits"].as_array().expect("edits");
    assert_eq!(edits.len(), 2);
    assert_eq!(edits[0]["applicability"], "review");
    assert_eq!(edits[0]["note"], "removes the comment `# why we trace`");
    assert_eq!(edits[1]["applicability"], "safe");
    assert_eq!(edits[1]["note"], serde_json::Value::Null);
}

#[test]
fn comments_carried_by_metavariables_stay_safe() {
    let rules =
        "id: unwrap\nlanguage: python\nrule:\n  pattern: wrap($$$ARGS)\nfix: unwrap($$$ARGS)\n";
    let directory = project(&[
        ("rules.yml", rules),
        ("a.py", "wrap(a,  # first\n     b)\n"),
    ]);
    let output = fleetmod(directory.path())
        .args(["rewrite", "-r", "rules.yml", "--json", "a.py"])
        .output()
        .expect("runs");
    let record: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(record["edits"][0]["applicability"], "safe");
}

#[test]
fn line_endings_byte_order_mark_and_final_newline_are_preserved() {
    let directory = project(&[("rules.yml", HAS_KEY)]);
    std::fs::write(
        directory.path().join("crlf.py"),
        "x = 1\r\nif d.has_key(k):\r\n    pass\r\n",
    )
    .expect("write");
    std::fs::write(directory.path().join("bom.py"), "\u{feff}d.has_key(k)").expect("write");
    fleetmod(directory.path())
        .args(["rewrite", "-r", "rules.yml", "--apply", "."])
        .assert()
        .success();
    assert_eq!(
        read(&directory, "crlf.py"),
        "x = 1\r\nif k in d:\r\n    pass\r\n"
    );
    assert_eq!(read(&directory, "bom.py"), "\u{feff}k in d");
}

#[test]
fn multi_line_fixes_follow_the_file_indentation() {
    let rules = "id: guard\nlanguage: python\nrule:\n  pattern: risky($X)\n  inside: {kind: expression_statement}\n  not: {inside: {pattern: 'if enabled: $$$', stopBy: end}}\nfix: |\n  if enabled:\n      risky($X)\n";
    let directory = project(&[
        ("rules.yml", rules),
        ("tabs.py", "def f():\n\tif x:\n\t\trisky(1)\n"),
        ("two.py", "def f():\n  if x:\n    risky(1)\n"),
    ]);
    fleetmod(directory.path())
        .args(["rewrite", "-r", "rules.yml", "--apply", "."])
        .assert()
        .success();
    assert_eq!(
        read(&directory, "tabs.py"),
        "def f():\n\tif x:\n\t\tif enabled:\n\t\t\trisky(1)\n"
    );
    assert_eq!(
        read(&directory, "two.py"),
        "def f():\n  if x:\n    if enabled:\n      risky(1)\n"
    );
}

/// Whitespace outside captures (here the newline after `(`) is not part of
/// the template; captured lines keep their shape relative to their first
/// line, as in ast-grep.
#[test]
fn captured_code_keeps_its_relative_indentation() {
    let rules = "id: rename\nlanguage: python\nrule:\n  pattern: old($$$ARGS)\nfix: new($$$ARGS)\n";
    let source = "class A:\n    def f(self):\n        return old(\n            1,\n            2,\n        )\n";
    let directory = project(&[("rules.yml", rules), ("a.py", source)]);
    fleetmod(directory.path())
        .args(["rewrite", "-r", "rules.yml", "--apply", "a.py"])
        .assert()
        .success();
    assert_eq!(
        read(&directory, "a.py"),
        "class A:\n    def f(self):\n        return new(1,\n        2,)\n"
    );
}

#[test]
fn expand_end_deletes_a_list_item_with_its_comma() {
    let rules = "id: drop-debug-arg\nlanguage: python\nrule:\n  kind: keyword_argument\n  has: {field: name, regex: ^debug$}\nfix:\n  template: ''\n  expandEnd: {regex: '^,$'}\n";
    let directory = project(&[
        ("rules.yml", rules),
        ("a.py", "run(task, debug=True, retries=3)\n"),
    ]);
    fleetmod(directory.path())
        .args(["rewrite", "-r", "rules.yml", "--apply", "a.py"])
        .assert()
        .success();
    assert_eq!(read(&directory, "a.py"), "run(task,  retries=3)\n");
}

#[test]
fn rewriters_transform_captured_lists() {
    let rules = r#"id: quote-args
language: python
rule:
  pattern: log($$$ARGS)
rewriters:
  - id: to-str
    rule: {kind: identifier}
    fix: str($MATCHED)
    transform:
      MATCHED: {substring: {source: $NAME}}
    constraints: {}
    utils: {}
"#;
    let directory = project(&[("rules.yml", rules), ("a.py", "log(a, b)\n")]);
    fleetmod(directory.path())
        .args(["rewrite", "-r", "rules.yml", "a.py"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "transform `MATCHED` reads `$NAME`, which the rule does not define",
        ));
    let rules = r#"id: quote-args
language: python
rule:
  pattern: log($$$ARGS)
  has: {field: arguments, has: {kind: identifier}}
transform:
  WRAPPED:
    rewrite: {source: $$$ARGS, rewriters: [to-str]}
fix: log($WRAPPED)
rewriters:
  - id: to-str
    rule: {kind: identifier, pattern: $NAME}
    fix: str($NAME)
"#;
    let directory = project(&[("rules.yml", rules), ("a.py", "log(a, b)\n")]);
    fleetmod(directory.path())
        .args(["rewrite", "-r", "rules.yml", "--apply", "a.py"])
        .assert()
        .success();
    assert_eq!(read(&directory, "a.py"), "log(str(a), str(b))\n");
}

#[test]
fn bad_fix_templates_are_rejected_when_loading() {
    let directory = project(&[(
        "rules.yml",
        "id: bad-fix\nlanguage: python\nrule: {pattern: f($X)}\nfix: g($Y)\n",
    )]);
    fleetmod(directory.path())
        .args(["rewrite", "-r", "rules.yml", "."])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "rules.yml:4:6: rule `bad-fix`: `fix` uses `$Y`, which the rule does not define",
        ));
    let directory = project(&[(
        "rules.yml",
        "id: bad-transform\nlanguage: python\nrule: {pattern: f($X)}\ntransform:\n  Y: {convert: {source: $Z, toCase: upperCase}}\nfix: g($Y)\n",
    )]);
    fleetmod(directory.path())
        .args(["rewrite", "-r", "rules.yml", "."])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "rules.yml:5:6: rule `bad-transform`: transform `Y` reads `$Z`",
        ));
}

#[test]
fn json_lists_edits_with_rules_and_applicability() {
    let rules = format!(
        "{HAS_KEY}---\nid: none\nlanguage: python\napplicability: review\nrule: {{pattern: $A == None}}\nfix: $A is None\n"
    );
    let directory = project(&[("rules.yml", &rules), ("a.py", "d.has_key(k)\nx == None\n")]);
    let output = fleetmod(directory.path())
        .args(["rewrite", "-r", "rules.yml", "--json", "a.py"])
        .output()
        .expect("runs");
    let record: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(record["path"], "a.py");
    assert_eq!(record["changed"], true);
    let edits: Vec<(String, String, u64)> = record["edits"]
        .as_array()
        .expect("edits")
        .iter()
        .map(|edit| {
            (
                edit["rule_id"].as_str().expect("id").to_owned(),
                edit["applicability"]
                    .as_str()
                    .expect("applicability")
                    .to_owned(),
                edit["line"].as_u64().expect("line"),
            )
        })
        .collect();
    assert_eq!(
        edits,
        vec![
            ("has-key".to_owned(), "safe".to_owned(), 1),
            ("none".to_owned(), "review".to_owned(), 2)
        ]
    );
}

#[test]
fn the_starter_library_passes_its_own_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    fleetmod(root)
        .args([
            "test",
            "rules",
            "--fixtures",
            "fixtures",
            "--color",
            "never",
        ])
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"^\d+ passed, 0 failed\n$").expect("regex"));
}

#[test]
fn failing_rule_tests_show_the_case_and_exit_one() {
    let directory = project(&[
        ("rules/has-key.yml", HAS_KEY),
        (
            "rules/has-key-test.yml",
            "id: has-key\nvalid: ['d.has_key(k)']\ninvalid: ['k in d']\n",
        ),
        ("fixtures/has-key/basic.input.py", "d.has_key(k)\n"),
        ("fixtures/has-key/basic.expected.py", "k not in d\n"),
    ]);
    fleetmod(directory.path())
        .args(["test", "--color", "never"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "FAIL has-key valid 1: the rule matches this valid snippet\n    d.has_key(k)",
        ))
        .stdout(predicate::str::contains(
            "FAIL has-key invalid 1: the rule does not match this invalid snippet",
        ))
        .stdout(predicate::str::contains(
            "the rewrite differs from the expected file",
        ))
        .stdout(predicate::str::contains("-k not in d\n    +k in d"))
        .stdout(predicate::str::ends_with("0 passed, 3 failed\n"));
}

#[test]
fn sgconfig_test_directories_are_honoured() {
    let directory = project(&[
        (
            "sgconfig.yml",
            "ruleDirs: [rules]\ntestConfigs:\n  - testDir: rule-tests\n",
        ),
        ("rules/has-key.yml", HAS_KEY),
        (
            "rule-tests/has-key-test.yml",
            "id: has-key\nvalid: ['k in d']\ninvalid: ['d.has_key(k)']\n",
        ),
        (
            "rule-tests/__snapshots__/has-key-snapshot.yml",
            "id: has-key\nsnapshots: {}\n",
        ),
    ]);
    fleetmod(directory.path())
        .args(["test", "--color", "never"])
        .assert()
        .success()
        .stdout("2 passed, 0 failed\n");
}

#[test]
fn the_readme_example_rewrites_with_the_spec_and_starter_rules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = fleetmod(root)
        .args([
            "rewrite",
            "--spec",
            "examples/orders-v2/migration.yaml",
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
    insta::assert_snapshot!("example_diff", String::from_utf8_lossy(&output.stdout));
    insta::assert_snapshot!("example_summary", String::from_utf8_lossy(&output.stderr));
}
