//! Indentation and line endings of replacement text.
//!
//! A multi-line replacement must look as if it had been written in the file:
//! its continuation lines start at the indentation of the line being
//! replaced, nested lines of the fix template use the file's own indent unit
//! (tabs, two spaces, four spaces), captured code keeps its shape relative
//! to where it came from, and line endings follow the file (LF or CRLF).

/// How a file indents and ends its lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Style {
    /// One level of indentation: `"\t"` or some number of spaces.
    pub unit: String,
    /// Whether lines end with `\r\n`.
    pub crlf: bool,
}

/// A file's [`Style`], detected from its original text on first use: most
/// files that rules match get no fix that needs it, and detecting reads the
/// whole text.
pub(crate) struct LazyStyle<'s> {
    text: &'s str,
    style: std::cell::OnceCell<Style>,
}

impl<'s> LazyStyle<'s> {
    pub(crate) fn new(text: &'s str) -> LazyStyle<'s> {
        LazyStyle {
            text,
            style: std::cell::OnceCell::new(),
        }
    }

    pub(crate) fn get(&self) -> &Style {
        self.style.get_or_init(|| Style::detect(self.text))
    }

    /// [`convert_template_indentation`] to the file's unit. Text of one line
    /// has no indentation to convert, and leaves the style undetected.
    pub(crate) fn template_indentation(&self, text: &str, from: usize) -> String {
        if from == 0 || !text.contains('\n') {
            return text.to_owned();
        }
        convert_template_indentation(text, from, &self.get().unit)
    }

    /// [`line_endings`] of the file. Text of one line has none, and leaves
    /// the style undetected.
    pub(crate) fn line_endings(&self, text: String) -> String {
        if !text.contains('\n') {
            return text;
        }
        line_endings(&text, self.get().crlf)
    }

    #[cfg(test)]
    pub(crate) fn is_detected(&self) -> bool {
        self.style.get().is_some()
    }
}

impl Style {
    /// Detects the style of a file: the indentation step that occurs most
    /// often between consecutive lines, and the majority line ending.
    pub fn detect(text: &str) -> Style {
        let mut tab_lines = 0usize;
        let mut space_lines = 0usize;
        let mut steps = [0usize; 9];
        let mut previous = 0usize;
        for line in text.lines() {
            let trimmed = line.trim_start_matches([' ', '\t']);
            if trimmed.is_empty() {
                continue;
            }
            let leading = &line[..line.len() - trimmed.len()];
            if leading.starts_with('\t') {
                tab_lines += 1;
                continue;
            }
            let width = leading.len();
            if width > 0 {
                space_lines += 1;
            }
            if width > previous && width - previous < steps.len() {
                steps[width - previous] += 1;
            }
            previous = width;
        }
        let unit = if tab_lines > space_lines {
            "\t".to_owned()
        } else {
            let (best, count) = steps
                .iter()
                .enumerate()
                .skip(2)
                .max_by_key(|(width, count)| (**count, *width == 4))
                .map(|(width, count)| (width, *count))
                .unwrap_or((4, 0));
            " ".repeat(if count == 0 { 4 } else { best })
        };
        let crlf_count = text.matches("\r\n").count();
        let lf_count = text.matches('\n').count();
        Style {
            unit,
            crlf: crlf_count * 2 > lf_count,
        }
    }
}

/// The indentation step of a fix template: the smallest positive leading
/// space width of its lines, or four spaces.
pub(crate) fn template_unit(template: &str) -> usize {
    template
        .lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start_matches(' ').len())
        .filter(|width| *width > 0)
        .min()
        .unwrap_or(4)
}

/// Rewrites the leading spaces of every line after the first from levels of
/// `from` spaces to levels of the file's `unit`, keeping any remainder.
pub(crate) fn convert_template_indentation(text: &str, from: usize, unit: &str) -> String {
    if from == 0 || unit == " ".repeat(from) {
        return text.to_owned();
    }
    let mut result = String::with_capacity(text.len());
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            result.push('\n');
            let width = line.len() - line.trim_start_matches(' ').len();
            result.push_str(&unit.repeat(width / from));
            result.push_str(&" ".repeat(width % from));
            result.push_str(&line[width..]);
        } else {
            result.push_str(line);
        }
    }
    result
}

