//! All SQL of partner programmes and programme referrals: one text per query, both backends.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;

use super::model::{
    Agency, AgencyKind, Programme, ProgrammeKind, Referral, ReferralEvent, ReferralStatus, Rule,
};
use super::screening::Facts;
use crate::access::Scope;
use crate::db::Db;
use crate::error::{AppError, Result};
use crate::with_db;

fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A new agency (demo data, head office).
pub struct NewAgency<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub kind: AgencyKind,
    pub provinces: &'a [&'a str],
}

pub async fn insert_agency(db: &Db, a: &NewAgency<'_>) -> Result<i64> {
    let id: i64 = with_db!(db, |pool| {
        sqlx::query_scalar(
        "INSERT INTO agencies (code, name, kind, provinces, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id"
    )
    .bind(a.code)
    .bind(a.name)
    .bind(a.kind.code())
    .bind(a.provinces.join(","))
    .bind(Utc::now())
    .fetch_one(pool)
    .await?
    });
    Ok(id)
}

/// A new programme of an agency.
pub struct NewProgramme<'a> {
    pub agency_id: i64,
    pub code: &'a str,
    pub name: &'a str,
    pub kind: ProgrammeKind,
    pub description: &'a str,
    pub rules: &'a [Rule],
    pub needs: &'a [&'a str],
    pub documents: &'a str,
    pub quota: Option<i64>,
    pub opens_on: Option<NaiveDate>,
    pub closes_on: Option<NaiveDate>,
    pub answer_days: i64,
}

pub async fn insert_programme(db: &Db, p: &NewProgramme<'_>) -> Result<i64> {
    let rules = serde_json::to_string(p.rules).map_err(|e| AppError::Internal(e.into()))?;
    let id: i64 = with_db!(db, |pool| {
        sqlx::query_scalar(
        "INSERT INTO programmes (agency_id, code, name, kind, description, rules, needs, documents, quota, \
         opens_on, closes_on, answer_days, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id"
    )
    .bind(p.agency_id)
    .bind(p.code)
    .bind(p.name)
    .bind(p.kind.code())
    .bind(p.description)
    .bind(&rules)
    .bind(p.needs.join(","))
    .bind(p.documents)
    .bind(p.quota)
    .bind(p.opens_on)
    .bind(p.closes_on)
    .bind(p.answer_days)
    .bind(Utc::now())
    .fetch_one(pool)
    .await?
    });
    Ok(id)
}

pub async fn agencies(db: &Db) -> Result<Vec<Agency>> {
    let rows: Vec<(i64, String, String, AgencyKind, String)> = with_db!(db, |pool| sqlx::query_as(
        "SELECT id, code, name, kind, provinces FROM agencies ORDER BY name"
    )
    .fetch_all(pool)
    .await?);
    Ok(rows
        .into_iter()
        .map(|(id, code, name, kind, provinces)| Agency {
            id,
            code,
            name,
            kind,
            provinces: list(&provinces),
        })
        .collect())
}

pub async fn agency_by_code(db: &Db, code: &str) -> Result<Option<i64>> {
    let id: Option<i64> = with_db!(db, |pool| sqlx::query_scalar(
        "SELECT id FROM agencies WHERE code = $1"
    )
    .bind(code)
    .fetch_optional(pool)
    .await?);
    Ok(id)
}

const PROGRAMME_COLUMNS: &str =
    "p.id, p.agency_id, a.code, a.name, p.code, p.name, p.kind, p.description, p.rules, \
     p.needs, p.documents, p.quota, p.taken, p.opens_on, p.closes_on, p.answer_days, a.provinces";

