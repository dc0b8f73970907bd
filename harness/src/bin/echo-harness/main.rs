//! `echo-harness`: differential campaigns over Echo's tiers, and the tools around them
//! (print a generated program, reduce a diverging one, replay corpus files in every tier).

#[cfg(feature = "jit")]
mod bench;
#[cfg(feature = "mutants")]
mod selftest;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use echo_harness::campaign::{self, Campaign};
use echo_harness::generator::{self, GENERATOR_VERSION};
use echo_harness::oracle::{self, Subject, Verdict};
use echo_harness::watchdog::Watched;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Parser)]
#[command(
    name = "echo-harness",
    version,
    about = "Differential testing of Echo's execution tiers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a campaign: generate programs, run each in every tier, compare.
    Diff(DiffArgs),
    /// Print the program of a seed.
    Gen {
        /// The seed.
        #[arg(long)]
        seed: u64,
        /// Print this many consecutive seeds.
        #[arg(long, default_value_t = 1)]
        count: u64,
        #[command(flatten)]
        generation: GenArgs,
    },
    /// Check one program in every tier; if the tiers disagree, reduce it and write a
    /// regression file.
    Reduce {
        /// The program (settings from its `// harness:` and `// config:` comments).
        file: PathBuf,
        /// Where the regression file goes.
        #[arg(long, default_value = "corpus/regress")]
        regress_dir: PathBuf,
        /// Also run every tier collecting garbage at every safepoint.
        #[arg(long)]
        gc_stress: bool,
    },
    /// Run corpus files in every tier: each must meet its expectations, identically.
    Replay {
        /// Files or directories (default: corpus/).
        paths: Vec<PathBuf>,
    },
    /// Run the benchmark suite in every tier; write report.json, summary.md and report.html;
    /// with --gate, fail on a regression against a baseline report.
    #[cfg(feature = "jit")]
    Bench(bench::BenchArgs),
    /// Check that campaigns find each of the engine's deliberate JIT bugs (mutants), reduce
    /// what found them to corpus/regress/mutants/NAME.echo, and report time to detect.
    #[cfg(feature = "mutants")]
    Selftest(selftest::SelftestArgs),
}

#[derive(Args)]
struct GenArgs {
    /// Share of cases with an error injected on purpose (0 to 1).
    #[arg(long, default_value_t = generator::Options::default().error_share)]
    error_share: f64,
    /// Soft bound on statements per program.
    #[arg(long, default_value_t = generator::Options::default().max_statements)]
    max_statements: u32,
    /// Input vectors per case: each compiled program runs on every one, in every tier.
    #[arg(long, default_value_t = generator::Options::default().inputs)]
    inputs: usize,
    /// Choose kind sweeps uniformly instead of steering them toward the semantic coverage
    /// cells the campaign has not reached yet.
    #[arg(long)]
    no_steer: bool,
}

impl GenArgs {
    fn options(&self) -> generator::Options {
        generator::Options {
            error_share: self.error_share.clamp(0.0, 1.0),
            max_statements: self.max_statements,
            inputs: self.inputs.max(1),
            steering: (!self.no_steer).then(|| std::sync::Arc::new(generator::Steering::new())),
        }
    }
}

