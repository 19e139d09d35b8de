-- Where the audit chain became keyed (HMAC): entries up to keyed_after_id were hashed with plain
-- SHA-256 before the upgrade and stay verifiable that way. key_check tells a later start
-- whether it holds the same audit key (it reveals nothing about the key).
CREATE TABLE audit_chain (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    keyed_after_id INTEGER NOT NULL,
    key_check BLOB NOT NULL
);
CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain
BEGIN
    SELECT RAISE(ABORT, 'audit_chain is written once');
END;
CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
BEGIN
    SELECT RAISE(ABORT, 'audit_chain is written once');
END;
