//! The safety invariants of rewriting, checked on real code: applying every
//! starter rule, or a migration spec, never leaves a file parsing worse than
//! before, and a second application changes nothing.
//!
//! The corpus is a deterministic sample of the Python standard library of
//! the `python3` on PATH and of the JDK class library (`src.zip` of an
//! installed JDK source package). Set `FLEETMOD_CORPUS` to a folder to check
//! all its files instead (the README's benchmark corpora, for example).

#![allow(clippy::print_stderr)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use fleetmod::engine::Scanner;
use fleetmod::engine::rewrite::{regression, syntax_profile};
use fleetmod::lang::Language;
use fleetmod::migrate::Migration;
use fleetmod::rule::RuleSet;
use fleetmod::spec::Spec;

/// Every `step`-th source file under `root`, in path order.
fn sample(root: &Path, step: usize) -> Vec<(PathBuf, String)> {
    let mut paths: Vec<PathBuf> = ignore::WalkBuilder::new(root)
        .standard_filters(false)
        .build()
        .flatten()
        .filter(|entry| entry.file_type().is_some_and(|kind| kind.is_file()))
        .map(|entry| entry.into_path())
        .filter(|path| Language::from_path(path).is_some())
        .filter(|path| {
            !path
                .components()
                .any(|part| part.as_os_str() == "site-packages")
        })
        .collect();
    paths.sort();
    paths
        .into_iter()
        .step_by(step)
        .filter_map(|path| std::fs::read_to_string(&path).ok().map(|text| (path, text)))
        .collect()
}

fn python_stdlib() -> PathBuf {
    let output = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .expect("python3 must be on PATH for the corpus sample (or set FLEETMOD_CORPUS)");
    PathBuf::from(String::from_utf8(output.stdout).expect("utf-8").trim())
}

/// Java sources from the first JDK `src.zip` found (openjdk-17-source).
fn jdk_sample(step: usize) -> Vec<(PathBuf, String)> {
    let candidates = std::env::var_os("JAVA_HOME")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            std::fs::read_dir("/usr/lib/jvm")
                .into_iter()
                .flatten()
                .flatten()
                .map(|entry| entry.path()),
        )
        .map(|home| home.join("lib/src.zip"))
        .find(|zip| zip.is_file())
        .expect("a JDK src.zip is needed for the corpus sample (Debian package openjdk-17-source), or set FLEETMOD_CORPUS");
    let listing = Command::new("unzip")
        .arg("-Z1")
        .arg(&candidates)
        .output()
        .expect("unzip");
    let mut names: Vec<String> = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .filter(|name| name.ends_with(".java") && name.starts_with("java.base/java/util"))
        .map(str::to_owned)
        .collect();
    names.sort();
    names
        .into_iter()
        .step_by(step)
        .filter_map(|name| {
            let mut child = Command::new("unzip")
                .arg("-p")
                .arg(&candidates)
                .arg(&name)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .ok()?;
            let mut text = String::new();
            child.stdout.take()?.read_to_string(&mut text).ok()?;
            child.wait().ok()?;
            Some((PathBuf::from(name), text))
        })
        .collect()
}

/// The files to check: `FLEETMOD_CORPUS`, or the CI sample.
fn corpus() -> Vec<(PathBuf, String)> {
    let files = match std::env::var_os("FLEETMOD_CORPUS") {
        Some(corpus) => sample(Path::new(&corpus), 1),
        None => {
            let mut files = sample(&python_stdlib(), 6);
            files.extend(jdk_sample(2));
            files
        }
    };
    assert!(
        files.len() > 300,
        "the corpus sample is too small: {}",
        files.len()
    );
    files
}

#[test]
fn starter_rules_never_break_files_and_converge() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rules =
        RuleSet::load(&[root.join("rules")], None).unwrap_or_else(|errors| panic!("{errors}"));
    check_corpus("starter rules", &Scanner::new(&rules), &corpus());
}

/// Specs whose "tables" are dotted names that real code uses in strings
/// (`java.properties`, `urllib.request`), so that the migration's string,
/// SQL and literal handling runs over thousands of real literals.
const JAVA_SPEC: &str = "id: corpus-java\ndataset:\n  from: java.properties\n  to: acme:java.props\n  columns:\n    format: layout\n  removed: [name]\n";
const PYTHON_SPEC: &str = "id: corpus-python\ndataset:\n  from: urllib.request\n  to: urllib.requests\n  columns:\n    urlopen: open_url\n  removed: [Request]\n";

#[test]
fn migrations_never_break_files_and_converge() {
    let files = corpus();
    for text in [JAVA_SPEC, PYTHON_SPEC] {
        let spec = Spec::from_text(Path::new("spec.yml"), text)
            .unwrap_or_else(|errors| panic!("{errors}"));
        let migration = Migration::new(&spec);
        let rules = RuleSet::default();
        let scanner = Scanner::new(&rules).with_migration(&migration);
        check_corpus(&spec.id, &scanner, &files);
    }
}

fn check_corpus(what: &str, scanner: &Scanner<'_>, files: &[(PathBuf, String)]) {
    let (mut changed, mut edits, mut dropped, mut failures) = (0, 0, 0, Vec::new());
    for (path, text) in files {
        let language = Language::from_path(path).expect("language");
        let first = scanner.rewrite(language, path, text);
        edits += first.applied.len();
        dropped += first.dropped.len();
        let Some(output) = first.output else {
            continue;
        };
        changed += 1;
        let before = syntax_profile(language, text).expect("parses");
        let after = syntax_profile(language, &output).expect("parses");
        if let Some(reason) = regression(&before, &after) {
            failures.push(format!(
                "{}: parses worse after rewriting: {reason}",
                path.display()
            ));
        }
        let second = scanner.rewrite(language, path, &output);
        if second.output.is_some() || second.failure.is_some() {
            failures.push(format!("{}: a second run changes it again", path.display()));
        }
    }
    eprintln!(
        "{what}: {} files, {changed} changed, {edits} edits, {dropped} dropped",
        files.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        changed > 0,
        "{what}: no file changed; the sample does not exercise the rules"
    );
}
