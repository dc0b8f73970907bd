//! Campaign statistics: how many cases ran and how fast, how many were valid, what their
//! outcomes were, which tier transitions and which parts of the engine they reached, and what
//! diverged. Printed as text during and after a campaign and written as JSON.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use echo_engine::runtime::coverage::Coverage;
use serde::Serialize;

use crate::generator::{Case, GENERATOR_VERSION};
use crate::oracle::{CaseReport, Signature, TierEvents, Verdict};

/// A divergence found by a campaign.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// Seed of the case.
    pub seed: u64,
    /// What diverged.
    pub signature: Signature,
    /// Both sides of the first difference.
    pub detail: String,
    /// The input vector it showed on (an index into the case's inputs).
    pub input: usize,
    /// Where the case (and, once reduced, the reproducer) was written.
    pub files: Vec<String>,
    /// The case itself (a steered case cannot be generated again from its seed alone).
    #[serde(skip)]
    pub case: Option<Case>,
}

/// Counters of one campaign (or of one worker, merged into the campaign's).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    /// Cases generated and checked.
    pub cases: u64,
    /// Cases that compiled.
    pub valid: u64,
    /// Runs of a program on one input vector in every tier, compared.
    pub runs: u64,
    /// Cases on which every tier agreed.
    pub agreed: u64,
    /// Cases set aside because a run hit the host-stack backstop.
    pub backstops: u64,
    /// The reference outcome of valid cases: `ok` or the error kind that ended the program.
    pub outcomes: BTreeMap<String, u64>,
    /// Cases with an error injected on purpose, by kind.
    pub intents: BTreeMap<String, u64>,
    /// Cases in which functions were compiled / loops entered by OSR / side exits taken.
    pub cases_with: TierEvents,
    /// Total tier transitions.
    pub events: TierEvents,
    /// What the cases reached.
    #[serde(skip)]
    pub coverage: Coverage,
    /// Time spent generating.
    #[serde(skip)]
    pub generate_time: Duration,
    /// Time spent per tier.
    #[serde(skip)]
    pub tier_time: BTreeMap<String, Duration>,
    /// Of that, time spent compiling, per tier.
    #[serde(skip)]
    pub compile_time: BTreeMap<String, Duration>,
    /// Divergences, in the order found.
    pub findings: Vec<Finding>,
}

impl Stats {
    /// Records one checked case.
    pub fn record(&mut self, seed: u64, case: &Case, report: &CaseReport, generate_time: Duration) {
        self.cases += 1;
        self.runs += report.runs;
        self.generate_time += generate_time;
        for (tier, t) in &report.times {
            *self.tier_time.entry(tier.clone()).or_default() += *t;
        }
        for (tier, t) in &report.compiling {
            *self.compile_time.entry(tier.clone()).or_default() += *t;
        }
        if let Some(k) = case.intent {
            *self.intents.entry(k.to_string()).or_default() += 1;
        }
        if !matches!(report.verdict, Verdict::Invalid(_)) {
            self.valid += 1;
        }
        if let Some(r) = &report.reference {
            let kind = match &r.result {
                Ok(_) => "ok".to_string(),
                Err(e) => e.kind.to_string(),
            };
            *self.outcomes.entry(kind).or_default() += 1;
        }
        let e = report.events;
        self.events.add(&e);
        self.cases_with.compilations += u64::from(e.compilations > 0);
        self.cases_with.osr_entries += u64::from(e.osr_entries > 0);
        self.cases_with.side_exits += u64::from(e.side_exits > 0);
        self.coverage.merge(&report.coverage);
        match &report.verdict {
            Verdict::Agree => self.agreed += 1,
            Verdict::Backstop => self.backstops += 1,
            Verdict::Invalid(_) => {}
            Verdict::Diverge(d) => self.findings.push(Finding {
                seed,
                signature: d.signature.clone(),
                detail: d.detail.clone(),
                input: d.input,
                files: Vec::new(),
                case: Some(case.clone()),
            }),
        }
    }

