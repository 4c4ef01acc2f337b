//! Payment policies for admins: System → Payment policy (the seller's default, and whether
//! staff may pay outside a company's policy with a reason) and Company → Payment policy (the
//! seller's default, or the company's own). Clerks read them.

use crate::components::{
    field_error, loading_rows, ErrorBanner, ErrorView, FieldMessage, TextField,
};
use crate::ops::crm::company::use_company_code;
use crate::server_fns::policies::{
    payment_policy, seller_payment_policy, set_payment_policy, set_policy_override, set_surcharge,
    surcharge_settings,
};
use leptos::prelude::*;
use leptos_meta::Title;
use shared::auth::{Role, SessionUser};
use shared::money::Money;
use shared::policy::{PaymentPolicy, PolicyInput};

fn is_admin() -> bool {
    use_context::<SessionUser>().is_some_and(|u| u.role == Role::Admin)
}

/// "Card or ACH · ACH above $25,000.00 · …".
fn said(p: &PaymentPolicy) -> String {
    p.summary().join(" · ")
}

#[component]
pub fn PaymentPolicyPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let view = Resource::new(move || version.get(), |_| seller_payment_policy());
    let saved = Callback::new(move |_| version.update(|n| *n += 1));
    let admin = is_admin();
    view! {
        <Title text="Payment policy"/>
        <div class="page-head">
            <h1>"Payment policy"</h1>
            <p class="subtitle">"How customers may pay, unless a company has its own policy (Company → Payment policy). Every payment is checked against it, by staff, in the portal and through pay links."</p>
        </div>
        <Transition fallback=move || loading_rows(4)>
            {move || Suspend::new(async move {
                match view.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(v) if admin => view! {
                        <section class="card-panel" data-testid="seller-policy">
                            <h2>"The seller's default"</h2>
                            <PolicyForm code=String::new() initial=v.default.clone() on_saved=saved/>
                        </section>
                        <OverrideSetting allowed=v.staff_may_override on_saved=saved/>
                    }.into_any(),
                    Ok(v) => view! {
                        <p data-testid="seller-policy">{said(&v.default)}</p>
                        <p class="muted">{if v.staff_may_override { "Staff may pay outside a company's policy, with a reason." } else { "No one may pay outside a company's policy." }}</p>
                    }.into_any(),
                }
            })}
        </Transition>
        <SurchargeSection/>
    }
}

