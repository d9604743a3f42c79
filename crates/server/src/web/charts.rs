//! SVG charts drawn on the server: a stacked bar per day and horizontal bars per label. The
//! geometry is computed here; the SVG is an askama template, so labels (source names, tactics
//! — text from feeds) are escaped like everything else.

use std::collections::BTreeMap;

use askama::Template;
use jiff::civil::Date;
use rampart_store::DailyCount;

/// Colour-blind-safe colours (Okabe–Ito), the last for "other".
const PALETTE: [&str; 8] = [
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#8c6d1f", "#999999",
];
/// Groups drawn on their own; the rest are summed as "other".
const MAX_GROUPS: usize = 7;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 22.0;
const TOP: f64 = 8.0;

/// One filled rectangle with its tooltip.
pub struct Bar {
    pub x: String,
    pub y: String,
    pub width: String,
    pub height: String,
    pub colour: &'static str,
    pub title: String,
}

/// A text label at a point.
pub struct Label {
    pub x: String,
    pub y: String,
    pub text: String,
}

/// A legend entry.
pub struct Legend {
    pub colour: &'static str,
    pub name: String,
    pub total: u64,
}

/// Counts per day, stacked by group.
#[derive(Template)]
#[template(path = "chart_stacked.html")]
pub struct StackedChart {
    pub title: String,
    pub width: f64,
    pub height: f64,
    pub bars: Vec<Bar>,
    pub x_labels: Vec<Label>,
    pub y_labels: Vec<Label>,
    pub grid: Vec<String>,
    pub legend: Vec<Legend>,
    pub total: u64,
}

fn px(value: f64) -> String {
    format!("{value:.1}")
}

/// The smallest 1, 2 or 5 × 10ⁿ at or above `value` (at least 1): a round top for the axis.
pub fn nice_ceiling(value: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for factor in [1, 2, 5] {
            if step.saturating_mul(factor) >= value {
                return step.saturating_mul(factor).max(1);
            }
        }
        step = step.saturating_mul(10);
    }
}

impl StackedChart {
    /// A chart of `counts` over `days` (oldest first); counts on other days are left out.
    pub fn new(title: &str, days: &[Date], counts: &[DailyCount]) -> StackedChart {
        let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
        for count in counts.iter().filter(|count| days.contains(&count.day)) {
            *totals.entry(count.group.as_str()).or_default() += count.count;
        }
        let mut ranked: Vec<(&str, u64)> = totals.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let shown: Vec<&str> = ranked
            .iter()
            .take(MAX_GROUPS)
            .map(|(name, _)| *name)
            .collect();
        let slot = |group: &str| {
            shown
                .iter()
                .position(|name| *name == group)
                .unwrap_or(MAX_GROUPS)
        };
        // per day, per slot
        let mut cells = vec![[0u64; MAX_GROUPS + 1]; days.len()];
        for count in counts {
            if let Some(day) = days.iter().position(|day| *day == count.day) {
                cells[day][slot(&count.group)] += count.count;
            }
        }
        let top = nice_ceiling(
            cells
                .iter()
                .map(|day| day.iter().sum::<u64>())
                .max()
                .unwrap_or(0),
        );
        let plot_height = HEIGHT - TOP - BOTTOM;
        let plot_width = WIDTH - LEFT - 4.0;
        let step = plot_width / days.len().max(1) as f64;
        let scale = plot_height / top as f64;
        let mut bars = Vec::new();
        for (index, (day, cell)) in days.iter().zip(&cells).enumerate() {
            let mut base = HEIGHT - BOTTOM;
            for (slot, count) in cell.iter().enumerate().filter(|(_, count)| **count > 0) {
                let height = *count as f64 * scale;
                base -= height;
                let name = shown.get(slot).copied().unwrap_or("other");
                bars.push(Bar {
                    x: px(LEFT + index as f64 * step + step * 0.1),
                    y: px(base),
                    width: px(step * 0.8),
                    height: px(height),
                    colour: PALETTE[slot],
                    title: format!("{day}: {name} {count}"),
                });
            }
        }
        let every = days.len().div_ceil(8).max(1);
        let x_labels = days
            .iter()
            .enumerate()
            .filter(|(index, _)| index % every == 0)
            .map(|(index, day)| Label {
                x: px(LEFT + index as f64 * step + step / 2.0),
                y: px(HEIGHT - 6.0),
                text: day.strftime("%m-%d").to_string(),
            })
            .collect();
        let ticks = [0, top / 2, top];
        let y_labels = ticks
            .iter()
            .map(|tick| Label {
                x: px(LEFT - 6.0),
                y: px(HEIGHT - BOTTOM - *tick as f64 * scale + 4.0),
                text: tick.to_string(),
            })
            .collect();
        let grid = ticks
            .iter()
            .map(|tick| px(HEIGHT - BOTTOM - *tick as f64 * scale))
            .collect();
        let mut legend: Vec<Legend> = ranked
            .iter()
            .take(MAX_GROUPS)
            .enumerate()
            .map(|(slot, (name, total))| Legend {
                colour: PALETTE[slot],
                name: (*name).to_owned(),
                total: *total,
            })
            .collect();
        let other: u64 = ranked.iter().skip(MAX_GROUPS).map(|(_, total)| total).sum();
        if other > 0 {
            legend.push(Legend {
                colour: PALETTE[MAX_GROUPS],
                name: "other".to_owned(),
                total: other,
            });
        }
        StackedChart {
            title: title.to_owned(),
            width: WIDTH,
            height: HEIGHT,
            bars,
            x_labels,
            y_labels,
            grid,
            total: ranked.iter().map(|(_, total)| total).sum(),
            legend,
        }
    }
}

