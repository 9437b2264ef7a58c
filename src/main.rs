//! `guanxi`: the one binary. `serve` runs the server; `migrate` and `user` administer the
//! database from the command line. Every subcommand that touches the database chooses it the
//! same way: `--database-url` (sqlite://FILE or postgres://...) or the SQLite file in `--data-dir`.

mod cli;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let args = cli::Cli::parse();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(cli::run(args))
}
