//! Minimal SVG charts for reports: lines with bands, and points with interval bars. Written
//! by hand so that reports need no plotting or font stack.

use std::fmt::Write;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 180.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
/// Tableau-10 colours, one per series in order.
const COLOURS: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

/// One point of a line, with an optional band `(low, high)` around it.
#[derive(Debug, Clone, Copy)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub band: Option<(f64, f64)>,
}

/// One line of a line chart.
#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    pub points: Vec<Point>,
}

/// A value with an optional interval, for the interval chart.
#[derive(Debug, Clone)]
pub struct Estimate {
    pub label: String,
    pub value: f64,
    pub interval: Option<(f64, f64)>,
    /// The legend entry (label and value as the chart should name them).
    pub legend: String,
}

/// How an interval chart's y axis is chosen: both include 0, so a small gap never fills the
/// whole height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YAxis {
    /// Non-negative quantities (MRR): the axis starts at 0.
    FromZero,
    /// Differences: the axis spans 0 and every value, with a line at 0.
    AroundZero,
}

struct Frame {
    x: (f64, f64),
    y: (f64, f64),
}

impl Frame {
    fn px(&self, x: f64) -> f64 {
        LEFT + (x - self.x.0) / (self.x.1 - self.x.0).max(f64::EPSILON) * (WIDTH - LEFT - RIGHT)
    }

    fn py(&self, y: f64) -> f64 {
        HEIGHT
            - BOTTOM
            - (y - self.y.0) / (self.y.1 - self.y.0).max(f64::EPSILON) * (HEIGHT - TOP - BOTTOM)
    }
}

/// About five round tick values covering `[low, high]`.
fn ticks(low: f64, high: f64) -> Vec<f64> {
    let span = (high - low).max(1e-9);
    let raw = span / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| span / s <= 6.0)
        .unwrap_or(raw);
    let first = (low / step).ceil() as i64;
    let last = (high / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// The x range of `values`, padded by 8% on both sides.
fn padded(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (low, high) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if low > high {
        return (0.0, 1.0);
    }
    let pad = ((high - low) * 0.08).max(1e-3);
    (low - pad, high + pad)
}

/// A y range that includes 0 and every value, padded by 8% of its span away from 0 (so an axis
/// of non-negative values starts exactly at 0).
fn with_zero(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (low, high) = values.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let pad = ((high - low) * 0.08).max(1e-3);
    (
        if low < 0.0 { low - pad } else { 0.0 },
        if high > 0.0 || low == 0.0 {
            high + pad
        } else {
            0.0
        },
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn open(
    svg: &mut String,
    title: &str,
    frame: &Frame,
    x_label: &str,
    y_label: &str,
    x_ticks: &[(f64, String)],
) {
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>
"#,
        (LEFT + WIDTH - RIGHT) / 2.0,
        escape(title)
    );
    for y in ticks(frame.y.0, frame.y.1) {
        let py = frame.py(y);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" x2="{}" y1="{py:.1}" y2="{py:.1}" stroke="#e5e5e5"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            py + 4.0,
            format_tick(y)
        );
    }
    for (x, label) in x_ticks {
        let px = frame.px(*x);
        let _ = writeln!(
            svg,
            r#"<text x="{px:.1}" y="{}" text-anchor="middle">{}</text>"#,
            HEIGHT - BOTTOM + 18.0,
            escape(label)
        );
    }
    let _ = writeln!(
        svg,
        r##"<rect x="{LEFT}" y="{TOP}" width="{}" height="{}" fill="none" stroke="#444"/>
<text x="{}" y="{}" text-anchor="middle">{}</text>
<text transform="translate(18 {}) rotate(-90)" text-anchor="middle">{}</text>"##,
        WIDTH - LEFT - RIGHT,
        HEIGHT - TOP - BOTTOM,
        (LEFT + WIDTH - RIGHT) / 2.0,
        HEIGHT - 12.0,
        escape(x_label),
        (TOP + HEIGHT - BOTTOM) / 2.0,
        escape(y_label)
    );
}

fn format_tick(value: f64) -> String {
    let value = if value.abs() < 1e-12 { 0.0 } else { value };
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn legend(svg: &mut String, index: usize, label: &str) {
    let y = TOP + 10.0 + index as f64 * 20.0;
    let x = WIDTH - RIGHT + 14.0;
    let _ = writeln!(
        svg,
        r#"<rect x="{x}" y="{}" width="14" height="4" fill="{}"/><text x="{}" y="{}">{}</text>"#,
        y - 2.0,
        COLOURS[index % COLOURS.len()],
        x + 20.0,
        y + 4.0,
        escape(label)
    );
}

/// Lines over a numeric x axis, each with a translucent band.
pub fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    let points = || series.iter().flat_map(|s| s.points.iter());
    let frame = Frame {
        x: padded(points().map(|p| p.x)),
        y: with_zero(
            points()
                .flat_map(|p| [Some(p.y), p.band.map(|b| b.0), p.band.map(|b| b.1)])
                .flatten(),
        ),
    };
    let x_ticks: Vec<(f64, String)> = ticks(frame.x.0, frame.x.1)
        .into_iter()
        .map(|x| (x, format_tick(x)))
        .collect();
    let mut svg = String::new();
    open(&mut svg, title, &frame, x_label, y_label, &x_ticks);
    for (index, s) in series.iter().enumerate() {
        let colour = COLOURS[index % COLOURS.len()];
        let band: Vec<(f64, (f64, f64))> = s
            .points
            .iter()
            .filter_map(|p| p.band.map(|b| (p.x, b)))
            .collect();
        if band.len() == s.points.len() && !band.is_empty() {
            let upper = band
                .iter()
                .map(|(x, b)| format!("{:.1},{:.1}", frame.px(*x), frame.py(b.1)));
            let lower = band
                .iter()
                .rev()
                .map(|(x, b)| format!("{:.1},{:.1}", frame.px(*x), frame.py(b.0)));
            let _ = writeln!(
                svg,
                r#"<polygon points="{}" fill="{colour}" fill-opacity="0.18" stroke="none"/>"#,
                upper.chain(lower).collect::<Vec<_>>().join(" ")
            );
        }
        let line: Vec<String> = s
            .points
            .iter()
            .map(|p| format!("{:.1},{:.1}", frame.px(p.x), frame.py(p.y)))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            line.join(" ")
        );
        legend(&mut svg, index, &s.label);
    }
    svg.push_str("</svg>\n");
    svg
}

