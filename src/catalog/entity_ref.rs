//! Backstage entity references: `[kind:][namespace/]name`.
//!
//! References compare without case, as Backstage compares them. Where a
//! reference may leave out its namespace, it defaults to the namespace of the
//! entity that holds it; the kind can only be left out where the caller
//! supplies a default.

use std::fmt;

/// A fully spelled-out entity reference, in lowercase.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntityRef {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl EntityRef {
    /// Parses `[kind:][namespace/]name`. A missing kind becomes
    /// `default_kind`, or is an error when there is none; a missing
    /// namespace becomes `default_namespace`.
    pub fn parse(
        text: &str,
        default_kind: Option<&str>,
        default_namespace: &str,
    ) -> Result<EntityRef, String> {
        let text = text.trim();
        let (kind, rest) = match text.split_once(':') {
            Some((kind, rest)) => (Some(kind), rest),
            None => (None, text),
        };
        let (namespace, name) = match rest.split_once('/') {
            Some((namespace, name)) => (Some(namespace), name),
            None => (None, rest),
        };
        let kind = match kind.or(default_kind) {
            Some(kind) => kind,
            None => {
                return Err(format!(
                    "`{text}` does not name a kind: spell it out, like `resource:{text}`"
                ));
            }
        };
        let namespace = namespace.unwrap_or(default_namespace);
        for (part, what) in [(kind, "kind"), (namespace, "namespace"), (name, "name")] {
            if !is_valid_part(part) {
                return Err(format!(
                    "`{text}` is not an entity reference: its {what} `{part}` must be 1 to 63 letters, digits, `-`, `_` or `.`"
                ));
            }
        }
        Ok(EntityRef {
            kind: kind.to_ascii_lowercase(),
            namespace: namespace.to_ascii_lowercase(),
            name: name.to_ascii_lowercase(),
        })
    }
}

/// Whether `part` is a valid kind, namespace or name (Backstage's rule,
/// slightly relaxed: it also allows leading and trailing punctuation).
pub(crate) fn is_valid_part(part: &str) -> bool {
    (1..=63).contains(&part.len())
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl fmt::Display for EntityRef {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}:{}/{}", self.kind, self.namespace, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_default_namespace_but_not_kind() {
        let full = EntityRef::parse("Resource:Default/Orders", None, "x").unwrap();
        assert_eq!(full.to_string(), "resource:default/orders");
        let short = EntityRef::parse("resource:orders", None, "sales").unwrap();
        assert_eq!(short.to_string(), "resource:sales/orders");
        let error = EntityRef::parse("orders", None, "default").unwrap_err();
        assert!(error.contains("does not name a kind"), "{error}");
        let kinded = EntityRef::parse("orders", Some("resource"), "default").unwrap();
        assert_eq!(kinded.to_string(), "resource:default/orders");
        assert!(EntityRef::parse("resource:a b", None, "default").is_err());
        assert!(EntityRef::parse("resource:", None, "default").is_err());
    }
}
