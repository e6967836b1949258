//! fleetmod: codemods for dataset migrations across a fleet of repositories.
//!
//! The library is split by concept: [`lang`] maps files to tree-sitter
//! grammars, [`rule`] loads and compiles rule files, [`engine`] matches rules
//! against one source text, [`spec`] loads migration specs and [`migrate`]
//! applies their derived rules to one source text, [`walk`] finds the
//! source files to scan. For fleets: [`catalog`] reads consumers from a
//! Backstage catalog, [`git`] keeps mirrors and pushes, [`forge`] hosts pull
//! requests, [`store`] tracks every repository's state, [`fleet`] runs a
//! migration across them and [`report`] shows how far it is (status,
//! HTML report, tracking issue, metrics). [`cli`] is the command line (the only module that
//! prints).

pub mod catalog;
pub mod cli;
pub mod engine;
pub mod fleet;
pub mod forge;
pub mod git;
pub mod lang;
pub mod migrate;
pub mod progress;
pub mod report;
pub mod rule;
pub mod ruletest;
pub mod spec;
pub mod store;
pub mod walk;
pub mod write;
