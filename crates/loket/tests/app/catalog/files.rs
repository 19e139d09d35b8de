//! Catalogue files: a bad file is refused whole with row/column errors; the demo file is
//! accepted; the same file twice changes nothing; an export imports back unchanged.

use loket::catalog::demo;
use loket::catalog::file;
use loket::catalog::model::TrainingData;
use loket::catalog::service;
use loket::catalog::store;
use loket::sheet::{read_csv, read_sheet, Format, ImportError};

use crate::common::TestApp;
use crate::on_each_backend;

const HEADER: &str = "training_id,title,institution_id,institution_name,category,mode,hours,description,rating,price_tokopedia,price_sisnaker\n";

async fn a_bad_file_is_refused_whole_and_the_demo_file_accepted(app: &TestApp) {
    let db = &app.state.db;
    let bad = format!(
        "{HEADER}PRK-1,Menjahit Dasar,LP-1,LPK Busana,hard_skill,offline,40,Belajar menjahit.,4.5,350000,\n\
         PRK-2,Memasak,LP-1,LPK Busana,hard_skill,jarak jauh,10,Belajar memasak.,9.9,100000,\n\
         PRK-3,Las Listrik,LP-2,BLK Teknik,technical,offline,80,Belajar las.,,,\"1.500.000,50\"\n"
    );
    let Err(ImportError::Rejected(errors)) =
        service::import(&app.state, None, &read_csv(bad.as_bytes()).unwrap(), false).await
    else {
        panic!("a file with bad rows must be refused");
    };
    let located: Vec<_> = errors
        .iter()
        .map(|e| (e.row, e.column.clone(), e.code.clone()))
        .collect();
    assert_eq!(
        located,
        [
            (3, "F (mode)".into(), "choice_invalid".into()),
            (3, "I (rating)".into(), "rating_invalid".into()),
            (4, "K (price_sisnaker)".into(), "price_invalid".into()),
        ]
    );
    assert_eq!(
        store::counts(db).await.unwrap(),
        (0, 0),
        "nothing half-imported"
    );
    assert_eq!(store::revision(db).await.unwrap(), 0);

    // The demo catalogue as a file, the way an office would receive it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("katalog.csv");
    let records: Vec<TrainingData> = demo::catalogue().into_iter().map(|t| t.data).collect();
    file::write(&records, Format::Csv, &path).unwrap();
    let sheet = read_sheet(&path).unwrap();
    let dry = service::import(&app.state, None, &sheet, true)
        .await
        .unwrap();
    assert_eq!((dry.rows, dry.applied.trainings_created), (1561, 0));
    assert_eq!(store::counts(db).await.unwrap(), (0, 0));
    let first = service::import(&app.state, None, &sheet, false)
        .await
        .unwrap();
    assert_eq!(first.applied.trainings_created, 1561);
    assert_eq!(first.applied.institutions_created, 179);
    assert_eq!(store::counts(db).await.unwrap(), (1561, 179));
    let revision = store::revision(db).await.unwrap();

    // The same file again changes nothing, not even the revision.
    let again = service::import(&app.state, None, &sheet, false)
        .await
        .unwrap();
    assert_eq!(again.applied.trainings_unchanged, 1561);
    assert!(!again.applied.changed());
    assert_eq!(store::revision(db).await.unwrap(), revision);

    // One changed price updates exactly one training and bumps its version.
    let mut changed = records.clone();
    changed[0].offers[0].price += 10_000;
    file::write(&changed, Format::Csv, &path).unwrap();
    let once = service::import(&app.state, None, &read_sheet(&path).unwrap(), false)
        .await
        .unwrap();
    assert_eq!(
        (
            once.applied.trainings_updated,
            once.applied.trainings_unchanged
        ),
        (1, 1560)
    );
    let all = store::all_trainings(db).await.unwrap();
    let first_training = all
        .iter()
        .find(|t| t.data.external_id == changed[0].external_id)
        .unwrap();
    assert_eq!(first_training.version, 2);
    assert_eq!(first_training.data, changed[0]);

    // An Excel export imports back without a change.
    let xlsx = dir.path().join("katalog.xlsx");
    assert_eq!(file::export(db, Format::Xlsx, &xlsx).await.unwrap(), 1561);
    let back = service::import(&app.state, None, &read_sheet(&xlsx).unwrap(), false)
        .await
        .unwrap();
    assert_eq!(back.applied.trainings_unchanged, 1561);

    // Imports are in the audit log.
    let entries: i64 = loket::with_db!(db, |pool| {
        sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action = 'catalog.import'",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    });
    assert_eq!(entries, 4, "every real import is audited, dry runs are not");
}

#[tokio::test]
async fn catalogue_files_are_all_or_nothing_and_idempotent() {
    on_each_backend!(a_bad_file_is_refused_whole_and_the_demo_file_accepted);
}
