//! The in-process search index: BM25 over stems, field weights, one-typo and synonym
//! expansion, filters with counts per value. Built from the database's rows, so SQLite and
//! PostgreSQL deployments answer every query identically (see the module doc of `catalog`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use super::model::{Category, Mode, Occupation, Offer, Platform, Status, Training};
use super::text::{self, TypoTable};
use crate::db::Db;
use crate::error::Result;

/// Field weights: a word in the title says more about a training than one in its description.
const TITLE: f32 = 3.0;
const OCCUPATION: f32 = 1.5;
const DESCRIPTION: f32 = 1.0;
const INSTITUTION: f32 = 0.5;
const K1: f32 = 1.2;
/// Short documents: length normalisation matters less than in long prose.
const B: f32 = 0.5;
const SYNONYM_WEIGHT: f32 = 0.9;
const TYPO_WEIGHT: f32 = 0.75;
/// A word found in more than this share of the catalogue does not by itself make a match.
const COMMON_SHARE: f32 = 0.4;
/// Words shorter than this are not typo-corrected ("ac", "kue" have too many neighbours).
const TYPO_MIN_CHARS: usize = 4;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    pub category: Option<Category>,
    pub mode: Option<Mode>,
    pub platform: Option<Platform>,
    /// The participant's remaining balance, in rupiah: a training fits when it is sold at or
    /// below this price (on the chosen platform, if one is chosen).
    pub max_price: Option<i64>,
    pub occupation: Option<Occupation>,
}

/// Price ceilings offered as filter values, with counts.
pub const PRICE_STEPS: &[i64] = &[500_000, 1_000_000, 3_500_000];

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facets {
    pub category: Vec<(Category, usize)>,
    pub mode: Vec<(Mode, usize)>,
    pub platform: Vec<(Platform, usize)>,
    pub occupation: Vec<(Occupation, usize)>,
    /// (ceiling, trainings at or below it)
    pub price: Vec<(i64, usize)>,
}

/// How one query word was understood: the stems searched and why.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryWord {
    pub word: String,
    pub stems: Vec<String>,
    /// `exact`, `synonym`, `typo` or `unknown`
    pub how: &'static str,
}

pub struct Hit<'a> {
    pub training: &'a Training,
    pub score: f32,
    /// The cheapest offer that satisfies the filters.
    pub offer: Option<Offer>,
}

pub struct SearchResult<'a> {
    pub total: usize,
    pub hits: Vec<Hit<'a>>,
    pub facets: Facets,
    pub understood: Vec<QueryWord>,
}

struct Term {
    /// (stem, weight) alternatives; a document scores the best of them.
    alternatives: Vec<(u32, f32)>,
}

pub struct Index {
    docs: Vec<Training>,
    by_id: HashMap<i64, u32>,
    stems: Vec<String>,
    stem_ids: HashMap<String, u32>,
    /// Per stem: (document, weighted term frequency).
    postings: Vec<Vec<(u32, f32)>>,
    doc_len: Vec<f32>,
    avg_len: f32,
    /// Surface words of the catalogue and their stem, for typo matching before stemming.
    surface: Vec<(String, u32)>,
    surface_ids: HashMap<String, u32>,
    surface_typos: TypoTable,
    stem_typos: TypoTable,
    /// Active documents, best rated first: the order of a search without words.
    by_rating: Vec<u32>,
    facts: Vec<Facts>,
}

fn weighted_words(t: &Training) -> Vec<(String, f32)> {
    let d = &t.data;
    let mut words: Vec<(String, f32)> = Vec::new();
    let mut add = |text: &str, weight: f32| {
        for w in text::tokens(text) {
            if !text::is_stopword(&w) {
                words.push((w, weight));
            }
        }
    };
    add(&d.title, TITLE);
    for o in &d.occupations {
        let (id, en) = o.labels();
        add(id, OCCUPATION);
        add(en, OCCUPATION * 0.5);
    }
    add(&d.description, DESCRIPTION);
    add(&d.institution_name, INSTITUTION);
    words
}

