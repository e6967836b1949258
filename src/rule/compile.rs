//! The second loading step: raw rule objects to validated [`Matcher`]s.
//!
//! Everything that can be wrong with a rule is found here, with the position
//! of the offending value: patterns that do not parse, unknown kinds and
//! fields, invalid regexes and queries, `stopBy`/`field` outside relational
//! rules, references to undefined utilities and cycles among utilities.
//! Members of a rule object are combined in ast-grep's order (atomic, then
//! composite, then relational), which decides the order of metavariable
//! binding.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_saphyr::Spanned;

use super::error::{Located, Point, point_in_scalar};
use super::matcher::{
    CoreRule, KindContext, Matcher, NthChild, RangeMatcher, Relation, StopBy, UtilityReference,
};
use super::nth_child::Position;
use super::pattern::{self, PatternError};
use super::query;
use super::raw::{RawNthChild, RawPattern, RawPosition, RawRule, RawStopBy, Strictness};
use super::selector;
use crate::lang::Language;

/// Shared utility rules, compiled before the rules that use them.
#[derive(Debug, Default)]
pub struct Globals {
    pub(crate) ids: HashMap<String, usize>,
    pub(crate) languages: Vec<Language>,
    pub(crate) rules: Vec<CoreRule>,
}

/// What a rule object is compiled against.
pub(crate) struct Scope<'a> {
    pub(crate) language: Language,
    /// The whole rule file, to point inside multi-line scalars.
    pub(crate) source: &'a str,
    pub(crate) locals: &'a HashMap<String, usize>,
    pub(crate) globals: &'a Globals,
}

/// Where a rule object sits, which decides whether `stopBy`/`field` are allowed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Placement {
    Plain,
    InsideOrHas,
    PrecedesOrFollows,
}

type Result<T> = std::result::Result<T, Located>;

/// Compiles a rule with its own metavariable scope: the main `rule:` of a
/// rule file or a shared utility.
/// ast-grep reserves `(`, `)`, `,` and `=` in utility ids (for
/// parameterized utilities), so such an id is an error there and here.
pub(crate) fn check_utility_id(id: &str, at: serde_saphyr::Location) -> Result<()> {
    if id.is_empty() || id.contains(['(', ')', ',', '=']) {
        return Err(Located::new(
            at,
            format!("utility id `{id}` contains reserved characters: `(`, `)`, `,` or `=`"),
        ));
    }
    Ok(())
}

pub(crate) fn compile_core(
    rule: &Spanned<RawRule>,
    constraints: Option<&BTreeMap<String, Spanned<RawRule>>>,
    utils: Option<&BTreeMap<String, Spanned<RawRule>>>,
    language: Language,
    source: &str,
    globals: &Globals,
) -> Result<CoreRule> {
    let empty = BTreeMap::new();
    let utils = utils.unwrap_or(&empty);
    for (id, util) in utils {
        check_utility_id(id, util.referenced)?;
    }
    let entries = utils
        .iter()
        .map(|(id, util)| (id.as_str(), (&util.value, Point::from(util.referenced))))
        .collect();
    utility_order(&entries)?;
    let ids = local_ids(Some(utils));
    let scope = Scope {
        language,
        source,
        locals: &ids,
        globals,
    };
    let locals = utils
        .values()
        .map(|util| compile(util, &scope))
        .collect::<Result<Vec<_>>>()?;
    let matcher = compile(rule, &scope)?;
    let mut defined: HashSet<String> = defined_variables(&matcher);
    for local in &locals {
        defined.extend(defined_variables(local));
    }
    let mut compiled_constraints = Vec::new();
    for (name, constraint) in constraints.unwrap_or(&empty) {
        let compiled = compile(constraint, &scope)?;
        defined.extend(defined_variables(&compiled));
        compiled_constraints.push((name.as_str(), constraint, compiled));
    }
    for (name, constraint, _) in &compiled_constraints {
        if !defined.contains(*name) {
            return Err(Located::new(
                constraint.referenced,
                format!("constraint on `${name}`, but no pattern defines `${name}`"),
            ));
        }
    }
    let constraints = compiled_constraints
        .into_iter()
        .map(|(name, _, compiled)| (Box::from(name), compiled))
        .collect();
    let kinds = matcher.potential_kinds(&KindContext::new(&locals, &globals.rules));
    Ok(CoreRule {
        matcher,
        constraints,
        locals,
        kinds,
    })
}

