//! The built site's static files (`/pkg/…`: the WASM, its JavaScript and the CSS), served
//! like a production site: compressed once at build time, never per request, and cached for
//! a year when their names carry a content hash.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use leptos::config::LeptosOptions;
use std::path::{Path, PathBuf};
use tower_http::services::ServeDir;

/// A hashed file never changes under its name: browsers keep it for a year.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Without hashed names a file may change under its name: browsers ask each time.
pub const REVALIDATE: &str = "no-cache";

/// `/pkg/…` from `<site root>/pkg`, preferring the `.br` and `.gz` files written beside each
/// file by the release build (`cargo leptos build --release --precompress`).
pub fn routes<S: Clone + Send + Sync + 'static>(options: &LeptosOptions) -> Router<S> {
    let prefix = format!("/{}", options.site_pkg_dir.trim_matches('/'));
    let dir: PathBuf = Path::new(&*options.site_root).join(&*options.site_pkg_dir);
    let cache = HeaderValue::from_static(if options.hash_files {
        IMMUTABLE
    } else {
        REVALIDATE
    });
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false);
    Router::new()
        .nest_service(&prefix, files)
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            let cache = cache.clone();
            async move {
                let mut res: Response = next.run(req).await;
                if matches!(res.status(), StatusCode::OK | StatusCode::NOT_MODIFIED) {
                    let headers = res.headers_mut();
                    headers.insert(header::CACHE_CONTROL, cache);
                    // The same name answers br, gzip or plain bytes: caches must keep them apart.
                    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
                }
                res
            }
        }))
}

/// Whether the build that made this binary wrote hashed file names: cargo-leptos puts
/// `hash.txt` beside the server binary when `hash-files` is on.
pub fn hash_file_beside_binary(options: &LeptosOptions) -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&*options.hash_file)))
        .is_some_and(|path| path.is_file())
}