impl Index {
    /// Builds the index; `trainings` may come in any order (they are sorted by external id so
    /// ties break the same way everywhere).
    pub fn build(mut trainings: Vec<Training>) -> Index {
        trainings.sort_by(|a, b| a.data.external_id.cmp(&b.data.external_id));
        let mut index = Index {
            by_id: HashMap::with_capacity(trainings.len()),
            stems: Vec::new(),
            stem_ids: HashMap::new(),
            postings: Vec::new(),
            doc_len: Vec::with_capacity(trainings.len()),
            avg_len: 0.0,
            surface: Vec::new(),
            surface_ids: HashMap::new(),
            surface_typos: TypoTable::default(),
            stem_typos: TypoTable::default(),
            by_rating: Vec::new(),
            facts: trainings.iter().map(Facts::of).collect(),
            docs: Vec::new(),
        };
        let mut stem_cache: HashMap<String, u32> = HashMap::new();
        for (doc, training) in trainings.iter().enumerate() {
            let doc = doc as u32;
            index.by_id.insert(training.id, doc);
            let mut tf: HashMap<u32, f32> = HashMap::new();
            let mut len = 0.0;
            for (word, weight) in weighted_words(training) {
                let stem_id = match stem_cache.get(&word) {
                    Some(id) => *id,
                    None => {
                        let id = index.stem_id(&text::stem(&word));
                        stem_cache.insert(word.clone(), id);
                        let surface_id = index.surface.len() as u32;
                        index.surface_typos.insert(&word, surface_id);
                        index.surface_ids.insert(word.clone(), surface_id);
                        index.surface.push((word, id));
                        id
                    }
                };
                *tf.entry(stem_id).or_default() += weight;
                len += weight;
            }
            let mut tf: Vec<_> = tf.into_iter().collect();
            tf.sort_unstable_by_key(|(s, _)| *s);
            for (stem_id, f) in tf {
                index.postings[stem_id as usize].push((doc, f));
            }
            index.doc_len.push(len);
        }
        let n = trainings.len().max(1) as f32;
        index.avg_len = index.doc_len.iter().sum::<f32>() / n;
        for (id, stem) in index.stems.iter().enumerate() {
            index.stem_typos.insert(stem, id as u32);
        }
        let mut by_rating: Vec<u32> = (0..trainings.len() as u32)
            .filter(|d| trainings[*d as usize].data.status == Status::Active)
            .collect();
        by_rating.sort_by(|a, b| {
            let (x, y) = (&trainings[*a as usize].data, &trainings[*b as usize].data);
            y.rating_tenths
                .cmp(&x.rating_tenths)
                .then(y.review_count.cmp(&x.review_count))
                .then(x.external_id.cmp(&y.external_id))
        });
        index.by_rating = by_rating;
        index.docs = trainings;
        index
    }

    fn stem_id(&mut self, stem: &str) -> u32 {
        if let Some(id) = self.stem_ids.get(stem) {
            return *id;
        }
        let id = self.stems.len() as u32;
        self.stems.push(stem.to_string());
        self.stem_ids.insert(stem.to_string(), id);
        self.postings.push(Vec::new());
        id
    }

    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    pub fn get(&self, id: i64) -> Option<&Training> {
        self.by_id.get(&id).map(|d| &self.docs[*d as usize])
    }

    pub fn trainings(&self) -> &[Training] {
        &self.docs
    }

    /// Distinct words of the catalogue (for the stemmer coverage report).
    pub fn vocabulary(&self) -> impl Iterator<Item = (&str, &str)> {
        self.surface
            .iter()
            .map(|(w, s)| (w.as_str(), self.stems[*s as usize].as_str()))
    }

    fn df(&self, stem: u32) -> usize {
        self.postings[stem as usize].len()
    }

    /// Understands the query word by word: the word's stem, its synonyms, else its one-typo
    /// neighbours among the catalogue's words and stems.
    fn analyse(&self, q: &str) -> (Vec<Term>, Vec<QueryWord>) {
        let mut terms = Vec::new();
        let mut understood = Vec::new();
        let mut seen = HashSet::new();
        for word in text::tokens(q) {
            if text::is_stopword(&word) || !seen.insert(word.clone()) {
                continue;
            }
            let stem = text::stem(&word);
            let mut alternatives: Vec<(u32, f32)> = Vec::new();
            let add = |alts: &mut Vec<(u32, f32)>, id: u32, w: f32| match alts
                .iter_mut()
                .find(|(s, _)| *s == id)
            {
                Some(existing) => existing.1 = existing.1.max(w),
                None => alts.push((id, w)),
            };
            let exact = self.stem_ids.get(&stem).copied();
            if let Some(id) = exact {
                add(&mut alternatives, id, 1.0);
            }
            for syn in text::synonyms(&word).iter().chain(text::synonyms(&stem)) {
                if let Some(id) = self.stem_ids.get(*syn) {
                    add(&mut alternatives, *id, SYNONYM_WEIGHT);
                }
            }
            let typo = alternatives.is_empty() && word.chars().count() >= TYPO_MIN_CHARS;
            if typo {
                self.typo_alternatives(&word, &stem, &mut alternatives);
            }
            let how = match (exact.is_some(), alternatives.is_empty(), typo) {
                (true, _, _) => "exact",
                (false, true, _) => "unknown",
                (false, false, true) => "typo",
                (false, false, false) => "synonym",
            };
            understood.push(QueryWord {
                word: word.clone(),
                stems: alternatives
                    .iter()
                    .map(|(s, _)| self.stems[*s as usize].clone())
                    .collect(),
                how,
            });
            terms.push(Term { alternatives });
        }
        (terms, understood)
    }

