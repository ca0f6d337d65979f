//! Plots a task draws of its test figures (a guidance curve: accuracy and diversity against the
//! guidance weight), written into the run directory next to `curves.png` after the final test
//! and by `kiln eval`.

use std::path::Path;

use plotters::prelude::*;

const PANEL: (u32, u32) = (520, 420);
const PER_ROW: usize = 2;
const COLOURS: [RGBColor; 4] = [BLUE, RED, RGBColor(0, 140, 60), RGBColor(150, 90, 0)];

/// One line of a panel: its label and (x, y) points, drawn in x order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub series: Vec<Series>,
}

/// A PNG of panels, two to a row, named `file` inside the run directory.
#[derive(Debug, Clone, PartialEq)]
pub struct FigurePlot {
    pub file: String,
    pub panels: Vec<Panel>,
}

/// Draws `plot` to `path`; plotting problems come back as text (a run never fails over a plot).
pub fn draw(path: &Path, plot: &FigurePlot) -> Result<(), String> {
    let n = plot.panels.len().max(1);
    let columns = n.min(PER_ROW);
    let rows = n.div_ceil(PER_ROW);
    let root = BitMapBackend::new(path, (PANEL.0 * columns as u32, PANEL.1 * rows as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    for (area, panel) in root.split_evenly((rows, columns)).iter().zip(&plot.panels) {
        let points =
            || panel.series.iter().flat_map(|s| s.points.iter()).filter(|p| p.0.is_finite() && p.1.is_finite());
        let range = |values: &mut dyn Iterator<Item = f64>| {
            let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
            let pad = ((hi - lo) * 0.08).max(1e-3);
            (lo - pad, hi + pad)
        };
        let (x_lo, x_hi) = range(&mut points().map(|p| p.0));
        let (y_lo, y_hi) = range(&mut points().map(|p| p.1));
        if !(x_lo.is_finite() && y_lo.is_finite()) {
            continue;
        }
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)
            .map_err(|e| e.to_string())?;
        chart.configure_mesh().x_desc(panel.x_label.as_str()).draw().map_err(|e| e.to_string())?;
        for (series, colour) in panel.series.iter().zip(COLOURS.iter().cycle()) {
            let mut points: Vec<(f64, f64)> = series.points.clone();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            let colour = *colour;
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(series.label.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour));
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, colour.filled()))).map_err(|e| e.to_string())?;
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE)
            .draw()
            .map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())
}

/// Draws each of `plots` into `dir` through a temporary file; a failed plot is skipped.
pub fn write_all(dir: &Path, plots: &[FigurePlot]) {
    for plot in plots {
        let path = dir.join(&plot.file);
        let tmp = dir.join(format!(".{}.tmp.png", plot.file));
        if draw(&tmp, plot).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        } else {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}
