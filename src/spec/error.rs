//! Errors in spec files, always with the file, the spec id and a position.

use std::fmt;
use std::path::PathBuf;

use crate::rule::Point;

/// Why a spec could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("failed to read spec {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(InvalidSpec),
}

/// A spec that parses badly or describes an invalid migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSpec {
    pub path: PathBuf,
    pub spec_id: Option<String>,
    pub point: Point,
    pub message: String,
}

impl fmt::Display for InvalidSpec {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}:{}: ", self.path.display(), self.point)?;
        if let Some(id) = &self.spec_id {
            write!(formatter, "spec `{id}`: ")?;
        }
        formatter.write_str(&self.message)
    }
}

/// Every problem found in a spec; loading reports them all.
#[derive(Debug)]
pub struct SpecErrors(pub Vec<SpecError>);

impl fmt::Display for SpecErrors {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::rule::error::write_lines(formatter, &self.0)
    }
}

impl std::error::Error for SpecErrors {}

impl From<SpecError> for SpecErrors {
    fn from(error: SpecError) -> Self {
        SpecErrors(vec![error])
    }
}
