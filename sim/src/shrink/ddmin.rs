//! Delta debugging (Zeller's ddmin): the smallest subset of a list that still passes a test,
//! found by trying chunks and their complements at growing granularity. The result is
//! 1-minimal: removing any one more item fails the test.

/// The indices of `0..n` kept: a subset of at least `min_len` items for which `test` holds
/// (`test` holds for all of them, which is not asked again).
pub fn ddmin(n: usize, min_len: usize, test: &mut dyn FnMut(&[usize]) -> bool) -> Vec<usize> {
    let mut kept: Vec<usize> = (0..n).collect();
    if min_len == 0 && n > 0 && test(&[]) {
        return Vec::new();
    }
    let mut granularity = 2;
    while kept.len() > min_len.max(1) {
        let chunks = split(&kept, granularity.min(kept.len()));
        if let Some(chunk) = chunks
            .iter()
            .filter(|chunk| chunk.len() >= min_len && chunk.len() < kept.len())
            .find(|chunk| test(chunk))
        {
            kept = chunk.clone();
            granularity = 2;
            continue;
        }
        let complements: Vec<Vec<usize>> = chunks
            .iter()
            .map(|chunk| {
                kept.iter()
                    .copied()
                    .filter(|i| !chunk.contains(i))
                    .collect()
            })
            .collect();
        if let Some(complement) = complements
            .iter()
            .filter(|rest: &&Vec<usize>| rest.len() >= min_len && chunks.len() > 2)
            .find(|rest| test(rest))
        {
            kept = complement.clone();
            granularity = (granularity - 1).max(2);
            continue;
        }
        if granularity >= kept.len() {
            break;
        }
        granularity = (granularity * 2).min(kept.len());
    }
    kept
}

/// `items` cut into `parts` contiguous chunks of nearly equal length.
fn split(items: &[usize], parts: usize) -> Vec<Vec<usize>> {
    let parts = parts.max(1);
    (0..parts)
        .map(|k| items[items.len() * k / parts..items.len() * (k + 1) / parts].to_vec())
        .filter(|chunk| !chunk.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::ddmin;

    /// The test holds when the subset holds all of `needed`.
    fn needs(needed: &[usize]) -> impl FnMut(&[usize]) -> bool + '_ {
        move |subset: &[usize]| needed.iter().all(|i| subset.contains(i))
    }

    #[test]
    fn finds_the_items_a_failure_needs() {
        assert_eq!(ddmin(8, 0, &mut needs(&[])), Vec::<usize>::new());
        assert_eq!(ddmin(8, 0, &mut needs(&[5])), vec![5]);
        assert_eq!(ddmin(8, 0, &mut needs(&[1, 6])), vec![1, 6]);
        assert_eq!(ddmin(9, 0, &mut needs(&[0, 4, 8])), vec![0, 4, 8]);
        assert_eq!(ddmin(1, 0, &mut needs(&[0])), vec![0]);
    }

    #[test]
    fn keeps_at_least_the_minimum() {
        assert_eq!(ddmin(6, 1, &mut needs(&[])).len(), 1);
        assert_eq!(ddmin(3, 2, &mut needs(&[2])).len(), 2);
    }

    #[test]
    fn two_chunks_are_not_tried_again_as_complements() {
        let mut asked = Vec::new();
        let mut test = |subset: &[usize]| {
            asked.push(subset.to_vec());
            false
        };
        ddmin(2, 0, &mut test);
        assert_eq!(asked, vec![vec![], vec![0], vec![1]]);
    }
}
