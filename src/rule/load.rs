//! Reading rule files and shared utility files into a [`RuleSet`].
//!
//! Loading is all-or-nothing: every file is read and every problem is
//! collected, so an author sees all mistakes at once, and nothing is scanned
//! unless every rule is valid.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde_saphyr::Spanned;

use super::compile::{self, Globals};
use super::error::{Located, Point, RuleError, RuleErrors};
use super::fix::{self, Fix, FixScope, Rewriter, Transform};
use super::matcher::CoreRule;
use super::project::Project;
use super::raw::{Applicability, RawGlob, RawRuleConfig, RawUtilConfig, Severity};
use crate::lang::{self, Language};

/// A compiled rule file entry.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub language: Language,
    pub core: CoreRule,
    pub message: String,
    pub note: Option<String>,
    pub severity: Severity,
    pub applicability: Applicability,
    pub url: Option<String>,
    pub metadata: Option<serde_json::Value>,
    /// The fix, if the rule rewrites.
    pub fix: Option<Fix>,
    /// Transformations applied after a match, in dependency order.
    pub transforms: Vec<Transform>,
    /// Rewriters used by `rewrite` transformations.
    pub rewriters: Vec<Rewriter>,
    files: Option<GlobSet>,
    ignores: Option<GlobSet>,
    /// The file the rule came from and the position of its document.
    pub origin: (PathBuf, Point),
}

impl Rule {
    /// Whether the rule's `files`/`ignores` globs admit `path` (relative to
    /// the scanned root, `/`-separated).
    pub fn applies_to(&self, path: &Path) -> bool {
        if self
            .ignores
            .as_ref()
            .is_some_and(|ignores| ignores.is_match(path))
        {
            return false;
        }
        self.files.as_ref().is_none_or(|files| files.is_match(path))
    }
}

/// Every loaded rule, plus the shared utilities they refer to.
#[derive(Debug, Default)]
pub struct RuleSet {
    /// Enabled rules (severity `off` is dropped), sorted by id.
    pub rules: Vec<Rule>,
    pub globals: Globals,
    /// Rule files that were read.
    pub files: Vec<PathBuf>,
    /// Rules that were skipped, and why (a language fleetmod lacks).
    pub warnings: Vec<String>,
}

impl RuleSet {
    /// Loads rule files and folders of rule files (`*.yml`, `*.yaml`), and
    /// the shared utilities of `project` if given.
    pub fn load(paths: &[PathBuf], project: Option<&Project>) -> Result<RuleSet, RuleErrors> {
        let mut errors = Vec::new();
        let util_files = match project {
            Some(project) => collect_yaml_files(&project.util_dirs, false, &mut errors),
            None => Vec::new(),
        };
        let globals = load_globals(&util_files, &mut errors);
        let files = collect_yaml_files(paths, true, &mut errors);
        let mut rules = Vec::new();
        let mut warnings = Vec::new();
        for file in &files {
            match std::fs::read_to_string(file) {
                Ok(text) => load_rule_file(
                    file,
                    &text,
                    &globals,
                    &mut rules,
                    &mut errors,
                    &mut warnings,
                ),
                Err(source) => errors.push(RuleError::Read {
                    path: file.clone(),
                    source,
                }),
            }
        }
        check_duplicate_ids(&rules, &mut errors);
        if !errors.is_empty() {
            return Err(RuleErrors(errors));
        }
        rules.retain(|rule| rule.severity != Severity::Off);
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(RuleSet {
            rules,
            globals,
            files,
            warnings,
        })
    }

    /// Compiles rules from text, as if read from `path` (for tests and tools).
    pub fn from_text(path: &Path, text: &str) -> Result<RuleSet, RuleErrors> {
        let mut errors = Vec::new();
        let globals = Globals::default();
        let mut rules = Vec::new();
        let mut warnings = Vec::new();
        load_rule_file(path, text, &globals, &mut rules, &mut errors, &mut warnings);
        check_duplicate_ids(&rules, &mut errors);
        if !errors.is_empty() {
            return Err(RuleErrors(errors));
        }
        rules.retain(|rule| rule.severity != Severity::Off);
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(RuleSet {
            rules,
            globals,
            files: vec![path.to_path_buf()],
            warnings,
        })
    }
}

