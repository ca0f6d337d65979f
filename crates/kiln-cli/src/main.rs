//! `kiln`: argument parsing and printing; all work happens in kiln-train.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kiln_train::bench::{bench, BenchOptions};
use kiln_train::config::{load_experiment, parse_override, GradientExchange, Override, SamplerSettings, Strategy};
use kiln_train::ddp::{abort_processes, leave_processes, processes};
use kiln_train::eval::{evaluate_run, generate_run, predict_run, query_words_run, sample_run};
use kiln_train::models::describe_models;
use kiln_train::progress;
use kiln_train::reproduce::{baseline_runs, judge_all};
use kiln_train::run::run_experiment;
use kiln_train::task::{GenerateRequest, SampleRequest, Sampling, WordQuery};
use kiln_train::KilnError;

#[derive(Parser)]
#[command(
    name = "kiln",
    version,
    about = "Train, evaluate and reproduce deep-learning experiments written once for any Burn backend"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct ExperimentArgs {
    /// Experiment file, e.g. experiments/mnist-lenet5.toml
    config: PathBuf,
    /// Backend to train on (overrides train.backend): ndarray, flex, wgpu, tch, cuda
    #[arg(long)]
    backend: Option<String>,
    /// Device of the backend (overrides train.device): cpu, cuda:N, mps; wgpu: gpu:N, integrated:N
    #[arg(long)]
    device: Option<String>,
    /// Override any key: --set optim.lr=0.01 (repeatable)
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    overrides: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Train an experiment, writing runs/<name>/<timestamp>/ (under mpirun/srun: one DDP rank)
    Run {
        #[command(flatten)]
        experiment: ExperimentArgs,
        /// Continue the run in this directory from its newest checkpoint
        #[arg(long, value_name = "RUN_DIR")]
        resume: Option<PathBuf>,
    },
    /// Train an experiment and compare its metrics with the paper's figures, one row per claim (exit 1 if any is outside its tolerance)
    Reproduce {
        #[command(flatten)]
        experiment: ExperimentArgs,
        /// Continue the run in this directory from its newest checkpoint, then compare
        #[arg(long, value_name = "RUN_DIR")]
        resume: Option<PathBuf>,
    },
    /// Evaluate the newest checkpoint of a run
    Eval {
        run_dir: PathBuf,
        #[arg(long)]
        backend: Option<String>,
        /// Detection runs: re-score with this suppression instead of the config's (none, nms,
        /// soft_nms_linear, soft_nms_gaussian, diou_nms)
        #[arg(long)]
        suppression: Option<String>,
    },
    /// Apply the newest checkpoint of a run to one input: a segmentation run writes the predicted
    /// label map as a colour overlay, a detection run its boxes with class and score
    Predict {
        run_dir: PathBuf,
        /// Input image, e.g. datasets/mnist-seg/test/images/00000.png or datasets/mnist-det/test/00000.png
        #[arg(long)]
        input: PathBuf,
        /// Where to write the picture (PNG)
        #[arg(long, required_unless_present = "json")]
        out: Option<PathBuf>,
        /// Detection runs: also (or only) write the detections in COCO results format here
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        #[arg(long)]
        backend: Option<String>,
    },
    /// Continue a prompt with the newest checkpoint of a language-model run, streaming the text, or answer it with a seq2seq run's
    Generate {
        run_dir: PathBuf,
        /// Text to continue, or a seq2seq run's source (every character must occur in the run's training text)
        #[arg(long)]
        prompt: String,
        /// Tokens to draw after the prompt (a seq2seq run's most target tokens)
        #[arg(long, default_value_t = 200)]
        max_tokens: usize,
        /// Softmax temperature; 0 always takes the most likely token (greedy)
        #[arg(long, default_value_t = 1.0)]
        temperature: f64,
        /// Draw only from the K most likely tokens
        #[arg(long, value_name = "K")]
        top_k: Option<usize>,
        /// Draw only from the most likely tokens whose probability reaches P (nucleus sampling)
        #[arg(long, value_name = "P")]
        top_p: Option<f64>,
        /// Seed of the draws: the same seed repeats the same text
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Beam search of width B (the most likely continuation it finds) instead of sampling
        #[arg(long, value_name = "B", conflicts_with_all = ["top_k", "top_p"])]
        beam: Option<usize>,
        #[arg(long)]
        backend: Option<String>,
    },
    /// Draw samples from the newest checkpoint of a diffusion run: a PNG grid of digits (ten to a
    /// row; without --class each column is one digit), a scatter plot beside the data's (points),
    /// or the points as CSV (--out x.csv)
    Sample {
        run_dir: PathBuf,
        /// ddpm, ddpm-large, ddim, em, pc, ode-euler, ode-heun, edm, edm-euler, rf, rf-heun
        #[arg(long)]
        sampler: String,
        /// Sampling steps (Heun and the predictor-corrector evaluate the network about twice per step)
        #[arg(long)]
        steps: usize,
        /// DDIM's eta in [0, 1] (0: deterministic)
        #[arg(long, default_value_t = 0.0)]
        eta: f64,
        /// EDM's S_churn (0: deterministic)
        #[arg(long, default_value_t = 0.0)]
        churn: f64,
        /// Classifier-free guidance weight (class-conditional runs)
        #[arg(long, default_value_t = 0.0)]
        guidance: f64,
        /// Classifier guidance scale s (runs whose [sampling] classifier names a noise-aware classifier)
        #[arg(long, default_value_t = 0.0)]
        classifier_scale: f64,
        /// Class of every sample (class-conditional runs, or guided by a classifier)
        #[arg(long)]
        class: Option<usize>,
        #[arg(long, default_value_t = 64)]
        n: usize,
        /// Seed of the starting noise and of every step's: the same seed repeats the same samples
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Where to write: a .png plot, or .csv points
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        backend: Option<String>,
    },
    /// The nearest words to WORD in a word2vec run, by cosine similarity
    Similar {
        run_dir: PathBuf,
        word: String,
        #[arg(long, default_value_t = 10)]
        top: usize,
        #[arg(long)]
        backend: Option<String>,
    },
    /// Answers "A is to B as C is to ?" with a word2vec run (the word nearest B − A + C)
    Analogy {
        run_dir: PathBuf,
        a: String,
        b: String,
        c: String,
        #[arg(long, default_value_t = 5)]
        top: usize,
        #[arg(long)]
        backend: Option<String>,
    },
    /// List registered models with parameters and multiply-adds
    Models {
        /// Only these models (default: all)
        names: Vec<String>,
        #[arg(long)]
        json: bool,
        /// Input shape CxHxW, e.g. 3x224x224 (default: each model's own)
        #[arg(long)]
        input: Option<String>,
    },
    /// Inspect experiment configs
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Time training steps of a model on a backend
    Bench {
        #[arg(long)]
        model: String,
        #[arg(long, default_value = kiln_train::backend::DEFAULT_BACKEND)]
        backend: String,
        /// Device of the backend: cpu, cuda:N, mps; wgpu: gpu:N, integrated:N (default: the backend's)
        #[arg(long)]
        device: Option<String>,
        /// Input shape CxHxW of the random images, e.g. 3x32x32 (default: the model's own)
        #[arg(long)]
        input: Option<String>,
        /// Language models: tokens per window of the random text
        #[arg(long, default_value_t = 128)]
        seq_len: usize,
        /// Language models: ids the random tokens are drawn from
        #[arg(long, default_value_t = 256)]
        vocab: usize,
        /// Also time the same step in PyTorch (benches/pytorch_bench.py) and print the ratio
        #[arg(long, value_parser = ["pytorch"])]
        compare: Option<String>,
        #[arg(long, default_value_t = 256)]
        batch_size: usize,
        #[arg(long, default_value_t = 20)]
        steps: usize,
        #[arg(long, default_value_t = 3)]
        warmup: usize,
        /// single, or ddp: --devices peers all-reducing gradients (and one device alone, for the scaling efficiency)
        #[arg(long, default_value = "single", value_parser = ["single", "ddp"])]
        strategy: String,
        /// Peers for --strategy ddp in this process; they share the backend's default device (under mpirun, in each process)
        #[arg(long, default_value_t = 1)]
        devices: usize,
        /// --strategy ddp: one_buffer (one reduction per step) or per_tensor (one per parameter tensor)
        #[arg(long, default_value = "one_buffer", value_parser = ["one_buffer", "per_tensor"])]
        exchange: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Print the config with defaults filled in and overrides applied
    Show {
        #[command(flatten)]
        experiment: ExperimentArgs,
    },
}

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!(" ({}:{})", l.file(), l.line())).unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".into());
        eprintln!("error: kiln stopped on an internal error: {message}{location}. Checkpoints already written are intact; please report this.");
    }));
    let cli = Cli::parse();
    let result = execute(cli.command);
    let me = processes();
    match result {
        Ok(code) => {
            leave_processes();
            code
        }
        Err(error) if me.size == 1 => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
        // Every rank met it: rank 0 reports it (the mismatch each rank in its own words) and all end.
        Err(error) if error.is_on_every_rank() => {
            if me.is_root() || matches!(error, KilnError::RanksDisagree(_)) {
                eprintln!("error: {error}");
            }
            leave_processes();
            ExitCode::from(2)
        }
        // Only this rank met it: the others would wait for it, so it stops them all.
        Err(error) => {
            eprintln!("error (rank {} of {}): {error}", me.rank, me.size);
            abort_processes(2);
            ExitCode::from(2)
        }
    }
}

