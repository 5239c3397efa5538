//! Progress on stderr: an indicatif bar on a terminal, else a line with the
//! KL every time it is evaluated; nothing with --quiet.

use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;

use sgtsne::util::short_num;
use sgtsne::{Plan, Progress};

/// Above this many vertices the session's setup (ordering, layout) takes
/// long enough to announce before it starts.
const LONG_SETUP_N: usize = 200_000;

/// Shows a session's progress.
pub struct Reporter {
    quiet: bool,
    bar: Option<indicatif::ProgressBar>,
    /// Whether the grid cap's note has been shown.
    capped: std::cell::Cell<bool>,
    /// Whether the note that the near/far split was set aside has been shown.
    crowded: std::cell::Cell<bool>,
    /// Whether the rising-cost warning has been shown.
    rising: std::cell::Cell<bool>,
    /// Whether the note that the exact sum replaced the grid has been shown
    /// (None: the plan never switches).
    exact: Option<std::cell::Cell<bool>>,
    /// Whether the plan splits the kernel where the grid is capped.
    near_split: bool,
    dim: usize,
    n: usize,
}

impl Reporter {
    /// A reporter for a run of `iterations` of `plan`; a bar when stderr
    /// is a terminal.
    pub fn new(quiet: bool, iterations: usize, plan: &Plan) -> Reporter {
        let bar = (!quiet && std::io::stderr().is_terminal() && iterations > 0).then(|| {
            let b = indicatif::ProgressBar::new(iterations as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos:>5}/{len} iterations  KL {msg}  {elapsed_precise} (ETA {eta})",
                )
                .expect("valid template"),
            );
            b
        });
        Reporter {
            quiet,
            bar,
            capped: std::cell::Cell::new(false),
            crowded: std::cell::Cell::new(false),
            rising: std::cell::Cell::new(false),
            exact: plan.exact_when_cheaper.then(|| std::cell::Cell::new(false)),
            near_split: plan.near_split,
            dim: plan.dim,
            n: plan.n,
        }
    }

    /// The banner before the run; `start` says where it starts.
    pub fn start(&self, plan: &Plan, need: sgtsne::memory::Estimate, start: &str) {
        if !self.quiet {
            super::watch::say(&format!(
                "embedding {} vertices in {}D from {start}: {} iterations, {}{}, repulsion {:?}, memory estimate {} (at most {})",
                plan.n,
                plan.dim,
                plan.max_iter,
                schedule(plan),
                if plan.dof == 1.0 {
                    String::new()
                } else {
                    format!(", kernel dof {}", plan.dof)
                },
                plan.repulsion,
                sgtsne::memory::human(need.typical),
                sgtsne::memory::human(need.most)
            ));
            if plan.n >= LONG_SETUP_N {
                let rate = match plan.order {
                    sgtsne::order::VertexOrder::Metis => "0.5 to 1 s",
                    _ => "about 0.05 s",
                };
                super::watch::say(&format!(
                    "building the start, the vertex order ({}) and the block layout ({rate} per million graph entries on two cores)",
                    plan.order
                ));
            }
        }
    }

    /// What building the session found (the spectral start).
    pub fn started(&self, session: &sgtsne::Session) {
        if self.quiet {
            return;
        }
        super::watch::say(&format!(
            "vertex order and block layout built ({:.2} s)",
            session.timings().setup
        ));
        if let Some(s) = session.spectral() {
            let t = session.timings();
            super::watch::say(&format!(
                "spectral start: {} component{}{}, {} Lanczos steps ({:.2} s)",
                s.components,
                if s.components == 1 { "" } else { "s" },
                if s.isolated > 0 {
                    format!(" and {} isolated vertices (placed at random)", s.isolated)
                } else {
                    String::new()
                },
                s.steps,
                t.init
            ));
        }
    }

    /// The session's callback: never stops the run.
    pub fn progress(&self, p: &Progress) -> ControlFlow<()> {
        if self.quiet {
            return ControlFlow::Continue(());
        }
        if let Some(g) = p.grid.filter(|g| g.capped && !self.capped.get()) {
            self.capped.set(true);
            let how = if g.near {
                format!(
                    "; pairs closer than {:.2} are summed exactly and only the smooth rest of the kernel goes on the grid (--no-near-split turns this off)",
                    sgtsne::repulse::Split::for_dim(self.dim).outer() * g.h
                )
            } else {
                ", at some cost in accuracy".to_string()
            };
            self.say(&format!(
                "note: from iteration {} the embedding is wider than the grid's {} nodes per side at the set spacing; the spacing now grows with it (h = {:.2}){how}, bounding time and memory per iteration (--grid-max raises the cap)",
                p.iter,
                g.m - 2,
                g.h
            ));
        }
        if let Some(g) = p
            .grid
            .filter(|g| g.capped && !g.near && self.near_split && !self.crowded.get())
        {
            self.crowded.set(true);
            self.say(&format!(
                "note: at iteration {} the points are too crowded at spacing {:.2} for exact short-range sums (dense clusters, or a few far outliers stretching the grid); the grid takes all pairs while this lasts",
                p.iter, g.h
            ));
        }
        if let Some(shown) = self.exact.as_ref().filter(|s| p.grid.is_none() && !s.get()) {
            shown.set(true);
            self.say(&format!(
                "note: at iteration {} the embedding is spread so wide for its {} points that the exact sum of all pairs is cheaper than the grid; it is used while this lasts",
                p.iter, self.n
            ));
        }
        if let (Some((from, kl0)), Some(kl)) = (p.rising, p.kl) {
            if !self.rising.get() {
                self.rising.set(true);
                self.say(&format!(
                    "warning: the KL has risen since iteration {from} ({kl0:.4} -> {kl:.4}): the optimisation may be diverging; try a smaller --eta or --max-step"
                ));
            }
        }
        if let Some(b) = &self.bar {
            if let Some(kl) = p.kl {
                b.set_message(format!("{kl:.4}"));
            }
            b.set_position(p.iter as u64);
        } else if let Some(kl) = p.kl {
            let _ = writeln!(
                std::io::stderr(),
                "iteration {:>5}: KL {:.4} ({:.2} s)",
                p.iter,
                kl,
                p.seconds
            );
        }
        ControlFlow::Continue(())
    }

    fn say(&self, line: &str) {
        match &self.bar {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// The exaggeration and step of each phase, e.g. "exaggeration 12 (eta
/// 5833) to iteration 250, then 1 (eta 70000)".
pub fn schedule(plan: &Plan) -> String {
    let ph = plan.phases();
    let mut out = String::new();
    for (k, (start, e, eta)) in ph.iter().enumerate() {
        if k > 0 {
            out.push_str(&format!(" to iteration {start}, then "));
        } else {
            out.push_str("exaggeration ");
        }
        out.push_str(&format!("{} (eta {})", short_num(*e), short_num(*eta)));
    }
    out
}

/// Everything `--report` writes.
pub struct Run<'a> {
    pub args: &'a super::args::Args,
    pub plan: &'a Plan,
    pub start: &'a str,
    pub nnz: usize,
    pub knn: Option<(usize, sgtsne::knn::KnnMethod)>,
    pub result: &'a sgtsne::Embedding,
    pub spectral: Option<&'a sgtsne::init::SpectralReport>,
    pub grid: Option<sgtsne::repulse::GridShape>,
    pub prepare: f64,
    pub total: f64,
    pub preservation: Option<sgtsne::quality::Preservation>,
    pub points: bool,
    pub accuracy: Option<f64>,
    /// The approximate neighbour search's recall, estimated on a sample.
    pub recall: Option<f64>,
    /// Seconds per preparation phase.
    pub phases: &'a [(&'static str, f64)],
}

