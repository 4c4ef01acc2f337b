//! Giving money back from a payment (staff): the Refund dialog per invoice line — how much of
//! each, never more than is left, a reason and a note — or, for a payment recorded in the ERP,
//! the same dialog reversing the record (no money moves). Above the seller's approval limit the
//! request waits for an admin (System → Refund approvals). An ACH debit that has not settled
//! is voided instead (taken out, or reversed, as its rail allows), and the receipt says why a
//! refund is not offered.

use crate::components::focus::focus_field;
use crate::components::modal::{new_key, Modal};
use crate::components::payments_history::ReceiptActions;
use crate::components::{ErrorBanner, FieldMessage};
use crate::error::ApiError;
use crate::server_fns::reasons::offered_reasons;
use crate::server_fns::refunds::{give_back, my_refund_allowance, void_debit, void_options};
use leptos::prelude::*;
use shared::format::date;
use shared::money::Money;
use shared::payment::{parse_amount, PaymentStatus, Receipt};
use shared::reason::ReasonKind;
use shared::refund::{
    line_field, RefundInput, RefundKind, RefundLineInput, RefundStatus, RefundView, VoidChoice,
    VoidInput, ON_ACCOUNT_LINE, REVERSAL_REASONS,
};

/// Offers "Refund…" (or "Reverse…") on the receipts of the screen below it, "Void…" on an
/// ACH debit not yet settled, and says why a refund is not offered: `version` is bumped when
/// money was given back or a debit voided, so the list shows it.
pub fn provide_refunds(version: RwSignal<u32>) -> impl IntoView {
    let refunding = RwSignal::new(None::<Receipt>);
    let voiding = RwSignal::new(None::<Receipt>);
    provide_context(ReceiptActions(Callback::new(
        move |(r, close): (Receipt, Callback<()>)| {
            let label = if r.recorded_in_erp {
                "Reverse…"
            } else {
                "Refund…"
            };
            let why_not = (!r.refundable() && !r.recorded_in_erp)
                .then(|| r.status.not_refundable())
                .flatten();
            let voidable = r.status == PaymentStatus::Pending && !r.recorded_in_erp;
            let (to_void, to_refund) = (r.clone(), r.clone());
            view! {
                <div class="receipt-actions push-left">
                    {why_not.map(|why| view! { <p class="muted small" data-testid="refund-why-not">{format!("No refund: {why}")}</p> })}
                    {voidable.then(|| view! {
                        <button type="button" class="btn" data-testid="void-open"
                            on:click=move |_| { close.run(()); voiding.set(Some(to_void.clone())); }>"Void debit…"</button>
                    })}
                    {r.refundable().then(|| view! {
                        <button type="button" class="btn" data-testid="refund-open"
                            on:click=move |_| { close.run(()); refunding.set(Some(to_refund.clone())); }>{label}</button>
                    })}
                </div>
            }
            .into_any()
        },
    )));
    let closed = move |changed: bool| {
        refunding.set(None);
        voiding.set(None);
        if changed {
            version.update(|v| *v += 1);
        }
    };
    view! {
        {move || refunding.get().map(|r| view! { <RefundDialog receipt=r on_close=Callback::new(closed)/> })}
        {move || voiding.get().map(|r| view! { <VoidDialog receipt=r on_close=Callback::new(closed)/> })}
    }
}

