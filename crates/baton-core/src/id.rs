//! Identifiers: every stored object gets a ULID, sortable by creation time.

/// A new ULID as its canonical 26-character string.
pub fn new_id() -> String {
    ulid::Ulid::new().to_string()
}

/// The current time as an RFC 3339 UTC string with millisecond precision, as the wire API shows it.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