impl Run<'_> {
    /// The report as pretty-printed JSON.
    pub fn json(&self) -> String {
        use serde_json::json;
        let p = self.plan;
        let a = self.args;
        let t = self.result.timings;
        let phases: Vec<_> = p
            .phases()
            .iter()
            .map(|(s, e, eta)| json!({"from_iteration": s, "exaggeration": e, "eta": eta}))
            .collect();
        let mut params = json!({
            "dim": p.dim,
            "max_iter": p.max_iter,
            "early_iter": p.early_iter,
            "alpha": p.alpha,
            "exaggeration": p.exaggeration,
            "late_exaggeration": p.late.map(|l| l.0),
            "late_start": p.late.map(|l| l.1),
            "dof": p.dof,
            "eta": if p.eta_auto { json!("auto") } else { json!(p.eta) },
            "phases": phases,
            "momentum": p.momentum,
            "final_momentum": p.final_momentum,
            "min_gain": p.min_gain,
            "max_step": p.max_step,
            "seed": p.seed,
            "init": self.start,
            "lambda": a.lambda,
            "repulsion": p.repulsion.to_string(),
            "exact_when_cheaper": p.exact_when_cheaper,
            "grid_h": p.grid_h,
            "grid_max": p.grid_max,
            "grid_start": p.grid_start,
            "near_split": p.near_split,
            "order": p.order.to_string(),
            "attraction": p.attraction.to_string(),
            "threads": rayon::current_num_threads(),
        });
        if let Some((k, method)) = self.knn {
            params["perplexity"] = json!(a.points.perplexity);
            params["neighbours"] = json!(k);
            params["knn"] = json!(method.to_string());
            params["pca"] = json!(a.points.pca);
        }
        let other =
            (self.total - self.prepare - t.init - t.setup - t.attraction - t.repulsion).max(0.0);
        let mut quality = json!({});
        if let Some(pr) = self.preservation {
            quality["preservation_10nn"] = json!({
                "value": pr.value,
                "against": if self.points { "10 nearest input neighbours" } else { "10 heaviest edges" },
                "scored": pr.scored,
                "sampled": pr.sampled,
            });
        }
        if let Some(acc) = self.accuracy {
            quality["label_accuracy_10nn"] = json!(acc);
        }
        if let Some(r) = self.recall {
            quality["knn_recall"] = json!({
                "value": r,
                "sampled": sgtsne::knn::RECALL_SAMPLE.min(p.n),
            });
        }
        let mut prepare = serde_json::Map::new();
        for &(name, secs) in self.phases {
            prepare.insert(name.to_string(), json!(secs));
        }
        let r = json!({
            "sgtsne": env!("CARGO_PKG_VERSION"),
            "input": a.input.display().to_string(),
            "input_kind": if self.points { "points" } else { "graph" },
            "n": p.n,
            "nnz": self.nnz,
            "dim": p.dim,
            "parameters": params,
            "iterations": self.result.iterations,
            "kl": self.result.kl,
            "kl_exact": self.result.kl_exact,
            "seconds": {
                "prepare": self.prepare,
                "prepare_phases": prepare,
                "init": t.init,
                "setup": t.setup,
                "attraction": t.attraction,
                "repulsion": t.repulsion,
                "other": other,
                "total": self.total,
            },
            "peak_rss_bytes": sgtsne::memory::peak_rss(),
            "grid": self.grid.map(|g| json!({
                "nodes_per_side": g.m - 2,
                "h": g.h,
                "capped": g.capped,
                "near_split": g.near,
            })),
            "spectral": self.spectral.map(|s| json!({
                "components": s.components,
                "isolated": s.isolated,
                "converged": s.converged,
                "lanczos_steps": s.steps,
            })),
            "quality": quality,
        });
        let mut s = serde_json::to_string_pretty(&r).expect("JSON of plain values");
        s.push('\n');
        s
    }
}
