//! The benchmark suite runner: times every program of `corpus/bench/` in each tier, side by
//! side and interleaved, checks its checksum, and holds the figures against the project's
//! performance targets. `gate` compares a run with a baseline; `render` writes the reports.

pub mod gate;
pub mod render;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use echo_engine::config::{Config, Tier};
use echo_engine::corpus;
use serde::{Deserialize, Serialize};

/// Version of the report format (`report.json`); a gate refuses a baseline of another one.
pub const SCHEMA: u32 = 1;

/// The tiers a report times, in column order.
pub const TIERS: [Tier; 3] = [Tier::Interp, Tier::Jit, Tier::Tiered];

/// What a benchmark measures, for the targets that name a category. Micro benchmarks are
/// listed by file name; every other program (the Are-We-Fast-Yet suite) is `macro`.
const CATEGORIES: &[(&str, &str)] = &[
    ("int_loop", "arithmetic"),
    ("float_arith", "arithmetic"),
    ("collatz", "arithmetic"),
    ("loop_nest", "loops"),
    ("fib", "function calls"),
    ("method_loop", "method calls"),
    ("property_loop", "property access"),
    ("object_alloc", "allocation"),
    ("string_loop", "strings"),
    ("string_hash", "strings"),
    ("closure_loop", "closures"),
    ("list_ops", "list operations"),
    ("map_ops", "map operations"),
];

/// A function is "simple" for the compile-time target when it has at most this many
/// bytecode instructions.
pub const SIMPLE_FUNCTION_OPS: usize = 60;

/// How a suite run is set up.
#[derive(Clone, Debug)]
pub struct Options {
    /// Root of the suite (`corpus/bench`).
    pub dir: PathBuf,
    /// Timed runs per benchmark and tier (after one untimed run that checks the output).
    pub runs: u32,
    /// Only benchmarks whose name contains this.
    pub filter: Option<String>,
    /// Also time the reference implementations (`.lua`, `.py` next to a program) when their
    /// interpreters are installed.
    pub references: bool,
}

/// A whole suite run: what `report.json` holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchReport {
    /// Format version ([`SCHEMA`]).
    pub schema: u32,
    /// When the run started (RFC 3339, UTC).
    pub created: String,
    /// The commit measured (`git describe --always --dirty`), or `unknown`.
    pub commit: String,
    /// The machine.
    pub machine: Machine,
    /// Timed runs per benchmark and tier.
    pub runs: u32,
    /// Wall-clock seconds the whole run took.
    pub seconds: f64,
    /// Every benchmark.
    pub benchmarks: Vec<Bench>,
    /// Every function the JIT tier compiled, over the whole suite.
    pub compiled: Vec<CompiledFunction>,
    /// Smallest call count after which the tiered tier had compiled a function (probe).
    pub compile_after_calls: Option<u32>,
    /// Each promised target, met or missed.
    pub targets: Vec<Target>,
}

/// The machine a report was measured on.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Machine {
    /// CPU model.
    pub cpu: String,
    /// Logical cores.
    pub cores: usize,
    /// Operating system and architecture.
    pub os: String,
}

/// One benchmark's figures.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Bench {
    /// Path under the suite root without extension (`micro/fib`, `awfy/richards`).
    pub name: String,
    /// What it measures ([`CATEGORIES`], or `macro`).
    pub category: String,
    /// Whether every tier printed the expected output (the checksum).
    pub checksum_ok: bool,
    /// What went wrong when it did not.
    pub checksum_error: Option<String>,
    /// Figures per tier, in [`TIERS`] order.
    pub tiers: Vec<TierTimes>,
    /// Interpreter time over JIT-tier time (medians).
    pub speedup_jit: f64,
    /// Interpreter time over tiered time (medians).
    pub speedup_tiered: f64,
    /// Reference implementations in other languages.
    pub references: Vec<Reference>,
}

