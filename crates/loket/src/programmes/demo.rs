//! Demo partner agencies and programmes, spread over the provinces of the demo counters, and
//! referrals in every state so that each page has something to show.

use super::model::{AgencyKind, ProgrammeKind, ReferralStatus, Rule};
use super::store::{self, Move, NewAgency, NewProgramme, NewReferral};
use crate::db::Db;
use crate::error::{AppError, Result};

/// (code, name, kind, provinces served; empty: nationwide).
const AGENCIES: &[(&str, &str, AgencyKind, &[&str])] = &[
    (
        "KEMNAKER-BLK",
        "Kemnaker — Balai Besar Pelatihan Vokasi dan Produktivitas",
        AgencyKind::Ministry,
        &[],
    ),
    (
        "BLK-SBY",
        "UPT Pelatihan Kerja Surabaya (Disnakertrans Jawa Timur)",
        AgencyKind::Province,
        &["35"],
    ),
    (
        "KEMENKOP-UKM",
        "Kementerian Koperasi dan UKM",
        AgencyKind::Ministry,
        &[],
    ),
    (
        "BRI-KUR",
        "Bank Rakyat Indonesia — KUR",
        AgencyKind::Bank,
        &[],
    ),
    (
        "BNI-KUR",
        "Bank Negara Indonesia — KUR",
        AgencyKind::Bank,
        &[],
    ),
    ("MANDIRI-KUR", "Bank Mandiri — KUR", AgencyKind::Bank, &[]),
    (
        "BPJSTK",
        "BPJS Ketenagakerjaan",
        AgencyKind::SocialSecurity,
        &[],
    ),
    (
        "DISNAKER-JATENG",
        "Disnakertrans Provinsi Jawa Tengah",
        AgencyKind::Province,
        &["33"],
    ),
    (
        "DISNAKER-JABAR",
        "Disnakertrans Provinsi Jawa Barat",
        AgencyKind::Province,
        &["32"],
    ),
    (
        "DISNAKER-NTB",
        "Disnakertrans Provinsi Nusa Tenggara Barat",
        AgencyKind::Province,
        &["52"],
    ),
    (
        "DISNAKER-SUMUT",
        "Disnaker Provinsi Sumatera Utara",
        AgencyKind::Province,
        &["12"],
    ),
    (
        "BP2MI-PEMBERDAYAAN",
        "BP2MI — Direktorat Pemberdayaan",
        AgencyKind::Bp2mi,
        &[],
    ),
    (
        "PEMKAB-LOTIM",
        "Pemerintah Kabupaten Lombok Timur",
        AgencyKind::LocalGovernment,
        &["52"],
    ),
    (
        "PEMPROV-NTT",
        "Pemerintah Provinsi Nusa Tenggara Timur",
        AgencyKind::LocalGovernment,
        &["53"],
    ),
    (
        "DISKOP-BALI",
        "Dinas Koperasi dan UKM Provinsi Bali",
        AgencyKind::Province,
        &["51"],
    ),
    (
        "PEMKOT-BDL",
        "Pemerintah Kota Bandar Lampung",
        AgencyKind::LocalGovernment,
        &["18"],
    ),
    ("MIGRANT-CARE", "Migrant CARE", AgencyKind::Ngo, &[]),
    (
        "SBMI",
        "Serikat Buruh Migran Indonesia (SBMI)",
        AgencyKind::Ngo,
        &[],
    ),
];

/// The demo agency whose staff account is `lembaga`.
pub const DEMO_AGENCY: &str = "BLK-SBY";

/// (agency, code, name, kind, rules as JSON, needs, documents, quota, answer days).
type Row = (
    &'static str,
    &'static str,
    &'static str,
    ProgrammeKind,
    &'static str,
    &'static [&'static str],
    &'static str,
    Option<i64>,
    i64,
);

