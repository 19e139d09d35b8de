//! Test harness shared by the test binaries: the real server on port 0, on SQLite always and on
#![allow(dead_code)]
//! PostgreSQL when `LOKET_TEST_POSTGRES_URL` is set (each test in a fresh database).

pub mod exchange;

use loket::auth::store::{self as users, NewUser};
use loket::auth::Role;
use loket::{AppState, Application, Config};

pub const PASSWORD: &str = "sawah-hijau-2021";

/// The data key of every test app (hex), for a test that runs the `loket` binary on its database.
/// [`DATA_KEY`] as an operator gives it (`LOKET_DATA_KEY`, hex).
pub const DATA_KEY_HEX: &str = "4242424242424242424242424242424242424242424242424242424242424242";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Whether `LOKET_TEST_REQUIRE` names `part` (`postgres`, `browser`): then a skip is a failure.
pub fn required(part: &str) -> bool {
    std::env::var("LOKET_TEST_REQUIRE")
        .map(|v| v.split(',').any(|p| p.trim() == part))
        .unwrap_or(false)
}

/// The backends to run a storage test on. PostgreSQL is skipped with a notice when not
/// configured, unless `LOKET_TEST_REQUIRE` names it, in which case its absence fails the test.
pub fn backends() -> Vec<Backend> {
    let mut list = vec![Backend::Sqlite];
    match std::env::var("LOKET_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => list.push(Backend::Postgres),
        _ if required("postgres") => {
            panic!("LOKET_TEST_REQUIRE includes postgres but LOKET_TEST_POSTGRES_URL is not set")
        }
        _ => eprintln!("notice: PostgreSQL part skipped (set LOKET_TEST_POSTGRES_URL to run it)"),
    }
    list
}

pub struct TestApp {
    pub backend: Backend,
    pub base: String,
    pub state: AppState,
    pub client: reqwest::Client,
    pub counter_a: i64,
    pub counter_b: i64,
    pub office_a: i64,
    pub office_b: i64,
    pg_database: Option<String>,
    _dir: tempfile::TempDir,
}

static PG_CLEANUP: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

async fn admin_pool(url: &str) -> sqlx::PgPool {
    sqlx::PgPool::connect(url)
        .await
        .expect("connect to LOKET_TEST_POSTGRES_URL")
}

/// Drops databases left by earlier runs of this binary (cargo runs test binaries one by one).
async fn drop_stale_databases(url: &str) {
    let pool = admin_pool(url).await;
    let prefix = format!("loket_test_{}_", std::process::id());
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'loket\\_test\\_%'")
            .fetch_all(&pool)
            .await
            .unwrap_or_default();
    // Only databases of test processes that are gone: other test runs may be going on.
    let alive = |name: &str| {
        name.strip_prefix("loket_test_")
            .and_then(|rest| rest.split('_').next())
            .is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists())
    };
    for name in names
        .into_iter()
        .filter(|n| !n.starts_with(&prefix) && !alive(n))
    {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&pool)
            .await;
    }
    pool.close().await;
}

/// A new, empty PostgreSQL database: (its URL, its name).
pub async fn fresh_pg_database() -> (String, String) {
    let base = std::env::var("LOKET_TEST_POSTGRES_URL").expect("LOKET_TEST_POSTGRES_URL");
    PG_CLEANUP.get_or_init(|| drop_stale_databases(&base)).await;
    let name = format!("loket_test_{}_{}", std::process::id(), rand_suffix());
    let pool = admin_pool(&base).await;
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&pool)
        .await
        .expect("create test database");
    pool.close().await;
    let mut url = url::Url::parse(&base).expect("postgres url");
    url.set_path(&format!("/{name}"));
    (url.to_string(), name)
}

fn rand_suffix() -> String {
    use rand::Rng;
    let n: u64 = rand::thread_rng().gen();
    format!("{n:016x}")
}

/// The data key every test app is started with (key id 1).
pub const DATA_KEY: [u8; 32] = [0x42; 32];

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// [`spawn_app`] with settings changed by `adjust` (e.g. `secure_cookies`).
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_keyed(backend, DATA_KEY_HEX, adjust).await
}

/// As [`spawn_app`], with `data_key` (a key or a ring `"1:KEY,2:KEY"`) as `LOKET_DATA_KEY`.
pub async fn spawn_app_with_key(backend: Backend, data_key: &str) -> TestApp {
    spawn_app_keyed(backend, data_key, |_| {}).await
}

