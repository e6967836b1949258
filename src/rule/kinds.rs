//! Sets of node kinds, used to skip nodes that a rule cannot match.
//!
//! A rule's *potential kinds* are the node kinds its match can have, derived
//! exactly as ast-grep derives them: a pattern or `kind` fixes one kind,
//! `all` intersects, `any` unites, and everything else is unconstrained
//! (`None`). The same sets drive the combined tree-sitter query that finds
//! candidate nodes, so a rule is only ever evaluated on nodes of its kinds.

/// A set of node kind ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KindSet {
    words: Vec<u64>,
}

impl KindSet {
    pub fn single(kind: u16) -> Self {
        let mut set = Self::default();
        set.insert(kind);
        set
    }

    pub fn insert(&mut self, kind: u16) {
        let (word, bit) = (usize::from(kind) / 64, usize::from(kind) % 64);
        if self.words.len() <= word {
            self.words.resize(word + 1, 0);
        }
        self.words[word] |= 1 << bit;
    }

    pub fn contains(&self, kind: u16) -> bool {
        let (word, bit) = (usize::from(kind) / 64, usize::from(kind) % 64);
        self.words
            .get(word)
            .is_some_and(|bits| bits & (1 << bit) != 0)
    }

    pub fn union_with(&mut self, other: &KindSet) {
        if self.words.len() < other.words.len() {
            self.words.resize(other.words.len(), 0);
        }
        for (mine, theirs) in self.words.iter_mut().zip(&other.words) {
            *mine |= theirs;
        }
    }

    pub fn intersect_with(&mut self, other: &KindSet) {
        self.words.truncate(other.words.len());
        for (mine, theirs) in self.words.iter_mut().zip(&other.words) {
            *mine &= theirs;
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        self.words.iter().enumerate().flat_map(|(index, &bits)| {
            (0..64)
                .filter(move |bit| bits & (1 << bit) != 0)
                .map(move |bit| (index * 64 + bit) as u16)
        })
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&bits| bits == 0)
    }
}

/// `all`: the intersection of the constrained members; `None` if none is.
pub fn intersect_all<'a>(sets: impl IntoIterator<Item = Option<&'a KindSet>>) -> Option<KindSet> {
    let mut result: Option<KindSet> = None;
    for set in sets.into_iter().flatten() {
        match result.as_mut() {
            Some(result) => result.intersect_with(set),
            None => result = Some(set.clone()),
        }
    }
    result
}

/// `any`: the union of all members; `None` if any member is unconstrained.
pub fn unite_all<'a>(sets: impl IntoIterator<Item = Option<&'a KindSet>>) -> Option<KindSet> {
    let mut result = KindSet::default();
    for set in sets {
        result.union_with(set?);
    }
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(kinds: &[u16]) -> KindSet {
        let mut set = KindSet::default();
        for &kind in kinds {
            set.insert(kind);
        }
        set
    }

    #[test]
    fn insert_contains_iterate() {
        let set = set(&[3, 64, 200, 65535]);
        assert!(set.contains(3) && set.contains(64) && set.contains(65535));
        assert!(!set.contains(4) && !set.contains(63));
        assert_eq!(set.iter().collect::<Vec<_>>(), vec![3, 64, 200, 65535]);
    }

    #[test]
    fn all_intersects_constrained_members_only() {
        let (a, b) = (set(&[1, 2, 3]), set(&[2, 3, 400]));
        assert_eq!(
            intersect_all([Some(&a), None, Some(&b)]),
            Some(set(&[2, 3]))
        );
        assert_eq!(intersect_all([None, None]), None);
    }

    #[test]
    fn any_is_unconstrained_if_one_member_is() {
        let (a, b) = (set(&[1]), set(&[300]));
        assert_eq!(unite_all([Some(&a), Some(&b)]), Some(set(&[1, 300])));
        assert_eq!(unite_all([Some(&a), None]), None);
        assert_eq!(unite_all([]), Some(KindSet::default()));
    }
}
