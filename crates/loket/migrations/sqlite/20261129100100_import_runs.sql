-- A participant import commits a chunk of rows at a time (so a live SQLite server is never
-- locked out for long); its run names the rows it wrote (by their registration time), so an
-- interrupted import is shown to the operator and finished by running the same file again.
CREATE TABLE import_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    rows_total INTEGER NOT NULL,
    registered_at TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX import_runs_unfinished_idx ON import_runs (kind, finished_at);
