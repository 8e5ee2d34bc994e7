//! `terraform-provider-hikube`: started by Terraform or OpenTofu, or by hand
//! with `--debug` to attach Terraform to a running provider.

use std::process::ExitCode;
use std::sync::Arc;

use hikube_provider::plugin::handshake::{ServeConfig, ServeError, serve};
use hikube_provider::plugin::logging;
use hikube_provider::provider::{HikubeProvider, PROVIDER_ADDRESS};

fn main() -> ExitCode {
    let mut debug = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--debug" | "-debug" => debug = true,
            "--version" | "-version" => {
                println!("terraform-provider-hikube {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            "--help" | "-h" => {
                println!(
                    "terraform-provider-hikube {}: Terraform/OpenTofu provider for GPU infrastructure on Hikube.\n\n\
                     Terraform starts this binary itself. Options for running it by hand:\n  \
                     --debug    serve without Terraform and print TF_REATTACH_PROVIDERS\n  \
                     --version  print the version",
                    env!("CARGO_PKG_VERSION")
                );
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument {other:?}; see --help");
                return ExitCode::from(2);
            }
        }
    }
    logging::init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("failed to start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let cfg = ServeConfig {
        provider_address: PROVIDER_ADDRESS.to_string(),
        debug,
    };
    match runtime.block_on(serve(Arc::new(HikubeProvider::new()), cfg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ ServeError::NotStartedByTerraform) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            tracing::error!(error = %e, "provider failed");
            eprintln!("terraform-provider-hikube: {e}");
            ExitCode::FAILURE
        }
    }
}
