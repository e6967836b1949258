//! Positions in a sibling list: `nthChild` with a number or CSS-like `An+B`.
//!
//! Positions are 1-based and count named siblings only, as in ast-grep.

/// A parsed `An+B` position: matches index `i` (1-based) when `i = A*n + B`
/// for some `n >= 0`. A number `k` is `0n+k`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub step: i64,
    pub offset: i64,
}

impl Position {
    pub fn number(value: u64) -> Self {
        Position {
            step: 0,
            offset: i64::try_from(value).unwrap_or(i64::MAX),
        }
    }

    /// Parses `An+B` forms such as `3`, `2n+1`, `-n+3`, `n`, `+5`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let invalid = || format!("invalid nthChild position `{text}`; expected a number or `An+B`");
        if compact.is_empty() {
            return Err(invalid());
        }
        if let Some(character) = compact
            .chars()
            .find(|c| !(c.is_ascii_digit() || matches!(c, '+' | '-' | 'n' | 'N')))
        {
            return Err(format!(
                "illegal character `{character}` in nthChild position `{text}`"
            ));
        }
        let lower = compact.to_ascii_lowercase();
        let (step, offset) = match lower.split_once('n') {
            Some((coefficient, rest)) => {
                let step = match coefficient {
                    "" | "+" => 1,
                    "-" => -1,
                    number => parse_signed(number).ok_or_else(invalid)?,
                };
                let offset = match rest {
                    "" => 0,
                    rest if rest.starts_with(['+', '-']) => {
                        parse_signed(rest).ok_or_else(invalid)?
                    }
                    _ => return Err(invalid()),
                };
                (step, offset)
            }
            None => (0, parse_signed(&lower).ok_or_else(invalid)?),
        };
        Ok(Position { step, offset })
    }

    /// Whether the 0-based `index` is selected.
    pub fn selects(self, index: usize) -> bool {
        let index = i64::try_from(index).unwrap_or(i64::MAX).saturating_add(1);
        if self.step == 0 {
            return index == self.offset;
        }
        let distance = index - self.offset;
        distance / self.step >= 0 && distance % self.step == 0
    }
}

fn parse_signed(text: &str) -> Option<i64> {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(digits) => (-1, digits),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i64>().ok().map(|value| sign * value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selected(formula: &str, count: usize) -> Vec<usize> {
        let position = Position::parse(formula).expect("valid");
        (0..count)
            .filter(|&i| position.selects(i))
            .map(|i| i + 1)
            .collect()
    }

    #[test]
    fn formulas_select_like_css() {
        assert_eq!(selected("3", 6), vec![3]);
        assert_eq!(selected("2n+1", 6), vec![1, 3, 5]);
        assert_eq!(selected("2n", 6), vec![2, 4, 6]);
        assert_eq!(selected("n", 3), vec![1, 2, 3]);
        assert_eq!(selected("-n+3", 6), vec![1, 2, 3]);
        assert_eq!(selected("n+4", 6), vec![4, 5, 6]);
        assert_eq!(selected(" 3n - 1 ", 9), vec![2, 5, 8]);
        assert_eq!(selected("+5", 6), vec![5]);
        assert_eq!(Position::number(2), Position::parse("2").unwrap());
    }

    #[test]
    fn bad_formulas_are_rejected() {
        for bad in ["", "n2", "2n+", "x", "1+1", "n-n", "--1"] {
            assert!(Position::parse(bad).is_err(), "{bad}");
        }
    }
}
