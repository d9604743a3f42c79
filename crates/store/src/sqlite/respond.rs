//! Block lists and playbook runs on SQLite: reads on the reading pool, writes through the
//! single writer.

use super::SqliteStore;
use super::queries as sql;

crate::respond_store::respond_store!(SqliteStore, sqlx::SqliteConnection, reader: reader, writer: writer);
