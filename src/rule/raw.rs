//! Raw rule files: serde structs that mirror the YAML exactly.
//!
//! This is the first of the two loading steps. These structs reject unknown
//! keys (`deny_unknown_fields`) and keep the source location of every value
//! that a later check may need to point at ([`Spanned`]). They do no
//! validation beyond shape; [`super::compile`] turns them into compiled rules.
//!
//! Fields that accept several shapes (`pattern`, `nthChild`, `stopBy`, file
//! globs) have hand-written `Deserialize` impls instead of `#[serde(untagged)]`
//! enums: untagged enums lose source locations and produce vague errors.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;

/// One rule document in a rule file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRuleConfig {
    pub(crate) id: Option<Spanned<String>>,
    pub(crate) language: Option<Spanned<String>>,
    pub(crate) rule: Option<Spanned<RawRule>>,
    pub(crate) constraints: Option<BTreeMap<String, Spanned<RawRule>>>,
    pub(crate) utils: Option<BTreeMap<String, Spanned<RawRule>>>,
    pub(crate) transform: Option<BTreeMap<String, Spanned<RawTransform>>>,
    pub(crate) fix: Option<Spanned<RawFix>>,
    pub(crate) rewriters: Option<Vec<Spanned<RawRewriter>>>,
    pub(crate) message: Option<String>,
    pub(crate) note: Option<String>,
    pub(crate) severity: Option<Severity>,
    // Accepted for ast-grep compatibility; fleetmod reports whole matches.
    #[allow(dead_code)]
    pub(crate) labels: Option<serde_json::Value>,
    pub(crate) files: Option<Vec<Spanned<RawGlob>>>,
    pub(crate) ignores: Option<Vec<Spanned<RawGlob>>>,
    pub(crate) url: Option<String>,
    pub(crate) metadata: Option<serde_json::Value>,
    pub(crate) applicability: Option<Applicability>,
}

/// One shared utility rule (a file in an `sgconfig.yml` `utilDirs` folder).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawUtilConfig {
    pub(crate) id: Spanned<String>,
    pub(crate) language: Spanned<String>,
    pub(crate) rule: Spanned<RawRule>,
    pub(crate) constraints: Option<BTreeMap<String, Spanned<RawRule>>>,
    pub(crate) utils: Option<BTreeMap<String, Spanned<RawRule>>>,
    pub(crate) transform: Option<BTreeMap<String, Spanned<RawTransform>>>,
}

/// A rewriter: a rule with a fix, applied by the `rewrite` transformation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRewriter {
    pub(crate) id: Spanned<String>,
    /// Accepted as in ast-grep (whose catalog writes it); a rewriter always
    /// uses its rule's language.
    #[allow(dead_code)]
    pub(crate) language: Option<serde_json::Value>,
    pub(crate) rule: Spanned<RawRule>,
    pub(crate) constraints: Option<BTreeMap<String, Spanned<RawRule>>>,
    pub(crate) utils: Option<BTreeMap<String, Spanned<RawRule>>>,
    pub(crate) transform: Option<BTreeMap<String, Spanned<RawTransform>>>,
    pub(crate) fix: Spanned<RawFix>,
}

