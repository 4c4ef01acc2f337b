//! System → ACH files: with the NACHA rail on, ACH debits go to the seller's bank as files cut
//! at set times on banking days. The screen shows the rail's set-up and what waits for the next
//! file, every file with its totals (admins download the bytes), each file's debits, the bank's
//! returns and notifications of change with what Settle did, and any file it could not read.

use super::api_keys::when;
use crate::components::ErrorBanner;
use crate::components::{use_id_param, DataTable, ErrorView};
use crate::server_fns::system::{ach_file, ach_overview, write_ach_file_now};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use shared::ach_file::{file_path, AchFileRow, AchFiles, AchNoticeRow, AchRail};
use shared::auth::{Role, SessionUser};
use shared::format::date;

fn is_admin() -> bool {
    use_context::<SessionUser>().is_some_and(|u| u.role == Role::Admin)
}

fn payment_link(number: Option<String>, company: Option<shared::company::CompanyCode>) -> AnyView {
    match (number, company) {
        (Some(n), Some(c)) => view! {
            <A href=format!("/ops/crm/companies/{c}/payments") attr:class="mono">{n.clone()}</A>
        }
        .into_any(),
        (Some(n), None) => view! { <span class="mono">{n}</span> }.into_any(),
        _ => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

#[component]
pub fn AchFilesPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let data = Resource::new(move || version.get(), |_| ach_overview());
    let write = Action::new(|_: &()| write_ach_file_now());
    let message = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(name)) = write.value().get() {
            message.set(Some(match name {
                Some(name) => format!("File {name} written with every debit that was waiting."),
                None => "No debit was waiting: no file written.".into(),
            }));
            version.update(|v| *v += 1);
        }
    });
    let write_error = Signal::derive(move || {
        write
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    let on_write = Callback::new(move |_| {
        message.set(None);
        write.dispatch(());
    });
    let writing = write.pending();
    view! {
        <Title text="ACH files"/>
        <div class="page-head with-action">
            <div>
                <h1>"ACH files"</h1>
                <p class="subtitle">"ACH debits sent to your bank as NACHA files, and the returns and notifications of change it sends back."</p>
            </div>
            <button type="button" class="btn" on:click=move |_| version.update(|v| *v += 1)>"Refresh"</button>
        </div>
        <ErrorBanner message=write_error/>
        <div role="status" aria-live="polite">
            {move || message.get().map(|m| view! { <div class="banner banner-success" data-testid="ach-message">{m}</div> })}
        </div>
        <Transition fallback=crate::components::loading_page>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(d) => view! { <Overview data=d on_write=on_write writing=writing/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Overview(data: AchFiles, on_write: Callback<()>, writing: Memo<bool>) -> impl IntoView {
    let AchFiles {
        rail,
        files,
        notices,
        unread,
    } = data;
    view! {
        <RailPanel rail=rail on_write=on_write writing=writing/>
        {(!unread.is_empty()).then(|| view! {
            <div class="banner banner-error" role="alert" data-testid="ach-unread">
                <strong>"Files from the bank that could not be read: nothing in them was applied."</strong>
                <ul>
                    {unread.into_iter().map(|f| view! {
                        <li><span class="mono">{f.name}</span>" ("{when(Some(f.at), "")}"): "{f.error}</li>
                    }).collect_view()}
                </ul>
            </div>
        })}
        <h2 class="section-title">"Files"</h2>
        <FilesTable files=files/>
        <h2 class="section-title">"Returns and notifications of change"</h2>
        <NoticesTable notices=notices/>
    }
}

#[component]
fn RailPanel(rail: Option<AchRail>, on_write: Callback<()>, writing: Memo<bool>) -> impl IntoView {
    match rail {
        None => view! {
            <div class="banner banner-info" data-testid="ach-rail">
                "ACH debits go through the payment gateway: Settle writes no files. To send them to your bank as NACHA files instead, set SETTLE_ACH_RAIL=nacha (see the README)."
            </div>
        }
        .into_any(),
        Some(r) => view! {
            <section class="card-panel" aria-labelledby="ach-rail-title" data-testid="ach-rail">
                <h2 id="ach-rail-title">"Your bank"</h2>
                <dl class="detail-grid">
                    <dt>"Bank"</dt><dd>{format!("{} ", r.odfi_name)}<span class="mono">{r.odfi_routing.clone()}</span></dd>
                    <dt>"Cut-offs"</dt><dd>{format!("{} UTC, on banking days", r.cutoffs.join(", "))}</dd>
                    <dt>"Same day"</dt><dd>{r.same_day_until.clone().map(|t| format!("Files cut by {t} UTC take effect the same day (entries up to $1,000,000)")).unwrap_or_else(|| "Off: files take effect the next banking day".into())}</dd>
                    <dt>"Next file"</dt><dd data-testid="ach-waiting">{format!(
                        "{} · {} debit{} waiting, {}",
                        when(r.next_cutoff, "no cut-off set"),
                        r.waiting,
                        if r.waiting == 1 { "" } else { "s" },
                        r.waiting_total.display()
                    )}</dd>
                </dl>
                {is_admin().then(|| {
                    let none = r.waiting == 0;
                    view! {
                        <div class="actions align-center">
                            <button type="button" class="btn btn-primary" disabled=move || none || writing.get()
                                aria-describedby="write-now-help" on:click=move |_| on_write.run(())>
                                {move || if writing.get() { "Writing…" } else { "Write a file now" }}
                            </button>
                            <span id="write-now-help" class="muted small">{if none {
                                "No debit is waiting."
                            } else {
                                "Writes every waiting debit into a file now, outside the cut-offs (before a holiday, or when your bank asks)."
                            }}</span>
                        </div>
                    }
                })}
            </section>
        }
        .into_any(),
    }
}

#[component]
fn FilesTable(files: Vec<AchFileRow>) -> impl IntoView {
    if files.is_empty() {
        return view! { <div class="empty-state"><p>"No file written yet. Each cut-off writes one file of the ACH debits made before it."</p></div> }.into_any();
    }
    let admin = is_admin();
    view! {
        <DataTable label="ACH files" testid="ach-files" class="dense">
            <thead><tr>
                <th scope="col">"File"</th>
                <th scope="col">"Cut-off"</th>
                <th scope="col" class="num">"Batches"</th>
                <th scope="col" class="num">"Debits"</th>
                <th scope="col" class="num">"Returned"</th>
                <th scope="col" class="num">"Total"</th>
                <th scope="col"><span class="sr-only">"Actions"</span></th>
            </tr></thead>
            <tbody>
                {files.into_iter().map(|f| view! {
                    <tr data-file=f.name.clone()>
                        <td><span class="mono">{f.name.clone()}</span>
                            <div class="muted small">{f.exported_at.map(|t| format!("In the outbox folder since {}", when(Some(t), ""))).unwrap_or_else(|| "Not yet in the outbox folder".into())}</div>
                        </td>
                        <td>{when(Some(f.cutoff_at), "")}</td>
                        <td class="num">{f.batches}</td>
                        <td class="num">{f.entries}</td>
                        <td class="num">{f.returned}</td>
                        <td class="num">{f.total.display()}</td>
                        <td class="actions-cell">
                            <A href=format!("/ops/system/ach-files/{}", f.id) attr:class="btn btn-small" attr:aria-label=format!("Debits in {}", f.name)>"Debits"</A>
                            {admin.then(|| view! {
                                <a href=file_path(f.id) class="btn btn-small" download=f.name.clone() aria-label=format!("Download {}", f.name)>"Download"</a>
                            })}
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </DataTable>
    }
    .into_any()
}

#[component]
fn NoticesTable(notices: Vec<AchNoticeRow>) -> impl IntoView {
    if notices.is_empty() {
        return view! { <div class="empty-state"><p>"Nothing back from the bank yet. Return and notification-of-change files put in the inbox folder are read within a minute."</p></div> }.into_any();
    }
    view! {
        <DataTable label="Returns and notifications of change" testid="ach-notices" class="dense">
            <thead><tr>
                <th scope="col">"Received"</th>
                <th scope="col">"Kind"</th>
                <th scope="col">"Code"</th>
                <th scope="col">"Trace number"</th>
                <th scope="col">"Payment"</th>
                <th scope="col">"What Settle did"</th>
            </tr></thead>
            <tbody>
                {notices.into_iter().map(|n| {
                    let (tone, kind) = match (n.unknown, n.kind.as_str()) {
                        (true, _) => ("badge-red", "Unknown trace"),
                        (false, "return") => ("badge-amber", "Return"),
                        _ => ("badge-neutral", "Change"),
                    };
                    view! {
                        <tr data-trace=n.trace.clone() class:row-alert=n.unknown>
                            <td>{when(Some(n.at), "")}<div class="muted small mono">{n.file_name.clone()}</div></td>
                            <td><span class=format!("badge {tone}")>{kind}</span></td>
                            <td><span class="mono">{n.code.clone()}</span><div class="muted small">{n.reason.clone()}</div></td>
                            <td class="mono">{n.trace.clone()}</td>
                            <td>{payment_link(n.payment_number.clone(), n.company_code.clone())}</td>
                            <td class="wrap small">{n.outcome.clone()}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </DataTable>
    }
    .into_any()
}

#[component]
pub fn AchFilePage() -> impl IntoView {
    let id = use_id_param::<i64>();
    let data = Resource::new(move || id.get(), ach_file);
    view! {
        <Title text="ACH file"/>
        <p class="breadcrumbs"><A href="/ops/system/ach-files">"ACH files"</A></p>
        <Transition fallback=crate::components::loading_page>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(d) => {
                        let f = d.file;
                        view! {
                            <div class="page-head">
                                <h1>"ACH file "<span class="file-name">{f.name.clone()}</span></h1>
                                <p class="subtitle">{format!(
                                    "Cut-off {} · {} debit{} in {} batch{} · {} · entry hash {}",
                                    when(Some(f.cutoff_at), ""),
                                    f.entries, if f.entries == 1 { "" } else { "s" },
                                    f.batches, if f.batches == 1 { "" } else { "es" },
                                    f.total.display(),
                                    f.entry_hash
                                )}</p>
                            </div>
                            <DataTable label="Debits in this file" testid="ach-entries" class="dense">
                                <thead><tr>
                                    <th scope="col">"Trace number"</th>
                                    <th scope="col">"Payment"</th>
                                    <th scope="col">"Company"</th>
                                    <th scope="col">"SEC"</th>
                                    <th scope="col">"Account"</th>
                                    <th scope="col">"Effective"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col" class="num">"Amount"</th>
                                </tr></thead>
                                <tbody>
                                    {d.entries.into_iter().map(|e| view! {
                                        <tr data-trace=e.trace.clone()>
                                            <td class="mono">{e.trace.clone()}</td>
                                            <td>{payment_link(e.payment_number.clone(), e.company_code.clone())}</td>
                                            <td>{e.company_name.clone().unwrap_or_else(|| "—".into())}</td>
                                            <td class="mono">{e.sec.clone()}</td>
                                            <td class="mono">{format!("…{}", e.account_last4)}</td>
                                            <td>{date(e.effective)}<div class="muted small">{format!("settles {}", date(e.settles_on))}</div></td>
                                            <td>{match (e.return_code.clone(), e.payment_status) {
                                                (Some(code), _) => format!("Returned ({code})"),
                                                (None, Some(s)) => s.label().to_string(),
                                                (None, None) => "—".into(),
                                            }}</td>
                                            <td class="num">{e.amount.display()}</td>
                                        </tr>
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
