//! Durations as people write them in specs: `500ms`, `1s`, `5m`, `24h`,
//! `7d`, or several joined (`1h30m`).

/// Parses a duration into milliseconds.
pub fn parse(text: &str) -> Result<u64, String> {
    let invalid = || {
        format!(
            "`{text}` is not a duration: use a number and a unit (ms, s, m, h, d), like `30s` or `24h`"
        )
    };
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(invalid());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_length = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_length] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(invalid()),
        };
        rest = &rest[unit_length..];
        total = number
            .checked_mul(factor)
            .and_then(|part| total.checked_add(part))
            .ok_or_else(invalid)?;
    }
    Ok(total)
}

/// Formats milliseconds the way [`parse`] reads them, largest unit first.
pub fn format(milliseconds: u64) -> String {
    if milliseconds == 0 {
        return "0s".to_owned();
    }
    let mut rest = milliseconds;
    let mut text = String::new();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        if rest >= size {
            text.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_combinations() {
        assert_eq!(parse("500ms"), Ok(500));
        assert_eq!(parse("1s"), Ok(1_000));
        assert_eq!(parse("24h"), Ok(86_400_000));
        assert_eq!(parse("1h30m"), Ok(5_400_000));
        assert_eq!(parse(" 2d "), Ok(172_800_000));
        for bad in ["", "s", "10", "1x", "1.5h", "h1", "99999999999999999999d"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_what_it_parses() {
        for milliseconds in [0, 1, 999, 1_000, 61_000, 5_400_000, 90_061_001] {
            assert_eq!(parse(&format(milliseconds)), Ok(milliseconds));
        }
        assert_eq!(format(5_400_000), "1h30m");
    }
}
