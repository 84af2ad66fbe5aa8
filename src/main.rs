//! The `zadig-sync` binary: everything lives in the library.

// A plan allocates and frees many small strings per build (parsed YAML,
// decoded JSON, HTTP buffers): mimalloc's per-thread free lists make that
// cheaper than glibc's malloc (issue 13's profile: a fifth of the CPU was in
// malloc and free).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    zadig_sync::cli::main()
}