/// One point per category with its interval drawn as a bar.
pub fn interval_chart(title: &str, y_label: &str, estimates: &[Estimate], axis: YAxis) -> String {
    let frame = Frame {
        x: (-0.5, estimates.len().max(1) as f64 - 0.5),
        y: with_zero(
            estimates
                .iter()
                .flat_map(|e| {
                    [
                        Some(e.value),
                        e.interval.map(|i| i.0),
                        e.interval.map(|i| i.1),
                    ]
                })
                .flatten(),
        ),
    };
    let x_ticks: Vec<(f64, String)> = estimates
        .iter()
        .enumerate()
        .map(|(i, e)| (i as f64, e.label.clone()))
        .collect();
    let mut svg = String::new();
    open(&mut svg, title, &frame, "sampler", y_label, &x_ticks);
    if axis == YAxis::AroundZero {
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#222" stroke-dasharray="5 3"/>"##,
            WIDTH - RIGHT,
            y = frame.py(0.0)
        );
    }
    for (index, estimate) in estimates.iter().enumerate() {
        let colour = COLOURS[index % COLOURS.len()];
        let px = frame.px(index as f64);
        if let Some((low, high)) = estimate.interval {
            let _ = writeln!(
                svg,
                r#"<line x1="{px:.1}" x2="{px:.1}" y1="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="2"/><line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="2"/><line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="2"/>"#,
                frame.py(low),
                frame.py(high),
                px - 8.0,
                px + 8.0,
                frame.py(low),
                frame.py(low),
                px - 8.0,
                px + 8.0,
                frame.py(high),
                frame.py(high)
            );
        }
        let _ = writeln!(
            svg,
            r#"<circle cx="{px:.1}" cy="{:.1}" r="5" fill="{colour}"/>"#,
            frame.py(estimate.value)
        );
        legend(&mut svg, index, &estimate.legend);
    }
    svg.push_str("</svg>\n");
    svg
}

