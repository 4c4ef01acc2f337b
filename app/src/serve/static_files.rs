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

/// The files every page names, as Leptos names them for these options: the JavaScript, the
/// WASM, the CSS and the split loader's script and manifest, with the hashes of the build's
/// `hash.txt` (beside the binary) when file names are hashed.
pub fn named_files(options: &LeptosOptions, hashes: Option<&str>) -> Vec<String> {
    let output = &*options.output_name;
    let hash_of = |kind: &str| {
        hashes.and_then(|h| {
            h.lines()
                .filter_map(|l| l.trim().split_once(':'))
                .find(|(k, _)| *k == kind)
                .map(|(_, v)| v.trim().to_string())
        })
    };
    if options.hash_files {
        let named = |kind: &str, stem: &str, ext: &str| match hash_of(kind) {
            Some(h) => format!("{stem}.{h}.{ext}"),
            None => format!("{stem}.<no {kind} hash in {}>.{ext}", options.hash_file),
        };
        vec![
            named("js", output, "js"),
            named("wasm", output, "wasm"),
            named("css", output, "css"),
            named("split", "__wasm_split", "js"),
            named("manifest", "__wasm_split_manifest", "json"),
        ]
    } else {
        vec![
            format!("{output}.js"),
            format!("{output}.wasm"),
            format!("{output}.css"),
            "__wasm_split.______________________.js".to_string(),
            "__wasm_split_manifest.json".to_string(),
        ]
    }
}

/// Checks, before serving, that the site holds every file a page will name (a server copied
/// without its `hash.txt`, or a site from another build, would render pages that never become
/// interactive, with nothing in the log). The error says which file is missing and why.
pub fn check_site(options: &LeptosOptions) -> Result<(), String> {
    let hash_path = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&*options.hash_file)));
    let hashes = if options.hash_files {
        let path = hash_path.ok_or("cannot find where the server binary is")?;
        Some(std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "file names are hashed, but {} cannot be read ({e}): deploy it beside the binary, from the same build as the site",
                path.display()
            )
        })?)
    } else {
        None
    };
    let dir = Path::new(&*options.site_root).join(&*options.site_pkg_dir);
    for file in named_files(options, hashes.as_deref()) {
        if !dir.join(&file).is_file() {
            return Err(format!(
                "the site has no {} that pages would name: the site folder ({}) and the server's {} are not from the same build{}",
                dir.join(&file).display(),
                options.site_root,
                if options.hash_files { "hash list (hash.txt beside the binary)" } else { "settings (no hash.txt beside the binary: unhashed names)" },
                if options.hash_files { "" } else { "; deploy hash.txt beside the binary, or set LEPTOS_HASH_FILES=true" }
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(root: &str, hashed: bool) -> LeptosOptions {
        LeptosOptions::builder()
            .output_name("settle")
            .site_root(root)
            .hash_files(hashed)
            .build()
    }

    #[test]
    fn pages_name_hashed_files_from_the_hash_list() {
        let hashes = "js: abc\nwasm: def\ncss: ghi\nsplit: jkl\nmanifest: mno\n";
        assert_eq!(
            named_files(&options("site", true), Some(hashes)),
            [
                "settle.abc.js",
                "settle.def.wasm",
                "settle.ghi.css",
                "__wasm_split.jkl.js",
                "__wasm_split_manifest.mno.json"
            ]
        );
        assert_eq!(named_files(&options("site", false), None)[0], "settle.js");
    }

    #[test]
    fn a_site_without_the_named_files_is_refused_by_name() {
        let root = std::env::temp_dir().join(format!("settle-site-{}", std::process::id()));
        let pkg = root.join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        // Only hashed files, as the release build writes them; the server without hash.txt
        // (unhashed names) would name settle.js.
        std::fs::write(pkg.join("settle.abc.js"), "x").unwrap();
        let e = check_site(&options(root.to_str().unwrap(), false)).unwrap_err();
        assert!(e.contains("settle.js"), "{e}");
        assert!(e.contains("not from the same build"), "{e}");
        for f in named_files(&options("x", false), None) {
            std::fs::write(pkg.join(f), "x").unwrap();
        }
        assert_eq!(check_site(&options(root.to_str().unwrap(), false)), Ok(()));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
