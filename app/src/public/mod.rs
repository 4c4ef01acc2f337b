//! Pages opened from an email, without signing in: choosing a password from an invitation or
//! a reset link, asking for a reset, paying through a pay link, a receipt by its link. Each
//! acts only through its link (see `api_email.rs`).

pub mod account;
pub mod pay;

use leptos::prelude::*;

/// The plain frame of a page opened from an email: the seller's or Settle's name and the
/// content, centred.
#[component]
pub fn PublicFrame(#[prop(into)] brand: String, children: Children) -> impl IntoView {
    view! {
        <div class="public-page">
            <header class="public-head"><span class="brand">{brand}</span></header>
            <main id="content" class="public-main">{children()}</main>
            <footer class="public-foot muted small">"Payments processed securely by Settle. Card and account numbers go straight to the payment gateway; we keep only the last 4 digits."</footer>
        </div>
    }
}

/// The `:token` of the current route.
pub fn use_token() -> Memo<String> {
    let params = leptos_router::hooks::use_params_map();
    Memo::new(move |_| params.read().get("token").unwrap_or_default())
}