/// Indices of a rule's local utilities, in the order `compile_core` compiles them.
pub(crate) fn local_ids(
    utils: Option<&BTreeMap<String, Spanned<RawRule>>>,
) -> HashMap<String, usize> {
    utils
        .into_iter()
        .flat_map(BTreeMap::keys)
        .enumerate()
        .map(|(index, id)| (id.clone(), index))
        .collect()
}

/// The metavariables a core rule defines: its rule's, its local utilities'
/// and its constraints'.
pub(crate) fn core_variables(core: &CoreRule) -> HashSet<String> {
    let mut defined = defined_variables(&core.matcher);
    for matcher in core
        .locals
        .iter()
        .chain(core.constraints.iter().map(|(_, matcher)| matcher))
    {
        defined.extend(defined_variables(matcher));
    }
    defined
}

/// Compiles the rule and `stopBy` of a relational object used outside a
/// relation (a fix's `expandStart`/`expandEnd`).
pub(crate) fn compile_relation_parts(
    raw: &Spanned<Box<RawRule>>,
    scope: &Scope<'_>,
) -> Result<(Matcher, StopBy)> {
    let relation = compile_relation(raw, scope, Placement::PrecedesOrFollows)?;
    Ok((relation.rule, relation.stop_by))
}

/// Compiles one rule object in plain position.
pub(crate) fn compile(raw: &Spanned<RawRule>, scope: &Scope<'_>) -> Result<Matcher> {
    compile_at(&raw.value, raw.referenced.into(), scope, Placement::Plain)
}

fn compile_at(raw: &RawRule, at: Point, scope: &Scope<'_>, position: Placement) -> Result<Matcher> {
    if position == Placement::Plain
        && let Some(stop_by) = &raw.stop_by
    {
        return Err(Located::new(
            stop_by.referenced,
            "`stopBy` is only allowed in `inside`, `has`, `precedes` and `follows`",
        ));
    }
    if position != Placement::InsideOrHas
        && let Some(field) = &raw.field
    {
        return Err(Located::new(
            field.referenced,
            "`field` is only allowed in `inside` and `has`",
        ));
    }
    let mut members = Vec::new();
    // Atomic rules.
    if let Some(pattern) = &raw.pattern {
        members.push(compile_pattern(pattern, scope)?);
    }
    if let Some(kind) = &raw.kind {
        let matcher = selector::compile(&kind.value, scope.language)
            .map_err(|message| Located::new(kind.referenced, message))?;
        members.push(matcher);
    }
    if let Some(regex) = &raw.regex {
        let compiled = regex::Regex::new(&regex.value).map_err(|error| {
            Located::new(
                regex.referenced,
                format!("invalid regex `{}`: {}", regex.value, regex_reason(&error)),
            )
        })?;
        members.push(Matcher::Regex(compiled));
    }
    if let Some(nth_child) = &raw.nth_child {
        members.push(compile_nth_child(nth_child, scope)?);
    }
    if let Some(range) = &raw.range {
        let range_value = &range.value;
        let (start, end) = (&range_value.start, &range_value.end);
        if start.line > end.line || (start.line == end.line && start.column > end.column) {
            return Err(Located::new(
                range.referenced,
                "`range` ends before it starts",
            ));
        }
        members.push(Matcher::Range(RangeMatcher {
            start_line: start.line,
            start_column: start.column,
            end_line: end.line,
            end_column: end.column,
        }));
    }
    if let Some(text) = &raw.query {
        let compiled = query::compile(scope.language, &text.value).map_err(|error| {
            let point = point_in_scalar(
                scope.source,
                text.referenced,
                &text.value,
                error.char_offset,
            );
            Located::new(point, error.message)
        })?;
        members.push(Matcher::Query(Box::new(compiled)));
    }
    // Composite rules.
    if let Some(all) = &raw.all {
        members.push(Matcher::All(compile_list(&all.value, scope)?));
    }
    if let Some(any) = &raw.any {
        members.push(Matcher::Any(compile_list(&any.value, scope)?));
    }
    if let Some(not) = &raw.not {
        let inner = compile_at(&not.value, not.referenced.into(), scope, Placement::Plain)?;
        members.push(Matcher::Not(Box::new(inner)));
    }
    if let Some(id) = &raw.matches {
        members.push(Matcher::Matches(resolve_utility(id, scope)?));
    }
    // Relational rules.
    if let Some(inside) = &raw.inside {
        members.push(Matcher::Inside(Box::new(compile_relation(
            inside,
            scope,
            Placement::InsideOrHas,
        )?)));
    }
    if let Some(has) = &raw.has {
        members.push(Matcher::Has(Box::new(compile_relation(
            has,
            scope,
            Placement::InsideOrHas,
        )?)));
    }
    if let Some(precedes) = &raw.precedes {
        members.push(Matcher::Precedes(Box::new(compile_relation(
            precedes,
            scope,
            Placement::PrecedesOrFollows,
        )?)));
    }
    if let Some(follows) = &raw.follows {
        members.push(Matcher::Follows(Box::new(compile_relation(
            follows,
            scope,
            Placement::PrecedesOrFollows,
        )?)));
    }
    match members.len() {
        0 => Err(Located::new(
            at,
            "the rule object has no matcher; use at least one of pattern, kind, regex, nthChild, \
             range, query, inside, has, precedes, follows, all, any, not, matches",
        )),
        1 => Ok(members.remove(0)),
        _ => Ok(Matcher::All(members)),
    }
}

