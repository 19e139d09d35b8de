//! The Purna PMI registry: records, their validation, storage, API, pages and file exchange.

pub mod api;
pub mod file;
pub mod model;
pub mod pages;
pub mod service;
pub mod store;