macro_rules! programme_of_row {
    ($row:expr) => {{
        let row = $row;
        let rules: String = row.try_get(8)?;
        Programme {
            id: row.try_get(0)?,
            agency_id: row.try_get(1)?,
            agency_code: row.try_get(2)?,
            agency_name: row.try_get(3)?,
            code: row.try_get(4)?,
            name: row.try_get(5)?,
            kind: row.try_get(6)?,
            description: row.try_get(7)?,
            rules: serde_json::from_str(&rules).map_err(|e| AppError::Internal(e.into()))?,
            needs: list(&row.try_get::<String, _>(9)?),
            documents: row.try_get(10)?,
            quota: row.try_get(11)?,
            taken: row.try_get(12)?,
            opens_on: row.try_get(13)?,
            closes_on: row.try_get(14)?,
            answer_days: row.try_get(15)?,
            provinces: list(&row.try_get::<String, _>(16)?),
        }
    }};
}

/// Every programme with its agency, by agency and name.
pub async fn programmes(db: &Db) -> Result<Vec<Programme>> {
    let sql = format!(
        "SELECT {PROGRAMME_COLUMNS} FROM programmes p JOIN agencies a ON a.id = p.agency_id ORDER BY a.name, p.name"
    );
    with_db!(db, |pool| {
        let rows = sqlx::query(&sql).fetch_all(pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(programme_of_row!(row));
        }
        Ok(out)
    })
}

pub async fn programme(db: &Db, id: i64) -> Result<Option<Programme>> {
    let sql = format!(
        "SELECT {PROGRAMME_COLUMNS} FROM programmes p JOIN agencies a ON a.id = p.agency_id WHERE p.id = $1"
    );
    with_db!(db, |pool| {
        match sqlx::query(&sql).bind(id).fetch_optional(pool).await? {
            Some(row) => Ok(Some(programme_of_row!(row))),
            None => Ok(None),
        }
    })
}

const FACTS_SQL: &str =
    "SELECT p.id, p.birth_date, p.sex, COALESCE(p.province_code, substr(p.district_code, 1, 2)), \
     p.education, p.return_date, p.job_sector, p.digital_literacy, j.stage \
     FROM participants p LEFT JOIN journey_progress j ON j.participant_id = p.id \
     LEFT JOIN counters c ON c.id = p.counter_id";

macro_rules! facts_of_row {
    ($row:expr) => {{
        let row = $row;
        Facts {
            participant_id: row.try_get(0)?,
            birth_date: row.try_get(1)?,
            sex: row.try_get(2)?,
            province_code: row.try_get(3)?,
            education: row.try_get(4)?,
            return_date: row.try_get(5)?,
            job_sector: row.try_get(6)?,
            digital_literacy: row.try_get(7)?,
            stage: row.try_get(8)?,
        }
    }};
}

/// What screening knows of one person.
pub async fn facts(db: &Db, participant_id: i64) -> Result<Option<Facts>> {
    let sql = format!("{FACTS_SQL} WHERE p.id = $1");
    with_db!(db, |pool| {
        match sqlx::query(&sql)
            .bind(participant_id)
            .fetch_optional(pool)
            .await?
        {
            Some(row) => Ok(Some(facts_of_row!(row))),
            None => Ok(None),
        }
    })
}

/// What screening knows of every person of a counter's caseload (one query), within `scope`.
pub async fn caseload_facts(db: &Db, counter_id: i64, scope: Scope) -> Result<Vec<Facts>> {
    let (counter, office, allowed) = scope.params();
    if !allowed {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{FACTS_SQL} WHERE p.counter_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR p.counter_id = $2) \
         AND (CAST($3 AS BIGINT) IS NULL OR c.office_id = $3) ORDER BY p.id"
    );
    with_db!(db, |pool| {
        let rows = sqlx::query(&sql)
            .bind(counter_id)
            .bind(counter)
            .bind(office)
            .fetch_all(pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(facts_of_row!(row));
        }
        Ok(out)
    })
}

/// What an agency may be shown of a referred person (as stored; the service picks the fields
/// the programme needs and opens the phone).
pub struct PersonForAgency {
    pub full_name: String,
    pub birth_date: NaiveDate,
    pub sex: String,
    pub province_code: Option<String>,
    pub regency_code: Option<String>,
    pub education: Option<String>,
    pub job_sector: Option<String>,
    pub return_date: Option<NaiveDate>,
    pub phone_enc: Option<Vec<u8>>,
}

