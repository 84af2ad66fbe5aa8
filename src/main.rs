//! The `zadig-sync` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    zadig_sync::cli::main()
}
