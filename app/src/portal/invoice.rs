//! Portal → an invoice: its figures and the payments applied to it. Only the customer's own
//! company's invoices exist here; any other id is "not found".

use crate::components::{loading_page, use_id_param, DataTable, ErrorView, PaymentBadge};
use crate::server_fns::companies::get_invoice;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use shared::format::date;

#[component]
pub fn PortalInvoice() -> impl IntoView {
    let id = use_id_param::<shared::InvoiceId>();
    let detail = Resource::new(move || id.get(), get_invoice);
    view! {
        <nav class="breadcrumbs" aria-label="Breadcrumb">
            <A href="/portal">"Invoices"</A>
            <span aria-hidden="true">" / "</span>
            <span aria-current="page">"Invoice"</span>
        </nav>
        <Suspense fallback=loading_page>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => {
                        #[cfg(feature = "ssr")]
                        crate::request::set_page_status(crate::request::status_for(e.app()));
                        view! { <Title text="Not found"/><ErrorView error=e/> }.into_any()
                    }
                    Ok(d) => {
                        let i = d.invoice;
                        view! {
                            <Title text=format!("Invoice {}", i.number)/>
                            <div class="page-head">
                                <h1>{format!("Invoice {}", i.number)}</h1>
                                <p class="subtitle">{i.po_number.clone().map(|p| format!("PO {p}")).unwrap_or_default()}</p>
                            </div>
                            <section class="card-panel" aria-labelledby="invoice-figures">
                                <h2 id="invoice-figures">"Details"</h2>
                                <dl class="detail-grid">
                                    <dt>"Issued"</dt><dd>{date(i.issue_date)}</dd>
                                    <dt>"Due"</dt><dd>{date(i.due_date)}</dd>
                                    <dt>"Days overdue"</dt><dd>{i.days_overdue}</dd>
                                    <dt>"Total"</dt><dd class="num-left">{i.total.display()}</dd>
                                    <dt>"Balance"</dt><dd class="num-left" data-testid="invoice-balance">{i.balance.display()}</dd>
                                </dl>
                            </section>
                            <section aria-labelledby="invoice-payments">
                                <h2 id="invoice-payments">"Payments"</h2>
                                {if d.payments.is_empty() {
                                    view! { <div class="empty-state"><p>"No payments on this invoice yet."</p></div> }.into_any()
                                } else {
                                    view! {
                                        <DataTable label="Payments on this invoice">
                                            <thead><tr>
                                                <th scope="col">"Payment"</th>
                                                <th scope="col">"Date"</th>
                                                <th scope="col">"Status"</th>
                                                <th scope="col" class="num">"Applied"</th>
                                            </tr></thead>
                                            <tbody>
                                                {d.payments.into_iter().map(|p| view! {
                                                    <tr>
                                                        <td class="mono"><A href=format!("/portal/payments/{}", p.payment_id)>{p.number}</A></td>
                                                        <td>{date(p.at.date_naive())}</td>
                                                        <td><PaymentBadge status=p.status/></td>
                                                        <td class="num">{p.applied.display()}</td>
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </DataTable>
                                    }.into_any()
                                }}
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
