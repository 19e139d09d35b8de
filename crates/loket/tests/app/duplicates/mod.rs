//! Registry duplicates (issue 21): what a merge must move.

use loket::db::Db;
use loket::duplicates::{schema_references, unlisted_references, PARTICIPANT_REFERENCES};

use crate::common::TestApp;
use crate::on_each_backend;

/// Every foreign key to `participants(id)` in the migrated schema is in the merge list, and
/// the list names no column the schema lacks. A table another feature adds with such a key
/// fails here until it is listed in `duplicates::PARTICIPANT_REFERENCES`.
async fn every_reference_is_listed(app: &TestApp) {
    let db = &app.state.db;
    let found = schema_references(db).await.unwrap();
    assert!(
        found.contains(&("journey_events".into(), "participant_id".into())),
        "{found:?}"
    );
    let missing = unlisted_references(db).await.unwrap();
    assert!(
        missing.is_empty(),
        "columns referencing participants(id) missing from duplicates::PARTICIPANT_REFERENCES \
         (a merge would leave their rows on the merged record): {missing:?}"
    );
    for r in PARTICIPANT_REFERENCES {
        assert!(
            found.contains(&(r.table.to_string(), r.column.to_string())),
            "{}.{} is listed but the schema has no such reference to participants(id)",
            r.table,
            r.column
        );
    }

    // A table added later (here by the test) is caught.
    let create = "CREATE TABLE later_feature_notes (id INTEGER PRIMARY KEY, \
                  about_person BIGINT NOT NULL REFERENCES participants(id))";
    match db {
        Db::Sqlite(pool) => sqlx::query(create).execute(pool).await.map(|_| ()),
        Db::Postgres(pool) => sqlx::query(create).execute(pool).await.map(|_| ()),
    }
    .unwrap();
    assert_eq!(
        unlisted_references(db).await.unwrap(),
        [(
            "later_feature_notes".to_string(),
            "about_person".to_string()
        )]
    );
}

#[tokio::test]
async fn every_reference_to_a_participant_is_in_the_merge_list() {
    on_each_backend!(every_reference_is_listed);
}
