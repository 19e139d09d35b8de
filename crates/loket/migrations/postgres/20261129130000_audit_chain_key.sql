-- Where the audit chain became keyed (HMAC): entries up to keyed_after_id were hashed with plain
-- SHA-256 before the upgrade and stay verifiable that way. key_check tells a later start
-- whether it holds the same audit key (it reveals nothing about the key).
CREATE TABLE audit_chain (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    keyed_after_id BIGINT NOT NULL,
    key_check BYTEA NOT NULL
);
CREATE TRIGGER audit_chain_written_once BEFORE UPDATE OR DELETE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
