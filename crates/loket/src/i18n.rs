//! Bahasa Indonesia first, English second: the language of a request and the text catalogue.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Id,
    En,
}

pub const LANG_COOKIE: &str = "lang";

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "id" | "in" | "id-id" => Some(Lang::Id),
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks between the Indonesian and the English text.
    pub fn pick<'a>(self, id: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Id => id,
            Lang::En => en,
        }
    }

    /// Catalogue lookup; an unknown key shows "??" so a missing text is visible, not blank.
    pub fn t(self, key: &str) -> &'static str {
        match CATALOGUES
            .iter()
            .flat_map(|c| c.iter())
            .find(|(k, _, _)| *k == key)
        {
            Some((_, id, en)) => self.pick(id, en),
            None => "??",
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    /// The `lang` cookie wins; otherwise Indonesian (the officers' language), whatever the
    /// browser says, because shared counter PCs often carry an English browser.
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        Ok(jar
            .get(LANG_COOKIE)
            .and_then(|c| Lang::parse(c.value()))
            .unwrap_or_default())
    }
}

/// One catalogue per feature (each feature keeps its texts in its own folder), searched in order.
pub static CATALOGUES: &[&[(&str, &str, &str)]] = &[
    TEXTS,
    crate::catalog::texts::TEXTS,
    crate::counters::texts::TEXTS,
    crate::journey::texts::TEXTS,
    crate::exchange::texts::TEXTS,
];

