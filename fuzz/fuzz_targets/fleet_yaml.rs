//! Arbitrary text as a Backstage catalog file and as a migration spec: never
//! a panic, and every error points at a real line of the text.
#![no_main]

use std::path::Path;

use fleetmod::catalog::Catalog;
use fleetmod::spec::{SpecError, Spec};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // YAML also breaks lines at a lone carriage return.
    let lines = text.split(['\n', '\r']).count() as u64 + 1;
    if let Err(errors) = Catalog::from_text(Path::new("catalog.yaml"), text) {
        for error in &errors.0 {
            assert!((1..=lines).contains(&error.point.line), "{error}");
        }
    }
    if let Err(errors) = Spec::from_text(Path::new("fuzz/spec.yml"), text) {
        for error in &errors.0 {
            if let SpecError::Invalid(invalid) = error {
                assert!((1..=lines).contains(&invalid.point.line), "{invalid}");
            }
        }
    }
});
