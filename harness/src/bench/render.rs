//! Writes a suite run as a report folder: `report.json`, a Markdown summary for CI logs and
//! `report.html` with plots drawn as inline SVG (no scripts, no network).

use std::fmt::Write as _;
use std::path::Path;

use super::{Bench, BenchReport, TIERS, geomean};

/// Speedup bands promised per category (low, high), drawn behind the speedup bars.
const BANDS: &[(&str, f64, f64)] = &[
    ("arithmetic", 10.0, 20.0),
    ("method calls", 50.0, 100.0),
    ("property access", 20.0, 50.0),
    ("strings", 5.0, 10.0),
];

/// Writes `report.json`, `summary.md` and `report.html` into `dir`, with the trend over
/// `history` (earlier reports, oldest first) in the HTML.
pub fn write(dir: &Path, report: &BenchReport, history: &[BenchReport]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("report.json"), json + "\n")?;
    std::fs::write(dir.join("summary.md"), markdown(report))?;
    std::fs::write(dir.join("report.html"), html(report, history))?;
    Ok(())
}

/// The Markdown summary: one table of benchmarks, one of targets.
pub fn markdown(r: &BenchReport) -> String {
    let mut s = format!(
        "## Echo benchmark report\n\ncommit `{}`, {}, {} ({} cores), {} timed runs per tier, {:.0} s\n\n",
        r.commit, r.created, r.machine.cpu, r.machine.cores, r.runs, r.seconds
    );
    let refs = reference_names(r);
    s += "| benchmark | category | interp ms | jit ms | tiered ms | jit x | tiered x | compile ms | checksum |";
    for n in &refs {
        let _ = write!(s, " {n} ms |");
    }
    s += "\n|---|---|---|---|---|---|---|---|---|";
    s += &"---|".repeat(refs.len());
    s.push('\n');
    for b in &r.benchmarks {
        let _ = write!(
            s,
            "| {} | {} |",
            timing_cells(b).join(" | "),
            if b.checksum_ok { "ok" } else { "WRONG" }
        );
        for n in &refs {
            let cell = b
                .references
                .iter()
                .find(|x| &x.runtime == n)
                .map_or("-".to_string(), |x| {
                    format!(
                        "{:.1}{}",
                        x.median_ms,
                        if x.output_ok { "" } else { " (wrong output)" }
                    )
                });
            let _ = write!(s, " {cell} |");
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "| **geomean** | | | | | **{:.2}** | **{:.2}** | | |{}",
        r.geomean_jit(),
        r.geomean_tiered(),
        " |".repeat(refs.len())
    );
    s += "\n| target | goal | measured | |\n|---|---|---|---|\n";
    for t in &r.targets {
        let _ = writeln!(
            s,
            "| {}{} | {} | {} | {} |",
            t.name,
            if t.hard { " (hard)" } else { "" },
            t.goal,
            t.measured,
            if t.met { "met" } else { "**missed**" }
        );
    }
    s
}

fn reference_names(r: &BenchReport) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for b in &r.benchmarks {
        for x in &b.references {
            if !names.contains(&x.runtime) {
                names.push(x.runtime.clone());
            }
        }
    }
    names
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Position of `v` on a log axis from `lo` to `hi` mapped to `0..width`.
fn log_x(v: f64, lo: f64, hi: f64, width: f64) -> f64 {
    let v = v.clamp(lo, hi);
    (v.ln() - lo.ln()) / (hi.ln() - lo.ln()) * width
}

/// Powers of ten (and their 2x, 5x) between `lo` and `hi`, for axis ticks.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut t = Vec::new();
    let mut p = 10f64.powi(lo.log10().floor() as i32);
    while p <= hi * 1.0001 {
        for m in [1.0, 2.0, 5.0] {
            let v = p * m;
            if v >= lo * 0.9999 && v <= hi * 1.0001 {
                t.push(v);
            }
        }
        p *= 10.0;
    }
    t
}

