//! Consumers from a Backstage software catalog.
//!
//! A catalog is a folder of `catalog-info.yaml` files (any `*.yaml` or
//! `*.yml`, searched recursively) or one multi-document file. Only what
//! fleetmod needs is read, and other keys are left alone, as Backstage
//! allows: every entity's `apiVersion`, `kind` and `metadata.name` (which
//! must be valid), and a Component's `spec.owner`, `spec.dependsOn` and its
//! repository annotation (`github.com/project-slug`, else
//! `backstage.io/source-location`), and a Group's GitHub team
//! (`github.com/team-slug`), which makes it a reviewer. Problems carry the file and line:column
//! and are all reported together.

mod entity_ref;
mod repo;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

pub use self::entity_ref::EntityRef;
pub use self::repo::RepoName;
use crate::rule::Point;
use crate::rule::load::{split_documents, yaml_error};

const SLUG_ANNOTATION: &str = "github.com/project-slug";
const SOURCE_ANNOTATION: &str = "backstage.io/source-location";
const TEAM_ANNOTATION: &str = "github.com/team-slug";

/// A Component of the catalog.
#[derive(Clone, Debug)]
pub struct Component {
    pub entity: EntityRef,
    /// Where the entity is defined.
    pub path: PathBuf,
    pub point: Point,
    /// Its repository, from the annotations; `None` when it has none.
    pub repo: Option<RepoName>,
    /// `spec.owner`, as written.
    pub owner: Option<String>,
    pub depends_on: Vec<EntityRef>,
}

/// The components of a catalog.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub components: Vec<Component>,
    /// Groups with a GitHub team: the group's entity and the team as
    /// `org/slug`.
    pub teams: BTreeMap<EntityRef, String>,
}

/// A catalog entity fleetmod reads.
enum Entity {
    Component(Component),
    Group { entity: EntityRef, team: String },
}

/// A problem in a catalog file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogError {
    pub path: PathBuf,
    pub point: Point,
    pub message: String,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{}:{}: {}",
            self.path.display(),
            self.point,
            self.message
        )
    }
}

/// Every problem found in a catalog.
#[derive(Debug)]
pub struct CatalogErrors(pub Vec<CatalogError>);

impl fmt::Display for CatalogErrors {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::rule::error::write_lines(formatter, &self.0)
    }
}

impl std::error::Error for CatalogErrors {}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntity {
    api_version: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    metadata: Option<Spanned<RawMetadata>>,
    spec: Option<Spanned<RawEntitySpec>>,
}

#[derive(Debug, Deserialize)]
struct RawMetadata {
    name: Option<Spanned<String>>,
    namespace: Option<Spanned<String>>,
    #[serde(default)]
    annotations: BTreeMap<String, Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntitySpec {
    owner: Option<Spanned<String>>,
    depends_on: Option<Vec<Spanned<String>>>,
}

impl Catalog {
    /// Reads a catalog file or folder.
    pub fn load(path: &Path) -> Result<Catalog, CatalogErrors> {
        let mut files = Vec::new();
        let mut errors = Vec::new();
        collect_files(path, &mut files, &mut errors);
        files.sort();
        if files.is_empty() && errors.is_empty() {
            errors.push(CatalogError {
                path: path.to_path_buf(),
                point: Point { line: 1, column: 1 },
                message: "no catalog files (*.yaml, *.yml) here".to_owned(),
            });
        }
        let mut catalog = Catalog::default();
        for file in files {
            match std::fs::read_to_string(&file) {
                Ok(text) => catalog.add_file(&file, &text, &mut errors),
                Err(error) => errors.push(CatalogError {
                    path: file.clone(),
                    point: Point { line: 1, column: 1 },
                    message: format!("failed to read: {error}"),
                }),
            }
        }
        if errors.is_empty() {
            Ok(catalog)
        } else {
            Err(CatalogErrors(errors))
        }
    }

    /// Reads the entities of one file's text, as if read from `path`.
    pub fn from_text(path: &Path, text: &str) -> Result<Catalog, CatalogErrors> {
        let mut catalog = Catalog::default();
        let mut errors = Vec::new();
        catalog.add_file(path, text, &mut errors);
        if errors.is_empty() {
            Ok(catalog)
        } else {
            Err(CatalogErrors(errors))
        }
    }

