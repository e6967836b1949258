//! Errors in rule files, always with the file, the rule id and a position.

use std::fmt;
use std::path::PathBuf;

use serde_saphyr::Location;

/// A 1-based line and column (in characters) inside a rule file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Point {
    pub line: u64,
    pub column: u64,
}

impl From<Location> for Point {
    fn from(location: Location) -> Self {
        Point {
            line: location.line(),
            column: location.column(),
        }
    }
}

impl fmt::Display for Point {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}:{}", self.line, self.column)
    }
}

/// A problem at a point in a rule file, before the file and rule are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Located {
    pub(crate) point: Point,
    pub(crate) message: String,
}

impl Located {
    pub(crate) fn new(point: impl Into<Point>, message: impl Into<String>) -> Self {
        Located {
            point: point.into(),
            message: message.into(),
        }
    }
}

/// Why a set of rule files could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("failed to read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(InvalidRule),
    #[error("no rule files (*.yml, *.yaml) found in {}", path.display())]
    NoRuleFiles { path: PathBuf },
}

/// A rule file that parses badly or describes an invalid rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRule {
    pub path: PathBuf,
    pub rule_id: Option<String>,
    pub point: Point,
    pub message: String,
}

impl fmt::Display for InvalidRule {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}:{}: ", self.path.display(), self.point)?;
        if let Some(id) = &self.rule_id {
            write!(formatter, "rule `{id}`: ")?;
        }
        formatter.write_str(&self.message)
    }
}

impl RuleError {
    pub(crate) fn invalid(path: &std::path::Path, rule_id: Option<&str>, located: Located) -> Self {
        RuleError::Invalid(InvalidRule {
            path: path.to_path_buf(),
            rule_id: rule_id.map(str::to_owned),
            point: located.point,
            message: located.message,
        })
    }
}

/// Every problem found while loading rules; loading reports them all.
#[derive(Debug)]
pub struct RuleErrors(pub Vec<RuleError>);

/// Writes errors one per line (shared by every "all the problems" error).
pub(crate) fn write_lines(
    formatter: &mut fmt::Formatter<'_>,
    errors: &[impl fmt::Display],
) -> fmt::Result {
    for (index, error) in errors.iter().enumerate() {
        if index > 0 {
            formatter.write_str("\n")?;
        }
        write!(formatter, "{error}")?;
    }
    Ok(())
}

impl fmt::Display for RuleErrors {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_lines(formatter, &self.0)
    }
}

impl std::error::Error for RuleErrors {}

impl From<RuleError> for RuleErrors {
    fn from(error: RuleError) -> Self {
        RuleErrors(vec![error])
    }
}

/// Where character `char_offset` of a YAML scalar lies in the file, given
/// where the scalar starts. Exact for plain, quoted and literal block
/// scalars on one or several lines; approximate where YAML folds lines.
pub(crate) fn point_in_scalar(
    source: &str,
    start: Location,
    value: &str,
    char_offset: usize,
) -> Point {
    let before: String = value.chars().take(char_offset).collect();
    let newlines = before.matches('\n').count() as u64;
    let tail = before
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .chars()
        .count() as u64;
    let quoted = start
        .span()
        .byte_offset()
        .and_then(|offset| source.get(usize::try_from(offset).ok()?..))
        .is_some_and(|rest| rest.starts_with(['"', '\'']));
    let line = start.line() + newlines;
    let column = if newlines == 0 {
        start.column() + u64::from(quoted) + tail
    } else {
        start.column() + tail
    };
    Point { line, column }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_saphyr::Spanned;

    #[derive(Deserialize)]
    struct Doc {
        value: Spanned<String>,
    }

    fn point(source: &str, char_offset: usize) -> Point {
        let doc: Doc = serde_saphyr::from_str(source).expect("valid yaml");
        point_in_scalar(source, doc.value.referenced, &doc.value.value, char_offset)
    }

    #[test]
    fn points_inside_plain_and_quoted_scalars() {
        assert_eq!(
            point("value: foo(bar\n", 4),
            Point {
                line: 1,
                column: 12
            }
        );
        assert_eq!(
            point("value: 'foo(bar'\n", 4),
            Point {
                line: 1,
                column: 13
            }
        );
        assert_eq!(
            point("value: \"foo(bar\"\n", 0),
            Point { line: 1, column: 9 }
        );
    }

    #[test]
    fn points_inside_block_scalars() {
        let source = "value: |\n  first line\n  second(\n";
        assert_eq!(point(source, 0), Point { line: 2, column: 3 });
        assert_eq!(point(source, 17), Point { line: 3, column: 9 });
    }

    #[test]
    fn errors_name_file_rule_and_position() {
        let error = RuleError::invalid(
            std::path::Path::new("rules/a.yml"),
            Some("no-print"),
            Located::new(Point { line: 3, column: 5 }, "unknown node kind `cal`"),
        );
        assert_eq!(
            error.to_string(),
            "rules/a.yml:3:5: rule `no-print`: unknown node kind `cal`"
        );
    }
}