/// Times of one benchmark in one tier.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TierTimes {
    /// Tier name.
    pub tier: String,
    /// Every timed run, in milliseconds (whole program: parse, compile, run).
    pub samples_ms: Vec<f64>,
    /// Median of the samples.
    pub median_ms: f64,
    /// Half the spread between the fastest and slowest sample, relative to the median.
    pub spread: f64,
    /// Time spent in the JIT compiler, all functions.
    pub compile_ms: f64,
    /// Compilations made.
    pub compilations: u32,
    /// Machine-code bytes of the largest compiled function.
    pub max_code_bytes: usize,
    /// Side exits taken.
    pub side_exits: u64,
    /// Entries into compiled code at a loop header.
    pub osr_entries: u64,
    /// Highest accounted heap size.
    pub peak_heap_bytes: usize,
    /// Where the untimed run's time went: interpreting, compiling, in compiled code (ms).
    pub split_ms: TimeSplit,
    /// The function whose compiled code ran longest, if any ran.
    pub hottest: Option<String>,
}

/// Where a run's time went.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct TimeSplit {
    /// Interpreting (the run time not spent below).
    pub interpreted: f64,
    /// Compiling with the JIT.
    pub compiling: f64,
    /// Running compiled code.
    pub compiled: f64,
}

/// One reference implementation's time.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Reference {
    /// Interpreter (`lua5.4`, `luajit`, `python3`).
    pub runtime: String,
    /// Median time in milliseconds (whole process).
    pub median_ms: f64,
    /// Whether it printed the same output as the Echo program expects.
    pub output_ok: bool,
}

/// One function compiled by the JIT tier.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CompiledFunction {
    /// Benchmark it belongs to.
    pub bench: String,
    /// Function name.
    pub function: String,
    /// Bytecode instructions.
    pub ops: usize,
    /// Time of one compilation in milliseconds: the average over the function's
    /// compilations in one run, the fastest such run.
    pub compile_ms: f64,
    /// Machine-code bytes.
    pub code_bytes: usize,
}

/// A promised target and how the run did against it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Target {
    /// What is promised.
    pub name: String,
    /// The promise, in words (`>= 10x`).
    pub goal: String,
    /// The measured value, in words.
    pub measured: String,
    /// Met or missed.
    pub met: bool,
    /// Hard targets fail the benchmark gate when missed; the others are goals tracked in
    /// the report.
    pub hard: bool,
}

impl BenchReport {
    /// The benchmark of a name.
    pub fn bench(&self, name: &str) -> Option<&Bench> {
        self.benchmarks.iter().find(|b| b.name == name)
    }

    /// Geometric mean of the tiered speedup over every benchmark.
    pub fn geomean_tiered(&self) -> f64 {
        geomean(self.benchmarks.iter().map(|b| b.speedup_tiered))
    }

    /// Geometric mean of the JIT-tier speedup over every benchmark.
    pub fn geomean_jit(&self) -> f64 {
        geomean(self.benchmarks.iter().map(|b| b.speedup_jit))
    }
}

/// The programs of the suite: every `.echo` under `dir`, sorted.
pub fn programs(opts: &Options) -> Vec<PathBuf> {
    corpus::files(&opts.dir)
        .into_iter()
        .filter(|p| {
            opts.filter
                .as_deref()
                .is_none_or(|f| name_of(&opts.dir, p).contains(f))
        })
        .collect()
}

fn name_of(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path).with_extension("");
    rel.to_string_lossy().replace('\\', "/")
}

fn category_of(name: &str) -> String {
    let file = name.rsplit('/').next().unwrap_or(name);
    CATEGORIES
        .iter()
        .find(|(f, _)| *f == file)
        .map_or("macro", |(_, c)| c)
        .to_string()
}

/// Runs the suite. `progress` is told the name of each benchmark as it starts.
pub fn run(opts: &Options, progress: &dyn Fn(&str)) -> Result<BenchReport, String> {
    let start = Instant::now();
    let created = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let paths = programs(opts);
    if paths.is_empty() {
        return Err(format!(
            "no benchmark programs under {}",
            opts.dir.display()
        ));
    }
    let mut benchmarks = Vec::new();
    let mut compiled = Vec::new();
    for path in &paths {
        let name = name_of(&opts.dir, path);
        progress(&name);
        let source = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let (bench, fns) = measure(&name, path, &source, opts)?;
        benchmarks.push(bench);
        compiled.extend(fns);
    }
    let compile_after_calls = probe_compile_threshold();
    let mut report = BenchReport {
        schema: SCHEMA,
        created,
        commit: commit(),
        machine: machine(),
        runs: opts.runs,
        seconds: 0.0,
        benchmarks,
        compiled,
        compile_after_calls,
        targets: Vec::new(),
    };
    report.targets = targets(&report);
    report.seconds = start.elapsed().as_secs_f64();
    Ok(report)
}

