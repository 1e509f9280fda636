//! The `fullmakt` binary: `serve` runs every service on one origin; `admin …` operates on the
//! configured database directly (so the first administrator can exist) and prints JSON.

use fullmakt::{admin, journey, serve, xacml_cli};

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "fullmakt", version, about = "Norway's system-user trust chain in one binary")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve(serve::ServeArgs),
    /// Operate on the database directly: clients, scopes, signing keys, the register.
    Admin(admin::AdminArgs),
    /// Evaluate XACML policies offline.
    Xacml(xacml_cli::XacmlArgs),
    /// Run the whole system-user journey against a running `serve --demo`, printing each step.
    Demo(journey::JourneyArgs),
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // On one CPU (for example pinned with taskset) a single-threaded scheduler does the same
    // work without the cost of work stealing; with more CPUs, use them all.
    let one_cpu = std::thread::available_parallelism().map(|n| n.get() == 1).unwrap_or(false);
    let mut builder = if one_cpu {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fullmakt: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Admin(args) => admin::run(args).await,
            Command::Xacml(args) => xacml_cli::run(args),
            Command::Demo(args) => journey::run(args).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fullmakt: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
