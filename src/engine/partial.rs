//! Partial parses: parse only the members of a file a rule can match in.
//!
//! A rule that looks only at the matched node, what lies inside it and its
//! ancestors below the containers is *local*. The containers are the nodes
//! a partial parse does not give whole (the root, a top-level class and its
//! body, ERROR: the language's `containers`, see [`crate::lang::outline`]).
//! Patterns, kinds, regexes, `has`, `all`, `any`, `not` and utilities made
//! of those are local, with constraints and rewriters alike; so is `inside`
//! when its rule (and `stopBy` rule) is local and cannot match a container,
//! since every other ancestor is whole. A local rule cannot match a
//! container either, and its kinds must be known. `follows`, `precedes`,
//! `nthChild` and `query` look at siblings or the whole tree, and a fix's
//! `expandStart`/`expandEnd` at siblings: the siblings of a member are other
//! members, which may not be parsed, so a rule with one of them is not
//! local.
//!
//! Every match of a local rule, or an ancestor of it below the containers
//! (for a phrase of an `inside` rule), contains each of its phrases
//! ([`super::phrase`]); every match contains one of its anchor literals
//! ([`super::prefilter::core_anchor`]). Those are the *places* of the rule:
//! each lies in the member of the match. When
//! every rule the prefilter lets through is local and has places, the file
//! is outlined, and only the members that overlap a place are parsed, in
//! their class ([`crate::lang::outline::Outline::regions`]). A member
//! parsed that way has the subtree a full parse gives it, so a local rule
//! finds the same matches, at the same offsets. The parse is checked
//! ([`crate::lang::outline::Regions::verify`]); if the check fails, or the
//! outline would take most of the file, the whole file is parsed.
//!
//! A file with an `ast-grep-ignore` comment is parsed whole, since the
//! comment may lie outside the parsed members.
//!
//! A fix is checked on the same partial parse ([`super::rewrite`]): the
//! edited members are parsed again, at their new offsets, and must parse
//! as well as before. A member that parses without error between its
//! class's header and closer can stand in for the one it replaces.

use std::ops::Range;

use tree_sitter::Tree;

use super::candidates::Candidates;
use super::prefilter::{Clause, Prefilter};
use super::suppress;
use crate::lang::outline::{Outline, OutlineSpec, Regions};
use crate::lang::{self, Language};
use crate::rule::Rule;
use crate::rule::fix::Fix;
use crate::rule::kinds::KindSet;
use crate::rule::matcher::{CoreRule, KindContext, Matcher, StopBy, UtilityReference};

/// How a rule's places are found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Places {
    /// Occurrences of one of the prefilter's phrases (by id).
    Phrase(usize),
    /// Occurrences of the rule's anchor literals.
    Anchor,
}

/// What one language's rules need to be matched on partial parses.
pub(crate) struct Partial {
    spec: Option<&'static OutlineSpec>,
    /// Per rule: how to find its places; `None` if it needs the whole file.
    places: Vec<Option<Places>>,
}

impl Partial {
    /// `anchors[i]` is rule `i`'s anchor, and the prefilter's phrases are
    /// those of the same rules.
    pub(crate) fn new(
        language: Language,
        rules: &[&Rule],
        anchors: &[Option<Clause>],
        prefilter: &Prefilter,
        globals: &[CoreRule],
    ) -> Partial {
        let spec = language.outline();
        let places = rules
            .iter()
            .enumerate()
            .map(|(index, rule)| {
                if !spec.is_some_and(|spec| is_local(language, spec, rule, globals)) {
                    None
                } else if let Some(id) = prefilter.longest_phrase(index) {
                    Some(Places::Phrase(id))
                } else {
                    anchors
                        .get(index)
                        .is_some_and(Option::is_some)
                        .then_some(Places::Anchor)
                }
            })
            .collect();
        Partial { spec, places }
    }

