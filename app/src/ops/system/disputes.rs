//! System → Disputes: what cardholders disputed, as the gateway reported it — the open ones
//! first with the days left to send evidence, then those closed in the last 90 days — what each
//! holds reopened on the invoices, and its evidence pack (one zip) to answer it with.

use crate::components::{loading_rows, DataTable, ErrorView};
use crate::server_fns::refunds::disputes;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use shared::format::date;
use shared::refund::{evidence_href, DisputeView};

/// "5 days left", "1 day left" (due within the day), "Past due", "2 days overdue"; empty once no
/// evidence is wanted.
fn days_left(d: &DisputeView) -> (String, &'static str) {
    match d.days_left {
        None => (String::new(), ""),
        Some(-1) => ("1 day overdue".into(), "badge-red"),
        Some(n) if n < 0 => (format!("{} days overdue", -n), "badge-red"),
        Some(0) => ("Past due".into(), "badge-red"),
        Some(1) => ("1 day left".into(), "badge-amber"),
        Some(n) if n <= 3 => (format!("{n} days left"), "badge-amber"),
        Some(n) => (format!("{n} days left"), "badge-neutral"),
    }
}

#[component]
pub fn DisputesPage() -> impl IntoView {
    let list = Resource::new(|| (), |_| disputes());
    view! {
        <Title text="Disputes"/>
        <div class="page-head">
            <h1>"Disputes"</h1>
            <p class="subtitle">"Payments a cardholder disputed. While the card network holds the money, the invoices are open again by the disputed amount; a dispute won closes them again. Answer with the evidence pack before the due date."</p>
        </div>
        <DataTable label="Disputes" testid="disputes">
            <thead><tr>
                <th scope="col">"Dispute"</th>
                <th scope="col">"Company"</th>
                <th scope="col">"Reason"</th>
                <th scope="col">"Status"</th>
                <th scope="col">"Evidence due"</th>
                <th scope="col" class="num">"Disputed"</th>
                <th scope="col"><span class="sr-only">"Evidence pack"</span></th>
            </tr></thead>
            <Transition fallback=move || view! { <tbody><tr><td colspan="7">{loading_rows(3)}</td></tr></tbody> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Err(e) => view! { <tbody><tr><td colspan="7"><ErrorView error=e/></td></tr></tbody> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <tbody><tr><td colspan="7"><div class="empty-state"><p>"No payment has been disputed."</p></div></td></tr></tbody>
                        }.into_any(),
                        Ok(list) => view! {
                            <tbody>
                                {list.into_iter().map(|d| {
                                    let (left, tone) = days_left(&d);
                                    let status_tone = match d.status.as_str() {
                                        "won" | "warning_closed" => "badge-green",
                                        "lost" => "badge-red",
                                        _ => "badge-amber",
                                    };
                                    let pack = format!("Evidence pack for {}", d.payment_number);
                                    let (status, reason, name) = (d.status_label(), d.reason.replace('_', " "), d.company_name.clone());
                                    let company = format!("/ops/crm/companies/{}/payments", d.company_code);
                                    view! {
                                        <tr data-dispute=d.id.clone() data-payment=d.payment_number.clone()>
                                            <td class="mono">{d.payment_number.clone()}<div class="muted small">{d.id.clone()}</div></td>
                                            <td>
                                                <A href=company>{name}</A>
                                                <div class="muted small mono">{d.company_code.clone()}</div>
                                            </td>
                                            <td>{reason}</td>
                                            <td><span class=format!("badge {status_tone}")>{status}</span></td>
                                            <td>
                                                {d.evidence_due_by.map(|due| date(due.date_naive())).unwrap_or_else(|| "—".into())}
                                                {(!left.is_empty()).then(|| view! { <div><span class=format!("badge {tone}") data-testid="days-left">{left.clone()}</span></div> })}
                                            </td>
                                            <td class="num">
                                                {d.amount.display()}
                                                <div class="muted small">{format!("{} reopened", d.reopened.display())}</div>
                                            </td>
                                            <td class="actions-cell">
                                                <a class="btn btn-small" href=evidence_href(&d.id) download aria-label=pack>"Evidence pack"</a>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        }.into_any(),
                    }
                })}
            </Transition>
        </DataTable>
    }
}
