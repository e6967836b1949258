//! Outlines arbitrary input as Python and as Java and checks partial
//! parses against full ones: no panic, and whenever the partial parse
//! around some positions passes its check and the full parse has no
//! syntax error, every node below the containers is the same in both
//! (`fleetmod::lang::outline::compare_with_full_parse`).
#![no_main]

use fleetmod::lang::Language;
use fleetmod::lang::outline::{Agreement, compare_with_full_parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Hits at a few places spread over the text: each line start.
    let mut hits = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        hits.push(offset..offset + 1);
        offset += line.len();
    }
    for name in ["python", "java"] {
        let language = Language::from_name(name).expect("known language");
        for hit in &hits {
            if let Agreement::Differs(difference) =
                compare_with_full_parse(language, text, std::slice::from_ref(hit))
            {
                panic!("{name}, hit at {}: {difference}", hit.start);
            }
        }
    }
});
