//! Broken migration specs: each is rejected before any file is touched,
//! with exit code 2 and errors naming the file, the line:column and the
//! spec id.

use assert_cmd::Command;

const CONSUMER: &str = "Q = 'SELECT cust_id FROM sales.orders'\n";

/// Runs `fleetmod rewrite --spec spec.yml --apply .` and returns stderr,
/// checking that it failed with code 2 and left the consumer file alone.
fn rejected(spec: &str) -> String {
    let directory = tempfile::tempdir().expect("tempdir");
    std::fs::write(directory.path().join("spec.yml"), spec).expect("write");
    std::fs::write(directory.path().join("a.py"), CONSUMER).expect("write");
    let output = Command::cargo_bin("fleetmod")
        .expect("binary")
        .current_dir(directory.path())
        .args([
            "rewrite", "--color", "never", "--spec", "spec.yml", "--apply", ".",
        ])
        .output()
        .expect("runs");
    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let after = std::fs::read_to_string(directory.path().join("a.py")).expect("read");
    assert_eq!(after, CONSUMER, "nothing may be rewritten");
    stderr
}

fn assert_errors(spec: &str, expected: &[&str]) {
    let stderr = rejected(spec);
    for line in expected {
        assert!(stderr.contains(line), "expected `{line}` in:\n{stderr}");
    }
}

const VALID_DATASET: &str = "dataset:\n  from: sales.orders\n  to: sales_v2.orders\n";

#[test]
fn unknown_keys_are_errors_at_every_level() {
    assert_errors(
        &format!("id: orders-v2\n{VALID_DATASET}rollout_speed: fast\n"),
        &["spec.yml:5:1: spec `orders-v2`: unknown field `rollout_speed`"],
    );
    assert_errors(
        "id: orders-v2\ndataset:\n  from: sales.orders\n  too: sales_v2.orders\n",
        &[
            "spec.yml:4:3: spec `orders-v2`: unknown field `too`, expected one of from, to, columns, removed",
        ],
    );
}

#[test]
fn missing_tables_are_named() {
    assert_errors(
        "id: orders-v2\ndataset:\n  to: sales_v2.orders\n",
        &["spec.yml:3:3: spec `orders-v2`: missing `dataset.from`: the old table"],
    );
    assert_errors(
        "id: orders-v2\ndataset:\n  from: sales.orders\n",
        &["spec.yml:3:3: spec `orders-v2`: missing `dataset.to`: the new table"],
    );
    assert_errors(
        "id: orders-v2\n",
        &["spec.yml:1:1: spec `orders-v2`: missing `dataset`"],
    );
    assert_errors(VALID_DATASET, &["spec.yml:1:1: missing `id`"]);
}

#[test]
fn malformed_names_point_at_the_value() {
    assert_errors(
        "id: Orders_V2\ndataset:\n  from: orders\n  to: a.b.c.d\n",
        &[
            "spec.yml:1:5: `Orders_V2` is not a spec id",
            "spec.yml:3:9: `orders` is not a table name",
            "spec.yml:4:7: `a.b.c.d` is not a table name",
        ],
    );
    assert_errors(
        &format!("id: x\n{VALID_DATASET}  columns:\n    9lives: cats\n    ok: \"with space\"\n"),
        &[
            "spec.yml:6:5: spec `x`: `9lives` is not a column name",
            "spec.yml:7:9: spec `x`: `with space` is not a column name",
        ],
    );
}

#[test]
fn contradictory_column_changes_are_errors() {
    assert_errors(
        &format!(
            "id: x\n{VALID_DATASET}  columns:\n    a: a\n    b: c\n    d: C\n  removed: [b, e, e, c]\n"
        ),
        &[
            "spec.yml:6:8: spec `x`: column `a` is renamed to itself",
            "spec.yml:8:8: spec `x`: columns `b` and `d` are both renamed to `C`",
            "spec.yml:9:13: spec `x`: column `b` is both renamed and removed",
            "spec.yml:9:19: spec `x`: column `e` is listed twice",
            "spec.yml:9:22: spec `x`: column `c` is removed, but `b` is renamed to it",
        ],
    );
    assert_errors(
        &format!("id: x\n{VALID_DATASET}  columns:\n    a: b\n    a: c\n"),
        &["spec.yml:7:5: spec `x`: duplicate mapping key: a"],
    );
}

#[test]
fn an_unchanged_table_needs_unambiguous_column_changes() {
    assert_errors(
        "id: x\ndataset:\n  from: s.t\n  to: s.t\n",
        &["spec.yml:3:3: spec `x`: `from` and `to` are the same table and no column changes"],
    );
    assert_errors(
        "id: x\ndataset:\n  from: s.t\n  to: s.t\n  columns:\n    a: b\n    b: c\n",
        &["spec.yml:6:8: spec `x`: `a` is renamed to a name that is itself renamed"],
    );
}

#[test]
fn rule_globs_must_name_rule_files() {
    assert_errors(
        &format!("id: x\n{VALID_DATASET}rules: [custom/*.yaml]\n"),
        &["spec.yml:5:9: spec `x`: `custom/*.yaml` names no rule file (.yml or .yaml)"],
    );
}

#[test]
fn invalid_yaml_is_located() {
    assert_errors("id: x\ndataset: [1, 2\n", &["spec.yml:2:"]);
}