/// Company → Payment policy.
#[component]
pub fn CompanyPolicyTab() -> impl IntoView {
    let code = use_company_code();
    let version = RwSignal::new(0u32);
    let view = Resource::new(
        move || (code.get(), version.get()),
        |(c, _)| payment_policy(c, None),
    );
    let own = RwSignal::new(None::<bool>);
    let follow = Action::new(move |_: &()| set_payment_policy(code.get_untracked(), None));
    Effect::new(move |_| {
        if let Some(Ok(())) = follow.value().get() {
            own.set(None);
            version.update(|n| *n += 1);
        }
    });
    let saved = Callback::new(move |_| {
        own.set(None);
        version.update(|n| *n += 1);
    });
    let admin = is_admin();
    view! {
        <div class="tab-head">
            <h2>"Payment policy"</h2>
        </div>
        <Transition fallback=move || loading_rows(4)>
            {move || Suspend::new(async move {
                match view.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(v) => {
                        let has_own = v.own.is_some();
                        let in_force = said(v.in_force());
                        let default = v.default.clone();
                        let start = v.own.clone().unwrap_or_else(|| v.default.clone());
                        view! {
                            <p data-testid="policy-in-force">
                                <strong>{if has_own { "Its own policy: " } else { "The seller's default: " }}</strong>
                                {in_force}
                            </p>
                            {admin.then(|| view! {
                                <fieldset class="field">
                                    <legend>"This company pays under"</legend>
                                    <label class="radio">
                                        <input type="radio" name="policy_source" prop:checked=move || !own.get().unwrap_or(has_own)
                                            on:change=move |_| own.set(Some(false))/>
                                        {format!(" The seller's default ({})", said(&default))}
                                    </label>
                                    <label class="radio">
                                        <input type="radio" name="policy_source" prop:checked=move || own.get().unwrap_or(has_own)
                                            on:change=move |_| own.set(Some(true))/>
                                        " Its own policy"
                                    </label>
                                </fieldset>
                                <ErrorBanner message=crate::components::action_error(follow)/>
                                {move || {
                                    if own.get().unwrap_or(has_own) {
                                        view! {
                                            <div class="card-panel"><PolicyForm code=code.get_untracked() initial=start.clone() on_saved=saved/></div>
                                        }.into_any()
                                    } else if has_own {
                                        view! {
                                            <button type="button" class="btn btn-primary" disabled=move || follow.pending().get()
                                                on:click=move |_| { follow.dispatch(()); }>"Use the seller's default"</button>
                                        }.into_any()
                                    } else {
                                        ().into_any()
                                    }
                                }}
                            })}
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

fn typed(m: Option<Money>) -> String {
    m.map(|m| m.amount().to_string()).unwrap_or_default()
}

/// The policy's fields: ways to pay, minimum and maximum, ACH above an amount, paying in part.
#[component]
fn PolicyForm(
    /// The company's Company ID, or empty for the seller's default.
    code: String,
    initial: PaymentPolicy,
    on_saved: Callback<()>,
) -> impl IntoView {
    let card = RwSignal::new(initial.card_allowed);
    let ach = RwSignal::new(initial.ach_allowed);
    let min = RwSignal::new(typed(initial.min_amount));
    let max = RwSignal::new(typed(initial.max_amount));
    let above = RwSignal::new(typed(initial.ach_required_above));
    let partial = RwSignal::new(initial.partial_allowed);
    let overpay = RwSignal::new(initial.overpayment_allowed);
    let code = StoredValue::new(code);
    let save =
        Action::new(move |p: &PolicyInput| set_payment_policy(code.get_value(), Some(p.clone())));
    let done = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            done.set(true);
            on_saved.run(());
        }
    });
    let methods_error = field_error(save, "methods");
    view! {
        <form class="form policy-form" novalidate on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            done.set(false);
            save.dispatch(PolicyInput {
                card_allowed: card.get_untracked(),
                ach_allowed: ach.get_untracked(),
                min_amount: min.get_untracked(),
                max_amount: max.get_untracked(),
                ach_required_above: above.get_untracked(),
                partial_allowed: partial.get_untracked(),
                overpayment_allowed: overpay.get_untracked(),
            });
        }>
            <fieldset class="field" class:has-error=move || methods_error.get().is_some()>
                <legend>"Ways to pay"</legend>
                <label class="check">
                    <input type="checkbox" name="card_allowed" prop:checked=move || card.get()
                        on:change=move |ev| card.set(event_target_checked(&ev))/>
                    " Card"
                </label>
                <label class="check">
                    <input type="checkbox" name="ach_allowed" prop:checked=move || ach.get()
                        on:change=move |ev| ach.set(event_target_checked(&ev))/>
                    " ACH bank account"
                </label>
                <FieldMessage id="methods-error" message=methods_error/>
            </fieldset>
            <div class="form-row">
                <TextField name="min_amount" label="Minimum per payment (USD)" inputmode="decimal" value=min
                    error=field_error(save, "min_amount") help=Signal::derive(|| "Empty: no minimum.".to_string())/>
                <TextField name="max_amount" label="Maximum per payment (USD)" inputmode="decimal" value=max
                    error=field_error(save, "max_amount") help=Signal::derive(|| "Empty: no maximum.".to_string())/>
                <TextField name="ach_required_above" label="ACH required above (USD)" inputmode="decimal" value=above
                    error=field_error(save, "ach_required_above") help=Signal::derive(|| "Empty: cards for any amount.".to_string())/>
            </div>
            <div class="field">
                <label class="check">
                    <input type="checkbox" name="partial_allowed" prop:checked=move || partial.get()
                        on:change=move |ev| partial.set(event_target_checked(&ev))/>
                    " An invoice may be paid in part (with a short-pay reason)"
                </label>
            </div>
            <div class="field">
                <label class="check">
                    <input type="checkbox" name="overpayment_allowed" prop:checked=move || overpay.get()
                        on:change=move |ev| overpay.set(event_target_checked(&ev))/>
                    " A payment may be more than its invoices, or on account alone (the excess is unapplied credit)"
                </label>
            </div>
            <div class="form-actions">
                <button type="submit" class="btn btn-primary" disabled=move || save.pending().get()>"Save policy"</button>
                <Show when=move || done.get()>
                    <span class="muted" role="status">"Saved."</span>
                </Show>
            </div>
        </form>
    }
}

/// Whether staff may pay outside a company's policy, with a reason.
#[component]
fn OverrideSetting(allowed: bool, on_saved: Callback<()>) -> impl IntoView {
    let on = RwSignal::new(allowed);
    let save = Action::new(move |a: &bool| set_policy_override(*a));
    let done = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            done.set(true);
            on_saved.run(());
        }
    });
    view! {
        <section class="card-panel">
            <h2>"Paying outside a policy"</h2>
            <form class="form" novalidate on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                done.set(false);
                save.dispatch(on.get_untracked());
            }>
                <ErrorBanner message=crate::components::action_error(save)/>
                <div class="field">
                    <label class="check">
                        <input type="checkbox" name="staff_may_override" prop:checked=move || on.get()
                            on:change=move |ev| on.set(event_target_checked(&ev))/>
                        " Staff may take a payment outside a company's policy, giving a reason (kept on the payment and audited). Customers never may."
                    </label>
                </div>
                <div class="form-actions">
                    <button type="submit" class="btn" disabled=move || save.pending().get()>"Save"</button>
                    <Show when=move || done.get()>
                        <span class="muted" role="status">"Saved."</span>
                    </Show>
                </div>
            </form>
        </section>
    }
}

