-- Partner agencies, their empowerment programmes (eligibility rules as data) and programme
-- referrals ("rujukan program") with their history; agency staff ('lembaga') are users linked
-- to an agency.
CREATE TABLE agencies (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    -- Two-digit province codes, comma-separated; empty means the whole country.
    provinces TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE programmes (
    id BIGSERIAL PRIMARY KEY,
    agency_id BIGINT NOT NULL REFERENCES agencies(id),
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- Eligibility rules as data: a JSON list of rules (see programmes::model::Rule).
    rules TEXT NOT NULL DEFAULT '[]',
    -- What the agency needs from the person: field codes, comma-separated.
    needs TEXT NOT NULL DEFAULT '',
    documents TEXT NOT NULL DEFAULT '',
    quota BIGINT CHECK (quota IS NULL OR quota >= 0),
    -- Places taken by referrals sent and not declined or withdrawn (kept with the referrals).
    taken BIGINT NOT NULL DEFAULT 0 CHECK (taken >= 0),
    opens_on DATE,
    closes_on DATE,
    answer_days BIGINT NOT NULL DEFAULT 7,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX programmes_agency_idx ON programmes (agency_id);

CREATE TABLE programme_referrals (
    id BIGSERIAL PRIMARY KEY,
    programme_id BIGINT NOT NULL REFERENCES programmes(id),
    participant_id BIGINT NOT NULL REFERENCES participants(id),
    counter_id BIGINT REFERENCES counters(id),
    status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    answer TEXT NOT NULL DEFAULT '',
    consent_at TIMESTAMPTZ,
    consent_method TEXT,
    created_by BIGINT REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL,
    status_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX programme_referrals_programme_idx ON programme_referrals (programme_id, status);
CREATE INDEX programme_referrals_participant_idx ON programme_referrals (participant_id);

CREATE TABLE programme_referral_events (
    id BIGSERIAL PRIMARY KEY,
    referral_id BIGINT NOT NULL REFERENCES programme_referrals(id),
    status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    actor_id BIGINT REFERENCES users(id),
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX programme_referral_events_referral_idx ON programme_referral_events (referral_id);

ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'koordinator', 'petugas', 'mitra', 'auditor', 'lembaga'));
ALTER TABLE users ADD COLUMN agency_id BIGINT REFERENCES agencies(id);