/// Times one program in every tier. Rounds are interleaved (each round runs every tier, in
/// a rotating order) so that a burst of load on a shared machine hits all tiers alike.
fn measure(
    name: &str,
    path: &Path,
    source: &str,
    opts: &Options,
) -> Result<(Bench, Vec<CompiledFunction>), String> {
    let expect = corpus::parse_expectations(source).map_err(|e| format!("{name}: {e}"))?;
    let program =
        echo_engine::compile(source, &expect.limits).map_err(|e| format!("{name}: {e}"))?;
    let mut tiers: Vec<TierTimes> = Vec::new();
    let mut checksum_error = None;
    let mut compiled = Vec::new();
    // The untimed first run of each tier checks the output and collects the JIT figures.
    for tier in TIERS {
        let config = Config {
            profile: true,
            ..timed_config(&expect, tier)
        };
        let outcome = echo_engine::run(source, &config);
        if let Err(e) = expect.check(&outcome) {
            checksum_error.get_or_insert(format!("{} tier: {e}", tier.name()));
        }
        let mut t = TierTimes {
            tier: tier.name().to_string(),
            samples_ms: Vec::new(),
            median_ms: 0.0,
            spread: 0.0,
            compile_ms: 0.0,
            compilations: 0,
            max_code_bytes: 0,
            side_exits: 0,
            osr_entries: 0,
            peak_heap_bytes: outcome.stats.heap.peak_bytes,
            split_ms: TimeSplit::default(),
            hottest: None,
        };
        let mut hottest = (Duration::ZERO, None);
        // Code generated on the compiler thread took none of the program's time.
        let mut background_ms = 0.0;
        for (i, f) in outcome.stats.functions.iter().enumerate() {
            let Some(j) = &f.jit else { continue };
            t.compile_ms += ms(j.compile_time);
            background_ms += ms(j.background_time);
            t.compilations += j.compilations;
            t.max_code_bytes = t.max_code_bytes.max(j.code_bytes);
            t.side_exits += j.side_exits;
            t.osr_entries += j.osr_entries;
            t.split_ms.compiled += ms(j.compiled_time);
            if j.compiled_time > hottest.0 {
                hottest = (j.compiled_time, Some(f.name.clone()));
            }
            if tier == Tier::Jit && j.compilations > 0 {
                compiled.push(CompiledFunction {
                    bench: name.to_string(),
                    function: f.name.clone(),
                    ops: program.protos.get(i).map_or(0, |p| p.code.len()),
                    compile_ms: ms(j.compile_time) / f64::from(j.compilations),
                    code_bytes: j.code_bytes,
                });
            }
        }
        t.split_ms.compiling = t.compile_ms - background_ms;
        t.split_ms.interpreted =
            (ms(outcome.stats.run_time) - t.split_ms.compiled - t.split_ms.compiling).max(0.0);
        t.hottest = hottest.1;
        tiers.push(t);
    }
    for round in 0..opts.runs as usize {
        for k in 0..TIERS.len() {
            let i = (round + k) % TIERS.len();
            let config = timed_config(&expect, TIERS[i]);
            let t0 = Instant::now();
            let outcome = echo_engine::run(source, &config);
            let elapsed = t0.elapsed();
            tiers[i].samples_ms.push(ms(elapsed));
            if TIERS[i] == Tier::Jit {
                // A function's compile time is the fastest of its compilations over all
                // runs, so load on a shared machine does not decide the compile-time target.
                for (f, c) in outcome
                    .stats
                    .functions
                    .iter()
                    .filter_map(|f| f.jit.as_ref().filter(|j| j.compilations > 0))
                    .zip(compiled.iter_mut())
                {
                    c.compile_ms = c
                        .compile_ms
                        .min(ms(f.compile_time) / f64::from(f.compilations));
                }
            }
        }
    }
    for t in &mut tiers {
        (t.median_ms, t.spread) = median_spread(&t.samples_ms);
    }
    let speed = |i: usize| tiers[0].median_ms / tiers[i].median_ms.max(1e-9);
    let references = if opts.references {
        references(path, &expect.output, opts.runs)
    } else {
        Vec::new()
    };
    let bench = Bench {
        name: name.to_string(),
        category: category_of(name),
        checksum_ok: checksum_error.is_none(),
        checksum_error,
        speedup_jit: speed(1),
        speedup_tiered: speed(2),
        tiers,
        references,
    };
    Ok((bench, compiled))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Median and half the range relative to the median.
fn median_spread(samples: &[f64]) -> (f64, f64) {
    if samples.is_empty() {
        return (0.0, 0.0);
    }
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    let median = if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    };
    let spread = if median > 0.0 {
        (s[n - 1] - s[0]) / 2.0 / median
    } else {
        0.0
    };
    (median, spread)
}

