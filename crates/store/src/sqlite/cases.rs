//! Incident cases on SQLite: reads on the reading pool, writes through the single writer.

use super::SqliteStore;
use super::queries as sql;

crate::case_store::case_helpers!(sqlx::SqliteConnection);
crate::case_writes::case_writes!(SqliteStore);
crate::case_store::case_store!(SqliteStore, reader: reader);