/// The whitespace that starts the line containing byte `offset`.
pub(crate) fn line_indentation(text: &str, offset: usize) -> &str {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |newline| newline + 1);
    let line = &text[start..];
    let width = line.len() - line.trim_start_matches([' ', '\t']).len();
    &line[..width]
}

/// Removes `indentation` (or as much leading whitespace as a line has, up to
/// its length) from every line after the first.
pub(crate) fn deindent(text: &str, indentation: &str) -> String {
    if indentation.is_empty() || !text.contains('\n') {
        return text.to_owned();
    }
    let mut result = String::with_capacity(text.len());
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            result.push('\n');
            let line = line.strip_prefix(indentation).unwrap_or_else(|| {
                let whitespace = line.len() - line.trim_start_matches([' ', '\t']).len();
                &line[whitespace.min(indentation.len())..]
            });
            result.push_str(line);
        } else {
            result.push_str(line);
        }
    }
    result
}

/// Prefixes every non-empty line after the first with `indentation`.
pub(crate) fn reindent(text: &str, indentation: &str) -> String {
    if indentation.is_empty() || !text.contains('\n') {
        return text.to_owned();
    }
    let mut result = String::with_capacity(text.len() + indentation.len() * 4);
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            result.push('\n');
            if !line.trim_end_matches('\r').is_empty() {
                result.push_str(indentation);
            }
        }
        result.push_str(line);
    }
    result
}

/// Converts bare `\n` to `\r\n` for CRLF files (existing `\r\n` stays).
pub(crate) fn line_endings(text: &str, crlf: bool) -> String {
    if !crlf || !text.contains('\n') {
        return text.to_owned();
    }
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_are_detected() {
        let four = "def f():\n    if x:\n        pass\n    return 1\n";
        assert_eq!(
            Style::detect(four),
            Style {
                unit: "    ".into(),
                crlf: false
            }
        );
        let two = "class A {\r\n  void f() {\r\n    g();\r\n  }\r\n}\r\n";
        assert_eq!(
            Style::detect(two),
            Style {
                unit: "  ".into(),
                crlf: true
            }
        );
        let tabs = "class A {\n\tvoid f() {\n\t\tg();\n\t}\n}\n";
        assert_eq!(Style::detect(tabs).unit, "\t");
        assert_eq!(Style::detect("x = 1\n").unit, "    ");
    }

    #[test]
    fn template_indentation_follows_the_file_unit() {
        let template = "if x:\n    a()\n        b()\n      c()";
        assert_eq!(template_unit(template), 4);
        assert_eq!(
            convert_template_indentation(template, 4, "\t"),
            "if x:\n\ta()\n\t\tb()\n\t  c()"
        );
        assert_eq!(
            convert_template_indentation(template, 4, "  "),
            "if x:\n  a()\n    b()\n    c()"
        );
        assert_eq!(convert_template_indentation(template, 4, "    "), template);
    }

    #[test]
    fn deindent_and_reindent_shift_continuation_lines() {
        assert_eq!(line_indentation("a\n    b = c\n", 10), "    ");
        assert_eq!(line_indentation("\tx", 1), "\t");
        assert_eq!(deindent("f(\n        1,\n    )", "    "), "f(\n    1,\n)");
        assert_eq!(deindent("f(\n  1\n)", "    "), "f(\n1\n)");
        assert_eq!(reindent("f(\n    1,\n\n)", "\t"), "f(\n\t    1,\n\n\t)");
    }

    #[test]
    fn line_endings_follow_the_file() {
        assert_eq!(line_endings("a\nb\r\nc", true), "a\r\nb\r\nc");
        assert_eq!(line_endings("a\nb", false), "a\nb");
    }
}