async fn spawn_app_keyed(
    backend: Backend,
    data_key: &str,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let (database_url, pg_database) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.path().join("loket.db").display()),
            None,
        ),
        Backend::Postgres => {
            let (url, name) = fresh_pg_database().await;
            (url, Some(name))
        }
    };
    let mut config = Config {
        database_url,
        bind: "127.0.0.1:0".parse().expect("addr"),
        data_key: Some(data_key.to_string()),
        key_file: dir.path().join("unused.key"),
        // Many tests run at once against one PostgreSQL server (max_connections = 100).
        db_max_connections: 4,
        ..Config::default()
    };
    adjust(&mut config);
    let app = Application::build(config).await.expect("build app");
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    let db = &state.db;
    let office_a = loket::counters::create_office(
        db,
        "UPT-A",
        "BP3MI A",
        loket::counters::OfficeKind::Upt,
        "32",
    )
    .await
    .expect("office");
    let office_b = loket::counters::create_office(
        db,
        "UPT-B",
        "BP3MI B",
        loket::counters::OfficeKind::Upt,
        "35",
    )
    .await
    .expect("office");
    let counter_a = loket::counters::create_counter(db, office_a, "A-01", "Loket A", "operating")
        .await
        .expect("counter");
    let counter_b = loket::counters::create_counter(db, office_b, "B-01", "Loket B", "operating")
        .await
        .expect("counter");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        backend,
        base,
        state,
        client,
        counter_a,
        counter_b,
        office_a,
        office_b,
        pg_database,
        _dir: dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Creates a user and returns (user id, API token).
    pub async fn user(&self, username: &str, role: Role, counter: Option<i64>) -> (i64, String) {
        let office = match counter {
            Some(c) => loket::counters::office_of(&self.state.db, c)
                .await
                .expect("office_of"),
            None if role == Role::Koordinator => Some(self.office_a),
            None => None,
        };
        let id = users::create_user(
            &self.state.db,
            NewUser {
                username,
                password: PASSWORD,
                role,
                office_id: office,
                counter_id: counter,
            },
        )
        .await
        .expect("create user");
        let token = users::create_token(&self.state.db, id, "test", &[], None)
            .await
            .expect("token");
        (id, token)
    }

    /// The app started again on the same database and key, as after a restart (this one keeps
    /// serving; a test writes the state a crash would have left before calling it).
    pub async fn restarted(&self) -> TestApp {
        let app = Application::build((*self.state.config).clone())
            .await
            .expect("restart app");
        let base = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().clone();
        tokio::spawn(app.run_until_stopped());
        TestApp {
            backend: self.backend,
            base,
            state,
            client: self.client.clone(),
            counter_a: self.counter_a,
            counter_b: self.counter_b,
            office_a: self.office_a,
            office_b: self.office_b,
            // The first app owns the database and drops it.
            pg_database: None,
            _dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub async fn cleanup(self) {
        self.state.db.close().await;
        drop_pg_database(self.pg_database).await;
    }
}

/// Drops a database made by [`fresh_pg_database`] (none: nothing to drop).
pub async fn drop_pg_database(name: Option<String>) {
    let (Some(name), Ok(base)) = (name, std::env::var("LOKET_TEST_POSTGRES_URL")) else {
        return;
    };
    let pool = admin_pool(&base).await;
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&pool)
        .await;
    pool.close().await;
}

/// A valid registration body for a woman born 1990-05-05 in Kabupaten Bogor.
pub fn person_json(nik: &str, name: &str) -> serde_json::Value {
    serde_json::json!({
        "nik": nik,
        "full_name": name,
        "sex": "female",
        "birth_date": "1990-05-05",
        "phone": "0812-3456-7890",
        "kk": "3201010101010001",
        "destination_country": "TW",
        "job_sector": "caregiver",
        "consent_processing": true,
        "consent_sharing": true,
        "consent_method": "paper_form"
    })
}

/// Runs `$story` (an `async fn(&TestApp)`) on every configured backend.
#[macro_export]
macro_rules! on_each_backend {
    ($story:ident) => {
        for backend in $crate::common::backends() {
            let app = $crate::common::spawn_app(backend).await;
            eprintln!("running {} on {:?}", stringify!($story), backend);
            $story(&app).await;
            app.cleanup().await;
        }
    };
}

