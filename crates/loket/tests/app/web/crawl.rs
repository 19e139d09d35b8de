//! Every role's day without a dead end: each demo account signs in and follows every link it
//! can see (same origin, GET only, bounded), on both backends. No page may answer 4xx/5xx,
//! weigh over 60 KB, or show a raw code or an English word on an Indonesian page. Phone-size
//! screenshots of the pages walked are saved under `target/test-output/crawl/ROLE/`. In chromium,
//! axe-core checks every page walked at phone and desktop size against WCAG 2.1 A and AA.

use std::collections::{HashMap, HashSet, VecDeque};

use fantoccini::Locator;

use crate::common::{backends, cookie_client, post_login, spawn_app, TestApp};

/// Pages are for slow connections: the design's limit before compression.
const PAGE_LIMIT: usize = 60 * 1024;
/// Enough for every page kind a role can reach; keeps the walk to seconds.
const PAGES_PER_ROLE: usize = 45;
/// Pages with the same shape (`/participants/N`) are the same page kind: two of each suffice.
const SAME_SHAPE: usize = 2;
/// People seeded: enough for every list to have rows and pages.
const DEMO_PEOPLE: usize = 300;

/// Raw codes and English words that must not reach a person reading Bahasa Indonesia.
const DENY: &[&str] = &[
    "validation_failed",
    "over_balance",
    "jaro_winkler",
    "participant.view",
    "full_name",
    "operating",
    "reached",
    "planned",
    "preparing",
    "National",
    "Cannot parse",
    "else",
    "None",
    "Some",
];

/// What one role saw: the HTML pages reached (in order) and the problems found.
#[derive(Default)]
struct Walk {
    pages: Vec<String>,
    problems: Vec<String>,
}

/// The walk as `username` (password `password`) from the page after signing in.
async fn walk(app: &TestApp, username: &str, password: &str) -> Walk {
    let client = cookie_client();
    let signed_in = post_login(&client, app, username, password).await;
    let mut walk = Walk::default();
    let Some(start) = location(&signed_in) else {
        walk.problems
            .push(format!("{username} cannot sign in: {}", signed_in.status()));
        return walk;
    };
    // A person also types: a common name in the search box (agency staff have no search).
    let mut queue = VecDeque::from([start.clone()]);
    if start != "/lembaga" {
        queue.push_back("/participants?q=Siti".to_string());
    }
    let mut seen: HashSet<String> = queue.iter().cloned().collect();
    let mut shapes: HashMap<String, usize> = HashMap::new();
    while let Some(path) = queue.pop_front() {
        if walk.pages.len() >= PAGES_PER_ROLE {
            break;
        }
        let response = client.get(app.url(&path)).send().await.unwrap();
        let status = response.status();
        let next: Vec<String> = if status.is_redirection() {
            location(&response).into_iter().collect()
        } else {
            let html = response
                .headers()
                .get("content-type")
                .is_some_and(|c| c.to_str().unwrap_or("").starts_with("text/html"));
            let body = response.text().await.unwrap_or_default();
            if status.is_client_error() || status.is_server_error() {
                walk.problems.push(format!(
                    "{path}: {status} «{}»",
                    shorten(&visible_text(&body))
                ));
                continue;
            }
            if !html {
                continue;
            }
            walk.pages.push(path.clone());
            judge(&path, &body, &mut walk.problems);
            links(&body)
        };
        for link in next {
            if link.starts_with("/login") {
                walk.problems
                    .push(format!("{path}: sends a signed-in person to {link}"));
                continue;
            }
            let count = shapes.entry(shape(&link)).or_default();
            if *count < SAME_SHAPE && seen.insert(link.clone()) {
                *count += 1;
                queue.push_back(link);
            }
        }
    }
    walk
}

/// Where a redirect points, as a path on this site.
fn location(response: &reqwest::Response) -> Option<String> {
    let to = response.headers().get("location")?.to_str().ok()?;
    same_site(to)
}

