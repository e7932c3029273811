//! The one place that writes to stdout and stderr.
//!
//! Commands hand data to an [`Output`]; it prints text for people or, with `--json`, one JSON
//! object per line for machines. Errors are rendered here too: as miette diagnostics for
//! people, or as a JSON object on stderr with `--json`.

use std::io::Write;

use serde::Serialize;

/// Where command results go.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// Print JSON (one object per line) instead of text.
    pub json: bool,
    /// Suppress progress and informational notes on stderr.
    pub quiet: bool,
}

impl Output {
    /// A line of text on stdout (text mode only).
    pub fn text(&self, line: &str) {
        if !self.json {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
        }
    }

    /// A line on stdout in both modes (for results whose contract is plain text, like a digest).
    pub fn line(&self, line: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
    }

    /// Text on stdout exactly as given (a rendered report).
    pub fn raw(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
    }

    /// One JSON object on its own line on stdout (JSON mode only).
    pub fn json<T: Serialize>(&self, value: &T) {
        if self.json {
            self.json_always(value);
        }
    }

    /// One JSON object on stdout whatever the mode (for commands whose output is JSON).
    pub fn json_always<T: Serialize>(&self, value: &T) {
        let mut out = std::io::stdout().lock();
        match serde_json::to_string(value) {
            Ok(s) => {
                let _ = writeln!(out, "{s}");
            }
            Err(e) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "git-tombstone: cannot encode output: {e}"
                );
            }
        }
    }

    /// An informational note on stderr (`git-tombstone: …`), unless quiet.
    pub fn note(&self, msg: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr(), "git-tombstone: {msg}");
        }
    }

    /// Progress on stderr, redrawn in place, only when stderr is a terminal (and not quiet).
    /// `total` 0 means not known yet; once given it must not change.
    pub fn progress(&self, what: &str, done: usize, total: usize) {
        use std::io::IsTerminal;
        if self.quiet || !std::io::stderr().is_terminal() {
            return;
        }
        let mut err = std::io::stderr().lock();
        if total == 0 {
            // The total is not known yet (a history walk still counting): no bar, no guess.
            let _ = write!(err, "\rgit-tombstone: {what} {done} (counting…)");
            return;
        }
        let width = 30;
        let filled = (done * width).checked_div(total).unwrap_or(width);
        let _ = write!(
            err,
            "\rgit-tombstone: {what} [{}{}] {done}/{total}",
            "#".repeat(filled),
            " ".repeat(width - filled)
        );
        if done >= total {
            let _ = writeln!(err);
        }
    }

    /// A warning on stderr, even when quiet.
    pub fn warn(&self, msg: &str) {
        let _ = writeln!(std::io::stderr(), "git-tombstone: warning: {msg}");
    }

    /// A table on stdout: columns padded to their widest cell; the last column is not padded.
    pub fn table(&self, header: &[&str], rows: &[Vec<String>]) {
        if self.json {
            return;
        }
        let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
        for row in rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = std::io::stdout().lock();
        let render = |cells: &mut dyn Iterator<Item = &str>| {
            let cells: Vec<&str> = cells.collect();
            let mut line = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
                }
            }
            line
        };
        let _ = writeln!(out, "{}", render(&mut header.iter().copied()));
        for row in rows {
            let _ = writeln!(out, "{}", render(&mut row.iter().map(String::as_str)));
        }
    }

    /// Report an error on stderr.
    pub fn error(&self, err: crate::error::Error) {
        use miette::Diagnostic;
        if self.json {
            let mut causes = Vec::new();
            let mut cause = std::error::Error::source(&err);
            while let Some(c) = cause {
                causes.push(c.to_string());
                cause = c.source();
            }
            /// `--json` errors: one object on stderr.
            #[derive(serde::Serialize)]
            struct Wrapped {
                error: JsonError,
            }
            #[derive(serde::Serialize)]
            struct JsonError {
                code: Option<String>,
                message: String,
                causes: Vec<String>,
                help: Option<String>,
                exit_code: i32,
            }
            let value = Wrapped {
                error: JsonError {
                    code: err.code().map(|c| c.to_string()),
                    message: err.to_string(),
                    causes,
                    help: err.help().map(|h| h.to_string()),
                    exit_code: err.exit_code(),
                },
            };
            let line = serde_json::to_string(&value).unwrap_or_default();
            let _ = writeln!(std::io::stderr(), "{line}");
        } else {
            let _ = writeln!(std::io::stderr(), "{:?}", miette::Report::new(err));
        }
    }

    /// Report a command-line parse error (clap renders it) and return its exit code.
    pub fn clap_error(err: &clap::Error) -> i32 {
        let _ = err.print();
        match err.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
            _ => crate::error::USAGE,
        }
    }
}

/// Human-readable byte count (`5.0 KiB`).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
