//! Widgets used on several screens.

pub mod add_method;
pub mod chart;
pub mod credit;
pub mod focus;
pub mod gateway_client;
pub mod invite;
pub mod invoice_table;
pub mod methods_table;
pub mod modal;
pub mod pager;
pub mod pay_invoices;
pub mod payment_dialog;
pub mod payments_history;
pub mod receipt;
pub mod selection;
pub mod stripe_js;

use crate::error::ApiError;
use leptos::prelude::*;
use leptos_meta::Title;
use shared::AppError;

pub use add_method::AddMethodForm;
pub use invoice_table::InvoiceTable;
pub use pager::Pager;
pub use pay_invoices::OpenInvoicesToPay;
pub use payment_dialog::PaymentDialog;
pub use payments_history::{CompanyPayments, PaymentsHistory};
pub use receipt::{PaymentBadge, ReceiptView};
pub use selection::Selection;

/// Who is paying or adding a method: staff on a company's behalf (by Company ID), or the
/// signed-in customer for their own company. The shared screens and dialogs differ only by
/// this.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payer {
    Staff(String),
    Customer,
    /// Whoever holds a pay link (its token): no account, the link's company and invoices only.
    Link(String),
}

impl Payer {
    pub fn is_staff(&self) -> bool {
        matches!(self, Payer::Staff(_))
    }

    /// The pay link's token, when paying through one.
    pub fn link(&self) -> Option<String> {
        match self {
            Payer::Link(token) => Some(token.clone()),
            _ => None,
        }
    }

    /// The Company ID staff act for, or the customer's own (from the portal's signed-in
    /// user; the server uses the session's company whatever is sent).
    pub fn company(&self) -> String {
        match self {
            Payer::Staff(code) => code.clone(),
            Payer::Customer => use_context::<shared::auth::SessionUser>()
                .and_then(|u| u.company.map(|c| c.code.to_string()))
                .unwrap_or_default(),
            // The link names its company; the server never reads one from a link's payer.
            Payer::Link(_) => String::new(),
        }
    }
}

/// The numeric `:id` of the current route as a typed id (0 when it is not a number, which
/// finds nothing).
pub fn use_id_param<Id: From<i64> + Clone + PartialEq + Send + Sync + 'static>() -> Memo<Id> {
    let params = leptos_router::hooks::use_params_map();
    Memo::new(move |_| {
        Id::from(
            params
                .read()
                .get("id")
                .and_then(|s| s.parse::<i64>().ok())
                .unwrap_or(0),
        )
    })
}

/// What an action's last error says, picked by `pick` (reactive).
fn error_signal<I, T>(
    action: Action<I, Result<T, ApiError>>,
    pick: impl Fn(ApiError) -> Option<String> + Send + Sync + 'static,
) -> Signal<Option<String>>
where
    I: Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(|r| r.err()).and_then(&pick))
}

/// A form action's error for one field (shown beside it), or `None`.
pub fn field_error<I, T>(
    action: Action<I, Result<T, ApiError>>,
    field: &'static str,
) -> Signal<Option<String>>
where
    I: Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    error_signal(action, move |e| e.message_for(field))
}

/// An action's error, whatever it is about (a row action's banner), or `None`.
pub fn action_error<I, T>(action: Action<I, Result<T, ApiError>>) -> Signal<Option<String>>
where
    I: Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    error_signal(action, |e| Some(e.to_string()))
}

/// A form action's error that belongs to no field (shown as a banner), or `None`.
pub fn general_error<I, T>(action: Action<I, Result<T, ApiError>>) -> Signal<Option<String>>
where
    I: Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    error_signal(action, |e| e.app().field().is_none().then(|| e.to_string()))
}

/// A full-area loading state.
pub fn loading_page() -> impl IntoView {
    view! {
        <div class="loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            " Loading…"
        </div>
    }
}

