//! `bench/layout/hot-code.ld`, which build.rs passes to the linker of
//! release builds, must link with this toolchain's default linker (lld on
//! x86-64 Linux) and with GNU ld, the linker of older toolchains. The
//! tests build in debug, so without this a broken script (say, a newly
//! profiled name the script syntax does not allow) would first show up in
//! the README's `cargo run --release`. (build.rs itself links a probe with
//! the script first and leaves it out if that fails, as with gold or mold.)

use std::path::{Path, PathBuf};
use std::process::Command;

const PROGRAM: &str = "fn main() {\n    let mut words: Vec<String> = std::env::args().skip(1).collect();\n    \
                       words.sort();\n    println!(\"{}\", words.join(\" \"));\n}\n";

/// Links a small program with the script (as build.rs passes it, one
/// argument at a time so that no comma in the path can split it), checks
/// that it runs, and returns the size of its `.text.hot` section.
fn link_and_measure_hot_section(linker_arguments: &[&str]) -> u64 {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/layout/hot-code.ld");
    let directory = tempfile::tempdir().expect("tempdir");
    let source = directory.path().join("program.rs");
    std::fs::write(&source, PROGRAM).expect("write program");
    let program = directory.path().join("program");
    let mut rustc = Command::new("rustc");
    rustc.arg("-O").arg("-o").arg(&program).arg(&source);
    for argument in linker_arguments {
        rustc.arg(format!("-Clink-arg={argument}"));
    }
    for argument in [
        "-Xlinker".into(),
        "-T".into(),
        "-Xlinker".into(),
        path(&script),
    ] {
        rustc.arg(format!("-Clink-arg={argument}"));
    }
    let output = rustc.output().expect("run rustc");
    assert!(
        output.status.success(),
        "linking with {} {linker_arguments:?} failed:\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );

    let output = Command::new(&program)
        .args(["layout", "code"])
        .output()
        .expect("run the program");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "code layout\n");

    let sections = Command::new("readelf")
        .args(["--section-headers", "--wide"])
        .arg(&program)
        .output()
        .expect("run readelf (binutils)");
    let sections = String::from_utf8_lossy(&sections.stdout);
    let hot = sections
        .lines()
        .find(|line| line.contains(" .text.hot "))
        .unwrap_or_else(|| panic!("no .text.hot section:\n{sections}"));
    // [Nr] Name Type Address Offset Size ...: the size follows the offset.
    let fields: Vec<&str> = hot.split_whitespace().collect();
    let name = fields
        .iter()
        .position(|field| *field == ".text.hot")
        .expect("name");
    u64::from_str_radix(fields[name + 4], 16).expect("section size")
}

fn path(path: &Path) -> String {
    path.to_str().expect("a UTF-8 path").to_owned()
}

fn on_path(command: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|directory| directory.join(command))
        .find(|candidate| candidate.is_file())
}

#[test]
fn the_default_linker_takes_the_layout_script_and_gathers_the_standard_library_functions_it_names()
{
    if !cfg!(target_os = "linux") {
        return;
    }
    // The program's sorting, printing and argument handling are std
    // functions fleetmod also runs, so the script names them.
    let size = link_and_measure_hot_section(&[]);
    assert!(size > 1024, "the script gathered only {size} bytes");
}

#[test]
fn gnu_ld_takes_the_layout_script() {
    if !cfg!(target_os = "linux") || on_path("ld.bfd").is_none() {
        return;
    }
    let size = link_and_measure_hot_section(&["-fuse-ld=bfd"]);
    assert!(size > 1024, "the script gathered only {size} bytes");
}