/// `fix: "template"`, `fix: {template, expandStart, expandEnd, title}` or a
/// list of titled fixes (the first is applied).
#[derive(Debug)]
pub(crate) enum RawFix {
    Template(String),
    Object(Box<RawFixObject>),
    List(Vec<RawFixObject>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawFixObject {
    pub(crate) template: Spanned<String>,
    pub(crate) expand_start: Option<Spanned<Box<RawRule>>>,
    pub(crate) expand_end: Option<Spanned<Box<RawRule>>>,
    pub(crate) title: Option<String>,
}

/// A transformation: the object form (`{substring: {...}}`) or ast-grep's
/// string shorthand (`substring($A, startChar=1)`).
#[derive(Debug)]
pub(crate) enum RawTransform {
    Shorthand(String),
    Object(Box<RawTransformObject>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawTransformObject {
    pub(crate) substring: Option<RawSubstring>,
    pub(crate) replace: Option<RawReplace>,
    pub(crate) convert: Option<RawConvert>,
    pub(crate) rewrite: Option<RawRewrite>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawSubstring {
    pub(crate) source: String,
    pub(crate) start_char: Option<i64>,
    pub(crate) end_char: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawReplace {
    pub(crate) source: String,
    pub(crate) replace: String,
    pub(crate) by: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawConvert {
    pub(crate) source: String,
    pub(crate) to_case: StringCase,
    pub(crate) separated_by: Option<Vec<Separator>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawRewrite {
    pub(crate) source: String,
    pub(crate) rewriters: Vec<String>,
    pub(crate) join_by: Option<String>,
}

/// Target cases of `convert`, as in ast-grep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StringCase {
    LowerCase,
    UpperCase,
    Capitalize,
    CamelCase,
    SnakeCase,
    KebabCase,
    PascalCase,
}

/// Word separators for `convert`, as in ast-grep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Separator {
    CaseChange,
    Dash,
    Dot,
    Slash,
    Space,
    Underscore,
}

/// How loudly a rule reports, as in ast-grep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The rule is disabled.
    Off,
    #[default]
    Hint,
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Off => "off",
            Severity::Hint => "hint",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Whether a rule's edits may be applied without a human looking at them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    #[default]
    Safe,
    Review,
}

/// A rule object: atomic, relational and composite keys, all optional.
///
/// `stopBy` and `field` belong to relational rules (`inside`, `has`,
/// `follows`, `precedes`); they are accepted here so that one struct serves
/// every position, and the compiler rejects them anywhere else.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawRule {
    pub(crate) pattern: Option<Spanned<RawPattern>>,
    pub(crate) kind: Option<Spanned<String>>,
    pub(crate) regex: Option<Spanned<String>>,
    pub(crate) nth_child: Option<Spanned<RawNthChild>>,
    pub(crate) range: Option<Spanned<RawRange>>,
    pub(crate) query: Option<Spanned<String>>,
    pub(crate) inside: Option<Spanned<Box<RawRule>>>,
    pub(crate) has: Option<Spanned<Box<RawRule>>>,
    pub(crate) precedes: Option<Spanned<Box<RawRule>>>,
    pub(crate) follows: Option<Spanned<Box<RawRule>>>,
    pub(crate) stop_by: Option<Spanned<RawStopBy>>,
    pub(crate) field: Option<Spanned<String>>,
    pub(crate) all: Option<Spanned<Vec<Spanned<RawRule>>>>,
    pub(crate) any: Option<Spanned<Vec<Spanned<RawRule>>>>,
    pub(crate) not: Option<Spanned<Box<RawRule>>>,
    pub(crate) matches: Option<Spanned<String>>,
}

/// `pattern: "code"` or `pattern: {context, selector, strictness}`.
#[derive(Debug)]
pub(crate) enum RawPattern {
    Text(String),
    Object(RawPatternObject),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPatternObject {
    pub(crate) context: Spanned<String>,
    pub(crate) selector: Option<Spanned<String>>,
    pub(crate) strictness: Option<Strictness>,
}

/// How strictly a pattern matches, as in ast-grep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strictness {
    /// Every node, trivia included, must match.
    Cst,
    /// Every node except unnamed trivia in the source must match (default).
    #[default]
    Smart,
    /// Only named nodes must match.
    Ast,
    /// Named nodes except comments must match.
    Relaxed,
    /// Named nodes except comments must match by kind; text is ignored.
    Signature,
    /// Node kinds are ignored; only text matters.
    Template,
}

/// `nthChild: 3`, `nthChild: "2n+1"` or `nthChild: {position, ofRule, reverse}`.
#[derive(Debug)]
pub(crate) enum RawNthChild {
    Position(RawPosition),
    Object(RawNthChildObject),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawNthChildObject {
    pub(crate) position: Spanned<RawPosition>,
    pub(crate) of_rule: Option<Spanned<Box<RawRule>>>,
    #[serde(default)]
    pub(crate) reverse: bool,
}

/// A position in a sibling list: a number or CSS-like `An+B`.
#[derive(Debug)]
pub(crate) enum RawPosition {
    Number(u64),
    Formula(String),
}

/// `range: {start: {line, column}, end: {line, column}}` (0-based, as in ast-grep).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRange {
    pub(crate) start: RawPoint,
    pub(crate) end: RawPoint,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPoint {
    pub(crate) line: usize,
    pub(crate) column: Option<usize>,
}

/// `stopBy: neighbor`, `stopBy: end` or `stopBy: <rule>`.
#[derive(Debug)]
pub(crate) enum RawStopBy {
    Neighbor,
    End,
    Rule(Box<RawRule>),
}

/// A file glob: `"src/**/*.py"` or `{glob, caseInsensitive}`.
#[derive(Debug)]
pub(crate) struct RawGlob {
    pub(crate) glob: String,
    pub(crate) case_insensitive: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawGlobObject {
    glob: String,
    #[serde(default)]
    case_insensitive: bool,
}

/// A scalar as seen by the hand-written visitors below.
enum Scalar {
    Text(String),
    Number(u64),
}

/// Implements `Deserialize` for a type written either as a scalar or as a
/// mapping: `$on_scalar` handles a [`Scalar`], `$on_map` a map deserializer.
macro_rules! scalar_or_map {
    ($type:ty, $expecting:literal, |$scalar:ident| $on_scalar:expr, |$map:ident| $on_map:expr) => {
        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct TheVisitor;
                impl<'de> Visitor<'de> for TheVisitor {
                    type Value = $type;
                    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                        formatter.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, value: &str) -> Result<$type, E> {
                        let $scalar = Scalar::Text(value.to_owned());
                        let result: Result<$type, String> = $on_scalar;
                        result.map_err(E::custom)
                    }
                    fn visit_u64<E: de::Error>(self, value: u64) -> Result<$type, E> {
                        let $scalar = Scalar::Number(value);
                        let result: Result<$type, String> = $on_scalar;
                        result.map_err(E::custom)
                    }
                    fn visit_i64<E: de::Error>(self, value: i64) -> Result<$type, E> {
                        match u64::try_from(value) {
                            Ok(value) => self.visit_u64(value),
                            Err(_) => {
                                Err(E::custom(format!("expected {}, found {value}", $expecting)))
                            }
                        }
                    }
                    fn visit_map<A: MapAccess<'de>>(self, $map: A) -> Result<$type, A::Error> {
                        let $map = de::value::MapAccessDeserializer::new($map);
                        $on_map
                    }
                }
                deserializer.deserialize_any(TheVisitor)
            }
        }
    };
}

scalar_or_map!(
    RawPattern,
    "a pattern string or a {context, selector, strictness} object",
    |scalar| match scalar {
        Scalar::Text(text) => Ok(RawPattern::Text(text)),
        Scalar::Number(number) => Ok(RawPattern::Text(number.to_string())),
    },
    |map| RawPatternObject::deserialize(map).map(RawPattern::Object)
);

scalar_or_map!(
    RawPosition,
    "a number or an `An+B` formula",
    |scalar| match scalar {
        Scalar::Text(text) => Ok(RawPosition::Formula(text)),
        Scalar::Number(number) => Ok(RawPosition::Number(number)),
    },
    |map| {
        let _ = map;
        Err(de::Error::invalid_type(
            de::Unexpected::Map,
            &"a number or an `An+B` formula",
        ))
    }
);

scalar_or_map!(
    RawNthChild,
    "a number, an `An+B` formula or a {position, ofRule, reverse} object",
    |scalar| match scalar {
        Scalar::Text(text) => Ok(RawNthChild::Position(RawPosition::Formula(text))),
        Scalar::Number(number) => Ok(RawNthChild::Position(RawPosition::Number(number))),
    },
    |map| RawNthChildObject::deserialize(map).map(RawNthChild::Object)
);

scalar_or_map!(
    RawStopBy,
    "`neighbor`, `end` or a rule object",
    |scalar| match scalar {
        Scalar::Text(text) if text == "neighbor" => Ok(RawStopBy::Neighbor),
        Scalar::Text(text) if text == "end" => Ok(RawStopBy::End),
        Scalar::Text(text) => Err(format!(
            "unknown stopBy `{text}`, expected `neighbor`, `end` or a rule object"
        )),
        Scalar::Number(number) => Err(format!(
            "unknown stopBy `{number}`, expected `neighbor`, `end` or a rule object"
        )),
    },
    |map| RawRule::deserialize(map).map(|rule| RawStopBy::Rule(Box::new(rule)))
);

/// A fix written as a list of titled fixes.
impl<'de> Deserialize<'de> for RawFix {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FixVisitor;
        impl<'de> Visitor<'de> for FixVisitor {
            type Value = RawFix;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a fix template string, a {template, expandStart, expandEnd} object or a list of them")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<RawFix, E> {
                Ok(RawFix::Template(value.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawFix, A::Error> {
                RawFixObject::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|object| RawFix::Object(Box::new(object)))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut sequence: A) -> Result<RawFix, A::Error> {
                let mut fixes = Vec::new();
                while let Some(fix) = sequence.next_element::<RawFixObject>()? {
                    fixes.push(fix);
                }
                Ok(RawFix::List(fixes))
            }
        }
        deserializer.deserialize_any(FixVisitor)
    }
}

scalar_or_map!(
    RawTransform,
    "a transformation object ({substring|replace|convert|rewrite: ...}) or a string such as `substring($A, startChar=1)`",
    |scalar| match scalar {
        Scalar::Text(text) => Ok(RawTransform::Shorthand(text)),
        Scalar::Number(number) => Err(format!("expected a transformation, found {number}")),
    },
    |map| RawTransformObject::deserialize(map).map(|object| RawTransform::Object(Box::new(object)))
);

scalar_or_map!(
    RawGlob,
    "a glob string or a {glob, caseInsensitive} object",
    |scalar| match scalar {
        Scalar::Text(glob) => Ok(RawGlob {
            glob,
            case_insensitive: false,
        }),
        Scalar::Number(number) => Ok(RawGlob {
            glob: number.to_string(),
            case_insensitive: false,
        }),
    },
    |map| RawGlobObject::deserialize(map).map(|object| RawGlob {
        glob: object.glob,
        case_insensitive: object.case_insensitive,
    })
);
