//! Company → Contacts: the people at the company.

use super::use_company_code;
use crate::components::{loading_rows, DataTable, ErrorView};
use crate::server_fns::companies::get_company;
use leptos::prelude::*;

#[component]
pub fn ContactsTab() -> impl IntoView {
    let code = use_company_code();
    let detail = Resource::new(move || code.get(), get_company);
    view! {
        <h2 class="sr-only">"Contacts"</h2>
        <Transition fallback=move || loading_rows(4)>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(c) if c.contacts.is_empty() => view! {
                        <div class="empty-state"><p>"No contacts are on file for this company."</p></div>
                    }.into_any(),
                    Ok(c) => view! {
                        <DataTable label="Contacts">
                                <thead><tr>
                                    <th scope="col">"Name"</th><th scope="col">"Title"</th>
                                    <th scope="col">"Email"</th><th scope="col">"Phone"</th>
                                </tr></thead>
                                <tbody>
                                    {c.contacts.into_iter().map(|p| view! {
                                        <tr>
                                            <td>{p.name}</td>
                                            <td>{p.title.unwrap_or_default()}</td>
                                            <td>{p.email.clone().map(|e| view! { <a href=format!("mailto:{e}")>{e.clone()}</a> })}</td>
                                            <td class="mono">{p.phone.unwrap_or_default()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </DataTable>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
