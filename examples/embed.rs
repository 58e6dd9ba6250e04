//! `cargo run -p baton-examples --example embed`: one agent turn inside this process.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let answer = baton_examples::demo().await?;
    println!("{answer}");
    Ok(())
}
