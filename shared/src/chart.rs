//! Charts drawn as SVG by the server: round axes, stacked bars and lines, with their labels.
//! The server draws them once per snapshot ([`crate::dashboard::Snapshot`]) and the page
//! shows the markup as it is, so they show before the page is interactive, print, and carry
//! no drawing code into the browser. Every text drawn is escaped.

use crate::money::Money;
use rust_decimal::prelude::ToPrimitive;

const WIDTH: f64 = 420.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 50.0;
const RIGHT: f64 = 6.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 24.0;
const PLOT_W: f64 = WIDTH - LEFT - RIGHT;
const PLOT_H: f64 = HEIGHT - TOP - BOTTOM;

/// A value axis from zero to a round top, in round steps (1, 2 or 5 × a power of ten), with
/// at most `max_steps` steps; never zero high (an empty chart still has an axis).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Axis {
    pub top: f64,
    pub step: f64,
}

impl Axis {
    pub fn new(max: f64, max_steps: u32) -> Axis {
        let max_steps = max_steps.max(1) as f64;
        let max = if max.is_finite() && max > 0.0 {
            max
        } else {
            1.0
        };
        let rough = max / max_steps;
        let power = 10f64.powf(rough.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|m| m * power)
            .find(|s| (max / s).ceil() <= max_steps)
            .unwrap_or(10.0 * power);
        Axis {
            top: (max / step).ceil() * step,
            step,
        }
    }

    /// The ticks from zero to the top.
    pub fn ticks(&self) -> Vec<f64> {
        let n = (self.top / self.step).round() as usize;
        (0..=n).map(|i| i as f64 * self.step).collect()
    }

    /// How far up (0 to `height`) a value sits.
    pub fn scale(&self, value: f64, height: f64) -> f64 {
        (value.max(0.0) / self.top * height).min(height)
    }
}

/// A money amount as a number for a chart.
pub fn value(m: Money) -> f64 {
    m.amount().to_f64().unwrap_or(0.0)
}

/// An axis label: `$0`, `$500`, `$2.5K`, `$1.2M`.
pub fn compact_usd(v: f64) -> String {
    let (n, unit) = if v >= 1e6 {
        (v / 1e6, "M")
    } else if v >= 1e3 {
        (v / 1e3, "K")
    } else {
        (v, "")
    };
    let text = format!("{n:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text);
    format!("${text}{unit}")
}

/// Stacked bars: for each category, each series' segment as (bottom, height) in `0..=height`,
/// the segments one on another in series order.
pub fn stack(values: &[Vec<f64>], axis: Axis, height: f64) -> Vec<Vec<(f64, f64)>> {
    values
        .iter()
        .map(|series| {
            let mut below = 0.0;
            series
                .iter()
                .map(|v| {
                    let bottom = axis.scale(below, height);
                    below += v.max(0.0);
                    (bottom, axis.scale(below, height) - bottom)
                })
                .collect()
        })
        .collect()
}

/// One series of a chart: its CSS class (its colour) and a value per category.
pub struct Series<'a> {
    pub class: &'a str,
    pub values: Vec<f64>,
}

fn px(v: f64) -> String {
    format!("{v:.1}")
}

/// Text safe inside SVG markup.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn open() -> String {
    format!(
        r#"<svg class="chart-svg" viewBox="0 0 {WIDTH} {HEIGHT}" aria-hidden="true" focusable="false">"#
    )
}

/// The value axis: its grid lines and labels.
fn grid(out: &mut String, axis: Axis, label: fn(f64) -> String) {
    for t in axis.ticks() {
        let y = px(TOP + PLOT_H - axis.scale(t, PLOT_H));
        out.push_str(&format!(
            r#"<line class="chart-grid" x1="{}" x2="{}" y1="{y}" y2="{y}"></line><text class="chart-axis" x="{}" y="{y}" dy="0.32em" text-anchor="end">{}</text>"#,
            px(LEFT),
            px(WIDTH - RIGHT),
            px(LEFT - 6.0),
            escape(&label(t))
        ));
    }
}

/// The category labels under the plot (every `every`th, so they never overlap).
fn categories(out: &mut String, labels: &[String], every: usize) {
    let band = PLOT_W / labels.len().max(1) as f64;
    for (i, l) in labels
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every.max(1) == 0)
    {
        out.push_str(&format!(
            r#"<text class="chart-axis" x="{}" y="{}" text-anchor="middle">{}</text>"#,
            px(LEFT + band * (i as f64 + 0.5)),
            px(HEIGHT - 6.0),
            escape(l)
        ));
    }
}

/// Bars, one per category, with the series stacked (one series: plain bars).
pub fn bar_chart(
    labels: &[String],
    series: &[Series],
    axis_label: fn(f64) -> String,
    label_every: usize,
) -> String {
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
    let mut out = open();
    grid(&mut out, axis, axis_label);
    for (i, segments) in stack(&per_category, axis, PLOT_H).into_iter().enumerate() {
        let x = LEFT + band * i as f64 + (band - bar) / 2.0;
        for (k, (bottom, h)) in segments.into_iter().enumerate() {
            if h <= 0.0 {
                continue;
            }
            out.push_str(&format!(
                r#"<rect class="chart-bar {}" x="{}" y="{}" width="{}" height="{}"></rect>"#,
                escape(series.get(k).map_or("", |s| s.class)),
                px(x),
                px(TOP + PLOT_H - bottom - h),
                px(bar),
                px(h.max(1.0))
            ));
        }
    }
    categories(&mut out, labels, label_every);
    out.push_str("</svg>");
    out
}

