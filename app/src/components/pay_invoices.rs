//! Open invoices to pay: the list (searched, filtered by aging, sorted and paged on the
//! server, all of it in the URL), the selection bar with the running total, "select all
//! matching", and the payment dialog. The staff Open Invoices tab and the customer portal
//! both use it; they differ only by the [`Payer`].

use super::credit::CreditOnAccount;
use super::focus::focus_field;
use super::invoice_table::Sorting;
use super::pager::{debounced_navigate, follow_url, list_href};
use super::payment_dialog::PayLine;
use super::{loading_rows, ErrorView, InvoiceTable, Pager, Payer, PaymentDialog, Selection};
use crate::server_fns::companies::{matching_invoices, open_invoices};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};
use shared::format::count;
use shared::invoice::{AgingBucket, InvoiceQuery, InvoiceSearch, InvoiceSort};
use shared::money::Money;
use shared::page::parse_page;
use shared::payment::PaymentRequest;

/// The list's query as the URL holds it, and the URL of another query.
#[derive(Clone, Copy)]
struct ListUrl {
    path: Memo<String>,
    q: Memo<String>,
    aging: Memo<String>,
    sort: Memo<String>,
    dir: Memo<String>,
    page: Memo<i64>,
}

impl ListUrl {
    fn new() -> Self {
        let query = use_query_map();
        let location = use_location();
        let param =
            move |k: &'static str| Memo::new(move |_| query.read().get(k).unwrap_or_default());
        ListUrl {
            path: Memo::new(move |_| location.pathname.get()),
            q: param("q"),
            aging: param("aging"),
            sort: param("sort"),
            dir: param("dir"),
            page: Memo::new(move |_| parse_page(query.read().get("page").as_deref())),
        }
    }

    fn query(&self) -> InvoiceQuery {
        InvoiceQuery {
            q: self.q.get(),
            aging: self.aging.get(),
            sort: self.sort.get(),
            dir: self.dir.get(),
            page: self.page.get(),
        }
    }

    /// The URL of `query` (untracked: for event handlers and links built once).
    fn href(&self, query: &InvoiceQuery) -> String {
        list_href(
            &self.path.get_untracked(),
            &[
                ("q", &query.q),
                ("aging", &query.aging),
                ("sort", &query.sort),
                ("dir", &query.dir),
            ],
            query.page,
        )
    }

    fn with(&self, change: impl FnOnce(&mut InvoiceQuery)) -> String {
        let mut query = self.query_untracked();
        query.page = 1;
        change(&mut query);
        self.href(&query)
    }

    fn query_untracked(&self) -> InvoiceQuery {
        untrack(|| self.query())
    }
}

