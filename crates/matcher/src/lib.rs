//! The compiled indicator snapshot: an immutable value built from the store's scored indicators,
//! swapped in atomically whenever intel changes, so that every reader (detection, the mail
//! filter, block lists) looks values up without ever taking a lock.
