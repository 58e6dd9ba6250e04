//! `baton-fake <openai|anthropic|gemini> [--listen ADDR]`: a fake model provider for tests
//! written in other languages, and for trying Baton without a vendor account (it answers "ok"
//! to anything not scripted). Listens on a free loopback port unless `--listen` names one.
//! Prints `fake listening on <base url>`, then serves until killed. Script it with
//! `POST /_fake/turns` (a turn or a list: `{"text"}`, `{"tool_calls": [{"name","arguments"}]}`,
//! `{"error": {"status","body"}}`), read what it received with `GET /_fake/requests`.

use baton_testkit::{FakeProvider, Flavor};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    const USAGE: &str = "usage: baton-fake <openai|anthropic|gemini> [--listen ADDR]";
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flavor = match args.first().map(String::as_str) {
        Some("openai") => Flavor::OpenAi,
        Some("anthropic") => Flavor::Anthropic,
        Some("gemini") => Flavor::Gemini,
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let listen = match &args[1..] {
        [] => "127.0.0.1:0".to_owned(),
        [flag, addr] if flag == "--listen" => addr.clone(),
        _ => {
            eprintln!("{USAGE}");
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
        let listener = match tokio::net::TcpListener::bind(&listen).await {
            Ok(listener) => listener,
            Err(e) => {
                eprintln!("baton-fake: cannot listen on {listen}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let fake = FakeProvider::serve(flavor, listener);
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "fake listening on {}", fake.base_url());
        let _ = out.flush();
        drop(out);
        let _ = tokio::signal::ctrl_c().await;
        ExitCode::SUCCESS
    })
}
