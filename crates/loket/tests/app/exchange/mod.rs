//! The exchange with the programme office, through the admin's pages, on SQLite and (when
//! configured) PostgreSQL: master list import, a recipients file linked to the registry, the
//! review queue, applying the file twice, the outreach list per counter, the status export of
//! consented people, files refused with row and column, and what a crash or a shared NIK
//! must not do (`integrity`).
mod integrity;

use loket::auth::Role;
use nik::Sex;
use reqwest::StatusCode;

use crate::common::exchange::{fill_registry, nik, register, sample_file, SampleFile};
use crate::common::{sign_in, TestApp};
use crate::on_each_backend;

/// A signed-in browser-like client.
struct Admin {
    client: reqwest::Client,
    csrf: String,
}

impl Admin {
    async fn page(&self, app: &TestApp, path: &str) -> (StatusCode, String) {
        let r = self.client.get(app.url(path)).send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    }

    async fn post_file(
        &self,
        app: &TestApp,
        path: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> reqwest::Response {
        let form = reqwest::multipart::Form::new()
            .text("csrf", self.csrf.clone())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
            );
        self.client
            .post(app.url(path))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    async fn post_form(
        &self,
        app: &TestApp,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        self.client
            .post(app.url(path))
            .form(&form)
            .send()
            .await
            .unwrap()
    }
}

/// Waits for a background job: the upload's status leaves `from`.
async fn wait_status(app: &TestApp, upload_id: i64, from: &str) -> String {
    for _ in 0..600 {
        let u = loket::exchange::store::upload(&app.state.db, upload_id)
            .await
            .unwrap()
            .unwrap();
        if u.status != from {
            return u.status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("upload {upload_id} stayed {from}");
}

fn upload_id_of(response: &reqwest::Response) -> i64 {
    let to = response.headers()["location"].to_str().unwrap();
    to.trim_start_matches("/exchange/uploads/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

async fn the_exchange_from_upload_to_outreach(app: &TestApp) {
    let today = loket::clock::today();
    loket::journey::demo::seed_batches(&app.state.db, today)
        .await
        .unwrap();
    let (_, admin_token) = app.user("pusat", Role::Admin, None).await;
    app.user("petugas_a", Role::Petugas, Some(app.counter_a))
        .await;
    app.user("petugas_b", Role::Petugas, Some(app.counter_b))
        .await;
    let (client, csrf) = sign_in(app, "pusat").await;
    let admin = Admin { client, csrf };
    let reg = fill_registry(app, &admin_token).await;

    // BP2MI's master list knows one recipient who never came to a counter (East Java).
    let on_master = nik("352502", "1991-09-09", Sex::Female, 44);
    let master = format!("nik,nama,tanggal_lahir,jenis_kelamin,no_hp\n{on_master},Lilis Suryani,1991-09-09,P,081355501234\n");
    let r = admin
        .post_file(app, "/exchange/master", "induk.csv", master.into_bytes())
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = admin.page(app, "/exchange").await;
    assert!(page.contains("id=\"master-count\">1<"), "{page}");

    let SampleFile {
        bytes: file,
        exact: exact_nik,
        variant: variant_nik,
        stranger: stranger_nik,
        ..
    } = sample_file();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let before_upload = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let r = admin
        .post_file(app, "/exchange/uploads", "penerima.csv", file.clone())
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let upload = upload_id_of(&r);
    assert_eq!(wait_status(app, upload, "linking").await, "review");

    let rows = rows_of(app, upload).await;
    let row = |n: i64| rows.iter().find(|r| r.row_no == n).unwrap().clone();
    // Same NIK: automatic. One wrong digit, same name and birth date: automatic by the model.
    assert_eq!(
        (row(2).participant_id, row(2).decision.as_str()),
        (Some(reg.exact), "auto")
    );
    assert_eq!(
        (row(3).participant_id, row(3).decision.as_str()),
        (Some(reg.typo), "auto")
    );
    assert!(row(3).probability.unwrap() >= 0.9);
    // "M. Rizal Fahmi, S.Pd." with day and month swapped: the model is unsure.
    assert_eq!(
        (row(4).participant_id, row(4).decision.as_str()),
        (Some(reg.variant), "review")
    );
    assert!(
        row(4).explanation.as_deref().unwrap().contains("date_swap"),
        "{:?}",
        row(4).explanation
    );
    // Same name, day and month swapped, another NIK: as unsure, and a different person.
    assert_eq!(
        (row(5).participant_id, row(5).decision.as_str()),
        (Some(reg.lookalike), "review")
    );
    // Nobody like them in the registry; Lilis is on BP2MI's list, so her home is known.
    assert_eq!(
        (row(6).participant_id, row(6).decision.as_str()),
        (None, "unmatched")
    );
    assert_eq!(row(6).outreach_counter_id, Some(app.counter_a));
    assert_eq!(
        (row(7).decision.as_str(), row(7).master_id.is_some()),
        ("unmatched", true)
    );
    assert_eq!(row(7).outreach_counter_id, Some(app.counter_b));

    // The review page shows both sides and the model's reasons.
    let (status, page) = admin
        .page(app, &format!("/exchange/uploads/{upload}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Mohammad Rizal Fahmi") && page.contains("M. Rizal Fahmi, S.Pd."),
        "{page}"
    );
    // The model's reasons in words, not its codes.
    assert!(
        page.contains(&variant_nik) && page.contains("tanggal lahir tertukar hari/bulan"),
        "{page}"
    );
    assert!(!page.contains("date_swap"), "{page}");

    // Applying before the review is finished is refused, and nothing is applied.
    let r = admin
        .post_form(app, &format!("/exchange/uploads/{upload}/apply"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("perlu diperiksa"));
    let decide = |row_id: i64, decision: &'static str| {
        let path = format!("/exchange/uploads/{upload}/rows/{row_id}");
        let admin = &admin;
        async move { admin.post_form(app, &path, &[("decision", decision)]).await }
    };
    assert_eq!(
        decide(row(4).id, "accept").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        decide(row(5).id, "reject").await.status(),
        StatusCode::SEE_OTHER
    );
    // An automatic match is not the reviewer's to change.
    assert_eq!(
        decide(row(2).id, "reject").await.status(),
        StatusCode::CONFLICT
    );
    let rows = rows_of(app, upload).await;
    let row = |n: i64| rows.iter().find(|r| r.row_no == n).unwrap().clone();
    assert_eq!(row(4).decision, "accepted");
    assert_eq!(
        (row(5).decision.as_str(), row(5).outreach_counter_id),
        ("rejected", Some(app.counter_a))
    );

    let r = admin
        .post_form(app, &format!("/exchange/uploads/{upload}/apply"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(wait_status(app, upload, "applying").await, "applied");

    // Siti's whole 2021 path is now in her journey, from the file, in journey order.
    let stages = |id: i64| async move {
        let events = loket::journey::store::events_of(&app.state.db, id)
            .await
            .unwrap();
        events
            .iter()
            .map(|e| format!("{}:{}", e.stage, e.source))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        stages(reg.exact).await,
        [
            "joined_batch:import",
            "accepted:import",
            "training_bought:import",
            "training_completed:import",
            "incentive_paid:import"
        ]
    );
    assert_eq!(
        stages(reg.typo).await,
        ["joined_batch:import", "accepted:import"]
    );
    assert_eq!(
        stages(reg.variant).await,
        ["joined_batch:import", "accepted:import"]
    );
    assert!(
        stages(reg.lookalike).await.is_empty(),
        "a rejected pair changes nobody"
    );
    let journey = loket::journey::store::progress_version(&app.state.db, reg.exact)
        .await
        .unwrap();
    assert!(journey > 0);
    let applied = upload_row(app, upload).await;
    assert_eq!((applied.events_created, applied.applied_rows), (9, 6));

    // Every review decision and the apply itself are in the audit log.
    let actions = audit_actions(app).await;
    for wanted in [
        "exchange.master_import",
        "exchange.upload",
        "exchange.link",
        "exchange.view",
        "exchange.review",
        "exchange.apply",
        "exchange.applied",
    ] {
        assert!(
            actions.iter().any(|a| a == wanted),
            "{wanted} missing from {actions:?}"
        );
    }
    assert_eq!(
        actions.iter().filter(|a| *a == "exchange.review").count(),
        2
    );

    // The same file again: flagged, the earlier review decisions carried over, and applying
    // it creates nothing.
    let r = admin
        .post_file(app, "/exchange/uploads", "penerima-lagi.csv", file)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .contains(&format!("earlier={upload}")));
    let again = upload_id_of(&r);
    assert_eq!(wait_status(app, again, "linking").await, "review");
    let rows = rows_of(app, again).await;
    let row = |n: i64| rows.iter().find(|r| r.row_no == n).unwrap().clone();
    assert_eq!(
        (row(4).decision.as_str(), row(5).decision.as_str()),
        ("accepted", "rejected")
    );
    let r = admin
        .post_form(app, &format!("/exchange/uploads/{again}/apply"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(wait_status(app, again, "applying").await, "applied");
    assert_eq!(upload_row(app, again).await.events_created, 0);
    assert_eq!(stages(reg.exact).await.len(), 5);
    // Applying an applied upload is refused, not repeated.
    let r = admin
        .post_form(app, &format!("/exchange/uploads/{again}/apply"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // Each counter sees the recipients nearest to it, and only those.
    let (a, _) = sign_in(app, "petugas_a").await;
    let list_a = a
        .get(app.url("/exchange/outreach"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list_a.contains(&stranger_nik) && list_a.contains("Ratna Sari"),
        "{list_a}"
    );
    assert!(!list_a.contains(&on_master));
    let (b, _) = sign_in(app, "petugas_b").await;
    let list_b = b
        .get(app.url("/exchange/outreach?format=csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list_b.starts_with("nik,nama,"), "{list_b}");
    assert!(
        list_b.contains(&on_master) && list_b.contains("081355501234") && list_b.contains(",ya,"),
        "{list_b}"
    );
    assert!(!list_b.contains(&stranger_nik));
    // Once registered, a recipient is no longer someone to reach.
    register(
        app,
        &admin_token,
        &stranger_nik,
        "Bambang Irawan",
        "1995-01-30",
        "male",
        true,
    )
    .await;
    let list_a = a
        .get(app.url("/exchange/outreach"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!list_a.contains(&stranger_nik) && list_a.contains("Ratna Sari"));

    // The status export carries consented people only, and needs a reason.
    let r = admin
        .post_form(app, "/exchange/status-export", &[("reason", "")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = admin
        .post_form(
            app,
            "/exchange/status-export",
            &[("reason", "laporan bulanan ke MP"), ("since", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.text().await.unwrap();
    let header = csv.lines().next().unwrap();
    assert_eq!(header, loket::exchange::service::STATUS_HEADER.join(","));
    let siti = csv
        .lines()
        .find(|l| l.starts_with(&exact_nik))
        .expect("Siti consented");
    assert!(siti.contains(",incentive_paid,2021-04-20,12,1,"), "{siti}");
    let variant_registry_nik = nik("352501", "1985-11-03", Sex::Male, 12);
    assert!(
        !csv.contains(&variant_registry_nik),
        "Rizal did not consent to sharing"
    );
    // "Changed since" counts journey changes too; nothing has changed since tomorrow.
    let export_since = |since: String| {
        let admin = &admin;
        async move {
            let r = admin
                .post_form(
                    app,
                    "/exchange/status-export",
                    &[("reason", "pembaruan mingguan"), ("since", since.as_str())],
                )
                .await;
            assert_eq!(r.status(), StatusCode::OK);
            r.text().await.unwrap()
        }
    };
    let fresh = export_since(today.to_string()).await;
    assert!(fresh.contains(&exact_nik), "{fresh}");
    let none = export_since((today + chrono::Duration::days(1)).to_string()).await;
    assert_eq!(none.lines().count(), 1, "{none}");
    // Precisely: people whose only change since the upload is their journey are included,
    // people untouched since are not.
    let changed: Vec<i64> =
        loket::exchange::store::consented_status(&app.state.db, Some(before_upload), 0, 1000)
            .await
            .unwrap()
            .iter()
            .map(|r| r.participant_id)
            .collect();
    assert!(
        changed.contains(&reg.exact) && changed.contains(&reg.typo),
        "{changed:?}"
    );
    assert!(!changed.contains(&reg.lookalike), "{changed:?}");

    // A coordinator sees the outreach list of all their office's counters.
    app.user("koordinator_a", Role::Koordinator, None).await;
    let (k, _) = sign_in(app, "koordinator_a").await;
    let list_k = k
        .get(app.url("/exchange/outreach"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list_k.contains("Ratna Sari") && !list_k.contains(&on_master),
        "{list_k}"
    );
}

async fn rows_of(app: &TestApp, upload: i64) -> Vec<loket::exchange::store::UploadRow> {
    loket::exchange::store::rows_of(&app.state.db, upload, None, 0, 100)
        .await
        .unwrap()
}

async fn upload_row(app: &TestApp, upload: i64) -> loket::exchange::store::Upload {
    loket::exchange::store::upload(&app.state.db, upload)
        .await
        .unwrap()
        .unwrap()
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    loket::with_db!(&app.state.db, |pool| sqlx::query_scalar(
        "SELECT action FROM audit_log ORDER BY id"
    )
    .fetch_all(pool)
    .await
    .unwrap())
}

async fn bad_files_are_refused_whole_with_row_and_column(app: &TestApp) {
    app.user("pusat", Role::Admin, None).await;
    let (client, csrf) = sign_in(app, "pusat").await;
    let admin = Admin { client, csrf };
    let good = nik("320101", "1990-05-05", Sex::Female, 1);
    let file = format!(
        "nik,nama,gelombang,tanggal_diterima,insentif_1_tanggal\n\
         {good},Siti Aminah,12,2021-03-01,\n\
         3201014505,Budi,12,01/03/2021,\n\
         {good},Siti lagi,,2999-01-01,2021-05-01\n"
    );
    let r = admin
        .post_file(app, "/exchange/uploads", "rusak.csv", file.into_bytes())
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    for (row, column, code) in [
        ("3", "A (nik)", "nik_length"),
        ("4", "A (nik)", "nik_repeated"),
        ("4", "D (accepted_on)", "date_in_future"),
        ("4", "C (batch)", "required"),
        ("4", "training_completed_on", "required"),
    ] {
        let cell =
            format!("<tr data-code=\"{code}\"><td class=\"num\">{row}</td><td>{column}</td>");
        assert!(page.contains(&cell), "{cell} not in {page}");
    }
    assert!(store_is_empty(app).await, "a rejected file stores nothing");
    // The same problems in English for an English reader.
    let r = admin
        .client
        .get(app.url("/lang/en?back=/exchange"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let bad_master = "nik,nama,jenis_kelamin\n3201014505900001,Siti,X\n";
    let r = admin
        .post_file(
            app,
            "/exchange/master",
            "induk.csv",
            bad_master.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("Sex: L (male) or P (female)."), "{page}");
    // Not a spreadsheet at all.
    let r = admin
        .post_file(
            app,
            "/exchange/uploads",
            "foto.xlsx",
            b"PK\x03\x04broken".to_vec(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("file_unreadable"));
    assert!(store_is_empty(app).await);
}

async fn store_is_empty(app: &TestApp) -> bool {
    let (uploads, rows, master): (i64, i64, i64) = loket::with_db!(&app.state.db, |pool| {
        sqlx::query_as(
        "SELECT (SELECT CAST(COUNT(*) AS BIGINT) FROM exchange_uploads), \
         (SELECT CAST(COUNT(*) AS BIGINT) FROM exchange_rows), (SELECT CAST(COUNT(*) AS BIGINT) FROM master_people)"
    )
    .fetch_one(pool)
    .await
    .unwrap()
    });
    uploads + rows + master == 0
}

#[tokio::test]
async fn a_bad_file_is_refused_whole_with_row_and_column_in_both_languages() {
    on_each_backend!(bad_files_are_refused_whole_with_row_and_column);
}

#[tokio::test]
async fn a_programme_office_file_goes_from_upload_to_applied_events_and_outreach() {
    on_each_backend!(the_exchange_from_upload_to_outreach);
}
