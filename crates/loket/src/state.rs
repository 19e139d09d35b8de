//! The state every handler gets: the database, the data key, the configuration, and the caches
//! that features keep between requests.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::config::Config;
use crate::db::Db;
use crate::keys::{self, NewKey};
use crate::vault::Vault;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub vault: Arc<Vault>,
    pub config: Arc<Config>,
    caches: Arc<Caches>,
}

/// One value per type, made on first use: a feature keeps its cache here (the catalogue its
/// search index) without this layer knowing the features.
#[derive(Default)]
struct Caches(Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>);

impl AppState {
    /// Connects, migrates and reads the data key, refusing one that did not seal this
    /// database; never makes a key (see [`AppState::open_or_initialise`]).
    pub async fn open(config: Config) -> anyhow::Result<AppState> {
        AppState::open_with(config, NewKey::Never).await
    }

    /// As [`AppState::open`], and makes the key file when the database is new and empty: the
    /// first `loket migrate` or `loket serve`.
    pub async fn open_or_initialise(config: Config) -> anyhow::Result<AppState> {
        AppState::open_with(config, NewKey::MayCreate).await
    }

    async fn open_with(config: Config, new_key: NewKey) -> anyhow::Result<AppState> {
        let db = Db::connect_with(&config.database_url, config.db_max_connections).await?;
        db.migrate().await?;
        let vault = match keys::open_vault(&db, &config, new_key).await {
            Ok(vault) => vault,
            Err(e) => {
                db.close().await;
                return Err(e.into());
            }
        };
        crate::audit::open_chain(&db, crate::audit::ChainKey::new(vault.audit_key())).await?;
        Ok(AppState {
            db,
            vault: Arc::new(vault),
            config: Arc::new(config),
            caches: Default::default(),
        })
    }

    /// The application's one `T`, made with `T::default()` the first time it is asked for.
    pub fn cache<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        self.caches.get()
    }
}

impl Caches {
    fn get<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut map = match self.0.lock() {
            Ok(map) => map,
            // A panic elsewhere while holding the lock leaves the map itself intact.
            Err(poisoned) => poisoned.into_inner(),
        };
        let entry = map
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()) as Arc<dyn Any + Send + Sync>)
            .clone();
        // The entry under T's TypeId was made as a T, so the downcast cannot fail.
        entry.downcast::<T>().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Default)]
    struct Hits(AtomicUsize);

    #[derive(Default)]
    struct Other(AtomicUsize);

    #[test]
    fn a_cache_is_made_once_per_type_and_shared() {
        let caches = Caches::default();
        caches.get::<Hits>().0.fetch_add(2, Ordering::SeqCst);
        assert_eq!(caches.get::<Hits>().0.load(Ordering::SeqCst), 2);
        assert_eq!(caches.get::<Other>().0.load(Ordering::SeqCst), 0);
    }
}
