//! The Settle server binary: starts the HTTP server (`serve::main`).

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() {
    std::process::exit(app::serve::main().await);
}

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // The browser side starts from `hydrate()` in lib.rs.
}
