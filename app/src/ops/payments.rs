//! Payments: every payment of every company, newest first, filtered by day, status, kind of
//! method and money given back (refunded, reversed, awaiting approval, disputed), in the URL
//! (`?from=&to=&status=&method=&back=&page=`; a GET form, so it works before the page is
//! interactive), with a CSV export of the same rows and columns (refund and dispute columns
//! included).

use crate::components::pager::list_href;
use crate::components::{loading_rows, DataTable, ErrorView, Pager, PaymentBadge};
use crate::server_fns::payments::all_payments;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use shared::import::PAYMENTS_CSV_PATH;
use shared::report::{
    status_key, BackFilter, MethodFilter, PaymentFilter, PaymentFilterInput, STATUSES,
};

const BASE: &str = "/ops/payments";

#[component]
pub fn PaymentsPage() -> impl IntoView {
    let query = use_query_map();
    let input = Memo::new(move |_| {
        let q = query.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        PaymentFilterInput {
            from: get("from"),
            to: get("to"),
            status: get("status"),
            method: get("method"),
            back: get("back"),
            page: get("page"),
        }
    });
    let rows = Resource::new(move || input.get(), all_payments);
    let params = move |i: &PaymentFilterInput| {
        vec![
            ("from", i.from.clone()),
            ("to", i.to.clone()),
            ("status", i.status.clone()),
            ("method", i.method.clone()),
            ("back", i.back.clone()),
        ]
    };
    let href = move |page: i64| {
        let i = input.get();
        let p = params(&i);
        let refs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
        list_href(BASE, &refs, page)
    };
    let csv_href = move || {
        let i = input.get();
        let p = params(&i);
        let refs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
        list_href(PAYMENTS_CSV_PATH, &refs, 1)
    };
    // The filter's mistakes, from the URL by the rule the server applies (never by reading the
    // rows: a resource read outside its Suspense can deadlock server rendering).
    let filter_error = Memo::new(move |_| PaymentFilter::parse(&input.get()).err());
    let error_for = move |f: &'static str| {
        Signal::derive(move || {
            filter_error
                .get()
                .filter(|e| e.field == f)
                .map(|e| e.message)
        })
    };
    view! {
        <Title text="All payments"/>
        <div class="page-head with-action">
            <div>
                <h1>"All payments"</h1>
                <p class="subtitle">"Every payment of every company: taken by staff, made in the portal, or recorded in the ERP. Dates are UTC."</p>
            </div>
            <a class="btn" href=csv_href download data-testid="export-csv">"Export CSV"</a>
        </div>
        <form class="filters" method="get" action=BASE aria-label="Filter payments">
            <div class="field" class:has-error=move || error_for("from").get().is_some()>
                <label for="from">"From"</label>
                <input type="date" id="from" name="from" prop:value=move || input.get().from aria-describedby="from-error"/>
                <crate::components::FieldMessage id="from-error" message=error_for("from")/>
            </div>
            <div class="field" class:has-error=move || error_for("to").get().is_some()>
                <label for="to">"To"</label>
                <input type="date" id="to" name="to" prop:value=move || input.get().to aria-describedby="to-error"/>
                <crate::components::FieldMessage id="to-error" message=error_for("to")/>
            </div>
            <div class="field">
                <label for="status">"Status"</label>
                <select id="status" name="status" prop:value=move || input.get().status>
                    <option value="">"Any status"</option>
                    {STATUSES.into_iter().map(|s| view! { <option value=status_key(s)>{s.label()}</option> }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="method">"Method"</label>
                <select id="method" name="method" prop:value=move || input.get().method>
                    <option value="">"Any method"</option>
                    {MethodFilter::ALL.into_iter().map(|m| view! { <option value=m.key()>{m.label()}</option> }).collect_view()}
                </select>
            </div>
            <div class="field" class:has-error=move || error_for("back").get().is_some()>
                <label for="back">"Money back"</label>
                <select id="back" name="back" prop:value=move || input.get().back aria-describedby="back-error">
                    <option value="">"Any"</option>
                    {BackFilter::ALL.into_iter().map(|b| view! { <option value=b.key()>{b.label()}</option> }).collect_view()}
                </select>
                <crate::components::FieldMessage id="back-error" message=error_for("back")/>
            </div>
            <button type="submit" class="btn btn-primary">"Filter"</button>
            <A href=BASE attr:class="btn btn-ghost">"Clear"</A>
        </form>
        <Transition fallback=move || loading_rows(8)>
            {move || Suspend::new(async move {
                match rows.await {
                    Err(e) if e.app().field().is_some() => view! { <p class="muted">"Correct the filter above to see payments."</p> }.into_any(),
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! {
                        <div class="empty-state"><p>"No payment matches these filters."</p><A href=BASE attr:class="btn">"Clear filters"</A></div>
                    }.into_any(),
                    Ok(page) => {
                        let (offset, shown, total, current, last, total_is) =
                            (page.offset(), page.items.len() as i64, page.total, page.page, page.last_page(), page.total_is);
                        let query_part = href(1).split_once('?').map(|(_, q)| q.to_string()).unwrap_or_default();
                        view! {
                            <DataTable label="Payments" testid="all-payments" class="dense">
                                <thead><tr>
                                    <th scope="col">"Payment"</th>
                                    <th scope="col">"Date"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col">"Company"</th>
                                    <th scope="col">"Method"</th>
                                    <th scope="col">"Invoices"</th>
                                    <th scope="col">"Taken by"</th>
                                    <th scope="col" class="num">"Amount"</th>
                                </tr></thead>
                                <tbody>
                                    {page.items.into_iter().map(|p| {
                                        let company = p.company_name.clone();
                                        view! {
                                        <tr data-payment=p.number.clone()>
                                            <td class="mono">{p.number.clone()}</td>
                                            <td>{p.created_at.format("%Y-%m-%d %H:%M").to_string()}</td>
                                            <td><PaymentBadge status=p.status/>
                                                {p.refunded.is_positive().then(|| view! { <div class="small text-alert" data-testid="refunded">{format!("Refunded {}", p.refunded.display())}</div> })}
                                                {p.dispute.clone().map(|d| view! { <div class="small text-alert">{format!("Disputed: {d}")}</div> })}</td>
                                            <td>
                                                <A href=format!("/ops/crm/companies/{}/payments", p.company_code)>{company}</A>
                                                <div class="muted small mono">{p.company_code.clone()}</div>
                                            </td>
                                            <td>{p.method.clone()}</td>
                                            <td class="small wrap">{p.invoices_text()}</td>
                                            <td>{p.taken_by_text()}<div class="muted small">{p.consent.clone()}</div></td>
                                            <td class="num">{p.amount.display()}</td>
                                        </tr>
                                    }}).collect_view()}
                                </tbody>
                            </DataTable>
                            <Pager base=BASE query=query_part offset=offset shown=shown total=total total_is=total_is page=current last_page=last/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