const PROGRAMMES: &[Row] = &[
    (
        "BLK-SBY",
        "BLK-SBY-JAHIT",
        "Pelatihan Menjahit Busana (BLK Surabaya)",
        ProgrammeKind::Training,
        r#"[{"rule":"age","min":18,"max":55}]"#,
        &["name", "age", "sex", "region", "phone", "education"],
        "KTP, KK, pas foto 3x4",
        Some(40),
        7,
    ),
    (
        "BLK-SBY",
        "BLK-SBY-BOGA",
        "Pelatihan Tata Boga dan Pengolahan Makanan",
        ProgrammeKind::Training,
        r#"[{"rule":"age","min":18,"max":60}]"#,
        &["name", "age", "region", "phone"],
        "KTP, KK",
        Some(30),
        7,
    ),
    (
        "BLK-SBY",
        "BLK-SBY-LAS",
        "Pelatihan Las dan Fabrikasi Logam",
        ProgrammeKind::Training,
        r#"[{"rule":"age","min":18,"max":45},{"rule":"education","any_of":["smp","sma","diploma","s1"]}]"#,
        &["name", "age", "education", "phone"],
        "KTP, ijazah terakhir",
        Some(20),
        7,
    ),
    (
        "KEMNAKER-BLK",
        "BBPVP-OTOMOTIF",
        "Pelatihan Otomotif Sepeda Motor (BBPVP)",
        ProgrammeKind::Training,
        r#"[{"rule":"age","min":18,"max":40},{"rule":"education","any_of":["smp","sma","diploma","s1"]}]"#,
        &["name", "age", "education", "region", "phone"],
        "KTP, ijazah terakhir",
        Some(60),
        10,
    ),
    (
        "KEMNAKER-BLK",
        "BBPVP-TIK",
        "Pelatihan Operator Komputer dan Pemasaran Digital",
        ProgrammeKind::Training,
        r#"[{"rule":"age","min":18,"max":45},{"rule":"digital_literacy","any_of":["needs_some_help","independent"]}]"#,
        &["name", "age", "region", "phone"],
        "KTP",
        Some(50),
        10,
    ),
    (
        "KEMNAKER-BLK",
        "KEMNAKER-JOBFAIR",
        "Bursa Kerja dan Penempatan Dalam Negeri",
        ProgrammeKind::JobPlacement,
        r#"[{"rule":"age","min":18,"max":50}]"#,
        &["name", "age", "sex", "education", "job_sector", "phone"],
        "KTP, daftar riwayat hidup",
        None,
        14,
    ),
    (
        "KEMENKOP-UKM",
        "KEMENKOP-PLUT",
        "Pendampingan Usaha Mikro di PLUT-KUMKM",
        ProgrammeKind::BusinessCoaching,
        r#"[{"rule":"age","min":18}]"#,
        &["name", "region", "phone"],
        "KTP, foto usaha (jika ada)",
        Some(100),
        10,
    ),
    (
        "KEMENKOP-UKM",
        "KEMENKOP-KOPERASI",
        "Pelatihan Perkoperasian bagi Purna PMI",
        ProgrammeKind::BusinessCoaching,
        r#"[{"rule":"age","min":21},{"rule":"returned_within_months","months":36}]"#,
        &["name", "region", "phone", "return_date"],
        "KTP, KK",
        Some(80),
        10,
    ),
    (
        "BRI-KUR",
        "BRI-KUR-MIKRO",
        "KUR Mikro BRI (hingga Rp100 juta)",
        ProgrammeKind::Credit,
        r#"[{"rule":"age","min":21,"max":60}]"#,
        &["name", "age", "region", "phone"],
        "KTP, KK, surat keterangan usaha",
        None,
        7,
    ),
    (
        "BRI-KUR",
        "BRI-KUR-PMI",
        "KUR Penempatan PMI / Purna PMI (BRI)",
        ProgrammeKind::Credit,
        r#"[{"rule":"age","min":21,"max":60},{"rule":"returned_within_months","months":24}]"#,
        &["name", "age", "region", "phone", "return_date"],
        "KTP, KK, paspor, surat keterangan usaha",
        None,
        7,
    ),
    (
        "BNI-KUR",
        "BNI-KUR-MIKRO",
        "KUR Mikro BNI",
        ProgrammeKind::Credit,
        r#"[{"rule":"age","min":21,"max":60}]"#,
        &["name", "age", "region", "phone"],
        "KTP, KK, NPWP (pinjaman di atas Rp50 juta)",
        None,
        7,
    ),
    (
        "BNI-KUR",
        "BNI-KUR-PMI",
        "KUR Purna PMI BNI (Kampung BNI)",
        ProgrammeKind::Credit,
        r#"[{"rule":"age","min":21,"max":55},{"rule":"returned_within_months","months":24}]"#,
        &["name", "age", "region", "phone", "return_date"],
        "KTP, KK, paspor",
        Some(200),
        7,
    ),
    (
        "MANDIRI-KUR",
        "MANDIRI-KUR-MIKRO",
        "KUR Mikro Bank Mandiri",
        ProgrammeKind::Credit,
        r#"[{"rule":"age","min":21,"max":60}]"#,
        &["name", "age", "region", "phone"],
        "KTP, KK, surat keterangan usaha",
        None,
        7,
    ),
    (
        "BPJSTK",
        "BPJSTK-BPU",
        "Kepesertaan BPJS Ketenagakerjaan Bukan Penerima Upah",
        ProgrammeKind::SocialSecurity,
        r#"[{"rule":"age","min":18,"max":65}]"#,
        &["name", "age", "phone"],
        "KTP",
        None,
        5,
    ),
    (
        "BPJSTK",
        "BPJSTK-KLAIM-PMI",
        "Bantuan Klaim Jaminan Sosial PMI",
        ProgrammeKind::SocialSecurity,
        r#"[{"rule":"returned_within_months","months":12}]"#,
        &["name", "phone", "return_date"],
        "KTP, paspor, kartu peserta BPJS PMI",
        None,
        5,
    ),
    (
        "DISNAKER-JATENG",
        "JATENG-WIRAUSAHA",
        "Pelatihan Kewirausahaan Purna PMI Jawa Tengah",
        ProgrammeKind::BusinessCoaching,
        r#"[{"rule":"age","min":18,"max":55}]"#,
        &["name", "age", "region", "phone"],
        "KTP, KK",
        Some(60),
        10,
    ),
    (
        "DISNAKER-JATENG",
        "JATENG-BLK-GARMEN",
        "Pelatihan Garmen BLK Jawa Tengah",
        ProgrammeKind::Training,
        r#"[{"rule":"age","min":18,"max":45}]"#,
        &["name", "age", "sex", "phone"],
        "KTP, pas foto",
        Some(40),
        10,
    ),
    (
        "DISNAKER-JABAR",
        "JABAR-JOBFAIR",
        "Bursa Kerja Disnakertrans Jawa Barat",
        ProgrammeKind::JobPlacement,
        r#"[{"rule":"age","min":18,"max":45},{"rule":"education","any_of":["sma","diploma","s1","s2"]}]"#,
        &["name", "age", "education", "phone"],
        "KTP, ijazah, daftar riwayat hidup",
        None,
        14,
    ),
    (
        "DISNAKER-JABAR",
        "JABAR-KEWIRAUSAHAAN",
        "Wirausaha Baru Jawa Barat untuk Purna PMI",
        ProgrammeKind::BusinessCoaching,
        r#"[{"rule":"age","min":18,"max":55}]"#,
        &["name", "region", "phone"],
        "KTP, KK",
        Some(50),
        10,
    ),
    (
        "DISNAKER-NTB",
        "NTB-BLK-PERTANIAN",
        "Pelatihan Pertanian Terpadu BLK Lombok Timur",
        ProgrammeKind::Training,
        r#"[{"rule":"age","min":18,"max":55}]"#,
        &["name", "age", "region", "phone"],
        "KTP, KK",
        Some(30),
        10,
    ),
    (
        "DISNAKER-NTB",
        "NTB-PERLINDUNGAN",
        "Layanan Pengaduan dan Perlindungan Purna PMI NTB",
        ProgrammeKind::PsychosocialLegal,
        "[]",
        &["name", "region", "phone"],
        "KTP, dokumen kerja (jika ada)",
        None,
        5,
    ),
    (
        "DISNAKER-SUMUT",
        "SUMUT-BLK-KULINER",
        "Pelatihan Kuliner BLK Medan",
        ProgrammeKind::Training,
        r#"[{"rule":"age","min":18,"max":50}]"#,
        &["name", "age", "phone"],
        "KTP",
        Some(25),
        10,
    ),
    (
        "BP2MI-PEMBERDAYAAN",
        "BP2MI-WIRAUSAHA",
        "Pelatihan Kewirausahaan Purna PMI (BP2MI)",
        ProgrammeKind::BusinessCoaching,
        r#"[{"rule":"age","min":18,"max":60},{"rule":"returned_within_months","months":36}]"#,
        &[
            "name",
            "age",
            "region",
            "phone",
            "job_sector",
            "return_date",
        ],
        "KTP, paspor",
        Some(300),
        10,
    ),
    (
        "BP2MI-PEMBERDAYAAN",
        "BP2MI-PSIKOSOSIAL",
        "Konseling Psikososial Purna PMI",
        ProgrammeKind::PsychosocialLegal,
        "[]",
        &["name", "sex", "phone"],
        "—",
        None,
        3,
    ),
    (
        "BP2MI-PEMBERDAYAAN",
        "BP2MI-PRT-CAREGIVER",
        "Sertifikasi Caregiver bagi Mantan Pekerja Rumah Tangga",
        ProgrammeKind::Training,
        r#"[{"rule":"job_sector","any_of":["domestic_worker","caregiver"]},{"rule":"age","min":21,"max":45}]"#,
        &["name", "age", "job_sector", "phone"],
        "KTP, paspor",
        Some(40),
        10,
    ),
    (
        "BP2MI-PEMBERDAYAAN",
        "BP2MI-PRAKERJA-LANJUT",
        "Pendampingan Usaha Lanjutan bagi Alumni Prakerja",
        ProgrammeKind::BusinessCoaching,
        r#"[{"rule":"prakerja_stage","any_of":["training_completed","rated","incentive_paid","surveys_done","finished"]}]"#,
        &["name", "region", "phone"],
        "Sertifikat pelatihan Prakerja",
        Some(100),
        10,
    ),
    (
        "PEMKAB-LOTIM",
        "LOTIM-DESMIGRATIF",
        "Desa Migran Produktif (Desmigratif) Lombok Timur",
        ProgrammeKind::BusinessCoaching,
        r#"[{"rule":"age","min":18}]"#,
        &["name", "region", "phone"],
        "KTP, KK",
        Some(60),
        10,
    ),
    (
        "PEMPROV-NTT",
        "NTT-PERTANIAN",
        "Bantuan Bibit dan Pendampingan Pertanian Purna PMI NTT",
        ProgrammeKind::BusinessCoaching,
        r#"[{"rule":"age","min":18,"max":60}]"#,
        &["name", "region", "phone"],
        "KTP, KK",
        Some(50),
        14,
    ),
    (
        "PEMPROV-NTT",
        "NTT-PENEMPATAN",
        "Penempatan Kerja Dalam Negeri NTT",
        ProgrammeKind::JobPlacement,
        r#"[{"rule":"age","min":18,"max":45}]"#,
        &["name", "age", "education", "phone"],
        "KTP, ijazah",
        None,
        14,
    ),
    (
        "DISKOP-BALI",
        "BALI-UMKM",
        "Inkubasi UMKM Purna PMI Bali",
        ProgrammeKind::BusinessCoaching,
        r#"[{"rule":"age","min":18,"max":60}]"#,
        &["name", "region", "phone"],
        "KTP, KK",
        Some(40),
        10,
    ),
    (
        "PEMKOT-BDL",
        "BDL-PELATIHAN",
        "Pelatihan Keterampilan Kota Bandar Lampung",
        ProgrammeKind::Training,
        r#"[{"rule":"age","min":18,"max":50}]"#,
        &["name", "age", "phone"],
        "KTP",
        Some(30),
        10,
    ),
    (
        "MIGRANT-CARE",
        "MC-BANTUAN-HUKUM",
        "Bantuan Hukum Kasus Gaji dan Kontrak (Migrant CARE)",
        ProgrammeKind::PsychosocialLegal,
        "[]",
        &["name", "phone", "job_sector"],
        "Kontrak kerja, bukti gaji (jika ada)",
        None,
        5,
    ),
    (
        "SBMI",
        "SBMI-PENDAMPINGAN",
        "Pendampingan Kasus dan Reintegrasi (SBMI)",
        ProgrammeKind::PsychosocialLegal,
        r#"[{"rule":"sex","is":"female"}]"#,
        &["name", "region", "phone"],
        "—",
        None,
        5,
    ),
];

