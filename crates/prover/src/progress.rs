//! Progress on long work (key generation, proving): a spinner with the stage and the elapsed
//! time on an interactive terminal, and a `tracing` event per finished stage everywhere (so CI
//! logs and the node's structured logs get the same figures without terminal noise).
//!
//! Groth16's setup and proving are opaque to callers once started, so progress is reported per
//! stage (synthesis, satisfiability check, key generation or QAP + MSMs, serialisation) rather
//! than as a fake percentage.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// One long task (e.g. "prove block-dev-4c-3n"), reported stage by stage.
pub struct Task {
    name: String,
    bar: ProgressBar,
    started: Instant,
    stage: Option<(String, Instant)>,
}

impl Task {
    /// Starts reporting `name`; the spinner only draws when stderr is a terminal.
    pub fn start(name: impl Into<String>) -> Self {
        let name = name.into();
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix}: {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(name.clone());
        bar.enable_steady_tick(Duration::from_millis(200));
        Self { name, bar, started: Instant::now(), stage: None }
    }

    /// Ends the current stage (logging its duration) and begins `stage`.
    pub fn stage(&mut self, stage: &str) {
        self.finish_stage();
        self.bar.set_message(stage.to_string());
        self.stage = Some((stage.to_string(), Instant::now()));
    }

    fn finish_stage(&mut self) {
        if let Some((stage, at)) = self.stage.take() {
            tracing::info!(task = %self.name, stage = %stage, secs = at.elapsed().as_secs_f64(), "stage done");
        }
    }

    /// Ends the task with a one-line summary.
    pub fn finish(mut self, summary: &str) {
        self.finish_stage();
        let secs = self.started.elapsed().as_secs_f64();
        self.bar.finish_and_clear();
        tracing::info!(task = %self.name, secs, "{summary}");
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        // A task abandoned by an error must not leave a spinner ticking on the terminal.
        if !self.bar.is_finished() {
            self.bar.finish_and_clear();
        }
    }
}
