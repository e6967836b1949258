//! Who reviews a repository's pull request, per `forge.reviewers`:
//! - `from-owner`: the catalog owners; a Group with a GitHub team
//!   annotation becomes the team (`org/slug`), `user:name` the user, and
//!   any other owner stays as written (the local forge shows it; the
//!   GitHub forge asks only valid logins and teams);
//! - `codeowners`: the owners of the changed files in the repository's
//!   CODEOWNERS file (GitHub's rules: the last matching line wins);
//! - a fixed list.

use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};

use crate::catalog::Catalog;
use crate::spec::Reviewers;

/// Where GitHub looks for CODEOWNERS, in its order.
const CODEOWNERS_PATHS: [&str; 3] = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"];

/// The reviewers for catalog `owners`.
pub fn from_owners(catalog: &Catalog, owners: &[String]) -> Vec<String> {
    let mut reviewers: Vec<String> = Vec::new();
    for owner in owners {
        let reviewer = match (catalog.team_of(owner), owner.strip_prefix("user:")) {
            (Some(team), _) => team.to_owned(),
            (None, Some(user)) => user.rsplit('/').next().unwrap_or(user).to_owned(),
            (None, None) => owner.clone(),
        };
        if !reviewers.contains(&reviewer) {
            reviewers.push(reviewer);
        }
    }
    reviewers
}

/// The reviewers of one repository's change.
pub fn for_change(
    setting: &Reviewers,
    owner_reviewers: &[String],
    checkout: &Path,
    changed: &[&str],
) -> Vec<String> {
    match setting {
        Reviewers::FromOwner => owner_reviewers.to_vec(),
        Reviewers::List(list) => list.clone(),
        Reviewers::CodeOwners => CODEOWNERS_PATHS
            .iter()
            .find_map(|path| std::fs::read_to_string(checkout.join(path)).ok())
            .map(|text| code_owners(&text, changed))
            .unwrap_or_default(),
    }
}

/// One CODEOWNERS line.
struct Line {
    matcher: GlobMatcher,
    owners: Vec<String>,
}

/// The owners of `files` per a CODEOWNERS text: `@user` → `user`,
/// `@org/team` → `org/team`; e-mail owners are left out.
pub fn code_owners(text: &str, files: &[&str]) -> Vec<String> {
    let lines: Vec<Line> = text
        .lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or("").trim();
            let mut words = line.split_whitespace();
            let pattern = words.next()?;
            Some(Line {
                matcher: pattern_matcher(pattern)?,
                owners: words
                    .filter_map(|owner| owner.strip_prefix('@'))
                    .map(str::to_owned)
                    .collect(),
            })
        })
        .collect();
    let mut owners: Vec<String> = Vec::new();
    for file in files {
        if let Some(line) = lines.iter().rev().find(|line| line.matcher.is_match(file)) {
            for owner in &line.owners {
                if !owners.contains(owner) {
                    owners.push(owner.clone());
                }
            }
        }
    }
    owners
}

/// A gitignore-style CODEOWNERS pattern as a glob over repository paths.
fn pattern_matcher(pattern: &str) -> Option<GlobMatcher> {
    let anchored = pattern.starts_with('/') || pattern.trim_end_matches('/').contains('/');
    let mut glob = pattern.trim_start_matches('/').to_owned();
    if glob.ends_with('/') {
        glob.push_str("**");
    }
    if !anchored {
        glob = format!("**/{glob}");
    }
    // A pattern naming a folder owns everything below it.
    let glob = if glob.ends_with("**") {
        glob
    } else {
        format!("{{{glob},{glob}/**}}")
    };
    GlobBuilder::new(&glob)
        .literal_separator(true)
        .build()
        .ok()
        .map(|glob| glob.compile_matcher())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_owners_follow_the_last_matching_line() {
        let text = "\
# everything
*           @acme/platform
*.sql       @acme/data @dba   # SQL files
/billing/   @acme/billing
docs/*      owner@example.com
";
        assert_eq!(code_owners(text, &["README.md"]), ["acme/platform"]);
        assert_eq!(code_owners(text, &["reports/q1.sql"]), ["acme/data", "dba"]);
        assert_eq!(
            code_owners(text, &["billing/jobs/run.py", "x/y.sql"]),
            ["acme/billing", "acme/data", "dba"]
        );
        assert!(code_owners(text, &["docs/a.md"]).is_empty());
        assert!(code_owners("", &["a.py"]).is_empty());
    }

    #[test]
    fn owners_become_teams_and_users() {
        let catalog = Catalog::from_text(
            Path::new("catalog.yaml"),
            "apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: billing-team
  annotations:
    github.com/team-slug: acme/billing
",
        )
        .unwrap();
        let owners = [
            "group:billing-team".to_owned(),
            "billing-team".to_owned(),
            "user:default/alice".to_owned(),
            "group:unknown".to_owned(),
        ];
        assert_eq!(
            from_owners(&catalog, &owners),
            ["acme/billing", "alice", "group:unknown"]
        );
    }
}
