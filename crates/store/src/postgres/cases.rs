//! Incident cases on PostgreSQL: the statements of the SQLite backend, in PostgreSQL's dialect, on one pool.

use super::PostgresStore;
use super::queries as sql;

crate::case_store::case_helpers!(sqlx::PgConnection);
crate::case_writes::case_writes!(PostgresStore);
crate::case_store::case_store!(PostgresStore, reader: pool);
