//! Test fixtures for Baton: scriptable fake model-provider servers speaking each vendor's real
//! wire format on `127.0.0.1:0`, for tests and benchmarks. They arrive with agent runs.
