//! The collector-stress oracle: a program runs in every tier with a collection forced at
//! every safepoint and must match the plain interpreter. The harness's oracle stresses only
//! the interpreter; this one also stresses compiled code, whose safepoints must root it all.

use std::time::Instant;

use echo_engine::coverage::Coverage;
use echo_engine::{ErrorKind, Outcome};
use echo_harness::oracle::{
    self, Aspect, Divergence, Program, Report, Signature, TierEvents, Verdict,
};

fn result_kind(o: &Outcome) -> String {
    match &o.result {
        Ok(_) => "ok".to_string(),
        Err(e) => e.kind.to_string(),
    }
}

/// Runs `p` in the interpreter (the reference) and then in every tier under collector stress,
/// and compares each stressed run with the reference.
pub fn check(p: &Program) -> Report {
    let mut report = Report {
        verdict: Verdict::Agree,
        reference: None,
        events: TierEvents::default(),
        coverage: Coverage::default(),
        times: Vec::new(),
    };
    if let Err(e) = echo_engine::compile(&p.source, &p.limits) {
        report.verdict = Verdict::Invalid(e);
        return report;
    }
    let tiers = oracle::tiers(p, &crate::oracle_options());
    let reference_config = tiers[0].1.clone();
    let runs = std::iter::once(("interp".to_string(), reference_config)).chain(
        tiers.into_iter().map(|(name, mut config)| {
            config.gc_stress = true;
            (format!("{name}-gc"), config)
        }),
    );
    let mut reference: Option<Outcome> = None;
    for (name, config) in runs {
        let start = Instant::now();
        // A panic in the engine aborts the process under libFuzzer: a finding in itself.
        let outcome = echo_engine::run(&p.source, &config);
        report.times.push((name.clone(), start.elapsed()));
        report.events.add(&oracle::events_of(&outcome));
        if let Err(e) = &outcome.result {
            match e.kind {
                ErrorKind::NativeStackOverflow => {
                    report.verdict = Verdict::Backstop;
                    break;
                }
                ErrorKind::InternalError => {
                    report.verdict = Verdict::Diverge(Divergence {
                        signature: Signature {
                            tier: name,
                            aspect: Aspect::Crash,
                            expected: reference.as_ref().map_or("none".to_string(), result_kind),
                            actual: "crash".to_string(),
                        },
                        detail: e.message.clone(),
                    });
                    break;
                }
                _ => {}
            }
        }
        match &reference {
            None => reference = Some(outcome),
            Some(r) => {
                if let Some((aspect, detail)) = oracle::compare(r, &outcome) {
                    report.verdict = Verdict::Diverge(Divergence {
                        signature: Signature {
                            tier: name,
                            aspect,
                            expected: result_kind(r),
                            actual: result_kind(&outcome),
                        },
                        detail,
                    });
                    break;
                }
            }
        }
    }
    report.reference = reference;
    report
}

/// Whether `source` (a reduction of `p`) still shows divergence `sig` under stress.
pub fn still_diverges(p: &Program, source: &str, sig: &Signature) -> bool {
    let candidate = Program {
        source: source.to_string(),
        ..p.clone()
    };
    matches!(check(&candidate).verdict, Verdict::Diverge(d) if d.signature == *sig)
}