/// The page's weight and words.
fn judge(path: &str, body: &str, problems: &mut Vec<String>) {
    if body.len() > PAGE_LIMIT {
        problems.push(format!("{path}: {} bytes (limit {PAGE_LIMIT})", body.len()));
    }
    let text = visible_text(body);
    for word in DENY {
        if has_word(&text, word) {
            problems.push(format!(
                "{path}: shows «{word}» in «{}»",
                around(&text, word)
            ));
        }
    }
    // The first of each kind is enough to find the template.
    let mut told = HashSet::new();
    for token in text.split_whitespace() {
        let token = token.trim_matches(|c: char| !c.is_alphanumeric());
        if let Some(why) = raw(token).filter(|why| told.insert(*why)) {
            problems.push(format!(
                "{path}: shows {why} «{token}» in «{}»",
                around(&text, token)
            ));
        }
    }
}

/// Why `token` is not for a person's eyes: a code (`domestic_worker`, `participant.view`) or
/// an ISO date (pages write 29-11-2026).
fn raw(token: &str) -> Option<&'static str> {
    let code_part = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase());
    let is_code = |sep: char| {
        let parts: Vec<&str> = token.split(sep).collect();
        parts.len() > 1 && parts.iter().all(|p| code_part(p))
    };
    let file = [".csv", ".xlsx", ".json", ".css", ".id", ".com", ".org"]
        .iter()
        .any(|ext| token.ends_with(ext));
    let iso = token.len() == 10
        && token.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if is_code('_') || (is_code('.') && !file) {
        Some("a code")
    } else if iso {
        Some("an ISO date")
    } else {
        None
    }
}

/// `word` as a whole word (not inside `elsewhere` or `planned_open`).
fn has_word(text: &str, word: &str) -> bool {
    let part_of_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    text.match_indices(word).any(|(at, _)| {
        !part_of_word(text[..at].chars().next_back())
            && !part_of_word(text[at + word.len()..].chars().next())
    })
}

/// Some words either side of `word`, for the failure message.
fn around(text: &str, word: &str) -> String {
    let at = text.find(word).unwrap_or(0);
    let start = text[..at]
        .char_indices()
        .rev()
        .nth(40)
        .map_or(0, |(i, _)| i);
    text[start..].chars().take(100).collect()
}

fn shorten(text: &str) -> String {
    text.chars().take(160).collect()
}

/// The text a person reads: no tags, scripts or styles, entities decoded, spaces collapsed.
fn visible_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        out.push(' ');
        rest = &rest[open..];
        // Code elements show what a person types or a file holds (column names): meant as is.
        let skip_to = ["<script", "<style", "<code"]
            .iter()
            .find(|t| rest.starts_with(**t))
            .map(|t| format!("</{}>", &t[1..]));
        let end = match skip_to {
            Some(close) => rest.find(&close).map(|i| i + close.len()),
            None => rest.find('>').map(|i| i + 1),
        };
        rest = &rest[end.unwrap_or(rest.len())..];
    }
    out.push_str(rest);
    decode(&out)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn decode(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&amp;", "&")
}

/// The same-site links of a page a GET may follow (not the language switch: the walk stays
/// in Bahasa Indonesia).
fn links(html: &str) -> Vec<String> {
    html.split("<a ")
        .skip(1)
        .filter_map(|tag| {
            let tag = &tag[..tag.find('>')?];
            let href = tag.split("href=\"").nth(1)?.split('"').next()?;
            same_site(&decode(href))
        })
        .filter(|l| !l.starts_with("/lang/") && !l.starts_with("/api/"))
        .collect()
}

/// `href` as a path on this site, without its fragment; `None` for other sites.
fn same_site(href: &str) -> Option<String> {
    let href = href.split('#').next()?;
    (href.starts_with('/') && !href.starts_with("//")).then(|| href.to_string())
}

