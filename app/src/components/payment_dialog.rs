//! Make Payment: the selected total, the company's active saved methods, the customer's
//! authorization, and the result — a receipt, or the gateway's reason for a decline with
//! everything kept to try another method.

use super::focus::focus_field;
use super::modal::{new_key, Modal};
use super::{AddMethodForm, ErrorBanner, FieldMessage, Payer, ReceiptView};
use crate::server_fns::methods::payment_options;
use crate::server_fns::payments::pay_invoices;
use crate::server_fns::policies::payment_policy;

use crate::error::ApiError;
use leptos::prelude::*;
use shared::error::FieldError;
use shared::invoice::OpenInvoice;
use shared::method::MethodOption;
use shared::money::{parse_amount, Currency, Money};
use shared::payment::{
    Consent, LineInput, PaymentInput, PaymentLine, PaymentOutcome, Receipt, ON_ACCOUNT_FIELD,
};
use shared::MethodId;

/// What a staff page offers in the dialog instead of taking the details (the Open Invoices
/// tab: send a pay link): the view for the company and invoices, with "back" and "done". Given
/// by context, so its code stays with the staff screens.
#[derive(Clone, Copy)]
pub struct AlternativeToPaying(pub Callback<Alternative, AnyView>);

/// What [`AlternativeToPaying`] is given.
pub struct Alternative {
    pub code: String,
    pub invoices: Vec<shared::InvoiceId>,
    pub on_back: Callback<()>,
    pub on_done: Callback<()>,
}

/// One invoice of the payment and its line.
#[derive(Clone, Debug)]
pub struct PayLine {
    pub invoice: OpenInvoice,
    pub line: PaymentLine,
}