/// Expands folders into their YAML files (sorted); keeps explicit files.
fn collect_yaml_files(
    paths: &[PathBuf],
    required: bool,
    errors: &mut Vec<RuleError>,
) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_file() {
            files.push(path.clone());
            continue;
        }
        if !path.is_dir() {
            errors.push(RuleError::Read {
                path: path.clone(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
            });
            continue;
        }
        let before = files.len();
        let walker = ignore::WalkBuilder::new(path)
            .parents(false)
            .sort_by_file_name(Ord::cmp)
            .build();
        for entry in walker.flatten() {
            let entry_path = entry.path();
            let is_yaml = entry_path
                .extension()
                .is_some_and(|extension| extension == "yml" || extension == "yaml")
                && !crate::ruletest::is_test_file(entry_path)
                && !entry_path
                    .components()
                    .any(|part| part.as_os_str() == "__snapshots__");
            if is_yaml && entry.file_type().is_some_and(|kind| kind.is_file()) {
                files.push(entry_path.to_path_buf());
            }
        }
        if required && files.len() == before {
            errors.push(RuleError::NoRuleFiles { path: path.clone() });
        }
    }
    files
}

/// A serde-saphyr error as a position and a message without the position.
pub(crate) fn yaml_error(error: &serde_saphyr::Error) -> Located {
    let point = error
        .location()
        .map(Point::from)
        .unwrap_or(Point { line: 1, column: 1 });
    let message = error.without_snippet().to_string();
    let message = match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message,
    };
    // The parser's advice to its own users is noise to ours.
    let message = match message.find(", set DuplicateKeyPolicy") {
        Some(index) => message[..index].to_owned(),
        None => message,
    };
    Located::new(point, message)
}

/// The `id:` of a YAML document that did not deserialize, for the message.
fn rule_id_near(document: &str, _line: u64) -> Option<String> {
    document
        .lines()
        .find_map(|line| line.strip_prefix("id:"))
        .map(|id| id.trim().trim_matches(['"', '\'']).to_owned())
        .filter(|id| !id.is_empty())
}

/// Splits a multi-document YAML file into its documents. Each document is
/// returned padded with the blank lines that precede it, so positions in it
/// are positions in the file, and a mistake in one document does not hide
/// the mistakes in the others. A document starts after a line beginning
/// with `---` or `...` at column 0 (block scalars are always indented, so
/// such a line is always a marker).
pub(crate) fn split_documents(text: &str) -> Vec<String> {
    let mut documents = Vec::new();
    let mut current = String::new();
    let mut has_content = false;
    for (line_count, line) in text.split_inclusive('\n').enumerate() {
        let is_marker = (line.starts_with("---") || line.starts_with("..."))
            && line[3..].chars().next().is_none_or(char::is_whitespace);
        if is_marker {
            if has_content {
                documents.push(std::mem::take(&mut current));
            }
            current = "\n".repeat(line_count + 1);
            has_content = false;
        } else if line.starts_with('%') && !has_content {
            // A directive (`%YAML 1.2`) belongs to the next document.
            current.push('\n');
        } else {
            let trimmed = line.trim();
            // A document that is only `~` or `null` is empty.
            let is_null = matches!(trimmed, "~" | "null" | "Null" | "NULL");
            has_content |= !trimmed.is_empty() && !trimmed.starts_with('#') && !is_null;
            current.push_str(line);
        }
    }
    if has_content {
        documents.push(current);
    }
    documents
}

fn load_rule_file(
    path: &Path,
    text: &str,
    globals: &Globals,
    rules: &mut Vec<Rule>,
    errors: &mut Vec<RuleError>,
    warnings: &mut Vec<String>,
) {
    let documents = split_documents(text);
    let default_id = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or("rule");
    let several = documents.len() > 1;
    for (index, document) in documents.iter().enumerate() {
        let raw: RawRuleConfig = match serde_saphyr::from_str(document) {
            Ok(raw) => raw,
            Err(error) => {
                let id = rule_id_near(document, 1);
                errors.push(RuleError::invalid(path, id.as_deref(), yaml_error(&error)));
                continue;
            }
        };
        let id = match &raw.id {
            Some(id) => id.value.clone(),
            None if several => format!("{default_id}-{index}"),
            None => default_id.to_owned(),
        };
        if let Some(language) = &raw.language
            && Language::from_name(&language.value).is_none()
            && lang::is_ast_grep_language(&language.value)
        {
            warnings.push(format!(
                "{}: rule `{id}` skipped: fleetmod does not support {} (ast-grep does)",
                path.display(),
                language.value
            ));
            continue;
        }
        match compile_rule(path, document, &id, raw, globals) {
            Ok(rule) => rules.push(rule),
            Err(located) => errors.push(RuleError::invalid(path, Some(&id), located)),
        }
    }
}