/// (key, Bahasa Indonesia, English): the shared texts of layout, forms and participants.
pub static TEXTS: &[(&str, &str, &str)] = &[
    (
        "detail.eligibility",
        "Pemeriksaan kelayakan Kartu Prakerja, gelombang",
        "Kartu Prakerja eligibility check, batch",
    ),
    (
        "detail.eligible",
        "Tidak ada catatan: dapat didampingi mendaftar Kartu Prakerja.",
        "No concerns: can be helped to apply for Kartu Prakerja.",
    ),
    (
        "detail.eligibility_proceed",
        "Ini saran, bukan larangan: bila tetap mendampingi, catat alasannya saat mencatat gabung gelombang.",
        "This is advice, not a ban: to proceed anyway, record the reason when recording the batch joined.",
    ),
    (
        "app.name",
        "Loket Layanan Prakerja",
        "Prakerja Service Counter",
    ),
    (
        "app.tagline",
        "Pendampingan Kartu Prakerja untuk Purna PMI",
        "Kartu Prakerja assistance for returning migrant workers",
    ),
    ("nav.search", "Cari peserta", "Find participant"),
    ("nav.register", "Daftarkan", "Register"),
    ("nav.logout", "Keluar", "Sign out"),
    ("nav.lang_other", "English", "Bahasa Indonesia"),
    ("login.title", "Masuk", "Sign in"),
    ("login.username", "Nama pengguna", "Username"),
    ("login.password", "Kata sandi", "Password"),
    ("login.submit", "Masuk", "Sign in"),
    (
        "search.title",
        "Cari Purna PMI",
        "Find a returning migrant worker",
    ),
    (
        "search.hint",
        "Ketik NIK (16 digit) atau sebagian nama.",
        "Type the NIK (16 digits) or part of the name.",
    ),
    ("search.submit", "Cari", "Search"),
    ("search.none", "Tidak ada yang cocok.", "No match."),
    (
        "search.none_register",
        "Belum terdaftar? Daftarkan sekarang",
        "Not registered yet? Register now",
    ),
    ("search.results", "Hasil pencarian", "Search results"),
    ("field.nik", "NIK", "NIK (national ID)"),
    (
        "field.full_name",
        "Nama lengkap (sesuai KTP)",
        "Full name (as on ID card)",
    ),
    ("field.sex", "Jenis kelamin", "Sex"),
    ("field.birth_date", "Tanggal lahir", "Date of birth"),
    ("field.kk", "Nomor KK", "Family card number"),
    ("field.phone", "Nomor HP", "Mobile number"),
    ("field.email", "Email", "Email"),
    ("field.province_code", "Kode provinsi", "Province code"),
    (
        "field.regency_code",
        "Kode kabupaten/kota",
        "Regency/city code",
    ),
    ("field.district_code", "Kode kecamatan", "District code"),
    ("field.address", "Alamat", "Address"),
    ("field.education", "Pendidikan terakhir", "Education"),
    (
        "field.marital_status",
        "Status perkawinan",
        "Marital status",
    ),
    (
        "field.destination_country",
        "Negara penempatan (kode, mis. MY)",
        "Destination country (code, e.g. MY)",
    ),
    ("field.job_sector", "Pekerjaan di luar negeri", "Job abroad"),
    (
        "field.departure_date",
        "Tanggal berangkat",
        "Departure date",
    ),
    ("field.return_date", "Tanggal pulang", "Return date"),
    ("field.return_reason", "Alasan pulang", "Reason for return"),
    (
        "field.training_interests",
        "Minat pelatihan",
        "Training interests",
    ),
    (
        "field.digital_literacy",
        "Kemampuan digital",
        "Digital literacy",
    ),
    (
        "field.has_smartphone",
        "Punya ponsel pintar",
        "Has a smartphone",
    ),
    (
        "field.consent_processing",
        "Setuju datanya diolah untuk layanan ini",
        "Agrees to data processing for this service",
    ),
    (
        "field.consent_sharing",
        "Setuju datanya dibagikan ke Manajemen Pelaksana Prakerja",
        "Agrees to sharing with the Prakerja programme office",
    ),
    (
        "field.consent_method",
        "Cara persetujuan",
        "How consent was given",
    ),
    ("field.counter", "Loket", "Counter"),
    ("field.version", "Versi", "Version"),
    ("field.created_at", "Didaftarkan", "Registered"),
    ("field.updated_at", "Terakhir diubah", "Last changed"),
    ("choose", "— pilih —", "— choose —"),
    ("yes", "Ya", "Yes"),
    ("no", "Tidak", "No"),
    (
        "register.title",
        "Daftarkan Purna PMI",
        "Register a returning migrant worker",
    ),
    ("register.submit", "Simpan pendaftaran", "Save registration"),
    ("register.section_identity", "Identitas", "Identity"),
    (
        "register.section_contact",
        "Kontak dan alamat",
        "Contact and address",
    ),
    (
        "register.section_migration",
        "Riwayat bekerja di luar negeri",
        "Work abroad",
    ),
    (
        "register.section_needs",
        "Kebutuhan pendampingan",
        "Assistance needs",
    ),
    ("register.section_consent", "Persetujuan", "Consent"),
    (
        "register.consent_required",
        "Tanpa persetujuan pengolahan data, pendaftaran tidak dapat disimpan.",
        "Without consent to data processing the registration cannot be saved.",
    ),
    (
        "form.has_errors",
        "Periksa isian yang ditandai.",
        "Check the marked fields.",
    ),
    ("detail.title", "Data Purna PMI", "Participant record"),
    ("detail.edit", "Ubah data", "Edit"),
    (
        "detail.flag_birth_date",
        "Tanggal lahir berbeda dengan yang tersirat di NIK. NIK tetap dipakai apa adanya.",
        "Date of birth differs from the one in the NIK. The NIK is kept as it is.",
    ),
    (
        "detail.flag_sex",
        "Jenis kelamin berbeda dengan yang tersirat di NIK.",
        "Sex differs from the one in the NIK.",
    ),
    ("detail.consent", "Persetujuan", "Consent"),
    ("detail.saved", "Data tersimpan.", "Saved."),
    ("edit.title", "Ubah data Purna PMI", "Edit participant"),
    ("edit.submit", "Simpan perubahan", "Save changes"),
    ("error.title", "Ada masalah", "Something is wrong"),
    ("error.back", "Kembali", "Back"),
    ("nik.region", "Wilayah dari NIK", "Region from NIK"),
    ("nav.audit", "Log audit", "Audit log"),
    ("consent.history", "Riwayat persetujuan", "Consent history"),
    ("consent.processing_short", "Pengolahan", "Processing"),
    (
        "consent.sharing_short",
        "Berbagi ke Prakerja",
        "Sharing with Prakerja",
    ),
    (
        "consent.paper_form",
        "Formulir kertas bertanda tangan",
        "Signed paper form",
    ),
    (
        "consent.verbal",
        "Lisan di loket, disaksikan petugas",
        "Verbal at the counter, witnessed",
    ),
    (
        "consent.note",
        "Catatan (mis. alasan menarik persetujuan)",
        "Note (e.g. why consent is withdrawn)",
    ),
    (
        "consent.save",
        "Simpan keputusan persetujuan",
        "Save consent decision",
    ),
    (
        "move.title",
        "Rujuk atau pindahkan ke loket lain",
        "Refer or move to another counter",
    ),
    ("move.counter", "Loket tujuan", "Target counter"),
    ("move.reason", "Alasan (wajib)", "Reason (required)"),
    (
        "move.refer",
        "Rujuk (loket ini tetap bisa melihat)",
        "Refer (this counter keeps access)",
    ),
    ("move.reassign", "Pindahkan kasus", "Move the case"),
    (
        "audit.title",
        "Log audit data pribadi",
        "Personal data audit log",
    ),
    ("audit.participant_id", "ID peserta", "Participant id"),
    ("audit.user", "Pengguna", "User"),
    ("audit.action", "Tindakan", "Action"),
    ("audit.from", "Dari tanggal", "From date"),
    ("audit.to", "Sampai tanggal", "To date"),
    (
        "audit.export_reason",
        "Alasan ekspor (wajib, tercatat di log)",
        "Reason for the export (required, logged)",
    ),
    ("audit.entries", "entri", "entries"),
    ("audit.when", "Waktu", "When"),
    ("audit.entity", "Data", "Record"),
    ("audit.fields", "Kolom diubah", "Fields changed"),
    ("audit.reason", "Alasan", "Reason"),
    ("audit.outcome", "Hasil", "Outcome"),
    ("audit.request", "Permintaan", "Request"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_keys_are_unique_and_both_languages_are_filled() {
        let mut keys: Vec<_> = CATALOGUES
            .iter()
            .flat_map(|c| c.iter())
            .map(|(k, _, _)| *k)
            .collect();
        keys.sort_unstable();
        let before = keys.len();
        keys.dedup();
        assert_eq!(before, keys.len(), "duplicate key in TEXTS");
        for (k, id, en) in CATALOGUES.iter().flat_map(|c| c.iter()) {
            assert!(!id.is_empty() && !en.is_empty(), "{k}");
        }
    }

    #[test]
    fn every_key_used_in_templates_exists() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for part in text.split("t(\"").skip(1) {
                let key = part.split('"').next().unwrap();
                assert_ne!(Lang::Id.t(key), "??", "missing text key {key}");
            }
        }
    }
}
