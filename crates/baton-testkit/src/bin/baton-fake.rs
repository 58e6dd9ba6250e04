//! `baton-fake <openai|anthropic|gemini>`: a fake model provider for tests written in other
//! languages. Prints `fake listening on <base url>`, then serves until killed. Script it with
//! `POST /_fake/turns` (a turn or a list: `{"text"}`, `{"tool_calls": [{"name","arguments"}]}`,
//! `{"error": {"status","body"}}`), read what it received with `GET /_fake/requests`.

use baton_testkit::{FakeProvider, Flavor};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let flavor = match std::env::args().nth(1).as_deref() {
        Some("openai") => Flavor::OpenAi,
        Some("anthropic") => Flavor::Anthropic,
        Some("gemini") => Flavor::Gemini,
        _ => {
            eprintln!("usage: baton-fake <openai|anthropic|gemini>");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("baton-fake: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let fake = FakeProvider::start(flavor).await;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "fake listening on {}", fake.base_url());
        let _ = out.flush();
        drop(out);
        let _ = tokio::signal::ctrl_c().await;
    });
    ExitCode::SUCCESS
}
