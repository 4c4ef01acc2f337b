//! A company's page: who it is, its key figures, and tabs.

pub mod contacts;
pub mod open_invoices;
pub mod pay_links;
pub mod payment_methods;
pub mod payments;
pub mod send_pay_link;
pub mod users;

use crate::components::{loading_page, ErrorView, Figure, StatementForm};
use crate::server_fns::companies::get_company;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Outlet, A};
use leptos_router::hooks::use_params_map;
use shared::format::count;

/// The Company ID in the current URL.
pub fn use_company_code() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get("code").unwrap_or_default())
}

/// Bumped when something on the company changes (a payment), so every tab and the header
/// figures load again.
#[derive(Clone, Copy, Default)]
pub struct CompanyVersion(pub RwSignal<u32>);

#[component]
pub fn CompanyPage() -> impl IntoView {
    let code = use_company_code();
    let version = CompanyVersion(RwSignal::new(0));
    provide_context(version);
    let detail = Resource::new(
        move || (code.get(), version.0.get()),
        |(c, _)| get_company(c),
    );
    // Every read here tolerates a disposed owner: on the server a render pass can be
    // dropped and rebuilt while its closures are still referenced.
    view! {
        <nav class="breadcrumbs" aria-label="Breadcrumb">
            <A href="/ops/crm/companies">"Companies"</A>
            <span aria-hidden="true">" / "</span>
            <span aria-current="page">{move || code.try_get().unwrap_or_default()}</span>
        </nav>
        <Suspense fallback=loading_page>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <Title text="Company"/><ErrorView error=e/> }.into_any(),
                    Ok(c) => {
                        let base = format!("/ops/crm/companies/{}", c.code);
                        let overdue_tone = if c.overdue.is_positive() { "overdue" } else { "" };
                        view! {
                            // A plain string, never a closure over the page's signals.
                            <Title text=c.name.clone()/>
                            <div class="page-head company-head">
                                <div>
                                    <h1>{c.name.clone()}</h1>
                                    <p class="subtitle">"Company ID "<span class="mono">{c.code.to_string()}</span></p>
                                    <StatementForm action=shared::statement::staff_path(c.code.as_str(), None)/>
                                </div>
                                <div class="figures">
                                    <Figure label="Open balance" value=c.open_balance.display()/>
                                    <Figure label="Overdue" value=c.overdue.display() tone=overdue_tone/>
                                    <Figure label="Open invoices" value=count(c.open_invoices)/>
                                </div>
                            </div>
                            <nav class="tabs" aria-label="Company">
                                <A href=base.clone() exact=true attr:class="tab">"Open Invoices"</A>
                                <A href=format!("{base}/payments") attr:class="tab">"Payments"</A>
                                <A href=format!("{base}/payment-methods") attr:class="tab">"Payment Methods"</A>
                                <A href=format!("{base}/pay-links") attr:class="tab">"Pay Links"</A>
                                <A href=format!("{base}/contacts") attr:class="tab">"Contacts"</A>
                                <A href=format!("{base}/users") attr:class="tab">"Users"</A>
                                <A href=format!("{base}/policy") attr:class="tab">"Payment policy"</A>
                            </nav>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
        <section class="tab-panel">
            <Outlet/>
        </section>
    }
}
