//! The `mediaserver` binary: the command line lives in `cli/` (one file per subcommand).

use std::process::ExitCode;

/// glibc gives each thread that allocates its own arena (up to 8 per core), and each keeps the
/// 8 MiB upload parts it freed: a 1 GiB upload peaked at ~70 MiB RSS that way against ~50 MiB
/// with two arenas (BENCHMARKS.md). An explicit MALLOC_ARENA_MAX still wins.
#[allow(unsafe_code)] // `mallopt` is a C function; see SAFETY below.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only adjusts allocator tuning; it is called before any other thread
        // exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

fn main() -> ExitCode {
    limit_malloc_arenas();
    mediaserver::cli::main()
}
