//! Reports → Aging: every company's open balance as of a day (today in the seller's time zone
//! by default) by days past due, with unapplied credit and what is in dispute, filtered, sorted
//! and exported (CSV, XLSX) from the URL (`?as_of=&q=&sort=&overdue=`; a GET form, so it works
//! before the page is interactive); each company drills down to its open invoices on that day.

use crate::components::{field_error, loading_rows, DataTable, ErrorView, FieldMessage, Figure};
use crate::server_fns::reports::{aging, aging_of_company, set_time_zone, time_zone_settings};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use shared::aging::{
    AgingInput, AgingRow, AgingSort, Bucket, Figures, AGING_CSV_PATH, AGING_XLSX_PATH,
};
use shared::money::Money;

const BASE: &str = "/ops/reports/aging";

/// The request in the URL.
fn input_from_url() -> Memo<AgingInput> {
    let query = use_query_map();
    Memo::new(move |_| {
        let q = query.read();
        AgingInput {
            as_of: q.get("as_of"),
            q: q.get("q"),
            sort: q.get("sort"),
            overdue: q.get("overdue"),
        }
    })
}

fn with_query(path: &str, q: &str) -> String {
    if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{q}")
    }
}

/// The amount cells of a row: the buckets, the open balance, credit and disputed.
fn amount_cells(f: &Figures) -> impl IntoView {
    let cell = |m: Money| {
        let zero = m.is_zero();
        view! { <td class="num" class:muted=zero>{m.display()}</td> }
    };
    view! {
        {f.buckets.map(cell).into_iter().collect_view()}
        <td class="num strong">{f.open.display()}</td>
        {cell(f.unapplied_credit)}
        {cell(f.disputed)}
    }
}

fn bucket_headers() -> impl IntoView {
    view! {
        {Bucket::ALL.map(|b| view! { <th scope="col" class="num">{b.label()}</th> }).into_iter().collect_view()}
        <th scope="col" class="num">"Open balance"</th>
        <th scope="col" class="num">"Unapplied credit"</th>
        <th scope="col" class="num">"Disputed"</th>
    }
}

/// The report's form, as the URL asked, with the answer's mistake under its field.
fn aging_form(input: &AgingInput, error: Option<(String, String)>) -> impl IntoView {
    let message = move |f: &'static str| {
        let m = error.clone().filter(|(k, _)| k == f).map(|(_, m)| m);
        (m.is_some(), Signal::derive(move || m.clone()))
    };
    let (as_of_bad, as_of_error) = message("as_of");
    let (q_bad, q_error) = message("q");
    let (sort_bad, sort_error) = message("sort");
    let sort = input.sort.clone().unwrap_or_default();
    let overdue = input.overdue.as_deref().is_some_and(|v| !v.is_empty());
    view! {
        <form class="filters" method="get" action=BASE aria-label="Aging report">
            <div class="field" class:has-error=as_of_bad>
                <label for="as_of">"As of"</label>
                <input type="date" id="as_of" name="as_of" value=input.as_of.clone().unwrap_or_default()
                    aria-invalid=as_of_bad.then_some("true") aria-describedby="as_of-error"/>
                <FieldMessage id="as_of-error" message=as_of_error/>
            </div>
            <div class="field" class:has-error=q_bad>
                <label for="q">"Company"</label>
                <input type="search" id="q" name="q" placeholder="Name or code" value=input.q.clone().unwrap_or_default()
                    aria-invalid=q_bad.then_some("true") aria-describedby="q-error"/>
                <FieldMessage id="q-error" message=q_error/>
            </div>
            <div class="field" class:has-error=sort_bad>
                <label for="sort">"Sort by"</label>
                <select id="sort" name="sort" aria-describedby="sort-error">
                    {AgingSort::ALL.into_iter().map(|s| view! { <option value=s.key() selected=s.key() == sort>{s.label()}</option> }).collect_view()}
                </select>
                <FieldMessage id="sort-error" message=sort_error/>
            </div>
            <div class="field filter-check">
                <label class="checkbox">
                    <input type="checkbox" name="overdue" value="1" checked=overdue/>
                    "Past due only"
                </label>
            </div>
            <button type="submit" class="btn btn-primary">"Show"</button>
            <A href=BASE attr:class="btn btn-ghost">"Today"</A>
        </form>
    }
}

