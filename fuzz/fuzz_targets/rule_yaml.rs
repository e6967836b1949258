//! Loads arbitrary text as a rule file: errors are fine, panics are not.
#![no_main]

use std::path::Path;

use fleetmod::rule::RuleSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = RuleSet::from_text(Path::new("fuzz.yml"), text);
    }
});
