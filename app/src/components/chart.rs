//! Charts drawn as SVG in the page itself: rendered on the server, so they show before the page
//! is interactive and print. Each carries its numbers as a table for screen readers (the
//! drawing is hidden from them). The geometry (round axes, stacked segments) is
//! `shared::dashboard`'s, tested there.

use leptos::prelude::*;
use shared::dashboard::{stack, Axis};

const WIDTH: f64 = 420.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 50.0;
const RIGHT: f64 = 6.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 24.0;
const PLOT_W: f64 = WIDTH - LEFT - RIGHT;
const PLOT_H: f64 = HEIGHT - TOP - BOTTOM;

/// One series of a chart: its name (the legend's and the table's column), its CSS class (its
/// colour) and a value per category.
pub struct Series {
    pub name: &'static str,
    pub class: &'static str,
    pub values: Vec<f64>,
}

/// The chart's numbers as a table: a row per category, a column per series, each cell as the
/// page shows amounts.
pub struct Numbers {
    pub columns: Vec<&'static str>,
    pub rows: Vec<(String, Vec<String>)>,
}

fn px(v: f64) -> String {
    format!("{v:.1}")
}

/// The value axis: its grid lines and labels.
fn grid(axis: Axis, label: fn(f64) -> String) -> impl IntoView {
    axis.ticks()
        .into_iter()
        .map(|t| {
            let y = px(TOP + PLOT_H - axis.scale(t, PLOT_H));
            view! {
                <line class="chart-grid" x1=px(LEFT) x2=px(WIDTH - RIGHT) y1=y.clone() y2=y.clone()/>
                <text class="chart-axis" x=px(LEFT - 6.0) y=y dy="0.32em" text-anchor="end">{label(t)}</text>
            }
        })
        .collect_view()
}

/// The category labels under the plot (every `every`th, so they never overlap).
fn categories(labels: &[String], every: usize) -> impl IntoView {
    let band = PLOT_W / labels.len().max(1) as f64;
    labels
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every.max(1) == 0)
        .map(|(i, l)| {
            let x = px(LEFT + band * (i as f64 + 0.5));
            view! { <text class="chart-axis" x=x y=px(HEIGHT - 6.0) text-anchor="middle">{l.clone()}</text> }
        })
        .collect_view()
}

fn numbers_table(caption: String, numbers: Numbers) -> impl IntoView {
    view! {
        <table class="sr-only">
            <caption>{caption}</caption>
            <thead><tr>
                <th scope="col"></th>
                {numbers.columns.into_iter().map(|c| view! { <th scope="col">{c}</th> }).collect_view()}
            </tr></thead>
            <tbody>
                {numbers.rows.into_iter().map(|(label, cells)| view! {
                    <tr><th scope="row">{label}</th>{cells.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}</tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

fn legend(series: &[Series]) -> impl IntoView {
    (series.len() > 1).then(|| {
        view! {
            <ul class="chart-legend" aria-hidden="true">
                {series.iter().map(|s| view! { <li><span class=format!("chart-key {}", s.class)></span>{s.name}</li> }).collect_view()}
            </ul>
        }
    })
}

/// Bars, one per category, with the series stacked (one series: plain bars).
#[component]
pub fn BarChart(
    #[prop(into)] title: String,
    #[prop(into)] testid: String,
    labels: Vec<String>,
    series: Vec<Series>,
    /// The value axis' labels.
    axis_label: fn(f64) -> String,
    numbers: Numbers,
    /// Every how many categories a label shows under the bars.
    #[prop(default = 1)]
    label_every: usize,
) -> impl IntoView {
    let per_category: Vec<Vec<f64>> = (0..labels.len())
        .map(|i| {
            series
                .iter()
                .map(|s| s.values.get(i).copied().unwrap_or(0.0))
                .collect()
        })
        .collect();
    let max = per_category
        .iter()
        .map(|v| v.iter().map(|x| x.max(0.0)).sum::<f64>())
        .fold(0.0, f64::max);
    let axis = Axis::new(max, 4);
    let band = PLOT_W / labels.len().max(1) as f64;
    let bar = band * 0.62;
    let bars = stack(&per_category, axis, PLOT_H)
        .into_iter()
        .enumerate()
        .flat_map(|(i, segments)| {
            let x = LEFT + band * i as f64 + (band - bar) / 2.0;
            segments
                .into_iter()
                .enumerate()
                .filter(|(_, (_, h))| *h > 0.0)
                .map(move |(k, (bottom, h))| (x, k, bottom, h))
                .collect::<Vec<_>>()
        })
        .map(|(x, k, bottom, h)| {
            let class = format!("chart-bar {}", series.get(k).map_or("", |s| s.class));
            view! { <rect class=class x=px(x) y=px(TOP + PLOT_H - bottom - h) width=px(bar) height=px(h.max(1.0))/> }
        })
        .collect_view();
    let caption = title.clone();
    view! {
        <figure class="chart" data-testid=testid>
            <figcaption class="chart-title">{title}</figcaption>
            {legend(&series)}
            <svg class="chart-svg" viewBox=format!("0 0 {WIDTH} {HEIGHT}") aria-hidden="true" focusable="false">
                {grid(axis, axis_label)}
                {bars}
                {categories(&labels, label_every)}
            </svg>
            {numbers_table(caption, numbers)}
        </figure>
    }
}

/// A line through one value per category (none where a value is missing), each point
/// labelled.
#[component]
pub fn LineChart(
    #[prop(into)] title: String,
    #[prop(into)] testid: String,
    labels: Vec<String>,
    values: Vec<Option<f64>>,
    axis_label: fn(f64) -> String,
    /// A point's own label.
    point_label: fn(f64) -> String,
    numbers: Numbers,
) -> impl IntoView {
    let max = values.iter().flatten().copied().fold(0.0, f64::max);
    let axis = Axis::new(max, 4);
    let band = PLOT_W / labels.len().max(1) as f64;
    let points: Vec<(f64, f64, f64)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            v.map(|v| {
                (
                    LEFT + band * (i as f64 + 0.5),
                    TOP + PLOT_H - axis.scale(v, PLOT_H),
                    v,
                )
            })
        })
        .collect();
    let line = points
        .iter()
        .map(|(x, y, _)| format!("{},{}", px(*x), px(*y)))
        .collect::<Vec<_>>()
        .join(" ");
    let caption = title.clone();
    view! {
        <figure class="chart" data-testid=testid>
            <figcaption class="chart-title">{title}</figcaption>
            <svg class="chart-svg" viewBox=format!("0 0 {WIDTH} {HEIGHT}") aria-hidden="true" focusable="false">
                {grid(axis, axis_label)}
                <polyline class="chart-line" points=line/>
                {points.into_iter().map(|(x, y, v)| view! {
                    <circle class="chart-point" cx=px(x) cy=px(y) r="4"/>
                    <text class="chart-value" x=px(x) y=px(y - 9.0) text-anchor="middle">{point_label(v)}</text>
                }).collect_view()}
                {categories(&labels, 1)}
            </svg>
            {numbers_table(caption, numbers)}
        </figure>
    }
}