/// Whether the demo programmes are there already.
pub async fn seeded(db: &Db) -> Result<bool> {
    Ok(store::programme_count(db).await? > 0)
}

/// The demo agencies and programmes (once).
pub async fn seed(db: &Db) -> Result<usize> {
    if seeded(db).await? {
        return Ok(0);
    }
    let today = crate::clock::today();
    let mut ids = std::collections::HashMap::new();
    for (code, name, kind, provinces) in AGENCIES {
        let id = store::insert_agency(
            db,
            &NewAgency {
                code,
                name,
                kind: *kind,
                provinces,
            },
        )
        .await?;
        ids.insert(*code, id);
    }
    for (i, (agency, code, name, kind, rules, needs, documents, quota, answer_days)) in
        PROGRAMMES.iter().enumerate()
    {
        let rules: Vec<Rule> =
            serde_json::from_str(rules).map_err(|e| AppError::Internal(e.into()))?;
        let agency_id = *ids
            .get(agency)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("demo agency {agency}")))?;
        // A few programmes have a period: one closed, the others open around today.
        let (opens_on, closes_on) = match i % 11 {
            5 => (
                Some(today - chrono::Days::new(400)),
                Some(today - chrono::Days::new(30)),
            ),
            1 | 7 => (
                Some(today - chrono::Days::new(60)),
                Some(today + chrono::Days::new(120)),
            ),
            _ => (None, None),
        };
        store::insert_programme(
            db,
            &NewProgramme {
                agency_id,
                code,
                name,
                kind: *kind,
                description: "",
                rules: &rules,
                needs,
                documents,
                quota: *quota,
                opens_on,
                closes_on,
                answer_days: *answer_days,
            },
        )
        .await?;
    }
    Ok(PROGRAMMES.len())
}