/// One cell of a heatmap: the value that colours it (none: grey) and the lines written in it.
#[derive(Debug, Clone)]
pub struct HeatCell {
    pub value: Option<f64>,
    pub lines: Vec<String>,
}

/// A categorical axis: its name and its values, in drawing order.
#[derive(Debug, Clone)]
pub struct Categories {
    pub label: String,
    pub values: Vec<String>,
}

/// A grid of cells over two categorical axes, coloured by a signed value.
#[derive(Debug, Clone)]
pub struct Heatmap {
    pub title: String,
    /// The axis down the side, its values top to bottom.
    pub rows: Categories,
    /// The axis along the bottom, its values left to right.
    pub columns: Categories,
    /// `cells[row][column]`.
    pub cells: Vec<Vec<HeatCell>>,
    /// Unit of the values in the colour scale's labels.
    pub unit: String,
}

/// Blends white into `colour` (`#rrggbb`) by `share` in [0, 1].
fn tint(colour: &str, share: f64) -> String {
    let channel = |at: usize| {
        let full = u8::from_str_radix(&colour[at..at + 2], 16).unwrap_or(255) as f64;
        (255.0 + (full - 255.0) * share.clamp(0.0, 1.0)).round() as u8
    };
    format!("#{:02x}{:02x}{:02x}", channel(1), channel(3), channel(5))
}

/// The fill of a signed value on a scale reaching `extent` either way: blue above 0, red below.
fn diverging(value: f64, extent: f64) -> String {
    let share = (value.abs() / extent.max(f64::EPSILON)).min(1.0);
    tint(if value >= 0.0 { COLOURS[0] } else { COLOURS[2] }, share)
}

