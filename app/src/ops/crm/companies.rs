//! CRM → Companies: search by Company ID or name, paginated on the server; the URL holds
//! the search and the page.

use crate::components::pager::{debounced_navigate, encode, follow_url};
use crate::components::{loading_rows, DataTable, ErrorView, Pager, SearchBar};
use crate::server_fns::companies::list_companies;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use shared::format::count;
use shared::page::parse_page;

const BASE: &str = "/ops/crm/companies";

#[component]
pub fn CompaniesPage() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| query.read().get("q").unwrap_or_default());
    let page = Memo::new(move |_| parse_page(query.read().get("page").as_deref()));
    let companies = Resource::new(move || (q.get(), page.get()), |(q, p)| list_companies(q, p));

    let input_ref = NodeRef::<leptos::html::Input>::new();
    follow_url(input_ref, q);
    let go = debounced_navigate();
    let on_input = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        go(if value.trim().is_empty() {
            BASE.to_string()
        } else {
            format!("{BASE}?q={}", encode(value.trim()))
        });
    };

    view! {
        <Title text="Companies"/>
        <div class="page-head">
            <h1>"Companies"</h1>
            <p class="subtitle">"Find a customer company by its Company ID or name."</p>
        </div>
        <SearchBar action=BASE id="company-search" label="Search companies"
            placeholder="Search by Company ID or name" value=q.get_untracked()
            node_ref=input_ref on_input=Callback::new(on_input)/>
        <Transition fallback=move || loading_rows(6)>
            {move || Suspend::new(async move {
                match companies.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(page) if page.items.is_empty() => {
                        let text = if q.get_untracked().is_empty() {
                            "There are no companies yet.".to_string()
                        } else {
                            format!("No company matches “{}”.", q.get_untracked())
                        };
                        view! {
                            <div class="empty-state">
                                <p>{text}</p>
                                <A href=BASE attr:class="btn">"Clear search"</A>
                            </div>
                        }.into_any()
                    }
                    Ok(page) => {
                        let query_part = if q.get_untracked().is_empty() { String::new() } else { format!("q={}", encode(&q.get_untracked())) };
                        let (offset, shown, total, current, last) = (page.offset(), page.items.len() as i64, page.total, page.page, page.last_page());
                        let total_is = page.total_is;
                        view! {
                            <DataTable label="Companies" testid="companies">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Company ID"</th>
                                            <th scope="col">"Name"</th>
                                            <th scope="col" class="num">"Open balance"</th>
                                            <th scope="col" class="num">"Open invoices"</th>
                                            <th scope="col" class="num">"Overdue"</th>
                                            <th scope="col"><span class="sr-only">"Actions"</span></th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {page.items.into_iter().map(|c| {
                                            let href = format!("{BASE}/{}", c.code);
                                            let label = format!("More details for {}", c.name);
                                            let overdue_class = if c.overdue.is_positive() { "num overdue" } else { "num muted" };
                                            view! {
                                                <tr data-company=c.code.to_string()>
                                                    <td class="mono">{c.code.to_string()}</td>
                                                    <td>{c.name.clone()}</td>
                                                    <td class="num">{c.open_balance.display()}</td>
                                                    <td class="num">{count(c.open_invoices)}</td>
                                                    <td class=overdue_class>{c.overdue.display()}</td>
                                                    <td class="actions-cell">
                                                        <A href=href attr:class="btn btn-small" attr:aria-label=label>"More Details"</A>
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
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
