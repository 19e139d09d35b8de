use loket::access::Scope;
use loket::participants::file;
use loket::participants::store;
use loket::vault::{IndexKind, Vault};

use crate::common::{audited_by_test, registration_at, TestApp, TEST_IMPORT};
use crate::on_each_backend;

const OLD: [u8; 32] = [0x42; 32];

async fn rotation_survives_an_interruption(app: &TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    loket::demo::write_csv(&csv, 2500, 7).unwrap();
    let sheet = loket::sheet::read_sheet(&csv).unwrap();
    let reg = registration_at(Some(app.counter_a));
    file::import(
        &app.state.db,
        &app.state.vault,
        &sheet,
        reg,
        TEST_IMPORT,
        false,
        |_| {},
    )
    .await
    .unwrap();
    let before: Vec<_> = store::page(&app.state.db, &app.state.vault, Scope::All, 0, 5000)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.data)
        .collect();
    assert_eq!(before.len(), 2500);
    // The exchange keeps sealed NIKs and phones too: a master-list person and an upload row.
    let (admin, _) = app.user("kunci", loket::auth::Role::Admin, None).await;
    let vault = &app.state.vault;
    let (master_nik, master_phone) = ("3525024909910044", "081355501234");
    loket::exchange::store::insert_master(
        &app.state.db,
        "induk.csv",
        &[1],
        admin,
        &[loket::exchange::store::NewMasterPerson {
            nik_enc: vault.seal(IndexKind::Nik, master_nik),
            nik_index: vault.blind_index(IndexKind::Nik, master_nik),
            full_name: "Lilis Suryani".into(),
            birth_date: None,
            sex: None,
            district_code: "352502".into(),
            phone_enc: Some(vault.seal(IndexKind::Phone, master_phone)),
            destination_country: None,
            return_date: None,
        }],
    )
    .await
    .unwrap();
    loket::exchange::store::insert_upload(
        &app.state.db,
        "penerima.csv",
        &[2],
        admin,
        0.9,
        0.3,
        &[loket::exchange::store::NewUploadRow {
            row_no: 2,
            nik_enc: vault.seal(IndexKind::Nik, master_nik),
            nik_index: vault.blind_index(IndexKind::Nik, master_nik),
            full_name: "Lilis Suryani".into(),
            birth_date: None,
            district_code: "352502".into(),
            facts: "{}".into(),
        }],
    )
    .await
    .unwrap();

    let new_key = Vault::generate_master();
    let ring = Vault::from_ring(&[(1, OLD), (2, new_key)]).unwrap();
    let old_only = Vault::from_master(&OLD);
    let new_only = Vault::from_ring(&[(2, new_key)]).unwrap();

    // Interrupted after one batch of 1,000.
    let first = loket::keys::rotate(&app.state.db, &ring, Some(1), |_| {})
        .await
        .unwrap();
    assert_eq!((first.rows_rewritten, first.finished), (1000, false));
    assert_eq!(
        loket::keys::key_usage(&app.state.db).await.unwrap(),
        [(1, 1502), (2, 1000)]
    );
    // Mid-rotation: everything readable with the ring, and found by NIK whichever key holds it.
    let middle: Vec<_> = store::page(&app.state.db, &ring, Scope::All, 0, 5000)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.data)
        .collect();
    assert_eq!(middle, before);
    for data in [&before[0], &before[2499]] {
        let found = store::find_by_nik(&app.state.db, &ring, &data.nik, Scope::All)
            .await
            .unwrap();
        assert_eq!(found.map(|p| p.data.nik), Some(data.nik));
    }
    // A second registration of an already-registered NIK is still refused mid-rotation.
    let again = store::insert(
        &app.state.db,
        &ring,
        &before[2499],
        reg,
        audited_by_test(app),
    )
    .await;
    assert!(
        matches!(again, Err(loket::error::AppError::NikDuplicate { .. })),
        "{again:?}"
    );
    // The rotated rows really are under the new key.
    assert!(store::get(&app.state.db, &old_only, 1).await.is_err());

    // Resumed: the rest, and nothing twice.
    let rest = loket::keys::rotate(&app.state.db, &ring, None, |_| {})
        .await
        .unwrap();
    assert_eq!((rest.rows_rewritten, rest.finished), (1502, true));
    assert_eq!(
        loket::keys::key_usage(&app.state.db).await.unwrap(),
        [(2, 2502)]
    );
    // The new key alone opens the exchange's sealed values and finds them by blind index.
    let (nik_enc, nik_index, phone_enc): (Vec<u8>, Vec<u8>, Vec<u8>) =
        loket::with_db!(&app.state.db, |pool| {
            sqlx::query_as("SELECT nik_enc, nik_index, phone_enc FROM master_people")
                .fetch_one(pool)
                .await
                .unwrap()
        });
    assert_eq!(new_only.open(IndexKind::Nik, &nik_enc).unwrap(), master_nik);
    assert_eq!(
        new_only.open(IndexKind::Phone, &phone_enc).unwrap(),
        master_phone
    );
    assert_eq!(nik_index, new_only.blind_index(IndexKind::Nik, master_nik));
    let row_enc: Vec<u8> = loket::with_db!(&app.state.db, |pool| {
        sqlx::query_scalar("SELECT nik_enc FROM exchange_rows")
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert_eq!(new_only.open(IndexKind::Nik, &row_enc).unwrap(), master_nik);
    let again = loket::keys::rotate(&app.state.db, &ring, None, |_| {})
        .await
        .unwrap();
    assert_eq!(again.rows_rewritten, 0);

    // The old key can go: the new key alone reads and finds everyone, data unchanged.
    let after: Vec<_> = store::page(&app.state.db, &new_only, Scope::All, 0, 5000)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.data)
        .collect();
    assert_eq!(after, before);
    let sample = &before[1234];
    let found = store::find_by_nik(&app.state.db, &new_only, &sample.nik, Scope::All)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.data, *sample);
    let kk_index: Option<Vec<u8>> = loket::with_db!(&app.state.db, |pool| {
        sqlx::query_scalar("SELECT kk_index FROM participants WHERE id = $1")
            .bind(found.id)
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert_eq!(
        kk_index,
        sample
            .kk
            .as_ref()
            .map(|k| new_only.blind_index(IndexKind::Kk, k.as_str()))
    );
}

#[tokio::test]
async fn key_rotation_reencrypts_everything_and_resumes_after_an_interruption() {
    on_each_backend!(rotation_survives_an_interruption);
}
