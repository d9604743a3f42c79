//! Accounts, tokens, sessions and the audit log on PostgreSQL: the statements of the SQLite
//! backend, in PostgreSQL's dialect, on one pool.

use super::PostgresStore;
use super::queries as sql;

crate::account_store::account_store!(PostgresStore, sqlx::PgConnection, reader: pool, writer: pool);
