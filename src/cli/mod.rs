//! The command line: argument parsing, output and progress bars.
//!
//! This is the only module that prints. Data goes to stdout, diagnostics
//! and progress to stderr. Exit codes are fixed: 0 success, 1 a check
//! failed (for `scan`, a match of a rule with severity `error`; for `run`,
//! a repository failed), 2 bad input or configuration (for example an
//! invalid rule file), 3 held back (for `run`: nothing could be done
//! because of limits, the schedule, a pause or another run).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod diff;
mod forge;
mod logging;
mod metrics;
mod monitor;
mod output;
mod plan;
mod report;
mod rewrite;
mod rollout;
mod run;
mod scan;
mod serve;
mod sources;
mod status;
mod sync;
mod test;
mod tree;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Codemods for dataset migrations across a fleet of repositories.
#[derive(Debug, Parser)]
#[command(name = "fleetmod", version, about, max_term_width = 100)]
pub struct Arguments {
    #[command(subcommand)]
    command: Command,
    /// When to use colours: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    #[command(flatten)]
    logging: logging::LoggingArguments,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Find the nodes that rules match, without changing anything.
    Scan(scan::ScanArguments),
    /// Apply the fixes of rules and a migration spec: print a diff, check, or write the files.
    Rewrite(rewrite::RewriteArguments),
    /// Show what a migration spec derives: rules, renames and review policy.
    Plan(plan::PlanArguments),
    /// Migrate every consumer repository of a spec: clone, rewrite, push and
    /// open pull requests, tracked in the state store.
    Run(run::RunArguments),
    /// Show where each consumer repository of a spec stands: a table with
    /// totals, or a versioned JSON document.
    Status(status::StatusArguments),
    /// Write a migration's HTML report (progress, burndown, owners,
    /// repositories) or its Markdown tracking issue, or publish the issue
    /// on GitHub.
    Report(report::ReportArguments),
    /// Print Prometheus metrics of migrations (text exposition format).
    Metrics(metrics::MetricsArguments),
    /// Serve the report, the status JSON and the metrics of migrations over
    /// HTTP, read from the state store on every request.
    Serve(serve::ServeArguments),
    /// Show or steer a migration's rollout: waves, gate, limits, schedule;
    /// promote, pause or resume.
    Rollout(rollout::RolloutArguments),
    /// Refresh each pull request's state, mergeability, checks and reviews
    /// from the forge into the state store.
    Sync(sync::SyncArguments),
    /// Check a spec's forge access (token, scopes, every repository), or use
    /// the local forge by hand: import repositories, list, show, merge,
    /// close or comment on pull requests.
    Forge(forge::ForgeArguments),
    /// Run rule test cases (valid/invalid snippets) and fix fixtures.
    Test(test::TestArguments),
    /// Print the syntax tree of a file or snippet (node kinds and fields).
    Tree(tree::TreeArguments),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour a stream that is (or is not) a terminal.
    fn enabled(self, is_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                is_terminal
                    && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
                    && std::env::var_os("TERM").is_none_or(|term| term != "dumb")
            }
        }
    }
}

/// A failure with its exit code.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad input or configuration: exit code 2.
    Input(anyhow::Error),
    /// A check found something (the message, if any, is already printed): exit code 1.
    Check,
    /// Held back by limits, the schedule, a pause or another run (the
    /// message, if any, is already printed): exit code 3.
    Held,
    /// Stopped by Ctrl-C (after recording what was done): exit code 130.
    Interrupted,
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Failure::Input(error)
    }
}

/// Runs the command line with the process arguments.
pub fn main() -> ExitCode {
    run_with_args(std::env::args_os())
}

/// Runs the command line with the given arguments (the first is the program name).
pub fn run_with_args<I, T>(arguments: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let arguments = match Arguments::try_parse_from(arguments) {
        Ok(arguments) => arguments,
        Err(error) => {
            let code = if error.use_stderr() { 2 } else { 0 };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    arguments.logging.install();
    let stdout_colors = arguments.color.enabled(std::io::stdout().is_terminal());
    let stderr_colors = arguments.color.enabled(std::io::stderr().is_terminal());
    let result = match arguments.command {
        Command::Scan(scan) => scan::run(scan, stdout_colors, stderr_colors),
        Command::Rewrite(rewrite) => rewrite::run(rewrite, stdout_colors, stderr_colors),
        Command::Plan(plan) => plan::run(plan),
        Command::Run(run) => run::run(run, &arguments.logging),
        Command::Status(status) => status::run(status),
        Command::Report(report) => report::run(report),
        Command::Metrics(metrics) => metrics::run(metrics),
        Command::Serve(serve) => serve::run(serve),
        Command::Rollout(rollout) => rollout::run(rollout),
        Command::Sync(sync) => sync::run(sync),
        Command::Forge(forge) => forge::run(forge),
        Command::Test(test) => test::run(test, stdout_colors),
        Command::Tree(tree) => tree::run(tree),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Check) => ExitCode::from(1),
        Err(Failure::Held) => ExitCode::from(3),
        Err(Failure::Interrupted) => ExitCode::from(130),
        Err(Failure::Input(error)) => {
            if is_broken_pipe(&error) {
                return ExitCode::SUCCESS;
            }
            output::print_error(&error, stderr_colors);
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
