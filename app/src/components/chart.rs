//! A chart on a page: its title, its legend, the SVG the server drew
//! (`shared::dashboard::Charts`, shown as it is: it shows before the page is interactive,
//! prints, and carries no drawing code into the browser), and its numbers as a table for
//! screen readers (the drawing is hidden from them).

use leptos::prelude::*;

/// The chart's numbers as a table: a row per category, a column per series, each cell as the
/// page shows amounts.
pub struct Numbers {
    pub columns: Vec<&'static str>,
    pub rows: Vec<(String, Vec<String>)>,
}

#[component]
pub fn Chart(
    #[prop(into)] title: String,
    #[prop(into)] testid: String,
    /// The drawing: SVG markup from the server.
    svg: String,
    /// Each series' name and colour (a CSS class), when there are several.
    #[prop(default = Vec::new())]
    legend: Vec<(&'static str, &'static str)>,
    numbers: Numbers,
) -> impl IntoView {
    let caption = title.clone();
    view! {
        <figure class="chart" data-testid=testid>
            <figcaption class="chart-title">{title}</figcaption>
            {(!legend.is_empty()).then(|| view! {
                <ul class="chart-legend" aria-hidden="true">
                    {legend.into_iter().map(|(name, class)| view! { <li><span class=format!("chart-key {class}")></span>{name}</li> }).collect_view()}
                </ul>
            })}
            <div class="chart-drawing" inner_html=svg></div>
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
        </figure>
    }
}
