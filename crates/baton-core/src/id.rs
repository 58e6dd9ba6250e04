//! Identifiers: every stored object gets a ULID, sortable by creation time.

use std::sync::Mutex;

static GENERATOR: Mutex<Option<ulid::Generator>> = Mutex::new(None);

/// A new ULID as its canonical 26-character string. Ids made by one process increase strictly,
/// even within one millisecond, so id order is creation order.
pub fn new_id() -> String {
    let mut generator = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
    generator
        .get_or_insert_with(ulid::Generator::new)
        .generate()
        .unwrap_or_else(|_| ulid::Ulid::new())
        .to_string()
}

/// The current time as an RFC 3339 UTC string with millisecond precision, as the wire API shows it.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_increase_within_a_millisecond() {
        let ids: Vec<String> = (0..1000).map(|_| super::new_id()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }
}
