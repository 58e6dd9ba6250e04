//! Cursor paging shared by the stores: ids are ULIDs, so id order is creation order.

use baton_core::store::{Page, PageRequest};

/// Pages `items`, which must be sorted newest first (id descending).
pub(crate) fn page_sorted<T>(items: Vec<T>, id: impl Fn(&T) -> &str, req: &PageRequest) -> Page<T> {
    let limit = req.limit.map(|l| l as usize);
    if let Some(before) = &req.ending_before {
        // Items newer than the cursor, the `limit` closest to it.
        let newer: Vec<T> = items
            .into_iter()
            .filter(|t| id(t) > before.as_str())
            .collect();
        let take = limit.unwrap_or(newer.len());
        let has_more = newer.len() > take;
        let skip = newer.len() - take.min(newer.len());
        return Page {
            items: newer.into_iter().skip(skip).collect(),
            has_more,
        };
    }
    let mut rest: Vec<T> = match &req.starting_after {
        Some(after) => items
            .into_iter()
            .filter(|t| id(t) < after.as_str())
            .collect(),
        None => items,
    };
    let has_more = limit.is_some_and(|l| rest.len() > l);
    if let Some(l) = limit {
        rest.truncate(l);
    }
    Page {
        items: rest,
        has_more,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u8) -> Vec<String> {
        (0..n).rev().map(|i| format!("{i:02}")).collect()
    }

    #[test]
    fn pages_forward_and_back() {
        let req = PageRequest {
            limit: Some(2),
            ..Default::default()
        };
        let p = page_sorted(ids(5), |s| s, &req);
        assert_eq!(p.items, vec!["04", "03"]);
        assert!(p.has_more);
        let req = PageRequest {
            limit: Some(2),
            starting_after: Some("03".into()),
            ..Default::default()
        };
        let p = page_sorted(ids(5), |s| s, &req);
        assert_eq!(p.items, vec!["02", "01"]);
        assert!(p.has_more);
        let req = PageRequest {
            limit: Some(2),
            ending_before: Some("01".into()),
            ..Default::default()
        };
        let p = page_sorted(ids(5), |s| s, &req);
        assert_eq!(p.items, vec!["03", "02"]);
        assert!(p.has_more);
        let all = page_sorted(ids(5), |s| s, &PageRequest::default());
        assert_eq!(all.items.len(), 5);
        assert!(!all.has_more);
    }
}