/// A list once its resource has loaded, the same way everywhere: loading rows meanwhile (the
/// previous list stays while it reloads), the error, the empty state, or the rows.
pub fn loaded<T, V>(
    resource: Resource<Result<Vec<T>, ApiError>>,
    empty: impl Fn() -> AnyView + Clone + Send + Sync + 'static,
    rows: impl Fn(Vec<T>) -> V + Clone + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    V: IntoView + 'static,
{
    view! {
        <Transition fallback=move || loading_rows(6)>
            {move || {
                let (empty, rows) = (empty.clone(), rows.clone());
                Suspend::new(async move {
                    match resource.await {
                        Err(e) => view! { <ErrorView error=e/> }.into_any(),
                        Ok(list) if list.is_empty() => empty(),
                        Ok(list) => rows(list).into_any(),
                    }
                })
            }}
        </Transition>
    }
}

/// A loading state for a table: skeleton rows under the real header.
pub fn loading_rows(columns: usize) -> impl IntoView {
    view! {
        <div class="loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            " Loading…"
        </div>
        <div class="skeleton" aria-hidden="true">
            {(0..6).map(|_| view! { <div class="skeleton-row" style=format!("--cols:{columns}")></div> }).collect_view()}
        </div>
    }
}

/// A field of a GET filter form (`name` = `id`), with the request's error under it when the
/// error is about this field.
pub fn filter_field(
    id: &'static str,
    label: &'static str,
    kind: &'static str,
    value: Option<String>,
    error: Option<&(String, String)>,
) -> impl IntoView {
    let message = error.filter(|(k, _)| k == id).map(|(_, m)| m.clone());
    let bad = message.is_some();
    let error_id = format!("{id}-error");
    view! {
        <div class="field" class:has-error=bad>
            <label for=id>{label}</label>
            <input type=kind id=id name=id value=value.unwrap_or_default()
                placeholder=(kind == "search").then_some("C1001")
                aria-invalid=bad.then_some("true") aria-describedby=error_id.clone()/>
            <FieldMessage id=error_id message=Signal::derive(move || message.clone())/>
        </div>
    }
}

/// Download a month's statement as PDF: a GET form to `action` (this month when no month is
/// picked), so it works before the page is interactive.
#[component]
pub fn StatementForm(#[prop(into)] action: String) -> impl IntoView {
    view! {
        <form class="statement-form" method="get" action=action aria-label="Statement">
            <label for="statement-month">"Statement for"</label>
            <input type="month" id="statement-month" name="month" aria-describedby="statement-month-help"/>
            <button type="submit" class="btn">"Download PDF"</button>
            <span id="statement-month-help" class="sr-only">"Leave the month empty for this month so far."</span>
        </form>
    }
}

/// A field's error message under it, with an icon; empty when there is none.
#[component]
pub fn FieldMessage(
    #[prop(into)] id: String,
    #[prop(into)] message: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <p class="field-error" id=id role="alert" aria-live="polite">
            {move || message.get().map(|m| view! {
                <span class="icon-error" aria-hidden="true">"!"</span>
                {m}
            })}
        </p>
    }
}

/// A labelled input with its help and error text: the error shows under the field, the field
/// is outlined and marked `aria-invalid`. With `value` the input is controlled: what is typed
/// goes through `format` (e.g. grouping card digits) into the signal.
#[component]
pub fn TextField(
    /// The input's `name` and `id`; errors for this field name show here.
    name: &'static str,
    #[prop(into)] label: String,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(optional)] node_ref: NodeRef<leptos::html::Input>,
    #[prop(optional)] value: Option<RwSignal<String>>,
    #[prop(optional)] format: Option<fn(&str) -> String>,
    /// Help under the field (e.g. the card brand as soon as it is known).
    #[prop(optional, into)]
    help: Option<Signal<String>>,
    #[prop(optional)] inputmode: Option<&'static str>,
    #[prop(optional)] placeholder: Option<&'static str>,
    #[prop(optional)] maxlength: Option<u32>,
    #[prop(optional)] max: Option<String>,
    #[prop(optional, into)] class: String,
) -> impl IntoView {
    let error_id = format!("{name}-error");
    let help_id = format!("{name}-help");
    let described_by = match help {
        Some(_) => format!("{help_id} {error_id}"),
        None => error_id.clone(),
    };
    view! {
        <div class=format!("field {class}") class:has-error=move || error.get().is_some()>
            <label for=name>{label}</label>
            <input
                id=name
                name=name
                type=input_type
                autocomplete=autocomplete
                inputmode=inputmode
                placeholder=placeholder
                maxlength=maxlength
                max=max
                required
                node_ref=node_ref
                prop:value=move || value.map(|v| v.get()).unwrap_or_default()
                on:input=move |ev| {
                    if let Some(v) = value {
                        let typed = event_target_value(&ev);
                        v.set(match format { Some(f) => f(&typed), None => typed });
                    }
                }
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=described_by
            />
            {help.map(|h| view! { <p class="help" id=help_id>{move || h.get()}</p> })}
            <FieldMessage id=error_id message=error/>
        </div>
    }
}

