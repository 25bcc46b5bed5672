//! Statements for MySQL written like the other backends' (`$1, $2, …`, each number bound
//! once), and the rows they return.
//!
//! MySQL knows only positional `?` placeholders, one value per `?`: [`Query`] rewrites `$n` to
//! `?` and binds the `n`th value at each place it occurs, so a statement shared in spirit with
//! the other backends keeps its text. [`Row`] reads text columns declared with the binary
//! collation `utf8mb4_bin` (every table's, for exact ids and tokens), which the server flags
//! BINARY and sqlx would otherwise refuse to decode as `String`.

use chrono::{DateTime, Utc};
use sqlx::mysql::{MySqlArguments, MySqlQueryResult, MySqlRow};
use sqlx::{Arguments as _, Column as _, Decode, Executor, MySql, Row as _, Type, TypeInfo as _};

/// A value bound to a statement (cloned where its placeholder occurs more than once).
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
    Float(Option<f64>),
    Bool(Option<bool>),
    Time(Option<DateTime<Utc>>),
}

macro_rules! arg_from {
    ($variant:ident: $($t:ty => $conv:expr),* $(,)?) => {
        $(
            impl From<$t> for Arg {
                fn from(v: $t) -> Self {
                    let f: fn($t) -> _ = $conv;
                    Arg::$variant(f(v))
                }
            }
        )*
    };
}
arg_from!(Text:
    &str => |v| Some(v.to_owned()),
    String => Some,
    &String => |v| Some(v.clone()),
    Option<&str> => |v| v.map(str::to_owned),
    Option<String> => |v| v,
    Option<&String> => |v| v.cloned(),
    &Option<String> => |v| v.clone(),
);
arg_from!(Int:
    i64 => Some,
    i32 => |v| Some(i64::from(v)),
    u32 => |v| Some(i64::from(v)),
    Option<i64> => |v| v,
    Option<i32> => |v| v.map(i64::from),
);
arg_from!(Float: f64 => Some, Option<f64> => |v| v);
arg_from!(Bool: bool => Some, Option<bool> => |v| v);
arg_from!(Time:
    DateTime<Utc> => Some,
    &DateTime<Utc> => |v| Some(*v),
    Option<DateTime<Utc>> => |v| v,
);

/// `sql` with each `$n` replaced by `?`, and the (1-based) numbers in the order they occur.
/// A `$` not followed by a digit (as in a JSON path `'$.bytes'`) is kept.
fn positional(sql: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(sql.len());
    let mut order = Vec::new();
    let mut chars = sql.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '$' {
            let digits: String = sql[i + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(n) = digits.parse::<usize>() {
                out.push('?');
                order.push(n);
                for _ in 0..digits.len() {
                    chars.next();
                }
                continue;
            }
        }
        out.push(c);
    }
    (out, order)
}

/// A statement and its values, like `sqlx::query(sql).bind(…)…`.
#[must_use]
pub(crate) struct Query {
    sql: String,
    args: Vec<Arg>,
}

pub(crate) fn query(sql: impl Into<String>) -> Query {
    Query {
        sql: sql.into(),
        args: Vec::new(),
    }
}

/// Like `sqlx::query_as`: each row read as `O` (a tuple).
pub(crate) fn query_as<O: FromRow>(sql: impl Into<String>) -> Typed<O> {
    Typed {
        query: query(sql),
        decode: O::from_row,
    }
}

/// Like `sqlx::query_scalar`: the first column of each row.
pub(crate) fn query_scalar<O>(sql: impl Into<String>) -> Typed<O>
where
    O: for<'r> Decode<'r, MySql> + Type<MySql>,
{
    Typed {
        query: query(sql),
        decode: |row| row.try_get::<O, _>(0usize),
    }
}

impl Query {
    pub(crate) fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }

    fn prepare(&self) -> Result<(String, MySqlArguments), sqlx::Error> {
        let (sql, order) = positional(&self.sql);
        let mut args = MySqlArguments::default();
        for n in order {
            let arg = n
                .checked_sub(1)
                .and_then(|i| self.args.get(i))
                .ok_or_else(|| sqlx::Error::Protocol(format!("no value bound for ${n}")))?;
            let added = match arg.clone() {
                Arg::Text(v) => args.add(v),
                Arg::Int(v) => args.add(v),
                Arg::Float(v) => args.add(v),
                Arg::Bool(v) => args.add(v),
                Arg::Time(v) => args.add(v),
            };
            added.map_err(sqlx::Error::Encode)?;
        }
        Ok((sql, args))
    }

    pub(crate) async fn execute<'e, E>(self, ex: E) -> Result<MySqlQueryResult, sqlx::Error>
    where
        E: Executor<'e, Database = MySql>,
    {
        let (sql, args) = self.prepare()?;
        sqlx::query_with(&sql, args).execute(ex).await
    }

    pub(crate) async fn fetch_optional<'e, E>(self, ex: E) -> Result<Option<Row>, sqlx::Error>
    where
        E: Executor<'e, Database = MySql>,
    {
        let (sql, args) = self.prepare()?;
        Ok(sqlx::query_with(&sql, args)
            .fetch_optional(ex)
            .await?
            .map(Row))
    }

    pub(crate) async fn fetch_one<'e, E>(self, ex: E) -> Result<Row, sqlx::Error>
    where
        E: Executor<'e, Database = MySql>,
    {
        self.fetch_optional(ex)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    pub(crate) async fn fetch_all<'e, E>(self, ex: E) -> Result<Vec<Row>, sqlx::Error>
    where
        E: Executor<'e, Database = MySql>,
    {
        let (sql, args) = self.prepare()?;
        let rows = sqlx::query_with(&sql, args).fetch_all(ex).await?;
        Ok(rows.into_iter().map(Row).collect())
    }
}