/// A cookie-keeping client signed in as `username`, with the session's CSRF token (read from
/// the sign-out form every signed-in page carries).
pub async fn sign_in(app: &TestApp, username: &str) -> (reqwest::Client, String) {
    let client = cookie_client();
    let response = post_login(&client, app, username, PASSWORD).await;
    assert_eq!(
        response.status(),
        reqwest::StatusCode::SEE_OTHER,
        "{username} signs in"
    );
    // Agency staff land on their own page; everyone else on the search.
    let start = match response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
    {
        Some("/lembaga") => "/lembaga",
        _ => "/participants",
    };
    let page = page_text(&client, app, start).await;
    let csrf = csrf_in(&page).unwrap();
    (client, csrf)
}

/// The login form as a browser gets it: its cookie (`name=value`) and the token in the form.
pub async fn login_form(client: &reqwest::Client, app: &TestApp) -> (String, String) {
    let response = client.get(app.url("/login")).send().await.unwrap();
    let cookie = response
        .headers()
        .get("set-cookie")
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_string())
        .unwrap_or_default();
    let token = csrf_in(&response.text().await.unwrap()).unwrap();
    (cookie, token)
}

/// Gives `user_id` a valid ToT certificate (officer profile, a central batch, a certificate), as
/// only certified officers may record assistance sessions.
pub async fn certify(app: &TestApp, user_id: i64) {
    let today = loket::clock::today();
    let db = &app.state.db;
    loket::with_db!(db, |pool| {
        let officer: i64 = sqlx::query_scalar(
            "INSERT INTO officers (user_id, full_name, cascade_role, created_at) VALUES ($1, $2, 'counter_officer', $3) RETURNING id",
        )
        .bind(user_id)
        .bind(format!("Petugas {user_id}"))
        .bind(chrono::Utc::now())
        .fetch_one(pool)
        .await
        .unwrap();
        let batch: i64 = sqlx::query_scalar(
            "INSERT INTO tot_batches (code, level, mode, start_date, end_date, trainer_name, topics, created_at) \
             VALUES ($1, 'counter', 'online', $2, $2, 'PMO', 'pendampingan', $3) RETURNING id",
        )
        .bind(format!("TOT-TEST-{user_id}"))
        .bind(today - chrono::Duration::days(30))
        .bind(chrono::Utc::now())
        .fetch_one(pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO certifications (officer_id, batch_id, certified_on, valid_until) VALUES ($1, $2, $3, $4)")
            .bind(officer)
            .bind(batch)
            .bind(today - chrono::Duration::days(30))
            .bind(today + chrono::Duration::days(700))
            .execute(pool)
            .await
            .unwrap();
    });
}

// Calls as the stories make them: the JSON API with a token, the pages with a signed-in
// session (cookie and CSRF token), the login form, and what a response or page holds.

/// A client that keeps its cookies and does not follow redirects (a browser without scripts).
pub fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Opens the login form and posts it (username and password) with `client`, as a browser
/// does; the caller judges the answer. The form's cookie goes along by hand, so a client
/// that keeps no cookies signs in too.
pub async fn post_login(
    client: &reqwest::Client,
    app: &TestApp,
    username: &str,
    password: &str,
) -> reqwest::Response {
    let (cookie, token) = login_form(client, app).await;
    client
        .post(app.url("/login"))
        .header("cookie", cookie)
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf", token.as_str()),
            ("next", "/participants"),
        ])
        .send()
        .await
        .unwrap()
}

