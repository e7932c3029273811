//! Phase timings for diagnosing slow hooks: with `GIT_TOMBSTONE_TRACE=1`, each phase's
//! elapsed time is reported on stderr through the output layer.

use std::time::Instant;

/// A stopwatch that reports laps when tracing is on.
pub struct Phases {
    on: bool,
    start: Instant,
    last: Instant,
    laps: Vec<(&'static str, f64)>,
}

impl Phases {
    /// Start timing (tracing if `GIT_TOMBSTONE_TRACE=1`).
    pub fn start() -> Phases {
        let now = Instant::now();
        Phases {
            on: std::env::var_os("GIT_TOMBSTONE_TRACE").is_some_and(|v| v == "1"),
            start: now,
            last: now,
            laps: Vec::new(),
        }
    }

    /// End the current phase, naming it.
    pub fn lap(&mut self, name: &'static str) {
        if self.on {
            let now = Instant::now();
            self.laps
                .push((name, (now - self.last).as_secs_f64() * 1000.0));
            self.last = now;
        }
    }

    /// The laps as one line (`None` when tracing is off).
    pub fn report(&self) -> Option<String> {
        self.on.then(|| {
            let parts: Vec<String> = self
                .laps
                .iter()
                .map(|(n, ms)| format!("{n} {ms:.1}ms"))
                .collect();
            format!(
                "trace: {} (total {:.1}ms)",
                parts.join(", "),
                self.start.elapsed().as_secs_f64() * 1000.0
            )
        })
    }
}
