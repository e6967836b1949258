//! `rules:` globs of a spec, resolved to rule files relative to the spec.

use std::path::{Component, Path, PathBuf};

use serde_saphyr::Spanned;

use super::{Problems, at};

/// The rule files the `rules:` globs name, sorted; a glob that is invalid
/// or names no `.yml`/`.yaml` rule file is a problem (a typo must not
/// silently drop rules). Rule test files (`*-test.yml`) are skipped.
pub(super) fn resolve(
    spec_path: &Path,
    globs: &[Spanned<String>],
    problems: &mut Problems<'_>,
) -> Vec<PathBuf> {
    let folder = spec_path.parent().unwrap_or(Path::new(""));
    let mut files = Vec::new();
    for glob in globs {
        match matching_files(folder, &glob.value) {
            Ok(found) if found.is_empty() => problems.add(
                at(glob.referenced),
                format!(
                    "`{}` names no rule file (.yml or .yaml) relative to {}",
                    glob.value,
                    if folder.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        folder
                    }
                    .display()
                ),
            ),
            Ok(found) => files.extend(found),
            Err(message) => problems.add(at(glob.referenced), message),
        }
    }
    files.sort();
    files.dedup();
    files
}

fn is_glob(component: &str) -> bool {
    component.contains(['*', '?', '[', '{'])
}

/// The YAML files under `folder` that `pattern` matches.
fn matching_files(folder: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let pattern_path = Path::new(pattern);
    if pattern_path.is_absolute() {
        return Err(format!("`{pattern}` must be relative to the spec's folder"));
    }
    // The literal leading folders are walked; the rest is matched.
    let mut base = folder.to_path_buf();
    let mut rest = Vec::new();
    for component in pattern_path.components() {
        let text = component.as_os_str().to_string_lossy();
        if rest.is_empty() && !is_glob(&text) {
            match component {
                Component::CurDir => {}
                _ => base.push(component.as_os_str()),
            }
        } else {
            rest.push(text.into_owned());
        }
    }
    if rest.is_empty() {
        // No wildcard: a file, or a folder of rule files.
        return Ok(if base.is_dir() {
            yaml_files(&base, None)
        } else if base.is_file() {
            vec![base]
        } else {
            Vec::new()
        });
    }
    let matcher = globset::GlobBuilder::new(&rest.join("/"))
        .literal_separator(true)
        .build()
        .map_err(|error| format!("`{pattern}` is not a valid glob: {}", error.kind()))?
        .compile_matcher();
    Ok(yaml_files(&base, Some(&matcher)))
}

fn yaml_files(base: &Path, matcher: Option<&globset::GlobMatcher>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in ignore::WalkBuilder::new(base)
        .standard_filters(false)
        .build()
        .flatten()
    {
        let path = entry.path();
        let is_yaml = path
            .extension()
            .is_some_and(|extension| extension == "yml" || extension == "yaml");
        let is_rule_file = is_yaml && !crate::ruletest::is_test_file(path);
        if !is_rule_file || !entry.file_type().is_some_and(|kind| kind.is_file()) {
            continue;
        }
        let relative = path.strip_prefix(base).unwrap_or(path);
        if matcher.is_none_or(|matcher| matcher.is_match(relative)) {
            files.push(path.to_path_buf());
        }
    }
    files
}
