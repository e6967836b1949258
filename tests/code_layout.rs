//! `bench/layout/hot-code.ld`, which build.rs passes to the linker of
//! release builds, must link with this toolchain's default linker. The
//! tests build in debug, so without this a broken script (say, a newly
//! profiled name the script syntax does not allow) would first show up in
//! the README's `cargo run --release`. A small program linked with it must
//! run, and the standard-library functions it shares with fleetmod's hot
//! path must land in `.text.hot`.

use std::path::Path;
use std::process::Command;

#[test]
fn the_code_layout_script_links_and_gathers_the_functions_it_names() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/layout/hot-code.ld");
    let directory = tempfile::tempdir().expect("tempdir");
    let source = directory.path().join("program.rs");
    std::fs::write(
        &source,
        "fn main() {\n    let mut words: Vec<String> = std::env::args().skip(1).collect();\n    \
         words.sort();\n    println!(\"{}\", words.join(\" \"));\n}\n",
    )
    .expect("write program");
    let program = directory.path().join("program");
    let output = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("-O")
        .arg("-o")
        .arg(&program)
        .arg(&source)
        .arg(format!("-Clink-arg=-Wl,-T,{}", script.display()))
        .output()
        .expect("run rustc");
    assert!(
        output.status.success(),
        "linking with {} failed:\n{}",
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
    let size = u64::from_str_radix(fields[name + 4], 16).expect("section size");
    assert!(size > 1024, "the script gathered only {size} bytes:\n{hot}");
}
