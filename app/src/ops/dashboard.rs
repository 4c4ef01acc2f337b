//! The staff home: what is owed and how old it is, what came in each week by rail, DSO, the
//! customers most past due, and the payments that failed or came back since yesterday. The
//! book's figures are a snapshot a few minutes old at most (with a "Refresh" to add them up
//! now); the payments to look at are live.

use crate::components::chart::{Chart, Numbers};
use crate::components::{loading_rows, DataTable, ErrorView, Figure, PaymentBadge};
use crate::server_fns::reports::{dashboard, refresh_dashboard};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use shared::aging::{AgingRow, Bucket};
use shared::dashboard::{Attention, Dashboard, DsoMonth, Rail, Snapshot, WeekCash};
use shared::money::Money;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let refresh = Action::new(|_: &()| refresh_dashboard());
    let board = Resource::new(move || refresh.version().get(), |_| dashboard());
    view! {
        <Title text="Dashboard"/>
        <Transition fallback=move || view! {
            <div class="page-head"><h1>"Dashboard"</h1></div>
            {loading_rows(8)}
        }>
            {move || Suspend::new(async move {
                match board.await {
                    Err(e) => view! { <div class="page-head"><h1>"Dashboard"</h1></div><ErrorView error=e/> }.into_any(),
                    Ok(d) => view! { <Board board=d refresh=refresh/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Board(
    board: Dashboard,
    refresh: Action<(), Result<Dashboard, crate::error::ApiError>>,
) -> impl IntoView {
    let Dashboard {
        snapshot: s,
        attention,
    } = board;
    let t = s.totals.clone();
    let over_90 = t.buckets[4]
        .checked_add(t.buckets[5])
        .unwrap_or(t.buckets[5]);
    let this_month = s.dso.last().and_then(DsoMonth::dso);
    view! {
        <div class="page-head with-action">
            <div>
                <h1>"Dashboard"</h1>
                <p class="subtitle" data-testid="dashboard-as-of">
                    {format!("The book on {} ({} days), added up at {}; it is added up again every few minutes.", shared::format::date(s.as_of), s.time_zone, s.computed_time)}
                </p>
            </div>
            <button type="button" class="btn" data-testid="dashboard-refresh"
                disabled=move || refresh.pending().get()
                on:click=move |_| { refresh.dispatch(()); }>
                {move || if refresh.pending().get() { "Adding up…" } else { "Refresh" }}
            </button>
        </div>
        <section class="figures dashboard-figures" aria-label="Key figures" data-testid="dashboard-figures">
            <Figure label="Open receivables" value=t.open.display()/>
            <Figure label="Past due" value=t.overdue().display() tone="text-alert"/>
            <Figure label="Over 90 days" value=over_90.display()/>
            <Figure label="Unapplied credit" value=t.unapplied_credit.display()/>
            <Figure label="DSO this month" value=this_month.map_or("–".to_string(), |d| format!("{d} days"))/>
            <Figure label="Companies owing" value=shared::format::count(s.companies as i64)/>
        </section>
        <div class="dashboard-grid">
            <section class="card-panel" aria-label="Aging">
                {aging_chart(&s)}
                <p class="help"><A href="/ops/reports/aging">"Open the aging report"</A></p>
            </section>
            <section class="card-panel" aria-label="Cash collected">
                {cash_chart(&s)}
            </section>
            <section class="card-panel" aria-label="Days sales outstanding">
                {dso_chart(&s)}
                <p class="help" data-testid="dso-formula">{DsoMonth::FORMULA}</p>
            </section>
            <section class="card-panel" aria-labelledby="top-overdue-title">
                <h2 id="top-overdue-title">"Most past due"</h2>
                {top_overdue(s.top_overdue.clone())}
            </section>
        </div>
        <section class="card-panel" aria-labelledby="attention-title">
            <h2 id="attention-title">"Failed and returned since yesterday"</h2>
            {attention_table(attention)}
        </section>
    }
}

fn money_cells(values: &[Money]) -> Vec<String> {
    values.iter().map(Money::display).collect()
}

fn aging_chart(s: &Snapshot) -> impl IntoView {
    let numbers = Numbers {
        columns: vec!["Open balance"],
        rows: Bucket::ALL
            .iter()
            .zip(s.totals.buckets)
            .map(|(b, m)| (b.label().to_string(), vec![m.display()]))
            .collect(),
    };
    view! { <Chart title="Aging, by days past due" testid="chart-aging" svg=s.charts.aging.clone() numbers=numbers/> }
}

fn cash_chart(s: &Snapshot) -> impl IntoView {
    let mut columns: Vec<&'static str> = Rail::ALL.iter().map(|r| r.label()).collect();
    columns.push("Total");
    let numbers = Numbers {
        columns,
        rows: s
            .weeks
            .iter()
            .map(|w: &WeekCash| {
                let mut cells = money_cells(&w.rails);
                cells.push(w.total().display());
                (format!("Week of {}", shared::format::date(w.week)), cells)
            })
            .collect(),
    };
    let legend = Rail::ALL.iter().map(|r| (r.label(), r.class())).collect();
    view! { <Chart title="Cash collected per week, by rail" testid="chart-cash" svg=s.charts.cash.clone() legend=legend numbers=numbers/> }
}

fn dso_chart(s: &Snapshot) -> impl IntoView {
    let numbers = Numbers {
        columns: vec!["DSO (days)", "Receivables", "Invoiced", "Days"],
        rows: s
            .dso
            .iter()
            .map(|m| {
                (
                    m.label(),
                    vec![
                        m.dso().map_or("–".into(), |d| d.to_string()),
                        m.receivables.display(),
                        m.invoiced.display(),
                        m.days.to_string(),
                    ],
                )
            })
            .collect(),
    };
    view! { <Chart title="Days sales outstanding, per month" testid="chart-dso" svg=s.charts.dso.clone() numbers=numbers/> }
}

fn top_overdue(rows: Vec<AgingRow>) -> AnyView {
    if rows.is_empty() {
        return view! { <div class="empty-state"><p>"No customer is past due."</p></div> }
            .into_any();
    }
    view! {
        <DataTable label="Customers most past due" testid="top-overdue" class="dense">
            <thead><tr>
                <th scope="col">"Company"</th>
                <th scope="col" class="num">"Past due"</th>
                <th scope="col" class="num">"Open balance"</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|r| {
                    let f = r.figures.clone();
                    view! {
                        <tr data-company=r.code.clone()>
                            <th scope="row"><A href=format!("/ops/reports/aging/{}", r.code)>{r.name.clone()}</A>" "<span class="muted small mono">{r.code.clone()}</span></th>
                            <td class="num text-alert">{f.overdue().display()}</td>
                            <td class="num">{f.open.display()}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </DataTable>
    }
    .into_any()
}

fn attention_table(rows: Vec<Attention>) -> AnyView {
    if rows.is_empty() {
        return view! { <div class="empty-state" data-testid="attention-empty"><p>"Nothing failed, was declined or came back since yesterday."</p></div> }
            .into_any();
    }
    view! {
        <DataTable label="Payments to look at" testid="attention" class="dense">
            <thead><tr>
                <th scope="col">"Payment"</th>
                <th scope="col">"Company"</th>
                <th scope="col">"Method"</th>
                <th scope="col">"Status"</th>
                <th scope="col">"Why"</th>
                <th scope="col">"When"</th>
                <th scope="col" class="num">"Amount"</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|a| view! {
                    <tr data-payment=a.number.clone()>
                        <td class="mono">{a.number.clone()}</td>
                        <td><A href=format!("/ops/crm/companies/{}/payments", a.company_code)>{a.company_name.clone()}</A></td>
                        <td class="wrap">{a.method.clone().unwrap_or_default()}</td>
                        <td><PaymentBadge status=a.status/></td>
                        <td class="wrap">{a.reason.clone().unwrap_or_default()}</td>
                        <td>{a.when.clone()}</td>
                        <td class="num">{a.amount.display()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </DataTable>
    }
    .into_any()
}
