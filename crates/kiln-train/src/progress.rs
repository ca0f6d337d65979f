//! Progress reporting: the loop calls a [`TrainingObserver`]; the CLI picks progress bars on a
//! terminal and plain lines otherwise (logs, CI).

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::figures::Figures;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Train,
    Valid,
    Test,
    /// The test images resized to a square of this size (`[data] eval_sizes`).
    TestAtSize(usize),
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Train => "train",
            Phase::Valid => "valid",
            Phase::Test | Phase::TestAtSize(_) => "test",
        }
    }
}

/// Where a phase stands after a batch.
#[derive(Debug, Clone)]
pub struct StepProgress {
    pub phase: Phase,
    /// 1-based; 0 for the final test.
    pub epoch: usize,
    pub epochs: usize,
    pub step: usize,
    pub steps: usize,
    /// The figures as last read: every `train.log_every` steps in training, at the end of an
    /// evaluation pass.
    pub figures: Figures,
    pub samples_per_second: f64,
}

impl StepProgress {
    pub fn new(phase: Phase, (epoch, epochs): (usize, usize), steps: usize) -> Self {
        Self { phase, epoch, epochs, step: 0, steps, figures: Figures::new(), samples_per_second: 0.0 }
    }
}

/// Receives training progress. Every method has a silent default.
pub trait TrainingObserver {
    fn on_run_start(&mut self, _run_dir: &Path, _backend: &str, _resumed_after_epoch: Option<usize>) {}
    fn on_phase_start(&mut self, _phase: Phase, _epoch: usize, _epochs: usize, _steps: usize) {}
    fn on_step(&mut self, _progress: &StepProgress) {}
    fn on_phase_end(&mut self, _progress: &StepProgress) {}
}

/// Reports nothing (tests, benchmarks).
pub struct Silent;
impl TrainingObserver for Silent {}

/// Progress bars on a terminal, plain lines otherwise.
pub fn for_stdout() -> Box<dyn TrainingObserver> {
    if std::io::stdout().is_terminal() {
        Box::new(Bars { bar: None })
    } else {
        Box::new(Lines)
    }
}

/// A bar over the network evaluations of `kiln sample` on a terminal (nothing otherwise): call
/// it with `(done, total)`.
pub fn sampling_bar(label: &str) -> impl FnMut(usize, usize) {
    let terminal = std::io::stdout().is_terminal();
    let label = label.to_string();
    let mut bar: Option<ProgressBar> = None;
    move |done, total| {
        if !terminal {
            return;
        }
        let bar = bar.get_or_insert_with(|| {
            let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stdout());
            let style =
                ProgressStyle::with_template("{prefix:>12} [{bar:28.cyan/blue}] {pos:>4}/{len:4} NFE, ETA {eta}")
                    .expect("template is valid")
                    .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(label.clone());
            bar
        });
        bar.set_position(done as u64);
        if done == total {
            bar.finish_and_clear();
        }
    }
}

fn label(p: &StepProgress) -> String {
    match p.phase {
        Phase::Test => "test".to_string(),
        Phase::TestAtSize(size) => format!("test at {size}×{size}"),
        phase => format!("epoch {}/{} {}", p.epoch, p.epochs, phase.name()),
    }
}

/// `loss 0.0812  accuracy 0.9766  inter_class_angle 61.30°  1234 samples/s`: `loss` first, angles
/// in degrees, the rest as read.
fn figures(p: &StepProgress) -> String {
    let mut names: Vec<&String> = p.figures.keys().collect();
    names.sort_by_key(|n| (n.as_str() != "loss", n.as_str()));
    let mut text: String = names
        .into_iter()
        .map(|name| {
            let v = p.figures[name];
            if name.ends_with("_angle") {
                format!("{name} {v:.2}°  ")
            } else {
                format!("{name} {v:.4}  ")
            }
        })
        .collect();
    text += &format!("{:.0} samples/s", p.samples_per_second);
    text
}

fn run_line(run_dir: &Path, backend: &str, resumed: Option<usize>) {
    let resumed = resumed.map(|e| format!(", resuming after epoch {e}")).unwrap_or_default();
    println!("run {} on {backend}{resumed}", run_dir.display());
}

/// One indicatif bar per phase: the figures, samples/s and ETA.
struct Bars {
    bar: Option<ProgressBar>,
}

impl TrainingObserver for Bars {
    fn on_run_start(&mut self, run_dir: &Path, backend: &str, resumed: Option<usize>) {
        run_line(run_dir, backend, resumed);
    }

    fn on_phase_start(&mut self, phase: Phase, epoch: usize, epochs: usize, steps: usize) {
        let bar = ProgressBar::with_draw_target(Some(steps as u64), ProgressDrawTarget::stdout());
        let style = ProgressStyle::with_template("{prefix:>20} [{bar:28.cyan/blue}] {pos:>4}/{len:4} {msg} ETA {eta}")
            .expect("template is valid")
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(label(&StepProgress::new(phase, (epoch, epochs), steps)));
        bar.enable_steady_tick(Duration::from_millis(250));
        self.bar = Some(bar);
    }

    fn on_step(&mut self, p: &StepProgress) {
        if let Some(bar) = &self.bar {
            bar.set_position(p.step as u64);
            bar.set_message(figures(p));
        }
    }

    fn on_phase_end(&mut self, p: &StepProgress) {
        if let Some(bar) = self.bar.take() {
            bar.set_style(ProgressStyle::with_template("{prefix:>20} {msg} ({elapsed})").expect("template is valid"));
            bar.finish_with_message(figures(p));
        }
    }
}

/// One line per finished phase, for logs.
struct Lines;

impl TrainingObserver for Lines {
    fn on_run_start(&mut self, run_dir: &Path, backend: &str, resumed: Option<usize>) {
        run_line(run_dir, backend, resumed);
    }

    fn on_phase_end(&mut self, p: &StepProgress) {
        println!("{}: {}", label(p), figures(p));
    }
}
