//! System → Reason codes (admins): the short-pay and refund reasons staff and customers choose
//! from. An admin adds one (its code made from the label unless typed), renames one, or stops
//! offering one; a code is never deleted, so every payment and refund that names it still
//! says it. "Other" is always offered and asks for a comment.

use crate::components::modal::Modal;
use crate::components::{
    action_error, field_error, loading_rows, DataTable, ErrorBanner, ErrorView, TextField,
};
use crate::server_fns::reasons::{add_reason, change_reason, kept_reasons};
use leptos::prelude::*;
use leptos_meta::Title;
use shared::reason::{ReasonCode, ReasonCodeInput, ReasonKind};

#[component]
pub fn ReasonCodesPage() -> impl IntoView {
    view! {
        <Title text="Reason codes"/>
        <div class="page-head">
            <h1>"Reason codes"</h1>
            <p class="subtitle">"The reasons offered when an invoice is paid short and when money is given back. Receipts, the API and the payments export carry the code. A reason no longer offered still names the payments and refunds given with it. \"Other\" is always offered and needs a comment."</p>
        </div>
        <ReasonList kind=ReasonKind::ShortPay/>
        <ReasonList kind=ReasonKind::Refund/>
    }
}

/// One list: its reasons, a form to add one, and a dialog to change one.
#[component]
fn ReasonList(kind: ReasonKind) -> impl IntoView {
    let version = RwSignal::new(0u32);
    let reasons = Resource::new(move || version.get(), move |_| kept_reasons(kind));
    let editing = RwSignal::new(None::<ReasonCode>);
    let message = RwSignal::new(None::<String>);
    let (label_name, code_name) = match kind {
        ReasonKind::ShortPay => ("short_pay_label", "short_pay_code"),
        ReasonKind::Refund => ("refund_label", "refund_code"),
    };
    let label = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let add = Action::new(move |input: &ReasonCodeInput| add_reason(kind, input.clone()));
    Effect::new(move |_| {
        if let Some(Ok(r)) = add.value().get() {
            message.set(Some(format!("Added \"{}\" ({}).", r.label, r.code)));
            label.set(String::new());
            code.set(String::new());
            version.update(|n| *n += 1);
        }
    });
    let on_changed = Callback::new(move |r: ReasonCode| {
        message.set(Some(format!(
            "\"{}\" ({}) is {}.",
            r.label,
            r.code,
            if r.active {
                "offered"
            } else {
                "no longer offered"
            }
        )));
        editing.set(None);
        version.update(|n| *n += 1);
    });
    let heading_id = format!("{}-heading", kind.key());
    let labelled_by = heading_id.clone();
    view! {
        <section class="card-panel reason-list" aria-labelledby=labelled_by data-testid=format!("reasons-{}", kind.key())>
            <h2 id=heading_id>{kind.label()}</h2>
            <div role="status" aria-live="polite">
                {move || message.get().map(|m| view! { <div class="banner banner-success">{m}</div> })}
            </div>
            <Transition fallback=move || loading_rows(4)>
                {move || Suspend::new(async move {
                    match reasons.await {
                        Err(e) => view! { <ErrorView error=e/> }.into_any(),
                        Ok(list) => view! {
                            <DataTable label=kind.label() class="dense">
                                <thead><tr>
                                    <th scope="col">"Label"</th>
                                    <th scope="col">"Code"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col"><span class="sr-only">"Actions"</span></th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|r| {
                                        let (tone, status) = if r.active { ("badge-green", "Offered") } else { ("badge-neutral", "Not offered") };
                                        let edit_label = format!("Change {}", r.label);
                                        let row = r.clone();
                                        view! {
                                            <tr data-reason=r.code.clone()>
                                                <td>{r.label.clone()}</td>
                                                <td><code>{r.code.clone()}</code></td>
                                                <td><span class=format!("badge {tone}")>{status}</span></td>
                                                <td class="actions-cell">
                                                    <button type="button" class="btn btn-small" aria-label=edit_label
                                                        on:click=move |_| { message.set(None); editing.set(Some(row.clone())); }>
                                                        "Change"
                                                    </button>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </DataTable>
                        }.into_any(),
                    }
                })}
            </Transition>
            <form class="form inline-form" novalidate on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                message.set(None);
                add.dispatch(ReasonCodeInput { label: label.get_untracked(), code: code.get_untracked() });
            }>
                <TextField name=label_name label="New reason" value=label maxlength=80
                    error=field_error(add, "label")/>
                <TextField name=code_name label="Code (optional)" value=code maxlength=40
                    error=field_error(add, "code")
                    help=Signal::derive(|| "Made from the label when left empty, e.g. pricing_difference.".to_string())/>
                <button type="submit" class="btn" disabled=move || add.pending().get()>"Add reason"</button>
            </form>
        </section>
        {move || editing.get().map(|r| view! {
            <ChangeReason kind=kind reason=r on_done=on_changed on_cancel=Callback::new(move |_| editing.set(None))/>
        })}
    }
}

/// Renames a reason, or stops (or starts again) offering it.
#[component]
fn ChangeReason(
    kind: ReasonKind,
    reason: ReasonCode,
    on_done: Callback<ReasonCode>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let label = RwSignal::new(reason.label.clone());
    let active = RwSignal::new(reason.active);
    let is_other = reason.needs_comment();
    let code = StoredValue::new(reason.code.clone());
    let save = Action::new(move |(l, a): &(String, bool)| {
        change_reason(kind, code.get_value(), l.clone(), *a)
    });
    Effect::new(move |_| {
        if let Some(Ok(r)) = save.value().get() {
            on_done.run(r);
        }
    });
    let other = action_error(save);
    let title = format!("Change \"{}\"", reason.label);
    view! {
        <Modal title=title on_close=on_cancel>
            <form class="form" novalidate on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                save.dispatch((label.get_untracked(), active.get_untracked()));
            }>
                <p class="muted">{format!("Code {} (a code does not change: payments and refunds name it).", reason.code)}</p>
                <ErrorBanner message=Signal::derive(move || other.get().filter(|_| field_error(save, "label").get().is_none()))/>
                <TextField name="reason_label" label="Label" value=label maxlength=80
                    error=field_error(save, "label")/>
                <div class="field">
                    <label class="check">
                        <input type="checkbox" name="reason_active" disabled=is_other
                            prop:checked=move || active.get()
                            on:change=move |ev| active.set(event_target_checked(&ev))/>
                        " Offered in the forms"
                    </label>
                    {is_other.then(|| view! { <p class="help">"\"Other\" is always offered."</p> })}
                </div>
                <div class="modal-actions">
                    <button type="button" class="btn" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                    <button type="submit" class="btn btn-primary" disabled=move || save.pending().get()>"Save"</button>
                </div>
            </form>
        </Modal>
    }
}