/// A scrollable, keyboard-reachable table with a caption for screen readers. Children are
/// the `thead`, `tbody` and `tfoot`.
#[component]
pub fn DataTable(
    /// Names the table (caption and region label).
    #[prop(into)]
    label: String,
    /// `data-testid` of the table, for tests.
    #[prop(optional, into)]
    testid: Option<String>,
    /// More classes for the table, e.g. `dense`.
    #[prop(optional, into)]
    class: String,
    children: Children,
) -> impl IntoView {
    let caption = label.clone();
    view! {
        <div class="table-wrap" tabindex="0" role="region" aria-label=label>
            <table class=format!("table {class}") data-testid=testid>
                <caption class="sr-only">{caption}</caption>
                {children()}
            </table>
        </div>
    }
}

/// A list's search box: a GET form (works before hydration) that also searches as the user
/// types, through `on_input`. Children go inside the form (e.g. hidden filters).
#[component]
pub fn SearchBar(
    /// The list's path.
    action: &'static str,
    id: &'static str,
    label: &'static str,
    placeholder: &'static str,
    /// The search in the URL when the page loads.
    value: String,
    node_ref: NodeRef<leptos::html::Input>,
    on_input: Callback<leptos::ev::Event>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <leptos_router::components::Form method="GET" action=action attr:class="toolbar" attr:role="search">
            <label for=id class="sr-only">{label}</label>
            <input
                id=id
                type="search"
                name="q"
                class="search"
                placeholder=placeholder
                autocomplete="off"
                value=value
                node_ref=node_ref
                on:input=move |ev| on_input.run(ev)
            />
            {children.map(|c| c())}
            <button type="submit" class="btn">"Search"</button>
        </leptos_router::components::Form>
    }
}

/// A message for the whole form or page, when there is one.
#[component]
pub fn ErrorBanner(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <div role="alert" aria-live="assertive">
            {move || message.get().map(|m| view! { <div class="banner banner-error">{m}</div> })}
        </div>
    }
}

/// What to show when a server call failed: a clear sentence and, where it helps, a way on.
#[component]
pub fn ErrorView(error: ApiError) -> impl IntoView {
    let action = match error.app() {
        AppError::Unauthenticated => {
            Some(view! { <a class="btn" href="/login">"Sign in"</a> }.into_any())
        }
        AppError::Forbidden => {
            Some(view! { <a class="btn" href="/">"Go to your home page"</a> }.into_any())
        }
        _ => None,
    };
    view! {
        <div class="empty-state error-state" role="alert">
            <p>{error.to_string()}</p>
            {action}
        </div>
    }
}

/// The page for a wrong role: says so clearly, shows nothing else.
#[component]
pub fn NotAllowed() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::request::set_page_status(http::StatusCode::FORBIDDEN);
    view! {
        <Title text="Not allowed"/>
        <main class="standalone">
            <div class="standalone-card">
                <h1>"Not allowed"</h1>
                <p>"Your account does not have access to this page."</p>
                <p class="actions">
                    <a class="btn btn-primary" href="/">"Go to your home page"</a>
                </p>
            </div>
        </main>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::request::set_page_status(http::StatusCode::NOT_FOUND);
    view! {
        <Title text="Page not found"/>
        <main class="standalone">
            <div class="standalone-card">
                <h1>"Page not found"</h1>
                <p>"There is no page at this address."</p>
                <p class="actions"><a class="btn btn-primary" href="/">"Go to your home page"</a></p>
            </div>
        </main>
    }
}

/// The sign-out button (a form, so it works before the page is interactive too).
#[component]
pub fn SignOut() -> impl IntoView {
    let logout = ServerAction::<crate::server_fns::people::Logout>::new();
    view! {
        <ActionForm action=logout attr:class="signout">
            <button type="submit" class="btn btn-ghost" disabled=move || logout.pending().get()>"Sign out"</button>
        </ActionForm>
    }
}

/// A labelled key figure, e.g. "Open balance $12,340.00".
#[component]
pub fn Figure(
    #[prop(into)] label: String,
    #[prop(into)] value: String,
    #[prop(optional, into)] tone: Option<String>,
) -> impl IntoView {
    view! {
        <div class="figure">
            <div class="figure-label">{label}</div>
            <div class=format!("figure-value num {}", tone.unwrap_or_default())>{value}</div>
        </div>
    }
}
