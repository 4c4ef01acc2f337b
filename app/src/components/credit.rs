//! Credit on account above a company's open invoices (staff's Open Invoices tab, the portal):
//! what can be applied and what waits for its payment to clear, "Apply credit" (a dialog of
//! the oldest open invoices, filled oldest first up to the credit) and, where the company's
//! policy takes payments on account, "Pay on account".

use super::focus::focus_field;
use super::modal::{new_key, Modal};
use super::{ErrorBanner, Payer, PaymentDialog};
use crate::server_fns::companies::open_invoices;
use crate::server_fns::credits::{apply_credit, company_credit};
use crate::server_fns::policies::payment_policy;
use leptos::prelude::*;
use shared::credit::{credit_field, proposal, ApplyCreditInput, CreditLineInput, CreditSummary};
use shared::format::date;
use shared::invoice::{InvoiceQuery, OpenInvoice};
use shared::money::{parse_amount, Money};

/// The credit strip. Bumping `version` (a payment, an application) loads it again; applying
/// credit bumps it so the invoices load again too.
#[component]
pub fn CreditOnAccount(payer: Payer, version: RwSignal<u32>) -> impl IntoView {
    let code = payer.company();
    let credit = Resource::new(
        {
            let code = code.clone();
            move || (code.clone(), version.get())
        },
        |(c, _)| company_credit(c),
    );
    let policy = Resource::new(move || code.clone(), |c| payment_policy(c, None));
    let applying = RwSignal::new(None::<CreditSummary>);
    let paying = RwSignal::new(false);
    let payer = StoredValue::new(payer);
    let done = Callback::new(move |changed: bool| {
        applying.set(None);
        paying.set(false);
        if changed {
            version.update(|v| *v += 1);
        }
    });
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let on_account = policy.await.ok().is_some_and(|p| p.in_force().overpayment_allowed);
                let summary = credit.await.ok()?;
                if summary.is_empty() && !on_account {
                    return None;
                }
                let has_credit = summary.available.is_positive();
                let for_dialog = summary.clone();
                Some(view! {
                    <section class="credit-strip" aria-label="Credit on account" data-testid="credit">
                        <div class="credit-figure">
                            <span class="figure-label">"Unapplied credit"</span>
                            <span class="figure-value num" data-testid="credit-available">{summary.available.display()}</span>
                        </div>
                        {summary.waiting.is_positive().then(|| view! {
                            <span class="muted small">{format!("{} more once its payment clears", summary.waiting.display())}</span>
                        })}
                        {(!summary.credits.is_empty()).then(|| view! {
                        <details class="credit-list">
                            <summary>{format!("{} credit{}", summary.credits.len(), if summary.credits.len() == 1 { "" } else { "s" })}</summary>
                            <table class="table compact">
                                <caption class="sr-only">"Credits on account"</caption>
                                <thead><tr>
                                    <th scope="col">"Credit"</th>
                                    <th scope="col">"From"</th>
                                    <th scope="col">"Date"</th>
                                    <th scope="col" class="num">"Amount"</th>
                                    <th scope="col" class="num">"Left"</th>
                                </tr></thead>
                                <tbody>
                                    {summary.credits.into_iter().map(|c| view! {
                                        <tr>
                                            <td class="mono">{c.number}</td>
                                            <td>{c.source}{c.waiting.then(|| view! { " " <span class="badge badge-amber">"Clearing"</span> })}</td>
                                            <td>{date(c.created_at.date_naive())}</td>
                                            <td class="num">{c.amount.display()}</td>
                                            <td class="num">{c.remaining.display()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </details>
                        })}
                        <span class="push-left"></span>
                        {on_account.then(|| view! {
                            <button type="button" class="btn" on:click=move |_| paying.set(true)>"Pay on account"</button>
                        })}
                        <button type="button" class="btn btn-primary" disabled=!has_credit
                            on:click=move |_| applying.set(Some(for_dialog.clone()))>"Apply credit"</button>
                    </section>
                })
            })}
        </Transition>
        {move || applying.get().map(|s| view! { <ApplyCreditDialog payer=payer.get_value() credit=s on_close=done/> })}
        {move || paying.get().then(|| view! { <PaymentDialog payer=payer.get_value() lines=Vec::new() on_close=done/> })}
    }
}