#[test]
fn fleet_sections_are_checked_with_positions() {
    assert_errors(
        &format!(
            "id: orders-v2\n{VALID_DATASET}consumers:\n  catalog: nowhere/\n  repos: [acme, acme/billing, acme/billing]\n  exclude: ['a[']\nforge:\n  kind: gitlab\npull_request:\n  branch: 'bad..branch'\n  title: 'Move {{{{ table }}}}'\n  body: |\n    Hello {{{{repo}}}}\n    {{{{ owner }}}}\n  labels: ['']\ncommit:\n  author: {{name: '', email: 'a <b>'}}\n"
        ),
        &[
            "spec.yml:6:12: spec `orders-v2`: catalog `nowhere/` does not exist",
            "spec.yml:6:12: spec `orders-v2`: `catalog` needs `resource`",
            "spec.yml:7:11: spec `orders-v2`: `acme` is not a repository: use `owner/name`",
            "spec.yml:7:31: spec `orders-v2`: `acme/billing` is listed twice",
            "spec.yml:8:13: spec `orders-v2`: `a[` is not a glob",
            "spec.yml:10:9: spec `orders-v2`: `gitlab` is not a forge kind: use `local`",
            "spec.yml:12:11: spec `orders-v2`: `bad..branch` is not a valid branch name",
            "spec.yml:13:16: spec `orders-v2`: `{{table}}` is not a template field; use one of: id, title",
            "spec.yml:16:5: spec `orders-v2`: `{{owner}}` is not a template field",
            "spec.yml:17:12: spec `orders-v2`: a label cannot be empty",
            "spec.yml:19:18: spec `orders-v2`: the commit author's name must be one line without `<` or `>`",
            "spec.yml:19:29: spec `orders-v2`: the commit author's email must be one line",
        ],
    );
}

#[test]
fn github_forge_settings_are_checked_with_positions() {
    assert_errors(
        &format!(
            "id: orders-v2\n{VALID_DATASET}consumers:\n  repos: [acme/billing]\nforge:\n  kind: github\n  root: forge/\n  api_url: ftp://ghe.example\n  token_env: BAD-NAME\n  reviewers: team-of-owner\n  assignees: [not valid!]\n  requests: {{per_minute: 200, min_interval: soon}}\n"
        ),
        &[
            "spec.yml:9:9: spec `orders-v2`: `root` is for the local forge only",
            "spec.yml:10:12: spec `orders-v2`: `ftp://ghe.example` is not an API URL",
            "spec.yml:11:14: spec `orders-v2`: `BAD-NAME` is not an environment variable name",
            "spec.yml:12:14: spec `orders-v2`: `team-of-owner` is not a reviewers mode",
            "spec.yml:13:15: spec `orders-v2`: `not valid!` is not a GitHub login",
            "spec.yml:14:26: spec `orders-v2`: `per_minute` must be between 1 and 80",
            "spec.yml:14:45: spec `orders-v2`: `soon` is not a duration",
        ],
    );
    assert_errors(
        &format!(
            "id: x\n{VALID_DATASET}forge:\n  kind: github\n  app_id: 12\n  reviewers: [alice, acme/data, 'bad team!']\n"
        ),
        &[
            "spec.yml:7:11: spec `x`: `app_id` needs `private_key_path`",
            "spec.yml:8:14: spec `x`: `bad team!` is neither a GitHub login nor an `org/team`",
        ],
    );
}

#[test]
fn rollout_settings_are_checked_with_positions() {
    assert_errors(
        &format!(
            "id: orders-v2\n{VALID_DATASET}rollout:\n  waves:\n    - {{name: canary, repos: [acme/billing, not-a-repo]}}\n    - {{name: canary, percent: 25}}\n    - {{name: late, percent: 10}}\n    - {{name: odd, count: 3, percent: 50}}\n  promote_when: {{merged_ratio: 1.5, min_wave_age: soon}}\n  limits: {{max_open_prs: 0}}\n  schedule: \"Mon-Fry 09:00-17:00 Europe/Stockholm\"\n  draft_until_wave: later\n  automerge: {{when: [checks-green, lgtm], method: fast-forward}}\n"
        ),
        &[
            "spec.yml:7:44: spec `orders-v2`: `not-a-repo` is not a repository",
            "spec.yml:8:14: spec `orders-v2`: wave `canary` is named twice",
            "spec.yml:9:29: spec `orders-v2`: `percent: 10` must be more than the 25 of an earlier wave",
            "spec.yml:10:7: spec `orders-v2`: wave `odd` needs exactly one of `repos`, `count` or `percent`",
            "spec.yml:11:32: spec `orders-v2`: `merged_ratio` must be between 0 and 1",
            "spec.yml:11:51: spec `orders-v2`: `soon` is not a duration",
            "spec.yml:12:26: spec `orders-v2`: `max_open_prs` must be at least 1",
            "spec.yml:13:13: spec `orders-v2`: `Fry` is not a day",
            "spec.yml:14:21: spec `orders-v2`: `later` is not one of the waves",
            "spec.yml:15:36: spec `orders-v2`: `lgtm` is not an automerge condition",
            "spec.yml:15:51: spec `orders-v2`: `fast-forward` is not a merge method",
        ],
    );
    assert_errors(
        &format!(
            "id: x\n{VALID_DATASET}pull_request:\n  draft: true\nrollout:\n  waves: [{{name: a, count: 1}}, {{name: b, percent: 100}}]\n  draft_until_wave: b\n  automerge: {{method: squash}}\n  schedule: [\"09:00-17:00 UTC\", \"Sat 10:00-12:00\"]\n"
        ),
        &[
            "spec.yml:9:21: spec `x`: `pull_request.draft: true` keeps every pull request a draft",
            "spec.yml:10:14: spec `x`: `automerge` needs `when`",
            "spec.yml:11:13: spec `x`: `10:00-12:00` is not a timezone",
        ],
    );
}