/// Geometric mean (1 for no values).
pub fn geomean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values
        .filter(|v| *v > 0.0)
        .fold((0.0, 0u32), |(s, n), v| (s + v.ln(), n + 1));
    if n == 0 {
        1.0
    } else {
        (sum / f64::from(n)).exp()
    }
}

/// Times the reference implementations next to `path` (`NAME.lua` under `lua5.4` and
/// `luajit`, `NAME.py` under `python3`), when their interpreters are installed. LuaJIT runs
/// `NAME.jit.lua` instead where there is one: the same program without Lua 5.4's operators
/// (`//`, `<<`), which LuaJIT's Lua 5.1 syntax lacks.
fn references(path: &Path, expected: &[String], runs: u32) -> Vec<Reference> {
    let mut out = Vec::new();
    for (exts, runtime) in [
        (&["lua"][..], "lua5.4"),
        (&["jit.lua", "lua"][..], "luajit"),
        (&["py"][..], "python3"),
    ] {
        let Some(file) = exts
            .iter()
            .map(|ext| path.with_extension(ext))
            .find(|f| f.exists())
        else {
            continue;
        };
        let mut samples = Vec::new();
        let mut output_ok = true;
        for _ in 0..runs.max(1) {
            let t0 = Instant::now();
            let Ok(o) = Command::new(runtime).arg(&file).output() else {
                break; // not installed
            };
            samples.push(ms(t0.elapsed()));
            let printed: Vec<&str> = std::str::from_utf8(&o.stdout)
                .unwrap_or("")
                .lines()
                .collect();
            output_ok &= o.status.success() && printed == expected;
        }
        if samples.is_empty() {
            continue;
        }
        out.push(Reference {
            runtime: runtime.to_string(),
            median_ms: median_spread(&samples).0,
            output_ok,
        });
    }
    out
}

/// The smallest number of calls after which the tiered tier (default thresholds) has
/// compiled a small function, or `None` if it never did within 100 calls.
/// The configuration a tier is timed with: as `echo-lang run` runs it, generating code on a
/// second thread in the tiered tier (`Config::background_compile`).
fn timed_config(expect: &corpus::Expectation, tier: Tier) -> Config {
    Config {
        background_compile: true,
        ..expect.config(tier)
    }
}

fn probe_compile_threshold() -> Option<u32> {
    let config = Config {
        tier: Tier::Tiered,
        ..Config::default()
    };
    (1..=100).find(|&n| {
        let src = format!("fn f(x) {{ return x + 1; }}\nfor i in 0..{n} {{ f(i); }}\n");
        let outcome = echo_engine::run(&src, &config);
        outcome
            .stats
            .functions
            .iter()
            .find(|f| f.name == "f")
            .and_then(|f| f.jit.as_ref())
            .is_some_and(|j| j.compilations > 0)
    })
}

