//! Migration specs end to end: `fleetmod rewrite --spec … --apply` turns
//! each fixture's `input/` into its `expected/`, byte for byte, and a second
//! run changes nothing. Findings and plans are snapshots.

mod common;

use std::path::{Path, PathBuf};

use common::fleetmod;

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/specs");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixtures/specs")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.join("spec.yml").is_file())
        .collect();
    cases.sort();
    assert!(cases.len() >= 4, "spec fixtures are missing");
    cases
}

/// Every file under `root`, relative to it, sorted.
fn files(root: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = ignore::WalkBuilder::new(root)
        .standard_filters(false)
        .build()
        .map(|entry| entry.expect("walk"))
        .filter(|entry| entry.file_type().is_some_and(|kind| kind.is_file()))
        .map(|entry| {
            entry
                .path()
                .strip_prefix(root)
                .expect("inside")
                .to_path_buf()
        })
        .collect();
    found.sort();
    found
}

fn copy_tree(from: &Path, to: &Path) {
    for relative in files(from) {
        let target = to.join(&relative);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::copy(from.join(&relative), target).expect("copy");
    }
}

#[test]
fn spec_fixtures_rewrite_to_expected_and_converge() {
    for case in fixtures() {
        let work = tempfile::tempdir().expect("tempdir");
        copy_tree(&case.join("input"), work.path());
        let spec = case.join("spec.yml");
        fleetmod(work.path())
            .arg("rewrite")
            .arg("--spec")
            .arg(&spec)
            .args(["--apply", "."])
            .assert()
            .success();
        let expected = case.join("expected");
        assert_eq!(files(work.path()), files(&expected), "{}", case.display());
        for relative in files(&expected) {
            let got = std::fs::read(work.path().join(&relative)).expect("read");
            let want = std::fs::read(expected.join(&relative)).expect("read");
            assert!(
                got == want,
                "{}: {} differs from the expected file:\n{}",
                case.display(),
                relative.display(),
                String::from_utf8_lossy(&got)
            );
        }
        // A second run finds nothing left to change.
        fleetmod(work.path())
            .arg("rewrite")
            .arg("--spec")
            .arg(&spec)
            .args(["--check", "."])
            .assert()
            .success();
    }
}

/// Review edits and findings of a JSON rewrite report, one line each.
fn report_lines(case: &Path, folder: &str) -> String {
    let output = fleetmod(case)
        .args(["rewrite", "--spec", "spec.yml", "--json", folder])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(output).expect("utf-8");
    let summary: Vec<String> = text
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).expect("json");
            let mut lines = vec![format!(
                "{} changed={}",
                value["path"].as_str().expect("path"),
                value["changed"]
            )];
            for edit in value["edits"].as_array().expect("edits") {
                if edit["applicability"] == "review" {
                    lines.push(format!(
                        "  review {}:{} {} {} -> {}",
                        edit["line"],
                        edit["column"],
                        edit["rule_id"].as_str().expect("id"),
                        edit["original"],
                        edit["replacement"]
                    ));
                }
            }
            for finding in value["findings"].as_array().expect("findings") {
                lines.push(format!(
                    "  finding {}:{} {}: {}",
                    finding["line"],
                    finding["column"],
                    finding["rule_id"].as_str().expect("id"),
                    finding["message"].as_str().expect("message")
                ));
            }
            lines.join("\n")
        })
        .collect();
    summary.join("\n")
}

#[test]
fn findings_and_review_edits_are_reported_in_json() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/specs/orders-v2");
    insta::assert_snapshot!(report_lines(&case, "input"));
    // After the migration the findings stay: removed columns are still read,
    // now from the new table, and a bot's next run must keep showing them.
    insta::assert_snapshot!("findings_after_migration", report_lines(&case, "expected"));
}

#[test]
fn plan_describes_the_derived_rules() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/specs/orders-v2");
    let output = fleetmod(&case)
        .args(["plan", "spec.yml"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    insta::assert_snapshot!(String::from_utf8(output).expect("utf-8"));
    let json = fleetmod(&case)
        .args(["plan", "--json", "spec.yml"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let value: serde_json::Value = serde_json::from_slice(&json).expect("json");
    assert_eq!(value["from"], "sales.orders");
    assert_eq!(value["columns"][0]["new"], "customer_id");
    let ids: Vec<&str> = value["derived_rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|rule| rule["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids,
        [
            "orders-v2/table",
            "orders-v2/column",
            "orders-v2/column-literal",
            "orders-v2/removed-column",
            "orders-v2/review"
        ]
    );
}
