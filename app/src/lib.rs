//! The Settle web application: screens, server functions, and (feature `ssr`) the HTTP
//! server that renders them.

// The typed views of the larger tables nest deeper than the default limit in release builds.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod components;
pub mod error;
#[cfg(feature = "ssr")]
pub mod files;
pub mod login;
pub mod ops;
pub mod portal;
#[cfg(feature = "ssr")]
pub mod web;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Lets browser tests wait until the page is interactive.
    if let Some(window) = web_sys::window() {
        let _ = js_sys::Reflect::set(&window, &"__settle_hydrated".into(), &true.into());
    }
}