fn fmt_tick(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

const LABEL_W: f64 = 190.0;
const PLOT_W: f64 = 560.0;
const ROW_H: f64 = 22.0;
const COLORS: [&str; 3] = ["#9e9e9e", "#1f77b4", "#ff7f0e"];

/// One group of bars: a label, one value per series, and a range to shade behind it.
struct BarRow {
    label: String,
    values: Vec<f64>,
    band: Option<(f64, f64)>,
}

/// Horizontal bars on a log axis: one group per row, one bar per series, with the row's
/// band shaded behind it.
fn bar_chart(title: &str, unit: &str, rows: &[BarRow], series: &[&str], marks: &[f64]) -> String {
    let values = rows.iter().flat_map(|r| r.values.iter().copied());
    let (mut lo, mut hi) = values.fold((f64::MAX, 0f64), |(l, h), v| {
        if v > 0.0 {
            (l.min(v), h.max(v))
        } else {
            (l, h)
        }
    });
    for r in rows {
        if let Some((a, z)) = r.band {
            lo = lo.min(a);
            hi = hi.max(z);
        }
    }
    for m in marks {
        lo = lo.min(*m);
        hi = hi.max(*m);
    }
    if hi <= 0.0 || lo == f64::MAX {
        return String::new();
    }
    lo = 10f64.powf((lo * 0.8).log10().floor());
    hi = 10f64.powf((hi * 1.2).log10().ceil());
    let group_h = ROW_H * series.len() as f64 + 8.0;
    let height = 40.0 + group_h * rows.len() as f64 + 40.0;
    let width = LABEL_W + PLOT_W + 80.0;
    let mut s = format!(
        "<h2>{}</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n",
        esc(title)
    );
    let y0 = 30.0;
    for (k, name) in series.iter().enumerate() {
        let x = LABEL_W + k as f64 * 110.0;
        let _ = writeln!(
            s,
            "<rect x=\"{x}\" y=\"4\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"15\">{}</text>",
            COLORS[k % COLORS.len()],
            x + 16.0,
            esc(name)
        );
    }
    for (
        i,
        BarRow {
            label,
            values: vals,
            band,
        },
    ) in rows.iter().enumerate()
    {
        let gy = y0 + i as f64 * group_h;
        if let Some((a, z)) = band {
            let xa = LABEL_W + log_x(*a, lo, hi, PLOT_W);
            let xz = LABEL_W + log_x(*z, lo, hi, PLOT_W);
            let _ = writeln!(
                s,
                "<rect x=\"{xa:.1}\" y=\"{gy:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#c8e6c9\"><title>target {a}-{z}{unit}</title></rect>",
                xz - xa,
                group_h - 4.0
            );
        }
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LABEL_W - 6.0,
            gy + group_h / 2.0,
            esc(label)
        );
        for (k, v) in vals.iter().enumerate() {
            let y = gy + k as f64 * ROW_H;
            let w = log_x(*v, lo, hi, PLOT_W);
            let _ = writeln!(
                s,
                "<rect x=\"{LABEL_W}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}: {v:.2}{unit}</title></rect><text x=\"{:.1}\" y=\"{:.1}\">{v:.2}{unit}</text>",
                ROW_H - 4.0,
                COLORS[k % COLORS.len()],
                esc(series.get(k).unwrap_or(&"")),
                LABEL_W + w + 4.0,
                y + ROW_H - 8.0
            );
        }
    }
    let axis_y = y0 + group_h * rows.len() as f64 + 4.0;
    for t in log_ticks(lo, hi) {
        let x = LABEL_W + log_x(t, lo, hi, PLOT_W);
        let _ = writeln!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{y0}\" x2=\"{x:.1}\" y2=\"{axis_y:.1}\" stroke=\"#ddd\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}{unit}</text>",
            axis_y + 14.0,
            fmt_tick(t)
        );
    }
    for m in marks {
        let x = LABEL_W + log_x(*m, lo, hi, PLOT_W);
        let _ = writeln!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{y0}\" x2=\"{x:.1}\" y2=\"{axis_y:.1}\" stroke=\"#c62828\" stroke-dasharray=\"4 3\"/>"
        );
    }
    s += "</svg>\n";
    s
}

/// Histogram of per-function compile times on log-spaced bins.
fn compile_histogram(r: &BenchReport) -> String {
    let times: Vec<f64> = r.compiled.iter().map(|f| f.compile_ms).collect();
    if times.is_empty() {
        return String::new();
    }
    // Bins from 1-2-5 steps; bins at or past the 10 ms target are drawn red.
    let edges = [
        0.0, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0,
    ];
    let mut counts = vec![0usize; edges.len()];
    for t in &times {
        let k = edges.iter().rposition(|e| t >= e).unwrap_or(0);
        counts[k] += 1;
    }
    let max = *counts.iter().max().unwrap_or(&1) as f64;
    let (w, h, bw) = (760.0, 220.0, 56.0);
    let mut s = format!(
        "<h2>Compile time per function (JIT tier, {} functions)</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"11\">\n",
        times.len()
    );
    for (k, c) in counts.iter().enumerate() {
        let bh = *c as f64 / max * (h - 60.0);
        let x = 20.0 + k as f64 * bw;
        let over = edges[k] >= 10.0;
        let _ = writeln!(
            s,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{c}</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">&#8805;{}ms</text>",
            h - 30.0 - bh,
            bw - 4.0,
            if over { "#c62828" } else { "#1f77b4" },
            x + bw / 2.0,
            h - 34.0 - bh,
            x + bw / 2.0,
            h - 14.0,
            fmt_tick(edges[k])
        );
    }
    s += "</svg>\n";
    s
}

