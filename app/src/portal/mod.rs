//! The customer portal: the customer's own company only.

pub mod invoice;
pub mod invoices;
pub mod payment_methods;
pub mod payments;

use crate::components::{loading_page, ErrorView, NotAllowed, SignOut};
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};
use shared::auth::{Role, SessionUser};

/// Customers only: staff see "Not allowed", a signed-out visitor goes to sign in.
#[component]
pub fn PortalShell() -> impl IntoView {
    let user = Resource::new(|| (), |_| crate::server_fns::people::current_user());
    view! {
        <Suspense fallback=loading_page>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(u)) if u.role == Role::Customer => view! { <CustomerLayout user=u/> }.into_any(),
                    Ok(Some(_)) => view! { <NotAllowed/> }.into_any(),
                    Ok(None) => view! { <Redirect path="/login?next=/portal"/> }.into_any(),
                    Err(e) => view! { <main class="standalone"><ErrorView error=e/></main> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn CustomerLayout(user: SessionUser) -> impl IntoView {
    provide_context(user.clone());
    let company = user
        .company
        .as_ref()
        .map(|c| c.name.clone())
        .unwrap_or_default();
    view! {
        <div class="portal">
            <a class="skip-link" href="#content">"Skip to content"</a>
            <header class="portal-top">
                <div class="brand">"Settle"</div>
                <div class="portal-company">{company}</div>
                <nav aria-label="Main" class="portal-nav">
                    <A href="/portal" exact=true>"Invoices"</A>
                    <A href="/portal/payments">"Payments"</A>
                    <A href="/portal/payment-methods">"Payment methods"</A>
                </nav>
                <div class="topbar-user">
                    <span class="user-name">{user.name.clone()}</span>
                    <SignOut/>
                </div>
            </header>
            <main id="content" class="content portal-content" tabindex="-1">
                <Outlet/>
            </main>
        </div>
    }
}
