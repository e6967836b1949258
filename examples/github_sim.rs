//! A GitHub playground: the project's GitHub simulator as a server, with
//! the bundled example's repositories, so `forge.kind: github` can be tried
//! without GitHub.
//!
//! ```text
//! cargo run --example github_sim -- [--port 8787] [--root .fleetmod-github] [--faults 0.1]
//! ```
//!
//! It prints the API URL, the token, and a spec to point fleetmod at. The
//! simulator answers GitHub's REST paths with GitHub's shapes, enforces the
//! secondary limits, and with `--faults` injects errors, rate limits and
//! timeouts into that fraction of requests.

// An example is a command line: it prints.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/github_sim/mod.rs"]
mod github_sim;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use github_sim::{Fault, Faults, Options, Simulator};

const TOKEN: &str = "playground-token";

fn main() {
    let mut port = 8787_u16;
    let mut root = PathBuf::from(".fleetmod-github");
    let mut faults = 0.0_f64;
    let mut arguments = std::env::args().skip(1);
    while let Some(argument) = arguments.next() {
        let value = arguments.next();
        match (argument.as_str(), value) {
            ("--port", Some(value)) => port = value.parse().expect("--port takes a number"),
            ("--root", Some(value)) => root = PathBuf::from(value),
            ("--faults", Some(value)) => faults = value.parse().expect("--faults takes 0..1"),
            _ => {
                eprintln!("usage: github_sim [--port N] [--root DIR] [--faults RATE]");
                std::process::exit(2);
            }
        }
    }
    std::fs::create_dir_all(&root).expect("create the root folder");
    let root = root.canonicalize().expect("root folder");
    let options = Options {
        token: TOKEN.to_owned(),
        ..Options::default()
    };
    let simulator = Simulator::start_at(
        options,
        SocketAddr::from(([127, 0, 0, 1], port)),
        root.clone(),
    );
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/orders-v2/repos/acme");
    for entry in std::fs::read_dir(&example)
        .expect("the bundled example")
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let files = files_of(&entry.path());
        let borrowed: Vec<(&str, &str)> = files
            .iter()
            .map(|(path, text)| (path.as_str(), text.as_str()))
            .collect();
        simulator.add_repo("acme", &name, &borrowed);
    }
    simulator.add_team("acme", "billing");
    if faults > 0.0 {
        simulator.set_faults(Faults {
            rate: faults,
            seed: 1,
            kinds: vec![
                Fault::ServerError,
                Fault::BadGateway,
                Fault::SecondaryWithRetryAfter,
                Fault::TooManyRequests,
                Fault::AlreadyExists,
                Fault::CreatedThenServerError,
                Fault::Slow,
            ],
            slow_ms: 300,
            timeout_ms: 0,
        });
    }
    println!(
        "GitHub simulator at {} (repositories in {})",
        simulator.api_url(),
        root.display()
    );
    println!("token: {TOKEN}");
    println!();
    println!("Point a spec at it (for example a copy of examples/orders-v2/migration.yaml):");
    println!();
    println!("  forge:");
    println!("    kind: github");
    println!("    api_url: {}", simulator.api_url());
    println!("    token_env: GITHUB_TOKEN");
    println!();
    println!("then: GITHUB_TOKEN={TOKEN} cargo run --release -- run SPEC --workspace .fleetmod-gh");
    println!("Ctrl-C stops the simulator.");
    loop {
        std::thread::sleep(std::time::Duration::from_secs(60));
        let stats = simulator.stats();
        eprintln!(
            "{} requests, {} mutating, {} faults injected, at most {} mutating per minute",
            stats.requests, stats.mutating, stats.faults_injected, stats.max_mutating_per_minute
        );
    }
}

/// Every file under `folder`, as (relative path, text).
fn files_of(folder: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).into_iter().flatten().flatten() {
                pending.push(entry.path());
            }
        } else if let (Ok(text), Ok(relative)) =
            (std::fs::read_to_string(&path), path.strip_prefix(folder))
        {
            files.push((relative.to_string_lossy().into_owned(), text));
        }
    }
    files.sort();
    files
}
