//! Reports → ACH authorizations: every bank account's debit authorization (a signed document
//! or the record of an online agreement), those of accounts deactivated within two years
//! included, filtered by the day it was given and by company (`?from=&to=&company=`; a GET
//! form), and downloaded as one zip with an index. Each download is recorded in the audit trail.

use crate::components::{filter_field, loading_rows, DataTable, ErrorView};
use crate::server_fns::reports::ach_authorizations;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use shared::authorization::{AuthorizationRow, AuthorizationsInput, AUTHORIZATIONS_ZIP_PATH};

const BASE: &str = "/ops/reports/authorizations";

fn filter_form(input: &AuthorizationsInput, error: Option<(String, String)>) -> impl IntoView {
    let e = error.as_ref();
    view! {
        <form class="filters" method="get" action=BASE aria-label="ACH authorizations">
            {filter_field("from", "Given from", "date", input.from.clone(), e)}
            {filter_field("to", "Given to", "date", input.to.clone(), e)}
            {filter_field("company", "Company ID", "search", input.company.clone(), e)}
            <button type="submit" class="btn btn-primary">"Show"</button>
            <A href=BASE attr:class="btn btn-ghost">"Clear"</A>
        </form>
    }
}

fn rows_table(rows: Vec<AuthorizationRow>) -> impl IntoView {
    view! {
        <DataTable label="ACH authorizations" testid="authorizations" class="dense">
            <thead><tr>
                <th scope="col">"Company"</th>
                <th scope="col">"Account"</th>
                <th scope="col">"How"</th>
                <th scope="col">"Signed by"</th>
                <th scope="col">"Signed"</th>
                <th scope="col">"From address"</th>
                <th scope="col">"Status"</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|r| view! {
                    <tr data-method=r.method_id>
                        <th scope="row"><A href=format!("/ops/crm/companies/{}/payment-methods", r.company_code)>{r.company_name.clone()}</A><div class="muted small mono">{r.company_code.clone()}</div></th>
                        <td>{r.account.clone()}<div class="muted small">{r.holder_name.clone()}</div></td>
                        <td>{r.source.label()}</td>
                        <td>{r.signed_by.clone()}</td>
                        <td class="small">{r.signed_at.clone()}</td>
                        <td class="small mono">{r.address.clone().unwrap_or_else(|| "–".into())}</td>
                        <td>{match r.revoked_at {
                            None => view! { <span class="badge badge-green">"Active"</span> }.into_any(),
                            Some(t) => view! { <span class="badge badge-neutral">{format!("Revoked {}", t.format("%b %-d, %Y"))}</span> }.into_any(),
                        }}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </DataTable>
    }
}

#[component]
pub fn AuthorizationsPage() -> impl IntoView {
    let query = use_query_map();
    let input = Memo::new(move |_| {
        let q = query.read();
        AuthorizationsInput {
            from: q.get("from"),
            to: q.get("to"),
            company: q.get("company"),
        }
    });
    let list = Resource::new(move || input.get(), ach_authorizations);
    view! {
        <Title text="ACH authorizations"/>
        <div class="page-head">
            <h1>"ACH authorizations"</h1>
            <p class="subtitle">"Every bank account's debit authorization, kept two years after the account is deactivated, as the network's rules ask a seller to produce them."</p>
        </div>
        <Transition fallback=move || view! { {filter_form(&input.get_untracked(), None)} {loading_rows(7)} }>
            {move || Suspend::new(async move {
                let asked = input.get_untracked();
                match list.await {
                    Err(e) if e.app().field().is_some() => {
                        let error = e.app().field().map(|f| (f.field.clone(), f.message.clone()));
                        view! { {filter_form(&asked, error)} <p class="muted">"Correct the request above to see the authorizations."</p> }.into_any()
                    }
                    Err(e) => view! { {filter_form(&asked, None)} <ErrorView error=e/> }.into_any(),
                    Ok(l) if l.total == 0 => view! {
                        {filter_form(&asked, None)}
                        <div class="empty-state"><p>"No ACH authorization matches."</p><A href=BASE attr:class="btn">"Clear filters"</A></div>
                    }.into_any(),
                    Ok(l) => {
                        let q = asked.query_string();
                        let href = if q.is_empty() { AUTHORIZATIONS_ZIP_PATH.to_string() } else { format!("{AUTHORIZATIONS_ZIP_PATH}?{q}") };
                        let shown = l.rows.len() as u64;
                        view! {
                            {filter_form(&asked, None)}
                            <div class="toolbar spread">
                                <p data-testid="authorizations-count">{format!("{} authorizations match.", shared::format::count(l.total as i64))}</p>
                                <a class="btn btn-primary" href=href download data-testid="authorizations-zip">
                                    {format!("Download zip ({})", shared::format::count(l.total as i64))}
                                </a>
                            </div>
                            <p class="help">"The zip holds each authorization as it was kept and index.csv (who signed, when, from where, the account, each file's SHA-256). Every download is recorded in the audit trail."</p>
                            {rows_table(l.rows)}
                            {(l.total > shown).then(|| view! { <p class="muted small">{format!("Showing the first {shown}; the zip holds all {}.", shared::format::count(l.total as i64))}</p> })}
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
