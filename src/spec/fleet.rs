//! The fleet sections of a spec: `consumers`, `pull_request` and `commit`,
//! validated with defaults filled in (`forge` has its own module).

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde_saphyr::Spanned;

use super::raw::{RawCommit, RawConsumers, RawPullRequest};
use super::template::Template;
use super::{Problems, at};
use crate::catalog::{EntityRef, RepoName};
use crate::rule::Point;
use crate::rule::error::point_in_scalar;

/// Which repositories the migration changes.
#[derive(Clone, Debug, Default)]
pub struct Consumers {
    /// A Backstage catalog file or folder (relative paths are relative to
    /// the spec).
    pub catalog: Option<PathBuf>,
    /// Components whose `dependsOn` holds this resource are consumers.
    pub resource: Option<EntityRef>,
    /// Explicit extra repositories.
    pub repos: Vec<RepoName>,
    /// Globs over `owner/name` that drop repositories.
    pub exclude: Vec<String>,
    exclude_set: GlobSet,
    /// Where the section is, for errors found later (such as no consumers).
    pub point: Point,
}

impl Consumers {
    /// Whether an `exclude:` glob drops `repo`.
    pub fn excludes(&self, repo: &RepoName) -> bool {
        self.exclude_set.is_match(repo.to_string())
    }
}

/// The `pull_request:` section.
#[derive(Clone, Debug)]
pub struct PullRequestSettings {
    pub branch: String,
    pub title: Template,
    pub body: Template,
    pub labels: Vec<String>,
    pub draft: bool,
}

/// The `commit:` section.
#[derive(Clone, Debug)]
pub struct CommitSettings {
    pub message: Template,
    pub author_name: String,
    pub author_email: String,
}

/// The default pull request body.
pub const DEFAULT_BODY: &str = "{{description}}

### Changes in {{repo}}

{{changes}}

### Needs review

{{review_items}}

### Rules applied

{{rules}}

---
Opened by fleetmod for migration `{{id}}` ({{from}} → {{to}}). Owners: {{owners}}.
";

pub(super) fn consumers(
    raw: Option<&Spanned<RawConsumers>>,
    spec_path: &Path,
    problems: &mut Problems<'_>,
) -> Consumers {
    let Some(raw) = raw else {
        return Consumers::default();
    };
    let point = at(raw.referenced);
    let section = &raw.value;
    let folder = spec_path.parent().unwrap_or(Path::new(""));
    let catalog = section.catalog.as_ref().and_then(|catalog| {
        let path = folder.join(&catalog.value);
        if path.exists() {
            Some(path)
        } else {
            problems.add(
                at(catalog.referenced),
                format!("catalog `{}` does not exist", path.display()),
            );
            None
        }
    });
    let resource = section.resource.as_ref().and_then(|resource| {
        EntityRef::parse(&resource.value, Some("resource"), "default")
            .map_err(|message| problems.add(at(resource.referenced), message))
            .ok()
    });
    match (&section.catalog, &section.resource) {
        (Some(catalog), None) => problems.add(
            at(catalog.referenced),
            "`catalog` needs `resource`: the entity whose dependents are the consumers",
        ),
        (None, Some(resource)) => problems.add(
            at(resource.referenced),
            "`resource` needs `catalog`: the Backstage catalog to search",
        ),
        _ => {}
    }
    let mut repos = Vec::new();
    for repo in section.repos.as_deref().unwrap_or_default() {
        match RepoName::parse(&repo.value) {
            Ok(name) if repos.contains(&name) => {
                problems.add(at(repo.referenced), format!("`{name}` is listed twice"))
            }
            Ok(name) => repos.push(name),
            Err(message) => problems.add(at(repo.referenced), message),
        }
    }
    let mut exclude = Vec::new();
    let mut builder = GlobSetBuilder::new();
    for glob in section.exclude.as_deref().unwrap_or_default() {
        match GlobBuilder::new(&glob.value)
            .literal_separator(true)
            .build()
        {
            Ok(compiled) => {
                builder.add(compiled);
                exclude.push(glob.value.clone());
            }
            Err(error) => problems.add(
                at(glob.referenced),
                format!("`{}` is not a glob: {}", glob.value, error.kind()),
            ),
        }
    }
    Consumers {
        catalog,
        resource,
        repos,
        exclude,
        exclude_set: builder.build().unwrap_or_else(|_| GlobSet::empty()),
        point,
    }
}

/// A template from an optional spec value, else from `default`.
fn template(
    value: Option<&Spanned<String>>,
    default: &str,
    source: &str,
    problems: &mut Problems<'_>,
) -> Template {
    let Some(value) = value else {
        return Template::parse(default).expect("the default templates are valid");
    };
    Template::parse(&value.value).unwrap_or_else(|error| {
        let point = point_in_scalar(source, value.referenced, &value.value, error.offset);
        problems.add(point, error.message);
        Template::parse(default).expect("the default templates are valid")
    })
}

pub(super) fn pull_request(
    raw: Option<&Spanned<RawPullRequest>>,
    id: &str,
    source: &str,
    problems: &mut Problems<'_>,
) -> PullRequestSettings {
    let raw = raw.map(|raw| &raw.value);
    let branch = match raw.and_then(|raw| raw.branch.as_ref()) {
        Some(branch) => {
            let valid = git2::Reference::is_valid_name(&format!("refs/heads/{}", branch.value));
            if !valid {
                problems.add(
                    at(branch.referenced),
                    format!("`{}` is not a valid branch name", branch.value),
                );
            }
            branch.value.clone()
        }
        None => format!("fleetmod/{id}"),
    };
    let mut labels: Vec<String> = Vec::new();
    for label in raw
        .and_then(|raw| raw.labels.as_deref())
        .unwrap_or_default()
    {
        if label.value.trim().is_empty() {
            problems.add(at(label.referenced), "a label cannot be empty");
        } else if !labels.contains(&label.value) {
            labels.push(label.value.clone());
        }
    }
    PullRequestSettings {
        branch,
        title: template(
            raw.and_then(|raw| raw.title.as_ref()),
            "{{title}}",
            source,
            problems,
        ),
        body: template(
            raw.and_then(|raw| raw.body.as_ref()),
            DEFAULT_BODY,
            source,
            problems,
        ),
        labels,
        draft: raw.and_then(|raw| raw.draft).unwrap_or(false),
    }
}

pub(super) fn commit(
    raw: Option<&Spanned<RawCommit>>,
    source: &str,
    problems: &mut Problems<'_>,
) -> CommitSettings {
    let raw = raw.map(|raw| &raw.value);
    let author = raw.and_then(|raw| raw.author.as_ref());
    let mut field = |value: Option<&Spanned<String>>, default: &str, what: &str| match value {
        Some(value) if value.value.trim().is_empty() || value.value.contains(['<', '>', '\n']) => {
            problems.add(
                at(value.referenced),
                format!("the commit author's {what} must be one line without `<` or `>`"),
            );
            default.to_owned()
        }
        Some(value) => value.value.trim().to_owned(),
        None => default.to_owned(),
    };
    let author_name = field(
        author.and_then(|author| author.value.name.as_ref()),
        "fleetmod",
        "name",
    );
    let author_email = field(
        author.and_then(|author| author.value.email.as_ref()),
        "fleetmod@localhost",
        "email",
    );
    CommitSettings {
        message: template(
            raw.and_then(|raw| raw.message.as_ref()),
            "{{title}}",
            source,
            problems,
        ),
        author_name,
        author_email,
    }
}
