//! Reports → Deposits: per seller's day and rail, what the day's money should bring to the bank
//! (payments, refunds, returns, disputes, the gateway's fees, the net), Settle's figures above
//! the gateway's own books, every figure that differs in red; the NACHA files' control totals
//! beside their entries; each line opens its movements one by one (`/ops/reports/deposits/
//! {day}/{rail}`), matched by the gateway's ids, each linking to its payment.

use crate::components::{filter_field, loading_rows, DataTable, ErrorView};
use crate::server_fns::reports::{deposit_day, deposits};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use rust_decimal::Decimal;
use shared::deposit::{
    usd, Books, DepositDay, DepositItem, DepositLine, DepositsInput, DepositsReport, Figures,
    FileTotals, Rail,
};

const BASE: &str = "/ops/reports/deposits";

fn filter_form(input: &DepositsInput, error: Option<(String, String)>) -> impl IntoView {
    let e = error.as_ref();
    view! {
        <form class="filters" method="get" action=BASE aria-label="Deposits">
            {filter_field("from", "From", "date", input.from.clone(), e)}
            {filter_field("to", "To", "date", input.to.clone(), e)}
            <button type="submit" class="btn btn-primary">"Show"</button>
            <A href=BASE attr:class="btn btn-ghost">"Last 7 days"</A>
        </form>
    }
}

/// A money cell; red and marked when it differs from `other`.
fn money_cell(amount: Decimal, other: Option<Decimal>) -> impl IntoView {
    let differs = other.is_some_and(|o| o != amount);
    view! {
        <td class="num" class:muted=amount.is_zero() && !differs class:diff=differs>
            {usd(amount)}
            {differs.then(|| view! { <span class="sr-only">" (differs)"</span> })}
        </td>
    }
}

fn figure_cells(f: &Figures, other: Option<&Figures>) -> impl IntoView {
    let others = other.map(|o| o.columns());
    f.columns()
        .into_iter()
        .enumerate()
        .map(|(i, (_, v))| money_cell(v, others.map(|o| o[i].1)))
        .collect_view()
}

fn day_href(l: &DepositLine) -> String {
    format!("{BASE}/{}/{}", l.day, l.rail.key())
}

fn line_rows(l: DepositLine) -> impl IntoView {
    let expected = l.expected();
    let differs = l.differs();
    let title = format!("{} · {}", shared::format::date(l.day), l.rail.label());
    let count = expected.count.max(l.gateway.map_or(0, |g| g.count));
    let gateway = l.gateway;
    view! {
        <tbody class:row-alert=differs data-rail=l.rail.key() data-day=l.day.to_string()>
            <tr>
                <th scope="rowgroup" rowspan=if gateway.is_some() { 2 } else { 1 }>
                    <A href=day_href(&l)>{title}</A>
                    <div class="muted small">{format!("{} {}", shared::format::count(count), if count == 1 { "movement" } else { "movements" })}</div>
                    {differs.then(|| view! { <span class="badge badge-red">"Differs"</span> })}
                </th>
                <td>"Settle"</td>
                {figure_cells(&expected, None)}
            </tr>
            {gateway.map(|g| view! {
                <tr class="books-row">
                    <td>"Gateway"</td>
                    {figure_cells(&g, Some(&expected))}
                </tr>
            })}
        </tbody>
    }
}

fn headers() -> impl IntoView {
    view! {
        <thead><tr>
            <th scope="col">"Day · rail"</th>
            <th scope="col">"Books"</th>
            {Figures::default().columns().map(|(name, _)| view! { <th scope="col" class="num">{name}</th> }).into_iter().collect_view()}
        </tr></thead>
    }
}

fn books_note(report: &DepositsReport) -> impl IntoView {
    let line = |rail: Rail, books: &Books| {
        view! { <li><strong>{rail.label()}</strong>": "{books.describe()}</li> }
    };
    view! {
        <ul class="help books-note">
            {line(Rail::Card, &report.card_books)}
            {line(Rail::Ach, &report.ach_books)}
            <li>{format!("Days are the seller's ({}). Settle's net takes off the gateway's fees.", report.time_zone)}</li>
        </ul>
    }
}

