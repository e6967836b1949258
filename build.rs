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
//! memory, never correctness. lld and GNU ld take it; mold does not, so a
//! build that asks for mold goes without, as does one with
//! `FLEETMOD_CODE_LAYOUT=off`.

use std::env;
use std::path::Path;

fn main() {
    println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={LAYOUT_SCRIPT}");
    println!("cargo:rerun-if-env-changed=FLEETMOD_CODE_LAYOUT");
    let manifest = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let script = Path::new(&manifest).join(LAYOUT_SCRIPT);
    if wants_code_layout() && script.exists() {
        println!("cargo:rustc-link-arg-bins=-Wl,-T,{}", script.display());
    }
}

const LAYOUT_SCRIPT: &str = "bench/layout/hot-code.ld";

fn wants_code_layout() -> bool {
    let variable = |name: &str| env::var(name).unwrap_or_default();
    variable("PROFILE") == "release"
        && variable("CARGO_CFG_TARGET_OS") == "linux"
        && variable("FLEETMOD_CODE_LAYOUT") != "off"
        && !variable("CARGO_ENCODED_RUSTFLAGS").contains("mold")
}
