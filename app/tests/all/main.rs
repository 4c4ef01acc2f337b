//! The app's tests over real HTTP, one module per subject, built as one test binary: one
//! link of the app, the server library and their dependencies instead of one per subject.
#![cfg(feature = "ssr")]

mod common;

mod api;
mod catch_panic;
mod http;
mod links;
mod malformed;
mod webhooks;