#[component]
pub fn AgingPage() -> impl IntoView {
    let input = input_from_url();
    let report = Resource::new(move || input.get(), aging);
    let q = move || input.get().query_string();
    view! {
        <Title text="Aging"/>
        <div class="page-head with-action">
            <div>
                <h1>"Aging"</h1>
                <p class="subtitle">"What each company owes on a day, by days past the due date. Payments, refunds and credit after the day are left out."</p>
            </div>
            <div class="actions">
                <a class="btn" href=move || with_query(AGING_CSV_PATH, &q()) download data-testid="aging-csv">"Export CSV"</a>
                <a class="btn" href=move || with_query(AGING_XLSX_PATH, &q()) download data-testid="aging-xlsx">"Export XLSX"</a>
            </div>
        </div>
        <Transition fallback=move || view! { {aging_form(&input.get_untracked(), None)} {loading_rows(11)} }>
            {move || Suspend::new(async move {
                let answer = report.await;
                let asked = input.get_untracked();
                match answer {
                    Err(e) if e.app().field().is_some() => {
                        let error = e.app().field().map(|f| (f.field.clone(), f.message.clone()));
                        view! {
                            {aging_form(&asked, error)}
                            <p class="muted">"Correct the request above to see the aging."</p>
                        }.into_any()
                    }
                    Err(e) => view! { {aging_form(&asked, None)} <ErrorView error=e/> }.into_any(),
                    Ok(r) => {
                        let q = asked.query_string();
                        let totals = r.totals.clone();
                        let shown = r.rows.len() as u64;
                        let heading = format!("As of {} ({})", shared::format::date(r.as_of), r.time_zone);
                        view! {
                            {aging_form(&asked, None)}
                            <section class="figures" aria-label="Totals">
                                <Figure label="Open receivables" value=totals.open.display()/>
                                <Figure label="Past due" value=totals.overdue().display() tone="text-alert"/>
                                <Figure label="Over 90 days" value=totals.buckets[4].checked_add(totals.buckets[5]).unwrap_or(totals.buckets[5]).display()/>
                                <Figure label="Unapplied credit" value=totals.unapplied_credit.display()/>
                            </section>
                            <h2 class="section-title" data-testid="aging-as-of">{heading}</h2>
                            {if r.rows.is_empty() {
                                view! { <div class="empty-state"><p>"No company owes anything on this day with these filters."</p><A href=BASE attr:class="btn">"Clear filters"</A></div> }.into_any()
                            } else {
                                view! {
                                    <DataTable label="Aging by company" testid="aging" class="dense aging-table">
                                        <thead><tr>
                                            <th scope="col">"Company"</th>
                                            {bucket_headers()}
                                        </tr></thead>
                                        <tbody>
                                            {r.rows.into_iter().map(|row: AgingRow| {
                                                let href = with_query(&format!("{BASE}/{}", row.code), &q);
                                                view! {
                                                    <tr data-company=row.code.clone()>
                                                        <th scope="row"><A href=href>{row.name.clone()}</A><div class="muted small mono">{row.code.clone()}</div></th>
                                                        {amount_cells(&row.figures)}
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                        <tfoot><tr data-testid="aging-totals">
                                            <th scope="row">{format!("Total, {} companies", shared::format::count(r.companies as i64))}</th>
                                            {amount_cells(&totals)}
                                        </tr></tfoot>
                                    </DataTable>
                                    {(r.companies > shown).then(|| view! {
                                        <p class="muted small">{format!("Showing the first {shown} of {} companies; the totals and the exports hold them all.", shared::format::count(r.companies as i64))}</p>
                                    })}
                                }.into_any()
                            }}
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <TimeZoneSection/>
    }
}

/// The seller's time zone, which makes every report's days: admins change it, clerks read it.
#[component]
fn TimeZoneSection() -> impl IntoView {
    let settings = Resource::new(|| (), |_| time_zone_settings());
    let admin = use_context::<shared::auth::SessionUser>()
        .is_some_and(|u| u.role == shared::auth::Role::Admin);
    let save = Action::new(move |tz: &String| set_time_zone(tz.clone()));
    let chosen = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            // The reports' days moved: read them again.
            if let Some(w) = leptos::web_sys::window() {
                let _ = w.location().reload();
            }
        }
    });
    view! {
        <section class="card-panel" data-testid="time-zone" aria-labelledby="time-zone-title">
            <h2 id="time-zone-title">"Time zone"</h2>
            <Transition fallback=move || loading_rows(1)>
                {move || Suspend::new(async move {
                    match settings.await {
                        Err(e) => view! { <ErrorView error=e/> }.into_any(),
                        Ok((current, zones)) if admin => {
                            chosen.set(current.clone());
                            view! {
                                <form class="form" novalidate on:submit=move |ev: leptos::ev::SubmitEvent| {
                                    ev.prevent_default();
                                    save.dispatch(chosen.get_untracked());
                                }>
                                    <div class="field" class:has-error=move || field_error(save, "time_zone").get().is_some()>
                                        <label for="time_zone">"The seller's days are in"</label>
                                        <select id="time_zone" name="time_zone" aria-describedby="time_zone-help time_zone-error"
                                            prop:value=move || chosen.get() on:change=move |ev| chosen.set(event_target_value(&ev))>
                                            {zones.into_iter().map(|z| view! { <option value=z.clone()>{z.clone()}</option> }).collect_view()}
                                        </select>
                                        <p class="help" id="time_zone-help">"A day in every report (\"as of\", \"today\") starts and ends at midnight here."</p>
                                        <FieldMessage id="time_zone-error" message=field_error(save, "time_zone")/>
                                    </div>
                                    <div class="form-actions">
                                        <button type="submit" class="btn btn-primary" disabled=move || save.pending().get()>"Save time zone"</button>
                                    </div>
                                </form>
                            }.into_any()
                        }
                        Ok((current, _)) => view! {
                            <p>{format!("Days are in {current}. An admin can change it.")}</p>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// Reports → Aging → a company: its figures and open invoices on the day.
#[component]
pub fn CompanyAgingPage() -> impl IntoView {
    let input = input_from_url();
    let params = use_params_map();
    let code = Memo::new(move |_| params.read().get("code").unwrap_or_default());
    let aging = Resource::new(
        move || (code.get(), input.get()),
        |(c, i)| aging_of_company(c, i),
    );
    let back = move || with_query(BASE, &input.get().query_string());
    view! {
        <Title text="Aging of a company"/>
        <nav class="breadcrumbs" aria-label="Breadcrumb"><A href=back>"Aging"</A></nav>
        <Transition fallback=move || loading_rows(6)>
            {move || Suspend::new(async move {
                match aging.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(a) => {
                        let f = a.figures.clone();
                        view! {
                            <div class="page-head with-action">
                                <div>
                                    <h1>{a.name.clone()}</h1>
                                    <p class="subtitle">{format!("{} · open invoices as of {}", a.code, shared::format::date(a.as_of))}</p>
                                </div>
                                <A href=format!("/ops/crm/companies/{}", a.code) attr:class="btn">"Open the company"</A>
                            </div>
                            <section class="figures" aria-label="Figures">
                                <Figure label="Open balance" value=f.open.display()/>
                                <Figure label="Past due" value=f.overdue().display() tone="text-alert"/>
                                <Figure label="Unapplied credit" value=f.unapplied_credit.display()/>
                                <Figure label="Disputed" value=f.disputed.display()/>
                            </section>
                            {if a.lines.is_empty() {
                                view! { <div class="empty-state"><p>"Nothing was open on this day."</p></div> }.into_any()
                            } else {
                                view! {
                                    <DataTable label="Open invoices on the day" testid="aging-lines" class="dense">
                                        <thead><tr>
                                            <th scope="col">"Invoice"</th>
                                            <th scope="col">"Issued"</th>
                                            <th scope="col">"Due"</th>
                                            <th scope="col" class="num">"Days past due"</th>
                                            <th scope="col">"Bucket"</th>
                                            <th scope="col" class="num">"Balance"</th>
                                        </tr></thead>
                                        <tbody>
                                            {a.lines.into_iter().map(|l| view! {
                                                <tr data-invoice=l.number.clone()>
                                                    <td class="mono">{l.number.clone()}</td>
                                                    <td>{shared::format::date(l.issue_date)}</td>
                                                    <td>{shared::format::date(l.due_date)}</td>
                                                    <td class="num">{l.days_past_due.max(0)}</td>
                                                    <td>{l.bucket.label()}</td>
                                                    <td class="num">{l.balance.display()}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                        <tfoot><tr>
                                            <th scope="row" colspan="5">"Open balance"</th>
                                            <td class="num strong">{f.open.display()}</td>
                                        </tr></tfoot>
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
