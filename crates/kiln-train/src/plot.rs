//! `curves.png`: loss and accuracy per epoch, train and validation.

use std::path::Path;

use plotters::prelude::*;

use crate::records::EpochRecord;

/// Draws the curves; plotting problems are returned as text (a run never fails over a plot).
pub fn plot_curves(path: &Path, history: &[EpochRecord]) -> Result<(), String> {
    if history.is_empty() {
        return Ok(());
    }
    let root = BitMapBackend::new(path, (1000, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (left, right) = root.split_horizontally(500);
    let epochs = history.len() as f64;
    let series = |f: fn(&EpochRecord) -> Option<f64>| -> Vec<(f64, f64)> {
        history.iter().filter_map(|r| f(r).map(|v| (r.epoch as f64, v))).collect()
    };
    type Column = fn(&EpochRecord) -> Option<f64>;
    let panels: [(&DrawingArea<_, _>, &str, Column, Column); 2] = [
        (&left, "loss", |r| Some(r.train_loss), |r| r.valid_loss),
        (&right, "accuracy", |r| Some(r.train_accuracy), |r| r.valid_accuracy),
    ];
    for (area, name, train, valid) in panels {
        let (train, valid) = (series(train), series(valid));
        let values = train.iter().chain(valid.iter()).map(|p| p.1);
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
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