/// One report on the trend plot.
struct Point<'a> {
    created: &'a str,
    commit: &'a str,
    /// Geomean speedups: JIT tier, tiered.
    speedups: [f64; 2],
}

/// Geomean speedups of earlier reports and this one, oldest first.
fn trend(r: &BenchReport, history: &[BenchReport]) -> String {
    let points: Vec<Point<'_>> = history
        .iter()
        .chain(std::iter::once(r))
        .map(|h| Point {
            created: &h.created,
            commit: &h.commit,
            speedups: [h.geomean_jit(), h.geomean_tiered()],
        })
        .collect();
    let (w, h) = (760.0, 240.0);
    let max = points.iter().flat_map(|p| p.speedups).fold(1.0, f64::max) * 1.2;
    let n = points.len();
    let x = |i: usize| {
        50.0 + if n > 1 {
            i as f64 / (n - 1) as f64 * (w - 80.0)
        } else {
            0.0
        }
    };
    let y = |v: f64| h - 30.0 - v / max * (h - 50.0);
    let mut s = format!(
        "<h2>Trend: geometric-mean speedup over {n} report(s)</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"11\">\n"
    );
    for (k, series) in ["jit", "tiered"].iter().enumerate() {
        let color = COLORS[k + 1];
        let pts: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.speedups[k])))
            .collect();
        let _ = writeln!(
            s,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/><text x=\"{}\" y=\"14\" fill=\"{color}\">{series}</text>",
            pts.join(" "),
            60 + k * 120,
        );
        for (i, p) in points.iter().enumerate() {
            if k == 0 {
                let _ = writeln!(
                    s,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                    x(i),
                    h - 12.0,
                    esc(p.commit)
                );
            }
            let _ = writeln!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"><title>{} {}: {:.2}x</title></circle>",
                x(i),
                y(p.speedups[k]),
                esc(p.created),
                esc(p.commit),
                p.speedups[k]
            );
        }
    }
    for v in log_ticks(1.0, max).into_iter().filter(|v| *v <= max) {
        let _ = writeln!(
            s,
            "<line x1=\"45\" y1=\"{0:.1}\" x2=\"{1}\" y2=\"{0:.1}\" stroke=\"#eee\"/><text x=\"40\" y=\"{0:.1}\" text-anchor=\"end\">{2}x</text>",
            y(v),
            w - 20.0,
            fmt_tick(v)
        );
    }
    s += "</svg>\n";
    s
}

/// The HTML report.
pub fn html(r: &BenchReport, history: &[BenchReport]) -> String {
    let mut s = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Echo benchmark report</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.missed{color:#c62828;font-weight:bold}.met{color:#2e7d32}</style>\n</head><body>\n",
    );
    let _ = writeln!(
        s,
        "<h1>Echo benchmark report</h1>\n<p>commit <code>{}</code>, {}, {} ({} cores, {}), {} timed runs per tier, {:.0} s.</p>",
        esc(&r.commit),
        esc(&r.created),
        esc(&r.machine.cpu),
        r.machine.cores,
        esc(&r.machine.os),
        r.runs,
        r.seconds
    );
    s += "<h2>Targets</h2>\n<table><tr><th>target</th><th>goal</th><th>measured</th><th></th></tr>\n";
    for t in &r.targets {
        let _ = writeln!(
            s,
            "<tr><td>{}{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
            esc(&t.name),
            if t.hard { " (hard)" } else { "" },
            esc(&t.goal),
            esc(&t.measured),
            if t.met { "met" } else { "missed" },
            if t.met { "met" } else { "missed" }
        );
    }
    s += "</table>\n";
    let speed_rows: Vec<BarRow> = r
        .benchmarks
        .iter()
        .map(|b| {
            let band = BANDS
                .iter()
                .find(|(c, _, _)| *c == b.category)
                .map(|(_, lo, hi)| (*lo, *hi));
            BarRow {
                label: b.name.clone(),
                values: vec![b.speedup_jit, b.speedup_tiered],
                band,
            }
        })
        .collect();
    s += &bar_chart(
        "Speedup over the interpreter (shaded: the category's target band; dashed: 1x and the overall 5x)",
        "x",
        &speed_rows,
        &["jit", "tiered"],
        &[1.0, 5.0],
    );
    let time_rows: Vec<BarRow> = r
        .benchmarks
        .iter()
        .map(|b| BarRow {
            label: b.name.clone(),
            values: b.tiers.iter().map(|t| t.median_ms).collect(),
            band: None,
        })
        .collect();
    let names: Vec<&str> = TIERS.iter().map(|t| t.name()).collect();
    s += &bar_chart("Time per tier (median, ms)", " ms", &time_rows, &names, &[]);
    s += &compile_histogram(r);
    s += &trend(r, history);
    s += "<h2>Figures</h2>\n";
    s += &markdown_table_as_html(r);
    let mut worst: Vec<&super::CompiledFunction> = r.compiled.iter().collect();
    worst.sort_by(|a, b| b.compile_ms.total_cmp(&a.compile_ms));
    s += "<h2>Slowest compilations</h2>\n<table><tr><th>benchmark</th><th>function</th><th>ops</th><th>compile ms</th><th>code bytes</th></tr>\n";
    for f in worst.iter().take(10) {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{}</td></tr>",
            esc(&f.bench),
            esc(&f.function),
            f.ops,
            f.compile_ms,
            f.code_bytes
        );
    }
    s += "</table>\n</body></html>\n";
    s
}