#[component]
pub fn PaymentDialog(
    payer: Payer,
    lines: Vec<PayLine>,
    /// Called when the dialog closes: `true` when a payment went through.
    on_close: Callback<bool>,
) -> impl IntoView {
    // In the lines' currency (none: paid on account alone, in the seller's).
    let currency = lines
        .first()
        .map_or(Currency::USD, |l| l.line.amount.currency());
    let lines_sum = Money::sum(currency, lines.iter().map(|l| &l.line.amount));
    // What is paid beyond the invoices, as typed: the company's credit on account.
    let on_account_text = RwSignal::new(String::new());
    let on_account = Memo::new(move |_| {
        let typed = on_account_text.get();
        (!typed.trim().is_empty())
            .then(|| parse_amount(ON_ACCOUNT_FIELD, &typed, currency))
            .filter(|m| m.as_ref().map_or(true, |m| !m.is_zero()))
    });
    // The lines and what goes on account (while what is typed there reads as an amount).
    let sum = move || {
        let extra = on_account.get().and_then(Result::ok);
        lines_sum.and_then(|s| Money::sum(currency, [s].iter().chain(extra.as_ref())))
    };
    let key = RwSignal::new(new_key());
    // Who is paid (and through which link): the saved methods and the policy are both theirs.
    let payee = {
        let (company, link) = (payer.company(), payer.link());
        move || (company.clone(), link.clone())
    };
    let methods = Resource::new(payee.clone(), |(company, link)| {
        payment_options(company, link)
    });
    let policy = Resource::new(payee, |(company, link)| payment_policy(company, link));
    let staff = payer.is_staff();
    // Set when this payment is outside the company's policy and staff may pay it anyway, with
    // the reason they give.
    let outside_policy = RwSignal::new(None::<String>);
    let override_reason = RwSignal::new(String::new());
    let method = RwSignal::new(None::<MethodId>);
    // The card surcharge of the chosen method on the invoices (never on what goes on
    // account), as the server computes it: its rate and fee.
    let has_lines = !lines.is_empty();
    let surcharge = Memo::new(move |_| {
        let chosen = method.get()?;
        let list = methods.get()?.ok()?;
        let m = list.iter().find(|m| m.id == chosen)?;
        let rate = policy.get()?.ok()?.surcharge.rate_for(m)?;
        let fee = shared::surcharge::fee(lines_sum?, rate);
        (has_lines && fee.is_positive()).then_some((rate, fee))
    });
    let total = Signal::derive(move || {
        let fee = surcharge.get().map(|(_, f)| f);
        sum()
            .and_then(|s| Money::sum(currency, [s].iter().chain(fee.as_ref())))
            .map(|t| t.display())
            .unwrap_or_default()
    });
    // The default is chosen when the dialog opens, never again after a method was refused.
    let auto_pick = RwSignal::new(true);
    let today = super::gateway_client::today;
    // The default (or first) method that can be charged is chosen to start with.
    Effect::new(move |_| {
        if let Some(Ok(list)) = methods.get() {
            if method.get_untracked().is_none() && auto_pick.get_untracked() {
                method.set(list.iter().find(|m| !m.is_expired(today())).map(|m| m.id));
            }
        }
    });
    let adding = RwSignal::new(false);
    let on_added = Callback::new(move |m: MethodOption| {
        method.set(Some(m.id));
        adding.set(false);
        methods.refetch();
    });
    let channel = RwSignal::new(String::new());
    let reference = RwSignal::new(String::new());
    let receipt = RwSignal::new(None::<Receipt>);
    let declined = RwSignal::new(None::<String>);
    let client_error = RwSignal::new(None::<FieldError>);
    let link = StoredValue::new(payer.link());
    let pay =
        Action::new(move |input: &PaymentInput| pay_invoices(input.clone(), link.get_value()));
    // Staff can send the invoices as a pay link instead of taking the details.
    let linking = RwSignal::new(false);
    let alternative = use_context::<AlternativeToPaying>().filter(|_| staff);
    let server_error = move || pay.value().get().and_then(|r| r.err());
    Effect::new(move |_| match pay.value().get() {
        Some(Ok(PaymentOutcome::Paid(r))) => receipt.set(Some(r)),
        Some(Ok(PaymentOutcome::Declined { message, .. })) => {
            declined.set(Some(message));
            // The declined attempt used its key; the next attempt is a new payment.
            key.set(new_key());
        }
        Some(Err(e)) => {
            // The method was deactivated, removed or expired since the dialog opened: show
            // the methods as they are now, with nothing chosen.
            if e.message_for("method").is_some() {
                auto_pick.set(false);
                method.set(None);
                methods.refetch();
            }
            if let Some(f) = e.app().field() {
                focus_field(&f.field);
            }
        }
        None => {}
    });
    let field_error = move |name: &'static str| {
        Signal::derive(move || {
            client_error
                .get()
                .filter(|e| e.field == name)
                .map(|e| e.message)
                .or_else(|| server_error().and_then(|e| e.message_for(name)))
        })
    };
    let own_field = |f: &str| {
        [
            "method",
            "consent_channel",
            "consent_reference",
            "policy_override",
            ON_ACCOUNT_FIELD,
        ]
        .contains(&f)
    };
    let general_error = Signal::derive(move || {
        client_error
            .get()
            .filter(|e| !own_field(&e.field))
            .map(|e| e.message)
            .or_else(|| {
                server_error().and_then(|e: ApiError| match e.app().field() {
                    Some(f) if own_field(&f.field) => None,
                    _ => Some(e.to_string()),
                })
            })
    });
    let lines_for_submit = StoredValue::new(lines.clone());
    let submit = {
        let company = payer.company();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            if pay.pending().get_untracked() {
                return;
            }
            client_error.set(None);
            let Some(method_id) = method.get_untracked() else {
                client_error.set(Some(FieldError::new("method", "Choose a payment method.")));
                focus_field("method");
                return;
            };
            let extra = match on_account.get_untracked() {
                Some(Err(e)) => {
                    focus_field(&e.field);
                    client_error.set(Some(e));
                    return;
                }
                Some(Ok(m)) => Some(m),
                None => None,
            };
            if lines_for_submit.with_value(Vec::is_empty) && extra.is_none() {
                client_error.set(Some(FieldError::new(
                    ON_ACCOUNT_FIELD,
                    "Enter the amount to pay on account.",
                )));
                focus_field(ON_ACCOUNT_FIELD);
                return;
            }
            let sum = sum();
            if staff {
                if let Err(e) =
                    Consent::parse_staff(&channel.get_untracked(), &reference.get_untracked())
                {
                    focus_field(&e.field);
                    client_error.set(Some(e));
                    return;
                }
            }
            // The company's policy, as the server checks it: staff may go outside it with a
            // reason where the seller allows it.
            let kind = methods
                .get_untracked()
                .and_then(|r| r.ok())
                .and_then(|list| {
                    list.iter()
                        .find(|m| m.id == method_id)
                        .map(MethodOption::kind)
                });
            if let (Some(Ok(view)), Some(kind), Some(sum)) = (policy.get_untracked(), kind, sum) {
                let refusal = lines_for_submit.with_value(|ls| {
                    let lines: Vec<(&PaymentLine, Money)> =
                        ls.iter().map(|l| (&l.line, l.invoice.balance)).collect();
                    let in_force = view.in_force();
                    in_force
                        .check_on_account(extra)
                        .and_then(|()| in_force.check(kind, sum, &lines))
                        .err()
                });
                match refusal {
                    Some(e) if staff && view.staff_may_override => {
                        let first_time = outside_policy.get_untracked().is_none();
                        outside_policy.set(Some(e.message.clone()));
                        if first_time || override_reason.get_untracked().trim().is_empty() {
                            if !first_time {
                                client_error.set(Some(FieldError::new(
                                    "policy_override",
                                    "Give the reason for paying outside the account's policy.",
                                )));
                            }
                            // Once the reason's field is on the page.
                            request_animation_frame(|| {
                                focus_field("policy_override");
                            });
                            return;
                        }
                    }
                    Some(e) => {
                        focus_field(&e.field);
                        client_error.set(Some(e));
                        return;
                    }
                    None => outside_policy.set(None),
                }
            }
            declined.set(None);
            let input = PaymentInput {
                company: company.clone(),
                method_id,
                lines: lines_for_submit.with_value(|ls| {
                    ls.iter()
                        .map(|l| LineInput {
                            invoice_id: l.line.invoice_id,
                            amount: l.line.amount,
                            short_pay_code: l.line.short_pay_code.clone().unwrap_or_default(),
                            short_pay_reason: l.line.short_pay_reason.clone().unwrap_or_default(),
                        })
                        .collect()
                }),
                consent_channel: channel.get_untracked(),
                consent_reference: reference.get_untracked(),
                idempotency_key: key.get_untracked(),
                policy_override: if outside_policy.get_untracked().is_some() {
                    override_reason.get_untracked()
                } else {
                    String::new()
                },
                on_account: extra,
                surcharge: surcharge.get_untracked().map(|(_, fee)| fee),
            };
            pay.dispatch(input);
        }
    };
    let title = Signal::derive(move || {
        if receipt.get().is_some() {
            "Payment received".to_string()
        } else if linking.get() {
            "Send a pay link".to_string()
        } else if adding.get() {
            "Add a payment method".to_string()
        } else {
            "Make Payment".to_string()
        }
    });
    let n = lines.len();
    let payer_for_add = StoredValue::new(payer.clone());
    view! {
        <Modal title=title on_close=Callback::new(move |_| on_close.run(receipt.get_untracked().is_some())) class="payment-dialog">
            {move || match receipt.get() {
                None if linking.get() && alternative.is_some() => alternative.map(|a| a.0.run(Alternative {
                    code: payer_for_add.get_value().company(),
                    invoices: lines_for_submit.with_value(|ls| ls.iter().map(|l| l.invoice.id).collect()),
                    on_back: Callback::new(move |_| linking.set(false)),
                    on_done: Callback::new(move |_| on_close.run(false)),
                })).into_any(),
                None if adding.get() => view! {
                    <AddMethodForm payer=payer_for_add.get_value() on_added=on_added
                        on_cancel=Callback::new(move |_| adding.set(false)) cancel_label="Back"/>
                }.into_any(),
                Some(r) => view! {
                    <ReceiptView receipt=r/>
                    <div class="modal-actions">
                        <button type="button" class="btn" on:click=move |_| { let _ = window().print(); }>"Print receipt"</button>
                        <button type="button" class="btn btn-primary" on:click=move |_| on_close.run(true)>"Done"</button>
                    </div>
                }.into_any(),
                None => view! {
                    <form class="form" on:submit=submit.clone() novalidate>
                        <div class="pay-total">
                            <div class="pay-total-label">{move || match (n, on_account.get().is_some()) {
                                (0, _) => "Paid on account".to_string(),
                                (n, extra) => format!("Total for {n} invoice{}{}", if n == 1 { "" } else { "s" }, if extra { " and on account" } else { "" }),
                            }}</div>
                            <div class="pay-total-amount num" data-testid="pay-total">{move || total.get()}</div>
                        </div>
                        {move || surcharge.get().map(|(rate, fee)| view! {
                            <p class="surcharge-line" data-testid="surcharge">{shared::surcharge::line(rate, fee)}</p>
                        })}
                        {move || (n == 0 || policy.get().and_then(|r| r.ok()).is_some_and(|v| v.in_force().overpayment_allowed)).then(|| view! {
                            <div class="field on-account" class:has-error=move || field_error(ON_ACCOUNT_FIELD).get().is_some()>
                                <label for="on_account">{if n == 0 { "Amount to pay on account (USD)" } else { "Also pay on account (USD, optional)" }}</label>
                                <input id="on_account" name="on_account" inputmode="decimal" autocomplete="off" class="num"
                                    aria-describedby="on_account-help on_account-error"
                                    prop:value=move || on_account_text.get()
                                    on:input=move |ev| {
                                        on_account_text.set(event_target_value(&ev));
                                        client_error.update(|e| if e.as_ref().is_some_and(|e| e.field == ON_ACCOUNT_FIELD) { *e = None });
                                    }/>
                                <p class="help" id="on_account-help">"Kept as the company's unapplied credit, to apply to invoices later."</p>
                                <FieldMessage id="on_account-error" message=Signal::derive(move || field_error(ON_ACCOUNT_FIELD).get().or_else(|| on_account.get().and_then(|r| r.err()).map(|e| e.message)))/>
                            </div>
                        })}
                        {move || policy.get().and_then(|r| r.ok()).map(|v| v.in_force().summary()).filter(|s| s.as_slice() != ["Card or ACH"]).map(|s| view! {
                            <p class="muted small" data-testid="policy-summary">{format!("This account pays: {}", s.join(" · "))}</p>
                        })}
                        {move || declined.get().map(|m| view! {
                            <div class="banner banner-error" role="alert" data-testid="declined">
                                <strong>"Declined: "</strong>{m}" Choose another payment method and try again."
                            </div>
                        })}
                        <ErrorBanner message=general_error/>
                        <fieldset class="field methods" class:has-error=move || field_error("method").get().is_some()>
                            <legend>"Payment method"</legend>
                            <Suspense fallback=|| view! { <p class="loading">"Loading saved methods…"</p> }>
                                {move || Suspend::new(async move {
                                    match methods.await {
                                        Err(e) => view! { <p class="field-error">{e.to_string()}</p> }.into_any(),
                                        Ok(list) if list.is_empty() => view! {
                                            <p class="muted">"This company has no active saved payment methods."</p>
                                        }.into_any(),
                                        Ok(list) => list.into_iter().map(|m| {
                                            let id = m.id;
                                            let expired = m.is_expired(today());
                                            view! {
                                                <label class="method-option" class:chosen=move || method.get() == Some(id) class:disabled=expired>
                                                    <input
                                                        type="radio"
                                                        name="method"
                                                        id=format!("method-{id}")
                                                        disabled=expired
                                                        value=id.to_string()
                                                        prop:checked=move || method.get() == Some(id)
                                                        on:change=move |_| {
                                                            method.set(Some(id));
                                                            client_error.update(|e| if e.as_ref().is_some_and(|e| e.field == "method") { *e = None });
                                                        }
                                                    />
                                                    <span class="method-label">{m.label()}</span>
                                                    <span class="method-detail muted">{if m.label_only { "Saved on file".to_string() } else { m.detail() }}</span>
                                                    {m.is_default.then(|| view! { <span class="badge badge-neutral">"Default"</span> })}
                                                    {expired.then(|| view! { <span class="badge badge-amber">"Expired"</span> })}
                                                </label>
                                            }
                                        }).collect_view().into_any(),
                                    }
                                })}
                            </Suspense>
                            <FieldMessage id="method-error" message=field_error("method")/>
                            <button type="button" class="btn btn-link add-method-link" on:click=move |_| adding.set(true)>
                                "+ Add a payment method"
                            </button>
                        </fieldset>
                        {staff.then(|| view! {
                        <fieldset class="consent">
                            <legend>"Customer authorization"</legend>
                            <div class="consent-row">
                                <div class="field" class:has-error=move || field_error("consent_channel").get().is_some()>
                                    <label for="consent_channel">"Authorized by"</label>
                                    <select
                                        id="consent_channel"
                                        name="consent_channel"
                                        aria-describedby="consent_channel-error"
                                        on:change=move |ev| {
                                            channel.set(event_target_value(&ev));
                                            client_error.update(|e| if e.as_ref().is_some_and(|e| e.field == "consent_channel") { *e = None });
                                        }
                                        prop:value=move || channel.get()
                                    >
                                        <option value="">"Choose…"</option>
                                        <option value="phone">"Phone"</option>
                                        <option value="email">"Email"</option>
                                        <option value="other">"Other"</option>
                                    </select>
                                    <FieldMessage id="consent_channel-error" message=field_error("consent_channel")/>
                                </div>
                                <div class="field grow" class:has-error=move || field_error("consent_reference").get().is_some()>
                                    <label for="consent_reference">"Reference"</label>
                                    <input
                                        id="consent_reference"
                                        name="consent_reference"
                                        placeholder="Who authorized it, and when"
                                        aria-describedby="consent_reference-error"
                                        prop:value=move || reference.get()
                                        on:input=move |ev| {
                                            reference.set(event_target_value(&ev));
                                            client_error.update(|e| if e.as_ref().is_some_and(|e| e.field == "consent_reference") { *e = None });
                                        }
                                    />
                                    <FieldMessage id="consent_reference-error" message=field_error("consent_reference")/>
                                </div>
                            </div>
                            <p class="help">"Confirm the customer authorized this payment before you submit it."</p>
                        </fieldset>
                        })}
                        {move || outside_policy.get().map(|why| view! {
                            <div class="banner banner-info policy-override" role="status" data-testid="outside-policy">
                                <p><strong>"Outside this account's payment policy: "</strong>{why}</p>
                                <div class="field" class:has-error=move || field_error("policy_override").get().is_some()>
                                    <label for="policy_override">"Reason for paying outside the policy"</label>
                                    <input id="policy_override" name="policy_override" maxlength="200"
                                        aria-describedby="policy_override-help policy_override-error"
                                        prop:value=move || override_reason.get()
                                        on:input=move |ev| {
                                            override_reason.set(event_target_value(&ev));
                                            client_error.update(|e| if e.as_ref().is_some_and(|e| e.field == "policy_override") { *e = None });
                                        }/>
                                    <p class="help" id="policy_override-help">"Kept on the payment and in the audit trail."</p>
                                    <FieldMessage id="policy_override-error" message=field_error("policy_override")/>
                                </div>
                            </div>
                        })}
                        {(!staff).then(|| view! {
                            <p class="help">"By making this payment you authorize us to charge the method you chose for the total above."</p>
                        })}
                        <div class="modal-actions">
                            {alternative.is_some().then(|| view! {
                                <button type="button" class="btn btn-ghost push-left" on:click=move |_| linking.set(true)>"Send a pay link instead"</button>
                            })}
                            <button type="button" class="btn" on:click=move |_| on_close.run(false)>"Cancel"</button>
                            <button type="submit" class="btn btn-primary" disabled=move || pay.pending().get()>
                                <Show when=move || pay.pending().get()>
                                    <span class="spinner" aria-hidden="true"></span>
                                </Show>
                                {move || if pay.pending().get() { "Processing…".to_string() } else { format!("Make Payment · {}", total.get()) }}
                            </button>
                        </div>
                    </form>
                }.into_any(),
            }}
        </Modal>
    }
}
