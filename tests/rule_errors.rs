//! Broken rule files: each is rejected before anything is scanned, with exit
//! code 2 and an error naming the file, the line:column and the rule id.

use assert_cmd::Command;

/// Runs `fleetmod scan` with one rule file and returns its stderr, checking
/// that it failed with code 2 and printed no matches.
fn rejected(rule: &str) -> String {
    let directory = tempfile::tempdir().expect("tempdir");
    std::fs::write(directory.path().join("rule.yml"), rule).expect("write");
    std::fs::write(directory.path().join("a.py"), "d.has_key(k)\nprint(1)\n").expect("write");
    std::fs::write(
        directory.path().join("A.java"),
        "class A { void f() { g(1); } }\n",
    )
    .expect("write");
    let output = Command::cargo_bin("fleetmod")
        .expect("binary")
        .current_dir(directory.path())
        .args(["scan", "--color", "never", "-r", "rule.yml", "."])
        .output()
        .expect("runs");
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.is_empty(), "nothing may be scanned");
    String::from_utf8(output.stderr).expect("utf-8")
}

fn assert_error(rule: &str, expected: &str) {
    let stderr = rejected(rule);
    assert!(
        stderr.contains(expected),
        "expected `{expected}` in:\n{stderr}"
    );
}

#[test]
fn yaml_syntax_errors() {
    assert_error(
        "id: broken\nlanguage: python\nrule:\n  pattern: [unclosed\n",
        "rule.yml:4:",
    );
    assert_error(
        "id: broken\nlanguage: python\nrule:\n  pattern: [unclosed\n",
        "rule `broken`",
    );
}

#[test]
fn unknown_top_level_keys() {
    assert_error(
        "id: typo\nlanguage: python\nrul:\n  pattern: f($X)\n",
        "rule.yml:3:1: rule `typo`: unknown field `rul`",
    );
}

#[test]
fn unknown_keys_inside_rule_objects() {
    assert_error(
        "id: nested\nlanguage: python\nrule:\n  all:\n    - kind: call\n    - patern: f($X)\n",
        "rule.yml:6:7: rule `nested`: unknown field `patern`",
    );
    assert_error(
        "id: relational\nlanguage: python\nrule:\n  kind: call\n  inside:\n    kind: module\n    stopby: end\n",
        "rule.yml:7:5: rule `relational`: unknown field `stopby`",
    );
}

#[test]
fn the_second_rule_of_a_file_is_named() {
    assert_error(
        "id: first\nlanguage: python\nrule: {kind: call}\n---\nid: second\nlanguage: python\nrule:\n  kindd: call\n",
        "rule.yml:8:3: rule `second`: unknown field `kindd`",
    );
}

#[test]
fn unknown_languages() {
    assert_error(
        "id: cobol\nlanguage: cobol\nrule: {kind: call}\n",
        "rule.yml:2:11: rule `cobol`: unknown language `cobol`",
    );
}

#[test]
fn patterns_that_do_not_parse() {
    assert_error(
        "id: bad-pattern\nlanguage: python\nrule:\n  pattern: foo(($X\n",
        "rule.yml:4:",
    );
    assert_error(
        "id: bad-pattern\nlanguage: python\nrule:\n  pattern: foo(($X\n",
        "the pattern does not parse",
    );
    // Inside a block scalar, the error points at the offending line.
    assert_error(
        "id: block\nlanguage: python\nrule:\n  pattern: |\n    def f():\n        return )\n",
        "rule.yml:6:",
    );
    assert_error(
        "id: multiple\nlanguage: python\nrule:\n  pattern: \"a\\nb\"\n",
        "rule.yml:4:12: rule `multiple`: invalid pattern: the pattern parses as several nodes",
    );
}

#[test]
fn invalid_queries_point_into_the_query() {
    assert_error(
        "id: bad-query\nlanguage: python\nrule:\n  query: (call (no_such_kind))\n",
        "rule.yml:4:17: rule `bad-query`: unknown node kind `no_such_kind` in query",
    );
    assert_error(
        "id: block-query\nlanguage: python\nrule:\n  query: |\n    (call\n      function: (identifierr))\n",
        "rule.yml:6:18: rule `block-query`: unknown node kind `identifierr` in query",
    );
}

