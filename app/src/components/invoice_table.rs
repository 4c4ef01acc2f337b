//! The open-invoice table, shared by the staff company page and the customer portal. With a
//! [`Selection`] it has a checkbox per row, select-all, and the amount to pay on each row.

use super::pager::sort_header;
use super::selection::Selection;
use super::DataTable;
use leptos::prelude::*;
use shared::format::{count, date};
use shared::invoice::{InvoiceSort, OpenInvoice};
use shared::money::Money;
use shared::payment::{amount_field, parse_amount, reason_field, reason_note_field};
use shared::reason::{ReasonCode, ReasonKind, OTHER};

/// How the list is sorted and the URL of each order (see [`super::pager::sort_header`]).
#[derive(Clone)]
pub struct Sorting {
    pub sort: InvoiceSort,
    pub descending: bool,
    pub href: Callback<(InvoiceSort, bool), String>,
}

#[component]
pub fn InvoiceTable(
    /// The invoices shown (one page of the list).
    invoices: Vec<OpenInvoice>,
    /// The sentence shown when there are none.
    #[prop(into)]
    empty: String,
    /// Makes the rows selectable for payment.
    #[prop(optional)]
    selection: Option<Selection>,
    /// Where an invoice's own page is (`{base}/{id}`): the number becomes a link.
    #[prop(optional_no_strip)]
    invoice_base: Option<&'static str>,
    /// Makes the columns sortable.
    #[prop(optional)]
    sorting: Option<Sorting>,
    /// The count and balance of the whole list (every page), for the footer; those of the
    /// rows shown when not given.
    #[prop(optional)]
    figures: Option<(i64, Money)>,
    /// The footer's noun: "open invoice" or "matching invoice".
    #[prop(default = "open invoice")]
    noun: &'static str,
) -> impl IntoView {
    let Some(currency) = invoices.first().map(|i| i.balance.currency()) else {
        return view! { <div class="empty-state"><p>{empty}</p></div> }.into_any();
    };
    let (n, balance) = figures.unwrap_or_else(|| {
        (
            invoices.len() as i64,
            Money::sum(currency, invoices.iter().map(|i| &i.balance))
                .unwrap_or(Money::zero(currency)),
        )
    });
    let page = StoredValue::new(invoices.clone());
    let select_all = selection.map(|sel| {
        let state = move || page.with_value(|p| sel.page_state(p));
        view! {
            <th scope="col" class="check">
                <input
                    type="checkbox"
                    aria-label="Select all invoices on this page"
                    prop:checked=move || state().0
                    prop:indeterminate=move || state().1
                    on:change=move |_| page.with_value(|p| sel.toggle_page(p))
                />
            </th>
        }
    });
    let header = move |column: InvoiceSort, label: &'static str, class: &'static str| match &sorting
    {
        Some(s) => {
            let active = (s.sort == column).then_some(s.descending);
            let href = s.href;
            sort_header(
                label,
                class,
                move || active,
                column.descending_first(),
                move |desc| href.run((column, desc)),
            )
            .into_any()
        }
        None => view! { <th scope="col" class=class>{label}</th> }.into_any(),
    };
    let pay_header = selection.map(|_| view! { <th scope="col" class="num pay-col">"Pay"</th> });
    let footer_span = if selection.is_some() { 7 } else { 6 };
    let footer_label = format!("{} {noun}{}", count(n), if n == 1 { "" } else { "s" });
    view! {
        <DataTable label="Open invoices" testid="open-invoices">
            <thead>
                <tr>
                    {select_all}
                    {header(InvoiceSort::Number, "Invoice", "")}
                    <th scope="col" class="hide-phone">"PO"</th>
                    <th scope="col" class="hide-phone">"Issued"</th>
                    {header(InvoiceSort::Due, "Due", "")}
                    {header(InvoiceSort::DaysOverdue, "Days overdue", "num hide-phone")}
                    <th scope="col" class="num hide-phone">"Total"</th>
                    {header(InvoiceSort::Balance, "Balance", "num")}
                    {pay_header}
                </tr>
            </thead>
            <tbody>
                {invoices.into_iter().map(|inv| {
                    let aging = inv.aging();
                    let id = inv.id;
                    let number = inv.number.clone();
                    let checkbox = selection.map(|sel| {
                        let inv = inv.clone();
                        view! {
                            <td class="check">
                                <input
                                    type="checkbox"
                                    aria-label=format!("Select {}", inv.number)
                                    prop:checked=move || sel.is_selected(id)
                                    on:change=move |_| sel.toggle(&inv)
                                />
                            </td>
                        }
                    });
                    let pay_cell = selection.map(|sel| view! { <PayCell sel=sel invoice=inv.clone()/> });
                    view! {
                        <tr data-invoice=number.clone() class:selected=move || selection.is_some_and(|s| s.is_selected(id))>
                            {checkbox}
                            <td class="mono">{match invoice_base {
                                Some(base) => view! { <a href=format!("{base}/{id}")>{number.clone()}</a> }.into_any(),
                                None => number.clone().into_any(),
                            }}</td>
                            <td class="mono muted hide-phone">{inv.po_number.clone().unwrap_or_else(|| "—".into())}</td>
                            <td class="hide-phone">{date(inv.issue_date)}</td>
                            <td>{date(inv.due_date)}</td>
                            <td class="num hide-phone">
                                <span class=format!("aging aging-{}", aging.css()) title=aging.label()>
                                    {if inv.days_overdue > 0 { count(inv.days_overdue) } else { "Current".to_string() }}
                                </span>
                            </td>
                            <td class="num hide-phone">{inv.total.display()}</td>
                            <td class="num strong" data-col="balance">{inv.balance.display()}</td>
                            {pay_cell}
                        </tr>
                    }
                }).collect_view()}
            </tbody>
            <tfoot>
                <tr>
                    // On a phone four columns are hidden, so the label spans four fewer.
                    <th scope="row" class="hide-phone" colspan=footer_span>{footer_label.clone()}</th>
                    <th scope="row" class="show-phone" colspan=footer_span - 4>{footer_label}</th>
                    <td class="num strong" data-testid="balance-total">{balance.display()}</td>
                    {selection.map(|_| view! { <td></td> })}
                </tr>
            </tfoot>
        </DataTable>
    }
    .into_any()
}

