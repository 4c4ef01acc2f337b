//! The Settle web application: screens, server functions, and (feature `ssr`) the HTTP
//! server that renders them.

// The typed views of the larger tables nest deeper than the default limit in release builds.
#![recursion_limit = "256"]

// The server and the browser must agree on leptos `erase_components`: it changes the
// hydration markers, and a browser build that expects other markers than the server wrote
// fails to hydrate. .cargo/config.toml sets it for every build; a build without it (a
// RUSTFLAGS override, say) stops here instead of shipping a page that never hydrates.
#[cfg(not(erase_components))]
compile_error!(
    "build with `--cfg erase_components` (.cargo/config.toml sets it; RUSTFLAGS overrides it)"
);

pub mod app;
pub mod codec;
pub mod components;
pub mod error;
pub mod lazy;
pub mod login;
pub mod ops;
pub mod portal;
pub mod public;
#[cfg(feature = "ssr")]
pub mod request;
#[cfg(feature = "ssr")]
pub mod serve;
pub mod server_fns;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Loads the split-out code of the screen being shown, then hydrates it (as
    // `hydrate_lazy` does); the page is interactive only once that has finished.
    wasm_bindgen_futures::spawn_local(async {
        let mounted =
            leptos::mount::hydrate_from_async(leptos::tachys::dom::body(), app::App).await;
        mounted.forget();
        mark_hydrated();
    });
}

/// Lets browser tests wait until the page is interactive, and the time-to-interactive
/// benchmark read when it became so (ms since the navigation started).
#[cfg(feature = "hydrate")]
fn mark_hydrated() {
    if let Some(window) = web_sys::window() {
        if let Some(performance) = window.performance() {
            let _ = js_sys::Reflect::set(
                &window,
                &"__settle_hydrated_at".into(),
                &performance.now().into(),
            );
        }
        let _ = js_sys::Reflect::set(&window, &"__settle_hydrated".into(), &true.into());
    }
}
