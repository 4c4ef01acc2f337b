//! The document shell and the route table.

use crate::components::{NotAllowed, NotFound};
use crate::lazy::{
    AchFileScreen, AchFilesScreen, AgingScreen, ApiKeysScreen, AuthorizationsScreen,
    AwaitingGatewayScreen, CompaniesScreen, CompanyAgingScreen, CompanyMethodsScreen,
    CompanyPaymentsScreen, CompanyPolicyScreen, CompanyScreen, ContactsScreen, DashboardScreen,
    DepositsScreen, DisputesScreen, EmailScreen, ForgotPasswordScreen, ImportScreen, InviteScreen,
    MethodScreen, MethodsScreen, OpenInvoicesScreen, OpsScreen, PayLinkScreen, PayLinksScreen,
    PaymentPolicyScreen, PaymentsScreen, ReasonCodesScreen, ReceiptLinkScreen,
    RefundApprovalsScreen, ResetPasswordScreen, StaffUsersScreen, UsersScreen, WebhookScreen,
    WebhooksScreen,
};
use crate::login::LoginPage;
use crate::portal::{
    invoice::PortalInvoice,
    invoices::PortalInvoices,
    payment_methods::PortalPaymentMethods,
    payments::{PortalPayments, PortalReceipt},
    PortalShell,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::{path, Lazy, SsrMode};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <AutoReload options=options.clone()/>
                // settle.<hash>.css when the build hashed the file names (release builds).
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        // "Settle" is the fallback while a page's own title is not mounted yet.
        <Title text="Settle" formatter=|text: String| if text.is_empty() || text == "Settle" { "Settle".to_string() } else { format!("{text} · Settle") }/>
        <Router>
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/") view=Home/>
                <Route path=path!("/login") view=LoginPage/>
                <Route path=path!("/not-allowed") view=NotAllowed/>
                // Opened from an email, without signing in (each acts through its link only);
                // rendered whole before answering, so a dead link is a real 404 / 410.
                <Route path=path!("/forgot-password") view={Lazy::<ForgotPasswordScreen>::new()}/>
                <Route path=path!("/invite/:token") view={Lazy::<InviteScreen>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/reset-password/:token") view={Lazy::<ResetPasswordScreen>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/pay/:token") view={Lazy::<PayLinkScreen>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/receipts/:token") view={Lazy::<ReceiptLinkScreen>::new()} ssr=SsrMode::Async/>
                // Staff screens: split out of the WASM a customer downloads (see lazy.rs).
                <ParentRoute path=path!("/ops") view={Lazy::<OpsScreen>::new()}>
                    <Route path=path!("") view={Lazy::<DashboardScreen>::new()}/>
                    <Route path=path!("crm/companies") view={Lazy::<CompaniesScreen>::new()}/>
                    <ParentRoute path=path!("crm/companies/:code") view={Lazy::<CompanyScreen>::new()}>
                        <Route path=path!("") view={Lazy::<OpenInvoicesScreen>::new()}/>
                        <Route path=path!("payments") view={Lazy::<CompanyPaymentsScreen>::new()}/>
                        <Route path=path!("payment-methods") view={Lazy::<CompanyMethodsScreen>::new()}/>
                        <Route path=path!("pay-links") view={Lazy::<PayLinksScreen>::new()}/>
                        <Route path=path!("contacts") view={Lazy::<ContactsScreen>::new()}/>
                        <Route path=path!("users") view={Lazy::<UsersScreen>::new()}/>
                        <Route path=path!("policy") view={Lazy::<CompanyPolicyScreen>::new()}/>
                    </ParentRoute>
                    <Route path=path!("system/payment-methods") view={Lazy::<MethodsScreen>::new()}/>
                    <Route path=path!("system/payment-methods/:id") view={Lazy::<MethodScreen>::new()}/>
                    <Route path=path!("system/awaiting-gateway") view={Lazy::<AwaitingGatewayScreen>::new()}/>
                    <Route path=path!("system/refund-approvals") view={Lazy::<RefundApprovalsScreen>::new()}/>
                    <Route path=path!("system/disputes") view={Lazy::<DisputesScreen>::new()}/>
                    <Route path=path!("system/ach-files") view={Lazy::<AchFilesScreen>::new()}/>
                    <Route path=path!("system/ach-files/:id") view={Lazy::<AchFileScreen>::new()}/>
                    <Route path=path!("payments") view={Lazy::<PaymentsScreen>::new()}/>
                    <Route path=path!("reports/aging") view={Lazy::<AgingScreen>::new()}/>
                    <Route path=path!("reports/aging/:code") view={Lazy::<CompanyAgingScreen>::new()}/>
                    <Route path=path!("reports/authorizations") view={Lazy::<AuthorizationsScreen>::new()}/>
                    <Route path=path!("reports/deposits") view={Lazy::<DepositsScreen>::new()}/>
                    <Route path=path!("reports/deposits/:day/:rail") view={Lazy::<DepositsScreen>::new()}/>
                    <Route path=path!("system/api-keys") view={Lazy::<ApiKeysScreen>::new()}/>
                    <Route path=path!("system/statements") view={Lazy::<PaymentPolicyScreen>::new()}/>
                    <Route path=path!("system/webhooks") view={Lazy::<WebhooksScreen>::new()}/>
                    <Route path=path!("system/webhooks/:id") view={Lazy::<WebhookScreen>::new()}/>
                    <Route path=path!("system/import") view={Lazy::<ImportScreen>::new()}/>
                    <Route path=path!("system/email") view={Lazy::<EmailScreen>::new()}/>
                    <Route path=path!("system/staff-users") view={Lazy::<StaffUsersScreen>::new()}/>
                    <Route path=path!("system/reason-codes") view={Lazy::<ReasonCodesScreen>::new()}/>
                    <Route path=path!("system/payment-policy") view={Lazy::<PaymentPolicyScreen>::new()}/>
                </ParentRoute>
                <ParentRoute path=path!("/portal") view=PortalShell>
                    <Route path=path!("") view=PortalInvoices/>
                    // Rendered whole before answering, so "not found" is a real 404.
                    <Route path=path!("invoices/:id") view=PortalInvoice ssr=SsrMode::Async/>
                    <Route path=path!("payments") view=PortalPayments/>
                    <Route path=path!("payments/:id") view=PortalReceipt ssr=SsrMode::Async/>
                    <Route path=path!("payment-methods") view=PortalPaymentMethods/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// `/`: sends the user to their home, or to sign in.
/// Every page forbids scripts but Settle's own (the hydration scripts carry this response's
/// nonce; the WASM they load may run), framing, plugins, and requests to other origins — so
/// an injected script could not read what is typed into a card form or send it anywhere.
#[cfg(feature = "ssr")]
fn content_security_policy() {
    let Some(nonce) = leptos::nonce::use_nonce() else {
        return;
    };
    // With Stripe, its script, its card field's frames and its API, as Stripe lists them
    // ("Content Security Policy" in Stripe.js's documentation), and nothing else of theirs.
    let stripe = use_context::<server::AppState>()
        .and_then(|s| s.config.stripe.as_ref().map(|st| st.api_origin()));
    let (script, frame, connect) = match &stripe {
        Some(api) => (
            " https://js.stripe.com https://*.js.stripe.com",
            " frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com;",
            format!(" {api}"),
        ),
        None => ("", "", String::new()),
    };
    let policy = format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'{script}; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'{connect};{frame} \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    );
    if let (Some(res), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&policy),
    ) {
        res.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
fn Home() -> impl IntoView {
    let user = Resource::new(|| (), |_| crate::server_fns::people::current_user());
    view! {
        <Suspense fallback=crate::components::loading_page>
            {move || Suspend::new(async move {
                let target = match user.await {
                    Ok(Some(u)) => u.role.home(),
                    _ => "/login",
                };
                view! { <Redirect path=target/> }
            })}
        </Suspense>
    }
}