/// One row of a horizontal bar chart.
pub struct Row {
    pub label: String,
    pub count: u64,
    pub y: String,
    pub text_y: String,
    pub width: String,
    pub count_x: String,
    pub colour: &'static str,
}

/// Counts per label as horizontal bars, in the order given.
#[derive(Template)]
#[template(path = "chart_bars.html")]
pub struct BarChart {
    pub title: String,
    pub width: f64,
    pub height: f64,
    pub label_x: f64,
    pub bar_x: f64,
    pub rows: Vec<Row>,
}

const ROW: f64 = 22.0;

impl BarChart {
    /// Bars for `items`, each with its colour (or the first of the palette).
    pub fn new(title: &str, items: Vec<(String, u64, Option<&'static str>)>) -> BarChart {
        let width = 420.0;
        let bar_x = 170.0;
        let longest = width - bar_x - 50.0;
        let top = items
            .iter()
            .map(|(_, count, _)| *count)
            .max()
            .unwrap_or(0)
            .max(1);
        let rows = items
            .into_iter()
            .enumerate()
            .map(|(index, (label, count, colour))| {
                let bar = longest * count as f64 / top as f64;
                let label: String = if label.chars().count() > 26 {
                    label.chars().take(25).chain(['…']).collect()
                } else {
                    label
                };
                Row {
                    label,
                    count,
                    y: px(index as f64 * ROW + 3.0),
                    text_y: px(index as f64 * ROW + 16.0),
                    width: px(bar.max(1.0)),
                    count_x: px(bar_x + bar + 5.0),
                    colour: colour.unwrap_or(PALETTE[0]),
                }
            })
            .collect::<Vec<_>>();
        BarChart {
            title: title.to_owned(),
            width,
            height: (rows.len() as f64 * ROW + 6.0).max(ROW),
            label_x: bar_x - 6.0,
            bar_x,
            rows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_tops_are_round() {
        assert_eq!(nice_ceiling(0), 1);
        assert_eq!(nice_ceiling(1), 1);
        assert_eq!(nice_ceiling(3), 5);
        assert_eq!(nice_ceiling(11), 20);
        assert_eq!(nice_ceiling(500), 500);
        assert_eq!(nice_ceiling(501), 1000);
    }

    #[test]
    fn groups_past_seven_are_other_and_labels_are_escaped() {
        let day = Date::constant(2026, 11, 27);
        let counts: Vec<DailyCount> = (0..9)
            .map(|n| DailyCount {
                day,
                group: format!("<feed{n}>"),
                count: 10 - n,
            })
            .collect();
        let chart = StackedChart::new("by source", &[day], &counts);
        assert_eq!(chart.legend.len(), 8);
        assert_eq!(chart.legend[7].name, "other");
        assert_eq!(chart.legend[7].total, 3 + 2);
        assert_eq!(chart.total, (2..=10).sum::<u64>());
        let svg = chart.render().unwrap();
        assert!(
            svg.contains("&#60;feed0&#62;") || svg.contains("&lt;feed0&gt;"),
            "{svg}"
        );
        assert!(!svg.contains("<feed0>"));
    }
}