fn load(args: &ExperimentArgs, extra: Vec<Override>) -> Result<kiln_train::config::ExperimentConfig, KilnError> {
    let mut overrides: Vec<Override> = args.overrides.iter().map(|s| parse_override(s)).collect::<Result<_, _>>()?;
    overrides.extend(extra);
    for (key, value) in [("backend", &args.backend), ("device", &args.device)] {
        if let Some(value) = value {
            overrides
                .push(Override { path: vec!["train".into(), key.into()], value: toml::Value::String(value.clone()) });
        }
    }
    Ok(load_experiment(&args.config, &overrides)?)
}

fn execute(command: Command) -> Result<ExitCode, KilnError> {
    match command {
        Command::Run { experiment, resume } => {
            let cfg = load(&experiment, Vec::new())?;
            let summary = run_experiment(&cfg, resume.as_deref(), progress::for_stdout().as_mut())?;
            if !processes().is_root() {
                return Ok(ExitCode::SUCCESS);
            }
            for (key, value) in &summary.metrics {
                println!("{key:>16}  {value:.4}");
            }
            println!("run written to {}", summary.run_dir);
            Ok(ExitCode::SUCCESS)
        }
        Command::Reproduce { experiment, resume } => {
            let cfg = load(&experiment, Vec::new())?;
            let spec = cfg.reproduce.clone().ok_or_else(|| {
                KilnError::Unsupported(format!(
                    "{} has no [reproduce] section to compare with",
                    experiment.config.display()
                ))
            })?;
            // Baselines first: a missing one is an error before hours of training, not after.
            let baselines = baseline_runs(&spec, &experiment.config)?;
            let summary = run_experiment(&cfg, resume.as_deref(), progress::for_stdout().as_mut())?;
            if !processes().is_root() {
                return Ok(ExitCode::SUCCESS);
            }
            let verdicts = judge_all(&spec, &summary, &baselines)?;
            let width = verdicts.iter().map(|v| v.metric.len()).max().unwrap_or(6).max(16);
            println!("\n{:<width$} {:>8} {:>8} {:>8} {:>9}  verdict", "metric", "paper", "target", "kiln", "tolerance");
            for v in &verdicts {
                let target = if v.target != v.paper { format!("{:.4}", v.target) } else { "=paper".into() };
                println!(
                    "{:<width$} {:>8.4} {:>8} {:>8.4} {:>9.4}  {}",
                    v.metric,
                    v.paper,
                    target,
                    v.kiln,
                    v.tolerance,
                    if v.pass { "REPRODUCED" } else { "NOT REPRODUCED" }
                );
            }
            let mut sources: Vec<&str> = Vec::new();
            for v in &verdicts {
                if !sources.contains(&v.source.as_str()) {
                    sources.push(&v.source);
                }
            }
            for source in sources {
                println!("paper: {source}");
            }
            println!("run: {}", summary.run_dir);
            Ok(if verdicts.iter().all(|v| v.pass) { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Eval { run_dir, backend, suppression } => {
            let metrics =
                evaluate_run(&run_dir, backend.as_deref(), suppression.as_deref(), progress::for_stdout().as_mut())?;
            for (key, value) in &metrics {
                println!("{key:>16}  {value:.4}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Predict { run_dir, input, out, json, backend } => {
            if let Some(out) = &out {
                let described = predict_run(&run_dir, &input, out, backend.as_deref())?;
                println!("{described}");
                println!("picture written to {}", out.display());
            }
            if let Some(json) = &json {
                if json.extension().is_none_or(|e| !e.eq_ignore_ascii_case("json")) {
                    return Err(KilnError::Unsupported(format!("--json '{}' must end in .json", json.display())));
                }
                let described = predict_run(&run_dir, &input, json, backend.as_deref())?;
                if out.is_none() {
                    println!("{described}");
                }
                println!("COCO results written to {}", json.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate { run_dir, prompt, max_tokens, temperature, top_k, top_p, seed, beam, backend } => {
            let sampling = Sampling { temperature, top_k, top_p };
            sampling.check().map_err(|e| KilnError::Unsupported(format!("--temperature/--top-k/--top-p: {e}")))?;
            let request = GenerateRequest { prompt: prompt.clone(), max_tokens, sampling, seed, beam };
            let mut out = std::io::stdout();
            let mut emit = |piece: &str| {
                use std::io::Write;
                print!("{piece}");
                let _ = out.flush();
            };
            generate_run(&run_dir, &request, backend.as_deref(), &mut emit)?;
            println!();
            Ok(ExitCode::SUCCESS)
        }
        Command::Sample {
            run_dir,
            sampler,
            steps,
            eta,
            churn,
            guidance,
            classifier_scale,
            class,
            n,
            seed,
            out,
            backend,
        } => {
            if n < 2 {
                return Err(KilnError::Unsupported("--n must be at least 2 (the MMD compares pairs)".into()));
            }
            let settings = SamplerSettings { sampler: sampler.clone(), steps, eta, churn, guidance, classifier_scale };
            kiln_train::task::diffusion::choice(&settings)
                .map_err(|e| KilnError::Unsupported(format!("--sampler: {e}")))?;
            let request = SampleRequest { settings, n, class, seed };
            let mut bar = progress::sampling_bar(&sampler);
            let described = sample_run(&run_dir, &request, &out, backend.as_deref(), &mut bar)?;
            println!("{described}");
            println!("written to {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Similar { run_dir, word, top, backend } => {
            print_words(&query_words_run(&run_dir, &WordQuery::Similar { word, top }, backend.as_deref())?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Analogy { run_dir, a, b, c, top, backend } => {
            print_words(&query_words_run(&run_dir, &WordQuery::Analogy { a, b, c, top }, backend.as_deref())?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Models { names, json, input } => {
            let input = input.map(|s| parse_shape(&s)).transpose()?;
            let models = describe_models(&names, input)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&models).expect("descriptions serialise"));
            } else {
                let width = models.iter().map(|m| m.name.len()).max().unwrap_or(4);
                println!(
                    "{:<width$} {:>12} {:>14}  {:<10} {:<14} summary",
                    "name", "parameters", "multiply-adds", "input", "task"
                );
                for m in models {
                    let input = format!("{}x{}x{}", m.input[0], m.input[1], m.input[2]);
                    let count = |n: Option<String>| n.unwrap_or_else(|| "-".into());
                    let parameters = count(m.parameters.map(|p| p.to_string()));
                    let multiply_adds = count(m.multiply_adds.map(|p| p.to_string()));
                    let summary = m.unavailable.map(|why| format!("not for this input: {why}")).unwrap_or(m.summary);
                    println!(
                        "{:<width$} {parameters:>12} {multiply_adds:>14}  {input:<10} {:<14} {summary}",
                        m.name, m.task
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Config { action: ConfigAction::Show { experiment } } => {
            let cfg = load(&experiment, Vec::new())?;
            print!("{}", toml::to_string_pretty(&cfg).expect("a loaded config serialises"));
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            model,
            backend,
            device,
            input,
            seq_len,
            vocab,
            compare,
            batch_size,
            steps,
            warmup,
            strategy,
            devices,
            exchange,
            json,
        } => {
            let strategy = if strategy == "ddp" { Strategy::Ddp } else { Strategy::Single };
            let exchange =
                if exchange == "per_tensor" { GradientExchange::PerTensor } else { GradientExchange::OneBuffer };
            let device = device.map(|d| d.parse()).transpose().map_err(KilnError::Unsupported)?;
            let input = input.map(|s| parse_shape(&s)).transpose()?;
            let compare_pytorch = compare.is_some();
            let options = BenchOptions {
                model,
                backend,
                device,
                batch_size,
                steps,
                warmup,
                strategy,
                devices,
                exchange,
                input,
                seq_len,
                vocab,
                compare_pytorch,
            };
            let report = bench(&options)?;
            if !processes().is_root() {
                return Ok(ExitCode::SUCCESS);
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&report).expect("report serialises"));
            } else {
                println!(
                    "{} on {}, batch {}: {:.1} steps/s, {:.0} samples/s, {:.1} ms/step; first step {:.0} ms (JIT and autotune included)",
                    report.model, report.backend, report.batch_size, report.steps_per_second, report.samples_per_second, report.step_ms, report.first_step_ms
                );
                if let Some(tokens) = report.tokens_per_second {
                    println!("{tokens:.0} tokens/s");
                }
                if let (Some(single), Some(efficiency)) =
                    (report.single_device_samples_per_second, report.scaling_efficiency)
                {
                    println!(
                        "ddp with {} devices: {:.0} samples/s in total vs {:.0} on one device: scaling efficiency {:.0}%; {:.1} ms/step in reductions",
                        report.devices, report.samples_per_second, single, efficiency * 100.0, report.exchange_ms.unwrap_or(0.0)
                    );
                }
                if let (Some(torch), Some(ratio)) = (&report.pytorch, report.ratio_to_pytorch) {
                    println!(
                        "{} on {}, same model, batch and input: {:.1} ms/step; first step {:.0} ms\nkiln {} / PyTorch: {ratio:.2}x the time per step",
                        torch.torch, torch.device, torch.step_ms, torch.first_step_ms, report.backend
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_words(words: &[(String, f64)]) {
    for (word, similarity) in words {
        println!("{similarity:>8.4}  {word}");
    }
}

fn parse_shape(text: &str) -> Result<[usize; 3], KilnError> {
    let dims: Vec<usize> = text.split('x').filter_map(|d| d.trim().parse().ok()).collect();
    match dims.as_slice() {
        [c, h, w] if *c > 0 && *h > 0 && *w > 0 => Ok([*c, *h, *w]),
        _ => Err(KilnError::Unsupported(format!("--input '{text}' is not CxHxW, e.g. 1x28x28"))),
    }
}
