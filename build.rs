//! Link settings for the `fleetmod` binary.
//!
//! `-z pack-relative-relocs` stores the binary's relative relocations in the
//! compact RELR form: 24 KB instead of 1.5 MB that the loader reads at every
//! start, which is 1.4 MB less resident memory for each run. Linkers that
//! do not know the option (GNU ld before 2.38) warn and ignore it.
//!
//! Release builds on Linux also get `bench/layout/hot-code.ld`, a linker
//! script that gathers the functions the benchmarked work runs into one
//! output section ahead of `.text`. The kernel maps code around each page
//! it faults in, so hot code scattered over the whole `.text` keeps most of
//! it resident; gathered, it keeps resident what it weighs (bench/README.md,
//! "Code layout"). The script only orders sections, so a stale one costs
//! memory, never correctness. lld and GNU ld take it; gold (a syntax error
//! at `INSERT`) and mold (no `SECTIONS`, by design) do not, nor may other
//! linkers, so a small probe is linked with it first, with the linker and
//! flags of this build, and the script is left out (with a warning) if the
//! probe fails. `FLEETMOD_CODE_LAYOUT=off` leaves it out too.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const LAYOUT_SCRIPT: &str = "bench/layout/hot-code.ld";

fn main() {
    println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    println!("cargo:rerun-if-changed=build.rs");
    // The script itself, so that editing its generator does not relink; its
    // folder while it is missing (a missing file would count as changed on
    // every build), so that its appearance does.
    let script_exists = Path::new(LAYOUT_SCRIPT).exists();
    let watched = if script_exists {
        LAYOUT_SCRIPT
    } else {
        "bench/layout"
    };
    println!("cargo:rerun-if-changed={watched}");
    println!("cargo:rerun-if-env-changed=FLEETMOD_CODE_LAYOUT");
    if let Some(script) = code_layout() {
        // One argument at a time: `-Wl,` would split a path at its commas.
        for argument in linker_arguments(&script) {
            println!("cargo:rustc-link-arg-bins={argument}");
        }
    }
}

fn variable(name: &str) -> String {
    env::var(name).unwrap_or_default()
}

fn linker_arguments(script: &str) -> [&str; 4] {
    ["-Xlinker", "-T", "-Xlinker", script]
}

/// The layout script's path, if this build should use it and its linker
/// takes it.
fn code_layout() -> Option<String> {
    if variable("PROFILE") != "release"
        || variable("CARGO_CFG_TARGET_OS") != "linux"
        || variable("FLEETMOD_CODE_LAYOUT") == "off"
    {
        return None;
    }
    let script = Path::new(&variable("CARGO_MANIFEST_DIR")).join(LAYOUT_SCRIPT);
    let text = fs::read_to_string(&script).ok()?;
    // Without INSERT, GNU ld would take the script in place of its own.
    if !text.contains("\nINSERT BEFORE .text;") {
        println!(
            "cargo:warning={LAYOUT_SCRIPT} is not a layout script (no INSERT BEFORE .text); building without it"
        );
        return None;
    }
    let script = script.to_str()?.to_owned();
    match probe(&script) {
        Ok(()) => Some(script),
        Err(reason) => {
            println!(
                "cargo:warning=the linker does not take {LAYOUT_SCRIPT}, so this build goes without the code layout (bench/README.md): {reason}"
            );
            None
        }
    }
}

/// Links an empty program with the script, as the binary will be linked.
fn probe(script: &str) -> Result<(), String> {
    let directory = PathBuf::from(variable("OUT_DIR"));
    let source = directory.join("layout_probe.rs");
    fs::write(&source, "fn main() {}\n").map_err(|error| error.to_string())?;
    let mut rustc = Command::new(variable("RUSTC"));
    rustc
        .arg("--target")
        .arg(variable("TARGET"))
        .arg("-o")
        .arg(directory.join("layout_probe"))
        .arg(&source)
        .args(
            variable("CARGO_ENCODED_RUSTFLAGS")
                .split('\x1f')
                .filter(|flag| !flag.is_empty()),
        );
    if let Ok(linker) = env::var("RUSTC_LINKER") {
        rustc.arg(format!("-Clinker={linker}"));
    }
    for argument in linker_arguments(script) {
        rustc.arg(format!("-Clink-arg={argument}"));
    }
    let output = rustc
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("cannot run rustc: {error}"))?;
    if output.status.success() {
        return Ok(());
    }
    // rustc's "linking with `cc` failed", then the linker's own message.
    let stderr = String::from_utf8_lossy(&output.stderr);
    let reason = stderr
        .lines()
        .filter(|line| line.contains("error") || line.contains("fatal"))
        .find(|line| !line.starts_with("error: linking with"))
        .map(|line| line.trim().trim_start_matches("= note:").trim())
        .unwrap_or("the probe did not link");
    Err(reason.to_owned())
}
