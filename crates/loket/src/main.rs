//! The `loket` command: serve, migrate, seed demo data, import/export, accounts and tokens,
//! record linkage. Parses the command line, sets up logging and hands over to [`cli::dispatch`].

mod cli;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LOKET_LOG")
                .unwrap_or_else(|_| "loket=info,tower_http=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    loket::app::register_texts();
    cli::dispatch(cli).await
}
