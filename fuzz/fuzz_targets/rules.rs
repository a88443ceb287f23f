//! Rule-file parser: any text either loads into a valid rule set (which then
//! compiles and classifies) or yields located problems — never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spectrum_audit::classify::Classifier;
use spectrum_audit::rules::{RuleSource, load};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let src = RuleSource { name: "fuzz.toml".into(), text: text.to_string() };
    match load(&[src]) {
        Ok(rules) => {
            assert_eq!(rules.levels.len(), 6);
            if let Ok(c) = Classifier::new(&rules) {
                let _ = c.classify("Adopt a policy and train staff; lobby for a bill");
            }
            let _ = rules.to_toml();
        }
        Err(e) => assert!(!e.problems.is_empty()),
    }
});