/// The cells both tables start with: name, category, each tier's median time with its
/// spread, the speedups, and the jit tier's compile time.
fn timing_cells(b: &Bench) -> Vec<String> {
    let t = |i: usize| {
        b.tiers.get(i).map_or("-".to_string(), |t| {
            format!("{:.1} ±{:.0}%", t.median_ms, t.spread * 100.0)
        })
    };
    vec![
        b.name.clone(),
        b.category.clone(),
        t(0),
        t(1),
        t(2),
        format!("{:.2}", b.speedup_jit),
        format!("{:.2}", b.speedup_tiered),
        format!("{:.1}", b.tiers.get(1).map_or(0.0, |t| t.compile_ms)),
    ]
}

fn markdown_table_as_html(r: &BenchReport) -> String {
    let mut s = String::from(
        "<table><tr><th>benchmark</th><th>category</th><th>interp ms</th><th>jit ms</th><th>tiered ms</th><th>jit x</th><th>tiered x</th><th>compile ms (jit)</th><th>side exits (tiered)</th><th>OSR entries (tiered)</th><th>tiered run: interpreted / compiling / compiled ms (hottest compiled function)</th><th>peak heap</th><th>checksum</th><th>references (ms)</th></tr>\n",
    );
    for b in &r.benchmarks {
        let cells: String = timing_cells(b)
            .iter()
            .map(|c| format!("<td>{}</td>", esc(c)))
            .collect();
        let tiered = b.tiers.get(2);
        let refs: Vec<String> = b
            .references
            .iter()
            .map(|x| {
                format!(
                    "{} {:.1}{}",
                    esc(&x.runtime),
                    x.median_ms,
                    if x.output_ok { "" } else { " (wrong output)" }
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "<tr>{cells}<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
            tiered.map_or(0, |t| t.side_exits),
            tiered.map_or(0, |t| t.osr_entries),
            tiered.map_or(String::new(), |t| format!(
                "{:.1} / {:.1} / {:.1}{}",
                t.split_ms.interpreted,
                t.split_ms.compiling,
                t.split_ms.compiled,
                t.hottest
                    .as_deref()
                    .map_or(String::new(), |h| format!(" ({})", esc(h)))
            )),
            b.tiers.first().map_or(0, |t| t.peak_heap_bytes),
            if b.checksum_ok { "met" } else { "missed" },
            if b.checksum_ok {
                "ok".to_string()
            } else {
                esc(b.checksum_error.as_deref().unwrap_or("wrong"))
            },
            refs.join(", ")
        );
    }
    let _ = writeln!(
        s,
        "<tr><td><b>geomean</b></td><td></td><td></td><td></td><td></td><td><b>{:.2}</b></td><td><b>{:.2}</b></td><td colspan=\"7\"></td></tr>\n</table>",
        geomean(r.benchmarks.iter().map(|b| b.speedup_jit)),
        geomean(r.benchmarks.iter().map(|b| b.speedup_tiered))
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axis_maps_ends_and_clamps() {
        assert_eq!(log_x(1.0, 1.0, 100.0, 200.0), 0.0);
        assert!((log_x(10.0, 1.0, 100.0, 200.0) - 100.0).abs() < 1e-9);
        assert_eq!(log_x(1000.0, 1.0, 100.0, 200.0), 200.0);
    }

    #[test]
    fn ticks_cover_the_range() {
        assert_eq!(log_ticks(1.0, 10.0), vec![1.0, 2.0, 5.0, 10.0]);
    }

    #[test]
    fn html_escapes_names() {
        assert_eq!(esc("<a&\"b\">"), "&lt;a&amp;&quot;b&quot;&gt;");
    }
}
