use super::*;
use crate::lang::parse_ranges;

fn java() -> Language {
    Language::from_name("java").expect("java")
}

fn python() -> Language {
    Language::from_name("python").expect("python")
}

/// The trimmed text of each member of each container, and of each leaf.
fn pieces(language: Language, source: &str) -> Vec<String> {
    let spec = language.outline().expect("outlined");
    let outline = Outline::new(spec, source).expect("the scan understands it");
    let mut pieces = Vec::new();
    let mut end = 0;
    for item in &outline.items {
        assert_eq!(item.range().start, end, "items are contiguous");
        end = item.range().end;
        match item {
            Item::Leaf(range) => pieces.push(format!("leaf: {}", source[range.clone()].trim())),
            Item::Container {
                header,
                members,
                closer,
            } => {
                pieces.push(format!("header: {}", source[header.clone()].trim()));
                let mut member_end = header.end;
                for member in members {
                    assert_eq!(member.start, member_end, "members are contiguous");
                    member_end = member.end;
                    pieces.push(format!("member: {}", source[member.clone()].trim()));
                }
                assert_eq!(closer.start, member_end, "the closer follows the members");
                pieces.push(format!("closer: {}", source[closer.clone()].trim()));
            }
        }
    }
    assert_eq!(end, source.len(), "items cover the file");
    pieces
}

/// Every line start as a hit, one at a time, must give a partial parse
/// that passes the check and agrees with the full parse; returns how many
/// nodes were compared.
fn agrees_everywhere(language: Language, source: &str) -> usize {
    let mut compared = 0;
    let mut offset = 0;
    for line in source.split_inclusive('\n') {
        let first = offset + (line.len() - line.trim_start().len());
        offset += line.len();
        if first >= offset {
            continue;
        }
        match compare_with_full_parse(language, source, std::slice::from_ref(&(first..first + 1))) {
            Agreement::Same(nodes) => compared += nodes,
            Agreement::Skipped(reason) => panic!("line at {first}: {reason}"),
            Agreement::Differs(difference) => {
                panic!("line at {first}: {difference}\n{source}")
            }
        }
    }
    compared
}

const JAVA: &str = r#"// A licence header { with a brace
package example;

import java.util.List;

@Deprecated(since = "1")
public class Example<T extends Comparable<T>> extends Base implements Runnable {
    private static final int[] TABLE = {1, 2, 3};
    private final Runnable task = new Runnable() {
        public void run() { done = true; }
    };
    static { System.out.println("}"); }
    /** Javadoc with } and { */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public boolean same(Object other) {
        char quote = '"';
        char brace = '}';
        String block = """
            a text block with } and " and \""" inside
            """;
        return this.equals(other) && quote != brace;
    }
    class Inner { void f() { g(); } }
    ;
    int x = y == null ? 0 : 1, z;
}

enum Color {
    RED { int code() { return 1; } }, GREEN;
    int code() { return 0; }
}

record Point(int x, int y) {
    Point { if (x < 0) throw new IllegalArgumentException(); }
}

enum Plain { A, B }

@interface Names {
    String[] value() default {};
    int size() default 1;
}

interface Shape {
    @SuppressWarnings("unused")
    default double area() { return 0; }
    int sides();
}
"#;