    /// Adds another worker's counters.
    pub fn merge(&mut self, o: &Stats) {
        self.cases += o.cases;
        self.runs += o.runs;
        self.valid += o.valid;
        self.agreed += o.agreed;
        self.backstops += o.backstops;
        for (k, v) in &o.outcomes {
            *self.outcomes.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &o.intents {
            *self.intents.entry(k.clone()).or_default() += v;
        }
        self.cases_with.add(&o.cases_with);
        self.events.add(&o.events);
        self.coverage.merge(&o.coverage);
        self.generate_time += o.generate_time;
        for (k, v) in &o.tier_time {
            *self.tier_time.entry(k.clone()).or_default() += *v;
        }
        for (k, v) in &o.compile_time {
            *self.compile_time.entry(k.clone()).or_default() += *v;
        }
        self.findings.extend(o.findings.iter().cloned());
    }

    /// Share of valid cases, in percent.
    pub fn valid_percent(&self) -> f64 {
        percent(self.valid, self.cases)
    }

    /// Distinct divergence signatures found.
    pub fn signatures(&self) -> Vec<&Signature> {
        let mut s: Vec<&Signature> = self.findings.iter().map(|f| &f.signature).collect();
        s.sort();
        s.dedup();
        s
    }

    /// One line for a progress display.
    pub fn progress_line(&self, elapsed: Duration) -> String {
        format!(
            "{:.0} cases/s ({:.0} runs/s), {:.1}% valid, compiled {:.0}% osr {:.0}% exits {:.0}%, {} divergences",
            self.cases as f64 / elapsed.as_secs_f64().max(1e-9),
            self.runs as f64 / elapsed.as_secs_f64().max(1e-9),
            self.valid_percent(),
            percent(self.cases_with.compilations, self.cases),
            percent(self.cases_with.osr_entries, self.cases),
            percent(self.cases_with.side_exits, self.cases),
            self.findings.len()
        )
    }

    /// The summary for JSON output.
    pub fn summary(&self, seed: u64, jobs: usize, elapsed: Duration) -> Summary {
        let reached = |v: Vec<(&'static str, bool)>| Reach::of(v.into_iter());
        let mut time = BTreeMap::new();
        time.insert("generate".to_string(), self.generate_time.as_secs_f64());
        for (k, v) in &self.tier_time {
            time.insert(k.clone(), v.as_secs_f64());
        }
        Summary {
            generator_version: GENERATOR_VERSION,
            seed,
            jobs,
            seconds: elapsed.as_secs_f64(),
            cases_per_second: self.cases as f64 / elapsed.as_secs_f64().max(1e-9),
            runs_per_second: self.runs as f64 / elapsed.as_secs_f64().max(1e-9),
            valid_percent: self.valid_percent(),
            transitions_percent: BTreeMap::from([
                (
                    "compile".to_string(),
                    percent(self.cases_with.compilations, self.cases),
                ),
                (
                    "osr_entry".to_string(),
                    percent(self.cases_with.osr_entries, self.cases),
                ),
                (
                    "side_exit".to_string(),
                    percent(self.cases_with.side_exits, self.cases),
                ),
            ]),
            opcodes: reached(self.coverage.opcodes()),
            helpers: reached(self.coverage.helpers(&echo_engine::helper_names())),
            builtins: reached(self.coverage.builtins()),
            error_kinds: Reach::of(
                self.coverage
                    .errors()
                    .into_iter()
                    .filter(|(k, _)| k.is_runtime())
                    .map(|(k, r)| (k.name(), r)),
            ),
            cells: CellReach::of(&self.coverage),
            cpu_seconds: time,
            compile_seconds: self
                .compile_time
                .iter()
                .filter(|(_, v)| !v.is_zero())
                .map(|(k, v)| (k.clone(), v.as_secs_f64()))
                .collect(),
            signatures: self.signatures().into_iter().cloned().collect(),
            stats: self.clone(),
        }
    }

    /// The tier transitions taken: the share of cases with each, then the totals.
    pub fn transitions_line(&self) -> String {
        let share = |n| percent(n, self.cases);
        format!(
            "(share of cases): compile {:.1}%, OSR entry {:.1}%, side exit {:.1}% ({} compilations of which {} reused identical code, {} OSR entries, {} side exits)",
            share(self.cases_with.compilations),
            share(self.cases_with.osr_entries),
            share(self.cases_with.side_exits),
            self.events.compilations,
            self.events.shared,
            self.events.osr_entries,
            self.events.side_exits
        )
    }

    /// CPU time by phase: generation, then each tier with the part its JIT spent compiling.
    pub fn cpu_time_line(&self) -> String {
        let mut parts = vec![format!("generate {:.1}s", self.generate_time.as_secs_f64())];
        for (tier, t) in &self.tier_time {
            let t = t.as_secs_f64();
            parts.push(match self.compile_time.get(tier).filter(|c| !c.is_zero()) {
                Some(c) => format!("{tier} {t:.1}s (compiling {:.1}s)", c.as_secs_f64()),
                None => format!("{tier} {t:.1}s"),
            });
        }
        parts.join(", ")
    }

    /// A human-readable report.
    pub fn report(&self, seed: u64, jobs: usize, elapsed: Duration) -> String {
        let s = self.summary(seed, jobs, elapsed);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} cases in {:.1}s with {} jobs: {:.0} cases/s, {} runs (a program on one input vector, compared across tiers): {:.0} runs/s (generator v{}, seed {})",
            self.cases,
            s.seconds,
            jobs,
            s.cases_per_second,
            self.runs,
            s.runs_per_second,
            GENERATOR_VERSION,
            seed
        );
        let _ = writeln!(
            out,
            "valid {:.2}%, agreed {}, set aside (host-stack backstop) {}",
            s.valid_percent, self.agreed, self.backstops
        );
        let hist: Vec<String> = self
            .outcomes
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(out, "outcomes: {}", hist.join(", "));
        let _ = writeln!(out, "tier transitions {}", self.transitions_line());
        for (what, r) in [
            ("opcodes", &s.opcodes),
            ("helpers", &s.helpers),
            ("builtins", &s.builtins),
            ("runtime error kinds", &s.error_kinds),
        ] {
            let _ = write!(
                out,
                "{what}: {}/{} ({:.0}%)",
                r.reached,
                r.total,
                percent(r.reached as u64, r.total as u64)
            );
            if !r.missing.is_empty() {
                let _ = write!(out, ", never reached: {}", r.missing.join(" "));
            }
            out.push('\n');
        }
        let c = &s.cells;
        let _ = writeln!(
            out,
            "semantic cells: {}/{} reachable reached ({:.1}%), {} groups with cells never reached{}",
            c.reached,
            c.reachable,
            c.percent,
            c.never_reached.len(),
            if c.outside.is_empty() {
                String::new()
            } else {
                format!(
                    ", {} reached outside the universe: {}",
                    c.outside.len(),
                    c.outside.join("; ")
                )
            }
        );
        for line in c.never_reached.iter().take(40) {
            let _ = writeln!(out, "  never: {line}");
        }
        if c.never_reached.len() > 40 {
            let _ = writeln!(
                out,
                "  ... {} more groups (summary.json)",
                c.never_reached.len() - 40
            );
        }
        let _ = writeln!(out, "cpu time: {}", self.cpu_time_line());
        let sigs = self.signatures();
        let _ = writeln!(
            out,
            "divergences: {} ({} distinct)",
            self.findings.len(),
            sigs.len()
        );
        for f in &self.findings {
            let _ = writeln!(out, "  seed {}: {}\n    {}", f.seed, f.signature, f.detail);
            for file in &f.files {
                let _ = writeln!(out, "    -> {file}");
            }
        }
        out
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// How much of a set was reached.
#[derive(Clone, Debug, Serialize)]
pub struct Reach {
    /// Members reached.
    pub reached: usize,
    /// Members in all.
    pub total: usize,
    /// Members never reached.
    pub missing: Vec<String>,
}

impl Reach {
    fn of<'a>(items: impl Iterator<Item = (&'a str, bool)>) -> Reach {
        let mut r = Reach {
            reached: 0,
            total: 0,
            missing: Vec::new(),
        };
        for (name, hit) in items {
            r.total += 1;
            if hit {
                r.reached += 1;
            } else {
                r.missing.push(name.to_string());
            }
        }
        r
    }
}

