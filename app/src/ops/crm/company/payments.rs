//! Company → Payments: every payment with its status, method, amount, invoices, who took it
//! and on whose behalf, and its receipt.

use super::{use_company_code, CompanyVersion};
use crate::api::company_payments;
use crate::components::modal::Modal;
use crate::components::{loading_rows, DataTable, ErrorView, PaymentBadge, ReceiptView};
use leptos::prelude::*;
use shared::format::date;
use shared::payment::Receipt;

#[component]
pub fn PaymentsTab() -> impl IntoView {
    let code = use_company_code();
    let version = use_context::<CompanyVersion>().unwrap_or_default();
    let payments = Resource::new(
        move || (code.get(), version.0.get()),
        |(c, _)| company_payments(c),
    );
    let shown = RwSignal::new(None::<Receipt>);
    view! {
        <h2 class="sr-only">"Payments"</h2>
        <Transition fallback=move || loading_rows(7)>
            {move || Suspend::new(async move {
                match payments.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty-state"><p>"No payments yet. Pay open invoices from the Open Invoices tab."</p></div>
                    }.into_any(),
                    Ok(list) => view! {
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
                                    let who = if r.on_behalf { format!("{} (on behalf)", r.taken_by) } else { r.taken_by.clone() };
                                    let label = format!("Receipt {}", r.number);
                                    let receipt = r.clone();
                                    view! {
                                        <tr data-payment=r.number.clone()>
                                            <td class="mono">{r.number.clone()}</td>
                                            <td>{date(r.at.date_naive())}</td>
                                            <td><PaymentBadge status=r.status/>{r.failure_message.clone().map(|m| view! { <div class="muted small">{m}</div> })}</td>
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
                    }.into_any(),
                }
            })}
        </Transition>
        {move || shown.get().map(|r| view! {
            <Modal title=Signal::derive(|| "Receipt".to_string()) on_close=Callback::new(move |_| shown.set(None))>
                <ReceiptView receipt=r/>
                <div class="modal-actions">
                    <button type="button" class="btn" on:click=move |_| { let _ = window().print(); }>"Print receipt"</button>
                    <button type="button" class="btn btn-primary" on:click=move |_| shown.set(None)>"Close"</button>
                </div>
            </Modal>
        })}
    }
}