#[test]
fn java_members_end_at_their_semicolon_or_brace() {
    let pieces = pieces(java(), JAVA);
    let expected = [
        "leaf: // A licence header { with a brace\npackage example;",
        "leaf: import java.util.List;",
        "header: @Deprecated(since = \"1\")\npublic class Example<T extends Comparable<T>> extends Base implements Runnable {",
        "member: private static final int[] TABLE = {1, 2, 3};",
        "member: private final Runnable task = new Runnable() {\n        public void run() { done = true; }\n    };",
        "member: static { System.out.println(\"}\"); }",
    ];
    assert_eq!(pieces[..expected.len()], expected);
    assert!(pieces[6].starts_with("member: /** Javadoc with } and { */\n    @SuppressWarnings"));
    assert!(pieces[6].ends_with("quote != brace;\n    }"));
    let rest = [
        // A `;` after a block stays with it.
        "member: class Inner { void f() { g(); } }\n    ;",
        "member: int x = y == null ? 0 : 1, z;",
        "closer: }",
        "header: enum Color {\n    RED { int code() { return 1; } }, GREEN;",
        "member: int code() { return 0; }",
        "closer: }",
        "header: record Point(int x, int y) {",
        "member: Point { if (x < 0) throw new IllegalArgumentException(); }",
        "closer: }",
        "leaf: enum Plain { A, B }",
        "header: @interface Names {",
        "member: String[] value() default {};",
        "member: int size() default 1;",
        "closer: }",
        "header: interface Shape {",
        "member: @SuppressWarnings(\"unused\")\n    default double area() { return 0; }",
        "member: int sides();",
        "closer: }",
        "leaf: ",
    ];
    assert_eq!(pieces[7..], rest);
}

const PYTHON: &str = r#"#!/usr/bin/env python
"""A docstring with class Fake:
    and an indented line."""
import os, \
    sys


@decorator(
    argument)
class Example(Base,
              metaclass=Meta):
    '''Its docstring.'''
    WIDTH = 10

    @property
    def name(self):
        # a comment at any column
  # even this one
        return f"{self.first!r:>{self.WIDTH}} {'nested'} {{literal}}"

    def raw(self):
        return rf"C:\{self.path}\x" + '\\'

    try:
        import fast
    except ImportError:
        fast = None
    else:
        pass

	# a tab-indented comment
    class Inner: pass


if os.name == "nt":
    sep = "\\"
elif sys.platform:
    sep = "/"
else:
    sep = (
"unindented inside brackets")

def tail(values):
    return [value
for value in values]
"#;

#[test]
fn python_statements_start_at_their_indentation() {
    let pieces = pieces(python(), PYTHON);
    assert_eq!(pieces.len(), 12, "{pieces:#?}");
    assert!(pieces[0].starts_with("leaf: #!/usr/bin/env python\n\"\"\"A docstring"));
    assert_eq!(pieces[1], "leaf: import os, \\\n    sys");
    assert_eq!(
        pieces[2],
        "header: @decorator(\n    argument)\nclass Example(Base,\n              metaclass=Meta):"
    );
    assert_eq!(pieces[3], "member: '''Its docstring.'''");
    assert_eq!(pieces[4], "member: WIDTH = 10");
    assert!(pieces[5].starts_with("member: @property\n    def name(self):"));
    assert!(pieces[5].ends_with("{{literal}}\""));
    assert!(pieces[6].starts_with("member: def raw(self):"));
    assert!(pieces[7].starts_with("member: try:\n"));
    assert!(pieces[7].ends_with("else:\n        pass\n\n\t# a tab-indented comment"));
    assert_eq!(pieces[8], "member: class Inner: pass");
    assert_eq!(pieces[9], "closer: ");
    assert!(pieces[10].starts_with("leaf: if os.name"));
    assert!(pieces[11].starts_with("leaf: def tail(values):"));
}

#[test]
fn python_top_level_statements_take_their_clauses() {
    let spec = python().outline().expect("outlined");
    let outline = Outline::new(spec, PYTHON).expect("outlined");
    let leaves: Vec<&str> = outline
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Leaf(range) => Some(PYTHON[range.clone()].trim()),
            Item::Container { .. } => None,
        })
        .collect();
    assert_eq!(leaves.len(), 4, "{leaves:#?}");
    assert!(leaves[2].starts_with("if os.name == \"nt\":"));
    assert!(leaves[2].ends_with("\"unindented inside brackets\")"));
    assert!(leaves[3].starts_with("def tail(values):"));
}

