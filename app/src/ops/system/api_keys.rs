//! System → API Keys: the keys the seller's ERP calls the API with. Admins make one (its
//! secret is shown once; only its hash is kept) and revoke one; the list shows each key's
//! scope and when it was last used.

use crate::components::modal::{ConfirmDialog, Modal};
use crate::components::{
    action_error, field_error, general_error, loading_rows, DataTable, ErrorBanner, ErrorView,
    FieldMessage, TextField,
};
use crate::server_fns::system::{api_keys, create_api_key, revoke_api_key};
use leptos::prelude::*;
use leptos_meta::Title;
use shared::integration::{ApiKeySummary, ApiScope, CreatedApiKey};

/// "2026-11-29 14:03" (UTC, said in the column's header), or the placeholder.
pub fn when(t: Option<chrono::DateTime<chrono::Utc>>, never: &'static str) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| never.to_string())
}

#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let keys = Resource::new(move || version.get(), |_| api_keys());
    let adding = RwSignal::new(false);
    let created = RwSignal::new(None::<CreatedApiKey>);
    let confirming = RwSignal::new(None::<ApiKeySummary>);
    let message = RwSignal::new(None::<String>);
    let revoke = Action::new(move |k: &ApiKeySummary| {
        let (id, name) = (k.id, k.name.clone());
        async move { revoke_api_key(id).await.map(|_| name) }
    });
    Effect::new(move |_| {
        if let Some(r) = revoke.value().get() {
            confirming.set(None);
            if let Ok(name) = r {
                message.set(Some(format!(
                    "The key \"{name}\" is revoked: its next request is refused."
                )));
                version.update(|v| *v += 1);
            }
        }
    });
    let revoke_error = action_error(revoke);
    view! {
        <Title text="API Keys"/>
        <div class="page-head with-action">
            <div>
                <h1>"API Keys"</h1>
                <p class="subtitle">"Keys your ERP or scripts use for the Settle API (" <a href="/api/v1/openapi.json">"OpenAPI document"</a> "). A key never signs anyone in."</p>
            </div>
            <button type="button" class="btn btn-primary" on:click=move |_| { message.set(None); created.set(None); adding.set(true); }>"Create a key"</button>
        </div>
        <div role="status" aria-live="polite">
            {move || message.get().map(|m| view! { <div class="banner banner-success" data-testid="keys-message">{m}</div> })}
        </div>
        <ErrorBanner message=revoke_error/>
        <DataTable label="API keys" testid="api-keys">
            <thead><tr>
                <th scope="col">"Name"</th>
                <th scope="col">"Key"</th>
                <th scope="col">"Scope"</th>
                <th scope="col">"Created (UTC)"</th>
                <th scope="col">"Last used (UTC)"</th>
                <th scope="col">"Status"</th>
                <th scope="col"><span class="sr-only">"Actions"</span></th>
            </tr></thead>
            <Transition fallback=move || view! { <tbody><tr><td colspan="7">{loading_rows(3)}</td></tr></tbody> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Err(e) => view! { <tbody><tr><td colspan="7"><ErrorView error=e/></td></tr></tbody> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <tbody><tr><td colspan="7"><div class="empty-state">
                                <p>"No API keys yet. Create one for each system that calls Settle, so each can be revoked on its own."</p>
                            </div></td></tr></tbody>
                        }.into_any(),
                        Ok(list) => view! {
                            <tbody>
                                {list.into_iter().map(|k| {
                                    let revoked = k.revoked_at.is_some();
                                    let label = format!("Revoke {}", k.name);
                                    let key = k.clone();
                                    view! {
                                        <tr data-key=k.name.clone()>
                                            <td>{k.name.clone()}<div class="muted small">{format!("by {}", k.created_by)}</div></td>
                                            <td class="mono">{format!("{}…", k.prefix)}</td>
                                            <td>{k.scope.label()}</td>
                                            <td>{when(Some(k.created_at), "")}</td>
                                            <td data-testid="last-used">{when(k.last_used_at, "Never")}</td>
                                            <td>{if revoked {
                                                view! { <span class="badge badge-neutral">"Revoked"</span><div class="muted small">{when(k.revoked_at, "")}</div> }.into_any()
                                            } else {
                                                view! { <span class="badge badge-green">"Active"</span> }.into_any()
                                            }}</td>
                                            <td class="actions-cell">
                                                <Show when=move || !revoked>
                                                    <button type="button" class="btn btn-small" aria-label=label.clone()
                                                        on:click={let key = key.clone(); move |_| { message.set(None); confirming.set(Some(key.clone())); }}>"Revoke"</button>
                                                </Show>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        }.into_any(),
                    }
                })}
            </Transition>
        </DataTable>
        {move || confirming.get().map(|k| view! {
            <ConfirmDialog title="Revoke this key?" question=format!("Revoke \"{}\" ({}…)?", k.name, k.prefix)
                detail="Whatever uses it is refused from its next request on. This cannot be undone: make a new key instead."
                confirm="Revoke" danger=true pending=revoke.pending()
                on_confirm=Callback::new(move |_| { revoke.dispatch(k.clone()); })
                on_cancel=Callback::new(move |_| confirming.set(None))/>
        })}
        {move || adding.get().then(|| view! {
            <Modal title="Create an API key" on_close=Callback::new(move |_| { adding.set(false); if created.get_untracked().is_some() { version.update(|v| *v += 1); } created.set(None); })>
                <CreateKeyForm created=created
                    on_done=Callback::new(move |_| { adding.set(false); created.set(None); version.update(|v| *v += 1); })/>
            </Modal>
        })}
    }
}