    /// The catalogue words and stems one edit away from a word the catalogue does not know.
    fn typo_alternatives(&self, word: &str, stem: &str, alternatives: &mut Vec<(u32, f32)>) {
        let mut add = |id: u32, w: f32| match alternatives.iter_mut().find(|(s, _)| *s == id) {
            Some(existing) => existing.1 = existing.1.max(w),
            None => alternatives.push((id, w)),
        };
        for id in self.surface_typos.candidates(word) {
            let (surface, stem_id) = &self.surface[id as usize];
            if text::within_one_edit(word, surface) {
                add(*stem_id, TYPO_WEIGHT);
                for syn in text::synonyms(surface) {
                    if let Some(sid) = self.stem_ids.get(*syn) {
                        add(*sid, TYPO_WEIGHT * SYNONYM_WEIGHT);
                    }
                }
            }
        }
        for candidate in [word, stem] {
            for id in self.stem_typos.candidates(candidate) {
                if text::within_one_edit(candidate, &self.stems[id as usize]) {
                    add(id, TYPO_WEIGHT);
                }
            }
        }
        // Typos of everyday words ("babysiter", "ingris") reach what those words mean.
        for (syn_word, targets) in text::synonym_words() {
            if text::within_one_edit(word, syn_word) {
                for t in targets {
                    if let Some(sid) = self.stem_ids.get(*t) {
                        add(*sid, TYPO_WEIGHT * SYNONYM_WEIGHT);
                    }
                }
            }
        }
        // Keep the most common readings of an ambiguous typo.
        alternatives.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then(self.df(b.0).cmp(&self.df(a.0)))
                .then(a.0.cmp(&b.0))
        });
        alternatives.truncate(4);
    }

    /// Scores every document that matches at least one query word. Words found in a large part
    /// of the catalogue ("belajar" is in nearly every description) only add to the score of
    /// documents an informative word found, unless the query has no informative word: a search
    /// for "belajar masak" is about cooking, not about every training that mentions learning.
    fn score(&self, terms: &[Term]) -> Vec<(u32, f32)> {
        let n = self.docs.len() as f32;
        let common = |t: &Term| {
            t.alternatives
                .iter()
                .all(|(stem, _)| self.df(*stem) as f32 > COMMON_SHARE * n)
        };
        let any_informative = terms.iter().any(|t| !common(t));
        let mut order: Vec<&Term> = terms.iter().collect();
        order.sort_by_key(|t| common(t));
        let mut total = vec![0f32; self.docs.len()];
        let mut matched = vec![0u16; self.docs.len()];
        let mut best = vec![0f32; self.docs.len()];
        let mut sum = vec![0f32; self.docs.len()];
        let mut found: Vec<u32> = Vec::new();
        let mut touched: Vec<u32> = Vec::new();
        for term in order {
            let only_found = any_informative && common(term);
            for (stem, weight) in &term.alternatives {
                let postings = &self.postings[*stem as usize];
                let df = postings.len() as f32;
                let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
                for (doc, tf) in postings {
                    let d = *doc as usize;
                    if only_found && matched[d] == 0 {
                        continue;
                    }
                    let norm = K1 * (1.0 - B + B * self.doc_len[d] / self.avg_len);
                    let s = weight * idf * tf * (K1 + 1.0) / (tf + norm);
                    if sum[d] == 0.0 {
                        touched.push(*doc);
                    }
                    best[d] = best[d].max(s);
                    sum[d] += s;
                }
            }
            for doc in touched.drain(..) {
                let d = doc as usize;
                // The best reading counts fully; a document that also matches the word's other
                // readings ("babysitter" → asuh, anak) gets a little more.
                total[d] += best[d] + 0.3 * (sum[d] - best[d]);
                if matched[d] == 0 {
                    found.push(doc);
                }
                matched[d] += 1;
                best[d] = 0.0;
                sum[d] = 0.0;
            }
        }
        let words = terms.len().max(1) as f32;
        found
            .into_iter()
            .filter(|d| self.docs[*d as usize].data.status == Status::Active)
            .map(|d| {
                // Documents that match more of the words come first.
                let coverage = f32::from(matched[d as usize]) / words;
                (d, total[d as usize] * (0.3 + 0.7 * coverage * coverage))
            })
            .collect()
    }

    /// Searches with filters; `limit` hits from `offset`, best first, with counts per value.
    pub fn search(
        &self,
        q: &str,
        filters: &Filters,
        offset: usize,
        limit: usize,
    ) -> SearchResult<'_> {
        let (terms, understood) = self.analyse(q);
        let candidates: Vec<(u32, f32)> = if terms.is_empty() {
            self.by_rating.iter().map(|d| (*d, 0.0)).collect()
        } else {
            self.score(&terms)
        };
        let facets = self.facets(&candidates, filters);
        let want = Want::from(filters);
        let mut passing: Vec<(u32, f32)> = candidates
            .into_iter()
            .filter(|(d, _)| want.check(&self.facts[*d as usize]).all())
            .collect();
        let total = passing.len();
        if !terms.is_empty() {
            let cmp = |a: &(u32, f32), b: &(u32, f32)| {
                let (x, y) = (&self.docs[a.0 as usize].data, &self.docs[b.0 as usize].data);
                b.1.total_cmp(&a.1)
                    .then(y.rating_tenths.cmp(&x.rating_tenths))
                    .then(x.external_id.cmp(&y.external_id))
            };
            let wanted = (offset + limit).min(passing.len());
            if wanted > 0 && wanted < passing.len() {
                passing.select_nth_unstable_by(wanted - 1, cmp);
                passing.truncate(wanted);
            }
            passing.sort_by(cmp);
        }
        let hits = passing
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|(d, score)| {
                let training = &self.docs[d as usize];
                Hit {
                    training,
                    score,
                    offer: affordable_offer(training, filters),
                }
            })
            .collect();
        SearchResult {
            total,
            hits,
            facets,
            understood,
        }
    }

    fn facets(&self, candidates: &[(u32, f32)], f: &Filters) -> Facets {
        let want = Want::from(f);
        let mut category = [0usize; 4];
        let mut mode = [0usize; 3];
        let mut occupation = vec![0usize; Occupation::ALL.len()];
        let mut platform = [0usize; 8];
        let mut price = vec![0usize; PRICE_STEPS.len()];
        for (doc, _) in candidates {
            let facts = &self.facts[*doc as usize];
            let ok = want.check(facts);
            // A value's count keeps every other filter: how many results choosing it would give.
            if ok.mode && ok.occupation && ok.offer {
                category[facts.category as usize] += 1;
            }
            if ok.category && ok.occupation && ok.offer {
                mode[facts.mode as usize] += 1;
            }
            if ok.category && ok.mode && ok.offer {
                let mut bits = facts.occupations;
                while bits != 0 {
                    occupation[bits.trailing_zeros() as usize] += 1;
                    bits &= bits - 1;
                }
            }
            if ok.category && ok.mode && ok.occupation {
                for (p, count) in platform.iter_mut().enumerate() {
                    if facts.prices[p] <= want.max_price {
                        *count += 1;
                    }
                }
                let cheapest = want.platform.map_or(facts.min_price, |p| facts.prices[p]);
                for (i, step) in PRICE_STEPS.iter().enumerate() {
                    if cheapest <= *step {
                        price[i] += 1;
                    }
                }
            }
        }
        Facets {
            category: Category::ALL.iter().copied().zip(category).collect(),
            mode: Mode::ALL.iter().copied().zip(mode).collect(),
            platform: Platform::all().zip(platform).collect(),
            occupation: Occupation::ALL.iter().copied().zip(occupation).collect(),
            price: PRICE_STEPS.iter().copied().zip(price).collect(),
        }
    }
}

