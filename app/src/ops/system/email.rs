//! System → Email: every message in the outbox — recipient, subject, what it is about, status,
//! attempts, last error — with "Send again". Staff see it all (it is how a clerk checks that a
//! receipt or a pay link went out).

use super::api_keys::when;
use crate::components::{action_error, loading_rows, DataTable, ErrorBanner, ErrorView};
use crate::server_fns::system::{email_outbox, resend_email};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use shared::email::{EmailStatus, EmailSummary};

#[component]
pub fn EmailPage() -> impl IntoView {
    let query = use_query_map();
    let status = Memo::new(move |_| query.read().get("status").unwrap_or_default());
    let q = Memo::new(move |_| query.read().get("q").unwrap_or_default());
    let version = RwSignal::new(0u32);
    let outbox = Resource::new(
        move || (status.get(), q.get(), version.get()),
        |(s, q, _)| email_outbox(s, q),
    );
    let message = RwSignal::new(None::<String>);
    let resend = Action::new(move |e: &EmailSummary| {
        let (id, to) = (e.id, e.recipient.clone());
        async move { resend_email(id).await.map(|_| to) }
    });
    Effect::new(move |_| {
        if let Some(Ok(to)) = resend.value().get() {
            message.set(Some(format!(
                "The message to {to} goes out again within seconds."
            )));
            version.update(|v| *v += 1);
        }
    });
    let resend_error = action_error(resend);
    view! {
        <Title text="Email"/>
        <div class="page-head">
            <h1>"Email"</h1>
            <p class="subtitle">"Every message Settle sends: receipts, returned ACH debits, card and method notices, invitations, password resets and pay links. A message waits here while the mail server cannot take it, and goes out when it can."</p>
        </div>
        <leptos_router::components::Form method="GET" action="" attr:class="toolbar invoice-filters" attr:role="search">
            <label for="email-search" class="sr-only">"Search by recipient or subject"</label>
            <input id="email-search" type="search" name="q" class="search" placeholder="Search by recipient or subject"
                maxlength="100" prop:value=move || q.get()/>
            <span class="filter-group">
                <label for="email-status" class="inline-label">"Status"</label>
                <select id="email-status" name="status" prop:value=move || status.get()>
                    <option value="">"All"</option>
                    <option value="pending">"Pending"</option>
                    <option value="sent">"Sent"</option>
                    <option value="failed">"Failed"</option>
                </select>
            </span>
            <button type="submit" class="btn">"Search"</button>
            <button type="button" class="btn" on:click=move |_| version.update(|v| *v += 1)>"Refresh"</button>
        </leptos_router::components::Form>
        <div role="status" aria-live="polite">
            {move || message.get().map(|m| view! { <div class="banner banner-success" data-testid="email-message">{m}</div> })}
        </div>
        <ErrorBanner message=resend_error/>
        <Transition fallback=move || loading_rows(8)>
            {move || Suspend::new(async move {
                match outbox.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(o) => {
                        let counts = format!("{} pending · {} sent · {} failed", o.pending, o.sent, o.failed);
                        if o.emails.is_empty() {
                            return view! {
                                <p class="muted" data-testid="email-counts">{counts}</p>
                                <div class="empty-state"><p>"No message matches."</p></div>
                            }.into_any();
                        }
                        view! {
                            <p class="muted" data-testid="email-counts">{counts}" · the latest 200 shown"</p>
                            <DataTable label="Outgoing email" testid="emails">
                                <thead><tr>
                                    <th scope="col">"Recipient · created (UTC)"</th>
                                    <th scope="col">"Subject"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col" class="num">"Attempts"</th>
                                    <th scope="col">"Last error"</th>
                                    <th scope="col"><span class="sr-only">"Actions"</span></th>
                                </tr></thead>
                                <tbody>
                                    {o.emails.into_iter().map(|e| {
                                        let tone = match e.status {
                                            EmailStatus::Sent => "badge-green",
                                            EmailStatus::Pending => "badge-amber",
                                            EmailStatus::Failed => "badge-red",
                                        };
                                        let detail = match e.status {
                                            EmailStatus::Sent => when(e.sent_at, ""),
                                            EmailStatus::Pending => format!("next {}", when(e.next_attempt_at, "now")),
                                            EmailStatus::Failed => "gave up".into(),
                                        };
                                        let label = format!("Send again to {}: {}", e.recipient, e.subject);
                                        let row = e.clone();
                                        view! {
                                            <tr data-email=e.id.to_string()>
                                                <td>{e.recipient.clone()}<div class="muted small">{when(Some(e.created_at), "")}</div></td>
                                                <td class="wrap subject-cell">{e.subject.clone()}
                                                    <div class="muted small">{[Some(e.kind.label().to_string()), e.company.clone(), e.event.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ")}</div>
                                                </td>
                                                <td><span class=format!("badge {tone}")>{e.status.label()}</span><div class="muted small">{detail}</div></td>
                                                <td class="num">{e.attempts}</td>
                                                <td class="wrap small error-cell">{e.last_error.clone().unwrap_or_default()}</td>
                                                <td class="actions-cell">
                                                    <button type="button" class="btn btn-small" aria-label=label
                                                        disabled=move || resend.pending().get()
                                                        on:click=move |_| { message.set(None); resend.dispatch(row.clone()); }>"Send again"</button>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </DataTable>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