fn files_table(files: Vec<FileTotals>) -> impl IntoView {
    view! {
        <h2 class="section-title">"NACHA files"</h2>
        <DataTable label="NACHA files' totals" testid="deposit-files" class="dense">
            <thead><tr>
                <th scope="col">"File"</th>
                <th scope="col">"Day"</th>
                <th scope="col" class="num">"Entries"</th>
                <th scope="col" class="num">"Debits (file)"</th>
                <th scope="col" class="num">"Debits (entries)"</th>
                <th scope="col" class="num">"Credits (file)"</th>
                <th scope="col" class="num">"Credits (entries)"</th>
                <th scope="col">"Status"</th>
            </tr></thead>
            <tbody>
                {files.into_iter().map(|f| {
                    let differs = f.differs();
                    view! {
                        <tr class:row-alert=differs>
                            <th scope="row"><A href=format!("/ops/system/ach-files/{}", f.id)><span class="mono small">{f.name.clone()}</span></A></th>
                            <td>{shared::format::date(f.day)}</td>
                            <td class="num">{shared::format::count(f.entries)}</td>
                            {money_cell(f.file_debits, Some(f.entry_debits))}
                            <td class="num">{usd(f.entry_debits)}</td>
                            {money_cell(f.file_credits, Some(f.entry_credits))}
                            <td class="num">{usd(f.entry_credits)}</td>
                            <td>{if differs {
                                view! { <span class="badge badge-red">"Differs"</span> }.into_any()
                            } else {
                                view! { <span class="badge badge-green">"Agrees"</span> }.into_any()
                            }}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </DataTable>
    }
}

fn report_view(r: DepositsReport) -> impl IntoView {
    let differences = r.differences();
    let (settle, gateway) = r.totals();
    let compared = r.lines.iter().any(|l| l.gateway.is_some());
    let summary = if r.lines.is_empty() && r.files.is_empty() {
        None
    } else if differences == 0 {
        Some(view! { <p class="banner banner-success" data-testid="deposits-summary">"Every line agrees with the gateway's books."</p> }.into_any())
    } else {
        Some(view! { <p class="banner banner-error" role="alert" data-testid="deposits-summary">{format!("{differences} {} the gateway's books: the figures in red.", if differences == 1 { "line differs from" } else { "lines differ from" })}</p> }.into_any())
    };
    let notes = books_note(&r);
    let period = format!(
        "{} to {}",
        shared::format::date(r.from),
        shared::format::date(r.to)
    );
    let files = match (r.ach_books == Books::NachaFiles, r.files.is_empty()) {
        (_, false) => Some(files_table(r.files.clone()).into_any()),
        (true, true) => Some(view! {
            <h2 class="section-title">"NACHA files"</h2>
            <div class="empty-state" data-testid="deposit-files-empty"><p>{format!("No NACHA file was written from {period}.")}</p></div>
        }.into_any()),
        (false, true) => None,
    };
    view! {
        {summary}
        {if r.lines.is_empty() {
            view! { <div class="empty-state"><p>{format!("No money moved from {period}.")}</p></div> }.into_any()
        } else {
            view! {
                <DataTable label=format!("Deposits, {period}") testid="deposits" class="dense deposits-table">
                    {headers()}
                    {r.lines.into_iter().map(line_rows).collect_view()}
                    <tfoot>
                        <tr>
                            <th scope="row" rowspan=if compared { 2 } else { 1 }>"Total"</th>
                            <td>"Settle"</td>
                            {figure_cells(&settle, None)}
                        </tr>
                        {compared.then(|| view! {
                            <tr><td>"Gateway"</td>{figure_cells(&gateway, Some(&settle))}</tr>
                        })}
                    </tfoot>
                </DataTable>
            }.into_any()
        }}
        {notes}
        {files}
    }
}

#[component]
pub fn DepositsPage() -> impl IntoView {
    let query = use_query_map();
    let input = Memo::new(move |_| {
        let q = query.read();
        DepositsInput {
            from: q.get("from"),
            to: q.get("to"),
        }
    });
    let report = Resource::new(move || input.get(), deposits);
    view! {
        <Title text="Deposits"/>
        <div class="page-head">
            <h1>"Deposits"</h1>
            <p class="subtitle">"What each day's payments, refunds, returns and disputes should bring to the bank, per rail, beside the gateway's own books."</p>
        </div>
        <Transition fallback=move || view! { {filter_form(&input.get_untracked(), None)} {loading_rows(8)} }>
            {move || Suspend::new(async move {
                let asked = input.get_untracked();
                match report.await {
                    Err(e) if e.app().field().is_some() => {
                        let error = e.app().field().map(|f| (f.field.clone(), f.message.clone()));
                        view! { {filter_form(&asked, error)} <p class="muted">"Correct the days above to see the deposits."</p> }.into_any()
                    }
                    Err(e) => view! { {filter_form(&asked, None)} <ErrorView error=e/> }.into_any(),
                    Ok(r) => {
                        // The days shown, in the fields, when none were typed.
                        let shown = DepositsInput {
                            from: asked.from.clone().filter(|f| !f.is_empty()).or(Some(r.from.to_string())),
                            to: asked.to.clone().filter(|t| !t.is_empty()).or(Some(r.to.to_string())),
                        };
                        view! { {filter_form(&shown, None)} {report_view(r)} }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

fn item_status(i: &DepositItem) -> (&'static str, &'static str) {
    match (i.settle, i.gateway) {
        (Some(_), None) => ("Only in Settle", "badge-red"),
        (None, Some(_)) => ("Only at the gateway", "badge-red"),
        (Some(s), Some(g)) if s != g => ("Amounts differ", "badge-red"),
        _ => ("Matched", "badge-green"),
    }
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%H:%M:%S").to_string())
        .unwrap_or_else(|| "–".into())
}

fn items_table(d: DepositDay) -> impl IntoView {
    let compared = d.books.compares_movements();
    view! {
        <DataTable label=format!("{} movements, {}", d.rail.label(), shared::format::date(d.day)) testid="deposit-items" class="dense">
            <thead><tr>
                <th scope="col">"Movement"</th>
                <th scope="col">"Payment"</th>
                <th scope="col">"Gateway reference"</th>
                <th scope="col">"When (UTC)"</th>
                <th scope="col" class="num">"Settle"</th>
                <th scope="col" class="num">"Gateway"</th>
                <th scope="col" class="num">"Fee"</th>
                <th scope="col">"Status"</th>
            </tr></thead>
            <tbody>
                {d.items.into_iter().map(|i| {
                    let (status, badge) = if compared { item_status(&i) } else { ("Not compared", "badge-neutral") };
                    let differs = compared && i.differs();
                    let payment = match (i.payment.clone(), i.company_code.clone()) {
                        (Some(p), Some(code)) => view! {
                            <A href=format!("/ops/crm/companies/{code}/payments")>{p}</A>
                            <div class="muted small">{i.company_name.clone()}" "<span class="mono">{code.clone()}</span></div>
                        }.into_any(),
                        _ => view! { <span class="muted">"Not in Settle"</span> }.into_any(),
                    };
                    view! {
                        <tr class:row-alert=differs data-kind=i.kind.key()>
                            <th scope="row">{i.kind.label()}</th>
                            <td class="wrap">{payment}</td>
                            <td class="mono small">{i.reference.clone().unwrap_or_else(|| "–".into())}</td>
                            <td class="small">{time(i.settle_at.or(i.gateway_at))}</td>
                            {match i.settle { Some(s) => money_cell(s, None).into_any(), None => view! { <td class="num muted">"–"</td> }.into_any() }}
                            {match i.gateway { Some(g) => money_cell(g, compared.then_some(i.settle.unwrap_or_default())).into_any(), None => view! { <td class="num muted">"–"</td> }.into_any() }}
                            <td class="num" class:muted=i.fee.is_zero()>{usd(-i.fee)}</td>
                            <td><span class=format!("badge {badge}")>{status}</span></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </DataTable>
    }
}

#[component]
pub fn DepositDayPage() -> impl IntoView {
    let params = use_params_map();
    let asked = Memo::new(move |_| {
        let p = params.read();
        (
            p.get("day").unwrap_or_default(),
            p.get("rail").unwrap_or_default(),
        )
    });
    let items = Resource::new(move || asked.get(), |(day, rail)| deposit_day(day, rail));
    view! {
        <Title text="Deposit lines"/>
        <p class="breadcrumb"><A href=BASE>"← Deposits"</A></p>
        <Transition fallback=move || view! { <h1>"Deposit lines"</h1> {loading_rows(8)} }>
            {move || Suspend::new(async move {
                match items.await {
                    Err(e) => view! { <h1>"Deposit lines"</h1> <ErrorView error=e/> }.into_any(),
                    Ok(d) => {
                        let heading = format!("{} deposits, {}", d.rail.label(), shared::format::date(d.day));
                        let count = d.items.len();
                        let note = format!("Money moved on the seller's day ({}), matched by the gateway's id of the charge, refund or dispute. {}: {}", d.time_zone, d.rail.label(), d.books.describe());
                        view! {
                            <div class="page-head">
                                <h1>{heading}</h1>
                                <p class="subtitle">{note}</p>
                            </div>
                            {if count == 0 {
                                view! { <div class="empty-state"><p>"No money moved on this rail that day."</p></div> }.into_any()
                            } else {
                                items_table(d).into_any()
                            }}
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// Both deposits pages in one lazy chunk: a day's lines when the route names one, else the
/// report.
#[component]
pub fn DepositsScreens() -> impl IntoView {
    let params = use_params_map();
    move || {
        if params.read().get("day").is_some() {
            view! { <DepositDayPage/> }.into_any()
        } else {
            view! { <DepositsPage/> }.into_any()
        }
    }
}
