//! The statement behind [`MediaItems::list_media`](crate::MediaItems::list_media): filters,
//! title search, the sort, and the keyset that starts a page (no OFFSET, so page 500 of 10,000
//! items costs what page 1 does). Written once for both backends: titles sort by `lower(title)`
//! byte-wise on both (the PostgreSQL column is `COLLATE "C"`, migration 0012), so both give the
//! same order and lowercase ASCII letters only. MySQL's `lower()` folds every letter (so its
//! order of non-ASCII titles differs), and the search text is folded by it too
//! ([`TitleFold::Unicode`]).

use mediaserver_core::{MediaFilter, MediaSort};

/// A value bound to the statement.
pub(crate) enum Bind<'a> {
    Text(&'a str),
    Owned(String),
    Int(i64),
}

/// `LIKE` pattern matching titles that contain `text`; `\` escapes `%`, `_` and itself.
fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.to_ascii_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Which letters a backend's `lower(title)` folds; the search text must be folded alike.
#[derive(Clone, Copy)]
pub(crate) enum TitleFold {
    /// ASCII letters only (SQLite; PostgreSQL's `COLLATE "C"` column): the text is folded here.
    Ascii,
    /// Every letter (MySQL's utf8mb4: `É` → `é`): the text goes through the same `lower()`,
    /// in the column's collation.
    Unicode,
}

/// The `WHERE … ORDER BY … LIMIT` after `SELECT cols FROM media`, and its binds in order.
pub(crate) fn list_clauses(filter: &MediaFilter) -> (String, Vec<Bind<'_>>) {
    list_clauses_folding(filter, TitleFold::Ascii)
}

/// [`list_clauses`] for a backend whose `lower()` folds as `fold` says.
pub(crate) fn list_clauses_folding(
    filter: &MediaFilter,
    fold: TitleFold,
) -> (String, Vec<Bind<'_>>) {
    let mut sql = String::from(" WHERE 1 = 1");
    let mut binds: Vec<Bind<'_>> = Vec::new();
    let conds = [
        ("owner_id =", filter.owner_id.as_ref().map(|id| id.as_str())),
        ("kind =", filter.kind.map(|k| k.as_str())),
        ("status =", filter.status.map(|s| s.as_str())),
        ("visibility =", filter.visibility.map(|v| v.as_str())),
        ("sha256 =", filter.sha256.as_deref()),
        ("id <", filter.before_id.as_ref().map(|id| id.as_str())),
    ];
    for (cond, value) in conds {
        if let Some(value) = value {
            binds.push(Bind::Text(value));
            sql.push_str(&format!(" AND {cond} ${}", binds.len()));
        }
    }
    if let Some(text) = filter.title_contains.as_deref().filter(|t| !t.is_empty()) {
        binds.push(Bind::Owned(contains_pattern(text)));
        let n = binds.len();
        sql.push_str(&match fold {
            TitleFold::Ascii => format!(" AND lower(title) LIKE ${n} ESCAPE '\\'"),
            TitleFold::Unicode => {
                format!(" AND lower(title) LIKE lower(${n} COLLATE utf8mb4_bin) ESCAPE '\\'")
            }
        });
    }
    // Keyset: strictly past the cursor's item in the sort order, ties broken by id.
    if let Some(after) = &filter.after {
        let id = after.id.as_str();
        match filter.sort {
            MediaSort::Newest => {
                binds.push(Bind::Text(id));
                sql.push_str(&format!(" AND id < ${}", binds.len()));
            }
            MediaSort::Oldest => {
                binds.push(Bind::Text(id));
                sql.push_str(&format!(" AND id > ${}", binds.len()));
            }
            MediaSort::Title => {
                binds.push(Bind::Text(&after.title));
                binds.push(Bind::Text(id));
                let (k, i) = (binds.len() - 1, binds.len());
                sql.push_str(&format!(
                    " AND (lower(title) > lower(${k}) \
                     OR (lower(title) = lower(${k}) AND id > ${i}))"
                ));
            }
            MediaSort::Size => {
                binds.push(Bind::Int(after.size));
                binds.push(Bind::Text(id));
                let (k, i) = (binds.len() - 1, binds.len());
                sql.push_str(&format!(
                    " AND (size < ${k} OR (size = ${k} AND id < ${i}))"
                ));
            }
        }
    }
    sql.push_str(match filter.sort {
        MediaSort::Newest => " ORDER BY id DESC",
        MediaSort::Oldest => " ORDER BY id ASC",
        MediaSort::Title => " ORDER BY lower(title) ASC, id ASC",
        MediaSort::Size => " ORDER BY size DESC, id DESC",
    });
    binds.push(Bind::Int(i64::from(filter.limit)));
    sql.push_str(&format!(" LIMIT ${}", binds.len()));
    (sql, binds)
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn wildcards_in_the_search_text_are_literal() {
        assert_eq!(contains_pattern("Cat"), "%cat%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