#[derive(Args)]
struct DiffArgs {
    /// Run for this many seconds (default 60 when --cases is not given).
    #[arg(long, conflicts_with = "cases")]
    seconds: Option<u64>,
    /// Run this many cases.
    #[arg(long)]
    cases: Option<u64>,
    /// Base seed (default: from the clock; printed, so the campaign can be repeated).
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads (default: the number of cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Directory for diverging cases and the JSON summary.
    #[arg(long, default_value = "target/echo-harness")]
    out: PathBuf,
    /// Where reduced regressions are written.
    #[arg(long, default_value = "corpus/regress")]
    regress_dir: PathBuf,
    /// Keep going after a divergence (each distinct signature is reported once).
    #[arg(long)]
    keep_going: bool,
    /// Do not reduce divergences.
    #[arg(long)]
    no_reduce: bool,
    /// Also run every tier collecting garbage at every safepoint (slow; catches values left
    /// unrooted at a safepoint).
    #[arg(long)]
    gc_stress: bool,
    /// Share of cases (0 to 1) run that way when --gc-stress is not given.
    #[arg(long, default_value_t = 0.05)]
    gc_stress_share: f64,
    /// Share of cases (0 to 1) also run in the tiered tier generating code on a second thread
    /// (the default of `echo-lang run`), where code is entered whenever it is ready.
    #[arg(long, default_value_t = 0.25)]
    background_share: f64,
    /// Fixed part, in seconds, of each tier run's deadline: a run still going after it (plus
    /// 1 us per unit of fuel for the reference, or 20 times the case's longest run so far) is
    /// reported as a hang.
    #[arg(long, default_value_t = oracle::DEADLINE_BASE.as_secs_f64())]
    deadline: f64,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    #[command(flatten)]
    generation: GenArgs,
}

fn main() -> ExitCode {
    echo_engine::host::tune_allocator();
    let cli = Cli::parse();
    match cli.command {
        Command::Diff(a) => diff(a),
        Command::Gen {
            seed,
            count,
            generation: g,
        } => {
            for s in seed..seed.saturating_add(count) {
                let case = generator::from_seed(s, &g.options());
                println!("{}", campaign::annotated(Some(s), &(&case).into()));
            }
            ExitCode::SUCCESS
        }
        Command::Reduce {
            file,
            regress_dir,
            gc_stress,
        } => reduce(&file, &regress_dir, gc_stress),
        Command::Replay { paths } => replay(paths),
        #[cfg(feature = "jit")]
        Command::Bench(a) => bench::run(a),
        #[cfg(feature = "mutants")]
        Command::Selftest(a) => selftest::run(a),
    }
}

fn diff(a: DiffArgs) -> ExitCode {
    let seed = a.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let duration = match (a.seconds, a.cases) {
        (Some(s), _) => Some(Duration::from_secs(s)),
        (None, None) => Some(Duration::from_secs(60)),
        (None, Some(_)) => None,
    };
    let c = Campaign {
        seed,
        cases: a.cases,
        duration,
        jobs,
        keep_going: a.keep_going,
        reduce: !a.no_reduce,
        out_dir: a.out.clone(),
        regress_dir: a.regress_dir.clone(),
        generator: a.generation.options(),
        oracle: oracle::Options {
            coverage: true,
            gc_stress: a.gc_stress,
            background: false,
            deadline_base: Duration::from_secs_f64(a.deadline.max(0.0)),
        },
        gc_stress_share: a.gc_stress_share.clamp(0.0, 1.0),
        background_share: a.background_share.clamp(0.0, 1.0),
    };
    if let Err(e) = campaign::self_check(&c.generator) {
        eprintln!("self-check failed: {e}");
        return ExitCode::from(2);
    }
    eprintln!(
        "echo-harness diff: generator v{GENERATOR_VERSION}, seed {seed}, {jobs} jobs, {}",
        match (duration, a.cases) {
            (Some(d), _) => format!("{} s", d.as_secs()),
            (None, Some(n)) => format!("{n} cases"),
            (None, None) => unreachable!("one limit is set above"),
        }
    );
    let bar = if a.quiet {
        ProgressBar::hidden()
    } else {
        match (duration, a.cases) {
            (Some(d), _) => ProgressBar::new(d.as_secs()),
            (None, Some(n)) => ProgressBar::new(n),
            _ => ProgressBar::hidden(),
        }
    };
    bar.set_style(
        ProgressStyle::with_template("[{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .expect("the template is valid"),
    );
    let by_time = duration.is_some();
    let outcome = campaign::run(&c, &|stats, elapsed| {
        bar.set_position(if by_time {
            elapsed.as_secs()
        } else {
            stats.cases
        });
        bar.set_message(stats.progress_line(elapsed));
    });
    bar.finish_and_clear();
    let stats = &outcome.stats;
    print!("{}", stats.report(seed, jobs, outcome.elapsed));
    let summary = stats.summary(seed, jobs, outcome.elapsed);
    let json = a.out.join("summary.json");
    let written = std::fs::create_dir_all(&a.out)
        .and_then(|_| {
            serde_json::to_string_pretty(&summary)
                .map_err(std::io::Error::other)
                .and_then(|s| std::fs::write(&json, s))
        })
        .map(|_| json.display().to_string());
    match written {
        Ok(p) => println!("summary: {p}"),
        Err(e) => eprintln!("could not write the summary: {e}"),
    }
    if stats.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Reads a program with its `// harness:` and `// config:` settings.
fn read_subject(path: &Path) -> Result<Subject, String> {
    let source = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Subject::from_annotated(source).map_err(|e| format!("{}: {e}", path.display()))
}

fn reduce(file: &Path, regress_dir: &Path, gc_stress: bool) -> ExitCode {
    let p = match read_subject(file) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let opts = oracle::Options {
        gc_stress,
        // A divergence found compiling in the background shows only with it.
        background: true,
        ..oracle::Options::default()
    };
    let mut checker = Watched::new(std::sync::Arc::new(|| {}));
    match checker.check(&p, &opts).verdict {
        Verdict::Agree => {
            println!("every tier agrees: nothing to reduce");
            ExitCode::SUCCESS
        }
        Verdict::Invalid(e) => {
            eprintln!("the program does not compile: {}: {}", e.kind, e.message);
            ExitCode::from(2)
        }
        Verdict::Backstop => {
            println!("a run hit the host-stack backstop: not compared");
            ExitCode::SUCCESS
        }
        Verdict::Diverge(d) => {
            println!("{}\n  {}", d.signature, d.detail);
            let note = format!("{} (reduced from {})", d.signature, file.display());
            match campaign::reduce_to_regression(
                &p,
                &d.signature,
                &opts,
                &mut checker,
                regress_dir,
                &note,
            ) {
                Some(path) => println!("reduced: {}", path.display()),
                None => eprintln!("could not write the regression"),
            }
            ExitCode::FAILURE
        }
    }
}

fn replay(paths: Vec<PathBuf>) -> ExitCode {
    let paths = if paths.is_empty() {
        vec![PathBuf::from("corpus")]
    } else {
        paths
    };
    let mut files = Vec::new();
    for p in &paths {
        if p.is_dir() {
            files.extend(echo_engine::corpus::files(p));
        } else {
            files.push(p.clone());
        }
    }
    let mut failures = 0;
    for f in &files {
        let source = match std::fs::read_to_string(f) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{}: {e}", f.display());
                failures += 1;
                continue;
            }
        };
        let problem = match echo_engine::corpus::parse_expectations(&source) {
            Err(e) => Some(format!("bad expectations: {e}")),
            Ok(exp) => {
                let mut problem = None;
                let mut reference: Option<echo_engine::Outcome> = None;
                for &tier in echo_engine::Tier::ALL {
                    let o = echo_engine::run(&source, &exp.config(tier));
                    if let Err(e) = exp.check(&o) {
                        problem = Some(format!("[{tier}] {e}"));
                        break;
                    }
                    if let Some(r) = &reference
                        && let Some((aspect, detail)) = oracle::compare(r, &o)
                    {
                        problem = Some(format!(
                            "[{tier}] differs from interp: {aspect:?}: {detail}"
                        ));
                        break;
                    }
                    reference.get_or_insert(o);
                }
                problem
            }
        };
        if let Some(p) = problem {
            failures += 1;
            println!("FAIL {}: {p}", f.display());
        }
    }
    println!("{} files, {} failed", files.len(), failures);
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