type PersonRow = (
    String,
    NaiveDate,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<NaiveDate>,
    Option<Vec<u8>>,
);

pub async fn person_for_agency(db: &Db, participant_id: i64) -> Result<Option<PersonForAgency>> {
    let row: Option<PersonRow> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT full_name, birth_date, sex, province_code, regency_code, education, job_sector, return_date, phone_enc \
             FROM participants WHERE id = $1"
        )
        .bind(participant_id)
        .fetch_optional(pool)
        .await?
    });
    Ok(row.map(|r| PersonForAgency {
        full_name: r.0,
        birth_date: r.1,
        sex: r.2,
        province_code: r.3,
        regency_code: r.4,
        education: r.5,
        job_sector: r.6,
        return_date: r.7,
        phone_enc: r.8,
    }))
}

const REFERRAL_COLUMNS: &str = "r.id, r.programme_id, p.name, a.id, a.name, r.participant_id, r.counter_id, r.status, r.note, \
     r.answer, r.consent_at, r.created_at, r.status_at, r.version";
const REFERRAL_FROM: &str = "FROM programme_referrals r JOIN programmes p ON p.id = r.programme_id JOIN agencies a ON a.id = p.agency_id";

macro_rules! referral_of_row {
    ($row:expr) => {{
        let row = $row;
        Referral {
            id: row.try_get(0)?,
            programme_id: row.try_get(1)?,
            programme_name: row.try_get(2)?,
            agency_id: row.try_get(3)?,
            agency_name: row.try_get(4)?,
            participant_id: row.try_get(5)?,
            counter_id: row.try_get(6)?,
            status: row.try_get(7)?,
            note: row.try_get(8)?,
            answer: row.try_get(9)?,
            consent_at: row.try_get(10)?,
            created_at: row.try_get(11)?,
            status_at: row.try_get(12)?,
            version: row.try_get(13)?,
        }
    }};
}

async fn referrals_where(db: &Db, filter: &str, value: Option<i64>) -> Result<Vec<Referral>> {
    let sql = format!(
        "SELECT {REFERRAL_COLUMNS} {REFERRAL_FROM} {filter} ORDER BY r.status_at DESC, r.id DESC"
    );
    with_db!(db, |pool| {
        let mut q = sqlx::query(&sql);
        if let Some(v) = value {
            q = q.bind(v);
        }
        let rows = q.fetch_all(pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(referral_of_row!(row));
        }
        Ok(out)
    })
}

pub async fn referral(db: &Db, id: i64) -> Result<Option<Referral>> {
    Ok(referrals_where(db, "WHERE r.id = $1", Some(id))
        .await?
        .pop())
}

pub async fn referrals_of_participant(db: &Db, participant_id: i64) -> Result<Vec<Referral>> {
    referrals_where(db, "WHERE r.participant_id = $1", Some(participant_id)).await
}

/// An agency's referrals (drafts stay with the counter until sent).
pub async fn referrals_of_agency(db: &Db, agency_id: i64) -> Result<Vec<Referral>> {
    referrals_where(
        db,
        "WHERE a.id = $1 AND r.status <> 'draft'",
        Some(agency_id),
    )
    .await
}

/// Referrals waiting for the agency (an answer or an outcome), with the programme's answer days.
pub async fn open_referrals(db: &Db) -> Result<Vec<(Referral, i64)>> {
    let sql = format!(
        "SELECT {REFERRAL_COLUMNS}, p.answer_days {REFERRAL_FROM} WHERE r.status IN ('sent', 'accepted', 'in_progress') ORDER BY r.status_at"
    );
    with_db!(db, |pool| {
        let rows = sqlx::query(&sql).fetch_all(pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let days: i64 = row.try_get(14)?;
            out.push((referral_of_row!(&row), days));
        }
        Ok(out)
    })
}