/// What the filters and the facet counts need of a training, as small integers, so that
/// counting over 50,000 trainings is a few comparisons each.
#[derive(Clone, Copy)]
struct Facts {
    category: u8,
    mode: u8,
    /// Bit i set: the training prepares for `Occupation::ALL[i]`.
    occupations: u64,
    /// Price on each platform; `i64::MAX` where it is not sold.
    prices: [i64; 8],
    min_price: i64,
}

fn position<T: PartialEq>(all: &[T], value: &T) -> usize {
    all.iter().position(|v| v == value).unwrap_or(0)
}

impl Facts {
    fn of(t: &Training) -> Facts {
        let d = &t.data;
        let mut prices = [i64::MAX; 8];
        for o in &d.offers {
            if let Some(slot) = prices.get_mut(o.platform.0 as usize) {
                *slot = o.price;
            }
        }
        Facts {
            category: position(Category::ALL, &d.category) as u8,
            mode: position(Mode::ALL, &d.mode) as u8,
            occupations: d
                .occupations
                .iter()
                .fold(0, |bits, o| bits | 1 << position(Occupation::ALL, o)),
            min_price: prices.iter().copied().min().unwrap_or(i64::MAX),
            prices,
        }
    }
}

/// The filters in the shape of [`Facts`].
struct Want {
    category: Option<u8>,
    mode: Option<u8>,
    occupation: Option<u64>,
    platform: Option<usize>,
    max_price: i64,
}

