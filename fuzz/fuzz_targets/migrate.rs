//! Applies a migration spec to arbitrary input as Python, Java and SQL, and
//! checks the invariants: no panic, the output never parses worse than the
//! input (SQL judged after masking, as fleetmod judges it), and, for input
//! that parses cleanly, a second run changes nothing. (In a file with syntax
//! errors, tree-sitter's recovery may see string literals differently once
//! the text changes, so idempotence is not expected there.)
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use fleetmod::engine::Scanner;
use fleetmod::engine::rewrite::{regression, syntax_profile};
use fleetmod::lang::Language;
use fleetmod::migrate::Migration;
use fleetmod::rule::RuleSet;
use fleetmod::spec::Spec;
use libfuzzer_sys::fuzz_target;

const SPEC: &str = "id: fuzz\ndataset:\n  from: sales.orders\n  to: acme-analytics:sales_v2.orders\n  columns:\n    cust_id: customer_id\n    amt: amount_usd\n  removed: [legacy_code]\n";

fn scanner() -> &'static Scanner<'static> {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    static MIGRATION: OnceLock<Migration> = OnceLock::new();
    static SCANNER: OnceLock<Scanner<'static>> = OnceLock::new();
    SCANNER.get_or_init(|| {
        let rules = RULES.get_or_init(RuleSet::default);
        let migration = MIGRATION.get_or_init(|| {
            let spec = Spec::from_text(Path::new("fuzz.yml"), SPEC).unwrap_or_else(|errors| panic!("{errors}"));
            Migration::new(&spec)
        });
        Scanner::new(rules).with_migration(migration)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let scanner = scanner();
    for name in ["python", "java", "sql"] {
        let language = Language::from_name(name).expect("known language");
        let first = scanner.rewrite(language, Path::new("fuzz"), text);
        let Some(output) = first.output else {
            continue;
        };
        let strip = |text: &str| text.strip_prefix('\u{feff}').unwrap_or(text).to_owned();
        let before = syntax_profile(language, &strip(text)).expect("parses");
        let after = syntax_profile(language, &strip(&output)).expect("parses");
        if let Some(reason) = regression(&before, &after) {
            panic!("{name}: output parses worse than input: {reason}\n--- input\n{text}\n--- output\n{output}");
        }
        if before.values().sum::<usize>() > 0 {
            continue;
        }
        let second = scanner.rewrite(language, Path::new("fuzz"), &output);
        assert!(
            second.output.is_none(),
            "{name}: a second run changed the output\n--- input\n{text}\n--- output\n{output}\n--- again\n{:?}",
            second.output
        );
    }
});
