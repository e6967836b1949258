//! Helpers for the fleet runner's integration tests: generated fleets of
//! repositories, the binary, and direct git access to the forge's bare
//! repositories (to play the people who push to them).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

pub(crate) use crate::common::fleetmod;
use git2::{Oid, Repository, Signature};
use serde_json::Value;

/// A temporary folder with a spec, its consumer repositories and a workspace.
pub(crate) struct Fleet {
    pub(crate) folder: tempfile::TempDir,
    pub(crate) spec: PathBuf,
}

/// Python that reads the old table (changes) or another one (no change).
fn consumer_source(index: usize, changes: bool) -> String {
    if changes {
        format!("QUERY_{index} = \"SELECT cust_id, amt FROM sales.orders WHERE amt > {index}\"\n")
    } else {
        format!("QUERY_{index} = \"SELECT sku FROM sales.order_items LIMIT {index}\"\n")
    }
}

impl Fleet {
    /// `count` repositories `acme/repo-NNN` in a catalog; every fifth one
    /// needs no change. `extra` is appended to the spec.
    pub(crate) fn generate(count: usize, extra: &str) -> Fleet {
        let folder = tempfile::tempdir().expect("temporary folder");
        let root = folder.path();
        let mut catalog = String::new();
        for index in 0..count {
            let name = format!("repo-{index:03}");
            let source = root.join("repos/acme").join(&name).join("src");
            std::fs::create_dir_all(&source).unwrap();
            std::fs::write(
                source.join("query.py"),
                consumer_source(index, index % 5 != 4),
            )
            .unwrap();
            catalog.push_str(&format!(
                "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  annotations:\n    github.com/project-slug: acme/{name}\nspec:\n  owner: team-{}\n  dependsOn: [resource:default/orders]\n",
                index % 3
            ));
        }
        std::fs::write(root.join("catalog.yaml"), catalog).unwrap();
        let spec = root.join("migration.yaml");
        std::fs::write(
            &spec,
            format!(
                "id: orders-v2\ndataset:\n  from: sales.orders\n  to: sales_v2.orders\n  columns: {{cust_id: customer_id, amt: amount_usd}}\nconsumers:\n  catalog: catalog.yaml\n  resource: resource:orders\nforge:\n  import: repos\n{extra}"
            ),
        )
        .unwrap();
        Fleet { folder, spec }
    }

    /// The bundled example, with a workspace in a temporary folder.
    pub(crate) fn example() -> Fleet {
        let folder = tempfile::tempdir().expect("temporary folder");
        let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/orders-v2/migration.yaml");
        Fleet { folder, spec }
    }

    pub(crate) fn workspace(&self) -> PathBuf {
        self.folder.path().join("workspace")
    }

    pub(crate) fn command(&self, subcommand: &str) -> Command {
        let mut command = fleetmod(self.folder.path());
        command
            .arg(subcommand)
            .arg(&self.spec)
            .arg("--workspace")
            .arg(self.workspace())
            .args(["--color", "never"]);
        command
    }