/// Voids an ACH debit that has not settled, as its rail allows: the dialog asks the server
/// what that is, offers exactly it (take it out, or reverse it for an erroneous entry) with a
/// reason and a note, or says why neither can be done.
#[component]
fn VoidDialog(receipt: Receipt, on_close: Callback<bool>) -> impl IntoView {
    let payment_id = receipt.payment_id;
    let choice = Resource::new(|| (), move |_| void_options(payment_id));
    let reason = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let send = Action::new(move |input: &VoidInput| void_debit(input.clone()));
    let done = RwSignal::new(None::<String>);
    let edited = RwSignal::new(Vec::<String>::new());
    Effect::new(move |_| match send.value().get() {
        Some(Ok(said)) => done.set(Some(said)),
        Some(Err(e)) => {
            if let Some(f) = e.app().field() {
                focus_field(&f.field);
            }
        }
        None => {}
    });
    let error_for = move |field: &'static str| {
        Signal::derive(move || {
            if edited.with(|e| e.iter().any(|x| x == field)) {
                return None;
            }
            send.value()
                .get()
                .and_then(|r| r.err())
                .and_then(|e| e.message_for(field))
        })
    };
    let banner = Signal::derive(move || {
        send.value()
            .get()
            .and_then(|r| r.err())
            .and_then(
                |e: ApiError| match e.app().field().map(|f| f.field.as_str()) {
                    Some("reason") | Some("note") => None,
                    _ => Some(e.to_string()),
                },
            )
    });
    let invoices = receipt
        .lines
        .iter()
        .map(|l| l.invoice_number.clone())
        .collect::<Vec<_>>()
        .join(", ");
    let amount = receipt.amount.display();
    let title = format!("Void {}", receipt.number);
    let summary = format!(
        "{} ({}) · {} by {}",
        receipt.company_name, receipt.company_code, amount, receipt.method
    );
    view! {
        <Modal title=title on_close=Callback::new(move |_| on_close.run(done.get_untracked().is_some())) class="void-dialog">
            {move || match done.get() {
                Some(said) => view! {
                    <div class="modal-body">
                        <div class="banner banner-success" role="status" data-testid="void-result">{said}</div>
                        <div class="modal-actions">
                            <button type="button" class="btn btn-primary" on:click=move |_| on_close.run(true)>"Done"</button>
                        </div>
                    </div>
                }.into_any(),
                None => {
                    let (invoices, amount, summary) = (invoices.clone(), amount.clone(), summary.clone());
                    view! {
                <Suspense fallback=crate::components::loading_page>
                    {move || {
                        let (invoices, amount, summary) = (invoices.clone(), amount.clone(), summary.clone());
                        Suspend::new(async move {
                        match choice.await {
                            Err(e) => view! { <crate::components::ErrorView error=e/> }.into_any(),
                            Ok(VoidChoice::No(why)) => view! {
                                <div class="modal-body">
                                    <p class="muted">{summary}</p>
                                    <p data-testid="void-why-not">{why}</p>
                                    <div class="modal-actions">
                                        <button type="button" class="btn btn-primary" on:click=move |_| on_close.run(false)>"Close"</button>
                                    </div>
                                </div>
                            }.into_any(),
                            Ok(offer) => {
                                let reverse = matches!(offer, VoidChoice::Reverse { .. });
                                let help = match offer {
                                    VoidChoice::Reverse { until } => format!(
                                        "This debit has gone to the bank, so it can no longer be taken out. The network's rules allow reversing it only when it was made in error, until {}: a credit of {amount} goes back to the account in the next file, and {invoices} open again now.",
                                        date(until)
                                    ),
                                    _ => format!(
                                        "This debit has not reached the bank yet. Voiding takes it out: no money moves, and {invoices} open again by {amount}."
                                    ),
                                };
                                let fixed = reverse.then_some(&REVERSAL_REASONS[..]);
                                let verb = if reverse { "Reverse" } else { "Void" };
                                let submit = move |ev: leptos::ev::SubmitEvent| {
                                    ev.prevent_default();
                                    if send.pending().get_untracked() {
                                        return;
                                    }
                                    edited.set(Vec::new());
                                    send.dispatch(VoidInput {
                                        payment_id,
                                        reverse,
                                        reason: reason.get_untracked(),
                                        note: note.get_untracked(),
                                    });
                                };
                                view! {
                                <form class="form" on:submit=submit novalidate>
                                    <p class="muted">{summary}</p>
                                    <p class="help" data-testid="void-help">{help}</p>
                                    <ErrorBanner message=banner/>
                                    <ReasonAndNote fixed=fixed reason=reason note=note edited=edited
                                        reason_error=error_for("reason") note_error=error_for("note")/>
                                    <div class="modal-actions">
                                        <button type="button" class="btn" on:click=move |_| on_close.run(false)>"Keep it"</button>
                                        <button type="submit" class="btn btn-danger" data-testid="void-submit" disabled=move || send.pending().get()>
                                            <Show when=move || send.pending().get()>
                                                <span class="spinner" aria-hidden="true"></span>
                                            </Show>
                                            {format!("{verb} {amount}")}
                                        </button>
                                    </div>
                                </form>
                                }.into_any()
                            }
                        }
                    })}}
                </Suspense>
                    }.into_any()
                }
            }}
        </Modal>
    }
}

/// What a line's field holds, as an amount (nothing while it is empty or not yet a number).
fn typed(raw: &str, like: Money) -> Option<Money> {
    parse_amount("", raw, like.currency()).ok()
}

