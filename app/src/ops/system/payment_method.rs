//! A saved payment method: every field, its authorization document, its audit history,
//! and the *Activate* dropdown (Active / Inactive), saved after a confirmation.

use crate::components::methods_table::{expiry_label, MethodStatusBadge};
use crate::components::modal::Modal;
use crate::components::{loading_page, use_id_param, ErrorBanner, ErrorView};
use crate::server_fns::methods::{payment_method_detail, set_method_active};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use shared::document::size_label;
use shared::format::date;
use shared::method::{Instrument, MethodDetail, MethodKind};

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    format!("{} {}", date(at.date_naive()), at.format("%H:%M UTC"))
}

#[component]
pub fn PaymentMethodPage() -> impl IntoView {
    let id = use_id_param::<shared::MethodId>();
    let version = RwSignal::new(0u32);
    // Outlives the reload of the detail after a change, so its message stays.
    let saved = RwSignal::new(None::<String>);
    let detail = Resource::new(
        move || (id.get(), version.get()),
        |(id, _)| payment_method_detail(id),
    );
    view! {
        <Suspense fallback=move || view! { <MethodCrumbs label="Payment method".into()/>{loading_page()} }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! {
                        <MethodCrumbs label="Payment method".into()/>
                        <ErrorView error=e/>
                    }.into_any(),
                    Ok(d) => view! {
                        <MethodCrumbs label=d.summary.method.label()/>
                        <MethodDetailView detail=d version=version saved=saved/>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The page title and breadcrumbs, from plain strings (never a closure over the page's
/// signals, which a server render pass may have disposed of).
#[component]
fn MethodCrumbs(label: String) -> impl IntoView {
    view! {
        <Title text=label.clone()/>
        <nav class="breadcrumbs" aria-label="Breadcrumb">
            <A href="/ops/system/payment-methods">"Payment Methods"</A>
            <span aria-hidden="true">" / "</span>
            <span aria-current="page">{label}</span>
        </nav>
    }
}

#[component]
fn MethodDetailView(
    detail: MethodDetail,
    version: RwSignal<u32>,
    saved: RwSignal<Option<String>>,
) -> impl IntoView {
    let s = detail.summary.clone();
    let m = s.method.clone();
    let id = m.id;
    let label = m.label();
    let company_href = format!("/ops/crm/companies/{}", s.company_code);
    // The change waiting for confirmation, and the outcome of the last one.
    let confirming = RwSignal::new(None::<bool>);
    let save = Action::new(move |active: &bool| {
        let active = *active;
        async move { set_method_active(id, active).await.map(|_| active) }
    });
    let error = Signal::derive(move || {
        save.value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    Effect::new(move |_| {
        if let Some(Ok(active)) = save.value().get() {
            confirming.set(None);
            saved.set(Some(if active {
                "Saved. The method is active and offered as a payment option again.".into()
            } else {
                "Saved. The method is inactive and no longer offered as a payment option.".into()
            }));
            version.update(|v| *v += 1);
        }
    });
    let active = s.active;
    let select_ref = NodeRef::<leptos::html::Select>::new();
    let reset_select = move || {
        if let Some(el) = select_ref.get_untracked() {
            el.set_value(if active { "active" } else { "inactive" });
        }
    };
    let question = StoredValue::new(format!(
        "{} of {} ({})?",
        label, s.company_name, s.company_code
    ));
    view! {
        <div class="page-head with-action">
            <div>
                <h1>{label.clone()}</h1>
                <p class="subtitle">
                    <A href=company_href>{format!("{} ({})", s.company_name, s.company_code)}</A>
                </p>
            </div>
            <div class="activate">
                <label for="activate">"Activate"</label>
                <select
                    id="activate"
                    node_ref=select_ref
                    prop:value=if active { "active" } else { "inactive" }
                    on:change=move |ev| {
                        saved.set(None);
                        let want = event_target_value(&ev) == "active";
                        if want != active {
                            confirming.set(Some(want));
                        }
                    }
                >
                    <option value="active">"Active"</option>
                    <option value="inactive">"Inactive"</option>
                </select>
            </div>
        </div>
        <div role="status" aria-live="polite">
            {move || saved.get().map(|m| view! { <div class="banner banner-success" data-testid="saved">{m}</div> })}
        </div>
        <section class="card-panel" aria-labelledby="method-fields">
            <h2 id="method-fields">"Details"</h2>
            <dl class="detail-grid">
                <dt>"Status"</dt><dd><MethodStatusBadge status=s.status/></dd>
                <dt>"Type"</dt><dd>{m.kind().label()}</dd>
                <dt>"Holder"</dt><dd>{m.holder_name.clone()}</dd>
                {match m.instrument.clone() {
                    Instrument::Card { brand, .. } => view! {
                        <dt>"Brand"</dt><dd>{brand.label()}</dd>
                        <dt>"Last 4"</dt><dd class="mono">{m.last4.clone()}</dd>
                        <dt>"Expiry"</dt><dd>{expiry_label(&s)}</dd>
                    }.into_any(),
                    Instrument::Ach { bank_name, account_type } => view! {
                        <dt>"Last 4"</dt><dd class="mono">{m.last4.clone()}</dd>
                        {bank_name.map(|b| view! { <dt>"Bank"</dt><dd>{b}</dd> })}
                        {detail.routing_number.clone().map(|r| view! { <dt>"Routing number"</dt><dd class="mono">{r}</dd> })}
                        <dt>"Account type"</dt><dd class="capitalize">{account_type.as_str()}</dd>
                    }.into_any(),
                }}
                {detail.holder_type.clone().map(|t| view! { <dt>"Holder type"</dt><dd class="capitalize">{t}</dd> })}
                <dt>"Default"</dt><dd>{if m.is_default { "Yes" } else { "No" }}</dd>
                <dt>"Added"</dt><dd>{format!("{} by {}", when(s.added_at), s.added_by.clone().unwrap_or_else(|| "Settle (demo data)".into()))}</dd>
            </dl>
        </section>
        {(m.kind() == MethodKind::Ach).then(|| view! {
            <section class="card-panel" aria-labelledby="method-document">
                <h2 id="method-document">"Debit authorization"</h2>
                {match detail.document.clone() {
                    None => view! { <p class="muted">"No authorization document is on file."</p> }.into_any(),
                    Some(doc) => view! {
                        <dl class="detail-grid">
                            <dt>"File"</dt>
                            <dd>
                                <a href=format!("/api/documents/{}", doc.id) target="_blank" rel="noopener" data-testid="document-link">{doc.file_name.clone()}</a>
                                {format!(" · {} · {}", doc.content_type, size_label(doc.size_bytes))}
                            </dd>
                            <dt>"Signed on"</dt><dd>{doc.signed_on.map(date).unwrap_or_else(|| "—".into())}</dd>
                            <dt>"Uploaded"</dt><dd>{format!("{} by {}", when(doc.uploaded_at), doc.uploaded_by.clone().unwrap_or_else(|| "Settle (demo data)".into()))}</dd>
                            <dt>"SHA-256"</dt><dd class="mono small">{doc.sha256.clone()}</dd>
                        </dl>
                    }.into_any(),
                }}
            </section>
        })}
        <section class="card-panel" aria-labelledby="method-history">
            <h2 id="method-history">"History"</h2>
            {if detail.history.is_empty() {
                view! { <p class="muted">"No changes recorded since it was loaded with the demo data."</p> }.into_any()
            } else {
                view! {
                    <ol class="history" data-testid="history">
                        {detail.history.iter().map(|h| view! {
                            <li><span class="muted">{when(h.at)}</span><span>{format!("{} — {}", h.what, h.who)}</span></li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </section>
        {move || confirming.get().map(|want| {
            let verb = if want { "Activate" } else { "Deactivate" };
            let consequence = if want {
                "It will be offered as a payment option again, to staff and to the customer."
            } else {
                "It will no longer be offered as a payment option, to staff or to the customer, and it cannot be charged."
            };
            let cancel = move || {
                confirming.set(None);
                reset_select();
            };
            view! {
                <Modal title=format!("{verb} this payment method?") on_close=Callback::new(move |_| cancel())>
                    <div class="modal-body">
                        <p>{format!("{verb} {}", question.get_value())}</p>
                        <p class="muted">{consequence}</p>
                        <ErrorBanner message=error/>
                        <div class="modal-actions">
                            <button type="button" class="btn" on:click=move |_| cancel()>"Cancel"</button>
                            <button type="button" class="btn btn-primary" disabled=move || save.pending().get()
                                on:click=move |_| { save.dispatch(want); }>
                                <Show when=move || save.pending().get()><span class="spinner" aria-hidden="true"></span></Show>
                                {verb}
                            </button>
                        </div>
                    </div>
                </Modal>
            }
        })}
    }
}