fn compile_list(members: &[Spanned<RawRule>], scope: &Scope<'_>) -> Result<Vec<Matcher>> {
    members
        .iter()
        .map(|member| compile(member, scope))
        .collect()
}

fn compile_relation(
    raw: &Spanned<Box<RawRule>>,
    scope: &Scope<'_>,
    position: Placement,
) -> Result<Relation> {
    let rule = compile_at(&raw.value, raw.referenced.into(), scope, position)?;
    let stop_by = match &raw.value.stop_by {
        None => StopBy::Neighbor,
        Some(stop_by) => match &stop_by.value {
            RawStopBy::Neighbor => StopBy::Neighbor,
            RawStopBy::End => StopBy::End,
            RawStopBy::Rule(rule) => StopBy::Rule(compile_at(
                rule,
                stop_by.referenced.into(),
                scope,
                Placement::Plain,
            )?),
        },
    };
    let field = match &raw.value.field {
        None => None,
        Some(field) => Some(scope.language.field_id(&field.value).ok_or_else(|| {
            Located::new(
                field.referenced,
                format!("unknown field `{}` for {}", field.value, scope.language),
            )
        })?),
    };
    Ok(Relation {
        rule,
        stop_by,
        field,
    })
}

fn compile_pattern(raw: &Spanned<RawPattern>, scope: &Scope<'_>) -> Result<Matcher> {
    let (text, at, selector, strictness) = match &raw.value {
        RawPattern::Text(text) => (text.as_str(), raw.referenced, None, Strictness::Smart),
        RawPattern::Object(object) => (
            object.context.value.as_str(),
            object.context.referenced,
            object.selector.as_ref(),
            object.strictness.unwrap_or_default(),
        ),
    };
    let selector_text = selector.map(|selector| selector.value.as_str());
    pattern::compile(scope.language, text, selector_text, strictness)
        .map(Matcher::Pattern)
        .map_err(|error| {
            let point = match (&error, selector) {
                (PatternError::Syntax { char_offset, .. }, _) => {
                    point_in_scalar(scope.source, at, text, *char_offset)
                }
                (
                    PatternError::UnknownSelector(_) | PatternError::SelectorNotFound(_),
                    Some(selector),
                ) => selector.referenced.into(),
                _ => at.into(),
            };
            Located::new(point, format!("invalid pattern: {error}"))
        })
}

fn compile_nth_child(raw: &Spanned<RawNthChild>, scope: &Scope<'_>) -> Result<Matcher> {
    let parse = |position: &RawPosition, at: Point| match position {
        RawPosition::Number(number) => Ok(Position::number(*number)),
        RawPosition::Formula(formula) => {
            Position::parse(formula).map_err(|message| Located::new(at, message))
        }
    };
    let nth = match &raw.value {
        RawNthChild::Position(position) => NthChild {
            position: parse(position, raw.referenced.into())?,
            of_rule: None,
            reverse: false,
        },
        RawNthChild::Object(object) => NthChild {
            position: parse(&object.position.value, object.position.referenced.into())?,
            of_rule: match &object.of_rule {
                Some(rule) => Some(compile_at(
                    &rule.value,
                    rule.referenced.into(),
                    scope,
                    Placement::Plain,
                )?),
                None => None,
            },
            reverse: object.reverse,
        },
    };
    Ok(Matcher::NthChild(Box::new(nth)))
}

