//! A modal dialog on the native `<dialog>`: centred, traps focus, closes on Escape, and gives
//! focus back to what opened it.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

#[component]
pub fn Modal(
    /// The dialog's heading.
    #[prop(into)]
    title: Signal<String>,
    /// Called on Escape or the close button.
    on_close: Callback<()>,
    #[prop(optional, into)] class: String,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    // What had focus when the dialog opened gets it back when the dialog goes.
    let opener = StoredValue::new_local(document().active_element());
    Effect::new(move |_| {
        if let Some(d) = dialog.get() {
            if !d.open() {
                let _ = d.show_modal();
            }
        }
    });
    on_cleanup(move || {
        if let Some(el) = opener
            .get_value()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
    view! {
        <dialog
            node_ref=dialog
            class=format!("modal {class}")
            aria-labelledby="modal-title"
            on:cancel=move |ev: leptos::ev::Event| {
                ev.prevent_default();
                on_close.run(());
            }
        >
            <div class="modal-head">
                <h2 id="modal-title">{move || title.get()}</h2>
                <button type="button" class="btn btn-ghost modal-x" aria-label="Close" on:click=move |_| on_close.run(())>"×"</button>
            </div>
            {children()}
        </dialog>
    }
}

/// A new random idempotency key (UUID v4) from the browser's crypto.
pub fn new_key() -> String {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.random_uuid())
        .unwrap_or_default()
}

/// A yes-or-no question about an action, in a dialog: Cancel, or the action's own button.
#[component]
pub fn ConfirmDialog(
    #[prop(into)] title: String,
    #[prop(into)] question: String,
    /// What follows from it, in a sentence or two.
    #[prop(into)]
    detail: String,
    /// The confirming button's label, e.g. "Revoke".
    #[prop(into)]
    confirm: String,
    /// A red button: the action cannot be undone.
    #[prop(optional)]
    danger: bool,
    #[prop(into)] pending: Signal<bool>,
    on_confirm: Callback<()>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let class = if danger {
        "btn btn-danger"
    } else {
        "btn btn-primary"
    };
    view! {
        <Modal title=title on_close=on_cancel>
            <div class="modal-body">
                <p>{question}</p>
                <p class="muted">{detail}</p>
                <div class="modal-actions">
                    <button type="button" class="btn" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                    <button type="button" class=class disabled=move || pending.get()
                        on:click=move |_| on_confirm.run(())>{confirm}</button>
                </div>
            </div>
        </Modal>
    }
}