/// The card surcharge: the seller's rate on credit cards (admins set it; clerks read it) and
/// the states whose law refuses or caps it.
#[component]
fn SurchargeSection() -> impl IntoView {
    let settings = Resource::new(|| (), |_| surcharge_settings());
    let admin = is_admin();
    view! {
        <section class="card-panel" data-testid="surcharge">
            <h2>"Card surcharge"</h2>
            <p class="help">"Added to payments of invoices by credit card only — never debit, prepaid or cards whose funding is unknown, never ACH — as its own line the payer sees before paying. At most 3 % (the card networks' rule), and never where the company's billing state forbids it."</p>
            <Transition fallback=move || loading_rows(3)>
                {move || Suspend::new(async move {
                    match settings.await {
                        Err(e) => view! { <ErrorView error=e/> }.into_any(),
                        Ok(s) => {
                            let current = s.percent.map(shared::surcharge::percent);
                            view! {
                                {if admin {
                                    view! { <SurchargeForm initial=current.clone().unwrap_or_default()/> }.into_any()
                                } else {
                                    view! {
                                        <p>{current.map_or("No surcharge.".to_string(), |p| format!("{p} % on credit cards."))}</p>
                                    }.into_any()
                                }}
                                <table class="table compact" data-testid="surcharge-states">
                                    <caption class="receipt-caption">"States whose law refuses or caps a card surcharge"</caption>
                                    <thead><tr>
                                        <th scope="col">"State"</th>
                                        <th scope="col">"Rule"</th>
                                        <th scope="col">"Source"</th>
                                        <th scope="col">"Checked"</th>
                                    </tr></thead>
                                    <tbody>
                                        {s.rules.into_iter().map(|r| view! {
                                            <tr>
                                                <td>{format!("{} ({})", r.name, r.state)}</td>
                                                <td>{r.rule_label()}</td>
                                                <td class="small">{r.source.clone()}</td>
                                                <td>{shared::format::date(r.checked_on)}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

/// The surcharge's rate, as an admin sets it (empty: none).
#[component]
fn SurchargeForm(initial: String) -> impl IntoView {
    let typed = RwSignal::new(initial);
    let save = Action::new(move |p: &String| set_surcharge(p.clone()));
    let done = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            done.set(true);
        }
    });
    view! {
        <form class="form surcharge-form" novalidate on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            done.set(false);
            save.dispatch(typed.get_untracked());
        }>
            <div class="form-row">
                <TextField name="surcharge_percent" label="Surcharge on credit cards (%)" inputmode="decimal" value=typed
                    error=field_error(save, "surcharge_percent") help=Signal::derive(|| "Empty: no surcharge.".to_string())/>
            </div>
            <div class="form-actions">
                <button type="submit" class="btn btn-primary" disabled=move || save.pending().get()>"Save surcharge"</button>
                <Show when=move || done.get()>
                    <span class="muted" role="status">"Saved."</span>
                </Show>
            </div>
        </form>
    }
}
