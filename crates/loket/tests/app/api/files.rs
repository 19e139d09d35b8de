use loket::access::Scope;
use loket::participants::file;
use loket::participants::file::ImportSummary;
use loket::participants::store;
use loket::sheet::{Format, ImportError, Sheet};

use crate::common::{registration_at, spawn_app, Backend, TestApp, TEST_IMPORT};
use crate::on_each_backend;

/// Imports `sheet` into `app` at counter A (only checks it on a dry run).
async fn import(app: &TestApp, sheet: &Sheet, dry_run: bool) -> Result<ImportSummary, ImportError> {
    let reg = registration_at(Some(app.counter_a));
    file::import(
        &app.state.db,
        &app.state.vault,
        sheet,
        reg,
        TEST_IMPORT,
        dry_run,
        |_| {},
    )
    .await
}

const GOOD: &str = "nik;nama;jenis_kelamin;tanggal_lahir;no_hp;negara_penempatan;persetujuan_pengolahan;persetujuan_berbagi\n\
    3201014505900001;Siti Aminah;P;05/05/1990;081234567890;HK;ya;ya\n\
    3201011203850002;Budi Santoso;L;1985-03-12;;MY;ya;tidak\n";

async fn import_is_all_or_nothing(app: &TestApp) {
    let bad = format!("{GOOD}3201014505900003;Ani;X;1990-05-05;;;ya;ya\n99010145059000;Rina;P;1990-05-05;;;ya;ya\n");
    let sheet = loket::sheet::read_csv(bad.as_bytes()).unwrap();
    let Err(ImportError::Rejected(errors)) = import(app, &sheet, false).await else {
        panic!("a file with bad rows must be rejected");
    };
    let located: Vec<_> = errors
        .iter()
        .map(|e| (e.row, e.column.clone(), e.code.clone()))
        .collect();
    assert_eq!(
        located,
        [
            (4, "C (sex)".to_string(), "choice_invalid".to_string()),
            (5, "A (nik)".to_string(), "nik_length".to_string())
        ]
    );
    assert_eq!(
        store::count(&app.state.db).await.unwrap(),
        0,
        "nothing half-imported"
    );

    // A dry run checks but writes nothing; the real run writes every row.
    let sheet = loket::sheet::read_csv(GOOD.as_bytes()).unwrap();
    let summary = import(app, &sheet, true).await.unwrap();
    assert_eq!((summary.rows, summary.imported), (2, 0));
    assert_eq!(store::count(&app.state.db).await.unwrap(), 0);
    let summary = import(app, &sheet, false).await.unwrap();
    assert_eq!(summary.imported, 2);

    // The same file again: every row is a duplicate, nothing changes.
    let Err(ImportError::Rejected(errors)) = import(app, &sheet, false).await else {
        panic!("re-import must be refused");
    };
    assert_eq!(errors.iter().map(|e| e.row).collect::<Vec<_>>(), [2, 3]);
    assert!(errors.iter().all(|e| e.code == "nik_duplicate"));
    assert_eq!(store::count(&app.state.db).await.unwrap(), 2);
}

#[tokio::test]
async fn an_import_with_bad_rows_reports_each_and_imports_nothing() {
    on_each_backend!(import_is_all_or_nothing);
}

async fn export_then_import_round_trips(app: &TestApp) {
    let sheet = loket::sheet::read_csv(GOOD.as_bytes()).unwrap();
    import(app, &sheet, false).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (format, name) in [(Format::Csv, "out.csv"), (Format::Xlsx, "out.xlsx")] {
        let path = dir.path().join(name);
        let written = file::export(
            &app.state.db,
            &app.state.vault,
            Scope::All,
            format,
            &path,
            |_| {},
        )
        .await
        .unwrap();
        assert_eq!(written, 2);
        // Into a fresh loket: same people, same data.
        let other = spawn_app(Backend::Sqlite).await;
        let sheet = loket::sheet::read_sheet(&path).unwrap();
        let reg = registration_at(None);
        file::import(
            &other.state.db,
            &other.state.vault,
            &sheet,
            reg,
            TEST_IMPORT,
            false,
            |_| {},
        )
        .await
        .unwrap();
        let before = store::page(&app.state.db, &app.state.vault, Scope::All, 0, 10)
            .await
            .unwrap();
        let after = store::page(&other.state.db, &other.state.vault, Scope::All, 0, 10)
            .await
            .unwrap();
        let data = |v: Vec<loket::participants::model::Participant>| {
            v.into_iter().map(|p| p.data).collect::<Vec<_>>()
        };
        assert_eq!(data(before), data(after), "{name}");
        other.cleanup().await;
    }
}

#[tokio::test]
async fn exported_csv_and_xlsx_import_back_unchanged() {
    on_each_backend!(export_then_import_round_trips);
}

async fn demo_data_is_consistent(app: &TestApp) {
    // The harness made two offices already; demo seeding adds its own network.
    let summary = loket::demo::seed(&app.state.db, &app.state.vault, 300)
        .await
        .unwrap();
    assert_eq!(summary.logins.len(), 6);
    let people = store::page(&app.state.db, &app.state.vault, Scope::All, 0, 1000)
        .await
        .unwrap();
    assert!(!people.is_empty());
    for p in &people {
        assert!(
            !p.data.birth_date_mismatch() && !p.data.sex_mismatch(),
            "demo NIK agrees with the person"
        );
        assert_eq!(
            p.data.address.province_code.as_deref(),
            Some(p.data.nik.province_code())
        );
    }
}

#[tokio::test]
async fn demo_data_has_valid_niks_consistent_with_each_person() {
    on_each_backend!(demo_data_is_consistent);
}

#[tokio::test]
async fn the_demo_network_has_92_counters_and_is_deterministic() {
    let a = spawn_app(Backend::Sqlite).await;
    let b = spawn_app(Backend::Sqlite).await;
    let mut niks = Vec::new();
    for app in [&a, &b] {
        loket::demo::seed(&app.state.db, &app.state.vault, 200)
            .await
            .unwrap();
        let people = store::page(&app.state.db, &app.state.vault, Scope::All, 0, 1000)
            .await
            .unwrap();
        niks.push(
            people
                .into_iter()
                .map(|p| p.data.nik.as_str().to_string())
                .collect::<Vec<_>>(),
        );
    }
    let demo_counters = loket::counters::counters(&a.state.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.code.starts_with("UPT-"))
        .count();
    assert_eq!(demo_counters, 92);
    assert_eq!(niks[0].len(), 200);
    assert_eq!(niks[0], niks[1], "same seed, same people");
    a.cleanup().await;
    b.cleanup().await;
}