    /// The regions of `source` to parse for the `enabled` rules, or `None`
    /// when the whole file must be parsed. Anchors are found by
    /// `candidates`, which holds them for candidate nodes.
    pub(crate) fn regions(
        &self,
        source: &str,
        enabled: &[bool],
        prefilter: &Prefilter,
        candidates: &Candidates,
    ) -> Option<Regions> {
        let spec = self.spec?;
        let bytes = source.as_bytes();
        let mut phrases: Vec<usize> = Vec::new();
        let mut by_anchor = vec![false; self.places.len()];
        for (rule, _) in enabled.iter().enumerate().filter(|(_, on)| **on) {
            match self.places.get(rule).copied().flatten()? {
                Places::Phrase(id) => phrases.push(id),
                Places::Anchor if candidates.is_anchored(rule) => by_anchor[rule] = true,
                Places::Anchor => return None,
            }
        }
        if suppress::mentioned(source) {
            return None;
        }
        phrases.sort_unstable();
        phrases.dedup();
        let mut hits: Vec<Range<usize>> = Vec::new();
        for id in phrases {
            hits.extend(
                prefilter
                    .phrase(id)?
                    .find_iter(bytes)
                    .map(|hit| hit.range()),
            );
        }
        if by_anchor.contains(&true) {
            hits.extend(candidates.anchor_places(bytes, &|rule| by_anchor[rule]));
        }
        hits.sort_unstable_by_key(|hit| (hit.start, hit.end));
        Outline::new(spec, source)?.regions(&hits, source.len())
    }

    /// Parses the `regions` of `source`, if that parse can stand for the
    /// whole file's.
    pub(crate) fn parse(
        &self,
        language: Language,
        source: &str,
        regions: &Regions,
    ) -> Option<Tree> {
        let tree = lang::parse_ranges(language, source, &regions.ranges)?;
        self.accepts(regions, &tree).then_some(tree)
    }

    /// Whether `tree`, a parse of `regions`, can stand for the whole file's.
    pub(crate) fn accepts(&self, regions: &Regions, tree: &Tree) -> bool {
        self.spec.is_some_and(|spec| regions.verify(spec, tree))
    }
}

/// Whether a rule can be matched on a partial parse (see the module doc).
fn is_local(language: Language, spec: &OutlineSpec, rule: &Rule, globals: &[CoreRule]) -> bool {
    let containers: Vec<u16> = spec
        .containers
        .iter()
        .filter_map(|kind| language.named_kind_id(kind))
        .collect();
    let confined = |kinds: &KindSet| !containers.iter().any(|&kind| kinds.contains(kind));
    if !rule.core.kinds.as_ref().is_some_and(confined) {
        return false;
    }
    let expands = |fix: &Fix| fix.expand_start.is_some() || fix.expand_end.is_some();
    if rule.fix.as_ref().is_some_and(expands) {
        return false;
    }
    let mut visiting = Vec::new();
    core_is_local(&rule.core, globals, &containers, &mut visiting)
        && rule.rewriters.iter().all(|rewriter| {
            !expands(&rewriter.fix)
                && core_is_local(&rewriter.core, globals, &containers, &mut visiting)
        })
}

/// Utilities being checked (local: false, global: true; index).
type Visiting = Vec<(bool, usize)>;

fn core_is_local(
    core: &CoreRule,
    globals: &[CoreRule],
    containers: &[u16],
    visiting: &mut Visiting,
) -> bool {
    let scope = Scope {
        locals: &core.locals,
        globals,
        containers,
    };
    scope.matcher(&core.matcher, visiting)
        && core
            .constraints
            .iter()
            .all(|(_, constraint)| scope.matcher(constraint, visiting))
}

struct Scope<'s> {
    locals: &'s [Matcher],
    globals: &'s [CoreRule],
    /// The kind ids of the language's containers.
    containers: &'s [u16],
}

