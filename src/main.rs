//! The `fleetmod` command; everything lives in the library's `cli` module.

fn main() -> std::process::ExitCode {
    fleetmod::cli::main()
}