/// A line through one value per category (none where a value is missing), each point
/// labelled.
pub fn line_chart(
    labels: &[String],
    values: &[Option<f64>],
    axis_label: fn(f64) -> String,
    point_label: fn(f64) -> String,
) -> String {
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
    let mut out = open();
    grid(&mut out, axis, axis_label);
    let line: Vec<String> = points
        .iter()
        .map(|(x, y, _)| format!("{},{}", px(*x), px(*y)))
        .collect();
    out.push_str(&format!(
        r#"<polyline class="chart-line" points="{}"></polyline>"#,
        line.join(" ")
    ));
    for (x, y, v) in points {
        out.push_str(&format!(
            r#"<circle class="chart-point" cx="{}" cy="{}" r="4"></circle><text class="chart-value" x="{}" y="{}" text-anchor="middle">{}</text>"#,
            px(x),
            px(y),
            px(x),
            px(y - 9.0),
            escape(&point_label(v))
        ));
    }
    categories(&mut out, labels, 1);
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_axis_is_round_and_holds_the_largest_value() {
        for (max, top, step) in [
            (0.0, 1.0, 0.2),
            (1.0, 1.0, 0.2),
            (7.0, 8.0, 2.0),
            (10.0, 10.0, 2.0),
            (12_345.0, 15_000.0, 5_000.0),
            (980_000.0, 1_000_000.0, 200_000.0),
            (1_000_001.0, 1_500_000.0, 500_000.0),
            (61.3, 80.0, 20.0),
        ] {
            let a = Axis::new(max, 5);
            assert_eq!((a.top, a.step), (top, step), "max {max}");
            assert!(a.top >= max);
            assert!(a.ticks().len() <= 6);
            assert_eq!(a.ticks().first(), Some(&0.0));
            assert_eq!(a.ticks().last(), Some(&a.top));
        }
        assert_eq!(Axis::new(f64::NAN, 5).top, 1.0);
    }

    #[test]
    fn stacked_segments_sit_on_each_other_and_reach_the_total() {
        let axis = Axis::new(100.0, 5);
        let bars = stack(&[vec![10.0, 30.0, 0.0], vec![100.0, 0.0, 0.0]], axis, 200.0);
        assert_eq!(bars[0], vec![(0.0, 20.0), (20.0, 60.0), (80.0, 0.0)]);
        assert_eq!(bars[1][0], (0.0, 200.0));
        assert_eq!(axis.scale(250.0, 200.0), 200.0);
        assert_eq!(axis.scale(-5.0, 200.0), 0.0);
    }

    #[test]
    fn axis_labels_are_short() {
        assert_eq!(compact_usd(0.0), "$0");
        assert_eq!(compact_usd(500.0), "$500");
        assert_eq!(compact_usd(2_500.0), "$2.5K");
        assert_eq!(compact_usd(20_000.0), "$20K");
        assert_eq!(compact_usd(1_200_000.0), "$1.2M");
    }

    #[test]
    fn bars_are_drawn_to_scale_with_their_labels_escaped() {
        let labels = vec!["A & B".to_string(), "<C>".to_string()];
        let svg = bar_chart(
            &labels,
            &[
                Series {
                    class: "s-accent",
                    values: vec![50.0, 100.0],
                },
                Series {
                    class: "s-green",
                    values: vec![0.0, 0.0],
                },
            ],
            compact_usd,
            1,
        );
        assert!(svg.starts_with("<svg class=\"chart-svg\""), "{svg}");
        assert!(svg.ends_with("</svg>"));
        assert_eq!(
            svg.matches("<rect ").count(),
            2,
            "no bar for a zero segment: {svg}"
        );
        assert!(
            svg.contains("A &amp; B") && svg.contains("&lt;C&gt;"),
            "{svg}"
        );
        assert!(!svg.contains("<C>"));
        // The taller bar fills the plot; the other is half of it.
        assert!(svg.contains(&format!("height=\"{}\"", px(PLOT_H))), "{svg}");
        assert!(
            svg.contains(&format!("height=\"{}\"", px(PLOT_H / 2.0))),
            "{svg}"
        );
        assert!(svg.contains(">$100<") && svg.contains(">$0<"), "{svg}");
    }

    #[test]
    fn a_line_skips_what_is_missing_and_labels_each_point() {
        let labels: Vec<String> = ["Jul", "Aug", "Sep"].map(String::from).to_vec();
        let svg = line_chart(
            &labels,
            &[Some(40.0), None, Some(80.0)],
            |v| format!("{v:.0}"),
            |v| format!("{v:.1}"),
        );
        assert_eq!(svg.matches("<circle ").count(), 2);
        assert!(svg.contains(">40.0<") && svg.contains(">80.0<"), "{svg}");
        let points = svg
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(points.split(' ').count(), 2, "{points}");
    }
}
