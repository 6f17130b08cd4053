//! Target `rules`: the `AUTHORIZER_RULES` grammar ([`parse::parse`]) and the cold-start check
//! of the rule set it yields ([`RuleSet::new`]).
//!
//! Properties: never a panic; a successful parse has at most [`parse::MAX_RULES`] rules, each
//! rule's `text` is a trimmed, non-empty piece of the input that parses alone to that same rule,
//! and the texts joined with `;` parse to the same rules (the rules re-render consistently).

use authorizer::access::Requirement;
use authorizer::rules::{RuleSet, parse};

pub fn check_rules(data: &[u8]) {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(rules) = parse::parse(raw) else {
        return;
    };
    assert!(rules.len() <= parse::MAX_RULES);
    for rule in &rules {
        assert!(!rule.text.is_empty());
        assert_eq!(rule.text, rule.text.trim(), "a rule's text is not trimmed");
        assert!(
            raw.contains(&rule.text),
            "{:?} is not in the input",
            rule.text
        );
        assert_eq!(
            parse::parse(&rule.text).ok(),
            Some(vec![rule.clone()]),
            "{:?} does not parse alone to its rule",
            rule.text
        );
    }
    let joined: Vec<&str> = rules.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(parse::parse(&joined.join(";")).ok(), Some(rules.clone()));
    let _ = RuleSet::new(rules, Requirement::new(Vec::new(), Vec::new()));
}