/// How much of the semantic coverage universe was reached.
#[derive(Clone, Debug, Serialize)]
pub struct CellReach {
    /// Reachable cells reached.
    pub reached: usize,
    /// Reachable cells (`cells::universe`).
    pub reachable: usize,
    /// `reached` as a share of `reachable`, in percent.
    pub percent: f64,
    /// Reachable cells never reached, grouped: `group: detail detail ...` (groups with the
    /// most missing cells first).
    pub never_reached: Vec<String>,
    /// Cells reached that the universe says cannot occur (a wrong type rule or recorder):
    /// should be empty.
    pub outside: Vec<String>,
}

impl CellReach {
    /// The reach of `coverage`'s cells.
    pub fn of(coverage: &Coverage) -> CellReach {
        use echo_engine::runtime::cells::{self, Cell};
        let universe = cells::universe();
        let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut reached = 0;
        for &id in &universe {
            if coverage.cells.contains(&id) {
                reached += 1;
            } else if let Some(cell) = Cell::unpack(id) {
                missing.entry(cell.group()).or_default().push(cell.detail());
            }
        }
        let mut groups: Vec<(String, Vec<String>)> = missing.into_iter().collect();
        groups.sort_by_key(|(g, d)| (std::cmp::Reverse(d.len()), g.clone()));
        let mut outside: Vec<String> = coverage
            .cells
            .iter()
            .filter(|id| universe.binary_search(id).is_err())
            .map(|&id| Cell::unpack(id).map_or(format!("{id:#x}"), |c| c.to_string()))
            .collect();
        outside.sort();
        CellReach {
            reached,
            reachable: universe.len(),
            percent: percent(reached as u64, universe.len() as u64),
            never_reached: groups
                .into_iter()
                .map(|(g, d)| format!("{g}: {}", d.join(" ")))
                .collect(),
            outside,
        }
    }
}

