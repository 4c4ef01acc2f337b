//! Moving focus to where the user must act: the field an error belongs to.

use wasm_bindgen::JsCast;

/// Focuses the form field named `field`: the element with that id, or else the first with
/// that name (a radio group, an amount input).
pub fn focus_field(field: &str) {
    let doc = leptos::prelude::document();
    let target = doc.get_element_by_id(field).or_else(|| {
        doc.query_selector(&format!("[name=\"{field}\"]"))
            .ok()
            .flatten()
    });
    if let Some(el) = target.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = el.focus();
    }
}
