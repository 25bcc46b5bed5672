//! `Memory` (feature `memory`): an in-process bucket for tests, on `object_store`'s `InMemory`
//! through the `object_store` implementation (`objstore/`).

use crate::key::validate_bucket;
use crate::objstore::{ObjectStoreStorage, Provider, Redactor, StoreParts};
use crate::writer::validate_part_size;
use crate::{Result, Storage};
use std::sync::Arc;

/// An in-process bucket for tests; contents vanish with the last reference.
pub fn memory(bucket: &str, part_size: usize) -> Result<Arc<dyn Storage>> {
    validate_bucket(bucket)?;
    validate_part_size(part_size)?;
    let mem = Arc::new(object_store::memory::InMemory::new());
    let redactor = Redactor::default();
    Ok(Arc::new(ObjectStoreStorage {
        store: mem.clone(),
        provider: Provider::Memory,
        parts: Some(Arc::new(StoreParts {
            api: mem,
            redactor: redactor.clone(),
        })),
        bucket: bucket.to_string(),
        part_size,
        redactor,
        failed_aborts: Default::default(),
    }))
}
