//! The MySQL expansion of [`crate::chunks`]: its statements need no port (no `RETURNING`),
//! only MySQL's placeholders, which [`super::sql`] rewrites.

crate::chunks::impl_chunks!(super::MySqlRepo, ::sqlx::MySql, crate::mysql::sql);
