//! Search quality against the judgements in `src/catalog/queries.toml`, measured on the demo
//! catalogue as loaded into each backend (through the import path).

use std::collections::{HashMap, HashSet};

use loket::catalog::demo;
use loket::catalog::index::Filters;
use loket::catalog::model::Status;

use crate::common::{backends, spawn_app};

#[derive(serde::Deserialize)]
pub struct Judgements {
    pub query: Vec<Judgement>,
}

#[derive(serde::Deserialize)]
pub struct Judgement {
    pub q: String,
    pub relevant: Vec<String>,
    #[serde(default)]
    pub related: Vec<String>,
}

pub fn judgements() -> Judgements {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/catalog/queries.toml"
    ))
    .unwrap();
    toml::from_str(&text).unwrap()
}

/// Gain of each active demo training for a query: 2 relevant, 1 related.
fn gains(j: &Judgement, topics: &HashMap<String, &'static str>) -> HashMap<String, u32> {
    topics
        .iter()
        .filter_map(|(id, topic)| {
            let gain = if j.relevant.iter().any(|t| t == topic) {
                2
            } else if j.related.iter().any(|t| t == topic) {
                1
            } else {
                return None;
            };
            Some((id.clone(), gain))
        })
        .collect()
}

pub struct Scores {
    pub recall: f64,
    pub ndcg: f64,
}

pub fn score(ranked: &[String], gains: &HashMap<String, u32>) -> Scores {
    let top: Vec<&String> = ranked.iter().take(10).collect();
    let found = top.iter().filter(|id| gains.contains_key(**id)).count();
    let recall = found as f64 / gains.len().clamp(1, 10) as f64;
    let dcg: f64 = top
        .iter()
        .enumerate()
        .map(|(i, id)| f64::from(*gains.get(*id).unwrap_or(&0)) / (i as f64 + 2.0).log2())
        .sum();
    let mut ideal: Vec<u32> = gains.values().copied().collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, g)| f64::from(*g) / (i as f64 + 2.0).log2())
        .sum();
    Scores {
        recall,
        ndcg: if idcg > 0.0 { dcg / idcg } else { 0.0 },
    }
}

#[tokio::test]
async fn search_quality_meets_the_aim_and_is_identical_on_both_backends() {
    let judgements = judgements();
    assert!(judgements.query.len() >= 40, "at least 40 judged queries");
    let topics: HashMap<String, &'static str> = demo::catalogue()
        .into_iter()
        .filter(|t| t.data.status == Status::Active)
        .map(|t| (t.data.external_id, t.topic))
        .collect();
    let known: HashSet<&str> = loket::catalog::topics::TOPICS
        .iter()
        .map(|t| t.code)
        .collect();
    let mut per_backend: Vec<Vec<Vec<String>>> = Vec::new();
    for backend in backends() {
        let app = spawn_app(backend).await;
        assert_eq!(demo::seed(&app.state.db).await.unwrap(), 1561);
        let index = app
            .state
            .cache::<loket::catalog::index::IndexHandle>()
            .get(&app.state.db)
            .await
            .unwrap();
        assert_eq!(index.len(), 1561);
        let mut rankings = Vec::new();
        let (mut recall, mut ndcg) = (0.0, 0.0);
        let mut weak = Vec::new();
        for j in &judgements.query {
            for t in j.relevant.iter().chain(&j.related) {
                assert!(known.contains(t.as_str()), "unknown topic {t} in {}", j.q);
            }
            let ranked: Vec<String> = index
                .search(&j.q, &Filters::default(), 0, 10)
                .hits
                .iter()
                .map(|h| h.training.data.external_id.clone())
                .collect();
            let s = score(&ranked, &gains(j, &topics));
            if s.recall < 0.9 {
                weak.push(format!("{} (recall {:.2})", j.q, s.recall));
            }
            recall += s.recall;
            ndcg += s.ndcg;
            rankings.push(ranked);
        }
        let n = judgements.query.len() as f64;
        let (recall, ndcg) = (recall / n, ndcg / n);
        println!(
            "search quality on {backend:?}: {} queries, recall@10 = {recall:.3}, nDCG@10 = {ndcg:.3}",
            judgements.query.len()
        );
        println!("  queries below 0.9 recall: {weak:?}");
        assert!(
            recall >= 0.9,
            "recall@10 {recall:.3} is below the aim of 0.9"
        );
        per_backend.push(rankings);
        app.cleanup().await;
    }
    for other in &per_backend[1..] {
        assert_eq!(other, &per_backend[0], "rankings differ between backends");
    }
}

#[test]
fn the_stemmer_knows_the_catalogues_affixed_words() {
    // Words of the catalogue that look affixed (me-, pe-, ber-, ke-…-an) but kept no root are
    // reported, so the root list can grow with the catalogue.
    let index = loket::catalog::index::Index::build(
        demo::generate(400, 60)
            .into_iter()
            .enumerate()
            .map(|(i, t)| loket::catalog::model::Training {
                id: i as i64 + 1,
                institution_id: 1,
                version: 1,
                data: t.data,
            })
            .collect(),
    );
    let prefixes = ["mem", "men", "meng", "peng", "pen", "pem", "ber", "ke"];
    let unrooted: Vec<&str> = index
        .vocabulary()
        .filter(|(w, s)| w == s && w.len() > 6)
        .map(|(w, _)| w)
        .filter(|w| prefixes.iter().any(|p| w.starts_with(p)) && w.ends_with("an"))
        .collect();
    println!("affixed-looking words without a root: {unrooted:?}");
    assert!(
        unrooted.len() <= 5,
        "too many affixed words without a root: {unrooted:?}"
    );
}
