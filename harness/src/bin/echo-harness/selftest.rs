//! `echo-harness selftest`: the command line of `echo_harness::selftest` (a campaign against
//! each deliberate JIT bug, with a table of what was found and how fast).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use echo_engine::jit::mutants::Mutant;
use echo_harness::selftest::{self, Options};

use crate::GenArgs;

#[derive(Args)]
pub struct SelftestArgs {
    /// Most seconds spent looking for each mutant.
    #[arg(long, default_value_t = 60)]
    seconds_per_mutant: u64,
    /// Most seconds spent reducing each finding.
    #[arg(long, default_value_t = 60)]
    reduce_seconds: u64,
    /// Worker threads (default: the number of cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Base seed of every campaign (default: from the clock; printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Only this mutant (repeatable); `--list` shows the names.
    #[arg(long)]
    only: Vec<String>,
    /// List the mutants and exit.
    #[arg(long)]
    list: bool,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Where the reproducers go (`NAME.echo` each).
    #[arg(long, default_value = "corpus/regress/mutants")]
    regress_dir: PathBuf,
    /// Where the campaigns keep the cases that diverged.
    #[arg(long, default_value = "target/echo-harness/selftest")]
    out: PathBuf,
    #[command(flatten)]
    generation: GenArgs,
}

pub fn run(a: SelftestArgs) -> ExitCode {
    if a.list {
        for m in Mutant::ALL {
            println!("{:<28} {:<40} {}", m.name(), m.class(), m.description());
        }
        return ExitCode::SUCCESS;
    }
    let mut mutants = Vec::new();
    for name in &a.only {
        match Mutant::from_name(name) {
            Some(m) => mutants.push(m),
            None => {
                eprintln!("unknown mutant '{name}' (see --list)");
                return ExitCode::from(64);
            }
        }
    }
    if mutants.is_empty() {
        mutants = Mutant::ALL.to_vec();
    }
    let opts = Options {
        mutants,
        time_per_mutant: Duration::from_secs(a.seconds_per_mutant),
        reduce_time: Duration::from_secs(a.reduce_seconds),
        jobs: a
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        seed: a.seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
        }),
        regress_dir: a.regress_dir,
        out_dir: a.out,
        generator: a.generation.options(),
    };
    if let Err(e) = echo_harness::campaign::self_check(&opts.generator) {
        eprintln!("self-check failed: {e}");
        return ExitCode::from(2);
    }
    eprintln!(
        "echo-harness selftest: {} mutants, seed {}, {} jobs, at most {} s each",
        opts.mutants.len(),
        opts.seed,
        opts.jobs,
        a.seconds_per_mutant
    );
    println!("{}", selftest::table_header());
    // Mutants crash the engine now and then; the oracle reports those as divergences, so the
    // panic messages would only be noise.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let summary = selftest::run(&opts, &mut |r| println!("{}", selftest::table_row(r)));
    std::panic::set_hook(hook);
    print!("{}", selftest::summary_lines(&summary));
    if let Some(path) = &a.json {
        let written = serde_json::to_string_pretty(&summary)
            .map_err(std::io::Error::other)
            .and_then(|s| std::fs::write(path, s));
        if let Err(e) = written {
            eprintln!("could not write {}: {e}", path.display());
        }
    }
    if summary.detected == summary.total {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
