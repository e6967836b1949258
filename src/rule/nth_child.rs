//! Positions in a sibling list: `nthChild` with a number or CSS-like `An+B`.
//!
//! Positions are 1-based and count named siblings only, as in ast-grep.
//! Arithmetic is 32-bit and wraps on overflow, exactly as ast-grep's does,
//! so even absurd positions select the same nodes in both tools.

/// A parsed `An+B` position: matches index `i` (1-based) when `i = A*n + B`
/// for some `n >= 0`. A number `k` is `0n+k`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub step: i32,
    pub offset: i32,
}

impl Position {
    pub fn number(value: u64) -> Self {
        Position {
            step: 0,
            // Truncation is intended: it mirrors ast-grep's `usize as i32`.
            offset: value as i32,
        }
    }

    /// Parses `An+B` forms such as `3`, `2n+1`, `-n+3`, `n`, `+5`.
    pub fn parse(text: &str) -> Result<Self, String> {
        #[derive(Clone, Copy, PartialEq)]
        enum State {
            Initial,
            N,
            /// After a sign; whether an `n` came before.
            Sign(bool),
            /// In a number; whether an `n` came before.
            Number(bool),
        }
        let invalid = || format!("invalid nthChild position `{text}`; expected a number or `An+B`");
        let (mut step, mut sign, mut number, mut state) = (0i32, 1i32, 0i32, State::Initial);
        for character in text.chars().filter(|c| !c.is_whitespace()) {
            let digit = character.to_digit(10).map(|digit| digit as i32);
            state = match (state, character, digit) {
                (State::Initial, '+' | '-', _) => {
                    sign = if character == '+' { 1 } else { -1 };
                    State::Sign(false)
                }
                (State::Initial, _, Some(digit)) => {
                    number = digit;
                    State::Number(false)
                }
                (State::Initial, 'n' | 'N', _) => {
                    step = sign;
                    State::N
                }
                (State::Sign(after_n), _, Some(digit)) => {
                    number = digit;
                    State::Number(after_n)
                }
                (State::Sign(false), 'n' | 'N', _) => {
                    step = sign;
                    State::N
                }
                (State::Number(after_n), _, Some(digit)) => {
                    number = number.wrapping_mul(10).wrapping_add(digit);
                    State::Number(after_n)
                }
                (State::Number(false), 'n' | 'N', _) => {
                    step = sign.wrapping_mul(number);
                    number = 0;
                    State::N
                }
                (State::N, '+' | '-', _) => {
                    sign = if character == '+' { 1 } else { -1 };
                    number = 0;
                    State::Sign(true)
                }
                (_, '+' | '-' | 'n' | 'N', _) | (_, _, Some(_)) => return Err(invalid()),
                (_, other, None) => {
                    return Err(format!(
                        "illegal character `{other}` in nthChild position `{text}`"
                    ));
                }
            };
        }
        match state {
            State::Initial | State::Sign(_) => Err(invalid()),
            State::N | State::Number(_) => Ok(Position {
                step,
                offset: number.wrapping_mul(sign),
            }),
        }
    }

    /// Whether the 0-based `index` is selected.
    pub fn selects(self, index: usize) -> bool {
        let index = (index as i32).wrapping_add(1);
        if self.step == 0 {
            return index == self.offset;
        }
        let distance = index.wrapping_sub(self.offset);
        distance.wrapping_div(self.step) >= 0 && distance.wrapping_rem(self.step) == 0
    }
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
    fn overflow_wraps_like_ast_grep() {
        assert_eq!(Position::number(4_294_967_297), Position::number(1));
        assert_eq!(selected("n+4294967297", 3), vec![1, 2, 3]);
        assert!(
            !Position {
                step: -1,
                offset: i32::MIN
            }
            .selects(usize::MAX)
        );
    }

    #[test]
    fn bad_formulas_are_rejected() {
        for bad in ["", "n2", "2n+", "x", "1+1", "n-n", "--1", "2n3"] {
            assert!(Position::parse(bad).is_err(), "{bad}");
        }
    }
}
