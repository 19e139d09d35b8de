//! axe-core (Deque's accessibility engine, from the npm registry) run inside chromium: the
//! WCAG 2.1 A and AA rules on the page as the browser shows it (issue 22).
//!
//! CI installs it with `npm install --prefix target/axe axe-core@4.10.3` (`.ci/run`).

use crate::common::required;

/// The rule sets a page must pass.
const TAGS: &str = "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']";

/// axe-core's script, or `None` (with a notice) when it is not installed and `axe` is not in
/// `LOKET_TEST_REQUIRE`.
pub(super) fn source() -> Option<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/axe/node_modules/axe-core/axe.min.js");
    match std::fs::read_to_string(&path) {
        Ok(script) => Some(script),
        Err(e) => {
            assert!(
                !required("axe"),
                "LOKET_TEST_REQUIRE includes axe but {} cannot be read ({e}): run \
                 `npm install --prefix target/axe axe-core@4.10.3`",
                path.display()
            );
            eprintln!(
                "notice: accessibility checks skipped (npm install --prefix target/axe axe-core@4.10.3)"
            );
            None
        }
    }
}

/// The violations on the page the browser shows now: rule id, impact and the elements.
pub(super) async fn violations(c: &fantoccini::Client, axe: &str) -> Vec<String> {
    // WebDriver's scripts are not bound by the page's Content-Security-Policy.
    c.execute(&format!("{axe}\nreturn true;"), vec![])
        .await
        .expect("axe-core loads");
    let run = format!(
        "const done = arguments[arguments.length - 1];
         axe.run(document, {{ runOnly: {{ type: 'tag', values: {TAGS} }}, resultTypes: ['violations'] }})
           .then(r => done(r.violations.map(v =>
             v.id + ' [' + v.impact + '] ' + v.help + ': ' +
             v.nodes.slice(0, 5).map(n => n.target.join(' ')).join(', '))))
           .catch(e => done(['axe failed: ' + e]));"
    );
    let found = c.execute_async(&run, vec![]).await.expect("axe-core runs");
    found
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_else(|| vec![format!("axe answered {found}")])
}
