//! System → Webhooks: the endpoints Settle tells about payments and payment methods. Admins
//! register one (URL and events; Settle makes its signing secret) and open it to see its
//! secret and delivery log, retry a delivery, or turn it off.

use super::api_keys::when;
use crate::components::modal::Modal;
use crate::components::{
    field_error, general_error, loaded, use_id_param, DataTable, ErrorBanner, ErrorView,
    FieldMessage, TextField,
};
use crate::server_fns::system::{
    create_webhook, retry_webhook_delivery, set_webhook_active, webhook, webhooks,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::integration::{event_types, DeliveryStatus};

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let list = Resource::new(|| (), |_| webhooks());
    let adding = RwSignal::new(false);
    view! {
        <Title text="Webhooks"/>
        <div class="page-head with-action">
            <div>
                <h1>"Webhooks"</h1>
                <p class="subtitle">"Settle posts each event to these URLs, signed (header Settle-Signature), retrying until they answer 2xx."</p>
            </div>
            <button type="button" class="btn btn-primary" on:click=move |_| adding.set(true)>"Add an endpoint"</button>
        </div>
        {loaded(list, || view! {
            <div class="empty-state"><p>"No webhook endpoints. Add one to have your ERP told about payments as they happen."</p></div>
        }.into_any(), |list| view! {
            <DataTable label="Webhook endpoints" testid="webhooks">
                <thead><tr>
                    <th scope="col">"URL"</th>
                    <th scope="col">"Events"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col" class="num">"Delivered"</th>
                    <th scope="col" class="num">"Waiting"</th>
                    <th scope="col" class="num">"Failed"</th>
                    <th scope="col"><span class="sr-only">"Details"</span></th>
                </tr></thead>
                <tbody>
                    {list.into_iter().map(|e| view! {
                        <tr data-url=e.url.clone()>
                            <td class="mono wrap">{e.url.clone()}<div class="muted small">{e.description.clone().unwrap_or_default()}</div></td>
                            <td class="small wrap">{e.events.join(", ")}</td>
                            <td>{if e.active { view! { <span class="badge badge-green">"On"</span> }.into_any() } else { view! { <span class="badge badge-neutral">"Off"</span> }.into_any() }}</td>
                            <td class="num">{e.delivered}</td>
                            <td class="num">{e.pending}</td>
                            <td class="num">{e.failed}</td>
                            <td class="actions-cell"><A href=format!("/ops/system/webhooks/{}", e.id) attr:class="btn btn-small">"More Details"</A></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </DataTable>
        })}
        {move || adding.get().then(|| view! {
            <Modal title="Add a webhook endpoint" on_close=Callback::new(move |_| adding.set(false))>
                <AddEndpointForm on_cancel=Callback::new(move |_| adding.set(false))/>
            </Modal>
        })}
    }
}

#[component]
fn AddEndpointForm(on_cancel: Callback<()>) -> impl IntoView {
    let url = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let chosen = RwSignal::new(
        shared::integration::EVENT_TYPES
            .iter()
            .map(|(t, _)| t.to_string())
            .collect::<Vec<_>>(),
    );
    let save = Action::new(move |(u, d, e): &(String, String, Vec<String>)| {
        create_webhook(u.clone(), d.clone(), e.clone())
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = save.value().get() {
            navigate(&format!("/ops/system/webhooks/{id}"), Default::default());
        }
    });
    let error = move |f: &'static str| field_error(save, f);
    let general = general_error(save);
    view! {
        <form class="form" novalidate on:submit=move |ev| {
            ev.prevent_default();
            if !save.pending().get_untracked() {
                save.dispatch((url.get_untracked(), description.get_untracked(), chosen.get_untracked()));
            }
        }>
            <ErrorBanner message=general/>
            <TextField name="url" label="Endpoint URL" input_type="url" autocomplete="off" placeholder="https://erp.example.com/settle-events" value=url error=error("url")/>
            <TextField name="description" label="Description (optional)" autocomplete="off" value=description error=error("description")/>
            <fieldset class="field" aria-describedby="events-error">
                <legend>"Events"</legend>
                {event_types().map(|(t, label)| {
                    let t = t.to_string();
                    let (t1, t2) = (t.clone(), t.clone());
                    view! {
                        <label class="check">
                            <input type="checkbox" name="events" value=t.clone()
                                prop:checked=move || chosen.get().contains(&t1)
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    chosen.update(|c| { c.retain(|x| *x != t2); if on { c.push(t2.clone()); } });
                                }/>
                            <span><span class="mono">{t.clone()}</span>" — "{label}</span>
                        </label>
                    }
                }).collect_view()}
                <FieldMessage id="events-error".to_string() message=error("events")/>
            </fieldset>
            <div class="modal-actions">
                <button type="button" class="btn" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                <button type="submit" class="btn btn-primary" disabled=move || save.pending().get()>
                    <Show when=move || save.pending().get()><span class="spinner" aria-hidden="true"></span></Show>
                    "Add endpoint"
                </button>
            </div>
        </form>
    }
}

#[component]
pub fn WebhookPage() -> impl IntoView {
    let id = use_id_param::<shared::WebhookId>();
    let version = RwSignal::new(0u32);
    let data = Resource::new(move || (id.get(), version.get()), |(id, _)| webhook(id));
    let toggle = Action::new(move |active: &bool| set_webhook_active(id.get_untracked(), *active));
    let retry = Action::new(move |delivery: &shared::DeliveryId| {
        retry_webhook_delivery(id.get_untracked(), *delivery)
    });
    let message = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(())) = toggle.value().get() {
            version.update(|v| *v += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = retry.value().get() {
            message.set(Some(
                "The delivery is queued again; it goes out within seconds.".into(),
            ));
            version.update(|v| *v += 1);
        }
    });
    let action_error = Signal::derive(move || {
        toggle
            .value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| retry.value().get().and_then(|r| r.err()))
            .map(|e| e.to_string())
    });
    view! {
        <Title text="Webhook endpoint"/>
        <p class="breadcrumbs"><A href="/ops/system/webhooks">"Webhooks"</A></p>
        <ErrorBanner message=action_error/>
        <div role="status" aria-live="polite">
            {move || message.get().map(|m| view! { <div class="banner banner-success">{m}</div> })}
        </div>
        <Transition fallback=crate::components::loading_page>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok((e, deliveries)) => {
                        let active = e.active;
                        view! {
                            <div class="page-head with-action">
                                <div>
                                    <h1 class="mono wrap">{e.url.clone()}</h1>
                                    <p class="subtitle">{e.description.clone().unwrap_or_default()}</p>
                                </div>
                                <div class="actions">
                                    <button type="button" class="btn" on:click=move |_| { message.set(None); version.update(|v| *v += 1); }>"Refresh"</button>
                                    <button type="button" class="btn" disabled=move || toggle.pending().get()
                                        on:click=move |_| { toggle.dispatch(!active); }>{if active { "Turn off" } else { "Turn on" }}</button>
                                </div>
                            </div>
                            <dl class="kv">
                                <dt>"Status"</dt><dd>{if active { "On: new events are delivered" } else { "Off: no new deliveries" }}</dd>
                                <dt>"Events"</dt><dd class="mono">{e.events.join(", ")}</dd>
                                <dt>"Signing secret"</dt><dd><code class="secret" data-testid="webhook-secret">{e.secret.clone()}</code>
                                    <p class="help">"Check each request's Settle-Signature header (t=…,v1=HMAC-SHA256 of \"t.body\" with this secret) and refuse a t older than 5 minutes."</p></dd>
                            </dl>
                            <h2>"Delivery log"</h2>
                            {if deliveries.is_empty() {
                                view! { <div class="empty-state"><p>"Nothing sent yet: deliveries appear here as events happen."</p></div> }.into_any()
                            } else {
                                view! {
                                    <DataTable label="Deliveries" testid="deliveries" class="dense">
                                        <thead><tr>
                                            <th scope="col">"Event"</th>
                                            <th scope="col">"Type"</th>
                                            <th scope="col">"Status"</th>
                                            <th scope="col" class="num">"Attempts"</th>
                                            <th scope="col">"Last answer"</th>
                                            <th scope="col">"Created (UTC)"</th>
                                            <th scope="col">"Next attempt / delivered (UTC)"</th>
                                            <th scope="col"><span class="sr-only">"Actions"</span></th>
                                        </tr></thead>
                                        <tbody>
                                            {deliveries.into_iter().map(|d| {
                                                let tone = match d.status {
                                                    DeliveryStatus::Delivered => "badge-green",
                                                    DeliveryStatus::Pending => "badge-amber",
                                                    DeliveryStatus::Failed => "badge-red",
                                                };
                                                let answer = match (d.last_status, d.last_error.clone()) {
                                                    (_, Some(err)) => err,
                                                    (Some(s), None) => format!("HTTP {s}"),
                                                    (None, None) => "—".into(),
                                                };
                                                let label = format!("Retry {}", d.event_id);
                                                let delivery = d.id;
                                                view! {
                                                    <tr data-event=d.event_id.clone()>
                                                        <td class="mono">{d.event_id.clone()}</td>
                                                        <td class="mono">{d.event_type.clone()}</td>
                                                        <td><span class=format!("badge {tone}") data-testid="delivery-status">{d.status.label()}</span></td>
                                                        <td class="num" data-testid="delivery-attempts">{d.attempts}</td>
                                                        <td class="small wrap">{answer}</td>
                                                        <td>{when(Some(d.created_at), "")}</td>
                                                        <td>{if d.status == DeliveryStatus::Delivered { when(d.delivered_at, "") } else { when(d.next_attempt_at, "—") }}</td>
                                                        <td class="actions-cell">
                                                            <button type="button" class="btn btn-small" aria-label=label disabled=move || retry.pending().get()
                                                                on:click=move |_| { retry.dispatch(delivery); }>"Retry"</button>
                                                        </td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </DataTable>
                                }.into_any()
                            }}
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