#[test]
fn partial_parses_agree_with_full_parses() {
    assert!(agrees_everywhere(java(), JAVA) > 50);
    assert!(agrees_everywhere(python(), PYTHON) > 20);
}

#[test]
fn the_scans_give_up_on_what_they_do_not_understand() {
    let java_cases = [
        "class A { void f() { }",
        "class A { String s = \"unterminated; }",
        "class A { /* unterminated }",
        "class A { int x }",
        "class A ) {",
        "class A { } }",
    ];
    for case in java_cases {
        assert_eq!(
            Outline::new(java().outline().expect("java"), case),
            None,
            "{case}"
        );
    }
    let python_cases = [
        "x = (1,\n",
        "s = 'unterminated\n",
        "s = '''unterminated\n",
        "s = f'{x'\n",
        "s = f'}'\n",
        "class A:\n        a = 1\n    b = 2\n",
        "    indented = 1\n",
        "x = 1)\n",
    ];
    for case in python_cases {
        assert_eq!(
            Outline::new(python().outline().expect("python"), case),
            None,
            "{case:?}"
        );
    }
}

#[test]
fn regions_hold_the_members_with_hits_and_their_class() {
    let spec = java().outline().expect("java");
    let source = "class A {\n  void f() { a(); }\n  void g() { b(); }\n  void h() { c(); }\n}\n";
    let outline = Outline::new(spec, source).expect("outlined");
    let hit = source.find("b()").expect("present");
    let regions = outline
        .regions(std::slice::from_ref(&(hit..hit + 1)), source.len())
        .expect("a third of the file");
    let parsed: Vec<&str> = regions
        .ranges
        .iter()
        .map(|range| &source[range.clone()])
        .collect();
    assert_eq!(parsed, ["class A {", "\n  void g() { b(); }", "\n}"]);
    let tree = parse_ranges(java(), source, &regions.ranges).expect("parses");
    assert!(regions.verify(spec, &tree));
    assert_eq!(
        tree.root_node().to_sexp(),
        "(program (class_declaration name: (identifier) body: (class_body \
         (method_declaration type: (void_type) name: (identifier) parameters: (formal_parameters) \
         body: (block (expression_statement (method_invocation name: (identifier) \
         arguments: (argument_list))))))))"
    );
    // A hit in the header takes the whole class, which is most of the file.
    assert_eq!(
        outline.regions(std::slice::from_ref(&(0..1)), source.len()),
        None
    );
}

#[test]
fn the_check_rejects_a_cut_that_is_not_a_member() {
    let spec = python().outline().expect("python");
    let source = "class A:\n    def f(self):\n        a(1,\n          2)\n        b()\n\n    def g(self):\n        pass\n";
    let end = source.find("\n    def g").expect("present") + 1;
    let rejected = |start: usize| {
        let regions = Regions {
            ranges: vec![0..9, start..end],
            units: vec![(start..end, true)],
        };
        let tree = parse_ranges(python(), source, &regions.ranges).expect("parses");
        !regions.verify(spec, &tree)
    };
    // Cuts a wrong scan might make: inside brackets, or in the middle of a
    // line (the statement loses its indentation).
    assert!(rejected(source.find("          2)").expect("present")));
    assert!(rejected(source.find("b()").expect("present")));
    // The right cut passes.
    assert!(!rejected(source.find("    def f").expect("present")));
    // A Java member cut short does not parse; a statement is not a member.
    let spec = java().outline().expect("java");
    let source = "class A {\n  void f() { if (x) { a(); } }\n}\n";
    let cut = source.find("a(); }").expect("present") + "a(); }".len();
    let statement = source.find("a();").expect("present");
    for unit in [9..cut, statement..statement + 4] {
        let regions = Regions {
            ranges: vec![0..9, unit.clone(), source.len() - 2..source.len()],
            units: vec![(unit, true)],
        };
        let tree = parse_ranges(java(), source, &regions.ranges).expect("parses");
        assert!(!regions.verify(spec, &tree));
    }
}
