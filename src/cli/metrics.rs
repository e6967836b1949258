//! `fleetmod metrics`: the Prometheus text exposition of one or more
//! migrations, for a node_exporter textfile collector (`--out`, written
//! atomically) or stdout.

use std::path::PathBuf;

use clap::Args;

use super::Failure;
use super::report::write_file;
use super::run::{WorkspaceArguments, set_up};
use super::status::snapshot;
use crate::report::metrics;

#[derive(Debug, Args)]
pub(crate) struct MetricsArguments {
    /// The migration specs (YAML); their workspace is shared.
    #[arg(required = true)]
    specs: Vec<PathBuf>,
    /// Write to this file (through a rename, as the textfile collector
    /// needs) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    workspace: WorkspaceArguments,
}

pub(crate) fn run(arguments: MetricsArguments) -> Result<(), Failure> {
    let snapshots = arguments
        .specs
        .iter()
        .map(|spec| snapshot(&set_up(spec, &arguments.workspace.workspace)?))
        .collect::<Result<Vec<_>, Failure>>()?;
    let text = metrics::render(&snapshots);
    match &arguments.out {
        Some(path) => write_file(path, &text),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}
