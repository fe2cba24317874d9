//! Typed row ids: a job's id cannot be passed where a server's is meant.
//! Each is its row's integer in SQLite, in JSON and in TypeScript.

use std::fmt;

use rusqlite::types::{FromSql, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::{Deserialize, Serialize};

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "specta", derive(specta::Type))]
        #[serde(transparent)]
        // A plain `number` in TypeScript (u32 there stands for it): row ids
        // stay far below 2^53.
        pub struct $name(#[cfg_attr(feature = "specta", specta(type = u32))] pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        /// As typed by an operator (`chom jobs 42`).
        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                self.0.to_sql()
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                i64::column_result(value).map($name)
            }
        }
    )*};
}

ids! {
    ServerId;
    SiteId;
    JobId;
    KeyId;
    /// One deploy or rollback of a site (its row in `deploys`).
    DeployId;
    /// One backup of a site (its row in `backups`).
    BackupId;
}