fn compile_rule(
    path: &Path,
    text: &str,
    id: &str,
    raw: RawRuleConfig,
    globals: &Globals,
) -> Result<Rule, Located> {
    let origin = raw
        .id
        .as_ref()
        .map(|id| Point::from(id.referenced))
        .or_else(|| raw.rule.as_ref().map(|rule| Point::from(rule.referenced)))
        .unwrap_or(Point { line: 1, column: 1 });
    let language = match &raw.language {
        None => return Err(Located::new(origin, "missing `language`")),
        Some(language) => Language::from_name(&language.value).ok_or_else(|| {
            Located::new(
                language.referenced,
                format!(
                    "unknown language `{}`; fleetmod supports {}",
                    language.value,
                    Language::known_names()
                ),
            )
        })?,
    };
    let Some(rule) = &raw.rule else {
        return Err(Located::new(origin, "missing `rule`"));
    };
    let core = compile::compile_core(
        rule,
        raw.constraints.as_ref(),
        raw.utils.as_ref(),
        language,
        text,
        globals,
    )?;
    let mut defined = compile::core_variables(&core);
    let rewriter_ids: Vec<String> = raw
        .rewriters
        .iter()
        .flatten()
        .map(|rewriter| rewriter.value.id.value.clone())
        .collect();
    let transforms = fix::compile_transforms(
        raw.transform.as_ref(),
        &mut defined,
        &rewriter_ids,
        language,
    )?;
    let rewriters =
        fix::compile_rewriters(raw.rewriters.as_ref(), &defined, language, text, globals)?;
    let locals = compile::local_ids(raw.utils.as_ref());
    let fix_scope = FixScope {
        language,
        source: text,
        globals,
        locals: &locals,
    };
    let fix = raw
        .fix
        .as_ref()
        .map(|raw_fix| fix::compile_fix(raw_fix, &defined, &fix_scope))
        .transpose()?;
    if core.kinds.is_none() && core.matcher.root_query().is_none() {
        return Err(Located::new(
            rule.referenced,
            "the rule can match nodes of any kind; add a `kind`, `pattern` or `query` so that it \
             matches specific nodes (ast-grep rejects such rules too)",
        ));
    }
    Ok(Rule {
        id: id.to_owned(),
        language,
        core,
        message: raw.message.unwrap_or_default(),
        note: raw.note,
        severity: raw.severity.unwrap_or_default(),
        applicability: raw.applicability.unwrap_or_default(),
        url: raw.url,
        metadata: raw.metadata,
        fix,
        transforms,
        rewriters,
        files: glob_set(raw.files.as_deref())?,
        ignores: glob_set(raw.ignores.as_deref())?,
        origin: (path.to_path_buf(), origin),
    })
}

fn glob_set(globs: Option<&[Spanned<RawGlob>]>) -> Result<Option<GlobSet>, Located> {
    let Some(globs) = globs else {
        return Ok(None);
    };
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        let compiled = GlobBuilder::new(&glob.value.glob)
            .case_insensitive(glob.value.case_insensitive)
            .literal_separator(false)
            .build()
            .map_err(|error| {
                Located::new(glob.referenced, format!("invalid glob: {}", error.kind()))
            })?;
        builder.add(compiled);
    }
    builder.build().map(Some).map_err(|error| {
        Located::new(
            Point { line: 1, column: 1 },
            format!("invalid globs: {error}"),
        )
    })
}

fn check_duplicate_ids(rules: &[Rule], errors: &mut Vec<RuleError>) {
    let mut seen: HashMap<&str, &Rule> = HashMap::new();
    for rule in rules {
        if let Some(first) = seen.insert(&rule.id, rule) {
            let (first_path, first_point) = &first.origin;
            errors.push(RuleError::invalid(
                &rule.origin.0,
                Some(&rule.id),
                Located::new(
                    rule.origin.1,
                    format!(
                        "duplicate rule id; it is also defined at {}:{first_point}",
                        first_path.display()
                    ),
                ),
            ));
        }
    }
}

