//! Company → Pay Links: the links clerks sent from the payment dialog, with their status
//! (sent, opened, paid, expired, revoked) and "Revoke" for one not paid yet.

use super::use_company_code;
use crate::components::modal::ConfirmDialog;
use crate::components::{action_error, loading_rows, DataTable, ErrorBanner, ErrorView};
use crate::ops::system::api_keys::when;
use crate::server_fns::pay_links::{pay_links, revoke_pay_link};
use leptos::prelude::*;
use shared::email::{PayLinkStatus, PayLinkSummary};

#[component]
pub fn PayLinksTab() -> impl IntoView {
    let code = use_company_code();
    let version = RwSignal::new(0u32);
    let links = Resource::new(move || (code.get(), version.get()), |(c, _)| pay_links(c));
    let confirming = RwSignal::new(None::<PayLinkSummary>);
    let message = RwSignal::new(None::<String>);
    let revoke = Action::new(move |l: &PayLinkSummary| {
        let (id, to) = (l.id, l.email.clone());
        async move { revoke_pay_link(code.get_untracked(), id).await.map(|_| to) }
    });
    Effect::new(move |_| {
        if let Some(r) = revoke.value().get() {
            confirming.set(None);
            if let Ok(to) = r {
                message.set(Some(format!("The link sent to {to} no longer works.")));
                version.update(|v| *v += 1);
            }
        }
    });
    let revoke_error = action_error(revoke);
    view! {
        <div class="tab-head">
            <h2>"Pay links"</h2>
            <button type="button" class="btn" on:click=move |_| version.update(|v| *v += 1)>"Refresh"</button>
        </div>
        <div role="status" aria-live="polite">
            {move || message.get().map(|m| view! { <div class="banner banner-success" data-testid="pay-links-message">{m}</div> })}
        </div>
        <ErrorBanner message=revoke_error/>
        <Transition fallback=move || loading_rows(5)>
            {move || Suspend::new(async move {
                match links.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty-state"><p>"No pay link was sent for this company. Select invoices on Open Invoices, choose Make Payment, then \"Send a pay link instead\"."</p></div>
                    }.into_any(),
                    Ok(list) => view! {
                        <DataTable label="Pay links" testid="pay-links">
                            <thead><tr>
                                <th scope="col">"Sent (UTC)"</th>
                                <th scope="col">"To"</th>
                                <th scope="col">"Invoices"</th>
                                <th scope="col">"Sent by"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Expires (UTC)"</th>
                                <th scope="col"><span class="sr-only">"Actions"</span></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|l| {
                                    let tone = match l.status {
                                        PayLinkStatus::Paid => "badge-green",
                                        PayLinkStatus::Sent | PayLinkStatus::Opened => "badge-amber",
                                        PayLinkStatus::Expired | PayLinkStatus::Revoked => "badge-neutral",
                                        PayLinkStatus::Locked => "badge-red",
                                    };
                                    let detail = match l.status {
                                        PayLinkStatus::Paid => l.payment_number.clone().unwrap_or_default(),
                                        PayLinkStatus::Opened => format!("opened {}", when(l.opened_at, "")),
                                        _ => String::new(),
                                    };
                                    let live = l.status.is_live();
                                    let label = format!("Revoke the link sent to {}", l.email);
                                    let link = l.clone();
                                    view! {
                                        <tr data-link=l.id.to_string()>
                                            <td class="nowrap">{when(Some(l.created_at), "")}</td>
                                            <td>{l.contact_name.clone()}<div class="muted small">{l.email.clone()}</div></td>
                                            <td>{l.invoices.join(", ")}</td>
                                            <td>{l.sent_by.clone()}</td>
                                            <td><span class=format!("badge {tone}") data-testid="pay-link-status">{l.status.label()}</span><div class="muted small">{detail}</div></td>
                                            <td class="nowrap">{when(Some(l.expires_at), "")}</td>
                                            <td class="actions-cell">
                                                <Show when=move || live>
                                                    <button type="button" class="btn btn-small" aria-label=label.clone()
                                                        on:click={let link = link.clone(); move |_| { message.set(None); confirming.set(Some(link.clone())); }}>"Revoke"</button>
                                                </Show>
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
        {move || confirming.get().map(|l| view! {
            <ConfirmDialog title="Revoke this pay link?" question=format!("Revoke the link sent to {} ({})?", l.contact_name, l.email)
                detail="It stops working at once; nothing already paid changes. Send a new link if they still need one."
                confirm="Revoke" danger=true pending=revoke.pending()
                on_confirm=Callback::new(move |_| { revoke.dispatch(l.clone()); })
                on_cancel=Callback::new(move |_| confirming.set(None))/>
        })}
    }
}
