//! Moving focus to where the user must act: the field an error belongs to.

use wasm_bindgen::JsCast;

/// Focuses the form field named `field`: the element with that id, or else the first with
/// that name (a radio group, an amount input). False when there is none on the page.
pub fn focus_field(field: &str) -> bool {
    let doc = leptos::prelude::document();
    let target = doc.get_element_by_id(field).or_else(|| {
        doc.query_selector(&format!("[name=\"{field}\"]"))
            .ok()
            .flatten()
    });
    match target.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        Some(el) => el.focus().is_ok(),
        None => false,
    }
}
