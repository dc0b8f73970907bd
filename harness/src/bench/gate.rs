//! The benchmark regression gate: holds a run's speedups (JIT over interpreter, measured side
//! by side) against a committed baseline report, with a threshold that widens with noise.

use super::BenchReport;

/// How tolerant the gate is.
#[derive(Clone, Copy, Debug)]
pub struct Tolerance {
    /// Smallest relative drop of a speedup that counts as a regression (0.25 = 25%).
    pub min_drop: f64,
    /// The drop must also exceed this many times the combined relative spread of the two
    /// runs' samples, so a noisy benchmark needs a larger drop to fail.
    pub noise_factor: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            min_drop: 0.25,
            noise_factor: 2.0,
        }
    }
}

/// One row of the gate's table.
#[derive(Clone, Debug)]
pub struct Row {
    /// Benchmark name.
    pub bench: String,
    /// `jit` or `tiered`.
    pub tier: &'static str,
    /// Baseline speedup.
    pub baseline: f64,
    /// This run's speedup.
    pub current: f64,
    /// Relative drop allowed for this row.
    pub allowed: f64,
    /// Whether the row fails.
    pub regressed: bool,
}

/// What the gate decided.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// Every compared speedup.
    pub rows: Vec<Row>,
    /// Hard targets missed by this run.
    pub missed: Vec<String>,
    /// Benchmarks of the baseline this run did not measure.
    pub missing: Vec<String>,
}

impl Verdict {
    /// Whether the gate passes.
    pub fn passed(&self) -> bool {
        self.missed.is_empty() && self.rows.iter().all(|r| !r.regressed)
    }

    /// The table the gate prints (Markdown).
    pub fn table(&self) -> String {
        let mut s = String::from(
            "| benchmark | tier | baseline | now | change | allowed drop | verdict |\n|---|---|---|---|---|---|---|\n",
        );
        for r in &self.rows {
            s += &format!(
                "| {} | {} | {:.2}x | {:.2}x | {:+.1}% | {:.0}% | {} |\n",
                r.bench,
                r.tier,
                r.baseline,
                r.current,
                (r.current / r.baseline - 1.0) * 100.0,
                r.allowed * 100.0,
                if r.regressed { "REGRESSED" } else { "ok" }
            );
        }
        for m in &self.missed {
            s += &format!("\nhard target missed: {m}");
        }
        for m in &self.missing {
            s += &format!("\nnot measured (in the baseline): {m}");
        }
        if !self.missed.is_empty() || !self.missing.is_empty() {
            s.push('\n');
        }
        s
    }
}

/// Compares `current` with `baseline`. Only ratios are compared: absolute times drift with
/// the machine's load, while both tiers of one run see the same load.
pub fn compare(baseline: &BenchReport, current: &BenchReport, tol: Tolerance) -> Verdict {
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    for b in &baseline.benchmarks {
        let Some(c) = current.bench(&b.name) else {
            missing.push(b.name.clone());
            continue;
        };
        let noise = |r: &super::Bench, i: usize| {
            r.tiers.first().map_or(0.0, |t| t.spread) + r.tiers.get(i).map_or(0.0, |t| t.spread)
        };
        for (tier, i, base, now) in [
            ("jit", 1, b.speedup_jit, c.speedup_jit),
            ("tiered", 2, b.speedup_tiered, c.speedup_tiered),
        ] {
            let allowed = tol
                .min_drop
                .max(tol.noise_factor * (noise(b, i) + noise(c, i)))
                .min(0.9);
            rows.push(Row {
                bench: b.name.clone(),
                tier,
                baseline: base,
                current: now,
                allowed,
                regressed: now < base * (1.0 - allowed),
            });
        }
    }
    let missed = current
        .targets
        .iter()
        .filter(|t| t.hard && !t.met)
        .map(|t| format!("{} (goal {}, measured {})", t.name, t.goal, t.measured))
        .collect();
    Verdict {
        rows,
        missed,
        missing,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Bench, BenchReport, Machine, SCHEMA, Target, TierTimes};
    use super::*;

    fn report(speedups: &[(&str, f64, f64)], spread: f64) -> BenchReport {
        let tier = |name: &str, ms: f64| TierTimes {
            tier: name.to_string(),
            samples_ms: vec![ms],
            median_ms: ms,
            spread,
            compile_ms: 0.0,
            compilations: 0,
            max_code_bytes: 0,
            side_exits: 0,
            osr_entries: 0,
            peak_heap_bytes: 0,
            split_ms: Default::default(),
            hottest: None,
        };
        BenchReport {
            schema: SCHEMA,
            created: String::new(),
            commit: String::new(),
            machine: Machine {
                cpu: String::new(),
                cores: 1,
                os: String::new(),
            },
            runs: 1,
            seconds: 0.0,
            benchmarks: speedups
                .iter()
                .map(|&(n, j, t)| Bench {
                    name: n.to_string(),
                    category: "macro".to_string(),
                    checksum_ok: true,
                    checksum_error: None,
                    tiers: vec![
                        tier("interp", 100.0),
                        tier("jit", 100.0 / j),
                        tier("tiered", 100.0 / t),
                    ],
                    speedup_jit: j,
                    speedup_tiered: t,
                    references: Vec::new(),
                })
                .collect(),
            compiled: Vec::new(),
            compile_after_calls: Some(10),
            targets: Vec::new(),
        }
    }

    #[test]
    fn equal_runs_pass() {
        let r = report(&[("a", 4.0, 5.0)], 0.01);
        assert!(compare(&r, &r, Tolerance::default()).passed());
    }

    #[test]
    fn a_halved_speedup_fails_and_a_small_drop_passes() {
        let base = report(&[("a", 4.0, 5.0), ("b", 3.0, 3.0)], 0.01);
        let now = report(&[("a", 4.0, 2.5), ("b", 2.8, 2.9)], 0.01);
        let v = compare(&base, &now, Tolerance::default());
        assert!(!v.passed());
        let failing: Vec<_> = v.rows.iter().filter(|r| r.regressed).collect();
        assert_eq!(failing.len(), 1);
        assert_eq!(
            (failing[0].bench.as_str(), failing[0].tier),
            ("a", "tiered")
        );
        assert!(v.table().contains("REGRESSED"));
    }

    #[test]
    fn noise_widens_the_threshold() {
        let base = report(&[("a", 4.0, 4.0)], 0.2);
        let now = report(&[("a", 4.0, 2.5)], 0.2);
        // 37.5% drop, but each run's spread is 20% per tier: allowed 2 * 0.8 = 0.9 (capped).
        assert!(compare(&base, &now, Tolerance::default()).passed());
    }

    #[test]
    fn a_missed_hard_target_fails_a_missing_benchmark_is_listed() {
        let base = report(&[("a", 4.0, 4.0), ("gone", 2.0, 2.0)], 0.0);
        let mut now = report(&[("a", 4.0, 4.0)], 0.0);
        now.targets.push(Target {
            name: "compile after 10 calls".to_string(),
            goal: "<= 10 calls".to_string(),
            measured: "never".to_string(),
            met: false,
            hard: true,
        });
        let v = compare(&base, &now, Tolerance::default());
        assert!(!v.passed());
        assert_eq!(v.missing, vec!["gone".to_string()]);
    }
}
