//! Recommendations plan with what the person has left under their scheme, not a fixed amount:
//! a 2021 recipient who spent Rp600.000 of Rp1.000.000 is shown trainings up to Rp400.000.

use loket::auth::Role;
use serde_json::{json, Value};

use crate::common::exchange::record_as_the_file;
use crate::common::{person_json, TestApp};
use crate::on_each_backend;

async fn suggestions_fit_the_balance_left(app: &TestApp) {
    loket::catalog::demo::seed(&app.state.db).await.unwrap();
    loket::journey::demo::seed_batches(&app.state.db, loket::clock::today())
        .await
        .unwrap();
    let (_, admin) = app.user("pusat", Role::Admin, None).await;
    let mut body = person_json("3201014505900001", "Siti Aminah");
    body["training_interests"] = "menjahit".into();
    let api = app.api(&admin);
    let siti = api.register(&body).await.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let recommended = |id: i64| {
        let api = app.api(&admin);
        async move {
            api.get_json(&format!("/api/v1/participants/{id}/recommendations"))
                .await
        }
    };

    // Before any batch: the balance of the scheme open today (2023–: Rp3.500.000).
    let rec = recommended(siti).await;
    assert_eq!(
        (rec["balance"].as_i64(), rec["unknown_prices"].as_i64()),
        (Some(3_500_000), Some(0))
    );

    // Batch 12 (2020–2021 scheme, Rp1.000.000), a Rp600.000 training bought: Rp400.000 left.
    record_as_the_file(
        app,
        &admin,
        siti,
        &[
            json!({"stage": "joined_batch", "occurred_on": "2021-03-01", "batch": 12}),
            json!({"stage": "accepted", "occurred_on": "2021-03-01"}),
            json!({"stage": "training_bought", "occurred_on": "2021-03-05", "amount": 600_000,
                "training_title": "Menjahit Busana"}),
        ],
    )
    .await;
    let rec = recommended(siti).await;
    assert_eq!(rec["balance"], 400_000, "{rec}");
    let items = rec["items"].as_array().unwrap();
    assert!(!items.is_empty(), "{rec}");
    for item in items {
        assert!(
            item["offer"]["price"].as_i64().unwrap() <= 400_000,
            "{item}"
        );
    }
    // A balance the officer types still wins.
    let rec = app
        .api(&admin)
        .get_json(&format!(
            "/api/v1/participants/{siti}/recommendations?balance=1.000.000"
        ))
        .await;
    assert_eq!(rec["balance"], 1_000_000);

    // A second training at an unknown price: planned with the most that can be left, and said.
    record_as_the_file(
        app,
        &admin,
        siti,
        &[
            json!({"stage": "training_bought", "occurred_on": "2021-03-06",
            "training_title": "Barista Kopi"}),
        ],
    )
    .await;
    let rec = recommended(siti).await;
    assert_eq!(
        (rec["balance"].as_i64(), rec["unknown_prices"].as_i64()),
        (Some(400_000), Some(1))
    );
    let page = app
        .session("pusat")
        .await
        .page(&format!("/participants/{siti}/recommendations"))
        .await;
    assert!(page.contains("id=\"balance\">Rp400.000<"), "{page}");
    assert!(
        page.contains("Saldo ini paling banyak yang tersisa"),
        "{page}"
    );
}

#[tokio::test]
async fn recommendations_plan_with_the_balance_left_under_the_persons_scheme() {
    on_each_backend!(suggestions_fit_the_balance_left);
}