#[test]
fn invalid_regexes() {
    assert_error(
        "id: bad-regex\nlanguage: python\nrule:\n  kind: identifier\n  regex: \"(unclosed\"\n",
        "rule.yml:5:10: rule `bad-regex`: invalid regex `(unclosed`: unclosed group",
    );
}

#[test]
fn unknown_utilities() {
    assert_error(
        "id: util\nlanguage: python\nrule:\n  kind: call\n  has: {matches: missing-util}\n",
        "rule.yml:5:18: rule `util`: `matches` refers to an unknown utility rule `missing-util`",
    );
}

#[test]
fn cyclic_utilities() {
    assert_error(
        "id: cycle\nlanguage: python\nutils:\n  a: {any: [{matches: b}]}\n  b: {matches: a}\nrule: {kind: call, matches: a}\n",
        "rule `cycle`: utility rule `a` refers to itself: a → b → a",
    );
}

#[test]
fn unknown_kinds_and_fields() {
    assert_error(
        "id: kind\nlanguage: java\nrule:\n  kind: method_call\n",
        "rule.yml:4:9: rule `kind`: unknown node kind `method_call` for java",
    );
    assert_error(
        "id: field\nlanguage: python\nrule:\n  kind: call\n  has: {field: callee, kind: identifier}\n",
        "rule.yml:5:16: rule `field`: unknown field `callee` for python",
    );
}

#[test]
fn relational_keys_out_of_place() {
    assert_error(
        "id: stop\nlanguage: python\nrule:\n  kind: call\n  stopBy: end\n",
        "rule.yml:5:11: rule `stop`: `stopBy` is only allowed in `inside`, `has`, `precedes` and `follows`",
    );
    assert_error(
        "id: field-follows\nlanguage: python\nrule:\n  kind: call\n  follows: {kind: call, field: body}\n",
        "rule `field-follows`: `field` is only allowed in `inside` and `has`",
    );
}

#[test]
fn missing_required_keys_and_empty_rules() {
    assert_error(
        "id: no-language\nrule: {kind: call}\n",
        "rule `no-language`: missing `language`",
    );
    assert_error(
        "id: no-rule\nlanguage: python\n",
        "rule `no-rule`: missing `rule`",
    );
    assert_error(
        "id: empty\nlanguage: python\nrule: {}\n",
        "rule `empty`: the rule object has no matcher",
    );
    assert_error(
        "id: any-kind\nlanguage: python\nrule: {regex: foo}\n",
        "rule `any-kind`: the rule can match nodes of any kind",
    );
}

#[test]
fn undefined_constraint_variables() {
    assert_error(
        "id: constrained\nlanguage: python\nrule: {pattern: f($X)}\nconstraints:\n  Y: {regex: a}\n",
        "rule `constrained`: constraint on `$Y`, but no pattern defines `$Y`",
    );
}

#[test]
fn duplicate_ids_and_every_error_is_reported() {
    let stderr = rejected(
        "id: same\nlanguage: python\nrule: {kind: call}\n---\nid: same\nlanguage: python\nrule: {kind: call}\n---\nid: other\nlanguage: python\nrule: {kind: nope}\n",
    );
    assert!(
        stderr.contains("rule.yml:5:5: rule `same`: duplicate rule id"),
        "{stderr}"
    );
    assert!(
        stderr.contains("rule `other`: unknown node kind `nope`"),
        "{stderr}"
    );
}

#[test]
fn utility_ids_may_not_use_characters_ast_grep_reserves() {
    assert_error(
        "id: util-name\nlanguage: python\nutils:\n  debug=True:\n    pattern: app.run($$$)\nrule:\n  matches: debug=True\n",
        "rule `util-name`: utility id `debug=True` contains reserved characters",
    );
}

#[test]
fn unknown_languages_are_errors_but_ast_grep_languages_are_skipped() {
    assert_error(
        "id: typo\nlanguage: pyhton\nrule: {kind: call}\n",
        "rule.yml:2:11: rule `typo`: unknown language `pyhton`",
    );
}
