//! The Settle server binary: starts the HTTP server (`serve::main`).

// A page view allocates many small short-lived values; glibc malloc spent a fifth of the
// server's CPU on them (perf, under the page benchmark).
#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() {
    std::process::exit(app::serve::main().await);
}

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // The browser side starts from `hydrate()` in lib.rs.
}
