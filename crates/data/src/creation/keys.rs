//! Idempotency keys of create requests, kept in the transaction that creates.
//!
//! The key row is inserted first: a concurrent request with the same key waits on it (the
//! primary key) until the first commits, then finds it, so two requests under one key never
//! both create.

use antaeus_core::store::KeyedRequest;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::idempotency_keys;

/// What a key says before anything is created.
pub(crate) enum KeyState {
    /// No key, or no request used it: this one owns it now.
    Fresh,
    /// The same request used it: answer what it made (this resource).
    Replay(i64),
    /// A different request used it.
    Reused,
}

/// Claims `$keyed` (an `Option<&KeyedRequest>`) in `$scope` for this transaction (see the
/// module's doc); evaluates to `QueryResult<KeyState>`.
macro_rules! claim_key {
    ($c:ident, $scope:expr, $keyed:expr, $now:expr) => {{
        let keyed: Option<&antaeus_core::store::KeyedRequest> = $keyed;
        match keyed {
            None => Ok::<_, diesel::result::Error>($crate::creation::keys::KeyState::Fresh),
            Some(keyed) => {
                let inserted = diesel::insert_into($crate::schema::idempotency_keys::table)
                    .values($crate::creation::keys::new_key($scope, keyed, $now))
                    .on_conflict_do_nothing()
                    .execute($c)?;
                if inserted == 1 {
                    Ok($crate::creation::keys::KeyState::Fresh)
                } else {
                    $crate::schema::idempotency_keys::table
                        .find(($scope, keyed.key.as_str()))
                        .select((
                            $crate::schema::idempotency_keys::fingerprint,
                            $crate::schema::idempotency_keys::resource_id,
                        ))
                        .first::<(String, i64)>($c)
                        .map(|(fingerprint, resource)| {
                            if fingerprint == keyed.fingerprint {
                                $crate::creation::keys::KeyState::Replay(resource)
                            } else {
                                $crate::creation::keys::KeyState::Reused
                            }
                        })
                }
            }
        }
    }};
}
pub(crate) use claim_key;

/// Records that the key of this transaction named `$resource` (`$keyed` may be `None`).
macro_rules! bind_key {
    ($c:ident, $scope:expr, $keyed:expr, $resource:expr) => {{
        if let Some(keyed) = $keyed {
            diesel::update(
                $crate::schema::idempotency_keys::table.find(($scope, keyed.key.as_str())),
            )
            .set($crate::schema::idempotency_keys::resource_id.eq($resource))
            .execute($c)?;
        }
    }};
}
pub(crate) use bind_key;

/// Gives the key of this transaction up: the request created nothing (`$keyed` may be `None`).
macro_rules! release_key {
    ($c:ident, $scope:expr, $keyed:expr) => {{
        if let Some(keyed) = $keyed {
            diesel::delete(
                $crate::schema::idempotency_keys::table.find(($scope, keyed.key.as_str())),
            )
            .execute($c)?;
        }
    }};
}
pub(crate) use release_key;

/// A key row.
#[derive(Insertable)]
#[diesel(table_name = idempotency_keys)]
pub(crate) struct NewKey<'a> {
    scope: &'a str,
    key: &'a str,
    fingerprint: &'a str,
    resource_id: i64,
    created_at: NaiveDateTime,
}

/// The row claiming `keyed` in `scope`, before the resource exists.
pub(crate) fn new_key<'a>(
    scope: &'a str,
    keyed: &'a KeyedRequest,
    now: NaiveDateTime,
) -> NewKey<'a> {
    NewKey {
        scope,
        key: keyed.key.as_str(),
        fingerprint: &keyed.fingerprint,
        resource_id: 0,
        created_at: now,
    }
}
