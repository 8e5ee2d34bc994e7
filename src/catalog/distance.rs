//! Edit distance for "did you mean" suggestions.

/// Levenshtein distance between `a` and `b`, compared case-insensitively.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The largest distance accepted as a near miss for an input of `len` characters.
fn threshold(len: usize) -> usize {
    match len {
        0..=3 => 1,
        4..=8 => 2,
        _ => 3,
    }
}

/// Up to `max` candidates at the smallest edit distance from `input` (case-insensitive), as long as
/// that distance is within a limit that grows with the input length. Ties keep the candidates'
/// order.
pub fn nearest<'a, I>(input: &str, candidates: I, max: usize) -> Vec<String>
where
    I: IntoIterator<Item = &'a str>,
{
    nearest_by(input, candidates.into_iter().map(|c| (c, c)), max)
}

/// Like [`nearest`], but each candidate is a pair (text compared with `input`, text returned).
pub fn nearest_by<'a, I>(input: &str, candidates: I, max: usize) -> Vec<String>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let limit = threshold(input.chars().count());
    let mut scored: Vec<(usize, usize, &str)> = Vec::new();
    for (order, (compared, shown)) in candidates.into_iter().enumerate() {
        if scored.iter().any(|(_, _, s)| s.eq_ignore_ascii_case(shown)) {
            continue;
        }
        let d = edit_distance(input, compared);
        if d <= limit {
            scored.push((d, order, shown));
        }
    }
    scored.sort();
    let best = scored.first().map_or(0, |s| s.0);
    scored
        .into_iter()
        .take_while(|s| s.0 == best)
        .take(max)
        .map(|(_, _, c)| c.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("L4OS", "L40S"), 1);
        assert_eq!(edit_distance("a100", "A100"), 0);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn nearest_is_ordered_and_bounded() {
        let c = [
            "u1.medium",
            "u1.large",
            "u1.2xlarge",
            "u1.4xlarge",
            "u1.8xlarge",
        ];
        assert_eq!(nearest("u1.mediun", c, 3), vec!["u1.medium"]);
        assert_eq!(
            nearest("u1.3xlarge", c, 3),
            vec!["u1.2xlarge", "u1.4xlarge", "u1.8xlarge"]
        );
        assert!(nearest("completely-different", c, 3).is_empty());
    }
}