fn resolve_utility(id: &Spanned<String>, scope: &Scope<'_>) -> Result<UtilityReference> {
    if let Some(&index) = scope.locals.get(&id.value) {
        return Ok(UtilityReference::Local(index));
    }
    if let Some(&index) = scope.globals.ids.get(&id.value) {
        let language = scope.globals.languages[index];
        if language != scope.language {
            return Err(Located::new(
                id.referenced,
                format!(
                    "utility rule `{}` is for {language}, but this rule is for {}",
                    id.value, scope.language
                ),
            ));
        }
        return Ok(UtilityReference::Global(index));
    }
    Err(Located::new(
        id.referenced,
        format!(
            "`matches` refers to an unknown utility rule `{}`; define it under `utils:` \
             or in a file of an sgconfig.yml `utilDirs` folder",
            id.value
        ),
    ))
}

/// The metavariables a matcher defines (not following utility references).
pub(crate) fn defined_variables(matcher: &Matcher) -> HashSet<String> {
    let mut names = HashSet::new();
    matcher.walk(&mut |node| match node {
        Matcher::Pattern(pattern) => {
            names.extend(pattern.defined_variables().into_iter().map(str::to_owned))
        }
        Matcher::Query(query) => names.extend(
            query
                .query
                .capture_names()
                .iter()
                .filter(|name| **name != query::ROOT_CAPTURE)
                .map(|name| (*name).to_owned()),
        ),
        _ => {}
    });
    names
}

/// A utility rule as seen by [`utility_order`]: its body and position.
pub(crate) type UtilityEntry<'a> = (&'a RawRule, Point);

/// Orders utilities so that each comes after the utilities it refers to
/// through `matches`, `all`, `any` and `not`, and rejects cycles along those
/// edges, which would recurse forever. A reference through a relational rule
/// moves through the tree and is allowed to be recursive.
pub(crate) fn utility_order<'a>(
    utils: &BTreeMap<&'a str, UtilityEntry<'a>>,
) -> Result<Vec<&'a str>> {
    fn references<'a>(rule: &'a RawRule, found: &mut Vec<&'a str>) {
        if let Some(id) = &rule.matches {
            found.push(&id.value);
        }
        for list in [&rule.all, &rule.any].into_iter().flatten() {
            for member in &list.value {
                references(&member.value, found);
            }
        }
        if let Some(not) = &rule.not {
            references(&not.value, found);
        }
    }
    fn visit<'a>(
        id: &'a str,
        utils: &BTreeMap<&'a str, UtilityEntry<'a>>,
        done: &mut HashMap<&'a str, bool>,
        path: &mut Vec<&'a str>,
        order: &mut Vec<&'a str>,
    ) -> Result<()> {
        let Some((rule, point)) = utils.get(id) else {
            return Ok(());
        };
        match done.get(id) {
            Some(true) => return Ok(()),
            Some(false) => {
                let start = path.iter().position(|step| *step == id).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(id);
                return Err(Located::new(
                    *point,
                    format!(
                        "utility rule `{id}` refers to itself: {}",
                        cycle.join(" → ")
                    ),
                ));
            }
            None => {}
        }
        done.insert(id, false);
        path.push(id);
        let mut found = Vec::new();
        references(rule, &mut found);
        for reference in found {
            visit(reference, utils, done, path, order)?;
        }
        path.pop();
        done.insert(id, true);
        order.push(id);
        Ok(())
    }
    let mut done = HashMap::new();
    let mut order = Vec::new();
    for id in utils.keys() {
        visit(id, utils, &mut done, &mut Vec::new(), &mut order)?;
    }
    Ok(order)
}

/// The last line of a regex error ("error: unclosed group"), without the
/// diagram that precedes it.
fn regex_reason(error: &regex::Error) -> String {
    let text = error.to_string();
    let last = text.lines().last().unwrap_or_default();
    last.strip_prefix("error: ").unwrap_or(last).to_owned()
}
