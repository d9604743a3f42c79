//! Accounts, tokens, sessions and the audit log on SQLite: reads on the reading pool, writes
//! through the single writer.

use super::SqliteStore;
use super::queries as sql;

crate::account_store::account_store!(SqliteStore, sqlx::SqliteConnection, reader: reader, writer: writer);