/// Holds the report against every promised target.
pub fn targets(r: &BenchReport) -> Vec<Target> {
    let mut t = Vec::new();
    let band = |name: &str, goal: f64, value: Option<f64>, t: &mut Vec<Target>| {
        let (measured, met) = match value {
            Some(v) => (format!("{v:.1}x"), v >= goal),
            None => ("no benchmark".to_string(), false),
        };
        t.push(Target {
            name: name.to_string(),
            goal: format!(">= {goal}x"),
            measured,
            met,
            hard: false,
        });
    };
    let category = |c: &str| {
        let v: Vec<f64> = r
            .benchmarks
            .iter()
            .filter(|b| b.category == c)
            .map(|b| b.speedup_tiered)
            .collect();
        (!v.is_empty()).then(|| geomean(v.into_iter()))
    };
    let all = (!r.benchmarks.is_empty()).then(|| r.geomean_tiered());
    band("JIT overall (geomean, tiered/interp)", 5.0, all, &mut t);
    band("arithmetic", 10.0, category("arithmetic"), &mut t);
    band("method calls", 50.0, category("method calls"), &mut t);
    band("property access", 20.0, category("property access"), &mut t);
    band("strings", 5.0, category("strings"), &mut t);

    let simple: Vec<&CompiledFunction> = r
        .compiled
        .iter()
        .filter(|f| f.ops <= SIMPLE_FUNCTION_OPS)
        .collect();
    let worst_simple = simple.iter().map(|f| f.compile_ms).fold(0.0, f64::max);
    t.push(Target {
        name: format!("compile time, simple functions (<= {SIMPLE_FUNCTION_OPS} ops)"),
        goal: "< 10 ms each".to_string(),
        measured: format!("max {worst_simple:.2} ms over {} functions", simple.len()),
        met: worst_simple < 10.0,
        hard: true,
    });
    let biggest = r.compiled.iter().map(|f| f.code_bytes).max().unwrap_or(0);
    t.push(Target {
        name: "memory per compiled function (machine code)".to_string(),
        goal: "< 1 MiB".to_string(),
        measured: format!("max {biggest} bytes"),
        met: biggest < 1 << 20,
        hard: true,
    });
    t.push(Target {
        name: "compile after 10 calls".to_string(),
        goal: "<= 10 calls".to_string(),
        measured: r
            .compile_after_calls
            .map_or("never (within 100 calls)".to_string(), |n| {
                format!("compiled after {n} calls")
            }),
        met: r.compile_after_calls.is_some_and(|n| n <= 10),
        hard: true,
    });
    let bad: Vec<&str> = r
        .benchmarks
        .iter()
        .filter(|b| !b.checksum_ok)
        .map(|b| b.name.as_str())
        .collect();
    t.push(Target {
        name: "checksums verified in every tier".to_string(),
        goal: "all".to_string(),
        measured: if bad.is_empty() {
            format!("{} of {}", r.benchmarks.len(), r.benchmarks.len())
        } else {
            format!("wrong: {}", bad.join(", "))
        },
        met: bad.is_empty(),
        hard: true,
    });
    t
}

fn commit() -> String {
    Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or("unknown".to_string(), |s| s.trim().to_string())
}

fn machine() -> Machine {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string());
    Machine {
        cpu,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        os: format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
    }
}

/// Reads the `report.json` files of earlier runs under `dir` (any depth), oldest first.
pub fn history(dir: &Path) -> Vec<BenchReport> {
    let mut found: Vec<BenchReport> = corpus::files_with_extension(dir, "json")
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|s| serde_json::from_str::<BenchReport>(&s).ok())
        .filter(|r| r.schema == SCHEMA)
        .collect();
    found.sort_by(|a, b| a.created.cmp(&b.created));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_spread() {
        assert_eq!(median_spread(&[3.0, 1.0, 2.0]), (2.0, 0.5));
        assert_eq!(median_spread(&[1.0, 2.0, 3.0, 4.0]).0, 2.5);
        assert_eq!(median_spread(&[]), (0.0, 0.0));
    }

    #[test]
    fn geomean_of_ratios() {
        assert!((geomean([2.0, 8.0].into_iter()) - 4.0).abs() < 1e-9);
        assert_eq!(geomean(std::iter::empty()), 1.0);
    }

    #[test]
    fn categories_come_from_micro_names() {
        assert_eq!(category_of("micro/int_loop"), "arithmetic");
        assert_eq!(category_of("awfy/richards"), "macro");
    }

    #[test]
    fn the_default_threshold_compiles_after_ten_calls() {
        assert_eq!(probe_compile_threshold(), Some(Config::default().hot_calls));
    }
}