    /// Adds the entities of one file.
    fn add_file(&mut self, path: &Path, text: &str, errors: &mut Vec<CatalogError>) {
        for document in split_documents(text) {
            let start = first_content_line(&document);
            let mut problem = |point: Point, message: String| {
                errors.push(CatalogError {
                    path: path.to_path_buf(),
                    point,
                    message,
                })
            };
            let raw: RawEntity = match serde_saphyr::from_str(&document) {
                Ok(raw) => raw,
                Err(error) => {
                    let located = yaml_error(&error);
                    problem(located.point, located.message);
                    continue;
                }
            };
            match entity(&raw, start, &mut problem) {
                Some(Entity::Component(component)) => self.components.push(Component {
                    path: path.to_path_buf(),
                    ..component
                }),
                Some(Entity::Group { entity, team }) => {
                    self.teams.insert(entity, team);
                }
                None => {}
            }
        }
    }

    /// The components whose `dependsOn` contains `resource`, sorted by entity.
    pub fn dependents(&self, resource: &EntityRef) -> Vec<&Component> {
        let mut found: Vec<&Component> = self
            .components
            .iter()
            .filter(|component| component.depends_on.contains(resource))
            .collect();
        found.sort_by(|a, b| a.entity.cmp(&b.entity));
        found
    }

    /// The GitHub team (`org/slug`) of an owner reference such as
    /// `group:billing-team`, if the catalog's Group names one. A bare
    /// name is a group, as in Backstage.
    pub fn team_of(&self, owner: &str) -> Option<&str> {
        let entity = EntityRef::parse(owner, Some("group"), "default").ok()?;
        self.teams.get(&entity).map(String::as_str)
    }