/// Referrals of the people of `counter_id` to the demo agency's programmes, one in each state,
/// by `officer_id` (answered by `agency_user_id`).
pub async fn seed_referrals(
    db: &Db,
    counter_id: i64,
    officer_id: i64,
    agency_user_id: i64,
) -> Result<()> {
    use ReferralStatus::*;
    let programmes: Vec<_> = store::programmes(db)
        .await?
        .into_iter()
        .filter(|p| p.agency_code == DEMO_AGENCY)
        .collect();
    if programmes.is_empty() {
        return Ok(());
    }
    let people = store::people_at_counter(db, counter_id, 9).await?;
    let paths: [&[(ReferralStatus, &str)]; 9] = [
        &[],
        &[(Sent, "Setuju dibagikan, formulir kertas")],
        &[(Sent, ""), (Accepted, "Jadwal kelas Senin, 08.00")],
        &[
            (Sent, ""),
            (
                Declined,
                "Kelas gelombang ini sudah penuh; silakan daftar bulan depan",
            ),
        ],
        &[
            (Sent, ""),
            (Accepted, ""),
            (InProgress, "Hadir di kelas pertama"),
        ],
        &[
            (Sent, ""),
            (Accepted, ""),
            (InProgress, ""),
            (Completed, "Lulus uji kompetensi, sertifikat terbit"),
        ],
        &[
            (Sent, ""),
            (Accepted, ""),
            (DidNotAttend, "Tidak datang pada hari pertama"),
        ],
        &[(Withdrawn, "Orangnya memilih program lain")],
        &[(Sent, "")],
    ];
    for (i, person) in people.iter().enumerate() {
        let Some(path) = paths.get(i) else { break };
        let programme = &programmes[i % programmes.len()];
        let empty = crate::audit::Batch::new(db)?;
        let id = store::insert_referral(
            db,
            &NewReferral {
                programme_id: programme.id,
                participant_id: *person,
                counter_id: Some(counter_id),
                note: "Rujukan contoh",
                actor_id: officer_id,
            },
            |_| empty,
        )
        .await?;
        let mut from = Draft;
        for (version, (to, note)) in (1..).zip(*path) {
            let agency_side = !matches!(to, Sent | Withdrawn);
            let m = Move {
                id,
                programme_id: programme.id,
                from,
                to: *to,
                version,
                note,
                answer: (agency_side && !note.is_empty()).then_some(*note),
                consent_method: (*to == Sent).then_some("paper_form"),
                actor_id: if agency_side {
                    agency_user_id
                } else {
                    officer_id
                },
            };
            let _ = store::move_referral(db, &m, crate::audit::Batch::new(db)?).await?;
            from = *to;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_programme_has_rules_that_read_and_a_known_agency() {
        assert!(AGENCIES.len() >= 12);
        assert!(PROGRAMMES.len() >= 30);
        for p in PROGRAMMES {
            serde_json::from_str::<Vec<Rule>>(p.4).unwrap_or_else(|e| panic!("{}: {e}", p.1));
            assert!(AGENCIES.iter().any(|a| a.0 == p.0), "{}", p.1);
        }
    }
}
