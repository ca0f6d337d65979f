//! `curves.png`: one panel per figure (loss, accuracy, mean_iou, d_loss, …), train and
//! validation per epoch.

use std::collections::BTreeSet;
use std::path::Path;

use plotters::prelude::*;

use crate::records::EpochRecord;

const PANEL: (u32, u32) = (500, 420);
const PER_ROW: usize = 3;

/// Draws the curves; plotting problems are returned as text (a run never fails over a plot).
pub fn plot_curves(path: &Path, history: &[EpochRecord]) -> Result<(), String> {
    if history.is_empty() {
        return Ok(());
    }
    let names: BTreeSet<&String> = history.iter().flat_map(|r| r.train.keys().chain(r.valid.keys())).collect();
    let mut names: Vec<&String> = names.into_iter().collect();
    names.sort_by_key(|n| (n.as_str() != "loss", n.as_str()));
    let columns = names.len().clamp(1, PER_ROW);
    let rows = names.len().div_ceil(PER_ROW).max(1);
    let size = (PANEL.0 * columns as u32, PANEL.1 * rows as u32);
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let areas = root.split_evenly((rows, columns));
    let epochs = history.len() as f64;
    for (area, name) in areas.iter().zip(names) {
        let series = |valid: bool| -> Vec<(f64, f64)> {
            history
                .iter()
                .filter_map(|r| if valid { r.valid.get(name) } else { r.train.get(name) }.map(|v| (r.epoch as f64, *v)))
                .filter(|(_, v)| v.is_finite())
                .collect()
        };
        let (train, valid) = (series(false), series(true));
        let values = train.iter().chain(valid.iter()).map(|p| p.1);
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if !lo.is_finite() {
            continue;
        }
        let pad = ((hi - lo) * 0.05).max(1e-6);
        let mut chart = ChartBuilder::on(area)
            .caption(name, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(56)
            .build_cartesian_2d(0.5..epochs + 0.5, (lo - pad)..(hi + pad))
            .map_err(|e| e.to_string())?;
        chart.configure_mesh().x_desc("epoch").draw().map_err(|e| e.to_string())?;
        for (points, colour, label) in [(train, BLUE, "train"), (valid, RED, "valid")] {
            if points.is_empty() {
                continue;
            }
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour));
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled()))).map_err(|e| e.to_string())?;
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