/// A heatmap: each cell filled by its value on a scale symmetric around 0 (white), with its
/// lines of text written in it and a colour key on the right.
pub fn heatmap(map: &Heatmap) -> String {
    let extent = map
        .cells
        .iter()
        .flatten()
        .filter_map(|c| c.value)
        .fold(0.0f64, |m, v| m.max(v.abs()));
    let width = (WIDTH - LEFT - RIGHT) / map.columns.values.len().max(1) as f64;
    let height = (HEIGHT - TOP - BOTTOM) / map.rows.values.len().max(1) as f64;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>
"#,
        WIDTH / 2.0,
        escape(&map.title)
    );
    for (r, row) in map.cells.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (x, y) = (LEFT + c as f64 * width, TOP + r as f64 * height);
            let fill = cell
                .value
                .map_or("#eeeeee".to_string(), |v| diverging(v, extent));
            let _ = writeln!(
                svg,
                r##"<rect x="{x:.1}" y="{y:.1}" width="{width:.1}" height="{height:.1}" fill="{fill}" stroke="#ffffff" stroke-width="2"/>"##
            );
            let first = y + height / 2.0 - (cell.lines.len() as f64 - 1.0) * 8.0 + 4.0;
            for (i, line) in cell.lines.iter().enumerate() {
                let _ = writeln!(
                    svg,
                    r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                    x + width / 2.0,
                    first + i as f64 * 16.0,
                    escape(line)
                );
            }
        }
    }
    for (r, label) in map.rows.values.iter().enumerate() {
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 6.0,
            TOP + (r as f64 + 0.5) * height + 4.0,
            escape(label)
        );
    }
    for (c, label) in map.columns.values.iter().enumerate() {
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
            LEFT + (c as f64 + 0.5) * width,
            HEIGHT - BOTTOM + 18.0,
            escape(label)
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>
<text transform="translate(18 {}) rotate(-90)" text-anchor="middle">{}</text>"#,
        (LEFT + WIDTH - RIGHT) / 2.0,
        HEIGHT - 12.0,
        escape(&map.columns.label),
        (TOP + HEIGHT - BOTTOM) / 2.0,
        escape(&map.rows.label)
    );
    for (i, share) in [1.0, 0.5, 0.0, -0.5, -1.0].into_iter().enumerate() {
        let value = share * extent;
        let y = TOP + 10.0 + i as f64 * 22.0;
        let x = WIDTH - RIGHT + 14.0;
        let _ = writeln!(
            svg,
            r##"<rect x="{x}" y="{}" width="16" height="16" fill="{}" stroke="#999"/><text x="{}" y="{}">{value:+.1}{}</text>"##,
            y - 8.0,
            diverging(value, extent),
            x + 22.0,
            y + 4.0,
            escape(&map.unit)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(
            ticks(0.0, 1.0),
            vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        let t = ticks(0.33, 0.71);
        assert!(
            t.len() >= 3 && t[0] >= 0.33 && *t.last().unwrap() <= 0.71,
            "{t:?}"
        );
    }

    fn point(x: f64, y: f64, band: Option<(f64, f64)>) -> Point {
        Point { x, y, band }
    }

    #[test]
    fn charts_are_well_formed_svg_with_every_label() {
        let series = vec![
            Series {
                label: "random".into(),
                points: vec![
                    point(1.0, 0.2, Some((0.1, 0.3))),
                    point(2.0, 0.4, Some((0.3, 0.5))),
                ],
            },
            Series {
                label: "hard <0.5>".into(),
                points: vec![point(1.0, 0.25, None), point(2.0, 0.5, None)],
            },
        ];
        let svg = line_chart("MRR by epoch", "epoch", "MRR", &series);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("random") && svg.contains("hard &lt;0.5&gt;"));
        assert_eq!(
            svg.matches("<polygon").count(),
            1,
            "only the series with a band gets one"
        );
        let estimates = vec![Estimate {
            label: "random".into(),
            value: 0.5,
            interval: Some((0.45, 0.55)),
            legend: "random 0.500".into(),
        }];
        let svg = interval_chart("Final MRR", "MRR", &estimates, YAxis::FromZero);
        assert_eq!(svg.matches("<circle").count(), 1);
        assert!(svg.contains("random 0.500"));
        assert!(
            !svg.contains("stroke-dasharray"),
            "no zero line on an MRR axis"
        );
        let svg = interval_chart(
            "Difference",
            "MRR difference",
            &estimates,
            YAxis::AroundZero,
        );
        assert_eq!(svg.matches("stroke-dasharray").count(), 1, "a zero line");
    }

    #[test]
    fn heatmaps_colour_by_sign_and_write_every_cell() {
        let cell = |value: Option<f64>, text: &str| HeatCell {
            value,
            lines: vec![text.to_string()],
        };
        let map = Heatmap {
            title: "gain <%>".into(),
            rows: Categories {
                label: "hard_ratio".into(),
                values: vec!["0.3".into(), "0.7".into()],
            },
            columns: Categories {
                label: "hardness_k".into(),
                values: vec!["10".into(), "30".into()],
            },
            cells: vec![
                vec![cell(Some(4.0), "+4.0% *"), cell(Some(-2.0), "-2.0%")],
                vec![cell(Some(0.0), "+0.0%"), cell(None, "n/a")],
            ],
            unit: "%".into(),
        };
        let svg = heatmap(&map);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("gain &lt;%&gt;") && svg.contains("+4.0% *"));
        for label in ["hard_ratio", "hardness_k", "0.3", "0.7", "10", "30", "n/a"] {
            assert!(svg.contains(&format!(">{label}<")), "{label}");
        }
        assert!(
            svg.contains(r##"fill="#4e79a7""##),
            "the largest gain in full blue"
        );
        assert!(svg.contains(&format!(r#"fill="{}""#, tint(COLOURS[2], 0.5))));
        assert!(svg.contains(r##"fill="#ffffff""##) && svg.contains(r##"fill="#eeeeee""##));
    }

    #[test]
    fn y_axes_include_zero_so_small_gaps_stay_small() {
        // Two MRRs 0.027 and 0.030: the axis starts at 0, not just below 0.027.
        let (low, high) = with_zero([0.027, 0.030].into_iter());
        assert_eq!(low, 0.0);
        assert!(high > 0.030 && high < 0.034, "{high}");
        let (low, high) = with_zero([-0.02, 0.01].into_iter());
        assert!(low < -0.02 && high > 0.01);
        let (low, high) = with_zero([-0.02, -0.01].into_iter());
        assert!(low < -0.02 && high == 0.0);
        let estimates = vec![Estimate {
            label: "a".into(),
            value: 0.03,
            interval: None,
            legend: "a".into(),
        }];
        let svg = interval_chart("t", "MRR", &estimates, YAxis::FromZero);
        assert!(svg.contains(">0</text>"), "a tick at 0: {svg}");
    }
}
