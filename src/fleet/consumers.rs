//! The repositories a migration changes: the catalog's dependents of the
//! spec's resource, plus explicit `repos:`, minus `exclude:` globs.

use std::collections::BTreeSet;

use super::FleetError;
use crate::catalog::{Catalog, RepoName};
use crate::spec::Spec;

/// One repository to migrate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consumer {
    pub repo: RepoName,
    /// Owners from the catalog (every component of the repository).
    pub owners: Vec<String>,
    /// The owners as reviewers (GitHub teams where the catalog names one).
    pub reviewers: Vec<String>,
}

/// The consumers of a spec, and what was left out and why.
#[derive(Clone, Debug, Default)]
pub struct ConsumerList {
    /// Sorted by repository.
    pub consumers: Vec<Consumer>,
    /// Dependent components without a repository annotation, as
    /// `file:line: component ...` lines.
    pub skipped: Vec<String>,
    /// Repositories an `exclude:` glob dropped.
    pub excluded: Vec<RepoName>,
}

/// Resolves the consumers of `spec`.
pub fn resolve(spec: &Spec) -> Result<ConsumerList, FleetError> {
    let settings = &spec.consumers;
    let catalog = match &settings.catalog {
        Some(path) => Catalog::load(path).map_err(FleetError::Catalog)?,
        None => Catalog::default(),
    };
    let mut found: BTreeSet<RepoName> = BTreeSet::new();
    let mut list = ConsumerList::default();
    if let Some(resource) = &settings.resource {
        for component in catalog.dependents(resource) {
            match &component.repo {
                Some(repo) => {
                    found.insert(repo.clone());
                }
                None => list.skipped.push(format!(
                    "{}:{}: component `{}` depends on {resource} but has no `github.com/project-slug` or `backstage.io/source-location` annotation; skipped",
                    component.path.display(),
                    component.point,
                    component.entity.name
                )),
            }
        }
    }
    found.extend(settings.repos.iter().cloned());
    for repo in found {
        if settings.excludes(&repo) {
            list.excluded.push(repo);
            continue;
        }
        let mut owners: Vec<String> = Vec::new();
        for component in catalog.components_of(&repo) {
            if let Some(owner) = &component.owner
                && !owners.contains(owner)
            {
                owners.push(owner.clone());
            }
        }
        let reviewers = super::reviewers::from_owners(&catalog, &owners);
        list.consumers.push(Consumer {
            repo,
            owners,
            reviewers,
        });
    }
    if list.consumers.is_empty() && list.excluded.is_empty() {
        return Err(FleetError::NoConsumers {
            path: spec.path.clone(),
            point: settings.point,
        });
    }
    Ok(list)
}