/// Loads shared utilities, compiling them so each follows those it uses.
fn load_globals(files: &[PathBuf], errors: &mut Vec<RuleError>) -> Globals {
    let mut texts = Vec::new();
    for file in files {
        match std::fs::read_to_string(file) {
            Ok(text) => texts.push((file.clone(), text)),
            Err(source) => errors.push(RuleError::Read {
                path: file.clone(),
                source,
            }),
        }
    }
    let mut raw_utils: BTreeMap<String, (usize, String, RawUtilConfig)> = BTreeMap::new();
    for (file_index, (path, text)) in texts.iter().enumerate() {
        for document in split_documents(text) {
            let util: RawUtilConfig = match serde_saphyr::from_str(&document) {
                Ok(util) => util,
                Err(error) => {
                    let id = rule_id_near(&document, 1);
                    errors.push(RuleError::invalid(path, id.as_deref(), yaml_error(&error)));
                    continue;
                }
            };
            let id = util.id.value.clone();
            if let Some((other, _, _)) = raw_utils.get(&id) {
                let other_path = &texts[*other].0;
                errors.push(RuleError::invalid(
                    path,
                    Some(&id),
                    Located::new(
                        util.id.referenced,
                        format!(
                            "duplicate utility rule id; it is also defined in {}",
                            other_path.display()
                        ),
                    ),
                ));
                continue;
            }
            raw_utils.insert(id, (file_index, document, util));
        }
    }
    let entries = raw_utils
        .iter()
        .map(|(id, (_, _, util))| {
            (
                id.as_str(),
                (&util.rule.value, Point::from(util.rule.referenced)),
            )
        })
        .collect();
    let order = match compile::utility_order(&entries) {
        Ok(order) => order,
        Err(located) => {
            let id = located.message.split('`').nth(1).map(str::to_owned);
            let path = id
                .as_ref()
                .and_then(|id| raw_utils.get(id))
                .map(|(file, _, _)| texts[*file].0.clone())
                .unwrap_or_default();
            errors.push(RuleError::invalid(&path, id.as_deref(), located));
            return Globals::default();
        }
    };
    let mut globals = Globals::default();
    for (index, id) in order.iter().enumerate() {
        let (file_index, _, util) = &raw_utils[*id];
        let Some(language) = Language::from_name(&util.language.value) else {
            errors.push(RuleError::invalid(
                &texts[*file_index].0,
                Some(id),
                Located::new(
                    util.language.referenced,
                    format!(
                        "unknown language `{}`; fleetmod supports {}",
                        util.language.value,
                        Language::known_names()
                    ),
                ),
            ));
            return Globals::default();
        };
        globals.ids.insert((*id).to_owned(), index);
        globals.languages.push(language);
    }
    for (index, id) in order.into_iter().enumerate() {
        let (file_index, document, util) = &raw_utils[id];
        let path = &texts[*file_index].0;
        let language = globals.languages[index];
        match compile::compile_core(
            &util.rule,
            util.constraints.as_ref(),
            util.utils.as_ref(),
            language,
            document,
            &globals,
        ) {
            Ok(core) => {
                // A shared utility's bindings stay inside it, so its
                // transformations have no effect; they are still checked.
                let mut defined = compile::core_variables(&core);
                if let Err(located) =
                    fix::compile_transforms(util.transform.as_ref(), &mut defined, &[], language)
                {
                    errors.push(RuleError::invalid(path, Some(id), located));
                    return Globals::default();
                }
                globals.rules.push(core);
            }
            Err(located) => {
                errors.push(RuleError::invalid(path, Some(id), located));
                return Globals::default();
            }
        }
    }
    globals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keep_their_line_numbers() {
        let text = "# header\nid: a\n---\nid: b\n...\n---   \n# only a comment\n---\nid: c\n";
        let documents = split_documents(text);
        assert_eq!(documents.len(), 3);
        assert_eq!(documents[0], "# header\nid: a\n");
        assert_eq!(documents[1], "\n\n\nid: b\n");
        assert_eq!(
            documents[2].lines().position(|line| line == "id: c"),
            Some(8)
        );
        assert_eq!(split_documents("---\n---\n"), Vec::<String>::new());
        assert_eq!(
            split_documents("%YAML 1.2\n---\nid: a\n"),
            vec!["\n\nid: a\n".to_owned()]
        );
        assert_eq!(
            split_documents("~\n---\nid: a\n"),
            vec!["\n\nid: a\n".to_owned()]
        );
    }

    #[test]
    fn yaml_errors_lose_their_position_suffix() {
        let error = serde_saphyr::from_str::<RawRuleConfig>("id: x\nbogus: 1\n").unwrap_err();
        let located = yaml_error(&error);
        assert_eq!(located.point, Point { line: 2, column: 1 });
        assert!(
            located.message.starts_with("unknown field `bogus`"),
            "{}",
            located.message
        );
        assert!(!located.message.contains("line 2"), "{}", located.message);
    }
}
