//! Rules: YAML rule files compiled into validated matchers.
//!
//! Loading has two steps, as in ast-grep: [`raw`] deserializes the YAML into
//! structs that mirror it and reject unknown keys, then [`compile`] validates
//! and compiles them ([`matcher::Matcher`]). The format is a superset of
//! ast-grep's rule format: every ast-grep rule key is accepted with the same
//! meaning, and fleetmod adds `query` (a raw tree-sitter query) and
//! `applicability`. Errors carry the file, the rule id and the line:column
//! of the offending value ([`error`]).

pub mod compile;
pub mod error;
pub mod fix;
pub mod kinds;
pub mod load;
pub mod matcher;
pub mod nth_child;
pub mod pattern;
pub mod project;
pub mod query;
pub mod raw;
pub mod selector;

pub use error::{InvalidRule, Point, RuleError, RuleErrors};
pub use load::{Rule, RuleSet};
pub use project::Project;
pub use raw::{Applicability, Severity, Strictness};