/// The page kind: digits as `N`, query values dropped.
fn shape(path: &str) -> String {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut kind: String = path
        .split('/')
        .map(|part| {
            if part.chars().all(|c| c.is_ascii_digit()) && !part.is_empty() {
                "N"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join("/");
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        kind.push_str(pair.split('=').next().unwrap_or(pair));
    }
    kind
}

/// The two sizes pages are checked at: a phone and a desktop.
const SIZES: [(&str, u32, u32); 2] = [("phone", 360, 740), ("desktop", 1280, 900)];

/// Every page `username` walked, in chromium at phone and desktop size: axe-core's WCAG 2.1
/// A/AA findings (when axe is installed), and phone-size screenshots when `shots`.
async fn in_the_browser(
    c: &fantoccini::Client,
    app: &TestApp,
    (username, password): (&str, &str),
    pages: &[String],
    axe: Option<&str>,
    shots: bool,
) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("../test-output/crawl")
        .join(username);
    if shots {
        // Only this run's pages: an earlier run may have walked others.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
    }
    c.delete_all_cookies().await.unwrap();
    c.goto(&app.url("/login")).await.unwrap();
    c.find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys(username)
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    c.find(Locator::Css("form.card button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Css("main")).await.unwrap();
    let mut problems = Vec::new();
    for (size, width, height) in SIZES {
        c.set_window_size(width, height).await.unwrap();
        for (i, page) in pages.iter().enumerate() {
            c.goto(&app.url(page)).await.unwrap();
            if let Some(axe) = axe {
                problems.extend(
                    super::axe::violations(c, axe)
                        .await
                        .into_iter()
                        .map(|v| format!("{page} ({size}): {v}")),
                );
            }
            if shots && size == "phone" {
                let name: String = page
                    .chars()
                    .map(|ch| if ch.is_alphanumeric() { ch } else { '-' })
                    .collect();
                let shot = c.screenshot().await.unwrap();
                std::fs::write(dir.join(format!("{i:02}{name}.png")), shot).unwrap();
            }
        }
    }
    problems
}

/// The partner system's day is the API: its demo token fetches the people who share.
async fn partner_day(app: &TestApp, token: &str) {
    let page = app
        .api(token)
        .get_json("/api/v1/exchange/participants?limit=5")
        .await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 5, "{page}");
    assert_eq!(items[0]["nik"].as_str().unwrap().len(), 16, "{page}");
}

#[tokio::test]
async fn every_demo_role_walks_every_link_without_a_dead_end() {
    let browser = super::browser::browser().await;
    let axe = super::axe::source();
    for backend in backends() {
        let app = spawn_app(backend).await;
        let demo = loket::demo::seed(&app.state.db, &app.state.vault, DEMO_PEOPLE)
            .await
            .unwrap();
        let mut problems = Vec::new();
        for login in &demo.logins {
            if let Some(token) = &login.token {
                partner_day(&app, token).await;
                continue;
            }
            let walk = walk(&app, &login.username, &login.password).await;
            eprintln!(
                "{backend:?} {}: {} pages, {} problems\n  {}",
                login.username,
                walk.pages.len(),
                walk.problems.len(),
                walk.pages.join("\n  ")
            );
            assert!(
                walk.pages.len() >= 5 || !walk.problems.is_empty(),
                "{} reached only {:?}",
                login.username,
                walk.pages
            );
            problems.extend(
                walk.problems
                    .iter()
                    .map(|p| format!("{backend:?} {}: {p}", login.username)),
            );
            // Screenshots once (the pages look the same on either backend); axe on both, as
            // the pages' rows differ.
            if let Some(b) = &browser {
                let found = in_the_browser(
                    &b.client,
                    &app,
                    (&login.username, &login.password),
                    &walk.pages,
                    axe.as_deref(),
                    backend == crate::common::Backend::Sqlite,
                )
                .await;
                problems.extend(
                    found
                        .iter()
                        .map(|p| format!("{backend:?} {}: {p}", login.username)),
                );
            }
        }
        app.cleanup().await;
        assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    }
    if let Some(b) = browser {
        b.client.clone().close().await.unwrap();
    }
}

#[test]
fn the_walk_reads_pages_as_a_person_does() {
    let html = "<p>Status: <b>operating</b></p><script>var x_y = 1;</script><a href=\"/a?x=1&amp;y=2#top\">A</a><a href=\"https://example.org/\">B</a>";
    assert_eq!(visible_text(html), "Status: operating A B");
    assert_eq!(links(html), vec!["/a?x=1&y=2".to_string()]);
    assert!(has_word("Status: operating", "operating"));
    assert!(!has_word("planned_open elsewhere", "else"));
    assert_eq!(shape("/participants/12?tab=3"), "/participants/Ntab");
    assert_eq!(raw("domestic_worker"), Some("a code"));
    assert_eq!(raw("participant.view"), Some("a code"));
    assert_eq!(raw("2026-11-29"), Some("an ISO date"));
    assert_eq!(raw("contoh.csv"), None);
    assert_eq!(raw("29-11-2026"), None);
}
