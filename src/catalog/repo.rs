//! Repository names: `owner/name`, as forges spell them.

use std::fmt;

/// A repository on a forge, `owner/name`. Compares as written.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RepoName {
    pub owner: String,
    pub name: String,
}

impl RepoName {
    /// Parses `owner/name`.
    pub fn parse(text: &str) -> Result<RepoName, String> {
        let text = text.trim();
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            [owner, name] if is_valid_part(owner) && is_valid_part(name) => Ok(RepoName {
                owner: (*owner).to_owned(),
                name: name.strip_suffix(".git").unwrap_or(name).to_owned(),
            }),
            _ => Err(format!(
                "`{text}` is not a repository: use `owner/name` (letters, digits, `-`, `_` and `.`)"
            )),
        }
    }

    /// The repository a Backstage `backstage.io/source-location` points at:
    /// `url:https://host/owner/name/tree/main/` gives `owner/name`.
    pub fn from_source_location(location: &str) -> Result<RepoName, String> {
        let url = location.trim();
        let url = url.strip_prefix("url:").unwrap_or(url);
        let without_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
        let mut segments = without_scheme.split('/').skip(1).filter(|s| !s.is_empty());
        match (segments.next(), segments.next()) {
            (Some(owner), Some(name)) => RepoName::parse(&format!("{owner}/{name}")),
            _ => Err(format!(
                "`{location}` does not name a repository (expected `url:https://host/owner/name/...`)"
            )),
        }
    }

    /// A name safe as one path component: `owner/name` with the slash kept
    /// as a directory separator by callers that want nesting.
    pub fn as_path(&self) -> std::path::PathBuf {
        std::path::Path::new(&self.owner).join(&self.name)
    }
}

fn is_valid_part(part: &str) -> bool {
    !part.is_empty()
        && part != "."
        && part != ".."
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl fmt::Display for RepoName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.owner, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_from_slugs_and_urls() {
        assert_eq!(
            RepoName::parse("acme/billing").unwrap().to_string(),
            "acme/billing"
        );
        assert!(RepoName::parse("acme").is_err());
        assert!(RepoName::parse("acme/../x").is_err());
        assert!(RepoName::parse("acme/..").is_err());
        let url = "url:https://github.com/acme/ledger/tree/main/";
        assert_eq!(
            RepoName::from_source_location(url).unwrap().to_string(),
            "acme/ledger"
        );
        let git = "url:https://git.example/acme/ledger.git";
        assert_eq!(
            RepoName::from_source_location(git).unwrap().to_string(),
            "acme/ledger"
        );
        assert!(RepoName::from_source_location("url:https://github.com/acme").is_err());
    }
}
