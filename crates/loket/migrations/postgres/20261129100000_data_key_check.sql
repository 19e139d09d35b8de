-- The fingerprint of every data key that has sealed this database's personal data, so a start
-- with another key (a missing or wrong key file) is refused before anything is written.
CREATE TABLE data_keys (
    key_id BIGINT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);
