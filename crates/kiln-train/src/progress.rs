//! Progress reporting: the trainer calls a [`TrainingObserver`]; the CLI picks progress bars on a
//! terminal and plain lines otherwise (logs, CI).

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

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
#[derive(Debug, Clone, Copy)]
pub struct StepProgress {
    pub phase: Phase,
    /// 1-based; 0 for the final test.
    pub epoch: usize,
    pub epochs: usize,
    pub step: usize,
    pub steps: usize,
    pub loss: f64,
    pub accuracy: f64,
    pub samples_per_second: f64,
}

/// Receives training progress. Every method has a silent default.
pub trait TrainingObserver {
    fn on_run_start(&mut self, _run_dir: &Path, _backend: &str, _resumed_after_epoch: Option<usize>) {}
    fn on_phase_start(&mut self, _phase: Phase, _epoch: usize, _epochs: usize, _steps: usize) {}
    fn on_step(&mut self, _progress: &StepProgress) {}
    /// The `[metrics]` values of a validation or test pass, just before its `on_phase_end`.
    fn on_metrics(&mut self, _values: &[(String, f64)]) {}
    fn on_phase_end(&mut self, _progress: &StepProgress) {}
}

/// Reports nothing (tests, benchmarks).
pub struct Silent;
impl TrainingObserver for Silent {}

/// Progress bars on a terminal, plain lines otherwise.
pub fn for_stdout() -> Box<dyn TrainingObserver> {
    if std::io::stdout().is_terminal() {
        Box::new(Bars { bar: None, extra: String::new() })
    } else {
        Box::new(Lines { extra: String::new() })
    }
}

fn label(p: &StepProgress) -> String {
    match p.phase {
        Phase::Test => "test".to_string(),
        Phase::TestAtSize(size) => format!("test at {size}×{size}"),
        phase => format!("epoch {}/{} {}", p.epoch, p.epochs, phase.name()),
    }
}

fn figures(p: &StepProgress) -> String {
    format!("loss {:.4}  acc {:.2}%  {:.0} samples/s", p.loss, 100.0 * p.accuracy, p.samples_per_second)
}

/// `  macro_f1 0.9812  inter_class_angle 61.3°`: angles in degrees, the rest as fractions.
fn extra_figures(values: &[(String, f64)]) -> String {
    values
        .iter()
        .map(
            |(name, v)| {
                if name.ends_with("_angle") {
                    format!("  {name} {v:.2}°")
                } else {
                    format!("  {name} {v:.4}")
                }
            },
        )
        .collect()
}

/// One indicatif bar per phase: loss, accuracy, samples/s and ETA.
struct Bars {
    bar: Option<ProgressBar>,
    extra: String,
}

impl TrainingObserver for Bars {
    fn on_run_start(&mut self, run_dir: &Path, backend: &str, resumed: Option<usize>) {
        let resumed = resumed.map(|e| format!(", resuming after epoch {e}")).unwrap_or_default();
        println!("run {} on {backend}{resumed}", run_dir.display());
    }

    fn on_phase_start(&mut self, phase: Phase, epoch: usize, epochs: usize, steps: usize) {
        let bar = ProgressBar::with_draw_target(Some(steps as u64), ProgressDrawTarget::stdout());
        let style = ProgressStyle::with_template("{prefix:>20} [{bar:28.cyan/blue}] {pos:>4}/{len:4} {msg} ETA {eta}")
            .expect("template is valid")
            .progress_chars("=> ");
        bar.set_style(style);
        let p =
            StepProgress { phase, epoch, epochs, step: 0, steps, loss: 0.0, accuracy: 0.0, samples_per_second: 0.0 };
        bar.set_prefix(label(&p));
        bar.enable_steady_tick(Duration::from_millis(250));
        self.bar = Some(bar);
    }

    fn on_step(&mut self, p: &StepProgress) {
        if let Some(bar) = &self.bar {
            bar.set_position(p.step as u64);
            bar.set_message(figures(p));
        }
    }

    fn on_metrics(&mut self, values: &[(String, f64)]) {
        self.extra = extra_figures(values);
    }

    fn on_phase_end(&mut self, p: &StepProgress) {
        let extra = std::mem::take(&mut self.extra);
        if let Some(bar) = self.bar.take() {
            bar.set_style(ProgressStyle::with_template("{prefix:>20} {msg} ({elapsed})").expect("template is valid"));
            bar.finish_with_message(format!("{}{extra}", figures(p)));
        }
    }
}

/// One line per finished phase, for logs.
struct Lines {
    extra: String,
}

impl TrainingObserver for Lines {
    fn on_run_start(&mut self, run_dir: &Path, backend: &str, resumed: Option<usize>) {
        let resumed = resumed.map(|e| format!(", resuming after epoch {e}")).unwrap_or_default();
        println!("run {} on {backend}{resumed}", run_dir.display());
    }

    fn on_metrics(&mut self, values: &[(String, f64)]) {
        self.extra = extra_figures(values);
    }

    fn on_phase_end(&mut self, p: &StepProgress) {
        println!("{}: {}{}", label(p), figures(p), std::mem::take(&mut self.extra));
    }
}
