//! The repositories a migration changes: the catalog's dependents of the
//! spec's resource, plus explicit `repos:`, minus `exclude:` globs.

use std::collections::BTreeMap;

use super::FleetError;
use crate::catalog::{Catalog, RepoName};
use crate::spec::Spec;

/// One repository to migrate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consumer {
    pub repo: RepoName,
    /// Owners from the catalog (every component of the repository).
    pub owners: Vec<String>,
    /// The catalog components that live in it (`kind:namespace/name`).
    pub components: Vec<String>,
    /// Listed in `repos:` (rather than, or besides, found in the catalog).
    pub explicit: bool,
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
    let mut found: BTreeMap<RepoName, Consumer> = BTreeMap::new();
    let mut list = ConsumerList::default();
    fn add<'a>(found: &'a mut BTreeMap<RepoName, Consumer>, repo: &RepoName) -> &'a mut Consumer {
        found.entry(repo.clone()).or_insert_with(|| Consumer {
            repo: repo.clone(),
            owners: Vec::new(),
            components: Vec::new(),
            explicit: false,
        })
    }
    if let Some(resource) = &settings.resource {
        for component in catalog.dependents(resource) {
            match &component.repo {
                Some(repo) => {
                    add(&mut found, repo);
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
    for repo in &settings.repos {
        add(&mut found, repo).explicit = true;
    }
    for consumer in found.values_mut() {
        for component in catalog.components_of(&consumer.repo) {
            consumer.components.push(component.entity.to_string());
            if let Some(owner) = &component.owner
                && !consumer.owners.contains(owner)
            {
                consumer.owners.push(owner.clone());
            }
        }
    }
    for (repo, consumer) in found {
        if settings.excludes(&repo) {
            list.excluded.push(repo);
        } else {
            list.consumers.push(consumer);
        }
    }
    if list.consumers.is_empty() && list.excluded.is_empty() {
        return Err(FleetError::NoConsumers {
            path: spec.path.clone(),
            point: settings.point,
        });
    }
    Ok(list)
}
