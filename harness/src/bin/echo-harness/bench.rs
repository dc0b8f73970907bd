//! `echo-harness bench`: runs the benchmark suite, writes the report folder and, with
//! `--gate`, holds the run against a baseline report.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use echo_harness::bench::{self, gate, render};

/// Options of `echo-harness bench`.
#[derive(Args)]
pub struct BenchArgs {
    /// Root of the benchmark programs.
    #[arg(long, default_value = "corpus/bench")]
    dir: PathBuf,
    /// Report folder (report.json, summary.md, report.html).
    #[arg(long, default_value = "target/echo-bench")]
    out: PathBuf,
    /// Timed runs per benchmark and tier.
    #[arg(long, default_value_t = 5)]
    runs: u32,
    /// Only benchmarks whose name contains this.
    #[arg(long)]
    filter: Option<String>,
    /// Do not time the Lua and Python reference programs.
    #[arg(long)]
    no_references: bool,
    /// Folder of earlier report.json files, for the trend plot.
    #[arg(long)]
    history: Option<PathBuf>,
    /// Compare with this baseline report.json and fail on a regression or a missed hard target.
    #[arg(long)]
    gate: Option<PathBuf>,
    /// Smallest relative speedup drop the gate counts as a regression.
    #[arg(long, default_value_t = gate::Tolerance::default().min_drop)]
    min_drop: f64,
}

/// Runs the subcommand.
pub fn run(a: BenchArgs) -> ExitCode {
    let baseline = match a.gate.as_ref().map(|p| {
        std::fs::read_to_string(p)
            .map_err(|e| format!("cannot read {}: {e}", p.display()))
            .and_then(|s| {
                serde_json::from_str::<bench::BenchReport>(&s)
                    .map_err(|e| format!("{} is not a benchmark report: {e}", p.display()))
            })
    }) {
        Some(Err(e)) => {
            eprintln!("echo-harness bench: {e}");
            return ExitCode::from(2);
        }
        Some(Ok(b)) if b.schema != bench::SCHEMA => {
            eprintln!(
                "echo-harness bench: the baseline has report format {}, this build writes {}",
                b.schema,
                bench::SCHEMA
            );
            return ExitCode::from(2);
        }
        Some(Ok(b)) => Some(b),
        None => None,
    };
    let opts = bench::Options {
        dir: a.dir,
        runs: a.runs.max(1),
        filter: a.filter,
        references: !a.no_references,
    };
    let report = match bench::run(&opts, &|name| eprintln!("bench {name}")) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("echo-harness bench: {e}");
            return ExitCode::from(2);
        }
    };
    let history = a.history.as_deref().map(bench::history).unwrap_or_default();
    if let Err(e) = render::write(&a.out, &report, &history) {
        eprintln!("echo-harness bench: cannot write {}: {e}", a.out.display());
        return ExitCode::from(2);
    }
    print!("{}", render::markdown(&report));
    println!("\nreport: {}", a.out.join("report.html").display());
    let Some(baseline) = baseline else {
        return ExitCode::SUCCESS;
    };
    let tol = gate::Tolerance {
        min_drop: a.min_drop,
        ..gate::Tolerance::default()
    };
    let verdict = gate::compare(&baseline, &report, tol);
    println!(
        "\n## Benchmark gate (baseline {}, {})\n\n{}",
        baseline.commit,
        baseline.created,
        verdict.table()
    );
    if verdict.passed() {
        println!("gate: passed");
        ExitCode::SUCCESS
    } else {
        println!("gate: FAILED");
        ExitCode::FAILURE
    }
}
