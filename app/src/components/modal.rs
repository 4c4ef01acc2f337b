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
