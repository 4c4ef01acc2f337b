//! A company's payments as a table: status, method, invoices, who took it (and on whose
//! behalf) and the amount, each with its printable receipt. Staff's Payments tab and the
//! customer portal's Payments page.

use super::modal::Modal;
use super::{loading_rows, ErrorView};
use super::{DataTable, Payer, PaymentBadge, ReceiptView};
use crate::server_fns::payments::payments;
use leptos::prelude::*;
use shared::format::date;
use shared::payment::Receipt;

/// What a staff screen adds to a receipt's dialog (Company → Payments: give money back): the
/// view for the receipt, given a callback that closes the dialog. Given by context, so its
/// code stays with the staff screens (and out of what the portal loads).
#[derive(Clone, Copy)]
pub struct ReceiptActions(pub Callback<(Receipt, Callback<()>), AnyView>);

/// Who paid: a staff member on the customer's behalf, or the customer themselves.
pub fn payer_label(r: &Receipt) -> String {
    let by_customer = r
        .consent
        .as_ref()
        .is_some_and(|c| c.channel == shared::payment::ConsentChannel::Portal);
    if r.on_behalf {
        format!("{} (on behalf)", r.taken_by)
    } else if by_customer {
        format!("{} (customer)", r.taken_by)
    } else {
        r.taken_by.clone()
    }
}

/// The payer's company's payments, loaded; `version` bumped loads them again.
#[component]
pub fn CompanyPayments(payer: Payer, version: RwSignal<u32>, empty: &'static str) -> impl IntoView {
    let company = payer.company();
    let list = Resource::new(
        move || (company.clone(), version.get()),
        |(c, _)| payments(c),
    );
    view! {
        <Transition fallback=move || loading_rows(7)>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(list) => view! { <PaymentsHistory payments=list empty=empty/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn PaymentsHistory(
    payments: Vec<Receipt>,
    /// The sentence shown when there are none.
    #[prop(into)]
    empty: String,
) -> impl IntoView {
    let shown = RwSignal::new(None::<Receipt>);
    let actions = use_context::<ReceiptActions>();
    if payments.is_empty() {
        return view! { <div class="empty-state"><p>{empty}</p></div> }.into_any();
    }
    let list = payments;
    view! {
                <DataTable label="Payments" testid="payments">
                    <thead><tr>
                        <th scope="col">"Payment"</th>
                        <th scope="col">"Date"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Method"</th>
                        <th scope="col">"Invoices"</th>
                        <th scope="col">"Taken by"</th>
                        <th scope="col" class="num">"Amount"</th>
                        <th scope="col"><span class="sr-only">"Receipt"</span></th>
                    </tr></thead>
                    <tbody>
                        {list.into_iter().map(|r| {
                            let invoices = r.lines.iter().map(|l| l.invoice_number.clone()).collect::<Vec<_>>().join(", ");
                            let who = payer_label(&r);
                            let label = format!("Receipt {}", r.number);
                            let receipt = r.clone();
                            view! {
                                <tr data-payment=r.number.clone()>
                                    <td class="mono">{r.number.clone()}</td>
                                    <td>{date(r.at.date_naive())}</td>
                                    <td><PaymentBadge status=r.status checking=r.checking_with_gateway/>{r.failure_message.clone().map(|m| { let full = m.clone(); view! { <div class="muted small status-note" title=full>{m}</div> } })}
                                        {let back = r.refunded(); back.is_positive().then(|| view! { <div class="small text-alert" data-testid="refunded">{format!("Refunded {}", back.display())}</div> })}</td>
                                    <td>{r.method.clone()}</td>
                                    <td class="mono small">{invoices}</td>
                                    <td>{who}</td>
                                    <td class="num">{r.amount.display()}</td>
                                    <td class="actions-cell">
                                        <button type="button" class="btn btn-small" aria-label=label on:click=move |_| shown.set(Some(receipt.clone()))>"Receipt"</button>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </DataTable>
        {move || shown.get().map(|r| view! {
            <Modal title=Signal::derive(|| "Receipt".to_string()) on_close=Callback::new(move |_| shown.set(None))>
                <ReceiptView receipt=r.clone()/>
                <div class="modal-actions">
                    {actions.map(|a| a.0.run((r, Callback::new(move |_| shown.set(None)))))}
                    <button type="button" class="btn" on:click=move |_| { let _ = window().print(); }>"Print receipt"</button>
                    <button type="button" class="btn btn-primary" on:click=move |_| shown.set(None)>"Close"</button>
                </div>
            </Modal>
        })}
    }
    .into_any()
}
