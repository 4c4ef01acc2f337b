//! Saved payment methods as tables: System → Payment Methods (with the company columns and
//! sortable headers), and one company's methods — its Payment Methods tab for staff, My
//! payment methods in the portal — with adding a new one ([`SavedMethods`]).

use super::modal::Modal;
use super::{loaded, AddMethodForm, Payer};
use crate::server_fns::methods::saved_methods;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::format::date;
use shared::method::{MethodOption, MethodStatus, MethodSummary};
use shared::MethodId;

/// Where a method's detail page is.
pub fn method_href(id: MethodId) -> String {
    format!("/ops/system/payment-methods/{id}")
}

/// A method's status as a badge.
#[component]
pub fn MethodStatusBadge(status: MethodStatus) -> impl IntoView {
    view! { <span class=format!("badge {}", status.tone()) data-testid="method-status">{status.label()}</span> }
}

/// `04/2029` for a card, an em dash otherwise.
pub fn expiry_label(m: &MethodSummary) -> String {
    m.method.expiry().unwrap_or_else(|| "—".into())
}

/// Staff's action on a method row: its detail page.
pub fn more_details(m: &MethodSummary) -> AnyView {
    let details = format!("More details for {}", m.method.label());
    view! { <A href=method_href(m.method.id) attr:class="btn btn-small" attr:aria-label=details>"More Details"</A> }
        .into_any()
}

/// One method as a table row, with `actions` in its last cell.
pub fn method_row(m: MethodSummary, show_company: bool, actions: AnyView) -> impl IntoView {
    let label = m.method.label();
    let company = show_company.then(|| {
        view! {
            <td class="mono">{m.company_code.to_string()}</td>
            <td class="wrap">{m.company_name.clone()}</td>
        }
    });
    view! {
        <tr data-method=m.method.id.to_string() data-last4=m.method.last4.clone()>
            {company}
            <td>{m.method.kind().label()}</td>
            <td>
                {label}
                {m.method.is_default.then(|| view! { " " <span class="badge badge-neutral">"Default"</span> })}
            </td>
            <td class="num">{expiry_label(&m)}</td>
            <td><MethodStatusBadge status=m.status/></td>
            <td class="added-cell">
                {date(m.added_at.date_naive())}
                <span class="muted">{m.added_by.clone().map(|b| format!("by {b}")).unwrap_or_else(|| "with the demo data".into())}</span>
            </td>
            <td class="actions-cell">{actions}</td>
        </tr>
    }
}

/// One company's saved methods, active and inactive, each row with the caller's actions,
/// and *Add a payment method* while `adding` is set: a company's Payment Methods tab (staff
/// on the customer's behalf) and the portal's My payment methods.
#[component]
pub fn SavedMethods(
    payer: Payer,
    /// Bumped to load the list again.
    version: RwSignal<u32>,
    #[prop(into)] testid: String,
    /// What an empty list says.
    empty: &'static str,
    row_actions: Callback<MethodSummary, AnyView>,
    adding: RwSignal<bool>,
    on_added: Callback<MethodOption>,
) -> impl IntoView {
    let company = payer.company();
    let methods = Resource::new(
        move || (company.clone(), version.get()),
        |(c, _)| saved_methods(c),
    );
    let testid = StoredValue::new(testid);
    let payer = StoredValue::new(payer);
    view! {
        {loaded(
            methods,
            move || view! {
                <div class="empty-state">
                    <p>{empty}</p>
                    <button type="button" class="btn" on:click=move |_| adding.set(true)>"Add a payment method"</button>
                </div>
            }.into_any(),
            move |list: Vec<MethodSummary>| view! {
                <super::DataTable label="Payment methods" testid=testid.get_value()>
                    <thead><tr>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Description"</th>
                        <th scope="col" class="num">"Expiry"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Added"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr></thead>
                    <tbody>
                        {list.into_iter().map(|m| { let a = row_actions.run(m.clone()); method_row(m, false, a) }).collect_view()}
                    </tbody>
                </super::DataTable>
            },
        )}
        {move || adding.get().then(|| view! {
            <Modal title="Add a payment method" on_close=Callback::new(move |_| adding.set(false)) class="payment-dialog">
                <AddMethodForm payer=payer.get_value() on_added=on_added on_cancel=Callback::new(move |_| adding.set(false))/>
            </Modal>
        })}
    }
}
