//! Parse throughput: `cargo bench -p nik`.
//!
//! Criterion reports elements (NIKs) per second over a batch of 10,000 valid NIKs; before
//! that, a plain `Instant` loop prints "nik parse: N NIKs/s" over 1,000,000 parses.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use criterion::{criterion_group, Criterion, Throughput};
use nik::{regions, Nik, Sex};

const BATCH: usize = 10_000;
const QUICK_PARSES: usize = 1_000_000;

fn reference() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 15).unwrap_or_default()
}

/// 10,000 valid NIK strings, generated deterministically (xorshift), ages 0 to 99.
fn batch() -> Vec<String> {
    let districts = regions::districts();
    let reference = reference();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = Vec::with_capacity(BATCH);
    while out.len() < BATCH {
        let Some(district) = districts.get(next() as usize % districts.len().max(1)) else {
            panic!("no district data");
        };
        let birth = reference - Days::new(next() % 36_000);
        let sex = if next() % 2 == 0 {
            Sex::Male
        } else {
            Sex::Female
        };
        let serial = (next() % 9999) as u16 + 1;
        match Nik::compose(district.code, birth, sex, serial) {
            Ok(nik) => out.push(nik.to_string()),
            Err(e) => panic!("cannot compose a NIK: {e}"),
        }
    }
    out
}

fn parse_all(batch: &[String], reference: NaiveDate) -> usize {
    batch
        .iter()
        .filter(|s| Nik::parse_at(black_box(s), reference).is_ok())
        .count()
}

fn quick_figure(batch: &[String]) {
    let reference = reference();
    let _ = parse_all(batch, reference); // warm-up (region tables, caches)
    let start = Instant::now();
    let mut ok = 0;
    for _ in 0..QUICK_PARSES / batch.len() {
        ok += parse_all(batch, reference);
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(ok, QUICK_PARSES, "every generated NIK must parse");
    eprintln!("nik parse: {:.0} NIKs/s", QUICK_PARSES as f64 / secs);

    // Nik::parse also reads the local date and time zone on every call.
    let start = Instant::now();
    let mut ok = 0;
    for _ in 0..QUICK_PARSES / batch.len() {
        ok += batch
            .iter()
            .filter(|s| Nik::parse(black_box(s)).is_ok())
            .count();
    }
    let secs = start.elapsed().as_secs_f64();
    black_box(ok);
    eprintln!(
        "nik parse (with Local::now per call): {:.0} NIKs/s",
        QUICK_PARSES as f64 / secs
    );
}

fn bench_parse(c: &mut Criterion) {
    let batch = batch();
    let reference = reference();
    let mut group = c.benchmark_group("nik");
    group.throughput(Throughput::Elements(batch.len() as u64));
    group.bench_function("parse_at_10k", |b| {
        b.iter(|| parse_all(&batch, reference));
    });
    group.bench_function("parse_10k", |b| {
        b.iter(|| {
            batch
                .iter()
                .filter(|s| Nik::parse(black_box(s)).is_ok())
                .count()
        });
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_parse
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: skip the slow loop then.
    if std::env::args().any(|a| a == "--bench") {
        quick_figure(&batch());
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
