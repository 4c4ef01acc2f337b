//! The open-invoice table, shared by the staff company page and the customer portal.

use super::DataTable;
use leptos::prelude::*;
use shared::format::{count, date};
use shared::invoice::OpenInvoice;
use shared::money::{Currency, Money};

#[component]
pub fn InvoiceTable(
    invoices: Vec<OpenInvoice>,
    /// The sentence shown when there are none.
    #[prop(into)]
    empty: String,
) -> impl IntoView {
    if invoices.is_empty() {
        return view! { <div class="empty-state"><p>{empty}</p></div> }.into_any();
    }
    let currency = invoices
        .first()
        .map(|i| i.balance.currency())
        .unwrap_or(Currency::USD);
    let total_balance = Money::sum(currency, invoices.iter().map(|i| &i.balance))
        .map(|m| m.display())
        .unwrap_or_default();
    let n = invoices.len() as i64;
    view! {
        <DataTable label="Open invoices" testid="open-invoices">
                <thead>
                    <tr>
                        <th scope="col">"Invoice"</th>
                        <th scope="col">"PO"</th>
                        <th scope="col">"Issued"</th>
                        <th scope="col">"Due"</th>
                        <th scope="col" class="num">"Days overdue"</th>
                        <th scope="col" class="num">"Total"</th>
                        <th scope="col" class="num">"Balance"</th>
                    </tr>
                </thead>
                <tbody>
                    {invoices.into_iter().map(|inv| {
                        let aging = inv.aging();
                        view! {
                            <tr data-invoice=inv.number.clone()>
                                <td class="mono">{inv.number.clone()}</td>
                                <td class="mono muted">{inv.po_number.clone().unwrap_or_else(|| "—".into())}</td>
                                <td>{date(inv.issue_date)}</td>
                                <td>{date(inv.due_date)}</td>
                                <td class="num">
                                    <span class=format!("aging aging-{}", aging.css()) title=aging.label()>
                                        {if inv.days_overdue > 0 { count(inv.days_overdue) } else { "Current".to_string() }}
                                    </span>
                                </td>
                                <td class="num">{inv.total.display()}</td>
                                <td class="num strong" data-col="balance">{inv.balance.display()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
                <tfoot>
                    <tr>
                        <th scope="row" colspan="6">{format!("{} open invoice{}", count(n), if n == 1 { "" } else { "s" })}</th>
                        <td class="num strong" data-testid="balance-total">{total_balance}</td>
                    </tr>
                </tfoot>
        </DataTable>
    }
    .into_any()
}
