//! Generated protobuf / gRPC bindings (see `build.rs` and `proto/`).
//!
//! * [`tfplugin6`]: Terraform plugin protocol 6.10 (`Provider` service).
//! * [`plugin`]: go-plugin support services (`GRPCController`, `GRPCStdio`,
//!   `GRPCBroker`).

/// Terraform plugin protocol v6 (package `tfplugin6`).
#[allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unreachable_pub,
    unused_qualifications,
    rustdoc::all
)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// go-plugin internal services (package `plugin`).
#[allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unreachable_pub,
    unused_qualifications,
    rustdoc::all
)]
pub mod plugin {
    tonic::include_proto!("plugin");
}
