//! System → Import: companies, AP contacts or invoices from a CSV file. Upload, then a
//! preview of what the file would do with every problem by line and column, then commit:
//! all or nothing, or only the valid rows. Rows are keyed by the ERP's ids, so importing a
//! file again changes nothing.

use crate::components::gateway_client::upload_import;
use crate::components::{action_error, DataTable, ErrorBanner, FieldMessage};
use crate::server_fns::system::commit_import;
use leptos::prelude::*;
use leptos_meta::Title;
use shared::format::count;
use shared::import::{CommitMode, ImportCounts, ImportKind, ImportPreview};

fn counts_view(c: &ImportCounts, done: bool) -> impl IntoView {
    let (created, updated) = if done {
        ("Created", "Updated")
    } else {
        ("To create", "To update")
    };
    view! {
        <div class="counts" data-testid=if done { "import-result" } else { "import-counts" }>
            <div><strong>{count(c.rows as i64)}</strong>"Rows"</div>
            <div><strong>{count(c.created as i64)}</strong>{created}</div>
            <div><strong>{count(c.updated as i64)}</strong>{updated}</div>
            <div><strong>{count(c.unchanged as i64)}</strong>"Unchanged"</div>
            <div><strong>{count(c.invalid as i64)}</strong>"With errors"</div>
        </div>
    }
}

#[component]
pub fn ImportPage() -> impl IntoView {
    let kind = RwSignal::new(ImportKind::Invoices);
    let uploading = RwSignal::new(false);
    let preview = RwSignal::new(None::<ImportPreview>);
    let file_error = RwSignal::new(None::<String>);
    let mode = RwSignal::new(CommitMode::AllOrNothing);
    let commit =
        Action::new(move |(id, m): &(shared::ImportId, CommitMode)| commit_import(*id, *m));
    let on_file = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        file_error.set(None);
        preview.set(None);
        commit.value().set(None);
        uploading.set(true);
        let k = kind.get_untracked();
        leptos::task::spawn_local(async move {
            let result = upload_import(k, &file).await;
            uploading.set(false);
            input.set_value("");
            match result {
                Ok(p) => {
                    mode.set(if p.counts.invalid > 0 {
                        CommitMode::ValidOnly
                    } else {
                        CommitMode::AllOrNothing
                    });
                    preview.set(Some(p));
                }
                Err(e) => file_error.set(Some(
                    e.app()
                        .field()
                        .map(|f| f.message.clone())
                        .unwrap_or_else(|| e.to_string()),
                )),
            }
        });
    };
    let commit_error = action_error(commit);
    view! {
        <Title text="Import"/>
        <div class="page-head">
            <h1>"Import"</h1>
            <p class="subtitle">"Load companies, AP contacts or invoices from a CSV file (UTF-8, comma-separated, a first line naming the columns). Rows are matched by Company ID, email or invoice number: importing again updates, never duplicates."</p>
        </div>
        <div class="import-steps">
            <section class="card-panel" aria-labelledby="step-file">
                <h2 id="step-file">"1. Choose the file"</h2>
                <div class="field">
                    <label for="import-kind">"The file holds"</label>
                    <select id="import-kind" name="kind" on:change=move |ev| {
                        if let Some(k) = ImportKind::parse(&event_target_value(&ev)) { kind.set(k); preview.set(None); }
                    } prop:value=move || kind.get().key()>
                        {ImportKind::ALL.into_iter().map(|k| view! { <option value=k.key()>{k.label()}</option> }).collect_view()}
                    </select>
                    <p class="help">{move || format!("Columns: {} (the last {} optional). Dates as YYYY-MM-DD, amounts like 1250.00.",
                        kind.get().example_header(), kind.get().optional().len())}</p>
                </div>
                <div class="field" class:has-error=move || file_error.get().is_some()>
                    <label for="import-file">"CSV file"</label>
                    <input type="file" id="import-file" name="file" accept=".csv,text/csv" aria-describedby="import-file-help import-file-error"
                        disabled=move || uploading.get() on:change=on_file/>
                    <p class="help" id="import-file-help">{move || if uploading.get() { "Uploading and checking every row…" } else { "Up to 20 MB. Nothing changes until you commit." }}</p>
                    <FieldMessage id="import-file-error" message=file_error/>
                </div>
            </section>
            {move || preview.get().map(|p| {
                let id = p.id;
                let invalid = p.counts.invalid;
                let shown = p.errors.len();
                let committed = move || commit.value().get().and_then(|r| r.ok());
                view! {
                    <section class="card-panel" aria-labelledby="step-preview" data-testid="import-preview">
                        <h2 id="step-preview">{format!("2. Check {} ({})", p.file_name, p.kind.label())}</h2>
                        {counts_view(&p.counts, false)}
                        {if p.errors.is_empty() {
                            view! { <p class="banner banner-success">"Every row is valid."</p> }.into_any()
                        } else {
                            view! {
                                <p>{format!("{} row{} with errors{}:", count(invalid as i64), if invalid == 1 { "" } else { "s" },
                                    if shown >= ImportPreview::MAX_ERRORS { format!(" (the first {shown} problems)") } else { String::new() })}</p>
                                <DataTable label="Problems in the file" testid="import-errors" class="dense">
                                    <thead><tr><th scope="col" class="num">"Line"</th><th scope="col">"Column"</th><th scope="col">"Problem"</th></tr></thead>
                                    <tbody>
                                        {p.errors.iter().map(|e| view! {
                                            <tr><td class="num">{e.line}</td><td class="mono">{e.column.clone()}</td><td class="wrap">{e.message.clone()}</td></tr>
                                        }).collect_view()}
                                    </tbody>
                                </DataTable>
                            }.into_any()
                        }}
                    </section>
                    <section class="card-panel" aria-labelledby="step-commit">
                        <h2 id="step-commit">"3. Commit"</h2>
                        {move || match committed() {
                            Some(c) => view! {
                                <div role="status">
                                    <p class="banner banner-success" data-testid="import-done">"Imported."</p>
                                    {counts_view(&c, true)}
                                </div>
                            }.into_any(),
                            None => view! {
                                <form class="form" on:submit=move |ev| {
                                    ev.prevent_default();
                                    if !commit.pending().get_untracked() { commit.dispatch((id, mode.get_untracked())); }
                                }>
                                    <ErrorBanner message=commit_error/>
                                    <fieldset class="field">
                                        <legend>"Rows to import"</legend>
                                        <label class="radio"><input type="radio" name="mode" value="all_or_nothing"
                                            prop:checked=move || mode.get() == CommitMode::AllOrNothing
                                            on:change=move |_| mode.set(CommitMode::AllOrNothing)/>
                                            "All or nothing — if any row has an error, nothing is imported"</label>
                                        <label class="radio"><input type="radio" name="mode" value="valid_only"
                                            prop:checked=move || mode.get() == CommitMode::ValidOnly
                                            on:change=move |_| mode.set(CommitMode::ValidOnly)/>
                                            {format!("Only the valid rows — leave out the {} with errors", count(invalid as i64))}</label>
                                    </fieldset>
                                    <div class="actions">
                                        <button type="submit" class="btn btn-primary" disabled=move || commit.pending().get()>
                                            <Show when=move || commit.pending().get()><span class="spinner" aria-hidden="true"></span></Show>
                                            "Commit import"
                                        </button>
                                    </div>
                                </form>
                            }.into_any(),
                        }}
                    </section>
                }
            })}
        </div>
    }
}