#[component]
fn RefundDialog(receipt: Receipt, on_close: Callback<bool>) -> impl IntoView {
    let reversal = receipt.recorded_in_erp;
    let surcharged = receipt.surcharge.is_some();
    let allowance = Resource::new(|| (), |_| my_refund_allowance());
    let lines: Vec<_> = receipt
        .lines
        .iter()
        .filter_map(|l| {
            l.refundable
                .filter(|m| m.is_positive())
                .map(|left| (l.clone(), left, RwSignal::new(String::new())))
        })
        .collect();
    let lines = StoredValue::new(lines);
    // What is unapplied of the payment's credit on account, and what is typed to give back.
    let credit = StoredValue::new(receipt.on_account.as_ref().and_then(|c| {
        c.refundable
            .filter(|m| m.is_positive())
            .map(|left| (c.clone(), left))
    }));
    let credit_typed = RwSignal::new(String::new());
    let currency = receipt.amount.currency();
    let total = Memo::new(move |_| {
        lines.with_value(|ls| {
            Money::sum(
                currency,
                ls.iter()
                    .filter_map(|(l, _, v)| typed(&v.get(), l.applied))
                    .chain(typed(&credit_typed.get(), Money::zero(currency)))
                    .collect::<Vec<_>>()
                    .iter(),
            )
            .unwrap_or_else(|| Money::zero(currency))
        })
    });
    let reason = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let key = StoredValue::new(new_key());
    let payment_id = receipt.payment_id;
    let send = Action::new(move |input: &RefundInput| give_back(input.clone()));
    let done = RwSignal::new(None::<RefundView>);
    // Fields edited since the last answer: their error no longer applies.
    let edited = RwSignal::new(Vec::<String>::new());
    Effect::new(move |_| match send.value().get() {
        Some(Ok(v)) => done.set(Some(v)),
        Some(Err(e)) => {
            if let Some(f) = e.app().field() {
                focus_field(&f.field);
            }
        }
        None => {}
    });
    let error_for = move |field: String| {
        Signal::derive(move || {
            if edited.with(|e| e.contains(&field)) {
                return None;
            }
            send.value()
                .get()
                .and_then(|r| r.err())
                .and_then(|e| e.message_for(&field))
        })
    };
    let banner = Signal::derive(move || {
        send.value()
            .get()
            .and_then(|r| r.err())
            .and_then(|e: ApiError| {
                let field = e.app().field().map(|f| f.field.clone());
                match field.as_deref() {
                    Some("reason") | Some("note") => None,
                    Some(f) if f.starts_with("refund-") => None,
                    _ => Some(e.to_string()),
                }
            })
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if send.pending().get_untracked() {
            return;
        }
        edited.set(Vec::new());
        send.dispatch(RefundInput {
            payment_id,
            lines: lines.with_value(|ls| {
                ls.iter()
                    .map(|(l, _, v)| RefundLineInput {
                        invoice: l.invoice_number.clone(),
                        amount: v.get_untracked(),
                    })
                    .collect()
            }),
            reason: reason.get_untracked(),
            note: note.get_untracked(),
            idempotency_key: key.get_value(),
            on_account: credit_typed.get_untracked(),
        });
    };
    let (title, verb) = if reversal {
        (format!("Reverse {}", receipt.number), "Reverse")
    } else {
        (format!("Refund {}", receipt.number), "Refund")
    };
    let company = format!("{} ({})", receipt.company_name, receipt.company_code);
    let method = receipt.method.clone();
    view! {
        <Modal title=title on_close=Callback::new(move |_| on_close.run(done.get_untracked().is_some())) class="refund-dialog">
            {move || match done.get() {
                Some(v) => view! { <RefundDone refund=v on_close=on_close/> }.into_any(),
                None => {
                    let (company, method) = (company.clone(), method.clone());
                    view! {
                <Suspense fallback=crate::components::loading_page>
                    {move || {
                        let (company, method) = (company.clone(), method.clone());
                        Suspend::new(async move {
                        match allowance.await {
                            Err(e) => view! { <crate::components::ErrorView error=e/> }.into_any(),
                            Ok(a) if !a.may_refund => view! {
                                <div class="modal-body">
                                    <p data-testid="refund-not-allowed">"You may not give money back. An admin can allow it for you under System → Staff Users."</p>
                                    <div class="modal-actions">
                                        <button type="button" class="btn btn-primary" on:click=move |_| on_close.run(false)>"Close"</button>
                                    </div>
                                </div>
                            }.into_any(),
                            Ok(a) => {
                                let limit = a.approval_above;
                                view! {
                                <form class="form" on:submit=submit novalidate>
                                    <p class="muted">{format!("{company} · paid with {method}")}</p>
                                    <p class="help">{if reversal {
                                        "This payment was recorded in the ERP: no money moved through Settle, so nothing is sent back. Reversing it reopens the invoices by the amounts you enter."
                                    } else {
                                        "The money goes back to the method the payment was made with. The invoices reopen by the amounts you enter."
                                    }}</p>
                                    {surcharged.then(|| view! {
                                        <p class="help" data-testid="refund-surcharge">"Each line's share of the card surcharge goes back with it, in proportion."</p>
                                    })}
                                    <ErrorBanner message=banner/>
                                    <table class="table compact refund-lines">
                                        <caption class="sr-only">"How much to give back on each invoice"</caption>
                                        <thead><tr>
                                            <th scope="col">"Invoice"</th>
                                            <th scope="col" class="num">"Paid"</th>
                                            <th scope="col" class="num">"Left to give back"</th>
                                            <th scope="col" class="num">{verb}</th>
                                        </tr></thead>
                                        <tbody>
                                            {lines.get_value().into_iter().map(|(l, left, value)| {
                                                let field = line_field(&l.invoice_number);
                                                let this = field.clone();
                                                let error = error_for(field.clone());
                                                let error_id = format!("{field}-error");
                                                let label = format!("{verb} on {}", l.invoice_number);
                                                view! {
                                                    <tr>
                                                        <td class="mono">{l.invoice_number.clone()}</td>
                                                        <td class="num">{l.applied.display()}</td>
                                                        <td class="num">{left.display()}</td>
                                                        <td class="num refund-amount" class:has-error=move || error.get().is_some()>
                                                            <div class="amount-with-all">
                                                                <input id=field.clone() name=field.clone() inputmode="decimal" class="num"
                                                                    aria-label=label placeholder="0.00"
                                                                    aria-invalid=move || error.get().is_some().to_string()
                                                                    aria-describedby=error_id.clone()
                                                                    prop:value=move || value.get()
                                                                    on:input=move |ev| {
                                                                        value.set(event_target_value(&ev));
                                                                        edited.update(|e| e.push(this.clone()));
                                                                    }/>
                                                                <button type="button" class="btn btn-small"
                                                                    aria-label=format!("All that is left on {}", l.invoice_number)
                                                                    on:click=move |_| value.set(left.amount().to_string())>"All"</button>
                                                            </div>
                                                            <FieldMessage id=error_id message=error/>
                                                        </td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                            {credit.get_value().map(|(c, left)| {
                                                let error = error_for(ON_ACCOUNT_LINE.into());
                                                view! {
                                                    <tr data-testid="refund-on-account">
                                                        <td>"On account "<span class="mono">{c.credit_number}</span></td>
                                                        <td class="num">{c.amount.display()}</td>
                                                        <td class="num">{left.display()}</td>
                                                        <td class="num refund-amount" class:has-error=move || error.get().is_some()>
                                                            <div class="amount-with-all">
                                                                <input id=ON_ACCOUNT_LINE name=ON_ACCOUNT_LINE inputmode="decimal" class="num"
                                                                    aria-label=format!("{verb} of the unapplied credit") placeholder="0.00"
                                                                    aria-invalid=move || error.get().is_some().to_string()
                                                                    aria-describedby="refund-on-account-error"
                                                                    prop:value=move || credit_typed.get()
                                                                    on:input=move |ev| {
                                                                        credit_typed.set(event_target_value(&ev));
                                                                        edited.update(|e| e.push(ON_ACCOUNT_LINE.to_string()));
                                                                    }/>
                                                                <button type="button" class="btn btn-small"
                                                                    aria-label="All of the unapplied credit"
                                                                    on:click=move |_| credit_typed.set(left.amount().to_string())>"All"</button>
                                                            </div>
                                                            <FieldMessage id="refund-on-account-error" message=error/>
                                                        </td>
                                                    </tr>
                                                }
                                            })}
                                        </tbody>
                                    </table>
                                    <ReasonAndNote fixed=None reason=reason note=note edited=edited
                                        reason_error=error_for("reason".into()) note_error=error_for("note".into())/>
                                    {move || (!reversal && total.get().amount() > limit.amount()).then(|| view! {
                                        <div class="banner banner-info" role="status" data-testid="needs-approval">
                                            {format!("Above {}: an admin approves it before any money moves.", limit.display())}
                                        </div>
                                    })}
                                    <div class="modal-actions">
                                        <button type="button" class="btn" on:click=move |_| on_close.run(false)>"Cancel"</button>
                                        <button type="submit" class="btn btn-danger" disabled=move || send.pending().get() || !total.get().is_positive()>
                                            <Show when=move || send.pending().get()>
                                                <span class="spinner" aria-hidden="true"></span>
                                            </Show>
                                            {move || format!("{verb} {}", total.get().display())}
                                        </button>
                                    </div>
                                </form>
                                }.into_any()
                            }
                        }
                    })}}
                </Suspense>
                    }.into_any()
                }
            }}
        </Modal>
    }
}

/// The reason (one of `reasons`) and the staff-only note of a dialog that gives money back.
#[component]
fn ReasonAndNote(
    /// A fixed list (the network's reversal reasons); the seller's refund reasons when `None`.
    fixed: Option<&'static [(&'static str, &'static str)]>,
    reason: RwSignal<String>,
    note: RwSignal<String>,
    /// The fields edited since the last answer (their errors no longer apply).
    edited: RwSignal<Vec<String>>,
    reason_error: Signal<Option<String>>,
    note_error: Signal<Option<String>>,
) -> impl IntoView {
    let reasons = RwSignal::new(
        fixed
            .unwrap_or_default()
            .iter()
            .map(|(c, l)| (c.to_string(), l.to_string()))
            .collect::<Vec<_>>(),
    );
    if fixed.is_none() {
        Effect::new(move |_| {
            leptos::task::spawn_local(async move {
                if let Ok(list) = offered_reasons(ReasonKind::Refund, None).await {
                    reasons.set(list.into_iter().map(|r| (r.code, r.label)).collect());
                }
            });
        });
    }
    view! {
        <div class="field" class:has-error=move || reason_error.get().is_some()>
            <label for="reason">"Reason"</label>
            <select id="reason" name="reason" aria-describedby="reason-error"
                prop:value=move || reason.get()
                on:change=move |ev| { reason.set(event_target_value(&ev)); edited.update(|e| e.push("reason".into())); }>
                <option value="">"Choose…"</option>
                {move || reasons.get().into_iter().map(|(code, label)| {
                    let picked = reason.get_untracked() == code;
                    view! { <option value=code selected=picked>{label}</option> }
                }).collect_view()}
            </select>
            <FieldMessage id="reason-error" message=reason_error/>
        </div>
        <div class="field" class:has-error=move || note_error.get().is_some()>
            <label for="note">"Note"</label>
            <textarea id="note" name="note" rows="2" maxlength="500" aria-describedby="note-help note-error"
                prop:value=move || note.get()
                on:input=move |ev| { note.set(event_target_value(&ev)); edited.update(|e| e.push("note".into())); }></textarea>
            <p class="help" id="note-help">"Kept for staff; the customer does not see it."</p>
            <FieldMessage id="note-error" message=note_error/>
        </div>
    }
}

/// What became of a refund just asked for.
#[component]
fn RefundDone(refund: RefundView, on_close: Callback<bool>) -> impl IntoView {
    let said = match (refund.kind, refund.status) {
        (RefundKind::Reversal, _) => format!(
            "{} reversed: the invoices are reopened by {}. No money moved.",
            refund.number,
            refund.amount.display()
        ),
        (_, RefundStatus::Succeeded) => format!(
            "{} refunded to the payer: the invoices are reopened by that much.",
            refund.amount.display()
        ),
        (_, RefundStatus::Pending) => format!(
            "{} is on its way back ({}). The invoices are reopened; if the refund fails they are closed again.",
            refund.amount.display(),
            refund.number
        ),
        (_, RefundStatus::AwaitingApproval) => format!(
            "{} waits for an admin's approval (System → Refund approvals). No money has moved yet.",
            refund.number
        ),
        (_, _) => format!("{} did not go through.", refund.number),
    };
    let tone = match refund.status {
        RefundStatus::Succeeded => "banner-success",
        RefundStatus::Pending | RefundStatus::AwaitingApproval => "banner-info",
        _ => "banner-error",
    };
    view! {
        <div class="modal-body">
            <div class=format!("banner {tone}") role="status" data-testid="refund-result">{said}</div>
            {refund.failure_message.map(|m| view! { <p class="text-alert">{m}</p> })}
            <div class="modal-actions">
                <button type="button" class="btn btn-primary" on:click=move |_| on_close.run(true)>"Done"</button>
            </div>
        </div>
    }
}