/// The session cookie (`name=value`) a response sets, for a client that keeps no cookies.
pub fn session_cookie(response: &reqwest::Response) -> String {
    response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// The CSRF token of the first form on `page` that carries one.
pub fn csrf_in(page: &str) -> Option<String> {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .map(|s| s.split('"').next().unwrap().to_string())
}

/// The text of the page at `path`, fetched with `client` (whatever the status).
pub async fn page_text(client: &reqwest::Client, app: &TestApp, path: &str) -> String {
    client
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A response's status and JSON body (`Null` when the body is not JSON).
pub async fn status_and_json(
    response: reqwest::Response,
) -> (reqwest::StatusCode, serde_json::Value) {
    let status = response.status();
    (
        status,
        response.json().await.unwrap_or(serde_json::Value::Null),
    )
}

/// Asserts the API's answer: `status`, with the stable error `code` in its error body.
pub async fn assert_api_error(
    response: reqwest::Response,
    status: reqwest::StatusCode,
    code: &str,
) {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["error"]["code"],
        code
    );
}

/// Asserts a page's answer: `status`, with `words` in its text.
pub async fn assert_page_says(
    response: reqwest::Response,
    status: reqwest::StatusCode,
    words: &str,
) {
    assert_eq!(response.status(), status);
    assert!(response.text().await.unwrap().contains(words));
}

/// Registration details for storing people directly: at `counter`, by no officer, now.
pub fn registration_at(counter: Option<i64>) -> loket::participants::store::Registration {
    loket::participants::store::Registration {
        counter_id: counter,
        officer_id: None,
        at: chrono::Utc::now(),
    }
}

/// Who and what a test's direct import names in the audit log.
pub const TEST_IMPORT: (&str, &str) = ("system/test", "test.csv");

/// The audit entry of a person a test stores directly (`store::insert`).
pub fn audited_by_test(app: &TestApp) -> impl FnOnce(i64) -> loket::audit::Batch + Send {
    let mut batch = loket::audit::Batch::new(&app.state.db).unwrap();
    move |id| {
        let entry = loket::audit::Entry::new("participant.create", "participant", id);
        batch.add(None, Some("system/test"), entry);
        batch
    }
}

impl TestApp {
    /// A caller of the JSON API with `token`.
    pub fn api(&self, token: &str) -> Api<'_> {
        Api {
            app: self,
            token: token.to_string(),
        }
    }

    /// `username` signed in through the login form (see [`sign_in`]).
    pub async fn session(&self, username: &str) -> Session<'_> {
        let (client, csrf) = sign_in(self, username).await;
        Session {
            app: self,
            client,
            csrf,
        }
    }

    /// An anonymous GET of `path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// The JSON body of an anonymous GET of `path`.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        self.get(path).await.json().await.unwrap()
    }

    /// `petugas.a`, an officer at counter A: (user id, API token).
    pub async fn officer_a(&self) -> (i64, String) {
        self.user("petugas.a", Role::Petugas, Some(self.counter_a))
            .await
    }

    /// How many people are registered, all counters together.
    pub async fn participant_count(&self) -> i64 {
        loket::participants::store::count(&self.state.db)
            .await
            .unwrap()
    }

    /// Opens another operating counter in `office`.
    pub async fn add_counter(&self, office: i64, code: &str, name: &str) -> i64 {
        loket::counters::create_counter(&self.state.db, office, code, name, "operating")
            .await
            .unwrap()
    }
}

/// One caller of the JSON API, with a bearer token.
pub struct Api<'a> {
    pub app: &'a TestApp,
    pub token: String,
}

impl Api<'_> {
    /// A request to `path` carrying the token, to add headers or a body to.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.app
            .client
            .request(method, self.app.url(path))
            .bearer_auth(&self.token)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::GET, path)
            .send()
            .await
            .unwrap()
    }

    /// The JSON body of a GET of `path` (whatever the status).
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        self.get(path).await.json().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.request(reqwest::Method::POST, path)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// A PATCH of `path`, with `If-Match: version` when a version is given.
    pub async fn patch(
        &self,
        path: &str,
        version: Option<&str>,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        let mut request = self.request(reqwest::Method::PATCH, path);
        if let Some(version) = version {
            request = request.header("If-Match", version);
        }
        request.json(body).send().await.unwrap()
    }

    /// Registers a person (`POST /api/v1/participants`); the caller judges the answer.
    pub async fn register(&self, body: &serde_json::Value) -> reqwest::Response {
        self.post("/api/v1/participants", body).await
    }

    /// Registers `person_json(nik, name)`, expects it stored and returns the id.
    pub async fn register_person(&self, nik: &str, name: &str) -> i64 {
        let response = self.register(&person_json(nik, name)).await;
        assert_eq!(response.status(), reqwest::StatusCode::CREATED);
        response.json::<serde_json::Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    }
}

/// A signed-in user of the pages: a cookie-keeping client and the session's CSRF token.
pub struct Session<'a> {
    pub app: &'a TestApp,
    pub client: reqwest::Client,
    pub csrf: String,
}

impl Session<'_> {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.app.url(path)).send().await.unwrap()
    }

    /// The text of the page at `path` (whatever the status).
    pub async fn page(&self, path: &str) -> String {
        page_text(&self.client, self.app, path).await
    }

    /// Posts `form` as it is (add the `csrf` field yourself when the form needs it).
    pub async fn post_form<T: serde::Serialize + ?Sized>(
        &self,
        path: &str,
        form: &T,
    ) -> reqwest::Response {
        self.client
            .post(self.app.url(path))
            .form(form)
            .send()
            .await
            .unwrap()
    }
}

/// Runs `command` (e.g. the `loket` binary) to its end with `stdin` written to its standard
/// input, and returns what it said.
pub fn run_with_input(command: &mut std::process::Command, stdin: &str) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the command");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}