    /// The components whose repository is `repo`.
    pub fn components_of(&self, repo: &RepoName) -> impl Iterator<Item = &Component> {
        self.components
            .iter()
            .filter(move |component| component.repo.as_ref() == Some(repo))
    }
}

fn first_content_line(document: &str) -> Point {
    let line = document
        .lines()
        .position(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .unwrap_or(0);
    Point {
        line: line as u64 + 1,
        column: 1,
    }
}

fn at(location: serde_saphyr::Location) -> Point {
    Point::from(location)
}

/// Validates one entity; returns it when it is a Component or a Group
/// with a GitHub team.
fn entity(
    raw: &RawEntity,
    start: Point,
    problem: &mut impl FnMut(Point, String),
) -> Option<Entity> {
    let mut valid = true;
    match &raw.api_version {
        Some(version) if version.value.starts_with("backstage.io/") => {}
        Some(version) => {
            problem(
                at(version.referenced),
                format!(
                    "`apiVersion: {}` is not a Backstage entity (expected backstage.io/v1alpha1)",
                    version.value
                ),
            );
            valid = false;
        }
        None => {
            problem(start, "entity has no `apiVersion`".to_owned());
            valid = false;
        }
    }
    let Some(kind) = &raw.kind else {
        problem(start, "entity has no `kind`".to_owned());
        return None;
    };
    let Some(metadata) = &raw.metadata else {
        problem(start, "entity has no `metadata`".to_owned());
        return None;
    };
    let Some(name) = &metadata.value.name else {
        problem(
            at(metadata.referenced),
            "entity has no `metadata.name`".to_owned(),
        );
        return None;
    };
    let namespace = metadata
        .value
        .namespace
        .as_ref()
        .map_or("default", |namespace| namespace.value.as_str());
    for (value, what) in [
        (Some(name), "name"),
        (metadata.value.namespace.as_ref(), "namespace"),
    ] {
        if let Some(value) = value
            && !entity_ref::is_valid_part(&value.value)
        {
            problem(
                at(value.referenced),
                format!(
                    "`{}` is not a valid entity {what}: use 1 to 63 letters, digits, `-`, `_` or `.`",
                    value.value
                ),
            );
            valid = false;
        }
    }
    if kind.value.eq_ignore_ascii_case("group") && valid {
        let team = metadata.value.annotations.get(TEAM_ANNOTATION)?;
        let slug = team.value.trim();
        let well_formed = slug
            .split_once('/')
            .is_some_and(|(org, name)| !org.is_empty() && !name.is_empty() && !name.contains('/'));
        if !well_formed {
            problem(
                at(team.referenced),
                format!(
                    "group `{}`: `{}` is not a GitHub team: use `org/team-slug`",
                    name.value, team.value
                ),
            );
            return None;
        }
        return Some(Entity::Group {
            entity: EntityRef {
                kind: "group".to_owned(),
                namespace: namespace.to_ascii_lowercase(),
                name: name.value.to_ascii_lowercase(),
            },
            team: slug.to_owned(),
        });
    }
    if !kind.value.eq_ignore_ascii_case("component") || !valid {
        return None;
    }
    let entity = EntityRef {
        kind: "component".to_owned(),
        namespace: namespace.to_ascii_lowercase(),
        name: name.value.to_ascii_lowercase(),
    };
    let spec = raw.spec.as_ref().map(|spec| &spec.value);
    let mut depends_on = Vec::new();
    for reference in spec
        .and_then(|spec| spec.depends_on.as_deref())
        .unwrap_or_default()
    {
        match EntityRef::parse(&reference.value, None, namespace) {
            Ok(parsed) => depends_on.push(parsed),
            Err(message) => {
                problem(
                    at(reference.referenced),
                    format!("component `{}`: dependsOn {message}", name.value),
                );
                valid = false;
            }
        }
    }
    let annotations = &metadata.value.annotations;
    let repo = match (
        annotations.get(SLUG_ANNOTATION),
        annotations.get(SOURCE_ANNOTATION),
    ) {
        (Some(slug), _) => Some((RepoName::parse(&slug.value), slug)),
        (None, Some(source)) => Some((RepoName::from_source_location(&source.value), source)),
        (None, None) => None,
    };
    let repo = match repo {
        Some((Ok(repo), _)) => Some(repo),
        Some((Err(message), annotation)) => {
            problem(
                at(annotation.referenced),
                format!("component `{}`: {message}", name.value),
            );
            valid = false;
            None
        }
        None => None,
    };
    valid.then(|| {
        Entity::Component(Component {
            entity,
            path: PathBuf::new(),
            point: at(name.referenced),
            repo,
            owner: spec
                .and_then(|spec| spec.owner.as_ref())
                .map(|owner| owner.value.trim().to_owned()),
            depends_on,
        })
    })
}

fn collect_files(path: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<CatalogError>) {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) => {
            errors.push(CatalogError {
                path: path.to_path_buf(),
                point: Point { line: 1, column: 1 },
                message: format!("failed to read the catalog: {error}"),
            });
            return;
        }
    };
    if metadata.is_file() {
        files.push(path.to_path_buf());
        return;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(error) => {
            errors.push(CatalogError {
                path: path.to_path_buf(),
                point: Point { line: 1, column: 1 },
                message: format!("failed to read the catalog folder: {error}"),
            });
            return;
        }
    };
    for entry in entries.flatten() {
        let child = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        if child.is_dir() {
            collect_files(&child, files, errors);
        } else if child
            .extension()
            .is_some_and(|extension| extension == "yaml" || extension == "yml")
        {
            files.push(child);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Catalog, Vec<String>> {
        Catalog::from_text(Path::new("catalog.yaml"), text)
            .map_err(|errors| errors.0.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn components_resolve_references_and_repositories() {
        let catalog = load(
            "apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: billing
  namespace: finance
  annotations:
    github.com/project-slug: acme/billing
spec:
  owner: group:finance
  dependsOn: [resource:orders, resource:default/orders]
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata: {name: orders}
spec: {type: table, owner: data}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ledger
  annotations:
    backstage.io/source-location: url:https://github.com/acme/ledger/tree/main/
spec:
  dependsOn: [Resource:orders]
",
        )
        .unwrap();
        assert_eq!(catalog.components.len(), 2);
        let orders = EntityRef::parse("resource:default/orders", None, "default").unwrap();
        let names: Vec<String> = catalog
            .dependents(&orders)
            .iter()
            .map(|component| {
                format!(
                    "{} {} {:?} {}",
                    component.entity,
                    component.repo.as_ref().unwrap(),
                    component.owner,
                    component.point
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                "component:default/ledger acme/ledger None 20:9",
                "component:finance/billing acme/billing Some(\"group:finance\") 4:9",
            ]
        );
    }

    #[test]
    fn invalid_entities_are_located() {
        let errors = load(
            "apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: billing
  annotations:
    github.com/project-slug: acme
spec:
  dependsOn: [orders]
---
kind: Component
metadata: {name: x}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: 'bad name'}
",
        )
        .unwrap_err();
        assert_eq!(
            errors,
            [
                "catalog.yaml:8:15: component `billing`: dependsOn `orders` does not name a kind: spell it out, like `resource:orders`",
                "catalog.yaml:6:30: component `billing`: `acme` is not a repository: use `owner/name` (letters, digits, `-`, `_` and `.`)",
                "catalog.yaml:10:1: entity has no `apiVersion`",
                "catalog.yaml:15:18: `bad name` is not a valid entity name: use 1 to 63 letters, digits, `-`, `_` or `.`",
            ]
        );
    }
}