/// Applies credit to the oldest open invoices (one page of them), each amount up to its
/// balance, filled oldest first to start with.
#[component]
fn ApplyCreditDialog(
    payer: Payer,
    credit: CreditSummary,
    on_close: Callback<bool>,
) -> impl IntoView {
    let code = payer.company();
    let invoices = Resource::new(
        move || code.clone(),
        |c| {
            open_invoices(
                c,
                InvoiceQuery {
                    page: 1,
                    ..InvoiceQuery::default()
                },
            )
        },
    );
    let available = credit.available;
    let key = StoredValue::new(new_key());
    let company = StoredValue::new(payer.company());
    let apply = Action::new(move |input: &ApplyCreditInput| apply_credit(input.clone()));
    // Each invoice with what is typed for it.
    let typed = RwSignal::new(Vec::<(OpenInvoice, RwSignal<String>)>::new());
    let client_error = RwSignal::new(None::<shared::FieldError>);
    Effect::new(move |_| {
        if let Some(Ok(page)) = invoices.get() {
            if typed.with_untracked(Vec::is_empty) {
                let items = page.page.items;
                let balances: Vec<Money> = items.iter().map(|i| i.balance).collect();
                let proposed = proposal(available, &balances);
                typed.set(
                    items
                        .into_iter()
                        .zip(proposed)
                        .map(|(i, p)| {
                            let text = if p.is_zero() {
                                String::new()
                            } else {
                                p.amount().to_string()
                            };
                            (i, RwSignal::new(text))
                        })
                        .collect(),
                );
            }
        }
    });
    Effect::new(move |_| match apply.value().get() {
        Some(Ok(_)) => on_close.run(true),
        Some(Err(e)) => {
            if let Some(f) = e.app().field() {
                focus_field(&f.field);
            }
        }
        None => {}
    });
    let error_for = move |field: String| {
        Signal::derive(move || {
            client_error
                .get()
                .filter(|e| e.field == field)
                .map(|e| e.message)
                .or_else(|| {
                    apply
                        .value()
                        .get()
                        .and_then(|r| r.err())
                        .and_then(|e| e.message_for(&field))
                })
        })
    };
    let general = Signal::derive(move || {
        client_error
            .get()
            .filter(|e| !e.field.starts_with("credit_"))
            .map(|e| e.message)
            .or_else(|| {
                apply
                    .value()
                    .get()
                    .and_then(|r| r.err())
                    .and_then(|e| match e.app().field() {
                        Some(f) if f.field.starts_with("credit_") => None,
                        _ => Some(e.to_string()),
                    })
            })
    });
    // What is typed, read as amounts (a line that does not read is left out of the sum).
    let applying = Signal::derive(move || {
        typed.with(|rows| {
            let amounts: Vec<Money> = rows
                .iter()
                .filter_map(|(i, t)| parse_amount("x", &t.get(), i.balance.currency()).ok())
                .collect();
            Money::sum(available.currency(), amounts.iter())
                .unwrap_or(Money::zero(available.currency()))
        })
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if apply.pending().get_untracked() {
            return;
        }
        client_error.set(None);
        let mut lines = Vec::new();
        for (invoice, text) in typed.get_untracked() {
            let raw = text.get_untracked();
            if raw.trim().is_empty() {
                continue;
            }
            let field = credit_field(invoice.id);
            match parse_amount(&field, &raw, invoice.balance.currency()) {
                Err(e) => {
                    focus_field(&e.field);
                    client_error.set(Some(e));
                    return;
                }
                Ok(m) if m.amount() > invoice.balance.amount() => {
                    client_error.set(Some(shared::FieldError::new(
                        field.clone(),
                        format!(
                            "{} has {} left to pay: apply at most that.",
                            invoice.number,
                            invoice.balance.display()
                        ),
                    )));
                    focus_field(&field);
                    return;
                }
                Ok(m) => lines.push(CreditLineInput {
                    invoice_id: invoice.id,
                    amount: m,
                }),
            }
        }
        if applying.get_untracked().amount() > available.amount() {
            client_error.set(Some(shared::FieldError::new(
                "credit",
                format!(
                    "Only {} of credit is left to apply: apply at most that.",
                    available.display()
                ),
            )));
            return;
        }
        apply.dispatch(ApplyCreditInput {
            company: company.get_value(),
            lines,
            idempotency_key: key.get_value(),
        });
    };
    view! {
        <Modal title="Apply credit" on_close=Callback::new(move |_| on_close.run(false)) class="credit-dialog">
            <form class="form" novalidate on:submit=submit>
                <div class="pay-total">
                    <div class="pay-total-label">"Credit to apply"</div>
                    <div class="pay-total-amount num" data-testid="credit-applying">
                        {move || format!("{} of {}", applying.get().display(), available.display())}
                    </div>
                </div>
                <ErrorBanner message=general/>
                <Suspense fallback=|| view! { <p class="loading">"Loading open invoices…"</p> }>
                    {move || Suspend::new(async move {
                        match invoices.await {
                            Err(e) => view! { <p class="field-error">{e.to_string()}</p> }.into_any(),
                            Ok(page) if page.page.items.is_empty() => view! {
                                <p class="muted">"There is no open invoice to apply credit to."</p>
                            }.into_any(),
                            Ok(page) => view! {
                                <table class="table compact credit-lines">
                                    <caption class="sr-only">"Open invoices, oldest due first"</caption>
                                    <thead><tr>
                                        <th scope="col">"Invoice"</th>
                                        <th scope="col">"Due"</th>
                                        <th scope="col" class="num">"Balance"</th>
                                        <th scope="col" class="num">"Apply"</th>
                                    </tr></thead>
                                    <tbody>
                                        {move || typed.get().into_iter().map(|(i, text)| {
                                            let field = credit_field(i.id);
                                            let error = error_for(field.clone());
                                            let error_id = format!("{field}-error");
                                            view! {
                                                <tr>
                                                    <td class="mono">{i.number.clone()}</td>
                                                    <td>{date(i.due_date)}</td>
                                                    <td class="num">{i.balance.display()}</td>
                                                    <td class="num">
                                                        <input id=field.clone() name=field.clone() class="num amount-input" inputmode="decimal" autocomplete="off"
                                                            aria-label=format!("Credit to apply to {}", i.number)
                                                            aria-describedby=error_id.clone()
                                                            aria-invalid=move || error.get().is_some().to_string()
                                                            prop:value=move || text.get()
                                                            on:input=move |ev| text.set(event_target_value(&ev))/>
                                                        <super::FieldMessage id=error_id message=error/>
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                {(page.page.total > page.page.items.len() as i64).then(|| view! {
                                    <p class="help">{format!("The {} oldest of {} open invoices; apply again for the rest.", page.page.items.len(), page.page.total)}</p>
                                })}
                            }.into_any(),
                        }
                    })}
                </Suspense>
                <div class="modal-actions">
                    <button type="button" class="btn" on:click=move |_| on_close.run(false)>"Cancel"</button>
                    <button type="submit" class="btn btn-primary" disabled=move || apply.pending().get()>
                        {move || if apply.pending().get() { "Applying…".to_string() } else { format!("Apply {}", applying.get().display()) }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}
