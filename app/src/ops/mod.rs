//! The operations portal (staff): shell with left navigation, and its screens.

pub mod authorizations;
pub mod crm;
pub mod dashboard;
pub mod deposits;
pub mod payments;
pub mod policy;
pub mod refunds;
pub mod reports;
pub mod statements;
pub mod system;

use crate::components::{loading_page, ErrorView, NotAllowed, SignOut};
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};
use leptos_router::hooks::use_location;
use shared::auth::SessionUser;

/// Staff only: a customer sees "Not allowed", a signed-out visitor goes to sign in.
#[component]
pub fn OpsShell() -> impl IntoView {
    let user = Resource::new(|| (), |_| crate::server_fns::people::current_user());
    let location = use_location();
    view! {
        <Suspense fallback=loading_page>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(u)) if u.is_staff() => view! { <StaffLayout user=u/> }.into_any(),
                    Ok(Some(_)) => view! { <NotAllowed/> }.into_any(),
                    Ok(None) => {
                        let next = format!("{}{}", location.pathname.get_untracked(), location.search.get_untracked());
                        let path = format!("/login?next={}", crate::components::pager::encode(&next));
                        view! { <Redirect path=path/> }.into_any()
                    }
                    Err(e) => view! { <main class="standalone"><ErrorView error=e/></main> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn StaffLayout(user: SessionUser) -> impl IntoView {
    // The screens read who is signed in from here (never from a resource of their own).
    provide_context(user.clone());
    let is_admin = user.role == shared::auth::Role::Admin;
    view! {
        <div class="ops">
            <a class="skip-link" href="#content">"Skip to content"</a>
            <nav class="sidenav" aria-label="Main">
                <div class="brand">"Settle"</div>
                <ul class="nav-top">
                    <li><A href="/ops" attr:class="nav-link" exact=true>"Dashboard"</A></li>
                </ul>
                <div class="nav-group">
                    <div class="nav-group-title" id="nav-crm">"CRM"</div>
                    <ul aria-labelledby="nav-crm">
                        <li><A href="/ops/crm/companies" attr:class="nav-link">"Companies"</A></li>
                        <li><A href="/ops/payments" attr:class="nav-link">"All Payments"</A></li>
                    </ul>
                </div>
                <div class="nav-group">
                    <div class="nav-group-title" id="nav-reports">"Reports"</div>
                    <ul aria-labelledby="nav-reports">
                        <li><A href="/ops/reports/aging" attr:class="nav-link">"Aging"</A></li>
                        <li><A href="/ops/reports/deposits" attr:class="nav-link">"Deposits"</A></li>
                        <li><A href="/ops/reports/authorizations" attr:class="nav-link">"ACH authorizations"</A></li>
                    </ul>
                </div>
                <div class="nav-group">
                    <div class="nav-group-title" id="nav-system">"System"</div>
                    <ul aria-labelledby="nav-system">
                        <li><A href="/ops/system/payment-methods" attr:class="nav-link">"Payment Methods"</A></li>
                        <li><A href="/ops/system/awaiting-gateway" attr:class="nav-link">"Awaiting gateway"</A></li>
                        <li><A href="/ops/system/refund-approvals" attr:class="nav-link">"Refund approvals"</A></li>
                        <li><A href="/ops/system/disputes" attr:class="nav-link">"Disputes"</A></li>
                        <li><A href="/ops/system/ach-files" attr:class="nav-link">"ACH Files"</A></li>
                        <li><A href="/ops/system/payment-policy" attr:class="nav-link">"Payment policy"</A></li>
                        <li><A href="/ops/system/email" attr:class="nav-link">"Email"</A></li>
                        <Show when=move || is_admin>
                            <li><A href="/ops/system/statements" attr:class="nav-link">"Statements"</A></li>
                            <li><A href="/ops/system/api-keys" attr:class="nav-link">"API Keys"</A></li>
                            <li><A href="/ops/system/webhooks" attr:class="nav-link">"Webhooks"</A></li>
                            <li><A href="/ops/system/import" attr:class="nav-link">"Import"</A></li>
                            <li><A href="/ops/system/staff-users" attr:class="nav-link">"Staff Users"</A></li>
                            <li><A href="/ops/system/reason-codes" attr:class="nav-link">"Reason codes"</A></li>
                        </Show>
                    </ul>
                </div>
            </nav>
            <div class="ops-main">
                <header class="topbar">
                    <div class="topbar-user">
                        <span class="user-name">{user.name.clone()}</span>
                        <span class="badge badge-neutral">{user.role.label()}</span>
                    </div>
                    <SignOut/>
                </header>
                <main id="content" class="content" tabindex="-1">
                    <Outlet/>
                </main>
            </div>
        </div>
    }
}
