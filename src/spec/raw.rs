//! Raw migration specs: serde structs that mirror the YAML exactly.
//!
//! Every level rejects unknown keys and keeps the location of each value a
//! later check may point at. Required keys are `Option`s so that a missing
//! key gets fleetmod's own message and position rather than serde's.
//! Sections that later features add (`consumers`, `forge`, `pull_request`,
//! `commit`, `rollout`) become new optional fields here.

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;

/// A whole spec file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSpec {
    pub(crate) id: Option<Spanned<String>>,
    pub(crate) title: Option<Spanned<String>>,
    pub(crate) description: Option<Spanned<String>>,
    pub(crate) dataset: Option<Spanned<RawDataset>>,
    pub(crate) rules: Option<Vec<Spanned<String>>>,
}

/// The `dataset:` section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDataset {
    pub(crate) from: Option<Spanned<String>>,
    pub(crate) to: Option<Spanned<String>>,
    pub(crate) columns: Option<RawColumns>,
    pub(crate) removed: Option<Vec<Spanned<String>>>,
}

/// `columns:`, a map of old name to new name, in file order and with the
/// location of every key and value.
#[derive(Debug, Default)]
pub(crate) struct RawColumns(pub(crate) Vec<(Spanned<String>, Spanned<String>)>);

impl<'de> Deserialize<'de> for RawColumns {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ColumnsVisitor;

        impl<'de> Visitor<'de> for ColumnsVisitor {
            type Value = RawColumns;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a map of old column name to new column name")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawColumns, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry::<Spanned<String>, Spanned<String>>()? {
                    pairs.push(pair);
                }
                Ok(RawColumns(pairs))
            }
        }

        deserializer.deserialize_map(ColumnsVisitor)
    }
}
