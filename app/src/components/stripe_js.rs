//! Stripe.js in the add-card form when Stripe is the gateway: the script loaded from Stripe
//! (never a copy), its card field mounted in the form, and the SetupIntent confirmed with
//! it, so the card number goes from Stripe's own field to Stripe and never to Settle. Only
//! the documented calls: `Stripe(key)`, `elements()`, `elements.create('card')`,
//! `element.mount(selector)`, `element.on('change')`, `stripe.confirmCardSetup(secret, data)`.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Stripe.js and its card field, mounted.
#[derive(Clone)]
pub struct StripeCard {
    stripe: JsValue,
    card: JsValue,
    _on_change: std::rc::Rc<Closure<dyn FnMut(JsValue)>>,
}

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn call(target: &JsValue, method: &str, args: &[&JsValue]) -> Result<JsValue, String> {
    let f: Function = get(target, method)
        .dyn_into()
        .map_err(|_| format!("Stripe.js has no {method}"))?;
    let list = Array::new();
    for a in args {
        list.push(a);
    }
    f.apply(target, &list).map_err(message)
}

fn message(e: JsValue) -> String {
    e.as_string()
        .or_else(|| get(&e, "message").as_string())
        .unwrap_or_else(|| "The card could not be checked. Try again.".into())
}

fn object(pairs: &[(&str, &JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

/// Loads Stripe.js once (a script element from Stripe's address) and waits for it.
async fn load() -> Result<JsValue, String> {
    let window: JsValue = web_sys::window().ok_or("no window")?.into();
    let stripe = get(&window, "Stripe");
    if stripe.is_function() {
        return Ok(stripe);
    }
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let script: web_sys::HtmlScriptElement = document
        .create_element("script")
        .map_err(message)?
        .unchecked_into();
    script.set_src(shared::method::STRIPE_JS_URL);
    let loaded = Promise::new(&mut |resolve, reject| {
        script.set_onload(Some(&resolve));
        script.set_onerror(Some(&reject));
    });
    document
        .head()
        .ok_or("no head")?
        .append_child(&script)
        .map_err(message)?;
    JsFuture::from(loaded).await.map_err(|_| {
        "Stripe's card field could not be loaded. Check the connection and try again."
    })?;
    Ok(get(&window, "Stripe"))
}

impl StripeCard {
    /// Mounts Stripe's card field in `element`; `on_change` gets the field's current error,
    /// if any, as the payer types.
    pub async fn mount(
        publishable_key: &str,
        element: &JsValue,
        on_change: impl Fn(Option<String>) + 'static,
    ) -> Result<StripeCard, String> {
        let constructor: Function = load().await?.dyn_into().map_err(message)?;
        let stripe = constructor
            .call1(&JsValue::NULL, &JsValue::from_str(publishable_key))
            .map_err(message)?;
        let elements = call(&stripe, "elements", &[])?;
        let card = call(&elements, "create", &[&JsValue::from_str("card")])?;
        call(&card, "mount", &[element])?;
        let on_change = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            let error = get(&event, "error");
            on_change(get(&error, "message").as_string());
        });
        call(
            &card,
            "on",
            &[&JsValue::from_str("change"), on_change.as_ref()],
        )?;
        Ok(StripeCard {
            stripe,
            card,
            _on_change: std::rc::Rc::new(on_change),
        })
    }

    /// Confirms the SetupIntent with the card typed in the field; answers the SetupIntent's
    /// id, or Stripe's message for the payer.
    pub async fn confirm(&self, client_secret: &str, holder_name: &str) -> Result<String, String> {
        let data = object(&[(
            "payment_method",
            &object(&[
                ("card", &self.card),
                (
                    "billing_details",
                    &object(&[("name", &JsValue::from_str(holder_name))]),
                ),
            ]),
        )]);
        let promise: Promise = call(
            &self.stripe,
            "confirmCardSetup",
            &[&JsValue::from_str(client_secret), &data],
        )?
        .dyn_into()
        .map_err(message)?;
        let result = JsFuture::from(promise).await.map_err(message)?;
        let error = get(&result, "error");
        if !error.is_undefined() && !error.is_null() {
            return Err(message(error));
        }
        get(&get(&result, "setupIntent"), "id")
            .as_string()
            .ok_or_else(|| "Stripe did not confirm the card. Try again.".into())
    }
}

/// [`StripeCard::mount`], in its own WASM chunk: loaded only where Stripe is the gateway and a
/// card is being added, not with every page.
#[leptos::lazy]
pub async fn mount_card(
    publishable_key: String,
    element: JsValue,
    on_change: std::rc::Rc<dyn Fn(Option<String>)>,
) -> Result<StripeCard, String> {
    StripeCard::mount(&publishable_key, &element, move |e| on_change(e)).await
}

/// [`StripeCard::confirm`], in the same kind of chunk.
#[leptos::lazy]
pub async fn confirm_card(
    card: StripeCard,
    client_secret: String,
    holder_name: String,
) -> Result<String, String> {
    card.confirm(&client_secret, &holder_name).await
}
