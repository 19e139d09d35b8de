//! What the benchmarks share: sizes from the environment, a fresh database on each backend,
//! and the median and 95th percentile of samples.
// Each benchmark includes this module and uses part of it.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

/// A size from the environment (e.g. a quick run with fewer rows), else `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The PostgreSQL server benchmarks use: LOKET_BENCH_POSTGRES_URL, else the tests' server.
pub fn postgres_base() -> Option<String> {
    std::env::var("LOKET_BENCH_POSTGRES_URL")
        .or_else(|_| std::env::var("LOKET_TEST_POSTGRES_URL"))
        .ok()
}

/// The URL of a fresh, empty database called `name`: a SQLite file in `dir` for "sqlite",
/// else a PostgreSQL database dropped and made anew (None when no server is configured).
pub async fn fresh_database(backend: &str, dir: &Path, name: &str) -> Option<String> {
    if backend == "sqlite" {
        return Some(format!(
            "sqlite://{}",
            dir.join(format!("{name}.db")).display()
        ));
    }
    let base = postgres_base()?;
    let admin = sqlx::PgPool::connect(&base).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}

/// (median, p95) of the samples, in milliseconds.
pub fn median_p95_ms(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = ms(samples[samples.len() / 2]);
    let p95 = ms(samples[((samples.len() as f64 * 0.95).ceil() as usize)
        .saturating_sub(1)
        .min(samples.len() - 1)]);
    (median, p95)
}
