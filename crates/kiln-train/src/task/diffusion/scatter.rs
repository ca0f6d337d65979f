//! `kiln sample`'s output for points: a scatter plot of the samples beside the data's, or the
//! samples as CSV (the format `[data] dataset = "points"` reads).

use std::path::Path;

use plotters::prelude::*;

use crate::error::{KilnError, Result};

const PANEL: u32 = 480;
/// At most this many reference points are drawn (the plot is for the eye, not the metric).
const REFERENCE_SHOWN: usize = 5000;

pub fn plot(path: &Path, samples: &[f64], reference: &kiln_data::Points, caption: &str) -> Result<()> {
    let reference: Vec<(f64, f64)> = (0..reference.len().min(REFERENCE_SHOWN))
        .map(|i| (f64::from(reference.row(i)[0]), f64::from(reference.row(i)[1])))
        .collect();
    let samples: Vec<(f64, f64)> = samples.chunks(2).map(|p| (p[0], p[1])).collect();
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in &reference {
        lo = lo.min(x).min(y);
        hi = hi.max(x).max(y);
    }
    let pad = (hi - lo).max(1e-6) * 0.1;
    let range = (lo - pad)..(hi + pad);
    let draw = || -> std::result::Result<(), Box<dyn std::error::Error>> {
        let root = BitMapBackend::new(path, (2 * PANEL, PANEL + 30)).into_drawing_area();
        root.fill(&WHITE)?;
        let (title, body) = root.split_vertically(30);
        title.titled(caption, ("sans-serif", 20))?;
        let panels = body.split_evenly((1, 2));
        for (area, (points, name, colour)) in
            panels.iter().zip([(&reference, "data", BLUE), (&samples, "samples", RED)])
        {
            let mut chart = ChartBuilder::on(area)
                .caption(name, ("sans-serif", 18))
                .margin(10)
                .x_label_area_size(24)
                .y_label_area_size(36)
                .build_cartesian_2d(range.clone(), range.clone())?;
            chart.configure_mesh().disable_mesh().draw()?;
            chart.draw_series(
                points
                    .iter()
                    .filter(|(x, y)| x.is_finite() && y.is_finite())
                    .map(|&p| Circle::new(p, 1, colour.mix(0.4).filled())),
            )?;
        }
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| KilnError::Unsupported(format!("cannot draw '{}': {e}", path.display())))
}

pub fn write_csv(path: &Path, samples: &[f64], dim: usize) -> Result<()> {
    let names: Vec<String> =
        (0..dim).map(|i| if dim == 2 { ["x", "y"][i].to_string() } else { format!("x{i}") }).collect();
    let mut text = names.join(",") + "\n";
    for row in samples.chunks(dim) {
        text += &row.iter().map(|v| format!("{v:.6}")).collect::<Vec<_>>().join(",");
        text.push('\n');
    }
    crate::atomic::write_atomic(path, text.as_bytes())
}
