//! "1–50 of 1,234" with previous / next links that keep the rest of the query.

use leptos::prelude::*;
use shared::page::range_of;

#[component]
pub fn Pager(
    /// The list's path, e.g. `/ops/crm/companies`.
    #[prop(into)]
    base: String,
    /// The query without `page`, already encoded (e.g. `q=acme`), or empty.
    #[prop(into)]
    query: String,
    offset: i64,
    shown: i64,
    total: i64,
    page: i64,
    last_page: i64,
    /// How exact `total` is.
    #[prop(optional)]
    total_is: shared::page::Total,
) -> impl IntoView {
    let href = move |p: i64| {
        let mut parts: Vec<String> = Vec::new();
        if !query.is_empty() {
            parts.push(query.clone());
        }
        if p > 1 {
            parts.push(format!("page={p}"));
        }
        if parts.is_empty() {
            base.clone()
        } else {
            format!("{}?{}", base, parts.join("&"))
        }
    };
    let prev = (page > 1).then(|| href(page - 1));
    let next = (page < last_page).then(|| href(page + 1));
    view! {
        <nav class="pager" aria-label="Pages">
            <span class="pager-range" aria-live="polite">{range_of(offset, shown, total, total_is)}</span>
            // Plain links (the router still takes the click): `A` would mark both as the
            // current page, their path being this page's.
            {match prev {
                Some(h) => view! { <a href=h class="btn btn-small" rel="prev">"‹ Previous"</a> }.into_any(),
                None => view! { <span class="btn btn-small" aria-disabled="true">"‹ Previous"</span> }.into_any(),
            }}
            {match next {
                Some(h) => view! { <a href=h class="btn btn-small" rel="next">"Next ›"</a> }.into_any(),
                None => view! { <span class="btn btn-small" aria-disabled="true">"Next ›"</span> }.into_any(),
            }}
        </nav>
    }
}

/// A list's URL: `base` with the non-empty `params` and the page (when past the first).
pub fn list_href(base: &str, params: &[(&str, &str)], page: i64) -> String {
    let mut parts = Vec::new();
    for (k, v) in params {
        if !v.trim().is_empty() {
            parts.push(format!("{k}={}", encode(v.trim())));
        }
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if parts.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", parts.join("&"))
    }
}

/// A column header that sorts the list by its column: `active` is `Some(descending)` when the
/// list is sorted by it; `href(descending)` is the list sorted by it that way. A click sorts
/// by the column (in its usual direction), a second click reverses.
pub fn sort_header(
    label: &'static str,
    class: &'static str,
    active: impl Fn() -> Option<bool> + Copy + Send + Sync + 'static,
    descending_first: bool,
    href: impl Fn(bool) -> String + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <th scope="col" class=class aria-sort=aria_sort(active)>
            {sort_link(label, active, descending_first, href)}
        </th>
    }
}

/// The `aria-sort` of a sortable column header (see [`sort_header`]).
pub fn aria_sort(
    active: impl Fn() -> Option<bool> + Copy + Send + Sync + 'static,
) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    move || match active() {
        None => "none",
        Some(true) => "descending",
        Some(false) => "ascending",
    }
}

/// The link inside a sortable column header (see [`sort_header`]).
pub fn sort_link(
    label: &'static str,
    active: impl Fn() -> Option<bool> + Copy + Send + Sync + 'static,
    descending_first: bool,
    href: impl Fn(bool) -> String + Send + Sync + 'static,
) -> impl IntoView {
    let target = move || href(active().map(|d| !d).unwrap_or(descending_first));
    let arrow = move || match active() {
        None => "",
        Some(true) => " ▼",
        Some(false) => " ▲",
    };
    // A plain link, as in the pager.
    view! { <a href=target class="sort-btn">{label}<span aria-hidden="true">{arrow}</span></a> }
}

/// Encodes a query-string value.
pub use shared::format::url_encode as encode;

/// Navigates to a list URL a short pause after the last keystroke, replacing the history
/// entry, so typing in a search box does not flood the server or the back button.
pub fn debounced_navigate() -> impl Fn(String) + Clone + 'static {
    let navigate = leptos_router::hooks::use_navigate();
    let pending = StoredValue::new(None::<leptos::prelude::TimeoutHandle>);
    move |target: String| {
        if let Some(h) = pending.get_value() {
            h.clear();
        }
        let navigate = navigate.clone();
        let handle = set_timeout_with_handle(
            move || {
                navigate(
                    &target,
                    leptos_router::NavigateOptions {
                        replace: true,
                        scroll: false,
                        ..Default::default()
                    },
                )
            },
            std::time::Duration::from_millis(300),
        )
        .ok();
        pending.set_value(handle);
    }
}

/// Keeps a search box in step with the URL (back/forward, links), except while the user is
/// typing in it.
pub fn follow_url(input: NodeRef<leptos::html::Input>, value: Memo<String>) {
    Effect::new(move |_| {
        let v = value.get();
        if let Some(el) = input.get() {
            let element: &web_sys::Element = &el;
            if document().active_element().as_ref() != Some(element) {
                el.set_value(&v);
            }
        }
    });
}
