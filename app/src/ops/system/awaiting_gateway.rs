//! System → Awaiting gateway: payments whose gateway answer is overdue. Settle keeps asking
//! the gateway about each (backing off while it cannot be reached); the list shows how long
//! each has waited, how many checks failed and why, so nobody pays again meanwhile. Below it,
//! pending ACH debits the gateway says it does not know (older than an hour): Settle keeps
//! asking, and staff look into each with the gateway.

use crate::components::{loading_rows, DataTable, ErrorView};
use crate::error::ApiError;
use crate::server_fns::payments::{ach_debits_unknown, payments_awaiting_gateway};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use shared::format::date;
use shared::payment::{age_label, AwaitingGateway};

#[component]
pub fn AwaitingGatewayPage() -> impl IntoView {
    let payments = Resource::new(|| (), |_| payments_awaiting_gateway());
    let unknown = Resource::new(|| (), |_| ach_debits_unknown());
    view! {
        <Title text="Awaiting gateway"/>
        <div class="page-head">
            <h1>"Awaiting gateway"</h1>
            <p class="subtitle">"Payments the payment gateway has not answered for yet. Settle keeps asking; their invoices stay held until it answers."</p>
        </div>
        <WaitingTable list=payments label="Payments awaiting the gateway" testid="awaiting-gateway"
            empty="No payment is waiting for the gateway." failed="Failed checks"/>
        <h2 class="section-title">"ACH debits the gateway does not know"</h2>
        <p class="help">"Pending debits older than an hour that the gateway answers it has no record of. Settle keeps asking; look each one up with the gateway. Their invoices stay paid until the debit settles or is returned."</p>
        <WaitingTable list=unknown label="ACH debits the gateway does not know" testid="ach-unknown"
            empty="Every pending ACH debit is known to the gateway." failed="Checks"/>
    }
}

/// One table of payments Settle keeps asking the gateway about.
#[component]
fn WaitingTable(
    list: Resource<Result<Vec<AwaitingGateway>, ApiError>>,
    label: &'static str,
    testid: &'static str,
    empty: &'static str,
    failed: &'static str,
) -> impl IntoView {
    view! {
        <DataTable label=label testid=testid class="dense">
            <thead><tr>
                <th scope="col">"Payment"</th>
                <th scope="col">"Company"</th>
                <th scope="col">"Method"</th>
                <th scope="col">"Started"</th>
                <th scope="col" class="num">"Waiting"</th>
                <th scope="col" class="num">{failed}</th>
                <th scope="col">"Last error"</th>
                <th scope="col" class="num">"Amount"</th>
            </tr></thead>
            <Transition fallback=move || view! { <tbody><tr><td colspan="8">{loading_rows(3)}</td></tr></tbody> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Err(e) => view! { <tbody><tr><td colspan="8"><ErrorView error=e/></td></tr></tbody> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <tbody><tr><td colspan="8">
                                <div class="empty-state"><p>{empty}</p></div>
                            </td></tr></tbody>
                        }.into_any(),
                        Ok(list) => view! {
                            <tbody>
                                {list.into_iter().map(|p| view! {
                                    <tr data-payment=p.number.clone()>
                                        <td class="mono">{p.number.clone()}</td>
                                        <td>
                                            <A href=format!("/ops/crm/companies/{}/payments", p.company_code)>{p.company_name.clone()}</A>
                                            <div class="muted small mono">{p.company_code.to_string()}</div>
                                        </td>
                                        <td>{p.method.clone()}</td>
                                        <td>{format!("{} {}", date(p.started_at.date_naive()), p.started_at.format("%H:%M UTC"))}</td>
                                        <td class="num">{age_label(p.age_seconds)}</td>
                                        <td class="num">{p.checks}</td>
                                        <td class="small wrap">{p.last_error.clone().unwrap_or_else(|| "—".into())}</td>
                                        <td class="num">{p.amount.display()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        }.into_any(),
                    }
                })}
            </Transition>
        </DataTable>
    }
}