    /// `fleetmod run` with extra arguments; panics unless it succeeds.
    pub(crate) fn run(&self, arguments: &[&str]) -> String {
        let output = self.command("run").args(arguments).output().expect("runs");
        assert_success(&output);
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// `run` that must exit with `code` (1: a repository failed, 3: held back).
    pub(crate) fn run_exiting(&self, code: i32, arguments: &[&str]) -> String {
        let output = self.command("run").args(arguments).output().expect("runs");
        assert_eq!(
            output.status.code(),
            Some(code),
            "--- stdout\n{}\n--- stderr\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    pub(crate) fn status(&self) -> Value {
        let output = self.command("status").arg("--json").output().expect("runs");
        assert_success(&output);
        serde_json::from_slice(&output.stdout).expect("status prints JSON")
    }

    /// `state` of every repository, as `repo state`.
    pub(crate) fn states(&self) -> Vec<String> {
        self.status()["repos"]
            .as_array()
            .unwrap()
            .iter()
            .map(|record| {
                format!(
                    "{} {}",
                    record["repo"].as_str().unwrap(),
                    record["state"].as_str().unwrap()
                )
            })
            .collect()
    }

    pub(crate) fn forge(&self, arguments: &[&str]) -> Output {
        fleetmod(self.folder.path())
            .arg("forge")
            .arg("--root")
            .arg(self.workspace().join("forge"))
            .args(arguments)
            .output()
            .expect("runs")
    }

    /// Every pull request of the forge.
    pub(crate) fn pulls(&self) -> Vec<Value> {
        let output = self.forge(&["list", "--json"]);
        assert_success(&output);
        serde_json::from_slice::<Value>(&output.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }

    pub(crate) fn pull(&self, repo: &str, number: u64) -> Value {
        let output = self.forge(&["show", repo, &number.to_string(), "--json"]);
        assert_success(&output);
        serde_json::from_slice(&output.stdout).unwrap()
    }

    pub(crate) fn bare(&self, repo: &str) -> PathBuf {
        self.workspace().join("forge").join(format!("{repo}.git"))
    }

    pub(crate) fn branch_head(&self, repo: &str, branch: &str) -> Option<Oid> {
        Repository::open_bare(self.bare(repo))
            .unwrap()
            .refname_to_id(&format!("refs/heads/{branch}"))
            .ok()
    }

    /// Runs `inspect` on the bare repository and the head commit of `branch`.
    fn at_head<T>(
        &self,
        repo: &str,
        branch: &str,
        inspect: impl FnOnce(&Repository, &git2::Commit<'_>) -> T,
    ) -> T {
        let repository = Repository::open_bare(self.bare(repo)).unwrap();
        let head = repository
            .refname_to_id(&format!("refs/heads/{branch}"))
            .unwrap();
        let commit = repository.find_commit(head).unwrap();
        inspect(&repository, &commit)
    }

    /// Commits `files` on top of `branch` as a person would push them.
    pub(crate) fn push_commit(
        &self,
        repo: &str,
        branch: &str,
        files: &[(&str, &str)],
        message: &str,
    ) -> Oid {
        self.at_head(repo, branch, |repository, parent| {
            let mut update = git2::build::TreeUpdateBuilder::new();
            for (path, contents) in files {
                let blob = repository.blob(contents.as_bytes()).unwrap();
                update.upsert(*path, blob, git2::FileMode::Blob);
            }
            let tree_id = update
                .create_updated(repository, &parent.tree().unwrap())
                .unwrap();
            let tree = repository.find_tree(tree_id).unwrap();
            let person = Signature::now("Sam Person", "sam@acme.example").unwrap();
            repository
                .commit(
                    Some(&format!("refs/heads/{branch}")),
                    &person,
                    &person,
                    message,
                    &tree,
                    &[parent],
                )
                .unwrap()
        })
    }

    /// A file's text at the head of a branch.
    pub(crate) fn file_at(&self, repo: &str, branch: &str, path: &str) -> String {
        self.at_head(repo, branch, |repository, commit| {
            let entry = commit.tree().unwrap().get_path(Path::new(path)).unwrap();
            let blob = repository.find_blob(entry.id()).unwrap();
            String::from_utf8(blob.content().to_vec()).unwrap()
        })
    }

    /// The parents of a branch's head commit.
    pub(crate) fn parents(&self, repo: &str, branch: &str) -> Vec<Oid> {
        self.at_head(repo, branch, |_, commit| commit.parent_ids().collect())
    }
}

pub(crate) fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "failed ({:?})\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Open pull requests per repository.
pub(crate) fn open_per_repo(pulls: &[Value]) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for pull in pulls.iter().filter(|pull| pull["state"] == "open") {
        *counts
            .entry(pull["repo"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    counts
}
