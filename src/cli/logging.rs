//! Logs and how progress is shown: `-q`, `-v`, `--log-format` and
//! `RUST_LOG`.
//!
//! Logs go through `tracing` to stderr. The level comes from `RUST_LOG`
//! when it is set, else from `-q` (warnings and errors) and `-v` (debug;
//! `-vv` trace). `--log-format json` writes one JSON object per line for
//! bots. Long work shows a progress bar on a terminal with text logs, and
//! periodic log lines otherwise (CI, bots, JSON logs), none with `-q`.

use std::io::IsTerminal;

use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line (timestamp, level, fields).
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct LoggingArguments {
    /// Only warnings and errors; no progress.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// More detail: -v for debug logs, -vv for trace.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// The format of logs on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// How long work shows its progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProgressStyle {
    /// An indicatif bar on the terminal.
    Bar,
    /// A log line every few seconds.
    Lines,
    /// Nothing (`-q`).
    Hidden,
}

impl LoggingArguments {
    /// The `tracing` filter directives without `RUST_LOG`.
    fn default_directives(&self) -> &'static str {
        match (self.quiet, self.verbose) {
            (true, _) => "fleetmod=warn",
            (false, 0) => "fleetmod=info",
            (false, 1) => "fleetmod=debug",
            (false, _) => "fleetmod=trace",
        }
    }

    /// Installs the global subscriber.
    pub(crate) fn install(&self) {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(self.default_directives()));
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_target(false);
        let _ = match self.log_format {
            LogFormat::Text => builder
                .with_ansi(std::io::stderr().is_terminal())
                .try_init(),
            LogFormat::Json => builder.json().flatten_event(true).try_init(),
        };
    }

    /// Whether logs are JSON lines (summaries go to the log, not stderr text).
    pub(crate) fn json(&self) -> bool {
        self.log_format == LogFormat::Json
    }

    pub(crate) fn progress_style(&self) -> ProgressStyle {
        if self.quiet {
            ProgressStyle::Hidden
        } else if self.log_format == LogFormat::Text && std::io::stderr().is_terminal() {
            ProgressStyle::Bar
        } else {
            ProgressStyle::Lines
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Wrapper {
        #[command(flatten)]
        logging: LoggingArguments,
    }

    #[test]
    fn verbosity_sets_the_default_level() {
        let parse = |arguments: &[&str]| {
            Wrapper::try_parse_from(std::iter::once("fleetmod").chain(arguments.iter().copied()))
                .map(|wrapper| wrapper.logging.default_directives())
        };
        assert_eq!(parse(&[]).unwrap(), "fleetmod=info");
        assert_eq!(parse(&["-q"]).unwrap(), "fleetmod=warn");
        assert_eq!(parse(&["-v"]).unwrap(), "fleetmod=debug");
        assert_eq!(parse(&["-vv"]).unwrap(), "fleetmod=trace");
        assert!(parse(&["-q", "-v"]).is_err());
    }
}