#[component]
fn CreateKeyForm(created: RwSignal<Option<CreatedApiKey>>, on_done: Callback<()>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let scope = RwSignal::new(ApiScope::ReadWrite);
    let save = Action::new(move |(n, s): &(String, ApiScope)| {
        create_api_key(n.clone(), s.as_str().to_string())
    });
    Effect::new(move |_| {
        if let Some(Ok(k)) = save.value().get() {
            created.set(Some(k));
        }
    });
    let error = move |f: &'static str| field_error(save, f);
    let general = general_error(save);
    view! {
        {move || match created.get() {
            Some(k) => view! {
                <div class="modal-body" data-testid="key-created">
                    <p>{format!("The key \"{}\" ({}) is ready. Copy it now into the system that uses it:", k.key.name, k.key.scope.label())}</p>
                    <p class="temp-password mono secret" data-testid="api-key-secret">{k.secret.clone()}</p>
                    <p class="muted">"It is shown only now: Settle keeps only a hash of it. Lost, it cannot be shown again — revoke it and make another."</p>
                    <div class="modal-actions">
                        <button type="button" class="btn btn-primary" on:click=move |_| on_done.run(())>"Done"</button>
                    </div>
                </div>
            }.into_any(),
            None => view! {
                <form class="form" novalidate on:submit=move |ev| {
                    ev.prevent_default();
                    if !save.pending().get_untracked() {
                        save.dispatch((name.get_untracked(), scope.get_untracked()));
                    }
                }>
                    <ErrorBanner message=general/>
                    <TextField name="name" label="Name (what uses it)" autocomplete="off" placeholder="NetSuite sync" value=name error=error("name")/>
                    <fieldset class="field" aria-describedby="scope-error">
                        <legend>"Scope"</legend>
                        {[ApiScope::ReadWrite, ApiScope::Read].into_iter().map(|s| view! {
                            <label class="radio">
                                <input type="radio" name="scope" value=s.as_str()
                                    prop:checked=move || scope.get() == s
                                    on:change=move |_| scope.set(s)/>
                                {match s {
                                    ApiScope::ReadWrite => "Read and write — load companies, contacts, invoices and ERP payments; read payments",
                                    ApiScope::Read => "Read only — read companies, invoices and payments",
                                }}
                            </label>
                        }).collect_view()}
                        <FieldMessage id="scope-error".to_string() message=error("scope")/>
                    </fieldset>
                    <div class="modal-actions">
                        <button type="button" class="btn" on:click=move |_| on_done.run(())>"Cancel"</button>
                        <button type="submit" class="btn btn-primary" disabled=move || save.pending().get()>
                            <Show when=move || save.pending().get()><span class="spinner" aria-hidden="true"></span></Show>
                            "Create key"
                        </button>
                    </div>
                </form>
            }.into_any(),
        }}
    }
}
