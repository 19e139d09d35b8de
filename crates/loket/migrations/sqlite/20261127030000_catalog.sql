-- Training catalogue: platforms, institutions, trainings and their price on each platform (SQLite).
CREATE TABLE catalog_platforms (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    website TEXT NOT NULL
);

-- The eight digital platforms of the Kartu Prakerja ecosystem; ids are fixed so that both
-- backends and every deployment number them alike.
INSERT INTO catalog_platforms (id, code, name, website) VALUES
    (1, 'tokopedia', 'Tokopedia', 'https://www.tokopedia.com/kartu-prakerja'),
    (2, 'bukalapak', 'Bukalapak', 'https://www.bukalapak.com/kartu-prakerja'),
    (3, 'pijarmahir', 'Pijar Mahir', 'https://pijarmahir.id'),
    (4, 'sekolahmu', 'Sekolahmu', 'https://www.sekolah.mu'),
    (5, 'pintaria', 'Pintaria', 'https://pintaria.com'),
    (6, 'maubelajarapa', 'MauBelajarApa', 'https://maubelajarapa.com'),
    (7, 'sisnaker', 'Sisnaker', 'https://sisnaker.kemnaker.go.id'),
    (8, 'kariermu', 'Kariermu', 'https://kariermu.id');

CREATE TABLE catalog_institutions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    external_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    city TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE catalog_trainings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    external_id TEXT NOT NULL UNIQUE,
    institution_id INTEGER NOT NULL REFERENCES catalog_institutions(id),
    title TEXT NOT NULL,
    category TEXT NOT NULL CHECK (category IN ('hard_skill', 'technical', 'soft_skill', 'entrepreneurship')),
    -- Occupation codes separated by '|': read whole by the search index, never queried in SQL.
    occupations TEXT NOT NULL DEFAULT '',
    mode TEXT NOT NULL CHECK (mode IN ('online', 'offline', 'blended')),
    hours INTEGER NOT NULL CHECK (hours > 0),
    language TEXT NOT NULL,
    description TEXT NOT NULL,
    prerequisites TEXT NOT NULL DEFAULT '',
    -- Rating in tenths of a star (4.7 is 47): integers compare alike on both backends.
    rating_tenths INTEGER CHECK (rating_tenths BETWEEN 0 AND 50),
    review_count INTEGER NOT NULL DEFAULT 0 CHECK (review_count >= 0),
    status TEXT NOT NULL CHECK (status IN ('active', 'withdrawn')),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX catalog_trainings_institution ON catalog_trainings (institution_id);

CREATE TABLE catalog_offers (
    training_id INTEGER NOT NULL REFERENCES catalog_trainings(id) ON DELETE CASCADE,
    platform_id INTEGER NOT NULL REFERENCES catalog_platforms(id),
    price INTEGER NOT NULL CHECK (price >= 0),
    PRIMARY KEY (training_id, platform_id)
);

-- Bumped in the same transaction as every catalogue change, so each server process (and
-- every server of a PostgreSQL deployment) sees when its in-memory search index is stale.
CREATE TABLE catalog_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
);
INSERT INTO catalog_revision (id, revision) VALUES (1, 0);