pub async fn events_of(db: &Db, referral_id: i64) -> Result<Vec<ReferralEvent>> {
    let rows: Vec<(ReferralStatus, String, Option<String>, DateTime<Utc>)> =
        with_db!(db, |pool| sqlx::query_as(
            "SELECT e.status, e.note, u.username, e.at FROM programme_referral_events e \
         LEFT JOIN users u ON u.id = e.actor_id WHERE e.referral_id = $1 ORDER BY e.id"
        )
        .bind(referral_id)
        .fetch_all(pool)
        .await?);
    Ok(rows
        .into_iter()
        .map(|(status, note, actor, at)| ReferralEvent {
            status,
            note,
            actor,
            at,
        })
        .collect())
}

/// The agency a user works for (agency staff only).
pub async fn agency_of_user(db: &Db, user_id: i64) -> Result<Option<i64>> {
    let id: Option<Option<i64>> = with_db!(db, |pool| sqlx::query_scalar(
        "SELECT agency_id FROM users WHERE id = $1"
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await?);
    Ok(id.flatten())
}

pub async fn set_agency_of_user(db: &Db, user_id: i64, agency_id: i64) -> Result<()> {
    with_db!(db, |pool| {
        sqlx::query("UPDATE users SET agency_id = $1 WHERE id = $2")
            .bind(agency_id)
            .bind(user_id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// A new draft referral.
pub struct NewReferral<'a> {
    pub programme_id: i64,
    pub participant_id: i64,
    pub counter_id: Option<i64>,
    pub note: &'a str,
    pub actor_id: i64,
}

/// Writes a draft and its first history line, with the audit entries `audited` makes from the
/// new id, in one transaction.
pub async fn insert_referral(
    db: &Db,
    r: &NewReferral<'_>,
    audited: impl FnOnce(i64) -> crate::audit::Batch + Send,
) -> Result<i64> {
    let now = Utc::now();
    let id: i64 = with_db!(db, |pool| {
        let mut tx = pool.begin_with(db.begin_for_write()).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO programme_referrals (programme_id, participant_id, counter_id, status, note, created_by, created_at, status_at) \
             VALUES ($1, $2, $3, 'draft', $4, $5, $6, $6) RETURNING id",
        )
        .bind(r.programme_id)
        .bind(r.participant_id)
        .bind(r.counter_id)
        .bind(r.note)
        .bind(r.actor_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO programme_referral_events (referral_id, status, note, actor_id, at) VALUES ($1, 'draft', $2, $3, $4)",
        )
        .bind(id)
        .bind(r.note)
        .bind(r.actor_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        crate::audit::append(&mut *tx, audited(id)).await?;
        tx.commit().await?;
        id
    });
    Ok(id)
}

/// One move of a referral, checked against the state and version it was read in.
pub struct Move<'a> {
    pub id: i64,
    pub programme_id: i64,
    pub from: ReferralStatus,
    pub to: ReferralStatus,
    pub version: i64,
    pub note: &'a str,
    /// The agency's words (a decline's reason, an outcome), kept on the referral.
    pub answer: Option<&'a str>,
    pub consent_method: Option<&'a str>,
    pub actor_id: i64,
}

/// What a move did not do.
pub enum MoveRefused {
    /// Someone moved the referral first.
    Stale,
    /// The programme has no free place left.
    Full,
}

/// Moves a referral, taking or giving back a programme place in the same transaction: the
/// place is taken by one conditional UPDATE, so two officers sending at once never overfill a
/// programme. Nothing is written when the move is refused.
pub async fn move_referral(
    db: &Db,
    m: &Move<'_>,
    batch: crate::audit::Batch,
) -> Result<std::result::Result<(), MoveRefused>> {
    let now = Utc::now();
    let take = !m.from.holds_place() && m.to.holds_place();
    let give_back = m.from.holds_place() && !m.to.holds_place();
    let consent_at = m.consent_method.map(|_| now);
    with_db!(db, |pool| {
        let mut tx = pool.begin_with(db.begin_for_write()).await?;
        let moved = sqlx::query(
            "UPDATE programme_referrals SET status = $1, status_at = $2, version = version + 1, \
             answer = COALESCE($3, answer), consent_at = COALESCE($4, consent_at), \
             consent_method = COALESCE($5, consent_method) WHERE id = $6 AND version = $7 AND status = $8",
        )
        .bind(m.to.code())
        .bind(now)
        .bind(m.answer)
        .bind(consent_at)
        .bind(m.consent_method)
        .bind(m.id)
        .bind(m.version)
        .bind(m.from.code())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved == 0 {
            return Ok(Err(MoveRefused::Stale));
        }
        if take {
            let taken = sqlx::query(
                "UPDATE programmes SET taken = taken + 1 WHERE id = $1 AND (quota IS NULL OR taken < quota)",
            )
            .bind(m.programme_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if taken == 0 {
                return Ok(Err(MoveRefused::Full));
            }
        }
        if give_back {
            sqlx::query("UPDATE programmes SET taken = taken - 1 WHERE id = $1 AND taken > 0")
                .bind(m.programme_id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO programme_referral_events (referral_id, status, note, actor_id, at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(m.id)
        .bind(m.to.code())
        .bind(m.note)
        .bind(m.actor_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        crate::audit::append(&mut *tx, batch).await?;
        tx.commit().await?;
        Ok(Ok(()))
    })
}

/// Referral counts by agency, programme, counter, province and status (drafts left out).
pub struct CountRow {
    pub agency: String,
    pub programme: String,
    pub counter: Option<String>,
    pub province_code: Option<String>,
    pub status: ReferralStatus,
    pub count: i64,
}

type CountTuple = (
    String,
    String,
    Option<String>,
    Option<String>,
    ReferralStatus,
    i64,
);

pub async fn counts(db: &Db) -> Result<Vec<CountRow>> {
    let rows: Vec<CountTuple> = with_db!(db, |pool| {
        sqlx::query_as(
        "SELECT a.name, p.name, c.code, o.province_code, r.status, CAST(COUNT(*) AS BIGINT) \
         FROM programme_referrals r JOIN programmes p ON p.id = r.programme_id JOIN agencies a ON a.id = p.agency_id \
         LEFT JOIN counters c ON c.id = r.counter_id LEFT JOIN offices o ON o.id = c.office_id \
         WHERE r.status <> 'draft' \
         GROUP BY a.name, p.name, c.code, o.province_code, r.status ORDER BY a.name, p.name, c.code, r.status"
    )
    .fetch_all(pool)
    .await?
    });
    Ok(rows
        .into_iter()
        .map(
            |(agency, programme, counter, province_code, status, count)| CountRow {
                agency,
                programme,
                counter,
                province_code,
                status,
                count,
            },
        )
        .collect())
}

pub async fn programme_count(db: &Db) -> Result<i64> {
    let n: i64 = with_db!(db, |pool| sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM programmes"
    )
    .fetch_one(pool)
    .await?);
    Ok(n)
}

/// The counter a person belongs to.
pub async fn counter_of(db: &Db, participant_id: i64) -> Result<Option<i64>> {
    let id: Option<Option<i64>> = with_db!(db, |pool| sqlx::query_scalar(
        "SELECT counter_id FROM participants WHERE id = $1"
    )
    .bind(participant_id)
    .fetch_optional(pool)
    .await?);
    Ok(id.flatten())
}

/// The first people of a counter (demo referrals).
pub async fn people_at_counter(db: &Db, counter_id: i64, limit: i64) -> Result<Vec<i64>> {
    let ids: Vec<i64> = with_db!(db, |pool| sqlx::query_scalar(
        "SELECT id FROM participants WHERE counter_id = $1 ORDER BY id LIMIT $2"
    )
    .bind(counter_id)
    .bind(limit)
    .fetch_all(pool)
    .await?);
    Ok(ids)
}
