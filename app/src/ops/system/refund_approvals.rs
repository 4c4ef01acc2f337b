//! System → Refund approvals: refunds above the seller's limit wait here until an admin other
//! than the one who asked approves (the money goes back at once, once) or refuses them (with a
//! reason the requester sees). Admins set the limit here too.

use crate::components::modal::{ConfirmDialog, Modal};
use crate::components::{
    action_error, field_error, loading_rows, DataTable, ErrorBanner, ErrorView, TextField,
};
use crate::server_fns::refunds::{
    approve_refund, my_refund_allowance, refunds_awaiting_approval, refuse_refund, set_refund_limit,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use shared::auth::{Role, SessionUser};
use shared::format::date;
use shared::refund::RefundView;

#[component]
pub fn RefundApprovalsPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let queue = Resource::new(move || version.get(), |_| refunds_awaiting_approval());
    let me = use_context::<SessionUser>();
    let is_admin = me.as_ref().is_some_and(|u| u.role == Role::Admin);
    let my_name = me.map(|u| u.name).unwrap_or_default();
    let message = RwSignal::new(None::<String>);
    let approving = RwSignal::new(None::<RefundView>);
    let refusing = RwSignal::new(None::<RefundView>);
    let approve = Action::new(move |r: &RefundView| approve_refund(r.id));
    let refuse =
        Action::new(move |(r, why): &(RefundView, String)| refuse_refund(r.id, why.clone()));
    Effect::new(move |_| match approve.value().get() {
        Some(Ok(v)) => {
            message.set(Some(format!(
                "{} approved: {} {}.",
                v.number,
                v.amount.display(),
                v.status.label().to_lowercase()
            )));
            approving.set(None);
            version.update(|n| *n += 1);
        }
        Some(Err(_)) => {
            approving.set(None);
            version.update(|n| *n += 1);
        }
        None => {}
    });
    Effect::new(move |_| {
        if let Some(Ok(v)) = refuse.value().get() {
            message.set(Some(format!(
                "{} refused. Nothing was given back.",
                v.number
            )));
            refusing.set(None);
            version.update(|n| *n += 1);
        }
    });
    let approve_error = action_error(approve);
    view! {
        <Title text="Refund approvals"/>
        <div class="page-head">
            <h1>"Refund approvals"</h1>
            <p class="subtitle">"Refunds above the approval limit wait here for a second person: an admin other than the one who asked."</p>
        </div>
        {is_admin.then(|| view! { <LimitForm/> })}
        <div role="status" aria-live="polite">
            {move || message.get().map(|m| view! { <div class="banner banner-success" data-testid="approval-message">{m}</div> })}
        </div>
        <ErrorBanner message=approve_error/>
        <DataTable label="Refunds awaiting approval" testid="refund-approvals">
            <thead><tr>
                <th scope="col">"Refund"</th>
                <th scope="col">"Company"</th>
                <th scope="col">"Asked"</th>
                <th scope="col">"Why"</th>
                <th scope="col">"Invoices"</th>
                <th scope="col" class="num">"Amount"</th>
                <th scope="col"><span class="sr-only">"Actions"</span></th>
            </tr></thead>
            <Transition fallback=move || view! { <tbody><tr><td colspan="7">{loading_rows(3)}</td></tr></tbody> }>
                {move || {
                    let my_name = my_name.clone();
                    Suspend::new(async move {
                    match queue.await {
                        Err(e) => view! { <tbody><tr><td colspan="7"><ErrorView error=e/></td></tr></tbody> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <tbody><tr><td colspan="7"><div class="empty-state"><p>"No refund is waiting for approval."</p></div></td></tr></tbody>
                        }.into_any(),
                        Ok(list) => view! {
                            <tbody>
                                {list.into_iter().map(|r| {
                                    let own = r.requested_by == my_name;
                                    let (a, b) = (r.clone(), r.clone());
                                    let actions = match (is_admin, own) {
                                        (false, _) => view! { <span class="muted small">"An admin decides"</span> }.into_any(),
                                        (true, true) => view! { <span class="muted small">"Your request: another admin decides"</span> }.into_any(),
                                        (true, false) => view! {
                                            <button type="button" class="btn btn-small btn-primary" aria-label=format!("Approve {}", r.number)
                                                on:click=move |_| { message.set(None); approving.set(Some(a.clone())); }>"Approve"</button>
                                            <button type="button" class="btn btn-small" aria-label=format!("Refuse {}", r.number)
                                                on:click=move |_| { message.set(None); refusing.set(Some(b.clone())); }>"Refuse"</button>
                                        }.into_any(),
                                    };
                                    let lines = r.lines.iter().map(|l| format!("{} {}", l.invoice_number, l.amount.display())).collect::<Vec<_>>().join(", ");
                                    view! {
                                        <tr data-refund=r.number.clone()>
                                            <td class="mono">{r.number.clone()}<div class="muted small">{format!("from {}", r.payment_number)}</div></td>
                                            <td>
                                                <A href=format!("/ops/crm/companies/{}/payments", r.company_code)>{r.company_name.clone()}</A>
                                                <div class="muted small mono">{r.company_code.clone()}</div>
                                            </td>
                                            <td>{r.requested_by.clone()}<div class="muted small">{format!("{} {}", date(r.requested_at.date_naive()), r.requested_at.format("%H:%M UTC"))}</div></td>
                                            <td class="small wrap">{r.reason_label.clone()}{r.note.clone().map(|n| view! { <div class="muted">{n}</div> })}</td>
                                            <td class="mono small">{lines}</td>
                                            <td class="num">{r.amount.display()}</td>
                                            <td class="actions-cell">{actions}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        }.into_any(),
                    }
                })}}
            </Transition>
        </DataTable>
        {move || approving.get().map(|r| {
            let question = format!("Approve {} of {} to {}?", r.number, r.amount.display(), r.company_name);
            view! {
                <ConfirmDialog title="Approve this refund?" question=question
                    detail="The money goes back to the payer's method now, and the invoices reopen by the amounts asked."
                    confirm="Approve and refund" pending=approve.pending()
                    on_confirm=Callback::new(move |_| { approve.dispatch(r.clone()); })
                    on_cancel=Callback::new(move |_| approving.set(None))/>
            }
        })}
        {move || refusing.get().map(|r| view! { <RefuseDialog refund=r action=refuse on_cancel=Callback::new(move |_| refusing.set(None))/> })}
    }
}

/// Refusing a refund: the reason the requester reads.
#[component]
fn RefuseDialog(
    refund: RefundView,
    action: Action<(RefundView, String), Result<RefundView, crate::error::ApiError>>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let error = field_error(action, "refusal_reason");
    let other = Signal::derive(move || {
        action
            .value()
            .get()
            .and_then(|r| r.err())
            .filter(|e| e.message_for("refusal_reason").is_none())
            .map(|e| e.to_string())
    });
    let title = format!("Refuse {}", refund.number);
    let r = StoredValue::new(refund);
    view! {
        <Modal title=title on_close=on_cancel>
            <form class="form" novalidate on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                action.dispatch((r.get_value(), reason.get_untracked()));
            }>
                <p>{r.with_value(|r| format!("{} asked to give back {} to {}.", r.requested_by, r.amount.display(), r.company_name))}</p>
                <ErrorBanner message=other/>
                <div class="field" class:has-error=move || error.get().is_some()>
                    <label for="refusal_reason">"Why is it refused?"</label>
                    <textarea id="refusal_reason" name="refusal_reason" rows="3" maxlength="500"
                        aria-describedby="refusal_reason-error"
                        prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                    <crate::components::FieldMessage id="refusal_reason-error" message=error/>
                </div>
                <div class="modal-actions">
                    <button type="button" class="btn" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                    <button type="submit" class="btn btn-danger" disabled=move || action.pending().get()>"Refuse"</button>
                </div>
            </form>
        </Modal>
    }
}

/// The approval limit (admins).
#[component]
fn LimitForm() -> impl IntoView {
    let allowance = Resource::new(|| (), |_| my_refund_allowance());
    let amount = RwSignal::new(String::new());
    let save = Action::new(move |a: &String| set_refund_limit(a.clone()));
    let saved = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(a)) = allowance.get() {
            if amount.get_untracked().is_empty() {
                amount.set(a.approval_above.amount().to_string());
            }
        }
    });
    Effect::new(move |_| saved.set(matches!(save.value().get(), Some(Ok(())))));
    view! {
        <form class="form inline-form card-panel" novalidate on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            save.dispatch(amount.get_untracked());
        }>
            <TextField name="amount" label="Approval needed above (USD)" inputmode="decimal"
                value=amount error=field_error(save, "amount")
                help=Signal::derive(|| "A refund above this waits for a second person. 0 sends every refund for approval.".to_string())/>
            <button type="submit" class="btn" disabled=move || save.pending().get()>"Save limit"</button>
            <Show when=move || saved.get()>
                <span class="muted" role="status">"Saved."</span>
            </Show>
        </form>
    }
}
