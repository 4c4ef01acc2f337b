//! System → Payment Methods: every saved method of every company, searched (company name
//! or ID, last 4), filtered on the Company ID column, sorted and paginated on the server.
//! The URL holds all of it.

use crate::components::methods_table::{method_row, more_details};
use crate::components::pager::{
    aria_sort, debounced_navigate, follow_url, list_href, sort_header, sort_link,
};
use crate::components::{loading_rows, DataTable, ErrorView, Pager, SearchBar};
use crate::server_fns::methods::list_payment_methods;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use shared::method::{MethodQuery, MethodSort};
use shared::page::parse_page;

const BASE: &str = "/ops/system/payment-methods";

/// The list's URL for a query (page 1 unless given).
fn href(q: &str, company: &str, sort: &str, dir: &str, page: i64) -> String {
    list_href(
        BASE,
        &[("q", q), ("company", company), ("sort", sort), ("dir", dir)],
        page,
    )
}

#[component]
pub fn PaymentMethodsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &'static str| Memo::new(move |_| query.read().get(k).unwrap_or_default());
    let (q, company, sort, dir) = (param("q"), param("company"), param("sort"), param("dir"));
    let page = Memo::new(move |_| parse_page(query.read().get("page").as_deref()));
    let methods = Resource::new(
        move || MethodQuery {
            q: q.get(),
            company: company.get(),
            sort: sort.get(),
            dir: dir.get(),
            page: page.get(),
        },
        list_payment_methods,
    );

    let search_ref = NodeRef::<leptos::html::Input>::new();
    let company_ref = NodeRef::<leptos::html::Input>::new();
    follow_url(search_ref, q);
    follow_url(company_ref, company);
    let go = debounced_navigate();
    let on_search = {
        let go = go.clone();
        move |ev: leptos::ev::Event| {
            go(href(
                &event_target_value(&ev),
                &company.get_untracked(),
                &sort.get_untracked(),
                &dir.get_untracked(),
                1,
            ))
        }
    };
    let on_company = move |ev: leptos::ev::Event| {
        go(href(
            &q.get_untracked(),
            &event_target_value(&ev),
            &sort.get_untracked(),
            &dir.get_untracked(),
            1,
        ))
    };

    // Headers sort by their column; a second click reverses.
    let current = move || MethodSort::parse(&sort.get()).unwrap_or(MethodSort::Added);
    let descending = move || match dir.get().as_str() {
        "asc" => false,
        "desc" => true,
        _ => current() == MethodSort::Added,
    };
    let active = move |column: MethodSort| move || (current() == column).then(descending);
    let sorted = move |column: MethodSort| {
        move |desc: bool| {
            let dir = if desc { "desc" } else { "asc" };
            href(&q.get(), &company.get(), column.key(), dir, 1)
        }
    };
    let sort_header = move |column: MethodSort, label: &'static str, class: &'static str| {
        sort_header(label, class, active(column), false, sorted(column))
    };

    view! {
        <Title text="Payment Methods"/>
        <div class="page-head">
            <h1>"Payment Methods"</h1>
            <p class="subtitle">"Every saved card and bank account of every company."</p>
        </div>
        <SearchBar action=BASE id="method-search" label="Search payment methods"
            placeholder="Search by company name or ID, or last 4 digits" value=q.get_untracked()
            node_ref=search_ref on_input=Callback::new(on_search)>
            <input type="hidden" name="company" prop:value=move || company.get()/>
        </SearchBar>
        <DataTable label="Payment methods" testid="payment-methods" class="dense">
            <thead>
                <tr>
                    <th scope="col" aria-sort=aria_sort(active(MethodSort::Company))>
                        {sort_link("Company ID", active(MethodSort::Company), false, sorted(MethodSort::Company))}
                        <label for="company-filter" class="sr-only">"Filter by Company ID"</label>
                        <input
                            id="company-filter"
                            class="filter-input"
                            placeholder="Filter ID"
                            autocomplete="off"
                            value=company.get_untracked()
                            node_ref=company_ref
                            on:input=on_company
                        />
                    </th>
                    <th scope="col">"Company"</th>
                    {sort_header(MethodSort::Type, "Type", "")}
                    <th scope="col">"Description"</th>
                    <th scope="col" class="num">"Expiry"</th>
                    {sort_header(MethodSort::Status, "Status", "")}
                    {sort_header(MethodSort::Added, "Added", "")}
                    <th scope="col"><span class="sr-only">"Actions"</span></th>
                </tr>
            </thead>
            <Transition fallback=move || view! { <tbody><tr><td colspan="8">{loading_rows(8)}</td></tr></tbody> }>
                {move || Suspend::new(async move {
                    match methods.await {
                        Err(e) => view! { <tbody><tr><td colspan="8"><ErrorView error=e/></td></tr></tbody> }.into_any(),
                        Ok(page) if page.items.is_empty() => {
                            let filtered = !q.get_untracked().is_empty() || !company.get_untracked().is_empty();
                            view! {
                                <tbody><tr><td colspan="8">
                                    <div class="empty-state">
                                        <p>{if filtered { "No saved payment method matches this search." } else { "No company has a saved payment method yet." }}</p>
                                        {filtered.then(|| view! { <A href=BASE attr:class="btn">"Clear search"</A> })}
                                    </div>
                                </td></tr></tbody>
                            }.into_any()
                        }
                        Ok(page) => {
                            let (offset, shown, total, current, last) = (page.offset(), page.items.len() as i64, page.total, page.page, page.last_page());
                            let base_query = href(&q.get_untracked(), &company.get_untracked(), &sort.get_untracked(), &dir.get_untracked(), 1);
                            let query_part = base_query.split_once('?').map(|(_, qs)| qs.to_string()).unwrap_or_default();
                            view! {
                                <tbody>
                                    {page.items.into_iter().map(|m| { let a = more_details(&m); method_row(m, true, a) }).collect_view()}
                                </tbody>
                                <tfoot><tr><td colspan="8">
                                    <Pager base=BASE query=query_part offset=offset shown=shown total=total page=current last_page=last/>
                                </td></tr></tfoot>
                            }.into_any()
                        }
                    }
                })}
            </Transition>
        </DataTable>
    }
}