/// The JSON summary of a campaign.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Generator version (same seed, same programs).
    pub generator_version: u32,
    /// Base seed.
    pub seed: u64,
    /// Worker threads.
    pub jobs: usize,
    /// Wall-clock duration.
    pub seconds: f64,
    /// Cases per second of wall-clock time.
    pub cases_per_second: f64,
    /// Runs (a program on one input vector, compared across tiers) per second.
    pub runs_per_second: f64,
    /// Share of cases that compiled.
    pub valid_percent: f64,
    /// Share of cases in which each tier transition happened.
    pub transitions_percent: BTreeMap<String, f64>,
    /// Opcodes interpreted.
    pub opcodes: Reach,
    /// Runtime helpers called from compiled code.
    pub helpers: Reach,
    /// Builtins called.
    pub builtins: Reach,
    /// Runtime error kinds raised (caught or not).
    pub error_kinds: Reach,
    /// Semantic coverage cells (`echo_engine::runtime::cells`).
    pub cells: CellReach,
    /// CPU time by phase (generation and each tier), summed over workers.
    pub cpu_seconds: BTreeMap<String, f64>,
    /// Of each tier's CPU time, the time its JIT spent compiling.
    pub compile_seconds: BTreeMap<String, f64>,
    /// Distinct divergence signatures.
    pub signatures: Vec<Signature>,
    /// The raw counters.
    pub stats: Stats,
}
