//! Generates the gRPC bindings for the Terraform plugin protocol (tfplugin6)
//! and the go-plugin support services, using `protox` (pure Rust, no protoc).

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    println!("cargo:rerun-if-changed=build.rs");

    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("proto");
    let files = [
        "tfplugin6.proto",
        "plugin/grpc_controller.proto",
        "plugin/grpc_stdio.proto",
        "plugin/grpc_broker.proto",
    ];
    for f in &files {
        println!("cargo:rerun-if-changed={}", root.join(f).display());
    }

    // protox bundles the google/protobuf well-known types (timestamp, empty).
    let fds = protox::compile(files, [&root])?;

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .emit_rerun_if_changed(false)
        .compile_fds(fds)?;
    Ok(())
}