/// A [`Query`] whose rows are read as `O`.
#[must_use]
pub(crate) struct Typed<O> {
    query: Query,
    decode: fn(&Row) -> Result<O, sqlx::Error>,
}

impl<O> Typed<O> {
    pub(crate) fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.query = self.query.bind(value);
        self
    }

    pub(crate) async fn fetch_optional<'e, E>(self, ex: E) -> Result<Option<O>, sqlx::Error>
    where
        E: Executor<'e, Database = MySql>,
    {
        let decode = self.decode;
        self.query
            .fetch_optional(ex)
            .await?
            .as_ref()
            .map(decode)
            .transpose()
    }

    pub(crate) async fn fetch_one<'e, E>(self, ex: E) -> Result<O, sqlx::Error>
    where
        E: Executor<'e, Database = MySql>,
    {
        (self.decode)(&self.query.fetch_one(ex).await?)
    }

    pub(crate) async fn fetch_all<'e, E>(self, ex: E) -> Result<Vec<O>, sqlx::Error>
    where
        E: Executor<'e, Database = MySql>,
    {
        let decode = self.decode;
        self.query.fetch_all(ex).await?.iter().map(decode).collect()
    }
}

/// A result row. `try_get` is sqlx's, except that text in a binary-collated column decodes as
/// text.
#[derive(Debug)]
pub(crate) struct Row(MySqlRow);

impl Row {
    pub(crate) fn try_get<'r, T, I>(&'r self, column: I) -> Result<T, sqlx::Error>
    where
        T: Decode<'r, MySql> + Type<MySql>,
        I: ColumnRef,
    {
        let index = column.index(&self.0)?;
        if is_binary_text::<T>(&self.0, index) {
            // The column holds utf8mb4 text (every text column here is utf8mb4_bin, none is
            // a byte string that is read as text); String's decoder checks it is UTF-8.
            self.0.try_get_unchecked(index)
        } else {
            self.0.try_get(index)
        }
    }
}

/// Whether `T` is text and column `index` is text that the server flagged BINARY (its
/// collation is binary), which sqlx's type check would refuse.
fn is_binary_text<T: Type<MySql>>(row: &MySqlRow, index: usize) -> bool {
    if <String as Type<MySql>>::type_info() != T::type_info() {
        return false;
    }
    row.columns().get(index).is_some_and(|c| {
        let ty = c.type_info();
        !T::compatible(ty)
            && matches!(
                ty.name(),
                "VARBINARY" | "BINARY" | "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB"
            )
    })
}

/// A column by name or position.
pub(crate) trait ColumnRef {
    fn index(self, row: &MySqlRow) -> Result<usize, sqlx::Error>;
}

impl ColumnRef for &str {
    fn index(self, row: &MySqlRow) -> Result<usize, sqlx::Error> {
        row.columns()
            .iter()
            .position(|c| c.name() == self)
            .ok_or_else(|| sqlx::Error::ColumnNotFound(self.to_owned()))
    }
}

impl ColumnRef for usize {
    fn index(self, _row: &MySqlRow) -> Result<usize, sqlx::Error> {
        Ok(self)
    }
}

/// A row read as a tuple, column by column.
pub(crate) trait FromRow: Sized {
    fn from_row(row: &Row) -> Result<Self, sqlx::Error>;
}

macro_rules! tuple_from_row {
    ($($t:ident $i:tt),+) => {
        impl<$($t),+> FromRow for ($($t,)+)
        where
            $($t: for<'r> Decode<'r, MySql> + Type<MySql>),+
        {
            fn from_row(row: &Row) -> Result<Self, sqlx::Error> {
                Ok(($(row.try_get::<$t, _>($i as usize)?,)+))
            }
        }
    };
}
tuple_from_row!(A 0);
tuple_from_row!(A 0, B 1);
tuple_from_row!(A 0, B 1, C 2);
tuple_from_row!(A 0, B 1, C 2, D 3);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5);

#[cfg(test)]
mod tests {
    use super::positional;

    #[test]
    fn numbered_placeholders_become_positional_in_order_of_use() {
        let (sql, order) =
            positional("UPDATE t SET a = $2, b = $10 WHERE id = $1 AND x = $2 AND p = '$.bytes'");
        assert_eq!(
            sql,
            "UPDATE t SET a = ?, b = ? WHERE id = ? AND x = ? AND p = '$.bytes'"
        );
        assert_eq!(order, vec![2, 10, 1, 2]);
    }
}