/// The payer's company's open invoices, one page at a time, ready to select and pay. Bumping
/// `version` (a payment does) loads them again.
#[component]
pub fn OpenInvoicesToPay(
    payer: Payer,
    version: RwSignal<u32>,
    /// The sentence shown when the company has no open invoice at all.
    empty: &'static str,
    /// Where an invoice's own page is (`{base}/{id}`), if it has one.
    #[prop(optional)]
    invoice_base: Option<&'static str>,
) -> impl IntoView {
    let company = payer.company();
    let url = ListUrl::new();
    let invoices = Resource::new(
        move || (company.clone(), url.query(), version.get()),
        |(c, q, _)| open_invoices(c, q),
    );
    // The selection outlives the page it was made on (paging, sorting, filtering).
    let selection = Selection::new();
    selection.offer_reasons(payer.link());
    let notice = RwSignal::new(None::<Notice>);
    let paying = RwSignal::new(None::<Vec<PayLine>>);
    let open_dialog = move |_| {
        notice.set(None);
        let n = selection.count();
        if n > PaymentRequest::MAX_LINES {
            notice.set(Some(Notice::Error(format!(
                "One payment covers at most {} invoices and {} are selected. Clear some, or pay them in more than one payment.",
                count(PaymentRequest::MAX_LINES as i64),
                count(n as i64)
            ))));
            return;
        }
        match selection.lines() {
            Ok(lines) if !lines.is_empty() => paying.set(Some(lines)),
            Ok(_) => {}
            Err(e) => {
                // The invoice may be on another page: then say which.
                if !focus_field(&e.field) {
                    let number = selection.number_of_field(&e.field).unwrap_or_default();
                    notice.set(Some(Notice::Error(format!("{number}: {}", e.message))));
                }
            }
        }
    };
    let closed = Callback::new(move |paid: bool| {
        paying.set(None);
        if paid {
            selection.clear();
            notice.set(None);
            version.update(|v| *v += 1);
        }
    });

    let company_code = StoredValue::new(payer.company());
    let selecting = RwSignal::new(false);
    let select_matching = move |_| {
        selecting.set(true);
        notice.set(None);
        let (code, query) = (company_code.get_value(), url.query_untracked());
        leptos::task::spawn_local(async move {
            let answer = matching_invoices(code, query).await;
            selecting.set(false);
            match answer {
                Err(e) => notice.set(Some(Notice::Error(e.to_string()))),
                Ok(all) => {
                    selection.add(&all.page.items);
                    let n = all.page.total;
                    notice.set(Some(Notice::Info(if n > all.page.items.len() as i64 {
                        format!(
                            "Selected the first {} of {} matching invoices: one payment covers at most {}.",
                            count(all.page.items.len() as i64),
                            count(n),
                            count(PaymentRequest::MAX_LINES as i64)
                        )
                    } else {
                        format!(
                            "Selected all {} matching invoices · {} open.",
                            count(n),
                            all.balance.display()
                        )
                    })));
                }
            }
        });
    };

    // The search box and the aging filter change the URL, which loads the list.
    let search_ref = NodeRef::<leptos::html::Input>::new();
    follow_url(search_ref, url.q);
    let go = debounced_navigate();
    let on_search = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        go(url.with(|q| q.q = value))
    };
    let navigate = leptos_router::hooks::use_navigate();
    let on_aging = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        navigate(&url.with(|q| q.aging = value), Default::default())
    };
    let sorting_href = Callback::new(move |(sort, desc): (InvoiceSort, bool)| {
        url.with(|q| {
            q.sort = sort.key().to_string();
            q.dir = if desc { "desc" } else { "asc" }.to_string();
        })
    });
    let payer = StoredValue::new(payer);

    view! {
        {payer.with_value(|p| p.link().is_none()).then(|| view! { <CreditOnAccount payer=payer.get_value() version=version/> })}
        <leptos_router::components::Form method="GET" action="" attr:class="toolbar invoice-filters" attr:role="search">
            <label for="invoice-search" class="sr-only">"Search invoices"</label>
            <input id="invoice-search" type="search" name="q" class="search" autocomplete="off"
                placeholder="Search by invoice or PO number" maxlength=InvoiceSearch::MAX_SEARCH
                value=url.q.get_untracked() node_ref=search_ref on:input=on_search/>
            // The label and its list wrap together on a narrow screen.
            <span class="filter-group">
                <label for="invoice-aging" class="inline-label">"Aging"</label>
                <select id="invoice-aging" name="aging" on:change=on_aging prop:value=move || url.aging.get()>
                    <option value="">"All"</option>
                    {AgingBucket::ALL.into_iter().map(|b| view! {
                        <option value=b.key() selected=move || url.aging.get() == b.key()>{b.label()}</option>
                    }).collect_view()}
                </select>
            </span>
            <input type="hidden" name="sort" prop:value=move || url.sort.get()/>
            <input type="hidden" name="dir" prop:value=move || url.dir.get()/>
            <button type="submit" class="btn">"Search"</button>
        </leptos_router::components::Form>
        <div class="selection-bar" role="region" aria-label="Selection">
            <span class="selection-summary" data-testid="selection-summary" aria-live="polite">
                {move || selection.summary()}
            </span>
            <button type="button" class="btn btn-ghost" on:click=move |_| { selection.clear(); notice.set(None); } disabled=move || selection.count() == 0>"Clear"</button>
            <button type="button" class="btn btn-primary" on:click=open_dialog disabled=move || selection.count() == 0>"Make Payment"</button>
        </div>
        <div role="status" aria-live="polite" data-testid="selection-notice">
            {move || notice.get().map(|n| n.view())}
        </div>
        <Transition fallback=move || loading_rows(8)>
            {move || Suspend::new(async move {
                match invoices.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(list) => {
                        // The server answered, so the query parsed.
                        let search = InvoiceSearch::parse(&url.query_untracked()).ok();
                        let filtered = search.as_ref().is_some_and(InvoiceSearch::filters);
                        let (sort, descending) = search.map(|s| (s.sort, s.descending)).unwrap_or((InvoiceSort::Due, false));
                        let page = list.page;
                        if page.total == 0 && filtered {
                            let clear = url.with(|q| { q.q.clear(); q.aging.clear(); });
                            return view! {
                                <div class="empty-state">
                                    <p>"No open invoice matches this search."</p>
                                    <leptos_router::components::A href=clear attr:class="btn">"Clear search"</leptos_router::components::A>
                                </div>
                            }.into_any();
                        }
                        let total = page.total;
                        let more = total > page.items.len() as i64;
                        let sorting = Sorting { sort, descending, href: sorting_href };
                        let pager_query = url.href(&InvoiceQuery { page: 1, ..url.query_untracked() });
                        let pager_query = pager_query.split_once('?').map(|(_, qs)| qs.to_string()).unwrap_or_default();
                        let select_label = if total > PaymentRequest::MAX_LINES as i64 {
                            format!("Select the first {} of {} matching", count(PaymentRequest::MAX_LINES as i64), count(total))
                        } else {
                            format!("Select all {} matching", count(total))
                        };
                        let balance: Money = list.balance;
                        view! {
                            {more.then(|| view! {
                                <div class="select-matching">
                                    <button type="button" class="btn btn-small" on:click=select_matching disabled=move || selecting.get()>{select_label}</button>
                                    <span class="muted">{format!("{} matching · {} open", count(total), balance.display())}</span>
                                </div>
                            })}
                            <InvoiceTable invoices=page.items.clone() empty=empty selection=selection
                                invoice_base=invoice_base sorting=sorting
                                figures=(total, balance) noun=if filtered { "matching invoice" } else { "open invoice" }/>
                            {more.then(|| view! {
                                <Pager base=url.path.get_untracked() query=pager_query offset=page.offset()
                                    shown=page.items.len() as i64 total=total page=page.page last_page=page.last_page()/>
                            })}
                        }.into_any()
                    }
                }
            })}
        </Transition>
        {move || paying.get().map(|lines| view! { <PaymentDialog payer=payer.get_value() lines=lines on_close=closed/> })}
    }
}

/// A sentence about the selection: what "select all" did, or why a payment cannot start.
#[derive(Clone)]
enum Notice {
    Info(String),
    Error(String),
}

impl Notice {
    fn view(self) -> impl IntoView {
        match self {
            Notice::Info(m) => view! { <div class="banner banner-info">{m}</div> }.into_any(),
            Notice::Error(m) => {
                view! { <div class="banner banner-error" role="alert">{m}</div> }.into_any()
            }
        }
    }
}
