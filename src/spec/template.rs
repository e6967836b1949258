//! Text templates for pull request titles, bodies and commit messages:
//! text with `{{ field }}` placeholders, checked when the spec loads.

use std::fmt;

/// A value a template can show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// The spec id.
    Id,
    Title,
    Description,
    /// The old table.
    From,
    /// The new table.
    To,
    /// `old → new` per renamed column, one per line.
    Columns,
    /// The repository, `owner/name`.
    Repo,
    /// Its owners from the catalog, comma-separated.
    Owners,
    /// The pull request branch.
    Branch,
    /// The changed files with their edit counts, as a Markdown list.
    Changes,
    /// What a person must check, with file:line, as a Markdown list.
    ReviewItems,
    /// The ids of the rules that changed something, as a Markdown list.
    Rules,
}

const FIELDS: [(&str, Field); 12] = [
    ("id", Field::Id),
    ("title", Field::Title),
    ("description", Field::Description),
    ("from", Field::From),
    ("to", Field::To),
    ("columns", Field::Columns),
    ("repo", Field::Repo),
    ("owners", Field::Owners),
    ("branch", Field::Branch),
    ("changes", Field::Changes),
    ("review_items", Field::ReviewItems),
    ("rules", Field::Rules),
];

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(Field),
}

/// A parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// A template error: the character offset in the template and a message.
#[derive(Debug, PartialEq, Eq)]
pub struct TemplateError {
    pub offset: usize,
    pub message: String,
}

impl Template {
    /// Parses `text`, rejecting unknown fields and unclosed placeholders.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut consumed = 0;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_owned()));
            }
            let offset = text[..consumed + start].chars().count();
            let Some(length) = rest[start..].find("}}") else {
                return Err(TemplateError {
                    offset,
                    message: "`{{` is never closed with `}}`".to_owned(),
                });
            };
            let name = rest[start + 2..start + length].trim();
            let Some((_, field)) = FIELDS.iter().find(|(known, _)| *known == name) else {
                let known: Vec<&str> = FIELDS.iter().map(|(known, _)| *known).collect();
                return Err(TemplateError {
                    offset,
                    message: format!(
                        "`{{{{{name}}}}}` is not a template field; use one of: {}",
                        known.join(", ")
                    ),
                });
            };
            parts.push(Part::Field(*field));
            consumed += start + length + 2;
            rest = &text[consumed..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Template { parts })
    }

    /// The text with every field replaced by `value(field)`.
    pub fn render(&self, value: impl Fn(Field) -> String) -> String {
        let mut output = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => output.push_str(text),
                Part::Field(field) => output.push_str(&value(*field)),
            }
        }
        output
    }
}

impl fmt::Display for Field {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = FIELDS
            .iter()
            .find(|(_, field)| field == self)
            .map_or("?", |(name, _)| name);
        formatter.write_str(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_render_and_unknown_ones_are_rejected() {
        let template = Template::parse("Move {{ from }} in {{repo}}: {{changes}}").unwrap();
        let text = template.render(|field| match field {
            Field::From => "sales.orders".to_owned(),
            Field::Repo => "acme/billing".to_owned(),
            other => format!("<{other}>"),
        });
        assert_eq!(text, "Move sales.orders in acme/billing: <changes>");
        let error = Template::parse("héllo {{ nope }}").unwrap_err();
        assert_eq!(error.offset, 6);
        assert!(
            error
                .message
                .starts_with("`{{nope}}` is not a template field")
        );
        assert_eq!(Template::parse("a {{ id").unwrap_err().offset, 2);
        assert_eq!(
            Template::parse("plain").unwrap().render(|_| String::new()),
            "plain"
        );
    }
}
