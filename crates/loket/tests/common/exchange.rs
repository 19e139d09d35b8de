//! Shared by the exchange stories (HTTP and browser): NIKs, a registry with a population for
//! the linkage model to learn from, and programme-office files.

use chrono::NaiveDate;
use nik::{Nik, Sex};
use reqwest::StatusCode;
use serde_json::Value;

use super::{person_json, TestApp};

pub fn nik(district: &str, birth: &str, sex: Sex, serial: u16) -> String {
    let birth: NaiveDate = birth.parse().unwrap();
    Nik::compose(district, birth, sex, serial)
        .unwrap()
        .as_str()
        .to_string()
}

/// Registers a person through the API; returns the id.
pub async fn register(
    app: &TestApp,
    token: &str,
    nik: &str,
    name: &str,
    birth: &str,
    sex: &str,
    consent_sharing: bool,
) -> i64 {
    let mut body = person_json(nik, name);
    body["birth_date"] = Value::from(birth);
    body["sex"] = Value::from(sex);
    body["consent_sharing"] = Value::from(consent_sharing);
    body.as_object_mut().unwrap().remove("kk");
    body.as_object_mut().unwrap().remove("phone");
    let r = app
        .client
        .post(app.url("/api/v1/participants"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let out: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{out}");
    out["id"].as_i64().unwrap()
}

const GIVEN: &[&str] = &[
    "Siti", "Nur", "Dewi", "Sri", "Ani", "Rina", "Yuli", "Wati", "Eka", "Lestari", "Budi", "Agus",
    "Joko", "Slamet", "Rudi", "Hendra", "Iwan", "Dedi", "Ahmad", "Muhammad",
];
const FAMILY: &[&str] = &[
    "Rahayu",
    "Wulandari",
    "Susanti",
    "Handayani",
    "Pratiwi",
    "Kusuma",
    "Santoso",
    "Hidayat",
    "Saputra",
    "Setiawan",
    "Nugroho",
    "Purnomo",
    "Maryam",
    "Aminah",
    "Fauziah",
];

pub struct Registry {
    pub exact: i64,
    pub typo: i64,
    pub variant: i64,
    pub lookalike: i64,
}

/// Fills the registry with 90 people (so the model has a population to learn from) and the
/// four the file is about.
pub async fn fill_registry(app: &TestApp, token: &str) -> Registry {
    for i in 0..90u16 {
        let (given, family) = (
            GIVEN[i as usize % GIVEN.len()],
            FAMILY[(i as usize * 7) % FAMILY.len()],
        );
        let female = i % 2 == 0;
        let birth = format!(
            "19{}-{:02}-{:02}",
            70 + i % 25,
            1 + i % 12,
            1 + (i * 3) % 28
        );
        let district = if i % 3 == 0 { "320101" } else { "352501" };
        let sex = if female { Sex::Female } else { Sex::Male };
        let n = nik(district, &birth, sex, 100 + i);
        register(
            app,
            token,
            &n,
            &format!("{given} {family}"),
            &birth,
            if female { "female" } else { "male" },
            i % 4 != 0,
        )
        .await;
    }
    Registry {
        exact: register(
            app,
            token,
            &nik("320101", "1990-05-05", Sex::Female, 1),
            "Siti Aminah",
            "1990-05-05",
            "female",
            true,
        )
        .await,
        typo: register(
            app,
            token,
            &nik("320102", "1988-02-14", Sex::Female, 7),
            "Yuliana Kartika",
            "1988-02-14",
            "female",
            true,
        )
        .await,
        variant: register(
            app,
            token,
            &nik("352501", "1985-11-03", Sex::Male, 12),
            "Mohammad Rizal Fahmi",
            "1985-11-03",
            "male",
            false,
        )
        .await,
        lookalike: register(
            app,
            token,
            &nik("320101", "1992-07-11", Sex::Female, 31),
            "Ratna Sari Dewi",
            "1992-07-11",
            "female",
            true,
        )
        .await,
    }
}

pub fn programme_file(rows: &[[&str; 9]]) -> Vec<u8> {
    let mut out = String::from("nik;nama;tanggal_lahir;gelombang;tanggal_diterima;tanggal_beli_pelatihan;judul_pelatihan;tanggal_selesai_pelatihan;insentif_1_tanggal\n");
    for r in rows {
        out.push_str(&r.join(";"));
        out.push('\n');
    }
    out.into_bytes()
}

/// The recipients file both exchange stories upload, with the NIKs in it.
pub struct SampleFile {
    pub bytes: Vec<u8>,
    pub exact: String,
    pub typo: String,
    pub variant: String,
    pub lookalike: String,
    pub stranger: String,
    pub on_master: String,
}

/// Six recipients: Siti (same NIK, her whole 2021 path), Yuliana (one wrong NIK digit),
/// Rizal (name variant, day and month swapped), a Ratna who is not the registry's Ratna, a
/// stranger, and Lilis, whom only BP2MI's master list knows.
pub fn sample_file() -> SampleFile {
    let on_master = nik("352502", "1991-09-09", Sex::Female, 44);
    let typo_nik = {
        // One wrong digit in the district part of Yuliana's NIK.
        let mut d: Vec<u8> = nik("320102", "1988-02-14", Sex::Female, 7).into_bytes();
        d[5] = b'5';
        String::from_utf8(d).unwrap()
    };
    let exact_nik = nik("320101", "1990-05-05", Sex::Female, 1);
    let variant_nik = nik("352501", "1985-03-11", Sex::Male, 12); // day and month swapped
    let lookalike_nik = nik("320107", "1992-11-07", Sex::Female, 85);
    let stranger_nik = nik("320105", "1995-01-30", Sex::Male, 9);
    let bytes = programme_file(&[
        [
            &exact_nik,
            "SITI AMINAH",
            "05/05/1990",
            "12",
            "2021-03-01",
            "2021-03-05",
            "Menjahit Busana",
            "2021-03-20",
            "2021-04-20",
        ],
        [
            &typo_nik,
            "Yuliana Kartika",
            "1988-02-14",
            "12",
            "2021-03-01",
            "",
            "",
            "",
            "",
        ],
        [
            &variant_nik,
            "M. Rizal Fahmi, S.Pd.",
            "1985-03-11",
            "13",
            "2021-03-29",
            "",
            "",
            "",
            "",
        ],
        [
            &lookalike_nik,
            "Ratna Sari Dewi",
            "1992-11-07",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            &stranger_nik,
            "Bambang Irawan",
            "1995-01-30",
            "14",
            "2021-04-26",
            "",
            "",
            "",
            "",
        ],
        [
            &on_master,
            "Lilis Suryani",
            "1991-09-09",
            "14",
            "2021-04-26",
            "",
            "",
            "",
            "",
        ],
    ]);
    SampleFile {
        bytes,
        exact: exact_nik,
        typo: typo_nik,
        variant: variant_nik,
        lookalike: lookalike_nik,
        stranger: stranger_nik,
        on_master,
    }
}

/// Records `events` for person `id` as the programme office's file would (with its override
/// reason), through the journey API; each must be stored.
pub async fn record_as_the_file(app: &TestApp, token: &str, id: i64, events: &[Value]) {
    for event in events {
        let mut body = event.clone();
        body["override_reason"] = "Data resmi Manajemen Pelaksana Prakerja".into();
        let r = app
            .api(token)
            .post(&format!("/api/v1/participants/{id}/journey/events"), &body)
            .await;
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{}",
            r.text().await.unwrap()
        );
    }
}