/// Which filter dimensions a training passes.
struct Passes {
    category: bool,
    mode: bool,
    occupation: bool,
    /// Platform and price together: a price is always the price on some platform.
    offer: bool,
}

impl Passes {
    fn all(&self) -> bool {
        self.category && self.mode && self.occupation && self.offer
    }
}

impl From<&Filters> for Want {
    fn from(f: &Filters) -> Want {
        Want {
            category: f.category.map(|c| position(Category::ALL, &c) as u8),
            mode: f.mode.map(|m| position(Mode::ALL, &m) as u8),
            occupation: f.occupation.map(|o| 1u64 << position(Occupation::ALL, &o)),
            platform: f.platform.map(|p| p.0 as usize),
            // One below "not sold", so a training not on the chosen platform never passes.
            max_price: f.max_price.unwrap_or(i64::MAX - 1),
        }
    }
}

impl Want {
    fn check(&self, facts: &Facts) -> Passes {
        let price = self.platform.map_or(facts.min_price, |p| facts.prices[p]);
        Passes {
            category: self.category.is_none_or(|c| facts.category == c),
            mode: self.mode.is_none_or(|m| facts.mode == m),
            occupation: self.occupation.is_none_or(|o| facts.occupations & o != 0),
            offer: price <= self.max_price,
        }
    }
}

/// The cheapest offer on the chosen platform (if any) within the price ceiling (if any).
pub fn affordable_offer(t: &Training, f: &Filters) -> Option<Offer> {
    t.data
        .cheapest(f.platform)
        .filter(|o| f.max_price.is_none_or(|m| o.price <= m))
}

/// The shared, lazily built index of one application. A search first reads the catalogue's
/// revision number (one tiny query) and rebuilds when another process or server changed it.
/// The index and the catalogue revision it was built from.
type Built = Option<(i64, Arc<Index>)>;

#[derive(Clone, Default)]
pub struct IndexHandle {
    current: Arc<RwLock<Built>>,
    rebuilding: Arc<tokio::sync::Mutex<()>>,
}

impl IndexHandle {
    fn cached(&self, revision: i64) -> Option<Arc<Index>> {
        let guard = self.current.read().ok()?;
        match guard.as_ref() {
            Some((rev, index)) if *rev == revision => Some(index.clone()),
            _ => None,
        }
    }

    /// The index for the database's current catalogue.
    pub async fn get(&self, db: &Db) -> Result<Arc<Index>> {
        let revision = super::store::revision(db).await?;
        if let Some(index) = self.cached(revision) {
            return Ok(index);
        }
        let _one_builder = self.rebuilding.lock().await;
        let revision = super::store::revision(db).await?;
        if let Some(index) = self.cached(revision) {
            return Ok(index);
        }
        let trainings = super::store::all_trainings(db).await?;
        let index = tokio::task::spawn_blocking(move || Index::build(trainings))
            .await
            .map_err(|e| anyhow::anyhow!("index build: {e}"))?;
        let index = Arc::new(index);
        if let Ok(mut guard) = self.current.write() {
            *guard = Some((revision, index.clone()));
        }
        Ok(index)
    }
}