impl Scope<'_> {
    fn matcher(&self, matcher: &Matcher, visiting: &mut Visiting) -> bool {
        match matcher {
            Matcher::Pattern(_) | Matcher::Kind(_) | Matcher::Regex(_) | Matcher::Range(_) => true,
            Matcher::Has(relation) => {
                self.matcher(&relation.rule, visiting) && self.stop(&relation.stop_by, visiting)
            }
            // The ancestors below the member are whole; the containers
            // above it are not, so the related rule must not be able to
            // match one (nor stop at one).
            Matcher::Inside(relation) => {
                self.confined(&relation.rule, visiting) && self.stop(&relation.stop_by, visiting)
            }
            Matcher::All(members) | Matcher::Any(members) => {
                members.iter().all(|member| self.matcher(member, visiting))
            }
            Matcher::Not(inner) => self.matcher(inner, visiting),
            Matcher::Matches(reference) => {
                let key = match *reference {
                    UtilityReference::Local(index) => (false, index),
                    UtilityReference::Global(index) => (true, index),
                };
                if visiting.contains(&key) {
                    // Being checked further up: its other parts decide.
                    return true;
                }
                visiting.push(key);
                let local = match *reference {
                    UtilityReference::Local(index) => self
                        .locals
                        .get(index)
                        .is_some_and(|local| self.matcher(local, visiting)),
                    UtilityReference::Global(index) => {
                        self.globals.get(index).is_some_and(|core| {
                            core_is_local(core, self.globals, self.containers, visiting)
                        })
                    }
                };
                visiting.pop();
                local
            }
            // Siblings of a member are other members, which may not be
            // parsed.
            Matcher::Precedes(_)
            | Matcher::Follows(_)
            | Matcher::NthChild(_)
            | Matcher::Query(_) => false,
        }
    }

    /// Whether `matcher` is local and can match no container.
    fn confined(&self, matcher: &Matcher, visiting: &mut Visiting) -> bool {
        let context = KindContext::new(self.locals, self.globals);
        self.matcher(matcher, visiting)
            && matcher
                .potential_kinds(&context)
                .is_some_and(|kinds| !self.containers.iter().any(|&kind| kinds.contains(kind)))
    }

    fn stop(&self, stop_by: &StopBy, visiting: &mut Visiting) -> bool {
        match stop_by {
            StopBy::Rule(stop) => self.confined(stop, visiting),
            StopBy::Neighbor | StopBy::End => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::engine::Scanner;
    use crate::rule::load::RuleSet;

    fn rule_set(yaml: &str) -> RuleSet {
        RuleSet::from_text(Path::new("test.yml"), yaml).expect("the rule loads")
    }

    /// A class with many members, one or two of which a rule needs.
    fn java_class(bodies: &[&str]) -> String {
        let mut source = String::from("package p;\n\nclass Example {\n");
        for index in 0..8 {
            let body = bodies.get(index).copied().unwrap_or("int unused = 0;");
            source.push_str(&format!(
                "    /** Member {index}. */\n    void member{index}(Object a, Object b) {{\n        {body}\n    }}\n\n"
            ));
        }
        source.push_str("}\n");
        source
    }

    fn python_class(bodies: &[&str]) -> String {
        let mut source = String::from("import os\n\n\nclass Example:\n");
        for index in 0..8 {
            let body = bodies.get(index).copied().unwrap_or("unused = 0");
            source.push_str(&format!(
                "    def member{index}(self, a, b):\n        # member {index}\n        {body}\n\n"
            ));
        }
        source
    }

    /// The same rule made non-local by a condition that always holds
    /// (`root` is the grammar's root kind).
    fn whole_file_variant(yaml: &str, rule: &str, root: &str) -> String {
        yaml.replace(
            &format!("rule: {rule}"),
            &format!("rule:\n  all:\n    - {rule}\n    - inside: {{kind: {root}, stopBy: end}}"),
        )
    }

    #[test]
    fn which_rules_are_local() {
        let java = Language::from_name("java").expect("java");
        let spec = java.outline().expect("outlined");
        let cases = [
            ("rule: {pattern: $A.equals($B)}", true),
            (
                "rule: {kind: method_invocation, has: {pattern: equals}}",
                true,
            ),
            (
                "rule: {kind: method_invocation, not: {has: {kind: string_literal}}}",
                true,
            ),
            ("rule: {any: [{pattern: a()}, {pattern: b()}]}", true),
            (
                "rule: {matches: call}\nutils: {call: {kind: method_invocation}}",
                true,
            ),
            (
                "rule: {pattern: f($A)}\nconstraints: {A: {kind: identifier}}",
                true,
            ),
            (
                "rule: {pattern: f($A), inside: {kind: lambda_expression}}",
                true,
            ),
            (
                "rule: {pattern: f($A)}\nconstraints: {A: {inside: {kind: block}}}",
                true,
            ),
            (
                "rule: {pattern: f($A), inside: {kind: block, stopBy: {kind: class_body}}}",
                false,
            ),
            (
                "rule: {pattern: f($A), inside: {kind: class_declaration, stopBy: end}}",
                false,
            ),
            (
                "rule: {pattern: f($A), inside: {not: {kind: block}, stopBy: end}}",
                false,
            ),
            (
                "rule: {pattern: f($A), not: {inside: {kind: class_body}}}",
                false,
            ),
            (
                "rule: {matches: call}\nutils: {call: {kind: method_invocation, follows: {pattern: a()}}}",
                false,
            ),
            ("rule: {pattern: f($A), precedes: {pattern: a()}}", false),
            ("rule: {kind: method_invocation, nthChild: 1}", false),
            ("rule: {kind: class_declaration}", false),
            (
                "rule: {any: [{kind: method_invocation}, {kind: program}]}",
                false,
            ),
            (
                "rule: {pattern: f($A)}\nfix: {template: '', expandEnd: {regex: ','}}",
                false,
            ),
        ];
        for (body, local) in cases {
            let set = rule_set(&format!("id: a\nlanguage: java\n{body}\n"));
            assert_eq!(
                is_local(java, spec, &set.rules[0], &set.globals.rules),
                local,
                "{body}"
            );
        }
    }

    /// Scans and rewrites `source` with `yaml` and with its whole-file
    /// variant: the partial parse must give the same matches and output.
    fn same_as_whole_file(language: &str, yaml: &str, rule: &str, source: &str) -> usize {
        let root = if language == "java" {
            "program"
        } else {
            "module"
        };
        let language = Language::from_name(language).expect("known");
        let partial_rules = rule_set(yaml);
        let whole_rules = rule_set(&whole_file_variant(yaml, rule, root));
        let partial = Scanner::new(&partial_rules);
        let whole = Scanner::new(&whole_rules);
        let path = Path::new("Example");
        let found = partial.scan(language, path, source);
        let expected = whole.scan(language, path, source);
        assert!(found.partial, "the partial parse was used");
        assert!(!expected.partial, "the variant parses the whole file");
        assert_eq!(found.matches, expected.matches);
        assert_eq!(
            partial.rewrite(language, path, source),
            whole.rewrite(language, path, source)
        );
        found.matches.len()
    }

    #[test]
    fn local_rules_find_on_a_partial_parse_what_they_find_on_the_whole() {
        let yaml = "id: a\nlanguage: java\nrule: {pattern: $A.equals($B)}\n\
                    fix: java.util.Objects.equals($A, $B)\n";
        let source = java_class(&[
            "",
            "",
            "return;",
            "boolean same = a.equals(b) || b.equals(a);",
        ]);
        let rule = "{pattern: $A.equals($B)}";
        assert_eq!(same_as_whole_file("java", yaml, rule, &source), 2);
        let yaml = "id: a\nlanguage: python\nrule: {pattern: $A.append($B)}\n\
                    fix: $A.extend([$B])\n";
        let source = python_class(&["", "a.append(b)", "", "", "", "b.append(a.append(1))"]);
        let rule = "{pattern: $A.append($B)}";
        assert_eq!(same_as_whole_file("python", yaml, rule, &source), 3);
        // No phrase (one token): the places are the anchor's occurrences.
        let rule = "{kind: method_invocation, has: {pattern: equals}}";
        let yaml = format!("id: a\nlanguage: java\nrule: {rule}\n");
        let source = java_class(&["", "", "", "boolean same = a.equals(b);"]);
        assert_eq!(same_as_whole_file("java", &yaml, rule, &source), 1);
        // An ancestor below the class is whole.
        let rule = "{pattern: $A.equals($B), inside: {kind: return_statement, stopBy: end}}";
        let yaml = format!("id: a\nlanguage: java\nrule: {rule}\n");
        let source = java_class(&["", "return a.equals(b);", "", "boolean c = a.equals(b);"]);
        assert_eq!(same_as_whole_file("java", &yaml, rule, &source), 1);
    }

    #[test]
    fn a_fix_that_breaks_a_member_is_dropped_on_a_partial_parse() {
        let yaml =
            "id: a\nlanguage: java\nrule: {pattern: $A.equals($B)}\nfix: '$A.equals($B) {'\n";
        let set = rule_set(yaml);
        let scanner = Scanner::new(&set);
        let java = Language::from_name("java").expect("java");
        let source = java_class(&["", "", "", "boolean same = a.equals(b);"]);
        assert!(scanner.scan(java, Path::new("E"), &source).partial);
        let rewrite = scanner.rewrite(java, Path::new("E"), &source);
        assert_eq!(rewrite.output, None);
        assert_eq!(rewrite.dropped.len(), 1, "{rewrite:?}");
        assert!(rewrite.dropped[0].reason.contains("would not parse"));
    }

    #[test]
    fn an_edit_at_the_start_of_a_parsed_member_is_checked() {
        // A top-level statement starts where its member does: the check
        // must parse the replacement's first characters too.
        let yaml = "id: a\nlanguage: python\nrule: {pattern: print($X)}\nfix: ')print($X)'\n";
        let set = rule_set(yaml);
        let scanner = Scanner::new(&set);
        let python = Language::from_name("python").expect("python");
        let mut source = python_class(&[]);
        source.push_str("print(x)\n");
        assert!(scanner.scan(python, Path::new("e.py"), &source).partial);
        let rewrite = scanner.rewrite(python, Path::new("e.py"), &source);
        assert_eq!(rewrite.output, None, "{rewrite:?}");
        assert_eq!(rewrite.dropped.len(), 1, "{rewrite:?}");
    }

    #[test]
    fn chained_fixes_parse_again_the_members_they_need() {
        // The second rule has nothing to match until the first has run.
        let yaml = "id: a\nlanguage: java\nrule: {pattern: first($X)}\nfix: second($X)\n---\n\
                    id: b\nlanguage: java\nrule: {pattern: second($X)}\nfix: third($X)\n";
        let java = Language::from_name("java").expect("java");
        let source = java_class(&["", "first(1);", "", "", "", "", "first(2);"]);
        let partial_rules = rule_set(yaml);
        let whole_rules = rule_set(&whole_file_variant(
            &whole_file_variant(yaml, "{pattern: first($X)}", "program"),
            "{pattern: second($X)}",
            "program",
        ));
        let path = Path::new("E");
        assert!(
            Scanner::new(&partial_rules)
                .scan(java, path, &source)
                .partial
        );
        let partial = Scanner::new(&partial_rules).rewrite(java, path, &source);
        let whole = Scanner::new(&whole_rules).rewrite(java, path, &source);
        assert_eq!(partial, whole);
        let output = partial.output.expect("changed");
        assert!(output.contains("third(1);") && output.contains("third(2);"));
        assert_eq!(partial.passes, 2);
    }

    #[test]
    fn a_suppression_comment_makes_the_whole_file_parsed() {
        let yaml = "id: a\nlanguage: java\nrule: {pattern: $A.equals($B)}\n";
        let set = rule_set(yaml);
        let scanner = Scanner::new(&set);
        let java = Language::from_name("java").expect("java");
        let source = java_class(&["", "", "", "boolean same = a.equals(b);"]);
        assert!(scanner.scan(java, Path::new("E"), &source).partial);
        // A comment on the first line silences the whole file; the partial
        // parse would not contain it.
        for marker in ["ast-grep-ignore", "fleetmod-ignore"] {
            let silenced = format!("// {marker}\n\n{source}");
            let found = scanner.scan(java, Path::new("E"), &silenced);
            assert!(!found.partial, "{marker}");
            assert_eq!(found.matches.len(), 0, "{marker}");
        }
        let line = source.replace(
            "    /** Member 3. */",
            "    // fleetmod-ignore\n    /** Member 3. */",
        );
        let found = scanner.scan(java, Path::new("E"), &line);
        assert!(!found.partial);
        assert_eq!(found.matches.len(), 1);
    }
}
