//! Applies the starter rules to arbitrary input, as Python and as Java, and
//! checks the rewriting invariants: no panic, the output never parses worse
//! than the input, and a second application changes nothing.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use fleetmod::engine::Scanner;
use fleetmod::engine::rewrite::{error_profile, regression};
use fleetmod::lang::{self, Language};
use fleetmod::rule::RuleSet;
use libfuzzer_sys::fuzz_target;

fn scanner() -> &'static Scanner<'static> {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    static SCANNER: OnceLock<Scanner<'static>> = OnceLock::new();
    SCANNER.get_or_init(|| {
        let rules = RULES.get_or_init(|| {
            let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
            RuleSet::load(&[folder], None).unwrap_or_else(|errors| panic!("{errors}"))
        });
        Scanner::new(rules)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let scanner = scanner();
    for name in ["python", "java"] {
        let language = Language::from_name(name).expect("known language");
        let first = scanner.rewrite(language, Path::new("fuzz"), text);
        let Some(output) = first.output else {
            continue;
        };
        let before = lang::parse(language, text.strip_prefix('\u{feff}').unwrap_or(text)).expect("parses");
        let after = lang::parse(language, output.strip_prefix('\u{feff}').unwrap_or(&output)).expect("parses");
        if let Some(reason) = regression(&error_profile(&before), &error_profile(&after)) {
            panic!("{name}: output parses worse than input: {reason}\n--- input\n{text}\n--- output\n{output}");
        }
        let second = scanner.rewrite(language, Path::new("fuzz"), &output);
        assert!(
            second.output.is_none() && second.failure.is_none(),
            "{name}: a second application changed the output\n--- input\n{text}\n--- output\n{output}\n--- again\n{:?}",
            second.output
        );
    }
});
