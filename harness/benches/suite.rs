//! criterion benchmarks of the suite in `corpus/bench/`: every program in each tier, and the
//! JIT's compile time for all functions of each program. Filter with `cargo bench -p
//! echo-harness -- NAME`; compare runs with `--save-baseline` / `--baseline`.

use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use echo_engine::config::{Config, Tier};
use echo_engine::corpus;

/// Every benchmark program: its name under `corpus/bench` and its source.
fn programs() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/bench");
    corpus::files(&root)
        .into_iter()
        .map(|p| {
            let name = p
                .strip_prefix(&root)
                .unwrap_or(&p)
                .with_extension("")
                .to_string_lossy()
                .replace('\\', "/");
            let source = std::fs::read_to_string(&p).expect("benchmark programs are readable");
            (name, source)
        })
        .collect()
}

fn tiers(c: &mut Criterion) {
    for (name, source) in programs() {
        let expect = corpus::parse_expectations(&source).expect("benchmarks carry expectations");
        let mut group = c.benchmark_group(&name);
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        for &tier in Tier::ALL {
            let config = expect.config(tier);
            group.bench_function(tier.name(), |b| {
                b.iter(|| echo_engine::run(&source, &config));
            });
        }
        group.finish();
    }
}

fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    group.sample_size(20);
    let config = Config {
        tier: Tier::Jit,
        ..Config::default()
    };
    for (name, source) in programs() {
        let Ok(program) = echo_engine::compile(&source, &config.limits) else {
            continue;
        };
        group.bench_with_input(BenchmarkId::from_parameter(&name), &program, |b, p| {
            b.iter(|| echo_engine::jit::compile_program(p.clone(), &config));
        });
    }
    group.finish();
}

criterion_group!(benches, tiers, compile);
criterion_main!(benches);