/// The amount to pay on one selected invoice, and the reason when it is less than the balance.
#[component]
fn PayCell(sel: Selection, invoice: OpenInvoice) -> impl IntoView {
    let id = invoice.id;
    let balance = invoice.balance;
    let amount_label = StoredValue::new(format!("Amount to pay on {}", invoice.number));
    let reason_label = StoredValue::new(format!("Reason for paying less on {}", invoice.number));
    let amount = move || sel.amounts.with(|m| m.get(&id).cloned());
    let short = move || {
        amount()
            .and_then(|a| parse_amount("x", &a, balance.currency()).ok())
            .is_some_and(|m| m.amount() < balance.amount())
    };
    let note_label = StoredValue::new(format!("Comment on paying less on {}", invoice.number));
    let amount_error = move || sel.error_for(&amount_field(id));
    let reason_error = move || sel.error_for(&reason_field(id));
    let note_error = move || sel.error_for(&reason_note_field(id));
    let chosen = move || sel.codes.with(|m| m.get(&id).cloned().unwrap_or_default());
    // Until the list is in, "Other" (always offered) lets the payer go on.
    let offered = move || {
        sel.offered.get().unwrap_or_else(|| {
            vec![ReasonCode {
                kind: ReasonKind::ShortPay,
                code: OTHER.into(),
                label: "Other".into(),
                active: true,
            }]
        })
    };
    view! {
        <td class="num pay-col">
            <Show when=move || amount().is_some()>
                <div class="pay-inputs">
                    <input
                        class="amount-input num"
                        class:invalid=move || amount_error().is_some()
                        inputmode="decimal"
                        name=amount_field(id)
                        aria-label=amount_label.get_value()
                        aria-invalid=move || amount_error().is_some().to_string()
                        prop:value=move || amount().unwrap_or_default()
                        on:input=move |ev| {
                            let v = event_target_value(&ev);
                            sel.amounts.update(|m| { m.insert(id, v); });
                        }
                    />
                    {move || amount_error().map(|m| view! { <p class="field-error" role="alert"><span class="icon-error" aria-hidden="true">"!"</span>{m}</p> })}
                    <Show when=short>
                        <select
                            class="reason-input"
                            class:invalid=move || reason_error().is_some()
                            name=reason_field(id)
                            aria-label=reason_label.get_value()
                            aria-invalid=move || reason_error().is_some().to_string()
                            on:change=move |ev| {
                                let v = event_target_value(&ev);
                                sel.codes.update(|m| { m.insert(id, v); });
                            }
                        >
                            <option value="" selected=move || chosen().is_empty()>"Reason for paying less…"</option>
                            {move || offered().into_iter().map(|r| {
                                let code = r.code.clone();
                                let picked = chosen() == code;
                                view! { <option value=code selected=picked>{r.label}</option> }
                            }).collect_view()}
                        </select>
                        {move || reason_error().map(|m| view! { <p class="field-error" role="alert"><span class="icon-error" aria-hidden="true">"!"</span>{m}</p> })}
                        <input
                            class="reason-input"
                            class:invalid=move || note_error().is_some()
                            name=reason_note_field(id)
                            maxlength="200"
                            placeholder=move || if chosen() == OTHER { "Comment (say why)" } else { "Comment (optional)" }
                            aria-label=note_label.get_value()
                            aria-invalid=move || note_error().is_some().to_string()
                            prop:value=move || sel.reasons.with(|m| m.get(&id).cloned().unwrap_or_default())
                            on:input=move |ev| {
                                let v = event_target_value(&ev);
                                sel.reasons.update(|m| { m.insert(id, v); });
                            }
                        />
                        {move || note_error().map(|m| view! { <p class="field-error" role="alert"><span class="icon-error" aria-hidden="true">"!"</span>{m}</p> })}
                    </Show>
                </div>
            </Show>
        </td>
    }
}
