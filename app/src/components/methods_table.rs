//! A table of saved payment methods: System → Payment Methods (with the company columns and
//! sortable headers) and a company's Payment Methods tab.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::format::date;
use shared::method::{MethodStatus, MethodSummary};
use shared::payment::MethodKind;

/// Where a method's detail page is.
pub fn method_href(id: i64) -> String {
    format!("/ops/system/payment-methods/{id}")
}

/// A method's status as a badge.
#[component]
pub fn MethodStatusBadge(status: MethodStatus) -> impl IntoView {
    view! { <span class=format!("badge {}", status.tone()) data-testid="method-status">{status.label()}</span> }
}

/// `Card` / `ACH`.
pub fn kind_label(kind: MethodKind) -> &'static str {
    match kind {
        MethodKind::Card => "Card",
        MethodKind::Ach => "ACH",
    }
}

/// `04/2029` for a card, an em dash otherwise.
pub fn expiry_label(m: &MethodSummary) -> String {
    match (m.method.exp_month, m.method.exp_year) {
        (Some(mo), Some(y)) => format!("{mo:02}/{y}"),
        _ => "—".into(),
    }
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
            <td>{kind_label(m.method.kind)}</td>
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

/// One company's methods (its Payment Methods tab, the portal's My payment methods): each row
/// with the caller's actions.
#[component]
pub fn CompanyMethodsTable(
    #[prop(into)] testid: String,
    rows: Vec<(MethodSummary, AnyView)>,
) -> impl IntoView {
    view! {
        <super::DataTable label="Payment methods" testid=testid>
            <thead><tr>
                <th scope="col">"Type"</th>
                <th scope="col">"Description"</th>
                <th scope="col" class="num">"Expiry"</th>
                <th scope="col">"Status"</th>
                <th scope="col">"Added"</th>
                <th scope="col"><span class="sr-only">"Actions"</span></th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|(m, actions)| method_row(m, false, actions)).collect_view()}
            </tbody>
        </super::DataTable>
    }
}
