//! Block lists and playbook runs on PostgreSQL: the statements of the SQLite backend, in
//! PostgreSQL's dialect, on one pool.

use super::PostgresStore;
use super::queries as sql;

crate::respond_store::respond_store!(PostgresStore, sqlx::PgConnection, reader: pool, writer: pool);
