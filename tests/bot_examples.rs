//! The bot examples parse, and what they rely on holds: a schedule, no
//! overlapping runs, exit code 3 treated as success, the state store kept
//! between runs, and fleetmod invocations the command line accepts.

use serde_json::Value;

fn load_all(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .expect("example exists");
    serde_saphyr::from_multiple(&text).expect("valid YAML")
}

/// Every `fleetmod ...` command line in a shell script.
fn fleetmod_lines(script: &str) -> Vec<Vec<String>> {
    script
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("fleetmod "))
        .map(|line| line.split_whitespace().map(str::to_owned).collect())
        .collect()
}

/// The binary's argument parser accepts `line` (`--help` after the
/// subcommand's own arguments stops before any work).
fn accepted(line: &[String]) {
    let mut arguments: Vec<String> = line[1..].to_vec();
    // Parse only: an unknown flag fails even with --help appended.
    arguments.push("--help".to_owned());
    let output = assert_cmd::Command::cargo_bin("fleetmod")
        .unwrap()
        .args(&arguments)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{line:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_github_actions_workflow_runs_on_a_schedule_and_keeps_its_state() {
    let workflow = &load_all("examples/github-actions/fleetmod.yml")[0];
    assert!(workflow["on"]["schedule"][0]["cron"].is_string());
    assert_eq!(workflow["concurrency"]["cancel-in-progress"], false);
    let steps = workflow["jobs"]["migrate"]["steps"].as_array().unwrap();
    let uses: Vec<&str> = steps
        .iter()
        .filter_map(|step| step["uses"].as_str())
        .collect();
    assert!(
        uses.iter()
            .any(|uses| uses.starts_with("actions/cache/restore"))
    );
    assert!(
        uses.iter()
            .any(|uses| uses.starts_with("actions/cache/save"))
    );
    let scripts: Vec<&str> = steps
        .iter()
        .filter_map(|step| step["run"].as_str())
        .collect();
    let all = scripts.join("\n");
    assert!(
        all.contains("if [ \"$code\" -eq 3 ]; then exit 0; fi"),
        "{all}"
    );
    let lines = fleetmod_lines(&all);
    assert_eq!(lines.len(), 2, "{lines:?}");
    lines.iter().for_each(|line| accepted(line));
}

#[test]
fn the_kubernetes_cronjob_forbids_overlap_and_keeps_state_on_a_volume() {
    let documents = load_all("examples/kubernetes/cronjob.yaml");
    let claim = documents
        .iter()
        .find(|document| document["kind"] == "PersistentVolumeClaim")
        .unwrap();
    let cronjob = documents
        .iter()
        .find(|document| document["kind"] == "CronJob")
        .unwrap();
    assert_eq!(cronjob["spec"]["concurrencyPolicy"], "Forbid");
    let pod = &cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(
        pod["volumes"][0]["persistentVolumeClaim"]["claimName"],
        claim["metadata"]["name"]
    );
    let container = &pod["containers"][0];
    assert_eq!(container["volumeMounts"][0]["mountPath"], "/state");
    let script = container["args"][0].as_str().unwrap();
    assert!(script.contains("--workspace /state/.fleetmod"), "{script}");
    assert!(script.contains("if [ \"$code\" -eq 3 ]; then exit 0; fi"));
    let lines = fleetmod_lines(script);
    assert_eq!(lines.len(), 1);
    accepted(&lines[0]);
}
