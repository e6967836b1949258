//! `fleetmod sync`: refresh each pull request's state, mergeability,
//! checks and reviews from the forge into the state store (every `run`
//! starts with the same).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use clap::Args;

use super::Failure;
use super::output::ProgressBar;
use super::run::{WorkspaceArguments, open_forge, set_up, with_fleet};
use crate::catalog::RepoName;
use crate::fleet::sync::{self, Synced};
use crate::store::{Lease, LeaseError, StateStore};

/// Takes the migration's lease; another run holding it is exit code 3.
pub(crate) fn lease(store: &dyn StateStore, migration: &str) -> Result<Lease, Failure> {
    store.lease(migration).map_err(|error| match error {
        LeaseError::Held { .. } => {
            eprintln!("{error}");
            Failure::Held
        }
        LeaseError::Store(error) => Failure::Input(error.into()),
    })
}

#[derive(Debug, Args)]
pub(crate) struct SyncArguments {
    /// The migration spec (YAML).
    spec: PathBuf,
    /// Only this repository (`owner/name`); repeatable.
    #[arg(long, value_name = "REPO", value_parser = RepoName::parse)]
    only: Vec<RepoName>,
    #[command(flatten)]
    workspace: WorkspaceArguments,
}

pub(crate) fn run(arguments: SyncArguments) -> Result<(), Failure> {
    let setup = set_up(&arguments.spec, &arguments.workspace.workspace)?;
    let forge = open_forge(&setup)?;
    let results = with_fleet(&setup, forge.as_ref(), |fleet, store| {
        let _lease = lease(store, &fleet.spec.id)?;
        let progress = ProgressBar::with_unit("syncing", "pull requests");
        sync::sync(
            fleet,
            store,
            &arguments.only,
            &progress,
            &AtomicBool::new(false),
        )
        .map_err(|error| Failure::Input(error.into()))
    })?;
    let (mut updated, mut failed) = (0, 0);
    for (repo, synced) in &results {
        match synced {
            Synced::Unchanged => println!("{repo}  unchanged"),
            Synced::Updated(detail) => {
                updated += 1;
                println!("{repo}  {detail}");
            }
            Synced::Failed(error) => {
                failed += 1;
                println!("{repo}  failed: {error}");
            }
        }
    }
    eprintln!(
        "{} pull requests: {updated} updated, {} unchanged, {failed} failed",
        results.len(),
        results.len() - updated - failed
    );
    if failed > 0 {
        return Err(Failure::Check);
    }
    Ok(())
}
